"""The book's SimpleConvNet: its gradient check, its training on handwritten digits, and its first
layer's filters (7.5 and 7.6.1, Figure 7-24; gradient_check.py, train_convnet.py, visualize_filter.py).

    python examples/book/ch7_simple_convnet.py [FIGURE.png] [--fast] [--seed N]
    python examples/book/ch7_simple_convnet.py --mnist DIR [--epochs N]

First, as the book's ch07/gradient_check.py, a SimpleConvNet on one 10x10
input (10 filters of 3x3, 10 hidden units, weights from N(0, 0.01²)):
backprop (``loss.backward()``) against ``mgx.numerical_gradient`` for each
parameter, printed as the mean |difference| per parameter (W1 6.1e-13 ...
b3 1.2e-10). See :func:`gradient_check` for the seed and the kinks.

The book's ``SimpleConvNet`` is conv - relu - pool - affine - relu - affine:
30 filters, max pooling 2x2 (stride 2), 100 hidden units, 10 outputs,
softmax-with-loss; train_convnet.py trains it with Adam (lr 0.001), batch 100,
for 20 epochs on MNIST (28x28; the filters are 5x5, no padding, stride 1).
Here it is an ``nn.Sequential``: ``nn.Conv2d``, ``nn.ReLU``, ``nn.MaxPool2d(2)``,
``nn.Flatten``, ``nn.Linear``, ``nn.ReLU``, ``nn.Linear``; the loss is
``F.cross_entropy``. On the digits the weights start as microgradx's layers
draw them: He's N(0, 2 / fan_in) for the convolution (``nn.Conv2d``), Glorot's
uniform for the Affine layers (``nn.Linear``); biases at zero. The book draws
every weight from N(0, 0.01²) (``weight_init_std=0.01``, which ``--mnist``
uses): on the digits that reaches 96.7 % to 97.8 % for seeds 0 to 9.

Without ``--mnist`` it trains on scikit-learn's real 8x8 digits
(``microgradx.data.load_digits``: 1438 training and 359 test images), which
need smaller filters: 3x3 with one pixel of zero padding (a 5x5 filter spans
most of an 8x8 digit). Pooling halves 8x8 to 4x4, so the first Affine layer
takes 30 * 4 * 4 = 480 inputs. Training: Adam (lr 0.001, decayed to 0 along a
cosine, ``optim.lr_scheduler.CosineAnnealingLR``), batch 50, 50 epochs: 98.6 %
to 99.4 % test accuracy (354 to 357 of 359 test images) for each of the seeds
0 to 9 (seed 0: 356). The whole script takes about 11 seconds on a 2-core
machine. ``--fast`` trains 8 epochs (97.2 % with seed 0).

``--mnist DIR`` reads the four MNIST IDX files in DIR
(``microgradx.data.load_mnist``) and trains the book's network exactly as
train_convnet.py does (5x5 filters, no padding, Adam lr 0.001 without decay,
batch 100, 20 epochs unless ``--epochs``); accuracy per epoch is measured on
the first 1000 training and 1000 test images, as the book does, and on the
whole test set at the end (the book reports about 0.99).

A ``tqdm`` bar shows each epoch's progress in a terminal, and a line per epoch
gives its loss and accuracies (piped into a file, only the lines). Two figures are saved (paths printed):
``ch7_filters.png``, the first layer's filters before and after training as
Figure 7-24 (each filter a grayscale image scaled to its own range, white for
its smallest weight, black for its largest: the book's ``cmap="gray_r"``),
with a third panel for the change; and ``ch7_accuracy.png`` beside it, train
and test accuracy per epoch.
"""

from __future__ import annotations

import argparse
import math
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402  (installed with scikit-learn)
from tqdm import tqdm  # noqa: E402

import microgradx as mgx  # noqa: E402
import microgradx.functional as F  # noqa: E402
from microgradx import nn, optim  # noqa: E402
from microgradx.data import DataLoader, load_digits, load_mnist  # noqa: E402
from microgradx.optim.lr_scheduler import CosineAnnealingLR  # noqa: E402

OUT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "out"))

