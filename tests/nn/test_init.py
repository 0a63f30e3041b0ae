"""nn.init: fans, gains and the distributions' parameters (PyTorch's formulas, checked on large samples)."""

import math

import numpy as np
import pytest

import microgradx as mgx
from microgradx import nn
from microgradx.nn import init


def test_fans_follow_the_book_for_2d_and_pytorch_for_conv_weights():
    assert init.fans(mgx.tensor(np.zeros((784, 50)))) == (784, 50)  # x @ W: W is (in, out)
    assert init.fans(mgx.tensor(np.zeros((30, 3, 5, 5)))) == (75, 750)  # (out, in, kh, kw)
    with pytest.raises(ValueError, match=r"2 or more dimensions, got shape \(5,\)"):
        init.fans(mgx.tensor(np.zeros(5)))


def test_gains_match_torch():
    torch = pytest.importorskip("torch", reason="PyTorch not installed: run TORCH_ORACLE=1 make test")
    for nl, param in [
        ("linear", None),
        ("sigmoid", None),
        ("tanh", None),
        ("relu", None),
        ("leaky_relu", 0.2),
    ]:
        assert init.calculate_gain(nl, param) == pytest.approx(torch.nn.init.calculate_gain(nl, param))
    with pytest.raises(ValueError, match="unknown nonlinearity 'gelu'"):
        init.calculate_gain("gelu")


@pytest.mark.parametrize(
    "fill, expected_std",
    [
        (lambda t: init.xavier_normal_(t), math.sqrt(2 / (400 + 200))),
        (lambda t: init.xavier_uniform_(t, gain=2.0), 2 * math.sqrt(6 / 600) / math.sqrt(3)),
        (lambda t: init.kaiming_normal_(t), math.sqrt(2 / 400)),  # the book's He
        (lambda t: init.kaiming_normal_(t, nonlinearity="linear"), math.sqrt(1 / 400)),  # the book's Xavier
        (lambda t: init.kaiming_uniform_(t, mode="fan_out"), math.sqrt(2 / 200)),
        (lambda t: init.normal_(t, mean=1.0, std=0.01), 0.01),
        (lambda t: init.uniform_(t, -1.0, 3.0), 4 / math.sqrt(12)),
    ],
)
def test_random_fills_have_the_formula_std(fill, expected_std):
    mgx.manual_seed(0)
    t = mgx.tensor(np.zeros((400, 200)), requires_grad=True)
    assert fill(t) is t
    # 80 000 samples: the sample std is within 1% of the true one (its relative error is ~0.25%)
    assert t.data.std() == pytest.approx(expected_std, rel=0.01)
    mgx.manual_seed(0)
    again = mgx.tensor(np.zeros((400, 200)))
    fill(again)
    np.testing.assert_array_equal(again.data, t.data)  # seeded: reproducible


def test_fills_keep_dtype_bump_the_version_and_refuse_integers():
    w = mgx.tensor(np.ones((2, 2), dtype=np.float32), requires_grad=True)
    loss = (w * w).sum()
    init.constant_(w, 0.5)
    assert w.dtype == np.float32 and w.data.tolist() == [[0.5, 0.5], [0.5, 0.5]]
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        loss.backward()
    init.zeros_(w)
    assert not w.data.any()
    init.ones_(w)
    assert w.data.all()
    with pytest.raises(TypeError, match="expected a float tensor, got dtype int64"):
        init.normal_(mgx.tensor([1, 2]))
    with pytest.raises(ValueError, match="mode must be 'fan_in' or 'fan_out', got 'in'"):
        init.kaiming_normal_(nn.Linear(2, 2).weight, mode="in")
