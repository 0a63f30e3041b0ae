"""SGD, Momentum, AdaGrad and Adam on f = x**2 / 20 + y**2 (6.1.7, Figure 6-8, optimizer_compare_naive.py).

    python examples/book/ch6_optimizer_race.py [FIGURE.png]

Each optimizer starts at (-7, 2) and takes 30 steps with the book's learning
rates: SGD 0.95, Momentum 0.1 (``optim.SGD(momentum=0.9)``), AdaGrad 1.5
(``optim.AdaGrad(eps=1e-7)``, the book's 1e-7), Adam 0.3 (``optim.Adam``,
betas (0.9, 0.999)). The gradient comes from backprop. The figure is the
book's 2x2 grid: the contour lines of f (those above 7 hidden, as in the
book) and each path as red dots joined by lines.

The book's loop records the position before each of its 30 updates, so its
figure shows 30 points; this script records the start and all 30 updates (31
points). The book's Adam puts its 1e-7 inside the bias-corrected step,
``lr * sqrt(1 - b2**t) / (1 - b1**t) * m / (sqrt(v) + 1e-7)``; microgradx's
(PyTorch's) adds eps = 1e-8 to ``sqrt(v / (1 - b2**t))``: over these 30 steps
the two paths differ by less than 1e-5.
"""

import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import microgradx as mgx  # noqa: E402
from microgradx import optim  # noqa: E402

START = (-7.0, 2.0)
OPTIMIZERS = {
    "SGD": lambda params: optim.SGD(params, lr=0.95),
    "Momentum": lambda params: optim.SGD(params, lr=0.1, momentum=0.9),
    "AdaGrad": lambda params: optim.AdaGrad(params, lr=1.5, eps=1e-7),
    "Adam": lambda params: optim.Adam(params, lr=0.3, betas=(0.9, 0.999)),
}


def f(x, y):
    return x**2 / 20.0 + y**2


def race(make_optimizer, steps=30, start=START):
    """The path of one optimizer: an array of shape (steps + 1, 2), the start first."""
    p = mgx.tensor(np.array(start), requires_grad=True)
    opt = make_optimizer([p])
    path = [p.data.copy()]
    for _ in range(steps):
        opt.zero_grad()
        f(p[0], p[1]).backward()
        opt.step()
        path.append(p.data.copy())
    return np.array(path)


def main(out=None, steps=30):
    out = out or os.path.join(os.path.dirname(__file__), "..", "out", "ch6_optimizer_race.png")
    paths = {name: race(make, steps) for name, make in OPTIMIZERS.items()}
    for name, path in paths.items():
        x, y = path[-1]
        print(f"{name:8s} after {steps} steps: ({x: .6f}, {y: .6f}), f = {f(x, y):.2e}")

    X, Y = np.meshgrid(np.arange(-10, 10, 0.01), np.arange(-5, 5, 0.01))
    Z = f(X, Y)
    Z[Z > 7] = 0  # the book's "simple contour lines"
    fig = plt.figure(figsize=(9, 8))
    for i, (name, path) in enumerate(paths.items()):
        ax = fig.add_subplot(2, 2, i + 1)
        ax.contour(X, Y, Z)
        ax.plot(path[:, 0], path[:, 1], "o-", color="red", ms=4)
        ax.plot(0, 0, "+")
        ax.set_xlim(-10, 10)
        ax.set_ylim(-10, 10)
        ax.set_title(name)
        ax.set_xlabel("x")
        ax.set_ylabel("y")
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    print(f"figure: {out}")
    return paths


if __name__ == "__main__":
    main(*sys.argv[1:])
