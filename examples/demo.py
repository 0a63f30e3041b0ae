"""Train an MLP on the real 8x8 handwritten digits with microgradx (run by ``make demo``).

    python examples/demo.py [OUTPUT_DIR] [--epochs N] [--compile]

1797 digit images from scikit-learn (no download), 80/20 split; an MLP
64-128-10 with ReLU, softmax cross-entropy, Adam, mini-batches of 32. Prints one
line per epoch (with a tqdm progress bar while it runs, in a terminal only: piped
into a file or a CI log the output stays one line per epoch) and the test
accuracy, then saves in OUTPUT_DIR (default examples/out): the loss/accuracy
curve (PNG), the trained weights (.npz, read back with mgx.load) and the graph of
one training step (SVG).

With --compile, the training step runs through mgx.compile (docs/compile.md):
traced once per batch shape, then replayed as straight-line NumPy. The losses
and accuracies are the eager ones bit for bit; a last line counts the traces and replays.
"""

from __future__ import annotations

import argparse
import os
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402
from tqdm import tqdm  # noqa: E402

import microgradx as mgx  # noqa: E402
import microgradx.functional as F  # noqa: E402
from microgradx import nn, optim  # noqa: E402
from microgradx.compile import Compiled  # noqa: E402
from microgradx.data import DataLoader, load_digits  # noqa: E402


def accuracy(model: nn.Module, X: np.ndarray, y: np.ndarray) -> float:
    with mgx.no_grad():
        return float((model(mgx.tensor(X)).data.argmax(axis=1) == y).mean())


def draw_step(model: nn.Module, X: np.ndarray, y: np.ndarray, out_dir: str) -> str:
    """The graph of one training step on the first 4 examples, as OUT_DIR/digits_step.svg.

    A batch of 4 keeps the values readable; the layout reads at 900 px (see
    docs/graphs.md). Without Graphviz's dot, the DOT text goes to digits_step.gv.
    """
    xb, yb = next(iter(DataLoader((X, y), batch_size=4)))
    step_loss = F.cross_entropy(model(xb), yb)
    step_loss.name = "loss"
    step_loss.backward(retain_graph=True)
    try:
        graph = mgx.render_graph(step_loss, os.path.join(out_dir, "digits_step.svg"))
    except mgx.GraphvizNotFoundError as e:
        graph = os.path.join(out_dir, "digits_step.gv")
        with open(graph, "w") as f:
            f.write(mgx.to_dot(step_loss).source)
        print(f"note: {e}")
    model.zero_grad()
    return graph


def main(
    out_dir: str = "examples/out",
    epochs: int = 20,
    seed: int = 0,
    quiet: bool = False,
    compile: bool = False,  # noqa: A002 - the flag's name, as in --compile
) -> dict:
    start = time.perf_counter()
    mgx.manual_seed(seed)
    X_train, X_test, y_train, y_test = load_digits(test_size=0.2, seed=seed)
    model = nn.MLP([64, 128, 10], activation="relu")
    opt = optim.Adam(model.parameters(), lr=3e-3)
    loader = DataLoader((X_train, y_train), batch_size=32, shuffle=True, seed=seed)
    history: dict[str, list[float]] = {"loss": [], "train_acc": [], "test_acc": []}

    def train_step(xb: mgx.Tensor, yb: mgx.Tensor) -> mgx.Tensor:
        """One optimizer step on a mini-batch; returns the loss. Reads no value (no .item()),
        so that mgx.compile can trace it: the bookkeeping on the loss stays in the loop."""
        opt.zero_grad()
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        opt.step()
        return loss

    # 1437 training images in batches of 32: 44 full batches and a last one of 29, a second
    # signature, so the compiled step traces twice (once per batch shape) and replays the rest
    step = mgx.compile(train_step) if compile else train_step
    calls = 0

    for epoch in range(1, epochs + 1):
        model.train()
        total, count = 0.0, 0
        # disable=None: no bar where stderr is not a terminal (a pipe, a CI log), where tqdm's
        # carriage returns would leave "0%|" lines behind; the epoch line below says it all
        bar = tqdm(loader, desc=f"epoch {epoch:2d}/{epochs}", leave=False, disable=True if quiet else None)
        for xb, yb in bar:
            loss = step(xb, yb)
            calls += 1
            total += loss.item() * len(yb)
            count += len(yb)
            bar.set_postfix(loss=f"{loss.item():.3f}", refresh=False)
        model.eval()
        history["loss"].append(total / count)
        history["train_acc"].append(accuracy(model, X_train, y_train))
        history["test_acc"].append(accuracy(model, X_test, y_test))
        if not quiet:
            print(
                f"epoch {epoch:2d}  loss {history['loss'][-1]:.4f}  "
                f"train acc {history['train_acc'][-1]:.3f}  test acc {history['test_acc'][-1]:.3f}"
            )
    seconds = time.perf_counter() - start

    out_dir = os.path.normpath(out_dir)
    os.makedirs(out_dir, exist_ok=True)
    curve = os.path.join(out_dir, "digits_training.png")
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.plot(range(1, epochs + 1), history["loss"], marker="o")
    left.set(title="Training loss", xlabel="epoch", ylabel="cross-entropy (log scale)", yscale="log")
    right.plot(range(1, epochs + 1), history["train_acc"], marker="o", label="train")
    right.plot(range(1, epochs + 1), history["test_acc"], marker="o", label="test")
    right.set(title="Accuracy", xlabel="epoch", ylabel="accuracy")
    right.legend()
    for ax in (left, right):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10]))  # whole epochs
    fig.suptitle("microgradx MLP 64-128-10 on the 8x8 digits")
    fig.tight_layout()
    fig.savefig(curve, dpi=100)
    plt.close(fig)

    weights = mgx.save(model.state_dict(), os.path.join(out_dir, "digits_mlp.npz"))

    graph = draw_step(model, X_test, y_test, out_dir)

    test_acc = history["test_acc"][-1]
    print(f"\ntest accuracy {test_acc:.1%} after {epochs} epochs in {seconds:.1f} s")
    print(f"loss/accuracy curve: {curve}")
    print(f"trained weights:     {weights}")
    print(f"graph of one step:   {graph}")
    mode = "eager"
    if isinstance(step, Compiled):  # eager prints nothing more: `make demo` output stays as it was
        mode = f"compiled (mgx.compile): {step.traces} traces, {calls - step.traces} replays"
        print(f"training step:       {mode}")
    return {
        "test_acc": test_acc,
        "seconds": seconds,
        "curve": curve,
        "weights": weights,
        "graph": graph,
        "history": history,
        "mode": mode,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", nargs="?", default="examples/out")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument(
        "--compile",
        action="store_true",
        help="run the training step through mgx.compile (traced once per batch shape, then "
        "replayed as straight-line NumPy; same losses and accuracy as eager, bit for bit)",
    )
    args = parser.parse_args()
    main(args.out_dir, epochs=args.epochs, compile=args.compile)
