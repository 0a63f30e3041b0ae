"""Graph pictures: DOT structure, labels, styles, rendering with dot, and the clear errors."""

import inspect
import re
import runpy
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import microgradx as mgx
import microgradx.functional as F

pytest.importorskip("graphviz", reason="the graphviz Python package is the 'viz' extra")


def parse(dot):
    """(nodes {id: attribute text}, edges [(a, b)]) from DOT source."""
    src = dot.source
    nodes = dict(re.findall(r"^\t(\w+) \[(.*?)\]$", src, re.M | re.S))
    nodes.pop("graph", None), nodes.pop("node", None)  # attribute statements, not nodes
    edges = re.findall(r"^\t(\w+) -> (\w+)$", src, re.M)
    return nodes, edges


def label(attrs):
    return re.search(r'label="?(.*?)"? (?:color|fillcolor|shape|fontname)', attrs, re.S).group(1)


def small_graph():
    a = mgx.tensor([1.0, 2.0], requires_grad=True, name="a")
    b = mgx.tensor([3.0, 4.0], requires_grad=True, name="b")
    c = mgx.tensor(0.5, name="c")
    y = (a * b + c).sum()
    return a, b, c, y


def test_one_node_per_tensor_and_op_and_edges_follow_the_data():
    a, b, c, y = small_graph()
    nodes, edges = parse(mgx.to_dot(y))
    ops = [n for n, attrs in nodes.items() if "ellipse" in attrs]
    assert len(nodes) == 6 + 3  # tensors a, b, c, a*b, a*b+c, y; ops mul, add, sum
    assert sorted(label(nodes[n]) for n in ops) == ["add", "mul", "sum"]
    assert len(edges) == (2 + 1) + (2 + 1) + (1 + 1)  # each op: its inputs in, its output out
    by_label = {label(attrs).split("\\n")[0]: n for n, attrs in nodes.items()}
    mul = next(n for n in ops if label(nodes[n]) == "mul")
    assert (by_label["a"], mul) in edges and (by_label["b"], mul) in edges  # tensor -> op


def test_labels_show_names_values_and_grads_only_when_asked():
    a, b, c, y = small_graph()
    src = mgx.to_dot(y).source
    assert "data [1, 2]" in src and "grad" not in src  # no grads before backward
    y.backward(retain_graph=True)
    src = mgx.to_dot(y).source
    assert "grad [3, 4]" in src and "grad [1, 2]" in src  # dy/da = b, dy/db = a
    bare = mgx.to_dot(y, show_data=False, show_grad=False).source
    assert "data" not in bare and "grad" not in bare and "a\\n(2,) float64" in bare


def test_large_tensors_show_min_and_max_instead_of_values():
    w = mgx.tensor(np.arange(12.0).reshape(3, 4), requires_grad=True, name="w")
    src = mgx.to_dot((w * 2).sum()).source
    assert "w\\n(3, 4) float64\\ndata min 0, max 11" in src


def test_parameters_constants_intermediates_and_root_look_different():
    a, b, c, y = small_graph()
    nodes, _ = parse(mgx.to_dot(y))
    style = {
        label(attrs).split("\\n")[0]: re.search(r'style="?([\w,]+)', attrs).group(1)
        for attrs in nodes.values()
    }
    assert style["a"] == "rounded,filled"  # parameter
    assert style["c"] == "rounded,dashed"  # constant
    assert style["(2,) float64"] == "rounded"  # intermediates
    assert style["() float64"] == "rounded,filled,bold"  # root


def test_after_backward_freed_intermediates_are_placeholders_and_parameters_keep_grads():
    a, b, c, y = small_graph()
    y.backward()  # frees the graph's tensors, keeps its structure
    nodes, edges = parse(mgx.to_dot(y))
    assert len(nodes) == 9 and len(edges) == 8
    src = mgx.to_dot(y).source
    assert src.count("freed by backward") == 2  # a*b and a*b+c
    assert "grad [3, 4]" in src


