"""Minimise y = 3x**2 + 2x + 1 by gradient descent from x = -10 with step 0.2.

    python examples/book/quadratic_descent.py [FIGURE.png]

dy/dx = 6x + 2, so each step is x <- x - 0.2 (6x + 2) = -0.2 x - 0.4, which
converges to x = -1/3 where y = 2/3 = 0.667. The figure shows the steps on
the parabola.
"""

import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import microgradx as mgx  # noqa: E402
from microgradx import optim  # noqa: E402


def f(x):
    return 3 * x**2 + 2 * x + 1


def shown(path):
    """``path`` as printed: normalised, and relative when inside the working directory (examples/out/...)."""
    rel = os.path.relpath(path)
    return os.path.abspath(path) if rel.startswith(os.pardir) else rel


def main(out=None, steps=30):
    out = out or os.path.join(os.path.dirname(__file__), "..", "out", "quadratic_descent.png")
    x = mgx.tensor(-10.0, requires_grad=True)
    opt = optim.SGD([x], lr=0.2)
    path = [(x.item(), f(x).item())]
    for _ in range(steps):
        opt.zero_grad()
        y = f(x)
        y.backward()
        opt.step()
        path.append((x.item(), f(x).item()))
    print(f"after {steps} steps: x = {x.item():.6f}, y = {path[-1][1]:.6f}")
    xs = np.linspace(-11, 4, 200)
    plt.plot(xs, f(xs), color="#888888")
    plt.plot(*zip(*path, strict=True), "o-", ms=3)
    plt.xlabel("x")
    plt.ylabel("y = 3x^2 + 2x + 1")
    plt.title(f"Gradient descent from x = -10, step 0.2: {steps} steps to x = -1/3")
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    plt.savefig(out, dpi=100)
    plt.close()
    print(f"figure: {shown(out)}")
    return x.item(), path[-1][1]


if __name__ == "__main__":
    main(*sys.argv[1:])
