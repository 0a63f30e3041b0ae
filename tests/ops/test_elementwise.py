"""exp, log, sqrt, abs, tanh, sigmoid, relu, leaky_relu, clip against the oracle; the other
elementwise ops (sin ... hypot) at their special points, in both dtypes, and erf against math.erf.

Kinked functions draw values at least 1e-3 from their kink, where the
central difference (h = 1e-4) is exact for a piecewise-linear function.
"""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import microgradx as mgx
import microgradx.functional as F
from microgradx.testing import assert_gradients_match, tensors
from tests.strategies import away_from, floats, positive, seeds

UNARY = {
    "exp": (F.exp, floats(-5, 5)),
    "log": (F.log, positive),
    "sqrt": (F.sqrt, positive),
    "abs": (F.abs, away_from([0.0])),
    "tanh": (F.tanh, floats(-5, 5)),
    "sigmoid": (F.sigmoid, floats(-20, 20)),
    "relu": (F.relu, away_from([0.0])),
    "leaky_relu": (lambda t: F.leaky_relu(t, slope=0.2), away_from([0.0])),
    "clip": (lambda t: F.clip(t, -1.0, 2.0), away_from([-1.0, 2.0], -4, 4)),
    "clip_lo_only": (lambda t: F.clip(t, lo=0.5), away_from([0.5], -4, 4)),
    # the Tensor methods route to the same ops
    "method_exp": (lambda t: t.exp(), floats(-5, 5)),
    "method_log": (lambda t: t.log(), positive),
    "method_sqrt": (lambda t: t.sqrt(), positive),
    "method_abs": (lambda t: abs(t).abs(), away_from([0.0])),
    "method_tanh": (lambda t: t.tanh(), floats(-5, 5)),
    "method_sigmoid": (lambda t: t.sigmoid(), floats(-20, 20)),
    "method_relu": (lambda t: t.relu(), away_from([0.0])),
    "method_clip": (lambda t: t.clip(-1.0, 1.0), away_from([-1.0, 1.0], -3, 3)),
}

NUMPY_REFERENCE = {
    "exp": np.exp,
    "log": np.log,
    "sqrt": np.sqrt,
    "abs": np.abs,
    "tanh": np.tanh,
    "sigmoid": lambda x: 1 / (1 + np.exp(-x)),
    "relu": lambda x: np.maximum(x, 0),
    "leaky_relu": lambda x: np.where(x > 0, x, 0.2 * x),
    "clip": lambda x: np.clip(x, -1.0, 2.0),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@given(data=st.data())
def test_unary_op_matches_oracle(name, data):
    op, elements = UNARY[name]
    x = data.draw(tensors(elements=elements))
    assert_gradients_match(op, x, seed=data.draw(seeds))


@pytest.mark.parametrize("name", sorted(NUMPY_REFERENCE))
@given(data=st.data())
def test_unary_forward_matches_numpy(name, data):
    op, elements = UNARY[name]
    x = data.draw(tensors(elements=elements))
    np.testing.assert_allclose(op(mgx.tensor(x)).data, NUMPY_REFERENCE[name](x), rtol=1e-12, atol=1e-15)


def test_sigmoid_is_finite_and_silent_for_huge_inputs():
    x = mgx.tensor([-1000.0, -50.0, 0.0, 50.0, 1000.0], requires_grad=True)
    with np.errstate(all="raise"):  # any overflow would raise here
        y = F.sigmoid(x)
        y.sum().backward()
    assert np.all(np.isfinite(y.data)) and np.all(np.isfinite(x.grad.data))
    np.testing.assert_allclose(y.data[[0, 2, 4]], [0.0, 0.5, 1.0])


def test_kinks_use_pytorch_subgradients():
    x = mgx.tensor([0.0, 0.0, 0.0], requires_grad=True)
    (F.abs(x) + F.relu(x) + F.clip(x, 0.0, 1.0)).sum().backward()
    # abs'(0) = 0, relu'(0) = 0, clip'(x) = 1 on the closed interval [lo, hi]
    np.testing.assert_array_equal(x.grad.data, [1.0, 1.0, 1.0])


def test_clip_rejects_inverted_bounds():
    with pytest.raises(ValueError, match="lo=2.0 is greater than hi=1.0"):
        F.clip([0.0], 2.0, 1.0)


def test_relu_passes_the_gradient_at_nan_as_pytorch_does():
    # relu(nan) = nan; the mask is "not (relu(x) <= 0)", PyTorch's threshold_backward: 1 at nan
    x = mgx.tensor([np.nan, -1.0, 2.0], requires_grad=True)
    y = F.relu(x)
    assert np.isnan(y.data[0])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [1.0, 0.0, 1.0])


