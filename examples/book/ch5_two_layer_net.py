"""Gradient check of the book's TwoLayerNet: backprop against numerical gradients (5.7.3, gradient_check.py).

    python examples/book/ch5_two_layer_net.py [FIGURE.png] [--fast] [--mnist DIR [--epochs N]]

The book's ``TwoLayerNet(784, 50, 10)``: weights drawn from N(0, 0.01²), zero
biases, one hidden layer, softmax-with-loss. Chapter 4's version has a sigmoid
hidden layer, chapter 5's (the one gradient_check.py imports) a ReLU; this
script checks both. Backprop gradients (``loss.backward()``) are compared with
``mgx.numerical_gradient`` (central differences, h = 1e-4, the book's formula)
on a batch of 3 samples, and the mean absolute difference per parameter is
printed in the book's format (``W1:`` and the number, one line each).

The data: MNIST is not shipped here, so the 3 samples are the first 3 training
images of scikit-learn's real 8x8 digits (``microgradx.data.load_digits``), each pixel
repeated 3x3 (24x24) and padded with 2 zero pixels per side: 28x28 = 784
inputs in [0, 1], mostly zeros around a centred digit, laid out as MNIST is.
``--fast`` uses the 8x8 digits as they are (64 inputs, 10 times fewer
numerical derivatives). ``--mnist DIR`` takes the 3 samples from MNIST's IDX
files in DIR instead (``microgradx.data.load_mnist``), as the book does, and
then trains the ReLU net on MNIST as the book's ch05/train_neuralnet.py does
(SGD, lr 0.1, batch 100), printing train and test accuracy per epoch.

The loss is ``F.cross_entropy``, the exact -log softmax. The book's
SoftmaxWithLoss computes -log(y + 1e-7) forward but returns (y - t) / N, the
gradient of -log y, backward: with the 1e-7 its b2 differs from the numerical
gradient by about 1.4e-7; the book's printed b2:1.1945999745e-10 is the
difference for the exact loss, which this script reproduces to within 1 %.
"""

from __future__ import annotations

import argparse
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402  (installed with scikit-learn)

import microgradx as mgx  # noqa: E402
import microgradx.functional as F  # noqa: E402
from microgradx import nn, optim  # noqa: E402
from microgradx.data import DataLoader, load_digits, load_mnist  # noqa: E402

ACTIVATIONS = {"sigmoid": F.sigmoid, "relu": F.relu}
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "out")


class TwoLayerNet(nn.Module):
    """The book's TwoLayerNet: x @ W1 + b1, activation, @ W2 + b2, softmax-with-loss."""

    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01, activation="relu"):
        super().__init__()
        self.activation = activation
        self.W1 = nn.Parameter(np.empty((input_size, hidden_size)))
        self.b1 = nn.Parameter(np.zeros(hidden_size))
        self.W2 = nn.Parameter(np.empty((hidden_size, output_size)))
        self.b2 = nn.Parameter(np.zeros(output_size))
        nn.init.normal_(self.W1, 0.0, weight_init_std)  # the book: weight_init_std * np.random.randn
        nn.init.normal_(self.W2, 0.0, weight_init_std)

    def forward(self, x):  # the book's predict
        h = ACTIVATIONS[self.activation](F.linear(x, self.W1, self.b1))
        return F.linear(h, self.W2, self.b2)

    def loss(self, x, t):
        return F.cross_entropy(self(x), t)

    def accuracy(self, x, t):
        with mgx.no_grad():
            return float((self(x).data.argmax(axis=1) == t).mean())

    def gradient(self, x, t):
        """Backprop: the book's gradient(x, t)."""
        self.zero_grad()
        self.loss(x, t).backward()
        return {name: p.grad.data.copy() for name, p in self.named_parameters()}

    def numerical_gradient(self, x, t):
        """Central differences on each parameter's array: the book's numerical_gradient(x, t)."""
        grads = {}
        with mgx.no_grad():
            for name, p in self.named_parameters():
                # numerical_gradient perturbs p.data in place, which the loss reads
                grads[name] = mgx.numerical_gradient(lambda _: self.loss(x, t).item(), p.data)
        return grads


def digits_as_mnist(X):
    """8x8 digits in [0, 1] -> 28x28 (each pixel repeated 3x3, 2 zero pixels of padding), flattened."""
    images = X.reshape(-1, 8, 8)
    big = np.kron(images, np.ones((3, 3)))
    return np.pad(big, ((0, 0), (2, 2), (2, 2))).reshape(len(X), 784)


def gradient_check(x, t, activation, seed=1):
    """The book's gradient_check.py for one activation: mean |backprop - numerical| per parameter.

    Also returns the smallest |hidden pre-activation|: where it is below h = 1e-4 a
    central difference of the ReLU net straddles the kink at 0 and the numerical
    gradient is wrong there (seed 0 draws one at 1.5e-5 with 784 inputs, and
    W1's difference grows to 7e-6); seed 1 draws none.
    """
    mgx.manual_seed(seed)
    net = TwoLayerNet(x.shape[1], 50, 10, activation=activation)
    params = {name: p.data.copy() for name, p in net.named_parameters()}
    numerical = net.numerical_gradient(x, t)
    backprop = net.gradient(x, t)
    diffs = {key: float(np.mean(np.abs(backprop[key] - numerical[key]))) for key in numerical}
    nearest_kink = float(np.abs(x @ params["W1"] + params["b1"]).min())
    return {
        "params": params,
        "numerical": numerical,
        "backprop": backprop,
        "diffs": diffs,
        "nearest_kink": nearest_kink,
    }


