"""Gradient descent on x0**2 + x1**2 from (-3, 4), lr 0.1, 100 steps (the book's gradient_method.py).

    python examples/book/gradient_descent.py [FIGURE.png]

The book prints [-6.11110793e-10  8.14814391e-10]: each step multiplies x by
(1 - 2 lr) = 0.8, so after 100 steps x = 0.8**100 * (-3, 4). Gradients here
come from backprop; the path is saved as the book's Figure 4-10.
"""

import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import microgradx as mgx  # noqa: E402


def gradient_descent(f, init_x, lr=0.01, step_num=100):
    x = mgx.tensor(init_x, requires_grad=True)
    history = [x.data.copy()]
    for _ in range(step_num):
        x.grad = None
        f(x).backward()
        with mgx.no_grad():
            x -= lr * x.grad
        history.append(x.data.copy())
    return x.data, np.array(history)


def shown(path):
    """``path`` as printed: normalised, and relative when inside the working directory (examples/out/...)."""
    rel = os.path.relpath(path)
    return os.path.abspath(path) if rel.startswith(os.pardir) else rel


def main(out=None):
    out = out or os.path.join(os.path.dirname(__file__), "..", "out", "gradient_descent.png")
    x, history = gradient_descent(lambda t: (t**2).sum(), np.array([-3.0, 4.0]), lr=0.1, step_num=100)
    print(x)
    plt.figure(figsize=(5, 5))
    plt.plot([-5, 5], [0, 0], "--b")
    plt.plot([0, 0], [-5, 5], "--b")
    plt.plot(history[:, 0], history[:, 1], "o")
    plt.xlim(-3.5, 3.5)
    plt.ylim(-4.5, 4.5)
    plt.xlabel("x0")
    plt.ylabel("x1")
    plt.title("Gradient descent on x0^2 + x1^2 from (-3, 4), lr 0.1")
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    plt.savefig(out, dpi=100)
    plt.close()
    print(f"figure: {shown(out)}")
    return x, history


if __name__ == "__main__":
    main(*sys.argv[1:])