# the book's train_convnet.py (MNIST), and what this script uses on the 8x8 digits
MNIST_SETUP = {
    "filter_size": 5,
    "pad": 0,
    "weight_init_std": 0.01,
    "epochs": 20,
    "batch_size": 100,
    "lr": 1e-3,
    "cosine": False,
}
DIGITS_SETUP = {
    "filter_size": 3,
    "pad": 1,
    "weight_init_std": None,  # nn.Conv2d's He, nn.Linear's Glorot
    "epochs": 50,
    "batch_size": 50,
    "lr": 1e-3,
    "cosine": True,
}


def simple_convnet(
    input_dim=(1, 28, 28),
    filter_num=30,
    filter_size=5,
    pad=0,
    stride=1,
    hidden_size=100,
    output_size=10,
    weight_init_std=None,
):
    """The book's SimpleConvNet(input_dim, conv_param, hidden_size, output_size) as an nn.Sequential.

    Conv1 - Relu1 - Pool1 (2x2, stride 2) - Affine1 - Relu2 - Affine2 (the loss is applied outside).
    """
    channels, height, width = input_dim
    conv_h = (height + 2 * pad - filter_size) // stride + 1
    conv_w = (width + 2 * pad - filter_size) // stride + 1
    pool_output_size = filter_num * (conv_h // 2) * (conv_w // 2)
    model = nn.Sequential(
        nn.Conv2d(channels, filter_num, filter_size, stride=stride, padding=pad),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(pool_output_size, hidden_size),
        nn.ReLU(),
        nn.Linear(hidden_size, output_size),
    )
    if weight_init_std is not None:  # the book's: every weight from N(0, std**2)
        for layer in (model[0], model[4], model[6]):
            nn.init.normal_(layer.weight, 0.0, weight_init_std)
    return model


def gradient_check(seed=3):
    """The book's ch07/gradient_check.py: backprop against central differences on a small SimpleConvNet.

    SimpleConvNet((1, 10, 10), 10 filters of 3x3, 10 hidden units, 10 outputs, weights
    from N(0, 0.01²)) on one random 10x10 image labelled 1; ``mgx.numerical_gradient``
    (h = 1e-4) of the loss with respect to each parameter against ``loss.backward()``.
    Returns a dict: ``diffs``, the mean |backprop - numerical| per parameter under the
    book's names (W1, b1: the convolution; W2, b2 and W3, b3: the Affine layers), the
    ``backprop`` and ``numerical`` gradients, the ``params``, the input ``x`` and label ``t``,
    and ``nearest_kink``: the smallest |pre-activation| of either ReLU, or gap between the two
    largest positive values of a pooling window. A central difference moves each of those
    by at most h = 1e-4 (inputs are below 1), so above h none crosses a kink; below, one
    may, and the numerical gradient is wrong there: seeds 0, 2 and 4 draw a hidden
    pre-activation within 1e-4 of 0 (b2's mean difference grows to 5e-5 .. 4.5e-4), seeds
    0, 1, 2 and 4 a convolution output (W1's and b1's grow to 1e-6). Seed 3's nearest kink
    is 1.02e-4, and every mean difference is below 1.3e-10.
    """
    mgx.manual_seed(seed)
    model = simple_convnet((1, 10, 10), filter_num=10, filter_size=3, hidden_size=10, weight_init_std=0.01)
    x = np.random.default_rng(seed).random((1, 1, 10, 10))
    t = np.array([1])
    model.zero_grad()
    F.cross_entropy(model(x), t).backward()
    params = dict(zip(("W1", "b1", "W2", "b2", "W3", "b3"), model.parameters(), strict=True))
    result = {"params": {k: p.data.copy() for k, p in params.items()}, "x": x, "t": t}
    result["backprop"] = {k: p.grad.data.copy() for k, p in params.items()}
    result["numerical"] = {}
    with mgx.no_grad():
        for k, p in params.items():
            # numerical_gradient perturbs p.data in place, which the loss reads
            loss = lambda _: F.cross_entropy(model(x), t).item()  # noqa: E731
            result["numerical"][k] = mgx.numerical_gradient(loss, p.data)
        conv = model[0](x).data  # (1, 10, 8, 8)
        hidden = model[4](model[3](model[2](model[1](conv)))).data
    windows = np.sort(np.maximum(conv, 0).reshape(10, 4, 2, 4, 2).transpose(0, 1, 3, 2, 4).reshape(-1, 4))
    ties = windows[windows[:, 2] > 0]  # windows whose two largest are positive
    gaps = ties[:, 3] - ties[:, 2] if len(ties) else np.array([np.inf])
    result["nearest_kink"] = float(min(np.abs(conv).min(), np.abs(hidden).min(), gaps.min()))
    result["diffs"] = {
        k: float(np.mean(np.abs(result["backprop"][k] - result["numerical"][k]))) for k in params
    }
    return result


def accuracy(model, X, y, batch_size=500):
    """Share of ``X``'s images whose largest logit is at ``y``, in batches (im2col of 10,000 MNIST
    images at once would take 1.2 GB)."""
    model.eval()
    correct = 0
    with mgx.no_grad():
        for start in range(0, len(X), batch_size):
            logits = model(X[start : start + batch_size]).data
            correct += int((logits.argmax(axis=1) == y[start : start + batch_size]).sum())
    model.train()
    return correct / len(X)


def train(
    model,
    data,
    epochs,
    batch_size,
    lr,
    cosine=False,
    seed=0,
    eval_samples=None,
    progress=True,
):
    """Adam on the mean cross-entropy; train and test accuracy after each epoch.

    ``data`` is ``(X_train, X_test, y_train, y_test)`` with images (N, C, H, W).
    ``eval_samples``: measure the per-epoch accuracies on the first that many
    images of each set (the book's ``evaluate_sample_num_per_epoch``), else on all.
    """
    X_train, X_test, y_train, y_test = data
    opt = optim.Adam(model.parameters(), lr=lr)
    schedule = CosineAnnealingLR(opt, T_max=epochs) if cosine else None
    loader = DataLoader((X_train, y_train), batch_size=batch_size, shuffle=True, seed=seed)
    n = eval_samples or max(len(X_train), len(X_test))
    history = {"loss": [], "train_acc": [], "test_acc": []}
    for epoch in range(1, epochs + 1):
        losses = []
        # a bar in a terminal only (disable=None): piped into a file, the epoch lines below say it all
        bar = tqdm(loader, desc=f"epoch {epoch}/{epochs}", leave=False, disable=None if progress else True)
        for xb, yb in bar:
            opt.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
            losses.append(loss.item())
            bar.set_postfix(loss=f"{losses[-1]:.3f}", refresh=False)
        if schedule is not None:
            schedule.step()
        history["loss"].append(float(np.mean(losses)))
        history["train_acc"].append(accuracy(model, X_train[:n], y_train[:n]))
        history["test_acc"].append(accuracy(model, X_test[:n], y_test[:n]))
        if progress:
            print(
                f"epoch {epoch:2d}  loss {history['loss'][-1]:.4f}  "
                f"train acc {history['train_acc'][-1]:.4f}  test acc {history['test_acc'][-1]:.4f}"
            )
    return history


def draw_filters(before, after, out, ncols=8):
    """Figure 7-24: each filter's first channel as a grayscale image, before and after training,
    and a third panel with the change (after - before).

    ``before`` and ``after`` are weights (filters, channels, kh, kw). Each image is scaled
    to its own range (white: smallest, black: largest), as the book's ``filter_show``.
    Returns the grid (rows, columns) of each panel and the arrays drawn, panel by panel,
    read back from the figure.
    """
    nrows = math.ceil(len(before) / ncols)
    panels = {"before training": before, "after training": after, "change": after - before}
    fig = plt.figure(figsize=(3 * (0.6 * ncols + 0.3), 0.6 * nrows + 0.6))
    drawn = {}
    for panel, (title, weights) in zip(fig.subfigures(1, 3, wspace=0.04), panels.items(), strict=True):
        axes = panel.subplots(nrows, ncols, squeeze=False)
        panel.suptitle(title)
        for i, ax in enumerate(axes.flat):
            ax.set_xticks([])
            ax.set_yticks([])
            if i < len(weights):
                ax.imshow(weights[i, 0], cmap="gray_r", interpolation="nearest")
            else:
                ax.axis("off")
        drawn[title] = [np.asarray(ax.images[0].get_array()) for ax in axes.flat if ax.images]
    _save(fig, out)
    return {"grid": (nrows, ncols), "panels": drawn}


def draw_curves(history, title, out):
    fig, ax = plt.subplots(figsize=(5, 3.8))
    epochs = np.arange(1, len(history["train_acc"]) + 1)
    ax.plot(epochs, history["train_acc"], marker="o", ms=3, label="train")
    ax.plot(epochs, history["test_acc"], marker="s", ms=3, linestyle="--", label="test")
    ax.set_xlabel("epochs")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10]))  # whole epochs
    ax.set_ylabel("accuracy")
    ax.set_ylim(min(0.8, min(history["train_acc"] + history["test_acc"]) - 0.02), 1.005)
    ax.set_title(title)
    ax.legend(loc="lower right")
    fig.tight_layout()
    _save(fig, out)


