"""Overfitting, and weight decay and dropout against it (6.4, Figures 6-20, 6-21 and 6-23).

    python examples/book/ch6_overfitting.py [FIGURE.png] [--fast]

The book's overfit_weight_decay.py and overfit_dropout.py: a 7-layer MLP (six
hidden layers of 100 ReLU units, He initialisation) trained on only 300
images, SGD lr 0.01, batch 100, train and test accuracy after every epoch.
Here the images are the first 300 training images of scikit-learn's 8x8
digits (``microgradx.data.load_digits``, 64 features), and the test set is
its 360 test images. Three nets, from the same initial weights:

- no regularisation (Figure 6-20): train accuracy reaches 100 %, test stops
  at 94 %;
- weight decay, lambda = 0.1 (Figure 6-21): the book adds
  0.5 * lambda * ||W||^2 of every weight matrix, not the biases, to the loss.
  Its gradient is lambda * W, which is what ``optim.SGD(weight_decay=lambda)``
  adds, so the weights get an SGD with ``weight_decay=0.1`` and the biases a
  second one without. ``weight_decay_agrees`` checks that one step of this
  equals one step on the loss with the explicit L2 term;
- dropout, ratio 0.15 (Figure 6-23, left), ``nn.Dropout(0.15)`` after each
  hidden ReLU, as the book's MultiLayerNetExtend; accuracies are measured with
  ``model.eval()`` (no dropout), as the book's ``train_flg=False``. The book's
  Dropout scales by (1 - ratio) at test time, ``nn.Dropout`` by 1 / (1 - ratio)
  in training: the same expected output. (The repository's overfit_dropout.py
  sets the ratio to 0.2.)

Full run: 300 epochs (the book: 201 for weight decay, 301 for dropout);
``--fast``: 100 epochs. Each epoch visits every sample once (``DataLoader``,
shuffled); the book draws each batch at random with replacement.

On 300 digits the net overfits less than the book's on 300 MNIST images: the
train-test accuracy gap without regularisation is only about 0.06 (test
accuracy 0.94), and regularisation shrinks it only a little (0.04 with weight
decay, 0.05 with dropout, at 300 epochs with seed 0), within the noise of 360
test images. The loss shows the effect clearly: test minus train
cross-entropy is 0.18 without regularisation, 0.02 with weight decay and 0.12
with dropout. The figure draws both: accuracy as the book's figures,
cross-entropy below.
"""

from __future__ import annotations

import argparse
import copy
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402  (installed with scikit-learn)

import microgradx as mgx  # noqa: E402
import microgradx.functional as F  # noqa: E402
from microgradx import nn, optim  # noqa: E402
from microgradx.data import DataLoader, load_digits  # noqa: E402

SIZES = (64, 100, 100, 100, 100, 100, 100, 10)
SETTINGS = {
    "no regularisation": {},
    "weight decay 0.1": {"weight_decay": 0.1},
    "dropout 0.15": {"dropout": 0.15},
}


def mlp(dropout=0.0):
    """The book's MultiLayerNet(Extend): Linear ReLU (Dropout) ... Linear, He initialisation."""
    layers = []
    for i, (n_in, n_out) in enumerate(zip(SIZES[:-1], SIZES[1:], strict=True)):
        layers.append(nn.Linear(n_in, n_out, init="he"))  # N(0, 2 / n_in), zero bias
        if i < len(SIZES) - 2:
            layers.append(nn.ReLU())
            if dropout:
                layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


def weights_and_biases(model):
    weights = [p for name, p in model.named_parameters() if name.endswith("weight")]
    biases = [p for name, p in model.named_parameters() if name.endswith("bias")]
    return weights, biases


def optimizers(model, lr, weight_decay):
    """SGD with weight decay on the weight matrices only, as the book's 0.5 * lambda * ||W||^2."""
    weights, biases = weights_and_biases(model)
    return [optim.SGD(weights, lr=lr, weight_decay=weight_decay), optim.SGD(biases, lr=lr)]


def l2_term(model, weight_decay):
    """The book's weight decay term: 0.5 * lambda * sum of ||W||^2 over the weight matrices."""
    weights, _ = weights_and_biases(model)
    return 0.5 * weight_decay * sum((w * w).sum() for w in weights)


def weight_decay_agrees(X, y, weight_decay=0.1, lr=0.01, seed=0):
    """Max |difference| of the parameters after one step: SGD(weight_decay) vs the explicit L2 term."""
    mgx.manual_seed(seed)
    a = mlp()
    b = copy.deepcopy(a)
    opts = optimizers(a, lr, weight_decay)
    for opt in opts:
        opt.zero_grad()
    F.cross_entropy(a(X), y).backward()
    for opt in opts:
        opt.step()
    plain = optim.SGD(b.parameters(), lr=lr)
    plain.zero_grad()
    (F.cross_entropy(b(X), y) + l2_term(b, weight_decay)).backward()
    plain.step()
    return max(
        float(np.abs(p.data - q.data).max()) for p, q in zip(a.parameters(), b.parameters(), strict=True)
    )


