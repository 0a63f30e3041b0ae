"""Activation histograms of a 5-layer, 100-unit network for several initial weights (6.2, Figs. 6-10 to 6-14).

    python examples/book/ch6_weight_init.py [OUTPUT_DIR]     (default examples/out)

The book's weight_init_activation_histogram.py: 1000 random inputs of 100
features (standard normal) go through 5 layers ``a = x @ W`` (no bias) and an
activation, without training, and each layer's activations are drawn as a
histogram of 30 bins over (0, 1) with the y axis cut at 7000, as in the book.
Weights are filled by ``microgradx.nn.init`` (weights are (in, out), so
fan_in is 100):

- Figure 6-10, sigmoid, std 1 (``nn.init.normal_(w, 0, 1)``): the activations
  pile up at 0 and 1, where the sigmoid's gradient vanishes;
- Figure 6-11, sigmoid, std 0.01 (``nn.init.normal_(w, 0, 0.01)``): all near
  0.5, every unit says the same thing;
- Figure 6-13, sigmoid, the book's "Xavier" std 1/sqrt(100)
  (``nn.init.kaiming_normal_(w, nonlinearity="linear")``): spread out;
- Figure 6-14, ReLU, with std 0.01, Xavier and the book's "He" std
  sqrt(2/100) (``nn.init.kaiming_normal_(w, nonlinearity="relu")``): only He
  keeps the spread of the activations roughly the same from layer to layer
  (Xavier's shrinks by about 1/sqrt(2) a layer, std 0.01's by about 14). About
  half of the ReLU activations are exactly 0: the first bin is cut at 7000.

One PNG per book figure, named after it. ``mgx.manual_seed`` fixes the
weights, a NumPy generator with the same seed the inputs.
"""

import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import microgradx as mgx  # noqa: E402
import microgradx.functional as F  # noqa: E402
from microgradx import nn  # noqa: E402

INITS = {
    "std=1": lambda w: nn.init.normal_(w, 0.0, 1.0),
    "std=0.01": lambda w: nn.init.normal_(w, 0.0, 0.01),
    "Xavier": lambda w: nn.init.kaiming_normal_(w, nonlinearity="linear"),  # the book's 1/sqrt(n)
    "He": lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu"),  # sqrt(2/n)
}
ACTIVATIONS = {"sigmoid": F.sigmoid, "relu": F.relu}
# (figure, file name, the settings drawn in it, one row each)
FIGURES = [
    ("Figure 6-10", "ch6_weight_init_fig6-10.png", [("sigmoid", "std=1")]),
    ("Figure 6-11", "ch6_weight_init_fig6-11.png", [("sigmoid", "std=0.01")]),
    ("Figure 6-13", "ch6_weight_init_fig6-13.png", [("sigmoid", "Xavier")]),
    (
        "Figure 6-14",
        "ch6_weight_init_fig6-14.png",
        [("relu", "std=0.01"), ("relu", "Xavier"), ("relu", "He")],
    ),
]


def activations(x, activation, init, layers=5, node_num=100, seed=0):
    """Each layer's activations, an array of shape (layers, len(x), node_num)."""
    mgx.manual_seed(seed)
    out = []
    with mgx.no_grad():
        for _ in range(layers):
            w = INITS[init](mgx.tensor(np.empty((x.shape[1], node_num))))
            x = ACTIVATIONS[activation](mgx.tensor(x) @ w).data
            out.append(x)
    return np.array(out)


def main(out_dir=None, n=1000, seed=0):
    out_dir = out_dir or os.path.join(os.path.dirname(__file__), "..", "out")
    os.makedirs(out_dir, exist_ok=True)
    x = np.random.default_rng(seed).standard_normal((n, 100))
    results = {}
    for title, name, rows in FIGURES:
        fig, axes = plt.subplots(len(rows), 5, figsize=(12, 2.6 * len(rows) + 0.4), squeeze=False)
        for r, (activation, init) in enumerate(rows):
            acts = results[(activation, init)] = activations(x, activation, init, seed=seed)
            stds = ", ".join(f"{a.std():.3g}" for a in acts)
            print(f"{title}: {activation}, {init}: activation std per layer {stds}")
            for i, a in enumerate(acts):
                ax = axes[r, i]
                ax.hist(a.ravel(), 30, range=(0, 1))
                ax.set_ylim(0, 7000 * n / 1000)
                ax.set_title(f"{i + 1}-layer" if r == 0 else "")
                if i:
                    ax.set_yticks([])
                else:
                    ax.set_ylabel(f"{activation}, {init}")
        fig.suptitle(f"{title}: activations of 5 layers, {n} inputs")
        fig.tight_layout()
        path = os.path.join(out_dir, name)
        fig.savefig(path, dpi=100)
        plt.close(fig)
        print(f"figure: {path}")
    return results


if __name__ == "__main__":
    main(*sys.argv[1:])