# --------------------------------------------------------------------------- #
# the vocabulary of issue 12: trigonometric, logarithms, powers, rounding, two-tensor functions
# (the op table walks each against the oracle, gradcheck and PyTorch; here: conventions, special
# points, dtypes and errors)
# --------------------------------------------------------------------------- #
NEW_UNARY = {
    "sin": np.sin,
    "cos": np.cos,
    "tan": np.tan,
    "arcsin": np.arcsin,
    "arccos": np.arccos,
    "arctan": np.arctan,
    "sinh": np.sinh,
    "cosh": np.cosh,
    "log1p": np.log1p,
    "expm1": np.expm1,
    "log2": np.log2,
    "log10": np.log10,
    "exp2": np.exp2,
    "square": np.square,
    "reciprocal": np.reciprocal,
    "sign": np.sign,
    "floor": np.floor,
    "ceil": np.ceil,
    "round": np.round,
}


@pytest.mark.parametrize("name", sorted(NEW_UNARY))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_new_unary_ops_keep_the_dtype_and_match_numpy(name, dtype):
    x = np.array([0.3, 0.7, 2.5], dtype=dtype) / (4 if name in ("arcsin", "arccos") else 1)
    t = mgx.tensor(x, requires_grad=True)
    for y in (getattr(F, name)(t), getattr(t, name)()):  # the function and the Tensor method
        assert y.dtype == dtype
        np.testing.assert_allclose(y.data, NEW_UNARY[name](x), rtol=1e-6 if dtype == np.float32 else 1e-15)
        y.sum().backward()
        assert t.grad.dtype == dtype
        t.grad = None


def test_erf_is_accurate_to_2_ulps_against_math_erf():
    from microgradx.ops.elementwise import _erf_array

    rng = np.random.default_rng(12)
    x = np.concatenate(
        [rng.uniform(-7, 7, 50_000), rng.normal(size=50_000), [0.0, -0.0, 1.0, -1.0, 6.0, 1e-300, 5.9]]
    )
    expected = np.array([math.erf(v) for v in x])  # the C library's erf, by way of Python
    ulps = np.abs(_erf_array(x) - expected) / np.spacing(np.abs(expected))
    assert ulps.max() <= 2
    special = _erf_array(np.array([np.inf, -np.inf, np.nan, 1e300, -1e300]))
    np.testing.assert_array_equal(special, [1.0, -1.0, np.nan, 1.0, -1.0])
    assert _erf_array(np.array(0.5)).shape == ()  # a 0-d array stays 0-d


@pytest.mark.parametrize("op", [F.maximum, F.minimum])
def test_maximum_and_minimum_split_ties_and_pass_nan_as_pytorch(op):
    a = mgx.tensor([1.0, 2.0, 3.0, np.nan], requires_grad=True)
    b = mgx.tensor([1.0, 3.0, 2.0, 1.0], requires_grad=True)
    op(a, b).backward(np.array([2.0, 2.0, 2.0, 2.0]))
    # by hand: a tie splits g = 2 into 1 and 1; the larger (or smaller) one takes all of it;
    # where a is NaN, both get g (PyTorch's masks: "not a < b" and "not a > b")
    wins_a = [1.0, 0.0, 2.0, 2.0] if op is F.maximum else [1.0, 2.0, 0.0, 2.0]
    wins_b = [1.0, 2.0, 0.0, 2.0] if op is F.maximum else [1.0, 0.0, 2.0, 2.0]
    np.testing.assert_array_equal(a.grad.data, wins_a)
    np.testing.assert_array_equal(b.grad.data, wins_b)
    torch = pytest.importorskip("torch")
    ta = torch.tensor([1.0, 2.0, 3.0, np.nan], dtype=torch.float64, requires_grad=True)
    tb = torch.tensor([1.0, 3.0, 2.0, 1.0], dtype=torch.float64, requires_grad=True)
    getattr(torch, op.__name__)(ta, tb).backward(torch.full((4,), 2.0, dtype=torch.float64))
    np.testing.assert_array_equal(a.grad.data, ta.grad.numpy())
    np.testing.assert_array_equal(b.grad.data, tb.grad.numpy())


