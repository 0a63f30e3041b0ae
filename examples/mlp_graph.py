"""Render the worked 2-2-1 sigmoid MLP after one backward pass, values and gradients on the nodes.

    python examples/mlp_graph.py [OUTPUT.svg]     (default: docs/images/mlp_2_2_1.svg)

The network: x = 2; hidden units h1 = sigmoid(w11 x + b1), h2 = sigmoid(w12 x + b1)
sharing one bias b1 = 3; output y = sigmoid(w21 h1 + w22 h2 + b2); error
E = 0.5 (y_true - y)**2 with y_true = 1.
"""

import sys
from pathlib import Path

import microgradx as mgx
import microgradx.functional as F


def build():
    p = {
        k: mgx.tensor(v, requires_grad=True, name=k)
        for k, v in dict(w11=1.0, w12=-1.0, b1=3.0, w21=2.0, w22=1.0, b2=0.0).items()
    }
    x = mgx.tensor(2.0, name="x")
    y_true = mgx.tensor(1.0, name="y_true")
    z1 = p["w11"] * x + p["b1"]
    z2 = p["w12"] * x + p["b1"]
    h1, h2 = F.sigmoid(z1), F.sigmoid(z2)
    z = p["w21"] * h1 + p["w22"] * h2 + p["b2"]
    y = F.sigmoid(z)
    E = 0.5 * (y_true - y) ** 2
    named = dict(z1=z1, z2=z2, h1=h1, h2=h2, z=z, y=y, E=E)
    for name, t in named.items():
        t.name = name
        t.retain_grad()  # show the gradients of these intermediates too
    return p, (x, y_true), named


def main(out: str = "docs/images/mlp_2_2_1.svg") -> str:
    params, constants, named = build()
    E = named["E"]
    # retain_graph=True keeps every intermediate value for the picture; a plain
    # backward() frees them (they would show as "freed by backward" placeholders).
    E.backward(retain_graph=True)
    path = mgx.render_graph(E, out, format=Path(out).suffix.lstrip(".") or "svg")
    w21 = params["w21"]
    print(
        f"E = {E.item():.7f}, dE/dw21 = {w21.grad.item():.7f}, w21 after one step (lr 0.2): "
        f"{w21.item() - 0.2 * w21.grad.item():.7f}"
    )
    print(f"graph written to {path}")
    return path


if __name__ == "__main__":
    main(*sys.argv[1:])