def shown(path):
    """``path`` as printed: normalised, and relative when inside the working directory (examples/out/...)."""
    rel = os.path.relpath(path)
    return os.path.abspath(path) if rel.startswith(os.pardir) else rel


def _save(fig, out):
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    print(f"figure: {shown(out)}")


def main(out=None, fast=False, mnist=None, epochs=None, seed=0, progress=True):
    """Train SimpleConvNet; save the filter figure at ``out`` and the curves next to it.

    Returns the history (loss, train_acc, test_acc per epoch), ``final_test_acc``
    (on the whole test set), the first layer's weights ``before`` and ``after``
    training, what :func:`draw_filters` drew, the trained ``model``, and what
    :func:`gradient_check` returned (it runs first).
    """
    out = out or os.path.join(OUT, "ch7_filters.png")
    with threadpool_limits(1):
        check = gradient_check()
    print("gradient check, SimpleConvNet((1, 10, 10), 10 filters of 3x3): mean |backprop - numerical|")
    for name, diff in check["diffs"].items():
        print(name, diff)
    kink = check["nearest_kink"]
    print(
        f"nearest kink (a ReLU's input, or the gap between a pooling window's two largest): {kink:.2e}: "
        + ("above h = 1e-4, no central difference crosses one" if kink > 1e-4 else "below h = 1e-4")
    )
    if mnist:
        X_train, X_test, y_train, y_test = load_mnist(mnist, flatten=False)
        setup, source, eval_samples = dict(MNIST_SETUP), f"MNIST from {mnist}", 1000
    else:
        X_train, X_test, y_train, y_test = load_digits()
        X_train, X_test = X_train.reshape(-1, 8, 8), X_test.reshape(-1, 8, 8)
        setup, source, eval_samples = dict(DIGITS_SETUP), "the 8x8 digits", None
        if fast:
            setup["epochs"] = 8
    if epochs:
        setup["epochs"] = epochs
    data = (X_train[:, None], X_test[:, None], y_train, y_test)  # one channel: (N, 1, H, W)
    mgx.manual_seed(seed)
    model = simple_convnet(
        data[0].shape[1:],
        filter_size=setup["filter_size"],
        pad=setup["pad"],
        weight_init_std=setup["weight_init_std"],
    )
    print(f"SimpleConvNet on {source}: {len(X_train)} training, {len(X_test)} test images")
    print(model)
    before = model[0].weight.data.copy()
    with threadpool_limits(1):  # small matrices: BLAS's threads only slow them down
        history = train(
            model,
            data,
            setup["epochs"],
            setup["batch_size"],
            setup["lr"],
            cosine=setup["cosine"],
            seed=seed,
            eval_samples=eval_samples,
            progress=progress,
        )
        final = history["test_acc"][-1] if eval_samples is None else accuracy(model, data[1], y_test)
    errors = round((1 - final) * len(X_test))
    print(
        f"after {setup['epochs']} epochs: train acc {history['train_acc'][-1]:.4f}, "
        f"test acc {final:.4f} ({errors} of {len(X_test)} test images wrong)"
    )
    after = model[0].weight.data.copy()
    figure = draw_filters(before, after, out)
    title = f"SimpleConvNet on {'MNIST' if mnist else 'the 8x8 digits'}"
    draw_curves(history, title, os.path.join(os.path.dirname(out), "ch7_accuracy.png"))
    return {
        **history,
        "final_test_acc": final,
        "before": before,
        "after": after,
        "figure": figure,
        "model": model,
        "gradient_check": check,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", help="filter figure path (default examples/out/ch7_filters.png)")
    parser.add_argument("--fast", action="store_true", help="8 epochs instead of 50 (digits)")
    parser.add_argument("--mnist", metavar="DIR", help="train on the MNIST IDX files in DIR, as the book")
    parser.add_argument("--epochs", type=int, help="epochs (default 50 on the digits, 20 on MNIST)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    main(args.out, fast=args.fast, mnist=args.mnist, epochs=args.epochs, seed=args.seed)
