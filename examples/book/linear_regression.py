"""Linear regression by gradient descent, as in the GradientTape example, with microgradx.

    python examples/book/linear_regression.py [FIGURE.png]

Fits y = w x + b to X = [0, .25, .5, .74, 1], y = [0, .36, .54, .82, 1] by
minimising the mean squared error with plain gradient descent (lr 0.5, 500
steps from w = b = 0), and prints the result next to the closed-form least
squares fit (NumPy's polyfit), which it matches.
"""

import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

import microgradx as mgx  # noqa: E402
import microgradx.functional as F  # noqa: E402
from microgradx import optim  # noqa: E402

X = np.array([0.0, 0.25, 0.5, 0.74, 1.0])
Y = np.array([0.0, 0.36, 0.54, 0.82, 1.0])


def shown(path):
    """``path`` as printed: normalised, and relative when inside the working directory (examples/out/...)."""
    rel = os.path.relpath(path)
    return os.path.abspath(path) if rel.startswith(os.pardir) else rel


def main(out=None, lr=0.5, steps=500):
    out = out or os.path.join(os.path.dirname(__file__), "..", "out", "linear_regression.png")
    w = mgx.tensor(0.0, requires_grad=True, name="w")
    b = mgx.tensor(0.0, requires_grad=True, name="b")
    opt = optim.SGD([w, b], lr=lr)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = F.mse_loss(w * mgx.tensor(X) + b, Y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    slope, intercept = np.polyfit(X, Y, 1)
    print(f"gradient descent: w = {w.item():.6f}, b = {b.item():.6f}, loss = {losses[-1]:.6f}")
    print(f"least squares:    w = {slope:.6f}, b = {intercept:.6f}")
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 4))
    left.plot(X, Y, "o", label="data")
    left.plot(X, w.item() * X + b.item(), label=f"y = {w.item():.3f} x + {b.item():.3f}")
    left.set(title="The fitted line", xlabel="x", ylabel="y")
    left.legend()
    right.semilogy(range(1, steps + 1), losses)
    right.set(title="Loss during gradient descent", xlabel="step", ylabel="MSE (log scale)")
    right.xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10]))
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    print(f"figure: {shown(out)}")
    return w.item(), b.item(), slope, intercept


if __name__ == "__main__":
    main(*sys.argv[1:])
