"""The gradient of f(x0, x1) = x0**2 + x1**2 (Deep Learning from Scratch, 4.4, gradient_2d.py).

    python examples/book/numerical_gradient.py [FIGURE.png]

Prints the numerical gradient at (3, 4), (0, 2) and (3, 0), as the book does
([6. 8.], [0. 4.], [6. 0.]), the same gradients by backpropagation, and saves
the field of -grad f as a quiver plot (the book's Figure 4-9).
"""

import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import microgradx as mgx  # noqa: E402


def function_2(x):
    return np.sum(x**2)


def shown(path):
    """``path`` as printed: normalised, and relative when inside the working directory (examples/out/...)."""
    rel = os.path.relpath(path)
    return os.path.abspath(path) if rel.startswith(os.pardir) else rel


def main(out=None):
    out = out or os.path.join(os.path.dirname(__file__), "..", "out", "gradient_field.png")
    results = {}
    for point in ([3.0, 4.0], [0.0, 2.0], [3.0, 0.0]):
        numeric = mgx.numerical_gradient(function_2, np.array(point))
        backprop = mgx.grad(lambda x: (x**2).sum())(np.array(point))
        print(f"numerical_gradient at {point}: {numeric}   backprop: {backprop}")
        results[tuple(point)] = (numeric, backprop)

    x0, x1 = np.meshgrid(np.arange(-2, 2.5, 0.25), np.arange(-2, 2.5, 0.25))
    grads = np.array(
        [mgx.numerical_gradient(function_2, np.array(p)) for p in zip(x0.ravel(), x1.ravel(), strict=True)]
    )
    plt.figure(figsize=(5, 5))
    plt.quiver(x0.ravel(), x1.ravel(), -grads[:, 0], -grads[:, 1], angles="xy", color="#666666")
    plt.xlim(-2, 2)
    plt.ylim(-2, 2)
    plt.xlabel("x0")
    plt.ylabel("x1")
    plt.title("-grad of x0^2 + x1^2")
    plt.grid()
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    plt.savefig(out, dpi=100)
    plt.close()
    print(f"figure: {shown(out)}")
    return results


if __name__ == "__main__":
    main(*sys.argv[1:])