def test_an_in_place_update_draws_the_version_each_op_read():
    # Regression: the picture followed c's new creator from ops that read its old value (a loop).
    a = mgx.tensor([1.0, 2.0], requires_grad=True, name="a")
    c = a * 2
    c.name = "c"
    y = c.exp()
    c += c + 1
    nodes, edges = parse(mgx.to_dot((c * y).sum()))
    ops = {n: label(attrs) for n, attrs in nodes.items() if "ellipse" in attrs}
    assert sorted(ops.values()) == ["add", "add", "exp", "mul", "mul", "sum"]
    old = next(n for n, attrs in nodes.items() if "overwritten in place since" in attrs)
    readers = sorted(ops[b] for a_, b in edges if a_ == old)
    assert readers == ["add", "add", "exp"]  # c + 1, the += itself and exp read the old c
    new = next(n for n, attrs in nodes.items() if label(attrs).startswith("c\\n"))
    assert [ops[a_] for a_, b in edges if b == new] == ["add"]  # the new c is the +='s output
    graph = {}
    for a_, b in edges:
        graph.setdefault(a_, []).append(b)

    def reaches(start, goal, seen=()):
        nexts = graph.get(start, [])
        return any(n == goal or (n not in seen and reaches(n, goal, seen + (n,))) for n in nexts)

    assert not any(reaches(n, n) for n in graph)  # no cycle


def test_a_create_graph_gradient_graph_renders():
    x = mgx.tensor(2.0, requires_grad=True, name="x")
    (x**3).backward(create_graph=True)
    nodes, _ = parse(mgx.to_dot(x.grad))
    ops = sorted(label(attrs) for attrs in nodes.values() if "ellipse" in attrs)
    assert "pow" in ops and "mul" in ops  # 3 * x**2 built from differentiable ops


def test_max_nodes_refuses_huge_graphs_with_a_clear_message():
    y = mgx.tensor(1.0, requires_grad=True)
    for _ in range(10_000):
        y = y * 1.0
    with pytest.raises(ValueError, match="more than max_nodes=500 nodes"):
        mgx.to_dot(y)
    # 10,000 ops, their 10,000 outputs, 10,000 constants 1.0 and the leaf
    assert len(parse(mgx.to_dot(y, max_nodes=50_000))[0]) == 30_001


def test_bad_arguments():
    with pytest.raises(TypeError, match="expected a Tensor"):
        mgx.to_dot(np.ones(2))
    with pytest.raises(ValueError, match="rankdir"):
        mgx.to_dot(mgx.tensor(1.0), rankdir="XY")
    with pytest.raises(ValueError, match="svg, png or pdf"):
        mgx.render_graph(mgx.tensor(1.0), "x", format="gif")


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot could not be installed here")
@pytest.mark.parametrize("fmt", ["svg", "png", "pdf"])
def test_render_graph_writes_the_file(tmp_path, fmt):
    W = mgx.tensor(np.ones((2, 3)), requires_grad=True, name="W")
    loss = F.cross_entropy(mgx.tensor([[1.0, 2.0]]) @ W, [1])
    loss.backward()
    path = mgx.render_graph(loss, tmp_path / "graph", format=fmt)
    assert path == str(tmp_path / f"graph.{fmt}")
    head = open(path, "rb").read(8)
    assert head.startswith({"svg": b"<?xml", "png": b"\x89PNG", "pdf": b"%PDF"}[fmt])
    if fmt == "svg":
        svg = open(path).read()
        assert "matmul" in svg and "cross_entropy" in svg and "W" in svg


def test_missing_dot_is_a_clear_error_that_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", "")
    with pytest.raises(mgx.GraphvizNotFoundError, match=r"apt-get install graphviz.*to_dot\(root\)\.source"):
        mgx.render_graph(mgx.tensor(1.0), tmp_path / "g")
    assert "digraph" in mgx.to_dot(mgx.tensor(1.0)).source  # the DOT text still works


def test_importing_microgradx_does_not_import_graphviz():
    code = "import sys, microgradx; print('graphviz' in sys.modules)"
    assert (
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"
    )


def test_the_digraph_displays_itself_in_a_notebook():
    dot = mgx.to_dot(small_graph()[3])
    assert hasattr(dot, "_repr_mimebundle_")  # what Jupyter calls to show it inline


# --------------------------------------------------------------------------- #
# Issue 11, pictures: names are text, the suffix is the format, the pictures
# read at page width, and the same graph gives the same bytes.
# --------------------------------------------------------------------------- #
ROOT = Path(__file__).resolve().parent.parent
SVG = "{http://www.w3.org/2000/svg}"
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot could not be installed here")

#: names a user can give that DOT or Graphviz's HTML labels would read as markup
HOSTILE = [
    '<<TABLE><TR><TD HREF="javascript:alert(1)">x</TD></TR></TABLE>>',
    '<<IMG SRC="/etc/passwd"/>>',
    "<B>bold</B>",
    "nul\x00here",
    "esc\x1b[31m bel\x07",
    "\\N",
    "\\n\\l\\r",
    "trailing\\",
    'quote"d',
    "&amp; &lt; &#60; &a;",
    "line\nbreak\ttab",
    "\ufffe\uffff \ud800 \u202eevil",
]