def evaluate(model, X, y):
    """Accuracy and mean cross-entropy (without the L2 term), in eval mode (no dropout)."""
    model.eval()
    with mgx.no_grad():
        logits = model(X)
        acc = float((logits.data.argmax(axis=1) == y).mean())
        loss = F.cross_entropy(logits, y).item()
    model.train()
    return acc, loss


def train(X, y, X_test, y_test, epochs, weight_decay=0.0, dropout=0.0, lr=0.01, batch_size=100, seed=0):
    """Train and test accuracy and loss after each epoch: arrays under "train", "test",
    "train_loss", "test_loss"."""
    mgx.manual_seed(seed)
    model = mlp(dropout)
    opts = optimizers(model, lr, weight_decay)
    loader = DataLoader((X, y), batch_size=batch_size, shuffle=True, seed=seed)
    history = {"train": [], "test": [], "train_loss": [], "test_loss": []}
    for _ in range(epochs):
        for xb, yb in loader:
            for opt in opts:
                opt.zero_grad()
            F.cross_entropy(model(xb), yb).backward()
            for opt in opts:
                opt.step()
        for split, (data, labels) in {"train": (X, y), "test": (X_test, y_test)}.items():
            acc, loss = evaluate(model, data, labels)
            history[split].append(acc)
            history[split + "_loss"].append(loss)
    return {k: np.array(v) for k, v in history.items()}


def gaps(curves, last=10):
    """Train minus test accuracy and test minus train loss, each averaged over the last epochs."""
    acc = float(np.mean(curves["train"][-last:] - curves["test"][-last:]))
    loss = float(np.mean(curves["test_loss"][-last:] - curves["train_loss"][-last:]))
    return acc, loss


def main(out=None, fast=False, n_train=300, seed=0):
    out = out or os.path.join(os.path.dirname(__file__), "..", "out", "ch6_overfitting.png")
    X_train, X_test, y_train, y_test = load_digits(seed=seed)
    X, y = X_train[:n_train], y_train[:n_train]
    epochs = 100 if fast else 300
    diff = weight_decay_agrees(X[:100], y[:100])
    print(f"weight decay: SGD(weight_decay=0.1) on the weights and the explicit L2 term differ by {diff:.1e}")
    results = {"weight_decay_diff": diff}
    for name, kwargs in SETTINGS.items():
        # 100x100 matrices: on a busy 2-core machine BLAS's threads make this 8 times slower
        with threadpool_limits(1):
            results[name] = curves = train(X, y, X_test, y_test, epochs, seed=seed, **kwargs)
        acc_gap, loss_gap = gaps(curves)
        print(
            f"{name:18s} after {epochs} epochs: train acc {curves['train'][-1]:.3f}, "
            f"test acc {curves['test'][-1]:.3f}; loss train {curves['train_loss'][-1]:.3f}, "
            f"test {curves['test_loss'][-1]:.3f}; gaps (last 10 epochs): "
            f"accuracy {acc_gap:.3f}, loss {loss_gap:.3f}"
        )

    fig, axes = plt.subplots(2, 3, figsize=(13, 7.5), sharex=True, sharey="row")
    x = np.arange(1, epochs + 1)
    every = max(epochs // 20, 1)
    for col, name, figure in zip(range(3), SETTINGS, ("6-20", "6-21", "6-23"), strict=True):
        curves = results[name]
        top, bottom = axes[0, col], axes[1, col]
        top.plot(x, curves["train"], marker="o", markevery=every, label="train")
        top.plot(x, curves["test"], marker="s", markevery=every, label="test")
        top.set_title(f"{name} (Figure {figure})")
        top.set_ylim(0, 1.0)
        top.legend(loc="lower right")
        bottom.plot(x, curves["train_loss"], label="train")
        bottom.plot(x, curves["test_loss"], label="test")
        bottom.set_yscale("log")
        bottom.set_xlabel("epochs")
        bottom.legend(loc="upper right")
    axes[1, 0].set_ylabel("cross-entropy (without the L2 term)")
    axes[0, 0].set_ylabel("accuracy")
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    print(f"figure: {out}")
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", help="figure path (default examples/out/ch6_overfitting.png)")
    parser.add_argument("--fast", action="store_true", help="100 epochs instead of 300")
    args = parser.parse_args()
    main(args.out, fast=args.fast)
