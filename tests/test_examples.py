"""Every example script runs, saves its figure, and gives the book's numbers.

Expected values come from the book's printed output or from an independent
computation named next to each assertion.
"""

import os
import runpy
import shutil
from pathlib import Path

import numpy as np
import pytest

import microgradx as mgx

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def load(name):
    """The script's functions, without running its __main__ block."""
    return runpy.run_path(str(EXAMPLES / name), run_name="example")


def test_numerical_gradient_of_the_book(tmp_path, capsys):
    results = load("book/numerical_gradient.py")["main"](str(tmp_path / "field.png"))
    for point, want in {(3.0, 4.0): [6, 8], (0.0, 2.0): [0, 4], (3.0, 0.0): [6, 0]}.items():
        numeric, backprop = results[point]
        np.testing.assert_allclose(numeric, want, atol=1e-9)  # the book prints [6. 8.] etc.
        np.testing.assert_array_equal(backprop, want)  # 2x, exactly
    assert "[6. 8.]" in capsys.readouterr().out
    assert (tmp_path / "field.png").stat().st_size > 1000


def test_gradient_descent_from_minus_3_4(tmp_path, capsys):
    x, history = load("book/gradient_descent.py")["main"](str(tmp_path / "gd.png"))
    # each step multiplies x by (1 - 2 * 0.1): x_100 = 0.8**100 * (-3, 4); the book prints
    # [-6.11110793e-10  8.14814391e-10]
    np.testing.assert_allclose(x, 0.8**100 * np.array([-3.0, 4.0]), rtol=1e-9)
    assert "[-6.11110793e-10  8.14814391e-10]" in capsys.readouterr().out
    assert len(history) == 101


def test_tangent_line_slopes(tmp_path):
    slopes = load("book/tangent_line.py")["main"](str(tmp_path / "t.png"))
    assert slopes[5.0][0] == 0.1999999999990898  # the book's numerical_diff output, digit for digit
    assert slopes[10.0][0] == 0.2999999999986347
    assert slopes[10.0][1] == pytest.approx(0.3, rel=1e-15)  # d/dx = 0.02 x + 0.1


def test_quadratic_descent_reaches_two_thirds(tmp_path):
    x, y = load("book/quadratic_descent.py")["main"](str(tmp_path / "q.png"))
    # x <- -0.2 x - 0.4 converges to -1/3, where y = 3/9 - 2/3 + 1 = 2/3
    assert x == pytest.approx(-1 / 3, abs=1e-9) and y == pytest.approx(2 / 3, abs=1e-9)
    assert round(y, 3) == 0.667


def test_simple_net(tmp_path):
    dW, numeric, exact = load("book/simple_net.py")["main"](str(tmp_path / "s.png"))
    np.testing.assert_allclose(dW, numeric, rtol=1e-6, atol=1e-9)
    book = [[0.21924763, 0.14356247, -0.36281009], [0.32887144, 0.2153437, -0.54421514]]
    np.testing.assert_allclose(exact, book, atol=5e-9)  # see tests/ops/test_nn.py for the 1e-7 slip


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot could not be installed here")
def test_mlp_w21_update_and_its_graph(tmp_path, capsys):
    result = load("book/mlp_w21_update.py")["main"](str(tmp_path / "mlp.svg"))
    # hand-derived in tests/ops/test_nn.py: -(1 - y) y (1 - y) h1
    assert result["grad_w21"] == pytest.approx(-0.0035746767400618, rel=1e-12)
    assert result["new_w21"] == pytest.approx(2.0007149353480123, rel=1e-14)
    out = capsys.readouterr().out
    assert "2.0007149" in out and "1.9992" in out  # the correct step, and the source's slip named
    svg = (tmp_path / "mlp.svg").read_text()
    for name in ("w11", "w12", "b1", "w21", "w22", "b2", "h1", "h2"):
        assert f">{name}<" in svg, name


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot could not be installed here")
def test_engine_step_picture(tmp_path):
    result = load("engine_step.py")["main"](str(tmp_path / "step.svg"))
    np.testing.assert_array_equal(result["a"], [4.0, 5.0])  # b + 1, by hand
    np.testing.assert_array_equal(result["b"], [1.0, 2.0])  # a
    assert "grad [4, 5]" in (tmp_path / "step.svg").read_text()


def test_linear_regression_matches_least_squares(tmp_path):
    w, b, slope, intercept = load("book/linear_regression.py")["main"](str(tmp_path / "lr.png"))
    assert (w, b) == pytest.approx((slope, intercept), abs=1e-6)  # np.polyfit's closed form


def test_the_digits_demo_reaches_95_percent_and_writes_its_artefacts(tmp_path):
    result = load("demo.py")["main"](str(tmp_path), quiet=True)
    assert result["test_acc"] >= 0.95
    assert os.path.getsize(result["curve"]) > 10_000
    weights = mgx.load(result["weights"])
    assert list(weights) == ["layers.0.weight", "layers.0.bias", "layers.2.weight", "layers.2.bias"]
    if shutil.which("dot"):
        assert "matmul" in Path(result["graph"]).read_text()


def test_the_digits_demo_compiled_gives_the_eager_losses_and_accuracy_exactly(tmp_path):
    # mgx.compile replays the very NumPy calls of the eager step, in the same order, on the same
    # arrays (docs/compile.md), and the demo seeds its data split, weights and shuffling: the loss
    # curve and the accuracy must be the eager ones bit for bit, not merely close
    main = load("demo.py")["main"]
    eager = main(str(tmp_path / "eager"), epochs=2, quiet=True)
    compiled = main(str(tmp_path / "compiled"), epochs=2, quiet=True, compile=True)
    assert len(eager["history"]["loss"]) == 2
    assert compiled["history"]["loss"] == eager["history"]["loss"]
    assert compiled["history"]["test_acc"] == eager["history"]["test_acc"]
    assert compiled["test_acc"] == eager["test_acc"]
    # 45 batches an epoch, the last of 29 images: 2 signatures, 2 traces, 88 replays
    assert compiled["mode"] == "compiled (mgx.compile): 2 traces, 88 replays"
    assert eager["mode"] == "eager"
