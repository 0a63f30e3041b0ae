"""Draw the graph of docs/engine.md's worked backward step, with every value and gradient.

    python examples/engine_step.py [OUTPUT]     (default: examples/out/engine_step.svg)

OUTPUT's suffix (.svg, .png, .pdf) picks the format. `make images` redraws the
committed picture, docs/images/engine_step.svg; the same graph gives the same bytes.

L = sum(a * b + a) with a = [1, 2], b = [3, 4]: backward gives dL/da = b + 1 = [4, 5]
(a receives gradient along two edges) and dL/db = a = [1, 2].
"""

import sys
from pathlib import Path

import microgradx as mgx

OUT = Path(__file__).resolve().parent / "out" / "engine_step.svg"


def main(out: str = str(OUT)) -> dict:
    a = mgx.tensor([1.0, 2.0], requires_grad=True, name="a")
    b = mgx.tensor([3.0, 4.0], requires_grad=True, name="b")
    h = (a * b).retain_grad()
    h.name = "h = a * b"
    y = (h + a).retain_grad()
    y.name = "y = h + a"
    L = y.sum()
    L.name = "L"
    L.backward(retain_graph=True)  # keep the values for the picture
    path = mgx.render_graph(L, out)
    print(f"dL/da = {a.grad.data}, dL/db = {b.grad.data}; graph written to {path}")
    return {"a": a.grad.data, "b": b.grad.data, "path": path}


if __name__ == "__main__":
    main(*sys.argv[1:])
