"""The example scripts run and print the book's numbers."""

import runpy
import shutil
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run_example(name, *args, capsys):
    old = sys.argv
    sys.argv = [name, *map(str, args)]
    try:
        runpy.run_path(str(EXAMPLES / name), run_name="__main__")
    finally:
        sys.argv = old
    return capsys.readouterr().out


def test_demo_loss_falls(capsys):
    out = run_example("demo.py", capsys=capsys)
    losses = [float(line.split()[-1]) for line in out.splitlines() if line.startswith("epoch")]
    assert len(losses) == 11 and losses[-1] < losses[0] / 10


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot could not be installed here")
def test_mlp_graph_renders_the_worked_example(tmp_path, capsys):
    out = run_example("mlp_graph.py", tmp_path / "mlp.svg", capsys=capsys)
    # dE/dw21 = -0.0035747 and w21 - 0.2 * dE/dw21 = 2.0007149 (hand-derived in tests/ops/test_nn.py)
    assert "dE/dw21 = -0.0035747" in out and "2.0007149" in out
    svg = (tmp_path / "mlp.svg").read_text()
    for name in ("w11", "w12", "b1", "w21", "w22", "b2", "h1", "h2", "sigmoid"):
        assert f">{name}<" in svg or f">{name}" in svg, name
