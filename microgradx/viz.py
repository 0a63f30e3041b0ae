"""Graphviz pictures of computation graphs: ``to_dot`` and ``render_graph``.

Data flows from the inputs to the root: left to right for a short graph, top to
bottom for a long one (``rankdir=None`` picks the one that reads at page width).
Node styles:

* parameters (leaves that require grad): blue, filled;
* constants (leaves that do not): grey, dashed;
* intermediate results: white; the root (what you call backward on): orange;
* operations: grey ellipses named after the op (``add``, ``matmul``, ``sigmoid``);
* tensors already freed by a ``backward()`` without ``retain_graph``: dotted.

Everything a user can name (op names, tensor names, parameter paths) is text,
never DOT or HTML markup: it is shown literally, with the characters that
``str.isprintable`` rejects written as ``repr`` writes them (``\\x1b``).
Nodes are numbered in traversal order (``t0``, ``f0``, ...), so the same graph
gives the same DOT text, and the same picture, byte for byte.

The ``graphviz`` package is imported only when a picture is made, so
``import microgradx`` never needs it.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import textwrap
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
#: label lines longer than this many characters are wrapped
WRAP = 36
#: the page width the layout aims at, in points (900 px; 1 pt = 4/3 px)
PAGE_WIDTH_PT = 675.0
#: the formats render_graph writes, each named by its suffix
FORMATS = ("svg", "png", "pdf")

_FONT_PT = 11.0
_STYLE = {
    "param": {"shape": "box", "style": "rounded,filled", "fillcolor": "#cfe2ff", "color": "#3d6fb6"},
    "const": {"shape": "box", "style": "rounded,dashed", "color": "#888888", "fontcolor": "#555555"},
    "inter": {"shape": "box", "style": "rounded"},
    "root": {"shape": "box", "style": "rounded,filled,bold", "fillcolor": "#ffe0b3", "color": "#b36b00"},
    "freed": {"shape": "box", "style": "rounded,dotted", "color": "#aaaaaa", "fontcolor": "#888888"},
    "op": {
        "shape": "ellipse",
        "style": "filled",
        "fillcolor": "#e8e8e8",
        "fontname": "Helvetica-Bold",
        "height": "0.35",
        "margin": "0.06,0.02",
    },
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


def _shown(text: str) -> str:
    """``text`` as the picture shows it: printable characters as they are, others as ``repr`` writes them."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _wrapped(line: str) -> list[str]:
    """A long label line as several, broken after spaces where it can be."""
    if len(line) <= WRAP:
        return [line]
    return textwrap.wrap(
        line, WRAP, break_on_hyphens=False, drop_whitespace=False, replace_whitespace=False
    ) or [line]


def _label(lines: list[str]) -> str:
    r"""Lines of plain text as a DOT label that Graphviz shows literally.

    Only the line breaks are markup. A backslash is doubled (so ``\N``, ``\n``,
    ``\l`` and a final ``\`` stay text), ``"`` is escaped, and ``&`` is written
    ``&amp;`` because Graphviz decodes HTML entities in labels. ``nohtml`` keeps
    the graphviz package from passing a label written as ``<...>`` through as an
    HTML label.
    """
    graphviz = _graphviz()
    out = []
    for line in lines:
        for part in _wrapped(_shown(line)):
            out.append(part.replace("\\", "\\\\").replace('"', '\\"').replace("&", "&amp;"))
    return graphviz.nohtml("\\n".join(out))  # DOT's centred line break


def _tensor_lines(t: Tensor, show_data: bool, show_grad: bool) -> list[str]:
    lines = [t.name] if t.name else []
    lines.append(f"{fmt_shape(t.shape)} {t.data.dtype}")
    if show_data:
        lines.append(f"data {_fmt(t.data)}")
    if show_grad and t.grad is not None:
        lines.append(f"grad {_fmt(t.grad.data)}")
    return lines


def _kind(t: Tensor, root: Tensor) -> str:
    if t is root:
        return "root"
    if t.creator is None:
        return "param" if t.requires_grad else "const"
    return "inter"


def _title(root: Tensor) -> str:
    """The SVG's ``<title>``: names the root when its name is plain enough to need no escaping."""
    name = root.name or ""
    if re.fullmatch(r"[\w .,:;=+*/()\[\]-]{1,60}", name) and name.isprintable():
        return f"computation graph of {name}"
    return "computation graph"


def _width(lines: list[str], kind: str) -> float:
    """Roughly the width in points that Graphviz gives a node with these label lines."""
    chars = max((len(part) for line in lines for part in _wrapped(_shown(line))), default=1)
    if kind == "op":  # an ellipse round one bold line
        return max(54.0, 1.3 * (0.62 * _FONT_PT * chars + 9))
    return max(54.0, 0.56 * _FONT_PT * chars + 16)


