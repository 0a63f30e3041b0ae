"""exp, log, sqrt, abs, tanh, sigmoid, relu, leaky_relu, clip against the oracle.

Kinked functions draw values at least 1e-3 from their kink, where the
central difference (h = 1e-4) is exact for a piecewise-linear function.
"""

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