def train_mnist(directory, epochs=17, lr=0.1, batch_size=100, seed=0, out=None):
    """The book's ch05/train_neuralnet.py (ReLU TwoLayerNet, SGD): accuracy per epoch, and a figure."""
    X_train, X_test, y_train, y_test = load_mnist(directory)
    mgx.manual_seed(seed)
    net = TwoLayerNet(X_train.shape[1], 50, 10, activation="relu")
    opt = optim.SGD(net.parameters(), lr=lr)
    loader = DataLoader((X_train, y_train), batch_size=batch_size, shuffle=True, seed=seed)
    history = {"train_acc": [], "test_acc": []}
    for epoch in range(1, epochs + 1):
        with threadpool_limits(1):  # small matrices: BLAS's threads only slow them down
            for xb, yb in loader:
                opt.zero_grad()
                net.loss(xb, yb).backward()
                opt.step()
        history["train_acc"].append(net.accuracy(X_train, y_train))
        history["test_acc"].append(net.accuracy(X_test, y_test))
        print(
            f"epoch {epoch}: train acc {history['train_acc'][-1]:.4f}, test acc {history['test_acc'][-1]:.4f}"
        )
    out = out or os.path.join(OUT, "ch5_train_mnist.png")
    plt.figure(figsize=(5, 4))
    epochs_axis = np.arange(1, epochs + 1)
    plt.plot(epochs_axis, history["train_acc"], marker="o", label="train")
    plt.plot(epochs_axis, history["test_acc"], marker="s", linestyle="--", label="test")
    plt.xlabel("epochs")
    plt.ylabel("accuracy")
    plt.title("TwoLayerNet (ReLU) trained on MNIST")
    plt.ylim(0, 1.05)
    plt.legend(loc="lower right")
    _save(out)
    return history


def _save(out):
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    plt.savefig(out, dpi=100)
    plt.close()
    print(f"figure: {out}")


def main(out=None, fast=False, mnist=None, epochs=17):
    out = out or os.path.join(OUT, "ch5_gradient_check.png")
    if mnist:
        X_train, _, y_train, _ = load_mnist(mnist)
        x, t = X_train[:3], y_train[:3]
        source = f"MNIST from {mnist}"
    else:
        X_train, _, y_train, _ = load_digits()
        x, t = X_train[:3], y_train[:3]
        x = x if fast else digits_as_mnist(x)
        source = "8x8 digits" if fast else "8x8 digits upsampled to 28x28"
    print(f"3 samples of {source}: x {x.shape}, labels {t.tolist()}")
    results = {"x": x, "t": t}
    for activation in ("sigmoid", "relu"):
        with threadpool_limits(1):  # small matrices: BLAS's threads only slow them down
            results[activation] = gradient_check(x, t, activation)
        print(f"TwoLayerNet({x.shape[1]}, 50, 10), {activation} hidden layer: mean |backprop - numerical|")
        for key, diff in results[activation]["diffs"].items():
            print(key + ":" + str(diff))
    kink = results["relu"]["nearest_kink"]
    print(
        f"smallest |x @ W1 + b1| = {kink:.1e}: "
        + (
            "above h = 1e-4, no central difference crosses the ReLU's kink"
            if kink > 1e-4
            else "below h = 1e-4: the ReLU numbers above are unreliable"
        )
    )

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.2))
    check = results["sigmoid"]
    for key in ("W1", "b1", "W2", "b2"):
        left.plot(check["numerical"][key].ravel(), check["backprop"][key].ravel(), ".", ms=3, label=key)
    left.set_xlabel("numerical gradient")
    left.set_ylabel("backprop gradient")
    left.set_title("sigmoid TwoLayerNet: every parameter")
    left.legend()
    keys = list(check["diffs"])
    width = 0.4
    for i, activation in enumerate(("sigmoid", "relu")):
        diffs = [results[activation]["diffs"][k] for k in keys]
        right.bar(np.arange(len(keys)) + (i - 0.5) * width, diffs, width, label=activation)
    right.set_yscale("log")
    right.set_xticks(np.arange(len(keys)), keys)
    right.set_ylabel("mean |backprop - numerical|")
    right.set_title("gradient check (the book: 1e-13 to 1e-10)")
    right.legend()
    fig.tight_layout()
    _save(out)
    if mnist:
        results["train"] = train_mnist(
            mnist, epochs=epochs, out=os.path.join(os.path.dirname(out), "ch5_train_mnist.png")
        )
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", help="figure path (default examples/out/ch5_gradient_check.png)")
    parser.add_argument("--fast", action="store_true", help="8x8 inputs: 64 features instead of 784")
    parser.add_argument("--mnist", metavar="DIR", help="MNIST IDX files: check on them, then train")
    parser.add_argument("--epochs", type=int, default=17, help="training epochs with --mnist (default 17)")
    args = parser.parse_args()
    main(args.out, fast=args.fast, mnist=args.mnist, epochs=args.epochs)