def _choose_rankdir(widths: dict[str, float], edges: list[tuple[str, str]]) -> str:
    """LR when the graph fits the page width that way, else whichever of LR and TB is narrower.

    Ranks as Graphviz assigns them, near enough: every node sits one rank
    before its earliest consumer (so a leaf sits next to the op that reads it).
    LR is as wide as the ranks' widest nodes side by side; TB is as wide as the
    widest rank. LR may take 1.2 page widths: shown 900 px wide, its 11-pt
    labels are still 12 px tall.
    """
    consumers: dict[str, list[str]] = {n: [] for n in widths}
    for a, b in edges:
        consumers[a].append(b)
    depth: dict[str, int] = {}  # ranks counted back from the root
    for n in reversed(_topological(widths, edges)):
        depth[n] = 1 + max((depth.get(c, 0) for c in consumers[n]), default=-1)
    ranks: dict[int, list[str]] = {}
    for n, d in depth.items():
        ranks.setdefault(d, []).append(n)
    ranksep, nodesep = 0.25 * 72, 0.2 * 72  # the graph attributes to_dot sets, in points
    lr_width = sum(max(widths[n] for n in rank) for rank in ranks.values()) + ranksep * (len(ranks) - 1)
    tb_width = max(sum(widths[n] for n in rank) + nodesep * (len(rank) - 1) for rank in ranks.values())
    if lr_width <= 1.2 * PAGE_WIDTH_PT or lr_width <= tb_width:
        return "LR"
    return "TB"


def _topological(nodes: dict[str, Any], edges: list[tuple[str, str]]) -> list[str]:
    """The nodes in an order where every edge points forward (Kahn's algorithm, iterative)."""
    indegree = dict.fromkeys(nodes, 0)
    outs: dict[str, list[str]] = {n: [] for n in nodes}
    for a, b in edges:
        indegree[b] += 1
        outs[a].append(b)
    ready = [n for n, d in indegree.items() if d == 0]
    order = []
    while ready:
        n = ready.pop()
        order.append(n)
        for b in outs[n]:
            indegree[b] -= 1
            if indegree[b] == 0:
                ready.append(b)
    return order


