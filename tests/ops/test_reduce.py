"""sum, mean, max, min over random axes, with and without keepdims, against the oracle."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import microgradx as mgx
from microgradx.testing import assert_gradients_match, tensors
from tests.strategies import floats, seeds


@st.composite
def axis_args(draw, ndim):
    """None, an int (maybe negative) or a tuple of axes, valid for ``ndim``."""
    choices = [st.none()]
    if ndim:
        choices += [st.integers(-ndim, ndim - 1), hnp.valid_tuple_axes(ndim, min_size=1)]
    return draw(st.one_of(*choices))


@pytest.mark.parametrize("name", ["sum", "mean", "max", "min"])
@given(data=st.data())
def test_reduction_matches_oracle(name, data):
    # values at least 1e-3 apart (> 2h) keep max/min away from ties, where the derivative is
    # a choice and the central difference straddles the kink
    x = data.draw(
        tensors(elements=floats(), shape=hnp.array_shapes(min_dims=0, max_dims=3, max_side=4)).filter(
            lambda a: a.size < 2 or np.diff(np.sort(a, axis=None)).min() > 1e-3
        )
    )
    axis = data.draw(axis_args(x.ndim))
    keepdims = data.draw(st.booleans())
    op = lambda t: getattr(t, name)(axis=axis, keepdims=keepdims)  # noqa: E731
    got = op(mgx.tensor(x)).data
    np.testing.assert_allclose(got, getattr(np, name)(x, axis=axis, keepdims=keepdims), rtol=1e-12)
    assert_gradients_match(op, x, seed=data.draw(seeds))


def test_max_shares_the_gradient_among_ties_like_torch_amax():
    x = mgx.tensor([[1.0, 3.0, 3.0], [2.0, 0.0, 2.0]], requires_grad=True)
    x.max(axis=1).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[0.0, 0.5, 0.5], [0.5, 0.0, 0.5]])


def test_bad_axis_names_the_axis_and_rank():
    x = mgx.tensor(np.ones((2, 3)))
    with pytest.raises(np.exceptions.AxisError, match="axis 2 is out of range.*2 dimensions"):
        x.sum(axis=2)
    with pytest.raises(ValueError, match="repeated axis"):
        x.mean(axis=(0, -2))
