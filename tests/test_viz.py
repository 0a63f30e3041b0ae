"""Graph pictures: DOT structure, labels, styles, rendering with dot, and the clear errors."""

import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

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
