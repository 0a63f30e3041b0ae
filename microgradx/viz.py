"""Graphviz pictures of computation graphs: ``to_dot`` and ``render_graph``.

Data flows left to right (``rankdir="LR"``): tensor -> op -> tensor. Node styles:

* parameters (leaves that require grad): blue, filled;
* constants (leaves that do not): grey, dashed;
* intermediate results: white; the root (what you call backward on): orange;
* operations: grey ellipses named after the op (``add``, ``matmul``, ``sigmoid``);
* tensors already freed by a ``backward()`` without ``retain_graph``: dotted.

The ``graphviz`` package is imported only when a picture is made, so
``import microgradx`` never needs it.
"""

from __future__ import annotations

import os
import shutil
from typing import TYPE_CHECKING, Any

import numpy as np

from ._files import atomic_write
from .autograd import Function, creator_read_by
from .errors import fmt_shape
from .tensor import Tensor

if TYPE_CHECKING:
    import graphviz

__all__ = ["GraphvizNotFoundError", "render_graph", "to_dot"]

#: at most this many elements are printed in full; larger tensors show shape, min and max
SMALL = 6

_STYLE = {
    "param": {"shape": "box", "style": "rounded,filled", "fillcolor": "#cfe2ff", "color": "#3d6fb6"},
    "const": {"shape": "box", "style": "rounded,dashed", "color": "#888888", "fontcolor": "#555555"},
    "inter": {"shape": "box", "style": "rounded"},
    "root": {"shape": "box", "style": "rounded,filled,bold", "fillcolor": "#ffe0b3", "color": "#b36b00"},
    "freed": {"shape": "box", "style": "rounded,dotted", "color": "#aaaaaa", "fontcolor": "#888888"},
    "op": {"shape": "ellipse", "style": "filled", "fillcolor": "#e8e8e8", "fontname": "Helvetica-Bold"},
}


class GraphvizNotFoundError(RuntimeError):
    """The Graphviz ``dot`` program (or the ``graphviz`` Python package) is missing."""


def _graphviz() -> Any:
    try:
        import graphviz
    except ImportError:
        raise GraphvizNotFoundError(
            "drawing graphs needs the graphviz Python package: pip install 'microgradx[viz]' "
            "(or pip install graphviz), plus the Graphviz dot program from your system packages"
        ) from None
    return graphviz


def _fmt(a: np.ndarray) -> str:
    """Values compactly: all of them when small, else min and max."""
    if a.size <= SMALL:
        if a.ndim == 0:
            return f"{a.item():.4g}"
        flat = ", ".join(f"{v:.4g}" for v in a.ravel().tolist())
        return f"[{flat}]"
    return f"min {a.min():.4g}, max {a.max():.4g}"


def _tensor_label(t: Tensor, show_data: bool, show_grad: bool) -> str:
    lines = [t.name] if t.name else []
    lines.append(f"{fmt_shape(t.shape)} {t.data.dtype}")
    if show_data:
        lines.append(f"data {_fmt(t.data)}")
    if show_grad and t.grad is not None:
        lines.append(f"grad {_fmt(t.grad.data)}")
    return "\\n".join(lines)  # DOT's line break


def _kind(t: Tensor, root: Tensor) -> str:
    if t is root:
        return "root"
    if t.creator is None:
        return "param" if t.requires_grad else "const"
    return "inter"