def shown(name):
    """How the picture must show a name: printable characters as they are, the others as repr writes them."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in name)


def named_graph(op_name, leaf_name, mid_name, root_name):
    x = mgx.tensor([1.0, 2.0], requires_grad=True, name=leaf_name)
    h = x * 2
    h.creator.name = op_name  # a user's own Function can be called anything
    h.name = mid_name
    y = h.sum()
    y.name = root_name
    return y


def decode_labels(source):
    """Every node's label as the lines Graphviz will show, refusing anything Graphviz would interpret.

    A label must be a DOT ID or a quoted string (never <...>, an HTML label) whose only
    escapes are \\\\, \\" and the line break \\n, with & written &amp; (Graphviz
    decodes entities) and no unprintable character.
    """
    assert "label=<" not in source, "an HTML label: its text would be markup"
    labels = []
    for quoted, bare in re.findall(r'label=(?:"((?:[^"\\]|\\.)*)"|([\w.-]+))', source, re.S):
        raw = quoted or bare  # a plain DOT ID (0, abc) needs no quotes
        lines, line, i = [], [], 0
        while i < len(raw):
            c = raw[i]
            if c == "\\":
                nxt = raw[i + 1]
                assert nxt in 'n\\"', f"Graphviz would interpret \\{nxt} in {raw!r}"
                if nxt == "n":
                    lines.append("".join(line))
                    line = []
                else:
                    line.append(nxt)
                i += 2
            elif c == "&":
                assert raw.startswith("&amp;", i), f"Graphviz would decode an entity in {raw!r}"
                line.append("&")
                i += 5
            else:
                assert c.isprintable(), f"unprintable {c!r} in {raw!r}"
                line.append(c)
                i += 1
        lines.append("".join(line))
        labels.append(lines)
    return labels


def svg_of(dot):
    return dot.pipe(format="svg").decode("utf-8")


def parse_svg(svg):
    """The SVG as XML (raises if it is not), its elements' tags, and all its text run together."""
    root = ET.fromstring(svg.encode("utf-8"))
    tags = {e.tag.removeprefix(SVG) for e in root.iter()}
    text = "".join(e.text or "" for e in root.iter(SVG + "text"))
    return root, tags, text


def squeeze(s):
    return "".join(s.split())


@pytest.mark.parametrize("name", HOSTILE, ids=range(len(HOSTILE)))
def test_names_are_plain_text_in_the_dot_source(name):
    y = named_graph(name, name, name, name)
    labels = decode_labels(mgx.to_dot(y).source)
    joined = ["".join(lines) for lines in labels]  # long lines are wrapped, never changed
    assert sum(shown(name) in text for text in joined) == 4  # op, leaf, intermediate and root


