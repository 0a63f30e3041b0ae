"""sum, mean, max, min over random axes, with and without keepdims, against the oracle; prod,
var, std, logsumexp, norm, cumsum and cumprod at their special points (zeros, ties, kinks, ddof)
against PyTorch or by hand; argmin, argmax, any and all against NumPy; the error messages."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import microgradx as mgx
import microgradx.functional as F
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


# --------------------------------------------------------------------------- #
# prod, var, std, logsumexp, norm, cumsum, cumprod, argmin, argmax, any, all
# --------------------------------------------------------------------------- #
try:  # the second oracle, where it is installed
    import torch
except ImportError:  # pragma: no cover - depends on the environment
    torch = None

#: for the tests that compare with PyTorch
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch not installed: run TORCH_ORACLE=1 make test")


def _grad(fn, x, g=None):
    """The gradient of ``sum(fn(x) * g)`` (g = 1 when None)."""
    t = mgx.tensor(np.array(x, dtype=np.float64), requires_grad=True)
    y = fn(t)
    y.backward(np.ones(y.shape) if g is None else g)
    return t.grad.data


def _torch_grad(fn, x, g=None):
    t = torch.tensor(np.array(x, dtype=np.float64), requires_grad=True)
    y = fn(t)
    y.backward(torch.ones(y.shape, dtype=torch.float64) if g is None else torch.from_numpy(g))
    return t.grad.numpy()


def _hessian(fn, x):
    """d2 fn / dx_i dx_j of a scalar fn, row by row through create_graph."""
    t = mgx.tensor(np.array(x, dtype=np.float64), requires_grad=True)
    (gx,) = mgx.autograd.vjp(fn(t), [t], create_graph=True)
    rows = []
    for i in range(t.size):
        (row,) = mgx.autograd.vjp(gx.reshape(-1)[i], [t])
        rows.append(np.zeros(t.size) if row is None else row.data.reshape(-1))
    return np.array(rows)


@needs_torch
@pytest.mark.parametrize(
    "x, want",
    [
        ([2.0, 3.0, 4.0], [12.0, 8.0, 6.0]),
        ([2.0, 0.0, 4.0], [0.0, 8.0, 0.0]),  # one zero: only it gets a gradient
        ([0.0, 3.0, 0.0], [0.0, 0.0, 0.0]),  # two zeros: none does
        ([0.0, 0.0, 0.0], [0.0, 0.0, 0.0]),
        ([0.0], [1.0]),
    ],
)
def test_prod_gradient_is_the_product_of_the_others(x, want):
    np.testing.assert_array_equal(_grad(F.prod, x), want)  # by hand
    np.testing.assert_array_equal(_grad(F.prod, x), _torch_grad(torch.prod, x))


def test_prod_is_twice_differentiable_at_zeros():
    # d2/dx_i dx_j prod(x) = the product of all but x_i and x_j (0 on the diagonal), by hand
    a, b = 3.0, -2.0
    np.testing.assert_array_equal(_hessian(F.prod, [a, 0.0, b]), [[0, b, 0], [b, 0, a], [0, a, 0]])
    np.testing.assert_array_equal(_hessian(F.prod, [0.0, 0.0, b]), [[0, b, 0], [b, 0, 0], [0, 0, 0]])
    x = np.array([[0.0, 1.5, 0.0], [2.0, 0.0, -1.0], [0.5, 0.0, 0.0]])
    for axis in (None, 0, 1, (0, 1)):
        assert mgx.gradcheck(lambda t, axis=axis: F.prod(t, axis=axis), x, order=3)


def test_prod_over_axes_matches_numpy_and_keepdims():
    x = np.arange(1.0, 25.0).reshape(2, 3, 4) / 7
    for axis in (None, 0, -1, (0, 2)):
        for keepdims in (False, True):
            got = mgx.tensor(x).prod(axis=axis, keepdims=keepdims)
            np.testing.assert_allclose(got.data, np.prod(x, axis=axis, keepdims=keepdims), rtol=1e-13)


@pytest.mark.parametrize(
    "x",
    [
        [2.0, 0.0, 3.0, 0.0, 5.0],  # two zeros
        [0.0, 2.0, 3.0],
        [1.5, -2.0, 0.0],
        [1e-200, 1e-200, 3.0, 2.0],  # the products underflow to 0 without a zero in x
    ],
)
def test_cumprod_gradient_with_zeros_and_underflow(x):
    g = np.array([1.0, -2.0, 0.5, 3.0, 1.25][: len(x)])
    x = np.array(x)
    # by hand: dL/dx_k = sum_{i >= k} g_i prod_{j <= i, j != k} x_j
    want = [sum(g[i] * np.prod(np.delete(x[: i + 1], k)) for i in range(k, len(x))) for k in range(len(x))]
    np.testing.assert_allclose(_grad(F.cumprod, x, g), want, rtol=1e-13, atol=0)
    if not (0 < np.abs(x).min() < 1e-3):  # (central differences cannot resolve 1e-200 steps)
        assert mgx.gradcheck(F.cumprod, x, order=3)


@needs_torch
def test_cumprod_gradient_with_zeros_matches_torch():
    x = np.array([[2.0, 0.0, 3.0, 0.0], [0.5, -1.0, 0.0, 4.0], [1.0, 2.0, 3.0, 4.0]])
    g = np.random.default_rng(1).uniform(-2, 2, x.shape)
    for axis in (0, 1):
        got = _grad(lambda t: F.cumprod(t, axis), x, g)
        np.testing.assert_allclose(got, _torch_grad(lambda t: torch.cumprod(t, axis), x, g), rtol=1e-12)


def test_cumsum_and_cumprod_flatten_without_an_axis_as_numpy():
    x = np.arange(1.0, 7.0).reshape(2, 3)
    np.testing.assert_array_equal(F.cumsum(x).data, np.cumsum(x))
    np.testing.assert_array_equal(mgx.tensor(x).cumprod().data, np.cumprod(x))
    np.testing.assert_array_equal(mgx.tensor(x).cumsum(axis=-2).data, np.cumsum(x, axis=0))
    with pytest.raises(np.exceptions.AxisError, match="cumsum: axis 2 is out of range"):
        F.cumsum(x, axis=2)


@needs_torch
def test_var_and_std_default_to_ddof_0_as_numpy():
    x = np.array([[1.0, 2.0, 4.0], [3.0, -1.0, 0.5]])
    for axis in (None, 0, 1):
        for ddof in (0, 1):
            np.testing.assert_allclose(F.var(x, axis, ddof=ddof).data, np.var(x, axis, ddof=ddof), rtol=1e-14)
            np.testing.assert_allclose(mgx.tensor(x).std(axis, ddof).data, np.std(x, axis, ddof=ddof))
    # PyTorch's default is correction=1: the same numbers with ddof=1
    np.testing.assert_allclose(F.var(x, ddof=1).data, torch.var(torch.from_numpy(x)).item(), rtol=1e-14)


@needs_torch
def test_std_gradient_is_0_for_a_constant_lane_as_torch():
    x = np.array([[2.0, 2.0, 2.0], [1.0, 2.0, 4.0]])
    got = _grad(lambda t: F.std(t, axis=1), x)
    np.testing.assert_array_equal(got[0], [0.0, 0.0, 0.0])
    np.testing.assert_allclose(got, _torch_grad(lambda t: torch.std(t, dim=1, correction=0), x), rtol=1e-12)


def test_var_of_large_float32_values_does_not_overflow():
    x = np.full(4, np.finfo(np.float32).max, dtype=np.float32)
    y = F.var(x)
    assert y.dtype == np.float32 and y.item() == 0.0  # as torch.var; NumPy's float32 mean overflows
    x[0] = 0
    want = np.std(x.astype(np.float64))  # 1.47e38: finite in float32 (its square is not)
    assert F.std(x).dtype == np.float32
    np.testing.assert_allclose(F.std(x).item(), want, rtol=1e-6)


def test_var_without_degrees_of_freedom_warns_and_gives_nan_as_numpy():
    with pytest.warns(RuntimeWarning, match=r"var: n - ddof = 1 - 1 <= 0"):
        y = F.var([3.0], ddof=1)
    assert np.isnan(y.item())
    with pytest.raises(TypeError, match="std: ddof must be a number"):
        F.std([1.0, 2.0], ddof="1")
    with pytest.raises(ValueError, match=r"var: the selection is empty \(shape \(0,\)"):
        F.var(np.zeros(0))


@needs_torch
def test_logsumexp_is_stable_and_its_gradient_is_the_softmax():
    np.testing.assert_allclose(F.logsumexp([1000.0, 1000.0]).item(), 1000 + np.log(2), rtol=1e-15)
    assert F.logsumexp([-np.inf, -np.inf]).item() == -np.inf  # as torch.logsumexp
    assert F.logsumexp([np.inf, 1.0]).item() == np.inf
    x = np.array([[1.0, 2.0, -3.0], [1e4, 1e4 - 1, -1e4]])
    for axis in (0, 1, None):
        want = torch.logsumexp(torch.from_numpy(x), dim=(0, 1) if axis is None else axis).numpy()
        np.testing.assert_allclose(F.logsumexp(x, axis).data, want, rtol=1e-14)
    # exp(x - y): y = 1e4 + log(...) carries an absolute rounding error of ~1e-12
    np.testing.assert_allclose(_grad(lambda t: t.logsumexp(axis=1), x), F.softmax(x, axis=1).data, rtol=1e-11)


INF = float("inf")


@pytest.mark.parametrize(
    "order, axis",
    [(None, None), (2, 0), (1, 1), (INF, -1), (-INF, 0), ("fro", None), (1, None), (-1, None), (INF, None),
     (-INF, None), ("fro", (1, 0)), (1, (2, 0)), (INF, (0, 2)), (None, (1, 2)), (None, 0)],
)  # fmt: skip
@pytest.mark.parametrize("keepdims", [False, True])
def test_norm_matches_numpy(order, axis, keepdims):
    x = np.random.default_rng(0).uniform(
        -3, 3, (3, 4) if axis is None or isinstance(axis, int) else (3, 4, 2)
    )
    got = F.norm(x, order, axis=axis, keepdims=keepdims).data
    np.testing.assert_allclose(got, np.linalg.norm(x, order, axis=axis, keepdims=keepdims), rtol=1e-13)


@needs_torch
def test_norm_gradients_at_kinks_follow_torch():
    # the 2-norm at 0: 0; the 1-norm at 0: sign(0) = 0; the inf-norm: shared among ties
    for order, x in [
        (2, [0.0, 0.0]),
        (1, [0.0, 2.0, -1.0]),
        (INF, [3.0, -3.0, 1.0]),
        (-INF, [1.0, -1.0, 2.0]),
    ]:
        got = _grad(lambda t, order=order: F.norm(t, order), x)
        want = _torch_grad(lambda t, order=order: torch.linalg.norm(t, ord=order), x)
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(_grad(lambda t: F.norm(t, INF), [3.0, -3.0, 1.0]), [0.5, -0.5, 0.0])
    m = np.array([[1.0, -2.0], [2.0, 1.0]])  # two columns tie for the 1-norm
    np.testing.assert_array_equal(
        _grad(lambda t: F.norm(t, 1), m), _torch_grad(lambda t: torch.linalg.norm(t, ord=1), m)
    )


def test_norm_gradient_at_nan_is_nan_as_abs():
    # documented: the 1- and inf-norm go through abs, whose gradient at NaN is NaN (PyTorch: 0)
    for order in (1, INF, -INF):
        assert np.isnan(_grad(lambda t, order=order: F.norm(t, order), [np.nan, 1.0])[0])


def test_norm_refuses_what_it_does_not_compute():
    x = np.ones((2, 3))
    with pytest.raises(NotImplementedError, match="norm: ord=2 for matrices .* singular values"):
        F.norm(x, 2)
    with pytest.raises(NotImplementedError, match="ord='nuc'"):
        F.norm(x, "nuc")
    with pytest.raises(ValueError, match=r"norm: ord=3 is not supported for vectors; use None, 1, 2"):
        F.norm(x, 3, axis=1)
    with pytest.raises(ValueError, match=r"norm: ord='fro' is not supported for vectors"):
        F.norm(x[0], "fro")
    with pytest.raises(ValueError, match=r"norm: ord=1 with axis=None needs a 1-D .* shape \(2, 3, 1\)"):
        F.norm(np.ones((2, 3, 1)), 1)
    with pytest.raises(ValueError, match=r"norm: axis .* names the same axis twice"):
        F.norm(x, axis=(1, -1))
    with pytest.raises(ValueError, match=r"norm: axis must name 1 axis"):
        F.norm(np.ones((2, 3, 1)), axis=(0, 1, 2))


def test_argmin_argmax_any_all_follow_numpy_and_are_not_differentiable():
    x = np.array([[3.0, 1.0, 1.0], [0.0, 5.0, -2.0]])
    t = mgx.tensor(x, requires_grad=True)
    for axis in (None, 0, 1, -1):
        for keepdims in (False, True):
            assert np.array_equal(t.argmin(axis, keepdims).data, np.argmin(x, axis, keepdims=keepdims))
            assert np.array_equal(F.argmax(t, axis, keepdims).data, np.argmax(x, axis, keepdims=keepdims))
            assert np.array_equal(t.any(axis, keepdims).data, np.any(x, axis, keepdims=keepdims))
            assert np.array_equal(F.all(t, axis, keepdims).data, np.all(x, axis, keepdims=keepdims))
    assert not t.argmin().requires_grad and t.argmin().dtype.kind == "i"
    assert not t.all().requires_grad and t.all().dtype == np.bool_
    np.testing.assert_array_equal(F.any(x, axis=(0, 1)).data, True)
    with pytest.raises(np.exceptions.AxisError, match="argmin: axis 2 is out of range"):
        t.argmin(2)
    with pytest.raises(ValueError, match=r"argmin: the tensor is empty"):
        F.argmin(np.zeros((0, 2)))


def test_integer_input_gives_float_statistics():
    assert F.var([1, 2, 3, 4]).dtype == np.float64 and F.norm([3, 4]).item() == 5.0
    assert F.prod([2, 3]).dtype.kind == "i"  # as numpy.prod
