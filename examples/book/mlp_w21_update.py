"""The worked 2-2-1 sigmoid MLP: one backprop step on w21, and its graph with values and gradients.

    python examples/book/mlp_w21_update.py [OUTPUT]     (default: examples/out/mlp_2_2_1.svg)

OUTPUT's suffix (.svg, .png, .pdf) picks the format. `make images` redraws the
committed picture, docs/images/mlp_2_2_1.svg; the same graph gives the same bytes.

The network: x = 2; hidden units h1 = sigmoid(w11 x + b1), h2 = sigmoid(w12 x + b1)
sharing one bias b1 = 3; output y = sigmoid(w21 h1 + w22 h2 + b2); error
E = 0.5 (y_true - y)**2 with y_true = 1; learning rate 0.2.

Backprop gives dE/dw21 = -0.0035747 (the source rounds it to -0.004) and the
gradient-descent step w21 - lr * dE/dw21 = 2.0007149 (from the rounded
gradient it would be 2.0008). The source applies the update with the wrong
sign, w21 + lr * dE/dw21, and prints 1.9992: descent subtracts the gradient.
"""

import os
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


OUT = Path(__file__).resolve().parent.parent / "out" / "mlp_2_2_1.svg"


def shown(path):
    """``path`` as printed: normalised, and relative when inside the working directory (examples/out/...)."""
    rel = os.path.relpath(path)
    return os.path.abspath(path) if rel.startswith(os.pardir) else rel


def main(out: str = str(OUT)) -> dict:
    params, constants, named = build()
    E = named["E"]
    # retain_graph=True keeps every intermediate value for the picture; a plain
    # backward() frees them (they would show as "freed by backward" placeholders).
    E.backward(retain_graph=True)
    w21 = params["w21"]
    g = w21.grad.item()
    new_w21 = w21.item() - 0.2 * g
    print(f"E = {E.item():.7f}")
    print(f"dE/dw21 = {g:.7f}   (the source rounds it to -0.004)")
    print(f"w21 <- w21 - 0.2 * dE/dw21 = {new_w21:.7f}")
    print(
        f"note: the source adds the step instead of subtracting it and prints {w21.item() + 0.2 * -0.004:.4f}"
    )
    try:
        path = mgx.render_graph(E, out)
        print(f"graph written to {shown(path)}")
    except mgx.GraphvizNotFoundError as e:
        path = None
        print(f"graph not drawn: {e}")
    return {"grad_w21": g, "new_w21": new_w21, "path": path}


if __name__ == "__main__":
    main(*sys.argv[1:])