@needs_dot
@pytest.mark.parametrize("name", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_names_render_literally_with_no_links_or_images(name):
    y = named_graph(name, name, name, name)
    svg = svg_of(mgx.to_dot(y))  # a NUL used to make dot fail (CalledProcessError)
    _, tags, text = parse_svg(svg)  # ESC and BEL used to make the SVG invalid XML
    assert not tags & {"a", "image"}  # HREF gave <a xlink:href="javascript:...">, IMG gave <image>
    assert squeeze(text).count(squeeze(shown(name))) >= 4


names = st.text(st.characters(exclude_categories=()), max_size=40)  # all of Unicode, surrogates too


@given(op=names, leaf=names, mid=names, root=names)
def test_any_name_round_trips_through_the_dot_label(op, leaf, mid, root):
    labels = decode_labels(mgx.to_dot(named_graph(op, leaf, mid, root)).source)
    joined = ["".join(lines) for lines in labels]
    for name in (op, leaf, mid, root):
        assert any(shown(name) in text for text in joined), name


@needs_dot
@given(op=names, leaf=names, mid=names, root=names)
def test_any_name_gives_dot_that_renders_and_svg_that_parses_with_no_links(op, leaf, mid, root):
    dot = mgx.to_dot(named_graph(op, leaf, mid, root))
    done = subprocess.run(["dot", "-Tsvg"], input=dot.source.encode("utf-8"), capture_output=True)
    assert done.returncode == 0 and b"Error" not in done.stderr, done.stderr
    _, tags, text = parse_svg(done.stdout.decode("utf-8"))
    assert not tags & {"a", "image"}
    for name in (op, leaf, mid, root):
        assert squeeze(shown(name)) in squeeze(text), name


@needs_dot
@pytest.mark.parametrize(
    ("filename", "fmt", "written"),
    [
        ("graph.png", None, "graph.png"),
        ("x.pdf", None, "x.pdf"),
        ("g.svg", None, "g.svg"),
        ("LOUD.SVG", None, "LOUD.SVG"),
        ("g.png", "png", "g.png"),
        ("graph", None, "graph.svg"),
        ("graph", "pdf", "graph.pdf"),
    ],
)
def test_render_graph_writes_the_format_the_suffix_names(tmp_path, filename, fmt, written):
    path = mgx.render_graph(small_graph()[3], tmp_path / filename, format=fmt)
    assert path == str(tmp_path / written)
    assert sorted(p.name for p in tmp_path.iterdir()) == [written]  # no graph.png.svg
    magic = {"svg": b"<?xml", "png": b"\x89PNG", "pdf": b"%PDF"}[written.rsplit(".", 1)[1].lower()]
    assert Path(path).read_bytes().startswith(magic)


@pytest.mark.parametrize(
    ("filename", "fmt", "message"),
    [
        ("g.gif", None, r"suffix '\.gif' names no format.*svg, png or pdf.*ending in \.svg, \.png or \.pdf"),
        ("g.txt", None, r"suffix '\.txt'"),
        ("graph.v2", None, r"suffix '\.v2'"),
        ("graph.v2", "svg", r"suffix '\.v2'"),
        ("g.png", "svg", r"suffix of '.*g\.png' says png but format='svg'"),
        ("g.svg", "pdf", r"says svg but format='pdf'"),
        ("g", "gif", r"format must be svg, png or pdf, got 'gif'"),
    ],
)
def test_render_graph_refuses_a_suffix_or_format_it_cannot_honour(tmp_path, filename, fmt, message):
    with pytest.raises(ValueError, match=message):
        mgx.render_graph(small_graph()[3], tmp_path / filename, format=fmt)
    assert list(tmp_path.iterdir()) == []


def mlp_2_2_1():
    E = load_example("book/mlp_w21_update.py")["build"]()[2]["E"]
    E.backward(retain_graph=True)
    return E


def long_chain(n=30):
    y = mgx.tensor(0.5, requires_grad=True, name="x")
    for _ in range(n):
        y = (y * 1.1).tanh()
    y.backward(retain_graph=True)
    return y


def wide_stack(n=20):
    xs = [mgx.tensor(float(i), requires_grad=True, name=f"x{i}") for i in range(n)]
    y = F.stack([x * x for x in xs]).sum()
    y.backward(retain_graph=True)
    return y


def wide_sum(n=20):
    y = mgx.tensor(0.0, requires_grad=True, name="x0")
    for i in range(1, n):
        y = y + mgx.tensor(float(i), requires_grad=True, name=f"x{i}")
    y.backward(retain_graph=True)
    return y


def load_example(name):
    return runpy.run_path(str(ROOT / "examples" / name), run_name="example")


def smallest_label_px_at_900(svg):
    """The smallest text's height in px when the picture is shown at most 900 px wide.

    Graphviz writes width="...pt" and font sizes in the same points (1 pt =
    4/3 px); a page shows a narrower picture at its natural size and scales a
    wider one down to 900 px.
    """
    root, _, _ = parse_svg(svg)
    width_px = float(root.get("width").removesuffix("pt")) * 4 / 3
    smallest = min(float(t.get("font-size")) for t in root.iter(SVG + "text")) * 4 / 3
    return smallest * min(1.0, 900 / width_px)


def test_rankdir_none_lays_a_short_graph_left_to_right_and_a_long_one_top_to_bottom():
    def direction(y, **kw):
        return re.search(r"rankdir=(\w+)", mgx.to_dot(y, **kw).source).group(1)

    assert direction(small_graph()[3]) == "LR"  # short
    assert direction(mlp_2_2_1()) == "TB"  # 12 ops deep: 8:1 left to right
    assert direction(long_chain()) == "TB"
    assert direction(wide_sum()) == "TB"
    assert direction(wide_stack()) == "LR"  # 20 side by side: narrower left to right
    assert direction(mlp_2_2_1(), rankdir="LR") == "LR"  # an explicit direction is kept


@needs_dot
@pytest.mark.parametrize("image", ["engine_step.svg", "mlp_2_2_1.svg"])
def test_the_committed_pictures_read_at_900_px(image):
    svg = (ROOT / "docs" / "images" / image).read_text(encoding="utf-8")
    assert smallest_label_px_at_900(svg) >= 8  # mlp_2_2_1.svg was 2387 pt wide: 4.2 px
    assert parse_svg(svg)[0].find(f"{SVG}g/{SVG}title").text.startswith("computation graph")  # was %3


def demo_step(out_dir):
    pytest.importorskip("matplotlib"), pytest.importorskip("tqdm")  # demo.py's own imports
    from microgradx import nn

    mgx.manual_seed(0)
    X = np.random.default_rng(0).uniform(0, 16, (8, 64))  # like the 8x8 digits
    draw_step = load_example("demo.py")["draw_step"]
    return draw_step(nn.MLP([64, 128, 10], activation="relu"), X, np.arange(8) % 10, str(out_dir))


@needs_dot
@pytest.mark.parametrize(
    "graph", ["engine_step", "mlp_2_2_1", "demo_step", "chain", "wide_stack", "wide_sum"]
)
def test_example_graphs_read_at_900_px(tmp_path, graph):
    out = str(tmp_path / "g.svg")
    if graph == "engine_step":
        path = load_example("engine_step.py")["main"](out)["path"]
    elif graph == "mlp_2_2_1":
        path = load_example("book/mlp_w21_update.py")["main"](out)["path"]
    elif graph == "demo_step":
        path = demo_step(tmp_path)
    else:
        path = mgx.render_graph(
            {"chain": long_chain, "wide_stack": wide_stack, "wide_sum": wide_sum}[graph](), out
        )
    assert smallest_label_px_at_900(Path(path).read_text(encoding="utf-8")) >= 8


@needs_dot
def test_the_svg_title_names_the_graph_not_percent_3():
    title = parse_svg(svg_of(mgx.to_dot(mlp_2_2_1())))[0].find(f"{SVG}g/{SVG}title").text
    assert title == "computation graph of E"
    hostile = named_graph("op", "x", "h", "&a; <b>\\")
    assert parse_svg(svg_of(mgx.to_dot(hostile)))[0].find(f"{SVG}g/{SVG}title").text == "computation graph"


def test_the_same_graph_gives_the_same_dot_text():
    first, second = mlp_2_2_1(), mlp_2_2_1()  # both alive: their objects' id()s differ
    assert mgx.to_dot(first).source == mgx.to_dot(second).source
    nodes, _ = parse(mgx.to_dot(first))
    assert sorted(nodes, key=lambda n: (n[0], int(n[1:])))[:2] == ["f0", "f1"]  # numbered, not id()s
    assert "t0" in nodes and not any(len(n) > 4 for n in nodes)


@needs_dot
@pytest.mark.parametrize("script", ["engine_step.py", "book/mlp_w21_update.py"])
def test_running_an_example_twice_writes_the_same_bytes(tmp_path, script):
    for name in ("first.svg", "second.svg"):  # two processes: nothing shared but the code
        subprocess.run(
            [sys.executable, str(ROOT / "examples" / script), str(tmp_path / name)],
            check=True,
            capture_output=True,
            cwd=tmp_path,
        )
    assert (tmp_path / "first.svg").read_bytes() == (tmp_path / "second.svg").read_bytes()


@pytest.mark.parametrize("script", ["engine_step.py", "book/mlp_w21_update.py"])
def test_examples_write_into_examples_out_unless_told_otherwise(script):
    (default,) = (inspect.signature(load_example(script)["main"]).parameters["out"].default,)
    assert Path(default).parent == ROOT / "examples" / "out"  # never docs/images on their own


@needs_dot
@pytest.mark.parametrize(
    ("image", "script"), [("engine_step.svg", "engine_step.py"), ("mlp_2_2_1.svg", "book/mlp_w21_update.py")]
)
def test_the_committed_pictures_are_what_make_images_draws(tmp_path, image, script):
    """docs/images holds what the documented command draws: the same nodes, edges, words and direction.

    Coordinates are left out: they move with the Graphviz version and the fonts
    installed. (Same machine, same bytes: test_running_an_example_twice_writes_the_same_bytes.)
    """

    def drawn(svg):
        root = parse_svg(svg)[0]
        width, height = (float(root.get(k).removesuffix("pt")) for k in ("width", "height"))
        parts = [
            (g.get("class"), g.findtext(SVG + "title"), [t.text for t in g.iter(SVG + "text")])
            for g in root.iter(SVG + "g")
        ]
        return width > height, parts

    committed = (ROOT / "docs" / "images" / image).read_text(encoding="utf-8")
    fresh = Path(load_example(script)["main"](str(tmp_path / image))["path"]).read_text(encoding="utf-8")
    assert drawn(fresh) == drawn(committed), "run `make images`"
