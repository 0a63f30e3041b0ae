"""matmul (1-D, 2-D and batched, with broadcast batch axes) and linear, against the oracle."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import microgradx as mgx
import microgradx.functional as F
from microgradx.testing import assert_gradients_match, tensors
from tests.strategies import matmul_shapes, seeds

side = st.integers(1, 4)


@given(data=st.data())
def test_matmul_matches_oracle_and_numpy(data):
    sa, sb = data.draw(matmul_shapes())
    a, b = data.draw(tensors(sa)), data.draw(tensors(sb))
    np.testing.assert_allclose((mgx.tensor(a) @ mgx.tensor(b)).data, a @ b, rtol=1e-12, atol=1e-12)
    assert_gradients_match(lambda x, y: x @ y, a, b, seed=data.draw(seeds))
    assert_gradients_match(F.matmul, a, b, seed=data.draw(seeds))


@given(data=st.data())
def test_linear_matches_oracle(data):
    n, i, o = data.draw(side), data.draw(side), data.draw(side)
    x, W, b = data.draw(tensors((n, i))), data.draw(tensors((i, o))), data.draw(tensors((o,)))
    np.testing.assert_allclose(F.linear(x, W, b).data, x @ W + b)
    assert_gradients_match(F.linear, x, W, b, seed=data.draw(seeds))


def test_matmul_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"matmul: shapes \(2, 3\) and \(4, 5\) are not aligned: 3 .* != 4"):
        mgx.tensor(np.ones((2, 3))) @ mgx.tensor(np.ones((4, 5)))
    with pytest.raises(ValueError, match=r"at least one dimension, got shapes \(\) and \(3,\)"):
        mgx.tensor(2.0) @ mgx.tensor(np.ones(3))
    with pytest.raises(ValueError, match=r"batch dimensions of shapes \(2, 1, 3\) and \(3, 3, 1\)"):
        mgx.tensor(np.ones((2, 1, 3))) @ mgx.tensor(np.ones((3, 3, 1)))
