"""simpleNet: the gradient of a 2x3 softmax classifier's loss (the book's gradient_simplenet.py).

    python examples/book/simple_net.py [FIGURE.png]

With the W the book prints (0.47355232, ...), x = [0.6, 0.9] and t = [0, 0, 1],
the book prints the loss 0.92806853663411326 and the gradient
    [[ 0.21924763  0.14356247 -0.36281009]
     [ 0.32887144  0.2153437  -0.54421514]]

A slip in the source: those are the numbers of the exact loss -log(y), while the
book's cross_entropy_error computes -log(y + 1e-7), whose gradient is
[[0.21924757 0.14356243 -0.36281 ...]] (loss 0.9280682858) -- the book's own
numerical_gradient code gives these too. This script prints both: the book's
loss (backprop and numerical_gradient agree to 1e-10) and the exact one
(F.cross_entropy), which reproduces the printed numbers. The figure shows dW
as a heat map.
"""

import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import microgradx as mgx  # noqa: E402
import microgradx.functional as F  # noqa: E402

BOOK_W = np.array([[0.47355232, 0.9977393, 0.84668094], [0.85557411, 0.03563661, 0.69422093]])


class SimpleNet:
    def __init__(self, W=BOOK_W):
        self.W = mgx.tensor(W, requires_grad=True, name="W")

    def predict(self, x):
        return mgx.tensor(x) @ self.W

    def loss(self, x, t):
        return F.cross_entropy_error(F.softmax(self.predict(x)), t)


def shown(path):
    """``path`` as printed: normalised, and relative when inside the working directory (examples/out/...)."""
    rel = os.path.relpath(path)
    return os.path.abspath(path) if rel.startswith(os.pardir) else rel


def main(out=None):
    out = out or os.path.join(os.path.dirname(__file__), "..", "out", "simple_net.png")
    net = SimpleNet()
    x, t = np.array([0.6, 0.9]), np.array([0, 0, 1])
    loss = net.loss(x, t)
    loss.backward()
    numeric = mgx.numerical_gradient(lambda w: SimpleNet(w).loss(x, t).item(), BOOK_W.copy())
    print(f"cross_entropy_error (log(y + 1e-7), the book's code): loss {loss.item()!r}")
    print(net.W.grad.data)
    print(f"max |backprop - numerical_gradient| = {np.abs(net.W.grad.data - numeric).max():.1e}")
    W = mgx.tensor(BOOK_W, requires_grad=True)
    exact = F.cross_entropy(mgx.tensor(x) @ W, 2)
    exact.backward()
    print(f"cross_entropy (exact log-softmax, what the book prints): loss {exact.item()!r}")
    print(W.grad.data)
    dW = net.W.grad.data
    plt.figure(figsize=(6, 3.6))
    plt.imshow(dW, cmap="coolwarm", vmin=-0.6, vmax=0.6)
    plt.colorbar(label="dL/dW")
    for (i, j), v in np.ndenumerate(dW):  # the values, as the book prints them
        plt.text(j, i, f"{v:.8f}", ha="center", va="center", fontsize=9)
    plt.xticks(range(dW.shape[1]))
    plt.yticks(range(dW.shape[0]))
    plt.xlabel("j (output class)")
    plt.ylabel("i (input x[i])")
    plt.title("simpleNet: dL/dW[i, j] by backprop")
    plt.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    plt.savefig(out, dpi=100)
    plt.close()
    print(f"figure: {shown(out)}")
    return net.W.grad.data, numeric, W.grad.data


if __name__ == "__main__":
    main(*sys.argv[1:])