def to_dot(
    root: Tensor,
    show_data: bool = True,
    show_grad: bool = True,
    rankdir: str = "LR",
    max_nodes: int = 500,
) -> graphviz.Digraph:
    """The graph that produced ``root``, as a ``graphviz.Digraph``.

    One node per tensor (its ``name`` if it has one, its shape and dtype, and
    with ``show_data`` / ``show_grad`` its values and ``.grad``: in full up to
    6 elements, else min and max) and one per operation, edges in the
    direction data flows. In a notebook the result displays itself; ``.source``
    is the DOT text, which needs no Graphviz program.

    Works before and after ``backward``: after a ``backward()`` without
    ``retain_graph`` the intermediate tensors are freed and appear as dotted
    placeholders, while parameters show their gradients. It also draws the
    graph of a gradient made with ``create_graph=True``.

    Parameters
    ----------
    root : Tensor
    show_data, show_grad : bool
        Print values and gradients on the tensor nodes.
    rankdir : str
        Graphviz layout direction: "LR" (left to right) or "TB" (top to bottom).
    max_nodes : int
        Refuse graphs with more nodes than this, with a clear message, instead
        of handing Graphviz a layout that takes minutes.

    Examples
    --------
    >>> import microgradx as mgx
    >>> x = mgx.tensor([1.0, 2.0], requires_grad=True, name="x")
    >>> dot = to_dot((x * x).sum())
    >>> print(sum(line.count("label=") for line in dot.source.splitlines()))  # 3 tensors, 2 ops
    5
    """
    if not isinstance(root, Tensor):
        raise TypeError(f"to_dot: expected a Tensor, got {type(root).__name__}")
    root = root._current()  # a view whose memory was written since: draw its current history
    if rankdir not in ("LR", "RL", "TB", "BT"):
        raise ValueError(f"to_dot: rankdir must be one of LR, RL, TB, BT, got {rankdir!r}")
    nodes: dict[str, tuple[str, str]] = {}  # id -> (label, kind)
    edges: list[tuple[str, str]] = []

    def add(node_id: str, label: str, kind: str) -> None:
        if node_id not in nodes:
            nodes[node_id] = (label, kind)
            if len(nodes) > max_nodes:
                raise ValueError(
                    f"to_dot: the graph has more than max_nodes={max_nodes} nodes; Graphviz would take "
                    "very long to lay it out. Pass a larger max_nodes, or draw a smaller part "
                    "(to_dot(an intermediate tensor))"
                )

    def tensor_id(t: Tensor, creator: Function | None) -> str:
        # a non-leaf is identified by its creator (one output per op), which also names it once freed
        return f"t{id(creator)}" if creator is not None else f"t{id(t)}"

    def add_input(x: Tensor, creator: Function | None) -> str:
        tid = tensor_id(x, creator)
        if creator is not x.creator:  # x was updated in place since fn read it
            what = f"output of {creator.name}" if creator is not None else "a constant"
            add(tid, f"{what}\\n(overwritten in place since)", "freed")
        else:
            add(tid, _tensor_label(x, show_data, show_grad), _kind(x, root))
        return tid

    add(tensor_id(root, root.creator), _tensor_label(root, show_data, show_grad), "root")
    stack: list[Function] = [root.creator] if root.creator is not None else []
    seen: set[int] = set()
    while stack:
        fn = stack.pop()
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        op_id = f"f{id(fn)}"
        add(op_id, fn.name, "op")
        edges.append((op_id, f"t{id(fn)}"))
        if fn.inputs is not None:
            for x in fn.inputs:
                creator = creator_read_by(x, fn._recorded_at)  # the version fn read
                edges.append((add_input(x, creator), op_id))
                if creator is not None:
                    stack.append(creator)
        else:  # released by backward: the leaves, and the creators of the other inputs
            for item in getattr(fn, "_freed", ()):
                if isinstance(item, Tensor):  # a leaf: a parameter or a constant
                    tid = tensor_id(item, None)
                    add(tid, _tensor_label(item, show_data, show_grad), _kind(item, root))
                else:  # an intermediate: drawn if someone still holds it, else a placeholder
                    ref, creator = item
                    held = ref()
                    tid = f"t{id(creator)}"
                    if held is not None:
                        add_input(held, creator)
                    else:
                        add(tid, f"output of {creator.name}\\n(freed by backward)", "freed")
                    stack.append(creator)
                edges.append((tid, op_id))

    graphviz = _graphviz()
    dot = graphviz.Digraph(
        graph_attr={"rankdir": rankdir, "fontname": "Helvetica"},
        node_attr={"fontname": "Helvetica", "fontsize": "11"},
    )
    for node_id, (label, kind) in nodes.items():
        dot.node(node_id, label, **_STYLE[kind])
    for a, b in edges:
        dot.edge(a, b)
    return dot


def render_graph(root: Tensor, filename: str | os.PathLike[str], format: str = "svg", **kwargs: Any) -> str:  # noqa: A002
    """Draw the graph of ``root`` to ``filename`` (svg, png or pdf) and return the path.

    ``filename`` gets the format's suffix if it has none. Keyword arguments go
    to :func:`to_dot`. Needs the Graphviz ``dot`` program; without it this
    raises :class:`GraphvizNotFoundError` saying how to install it
    (``to_dot(root).source`` still gives the DOT text).
    """
    if format not in ("svg", "png", "pdf"):
        raise ValueError(f"render_graph: format must be svg, png or pdf, got {format!r}")
    if shutil.which("dot") is None:
        raise GraphvizNotFoundError(
            "render_graph needs the Graphviz 'dot' program, which is not on PATH. Install the "
            "system package 'graphviz' (apt-get install graphviz, dnf install graphviz, "
            "brew install graphviz, or conda install graphviz). Without it, "
            "to_dot(root).source still gives the DOT text."
        )
    path = os.fspath(filename)
    if not path.lower().endswith("." + format):
        path += "." + format
    data = to_dot(root, **kwargs).pipe(format=format)
    return atomic_write(path, lambda f: f.write(data))  # never a half-written picture
