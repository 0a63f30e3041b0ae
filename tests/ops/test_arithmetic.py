"""+ - * / ** and negation: property tests against the central-difference oracle.

Every test draws broadcast-compatible shapes (scalars included) and checks
d/d(inputs) of sum(op(inputs) * g), g random, against numerical_gradient.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import microgradx as mgx
from microgradx.testing import assert_gradients_match, broadcastable_shapes, tensors
from tests.strategies import floats, nonzero, positive, seeds

BINARY = {
    "add": (lambda a, b: a + b, floats(), floats()),
    "sub": (lambda a, b: a - b, floats(), floats()),
    "mul": (lambda a, b: a * b, floats(), floats()),
    "div": (lambda a, b: a / b, floats(), nonzero),
    "pow": (lambda a, b: a**b, floats(0.5, 3.0), floats(-2.0, 2.0)),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@given(data=st.data())
def test_binary_op_matches_oracle_with_broadcasting(name, data):
    op, ea, eb = BINARY[name]
    sa, sb = data.draw(broadcastable_shapes())
    a = data.draw(tensors(sa, elements=ea))
    b = data.draw(tensors(sb, elements=eb))
    assert_gradients_match(op, a, b, seed=data.draw(seeds))


@given(data=st.data())
def test_neg_matches_oracle(data):
    x = data.draw(tensors())
    assert_gradients_match(lambda t: -t, x, seed=data.draw(seeds))


@pytest.mark.parametrize("c", [2, 3, -1, 0.5, -1.5, 0])
@given(data=st.data())
def test_pow_scalar_exponent_matches_oracle(c, data):
    elements = positive if isinstance(c, float) or c < 0 else floats(-3, 3)
    x = data.draw(tensors(elements=elements))
    assert_gradients_match(lambda t: t**c, x, seed=data.draw(seeds))


RIGHT_HAND = {
    "radd": lambda t: 2.5 + t,
    "rsub": lambda t: 2.5 - t,
    "rmul": lambda t: 2.5 * t,
    "rdiv": lambda t: 2.5 / t,
    "rpow": lambda t: 2.5**t,
    "ndarray_lhs": lambda t: np.full(t.shape, 1.5) * t + np.ones(t.shape) / t,
}


@pytest.mark.parametrize("name", sorted(RIGHT_HAND))
@given(data=st.data())
def test_right_hand_forms_match_oracle(name, data):
    x = data.draw(tensors(elements=nonzero))
    assert_gradients_match(RIGHT_HAND[name], x, seed=data.draw(seeds))


@given(x=tensors(elements=nonzero))
def test_ndarray_on_the_left_returns_a_tensor(x):
    t = mgx.tensor(x, requires_grad=True)
    for out, want in [(x + t, x + x), (x - t, x - x), (x * t, x * x), (x / t, x / x)]:
        assert isinstance(out, mgx.Tensor) and out.requires_grad
        np.testing.assert_allclose(out.data, want)


def test_forward_values_match_numpy():
    a = np.array([[1.0, -2.0, 3.0]])
    b = np.array([[0.5], [2.0]])
    ta, tb = mgx.tensor(a), mgx.tensor(b)
    for got, want in [
        (ta + tb, a + b),
        (ta - tb, a - b),
        (ta * tb, a * b),
        (ta / tb, a / b),
        (tb**ta, b**a),
        (-ta, -a),
        (ta**2, a**2),
    ]:
        np.testing.assert_allclose(got.data, want, rtol=0, atol=0)


def test_python_scalars_adopt_the_tensor_dtype():
    x32 = mgx.tensor([1.0, 2.0], dtype=np.float32, requires_grad=True)
    for y in (x32 * 2.0, 2.0 * x32, x32 + 1, 1 / x32, x32**2, 2.0**x32, x32 - 0.5):
        assert y.dtype == np.float32, y
    (x32 * 2.0).sum().backward()
    assert x32.grad.dtype == np.float32


def test_mixed_dtype_gradients_take_each_inputs_dtype():
    a = mgx.tensor([1.0, 2.0], dtype=np.float32, requires_grad=True)
    b = mgx.tensor([3.0, 4.0], requires_grad=True)
    y = (a * b).sum()
    assert y.dtype == np.float64
    y.backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64
    np.testing.assert_allclose(a.grad.data, [3.0, 4.0])


def test_incompatible_shapes_name_both_shapes():
    a, b = mgx.tensor(np.ones((2, 3))), mgx.tensor(np.ones(4))
    with pytest.raises(ValueError, match=r"add.*\(2, 3\).*\(4,\)"):
        a + b
    with pytest.raises(ValueError, match=r"mul.*\(2, 3\).*\(4,\)"):
        a * b


def test_non_numeric_operand_is_a_clear_type_error():
    with pytest.raises(TypeError, match="numeric"):
        mgx.tensor([1.0]) + "a"


# --------------------------------------------------------------------------- #
# edges PyTorch defines by their limits (regressions: these gave nan / -inf / 0)
# --------------------------------------------------------------------------- #
def _grads(fn, *values):
    ts = [mgx.tensor(v, requires_grad=True) for v in values]
    fn(*ts).sum().backward()
    return [t.grad.data for t in ts]


def test_power_at_a_zero_base():
    # d/db a**b = a**b log a -> 0 as a -> 0 for b > 0 (and PyTorch, autograd give 0 for b >= 0)
    (ga, gb) = _grads(lambda a, b: a**b, 0.0, 0.5)
    assert gb == 0.0 and ga == np.inf  # d/da a**0.5 = 0.5 a**-0.5: inf at 0, as PyTorch
    # d/da a**0 = 0 everywhere, also at a = 0 (0 * a**-1 would be nan)
    (gx,) = _grads(lambda x: x ** mgx.tensor(np.zeros(2)), np.array([0.0, 2.0]))
    np.testing.assert_array_equal(gx, [0.0, 0.0])
    np.testing.assert_array_equal(_grads(lambda a, b: a**b, 0.0, 0.0), [0.0, 0.0])
    (gx,) = _grads(lambda x: 0.0**x, np.array([0.5, 1.0]))  # a constant zero base
    np.testing.assert_array_equal(gx, [0.0, 0.0])
    (gx,) = _grads(lambda x: 2.0**x, np.array([0.5, 1.0]))  # a nonzero base is untouched
    np.testing.assert_allclose(gx, 2.0 ** np.array([0.5, 1.0]) * np.log(2.0), rtol=1e-15)


def test_power_at_a_negative_exponent_and_zero_base_stays_inf_as_in_pytorch():
    (ga, gb) = _grads(lambda a, b: a**b, 0.0, -1.0)
    assert ga == -np.inf  # -1 * 0**-2
    assert gb == -np.inf  # 0**-1 log 0 = inf * -inf: PyTorch 2.13 gives -inf too (b < 0: no limit to take)


@pytest.mark.parametrize(
    "dtype, a, b, want_gb",
    [
        (np.float32, 1e-23, 1e-23, -1e23),  # b*b underflows to 0 in float32
        (np.float64, 1e200, 1e200, -1e-200),  # b*b overflows to inf in float64
    ],
)
def test_the_division_gradient_does_not_square_the_denominator(dtype, a, b, want_gb):
    ta = mgx.tensor(np.array([a], dtype=dtype), requires_grad=True)
    tb = mgx.tensor(np.array([b], dtype=dtype), requires_grad=True)
    (ta / tb).sum().backward()
    # d(a/b)/db = -(a/b)/b, by hand; PyTorch computes it in this order too
    np.testing.assert_allclose(tb.grad.data, [want_gb], rtol=1e-6)
    assert tb.grad.dtype == dtype