def to_dot(
    root: Tensor,
    show_data: bool = True,
    show_grad: bool = True,
    rankdir: str | None = None,
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

    Names are text: an op or tensor name shows literally, whatever characters
    it holds (unprintable ones escaped, as ``repr`` writes them), and never
    becomes DOT or HTML markup. The same graph gives the same DOT text.

    Parameters
    ----------
    root : Tensor
    show_data, show_grad : bool
        Print values and gradients on the tensor nodes.
    rankdir : str or None
        Graphviz layout direction: "LR" (left to right), "TB" (top to bottom),
        "RL" or "BT". None (the default) picks LR when the graph fits about
        900 px of page that way, else the narrower of LR and TB.
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
    if rankdir not in (None, "LR", "RL", "TB", "BT"):
        raise ValueError(f"to_dot: rankdir must be None or one of LR, RL, TB, BT, got {rankdir!r}")
    nodes: dict[str, tuple[list[str], str]] = {}  # id -> (label lines, kind)
    edges: list[tuple[str, str]] = []
    ids: dict[tuple[str, int], str] = {}  # ("t" or "f", id(object)) -> "t0", "f0", ...
    counts = {"t": 0, "f": 0}
    alive: list[object] = []  # holds every object numbered, so that no id() is reused meanwhile

    def number(prefix: str, obj: object) -> str:
        """The node id of ``obj``: numbered in traversal order, so the same graph gives the same ids."""
        key = (prefix, id(obj))
        if key not in ids:
            ids[key] = f"{prefix}{counts[prefix]}"
            counts[prefix] += 1
            alive.append(obj)
        return ids[key]

    def add(node_id: str, lines: list[str], kind: str) -> None:
        if node_id not in nodes:
            nodes[node_id] = (lines, kind)
            if len(nodes) > max_nodes:
                raise ValueError(
                    f"to_dot: the graph has more than max_nodes={max_nodes} nodes; Graphviz would take "
                    "very long to lay it out. Pass a larger max_nodes, or draw a smaller part "
                    "(to_dot(an intermediate tensor))"
                )

    def tensor_id(t: Tensor, creator: Function | None) -> str:
        # a non-leaf is identified by its creator (one output per op), which also names it once freed
        return number("t", creator) if creator is not None else number("t", t)

    def add_input(x: Tensor, creator: Function | None) -> str:
        tid = tensor_id(x, creator)
        if creator is not x.creator:  # x was updated in place since fn read it
            what = f"output of {creator.name}" if creator is not None else "a constant"
            add(tid, [what, "(overwritten in place since)"], "freed")
        else:
            add(tid, _tensor_lines(x, show_data, show_grad), _kind(x, root))
        return tid

    add(tensor_id(root, root.creator), _tensor_lines(root, show_data, show_grad), "root")
    stack: list[Function] = [root.creator] if root.creator is not None else []
    seen: set[int] = set()
    chain: dict[str, str] = {}  # op and result nodes -> their chain of results, which Graphviz draws straight
    fresh = (f"g{i}" for i in itertools.count())
    while stack:
        fn = stack.pop()
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        op_id, out_id = number("f", fn), number("t", fn)
        add(op_id, [fn.name], "op")
        edges.append((op_id, out_id))
        if out_id not in chain:
            chain[out_id] = next(fresh)
        chain[op_id] = chain[out_id]
        inputs: list[tuple[str, Function | None]] = []  # (node id, the creator of the version read)
        if fn.inputs is not None:
            for x in fn.inputs:
                creator = creator_read_by(x, fn._recorded_at)  # the version fn read
                inputs.append((add_input(x, creator), creator))
        else:  # released by backward: the leaves, and the creators of the other inputs
            for item in getattr(fn, "_freed", ()):
                if isinstance(item, Tensor):  # a leaf: a parameter or a constant
                    tid = tensor_id(item, None)
                    add(tid, _tensor_lines(item, show_data, show_grad), _kind(item, root))
                    inputs.append((tid, None))
                else:  # an intermediate: drawn if someone still holds it, else a placeholder
                    ref, creator = item
                    held = ref()
                    tid = number("t", creator)
                    if held is not None:
                        add_input(held, creator)
                    else:
                        add(tid, [f"output of {creator.name}", "(freed by backward)"], "freed")
                    inputs.append((tid, creator))
        continued = False
        for tid, creator in inputs:
            edges.append((tid, op_id))
            if creator is not None:
                stack.append(creator)
                if tid not in chain:  # the first result read continues this op's chain
                    chain[tid] = next(fresh) if continued else chain[op_id]
                    continued = True

    if rankdir is None:
        rankdir = _choose_rankdir({n: _width(lines, kind) for n, (lines, kind) in nodes.items()}, edges)
    graphviz = _graphviz()
    dot = graphviz.Digraph(
        name=_title(root),
        graph_attr={"rankdir": rankdir, "fontname": "Helvetica", "nodesep": "0.2", "ranksep": "0.25"},
        node_attr={"fontname": "Helvetica", "fontsize": f"{_FONT_PT:g}"},
    )
    for node_id, (lines, kind) in nodes.items():
        dot.node(node_id, _label(lines), group=chain.get(node_id), **_STYLE[kind])
    for a, b in edges:
        dot.edge(a, b)
    return dot


def _target(filename: str | os.PathLike[str], format: str | None) -> tuple[str, str]:  # noqa: A002
    """The path to write and its format: the suffix names the format; with no suffix, ``format`` or svg."""
    path = os.fspath(filename)
    supported = ", ".join(FORMATS[:-1]) + " or " + FORMATS[-1]
    if format is not None and format not in FORMATS:
        raise ValueError(f"render_graph: format must be {supported}, got {format!r}")
    suffix = os.path.splitext(path)[1]
    if not suffix:
        fmt = format or "svg"
        return f"{path}.{fmt}", fmt
    named = suffix[1:].lower()
    if named not in FORMATS:
        raise ValueError(
            f"render_graph: cannot write {path!r}: its suffix {suffix!r} names no format render_graph "
            f"writes ({supported}); pass a name ending in .svg, .png or .pdf"
        )
    if format is not None and named != format:
        raise ValueError(
            f"render_graph: the suffix of {path!r} says {named} but format={format!r}; "
            "pass one of them, or make them agree"
        )
    return path, named


def render_graph(
    root: Tensor,
    filename: str | os.PathLike[str],
    format: str | None = None,  # noqa: A002
    **kwargs: Any,
) -> str:
    """Draw the graph of ``root`` to ``filename`` and return the path written.

    The suffix names the format (``.svg``, ``.png``, ``.pdf``). A name with no
    suffix gets ``format``'s (svg when ``format`` is None); a suffix that
    contradicts ``format``, or that names no supported format (``graph.gif``,
    ``graph.v2``), is a ``ValueError``. Keyword arguments go to :func:`to_dot`.
    Needs the Graphviz ``dot`` program; without it this raises
    :class:`GraphvizNotFoundError` saying how to install it
    (``to_dot(root).source`` still gives the DOT text).
    """
    path, fmt = _target(filename, format)
    if shutil.which("dot") is None:
        raise GraphvizNotFoundError(
            "render_graph needs the Graphviz 'dot' program, which is not on PATH. Install the "
            "system package 'graphviz' (apt-get install graphviz, dnf install graphviz, "
            "brew install graphviz, or conda install graphviz). Without it, "
            "to_dot(root).source still gives the DOT text."
        )
    data = to_dot(root, **kwargs).pipe(format=fmt)
    return atomic_write(path, lambda f: f.write(data))  # never a half-written picture