def test_maximum_with_a_scalar_broadcasts_and_ties_split():
    x = mgx.tensor([[-1.0, 0.0, 2.0]], requires_grad=True)
    F.maximum(x, 0.0).sum().backward()  # relu, with PyTorch's tie: half the gradient at 0
    np.testing.assert_array_equal(x.grad.data, [[0.0, 0.5, 1.0]])


@pytest.mark.parametrize("name", ["sign", "floor", "ceil", "round"])
def test_piecewise_constant_ops_have_zero_gradient_also_at_their_jumps(name):
    x = mgx.tensor([-1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 2.5, 0.3], requires_grad=True)
    getattr(F, name)(x).backward(np.arange(1.0, 9.0))
    np.testing.assert_array_equal(x.grad.data, np.zeros(8))  # PyTorch: zeros as well


def test_round_halves_to_even_and_takes_decimals_as_numpy():
    np.testing.assert_array_equal(F.round([0.5, 1.5, 2.5, -0.5, -1.5]).data, [0.0, 2.0, 2.0, -0.0, -2.0])
    x = np.array([0.125, 1.005, -2.675, 123.456])
    np.testing.assert_array_equal(F.round(x, 2).data, np.round(x, 2))
    np.testing.assert_array_equal(mgx.tensor(x).round(decimals=-1).data, np.round(x, -1))
    with pytest.raises(TypeError, match=r"round: decimals must be an int, got 1\.5"):
        F.round(x, 1.5)


def test_sign_of_nan_is_nan_as_numpy():
    np.testing.assert_array_equal(F.sign([np.nan, -2.0, 0.0, 3.0]).data, [np.nan, -1.0, 0.0, 1.0])


def test_arctan2_gradient_does_not_underflow_or_overflow():
    # d/da arctan2(a, b) = b / (a**2 + b**2) = 1 / (2 a) at a = b: by hand
    for v in (1e-200, 1.0, 1e200):
        a, b = mgx.tensor(v, requires_grad=True), mgx.tensor(v, requires_grad=True)
        F.arctan2(a, b).backward()
        assert a.grad.item() == pytest.approx(1 / (2 * v), rel=1e-15)
        assert b.grad.item() == pytest.approx(-1 / (2 * v), rel=1e-15)
    a, b = mgx.tensor(0.0, requires_grad=True), mgx.tensor(0.0, requires_grad=True)
    F.arctan2(a, b).backward()  # the origin: 0, as PyTorch
    assert (a.grad.item(), b.grad.item()) == (0.0, 0.0)


def test_arctan2_takes_y_first_as_numpy():
    np.testing.assert_allclose(
        F.arctan2([1.0, 1.0, -1.0], [0.0, -1.0, -1.0]).data, [np.pi / 2, 3 * np.pi / 4, -3 * np.pi / 4]
    )


def test_hypot_is_finite_where_the_squares_overflow_and_nan_at_the_origin():
    a = mgx.tensor([3e200, 3.0, 0.0], requires_grad=True)
    b = mgx.tensor([4e200, 4.0, 0.0], requires_grad=True)
    y = F.hypot(a, b)
    np.testing.assert_allclose(y.data, [5e200, 5.0, 0.0], rtol=1e-15)
    with np.errstate(invalid="ignore"):
        y.sum().backward()
    np.testing.assert_allclose(a.grad.data[:2], [0.6, 0.6], rtol=1e-15)  # a / y, by hand
    np.testing.assert_allclose(b.grad.data[:2], [0.8, 0.8], rtol=1e-15)
    assert np.isnan(a.grad.data[2]) and np.isnan(b.grad.data[2])  # 0 / 0, as PyTorch


def test_arcsin_and_arccos_gradients_are_infinite_at_the_ends_as_pytorch():
    x = mgx.tensor([-1.0, 1.0], requires_grad=True)
    F.arcsin(x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [np.inf, np.inf])
    x.grad = None
    F.arccos(x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [-np.inf, -np.inf])


def test_log1p_and_expm1_keep_tiny_values():
    x = mgx.tensor([1e-20, -1e-300], requires_grad=True)
    np.testing.assert_array_equal(F.log1p(x).data, [1e-20, -1e-300])  # log(1 + x) would be 0
    np.testing.assert_array_equal(F.expm1(x).data, [1e-20, -1e-300])
    (F.log1p(x) + F.expm1(x)).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 2.0])


def test_reciprocal_of_integers_is_float():
    y = F.reciprocal(np.array([2, 4, -8]))
    assert y.dtype == np.float64
    np.testing.assert_array_equal(y.data, [0.5, 0.25, -0.125])
