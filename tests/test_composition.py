"""Transforms composed, for every op of tests/op_table.py: grad of grad of grad (third order)
against the central-difference oracle, and gradcheck(order=2).

Users nest transforms (a gradient penalty, a Hessian-vector product, grad(grad(f))), and the
first version returned 0 for grad(grad(f)) without a word. Each op's backward must itself be
differentiable, twice, through the public ``mgx.grad``.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import microgradx as mgx
from tests.op_table import TABLE
from tests.strategies import seeds

#: Up to this many elements the oracle differentiates every element; above, it checks the
#: projection <grad, u> against the directional derivative along two random directions u.
FULL = 8


def _scalar_chain(ex, i, rng):
    """f0(x) = sum(op(..x..) * w0); f1 = sum(grad f0 * w1); f2 = sum(grad f1 * w2), x = input i."""
    arrays = [np.array(a) for a in ex.arrays]
    out_shape = ex.fn(*[mgx.tensor(a) for a in arrays]).shape
    w0 = rng.uniform(-1, 1, out_shape)
    w1, w2 = (rng.uniform(-1, 1, arrays[i].shape) for _ in range(2))

    def f0(x):
        args = [mgx.tensor(a) for a in arrays]
        args[i] = x
        return (ex.fn(*args) * w0).sum()

    def f1(x):
        return (mgx.grad(f0)(x) * w1).sum()

    def f2(x):
        return (mgx.grad(f1)(x) * w2).sum()

    return f1, f2


def _check_against_oracle(f, x, rng, what):
    """grad(f)(x) against central differences of f (all elements, or two random projections)."""
    analytic = mgx.grad(f)(x)

    def value(a):
        return float(f(mgx.tensor(a)).item())

    if x.size <= FULL:
        expected = mgx.numerical_gradient(value, x.copy())
        np.testing.assert_allclose(analytic, expected, rtol=1e-4, atol=1e-5, err_msg=what)
        return
    h = 1e-4
    for _ in range(2):
        u = rng.standard_normal(x.shape)
        directional = (value(x + h * u) - value(x - h * u)) / (2 * h)
        np.testing.assert_allclose(np.sum(analytic * u), directional, rtol=1e-4, atol=1e-5, err_msg=what)


@pytest.mark.parametrize("name", sorted(TABLE))
@settings(max_examples=4)
@given(data=st.data())
def test_grad_of_grad_of_grad_matches_the_oracle(name, data):
    ex = data.draw(TABLE[name])
    floats = [k for k, a in enumerate(ex.arrays) if a.dtype.kind == "f"]
    i = data.draw(st.sampled_from(floats))
    rng = np.random.default_rng(data.draw(seeds))
    f1, f2 = _scalar_chain(ex, i, rng)
    x = np.array(ex.arrays[i], dtype=np.float64)
    _check_against_oracle(f1, x, rng, f"{name}: second order (grad of grad), input {i}")
    _check_against_oracle(f2, x, rng, f"{name}: third order (grad of grad of grad), input {i}")


@pytest.mark.parametrize("name", sorted(TABLE))
@settings(max_examples=4)
@given(data=st.data())
def test_every_op_passes_gradcheck_of_order_2(name, data):
    ex = data.draw(TABLE[name])
    assert mgx.gradcheck(ex.fn, *ex.arrays, order=2, seed=data.draw(seeds))
