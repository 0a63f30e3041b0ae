"""The derivative and tangent line of y = 0.01 x**2 + 0.1 x (the book's gradient_1d.py).

    python examples/book/tangent_line.py [FIGURE.png]

The book's numerical_diff (central difference, h = 1e-4) prints
0.1999999999990898 at x = 5 and 0.2999999999986347 at x = 10; the exact
derivative 0.02 x + 0.1 is 0.2 and 0.3, which backprop gives. The figure is the
function with its tangent at x = 10 (Figure 4-7, right).
"""

import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import microgradx as mgx  # noqa: E402


def function_1(x):
    return 0.01 * x**2 + 0.1 * x


def numerical_diff(f, x):
    h = 1e-4
    return (f(x + h) - f(x - h)) / (2 * h)


def shown(path):
    """``path`` as printed: normalised, and relative when inside the working directory (examples/out/...)."""
    rel = os.path.relpath(path)
    return os.path.abspath(path) if rel.startswith(os.pardir) else rel


def main(out=None):
    out = out or os.path.join(os.path.dirname(__file__), "..", "out", "tangent_line.png")
    slopes = {}
    for x in (5.0, 10.0):
        numeric = numerical_diff(function_1, x)
        exact = float(mgx.grad(function_1)(x))
        print(f"x = {x:g}: numerical_diff {numeric!r}, backprop {exact!r}")
        slopes[x] = (numeric, exact)
    a = slopes[10.0][1]
    b = function_1(10.0) - a * 10.0
    xs = np.arange(0.0, 20.0, 0.1)
    plt.plot(xs, function_1(xs), label="0.01x^2 + 0.1x")
    plt.plot(xs, a * xs + b, label=f"tangent at 10 (slope {a:g})")
    plt.xlabel("x")
    plt.ylabel("f(x)")
    plt.title("f(x) = 0.01x^2 + 0.1x and its tangent at x = 10")
    plt.legend()
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    plt.savefig(out, dpi=100)
    plt.close()
    print(f"figure: {shown(out)}")
    return slopes


if __name__ == "__main__":
    main(*sys.argv[1:])
