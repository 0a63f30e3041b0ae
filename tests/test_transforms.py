"""The functional transforms (vjp, jvp, jacobian, hessian, hvp, value_and_grad) and their compositions.

Expected values come from three independent places: PyTorch's ``torch.func`` (and
``torch.autograd.functional.hvp``) on the same float64 inputs, central differences
(``mgx.numerical_gradient``, or a difference quotient written here), and formulas
worked by hand. Every op of tests/op_table.py goes through jacobian, vjp and jvp
against central differences, so no op's backward can break a transform unnoticed.
PyTorch is the optional second oracle (TORCH_ORACLE=1 make test): without it, the tests that
compare with it skip and the others run.
"""

import runpy
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import microgradx as mgx
import microgradx.functional as F
from tests.op_table import TABLE
from tests.strategies import seeds

try:  # the second oracle, where it is installed (TORCH_ORACLE=1 make test)
    import torch
    from torch.func import grad as t_grad
    from torch.func import grad_and_value as t_grad_and_value
    from torch.func import hessian as t_hessian
    from torch.func import jacrev as t_jacrev
    from torch.func import jvp as t_jvp
    from torch.func import vjp as t_vjp
except ImportError:  # pragma: no cover - depends on the environment
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch not installed: run TORCH_ORACLE=1 make test")

ROOT = Path(__file__).resolve().parent.parent
TIGHT = dict(rtol=1e-10, atol=1e-12)  # two exact float64 computations of the same formula


def T(a):
    return torch.from_numpy(np.array(a, dtype=np.float64))


def to_np(x):
    return x.detach().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


# --------------------------------------------------------------------------- #
# Functions written twice, microgradx and PyTorch (the same formula, float64)
# --------------------------------------------------------------------------- #
def vec_mgx(x, W):  # R^3 x R^{2x3} -> R^2
    return F.softmax(W @ F.tanh(x) + x[:2] * x[1:], axis=-1)


def vec_torch(x, W):
    return torch.softmax(W @ torch.tanh(x) + x[:2] * x[1:], dim=-1)


def scal_mgx(x, W):  # R^3 x R^{2x3} -> R
    return F.logsumexp(W @ x, axis=-1) + (F.sin(x) * x**2).sum() + (W**3).sum() * x[0]


def scal_torch(x, W):
    return torch.logsumexp(W @ x, dim=-1) + (torch.sin(x) * x**2).sum() + (W**3).sum() * x[0]


def draw_point(seed):
    rng = np.random.default_rng(seed)
    return rng, rng.standard_normal(3), rng.standard_normal((2, 3))


# --------------------------------------------------------------------------- #
# Against torch.func
# --------------------------------------------------------------------------- #
@needs_torch
@settings(max_examples=10)
@given(seed=seeds)
def test_vjp_matches_torch_func(seed):
    rng, x, W = draw_point(seed)
    v = rng.standard_normal(2)
    out, vjp_fn = mgx.vjp(vec_mgx, x, W)
    ref, ref_fn = t_vjp(vec_torch, T(x), T(W))
    assert isinstance(out, np.ndarray)
    np.testing.assert_allclose(out, to_np(ref), **TIGHT)
    for _ in range(2):  # vjp_fn may be called again (the graph is kept)
        gs, want = vjp_fn(v), ref_fn(T(v))
        assert isinstance(gs, tuple) and len(gs) == 2
        for g, w in zip(gs, want, strict=True):
            assert isinstance(g, np.ndarray)
            np.testing.assert_allclose(g, to_np(w), **TIGHT)
        v = rng.standard_normal(2)


@needs_torch
@settings(max_examples=10)
@given(seed=seeds)
def test_jvp_matches_torch_func(seed):
    rng, x, W = draw_point(seed)
    tx, tW = rng.standard_normal(3), rng.standard_normal((2, 3))
    out, tan = mgx.jvp(vec_mgx, (x, W), (tx, tW))
    ref, ref_tan = t_jvp(vec_torch, (T(x), T(W)), (T(tx), T(tW)))
    np.testing.assert_allclose(out, to_np(ref), **TIGHT)
    np.testing.assert_allclose(tan, to_np(ref_tan), **TIGHT)


@needs_torch
@settings(max_examples=10)
@given(seed=seeds)
def test_jacobian_matches_jacrev_for_int_and_tuple_argnums(seed):
    _, x, W = draw_point(seed)
    J_W = mgx.jacobian(vec_mgx, argnums=1)(x, W)
    assert J_W.shape == (2, 2, 3)  # out.shape + W.shape
    np.testing.assert_allclose(J_W, to_np(t_jacrev(vec_torch, argnums=1)(T(x), T(W))), **TIGHT)
    both = mgx.jacobian(vec_mgx, argnums=(0, 1))(x, W)
    want = t_jacrev(vec_torch, argnums=(0, 1))(T(x), T(W))
    assert isinstance(both, tuple) and [j.shape for j in both] == [(2, 3), (2, 2, 3)]
    for j, w in zip(both, want, strict=True):
        np.testing.assert_allclose(j, to_np(w), **TIGHT)
    # negative argnums name the same argument
    np.testing.assert_allclose(mgx.jacobian(vec_mgx, argnums=-1)(x, W), J_W, **TIGHT)


@needs_torch
@settings(max_examples=10)
@given(seed=seeds)
def test_hessian_matches_torch_func_for_int_and_tuple_argnums(seed):
    _, x, W = draw_point(seed)
    H = mgx.hessian(scal_mgx)(x, W)
    assert H.shape == (3, 3)
    np.testing.assert_allclose(H, to_np(t_hessian(scal_torch)(T(x), T(W))), **TIGHT)
    blocks = mgx.hessian(scal_mgx, argnums=(0, 1))(x, W)
    want = t_hessian(scal_torch, argnums=(0, 1))(T(x), T(W))
    assert [[b.shape for b in row] for row in blocks] == [[(3, 3), (3, 2, 3)], [(2, 3, 3), (2, 3, 2, 3)]]
    for row, wrow in zip(blocks, want, strict=True):
        for b, w in zip(row, wrow, strict=True):
            np.testing.assert_allclose(b, to_np(w), **TIGHT)


@needs_torch
@settings(max_examples=10)
@given(seed=seeds)
def test_hvp_matches_torch_autograd_functional_hvp(seed):
    rng, x, W = draw_point(seed)
    tx, tW = rng.standard_normal(3), rng.standard_normal((2, 3))
    value, (px, pW) = mgx.hvp(scal_mgx, (x, W), (tx, tW))
    ref_value, (rx, rW) = torch.autograd.functional.hvp(scal_torch, (T(x), T(W)), (T(tx), T(tW)))
    np.testing.assert_allclose(value, to_np(ref_value), **TIGHT)
    np.testing.assert_allclose(px, to_np(rx), **TIGHT)
    np.testing.assert_allclose(pW, to_np(rW), **TIGHT)


@needs_torch
@settings(max_examples=10)
@given(seed=seeds)
def test_value_and_grad_matches_torch_and_grad(seed):
    _, x, W = draw_point(seed)
    value, (gx, gW) = mgx.value_and_grad(scal_mgx, argnums=(0, 1))(x, W)
    (rx, rW), ref_value = t_grad_and_value(scal_torch, argnums=(0, 1))(T(x), T(W))
    np.testing.assert_allclose(value, to_np(ref_value), **TIGHT)
    np.testing.assert_allclose(gx, to_np(rx), **TIGHT)
    np.testing.assert_allclose(gW, to_np(rW), **TIGHT)
    value1, g1 = mgx.value_and_grad(scal_mgx)(x, W)  # an int argnums: the gradient itself
    assert isinstance(g1, np.ndarray) and isinstance(value1, np.ndarray)
    np.testing.assert_array_equal(g1, mgx.grad(scal_mgx)(x, W))


# --------------------------------------------------------------------------- #
# Every op of the table: jacobian, vjp and jvp against central differences
# --------------------------------------------------------------------------- #
def _float_args(ex):
    arrays = [np.array(a) for a in ex.arrays]
    floats = tuple(k for k, a in enumerate(arrays) if a.dtype.kind == "f")
    return arrays, floats


def _values(ex, arrays, i, a):
    """ex.fn's output as a float64 array, with input i replaced by ``a`` (no graph)."""
    args = [mgx.tensor(b) for b in arrays]
    args[i] = mgx.tensor(a)
    with mgx.no_grad():
        return np.asarray(ex.fn(*args).data, dtype=np.float64)


def _numerical_jacobian(ex, arrays, i, out_shape, h=1e-4):
    """Central differences, one input element at a time (numerical_gradient's formula for every
    output element at once): column j is (f(x + h e_j) - f(x - h e_j)) / 2h."""
    x = np.array(arrays[i], dtype=np.float64)
    J = np.zeros(out_shape + x.shape)
    for j in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[j] += h
        xm[j] -= h
        J[(...,) + j] = (_values(ex, arrays, i, xp) - _values(ex, arrays, i, xm)) / (2 * h)
    return J


@pytest.mark.parametrize("name", sorted(TABLE))
@settings(max_examples=6)
@given(data=st.data())
def test_every_op_jacobian_vjp_jvp_match_central_differences(name, data):
    """jacobian against the central-difference Jacobian; vjp (and the rows v^T J) against
    numerical_gradient of <f, v>; jvp against the central-difference Jacobian times t."""
    ex = data.draw(TABLE[name])
    arrays, floats = _float_args(ex)
    rng = np.random.default_rng(data.draw(seeds))
    tol = dict(rtol=1e-5, atol=max(ex.atol, 1e-7) * 10)
    out_shape = _values(ex, arrays, floats[0], arrays[floats[0]]).shape
    jacs = mgx.jacobian(ex.fn, argnums=floats)(*arrays)
    v = rng.uniform(-1, 1, out_shape)
    only_floats = lambda *fl: ex.fn(*_merge(arrays, floats, fl))  # noqa: E731
    _, vjp_fn = mgx.vjp(only_floats, *[arrays[i] for i in floats])
    vjps = vjp_fn(v)
    tangents = [rng.uniform(-1, 1, arrays[i].shape) for i in floats]
    _, jvp_out = mgx.jvp(only_floats, tuple(arrays[i] for i in floats), tuple(tangents))
    directional, analytic = np.zeros(out_shape), np.zeros(out_shape)
    for i, J, g, t in zip(floats, jacs, vjps, tangents, strict=True):
        x = np.array(arrays[i], dtype=np.float64)
        assert J.shape == out_shape + x.shape, f"{name}: Jacobian of input {i} has shape {J.shape}"
        expected = _numerical_jacobian(ex, arrays, i, out_shape)
        np.testing.assert_allclose(J, expected, **tol, err_msg=f"{name}: Jacobian of input {i}")
        vJ = mgx.numerical_gradient(lambda a: float(np.sum(_values(ex, arrays, i, a) * v)), x.copy())
        np.testing.assert_allclose(g, vJ, **tol, err_msg=f"{name}: vjp of input {i}")
        directional += np.tensordot(expected, t, axes=t.ndim) if t.ndim else expected * t
        analytic += np.tensordot(J, t, axes=t.ndim) if t.ndim else J * t
    # jvp moves every input at once: J_1 t_1 + J_2 t_2 + ..., against the central-difference
    # Jacobians (their errors add up over the n input elements: atol n times), and against the
    # Jacobians just checked (the same numbers by another route: rows of vjps, not double vjp)
    n = sum(t.size for t in tangents)
    np.testing.assert_allclose(jvp_out, directional, rtol=1e-5, atol=tol["atol"] * n, err_msg=f"{name}: jvp")
    np.testing.assert_allclose(jvp_out, analytic, rtol=1e-9, atol=1e-12, err_msg=f"{name}: jvp vs J t")


def _merge(arrays, floats, fl):
    args = [mgx.tensor(a) for a in arrays]
    for i, t in zip(floats, fl, strict=True):
        args[i] = t
    return args


# --------------------------------------------------------------------------- #
# Compositions
# --------------------------------------------------------------------------- #
@needs_torch
@settings(max_examples=5)
@given(seed=seeds)
def test_jacobian_of_jacobian_and_of_grad_are_the_hessian(seed):
    _, x, W = draw_point(seed)
    f = lambda a: scal_mgx(a, W)  # noqa: E731
    want = to_np(t_hessian(scal_torch)(T(x), T(W)))
    for got in (
        mgx.hessian(f)(x),
        mgx.jacobian(mgx.jacobian(f))(x),
        mgx.jacobian(mgx.grad(f))(x),
        mgx.grad(lambda a: mgx.grad(f)(a)[1])(x),  # one row of it
    ):
        assert isinstance(got, np.ndarray)  # arrays in, arrays out, at every depth
        np.testing.assert_allclose(got, want if got.shape == (3, 3) else want[1], **TIGHT)


@needs_torch
@settings(max_examples=5)
@given(seed=seeds)
def test_grad_of_jacobian_matches_torch(seed):
    rng, x, W = draw_point(seed)
    M = rng.standard_normal((2, 3))
    got = mgx.grad(lambda a: (mgx.jacobian(lambda b: vec_mgx(b, W))(a) * M).sum())(x)
    want = t_grad(lambda a: (t_jacrev(lambda b: vec_torch(b, T(W)))(a) * T(M)).sum())(T(x))
    np.testing.assert_allclose(got, to_np(want), **TIGHT)


@needs_torch
@settings(max_examples=5)
@given(seed=seeds)
def test_third_order_grad_of_hessian_matches_torch(seed):
    rng, x, W = draw_point(seed)
    M = rng.standard_normal((3, 3))
    got = mgx.grad(lambda a: (mgx.hessian(lambda b: scal_mgx(b, W))(a) * M).sum())(x)
    want = t_grad(lambda a: (t_hessian(lambda b: scal_torch(b, T(W)))(a) * T(M)).sum())(T(x))
    np.testing.assert_allclose(got, to_np(want), **TIGHT)


@needs_torch
@settings(max_examples=5)
@given(seed=seeds)
def test_forward_over_reverse_equals_hvp(seed):
    """jvp(grad(f)) (forward over reverse) and hvp (reverse over reverse) are both H t."""
    rng, x, W = draw_point(seed)
    t = rng.standard_normal(3)
    f = lambda a: scal_mgx(a, W)  # noqa: E731
    _, Ht = mgx.jvp(mgx.grad(f), (x,), (t,))
    _, (Ht2,) = mgx.hvp(f, (x,), (t,))
    want = to_np(torch.autograd.functional.hvp(lambda a: scal_torch(a, T(W)), T(x), T(t))[1])
    np.testing.assert_allclose(Ht, want, **TIGHT)
    np.testing.assert_allclose(Ht2, want, **TIGHT)


@needs_torch
@settings(max_examples=5)
@given(seed=seeds)
def test_grad_through_jvp_vjp_and_hvp_matches_torch(seed):
    rng, x, W = draw_point(seed)
    t, u, w = rng.standard_normal(3), rng.standard_normal(2), rng.standard_normal(3)
    f, ft = (lambda a: vec_mgx(a, W)), (lambda a: vec_torch(a, T(W)))
    got = mgx.grad(lambda a: (mgx.jvp(f, (a,), (t,))[1] * u).sum())(x)
    want = t_grad(lambda a: (t_jvp(ft, (a,), (T(t),))[1] * T(u)).sum())(T(x))
    np.testing.assert_allclose(got, to_np(want), **TIGHT)
    got = mgx.grad(lambda a: (mgx.vjp(f, a)[1](u)[0] * w).sum())(x)
    want = t_grad(lambda a: (t_vjp(ft, a)[1](T(u))[0] * T(w)).sum())(T(x))
    np.testing.assert_allclose(got, to_np(want), **TIGHT)
    s, st_ = (lambda a: scal_mgx(a, W)), (lambda a: scal_torch(a, T(W)))
    got = mgx.grad(lambda a: (mgx.hvp(s, (a,), (t,))[1][0] * w).sum())(x)
    want = t_grad(lambda a: (t_jvp(t_grad(st_), (a,), (T(t),))[1] * T(w)).sum())(T(x))
    np.testing.assert_allclose(got, to_np(want), **TIGHT)


@needs_torch
def test_jvp_and_vjp_are_linear_in_their_direction():
    """d/dt <jvp(f, x, t), u> = J^T u and d/du <vjp_fn(u), t> = J t: a tangent or cotangent
    that requires grad is a variable too (the double-vjp construction is linear in it)."""
    rng, x, W = draw_point(1)
    t, u = rng.standard_normal(3), rng.standard_normal(2)
    f = lambda a: vec_mgx(a, W)  # noqa: E731
    J = to_np(t_jacrev(lambda a: vec_torch(a, T(W)))(T(x)))
    np.testing.assert_allclose(mgx.grad(lambda s: (mgx.jvp(f, (x,), (s,))[1] * u).sum())(t), J.T @ u, **TIGHT)
    _, vjp_fn = mgx.vjp(f, x)
    np.testing.assert_allclose(mgx.grad(lambda c: (vjp_fn(c)[0] * t).sum())(u), J @ t, **TIGHT)


def test_value_and_grad_composes_with_grad():
    """d/dx [f(x) + f'(x)] for f = x^4 is 4x^3 + 12x^2: at x = 2, 32 + 48 = 80 (by hand)."""
    f = lambda a: a**4  # noqa: E731

    def g(a):
        value, slope = mgx.value_and_grad(f)(a)
        return value + slope

    assert mgx.grad(g)(2.0) == pytest.approx(80.0, rel=1e-14)


def test_linear_functions_have_zero_second_derivatives_not_errors():
    """A constant derivative stays in the graph: the transform around it gives 0 (as JAX), also
    across arguments (the derivative of x + y in x, seen from y), where mgx.grad raises."""
    A = np.arange(6.0).reshape(2, 3)
    x = np.array([1.0, -2.0, 0.5])
    lin = lambda a: mgx.tensor(A) @ a  # noqa: E731
    np.testing.assert_array_equal(mgx.jacobian(lin)(x), A)
    np.testing.assert_array_equal(mgx.jacobian(mgx.jacobian(lin))(x), np.zeros((2, 3, 3)))
    np.testing.assert_array_equal(mgx.hessian(lambda a: lin(a).sum())(x), np.zeros((3, 3)))
    _, (h,) = mgx.hvp(lambda a: lin(a).sum(), (x,), (x,))
    np.testing.assert_array_equal(h, np.zeros(3))
    cross = mgx.grad(lambda y: mgx.jacobian(lambda a, b: (a + b).sum(), argnums=0)(x, y).sum())(x)
    assert isinstance(cross, np.ndarray)
    np.testing.assert_array_equal(cross, np.zeros(3))


def test_arrays_in_give_arrays_out_when_nested():
    """An inner transform's own variables (made from arrays) are constants for the outer one: the
    outer result stays an array, though the inner result's graph reaches those variables."""
    y = np.array([1.0, 2.0, 3.0])
    inner = lambda yy: mgx.jacobian(lambda a, b: (a * b * a).sum(), argnums=0)(np.ones(3), yy).sum()  # noqa: E731
    got = mgx.jacobian(inner)(y)
    assert isinstance(got, np.ndarray)
    np.testing.assert_allclose(got, np.full(3, 2.0), **TIGHT)  # d/dy sum(2 a y) at a = 1


@needs_torch
def test_tensor_arguments_give_results_in_the_graph():
    """A Tensor that requires grad in: the Jacobian is part of its graph, as grad's is (a penalty
    on a Jacobian), and a parameter used from outside is followed too; checked against torch."""
    rng = np.random.default_rng(3)
    x0, W0 = rng.standard_normal(3), rng.standard_normal((2, 3))
    x = mgx.tensor(x0, requires_grad=True)
    W = mgx.tensor(W0, requires_grad=True)
    J = mgx.jacobian(lambda a: vec_mgx(a, W))(x)  # W: used from outside
    assert isinstance(J, mgx.Tensor) and J.requires_grad
    (J**2).sum().backward()
    xt, Wt = T(x0).requires_grad_(), T(W0).requires_grad_()
    Jt = torch.autograd.functional.jacobian(lambda a: vec_torch(a, Wt), xt, create_graph=True)
    (Jt**2).sum().backward()
    np.testing.assert_allclose(x.grad.data, to_np(xt.grad), **TIGHT)
    np.testing.assert_allclose(W.grad.data, to_np(Wt.grad), **TIGHT)
    # the value of vjp / jvp / hvp / value_and_grad is in the graph too
    value, _ = mgx.value_and_grad(lambda a: scal_mgx(a, W0))(x)
    assert isinstance(value, mgx.Tensor) and value.requires_grad
    # and under no_grad, everything is arrays
    with mgx.no_grad():
        assert isinstance(mgx.jacobian(lambda a: vec_mgx(a, W))(x), np.ndarray)
        out, tan = mgx.jvp(lambda a: vec_mgx(a, W), (x,), (x0,))
        assert isinstance(out, np.ndarray) and isinstance(tan, np.ndarray)


def test_the_argument_is_a_variable_of_its_own():
    """As in JAX and torch.func: jacobian(lambda y: x * y)(x) is diag(x), not diag(2 x)."""
    x = mgx.tensor([1.0, 3.0], requires_grad=True)
    J = mgx.jacobian(lambda y: x * y)(x)
    np.testing.assert_array_equal(J.data, np.diag([1.0, 3.0]))


# --------------------------------------------------------------------------- #
# The book's 2-2-1 MLP: its Hessian against a finite-difference Hessian
# --------------------------------------------------------------------------- #
ORDER = ("w11", "w12", "b1", "w21", "w22", "b2")


def _mlp_loss_numpy(theta, x=2.0, y_true=1.0):
    """The network of examples/book/mlp_w21_update.py, in NumPy (no engine)."""
    w11, w12, b1, w21, w22, b2 = theta
    sig = lambda z: 1.0 / (1.0 + np.exp(-z))  # noqa: E731
    y = sig(w21 * sig(w11 * x + b1) + w22 * sig(w12 * x + b1) + b2)
    return 0.5 * (y_true - y) ** 2


def test_hessian_of_the_books_mlp_loss_matches_finite_differences():
    build = runpy.run_path(str(ROOT / "examples" / "book" / "mlp_w21_update.py"))["build"]
    params, (x_t, y_t), named = build()
    theta0 = np.array([params[k].item() for k in ORDER])
    x, y_true = x_t.item(), y_t.item()

    def loss(theta):  # the same network as build(), as a function of its six parameters
        w11, w12, b1, w21, w22, b2 = (theta[k] for k in range(6))
        h1, h2 = F.sigmoid(w11 * x + b1), F.sigmoid(w12 * x + b1)
        y = F.sigmoid(w21 * h1 + w22 * h2 + b2)
        return 0.5 * (y_true - y) ** 2

    assert loss(mgx.tensor(theta0)).item() == pytest.approx(named["E"].item(), rel=1e-15)
    assert _mlp_loss_numpy(theta0) == pytest.approx(named["E"].item(), rel=1e-15)
    value, g = mgx.value_and_grad(loss)(theta0)
    assert g[3] == pytest.approx(-0.0035747, abs=5e-8)  # dE/dw21, as the example prints it
    H = mgx.hessian(loss)(theta0)
    # four-point central differences of the NumPy loss: error ~ h^2 f'''' + eps |f| / h^2 ~ 1e-8
    h, n = 1e-4, len(theta0)
    E = np.eye(n) * h
    fd = np.array(
        [
            [
                (
                    _mlp_loss_numpy(theta0 + E[i] + E[j])
                    - _mlp_loss_numpy(theta0 + E[i] - E[j])
                    - _mlp_loss_numpy(theta0 - E[i] + E[j])
                    + _mlp_loss_numpy(theta0 - E[i] - E[j])
                )
                / (4 * h * h)
                for j in range(n)
            ]
            for i in range(n)
        ]
    )
    np.testing.assert_allclose(H, fd, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(H, H.T, **TIGHT)  # (rows by different paths: equal to rounding)
    if torch is not None:
        np.testing.assert_allclose(H, to_np(t_hessian(_mlp_loss_torch)(T(theta0))), **TIGHT)
    # the Hessian-vector product is the Hessian times the vector, without forming it
    t = np.linspace(-1.0, 1.0, n)
    np.testing.assert_allclose(mgx.hvp(loss, (theta0,), (t,))[1][0], H @ t, **TIGHT)


def _mlp_loss_torch(theta, x=2.0, y_true=1.0):
    w11, w12, b1, w21, w22, b2 = theta
    y = torch.sigmoid(w21 * torch.sigmoid(w11 * x + b1) + w22 * torch.sigmoid(w12 * x + b1) + b2)
    return 0.5 * (y_true - y) ** 2


def test_jvp_of_a_composition_matches_a_central_difference():
    rng, x, W = draw_point(7)
    t = rng.standard_normal(3)
    h = 1e-6
    with mgx.no_grad():  # values only
        fd = (vec_mgx(mgx.tensor(x + h * t), W).data - vec_mgx(mgx.tensor(x - h * t), W).data) / (2 * h)
    _, tan = mgx.jvp(lambda a: vec_mgx(a, W), (x,), (t,))
    np.testing.assert_allclose(tan, fd, rtol=1e-7, atol=1e-9)


# --------------------------------------------------------------------------- #
# Errors name the problem
# --------------------------------------------------------------------------- #
VEC = lambda a: a * 2.0  # noqa: E731
X = np.array([1.0, 2.0, 3.0])


@pytest.mark.parametrize(
    "call",
    [
        lambda: mgx.hessian(VEC)(X),
        lambda: mgx.value_and_grad(VEC)(X),
        lambda: mgx.hvp(VEC, (X,), (X,)),
        lambda: mgx.grad(VEC)(X),
    ],
    ids=["hessian", "value_and_grad", "hvp", "grad"],
)
def test_a_non_scalar_output_is_refused_with_its_shape(call):
    with pytest.raises(TypeError, match=r"one element, got shape \(3,\)"):
        call()


@pytest.mark.parametrize("transform", [mgx.jacobian, mgx.hessian, mgx.value_and_grad, mgx.grad])
def test_argnums_out_of_range_is_refused(transform):
    with pytest.raises(IndexError, match="argnums 2 is out of range for 2 positional arguments"):
        transform(lambda a, b: (a * b).sum(), argnums=(0, 2))(X, X)


def test_bad_argnums_are_refused():
    with pytest.raises(ValueError, match=r"argnums names argument 1 twice \(\(1, -1\)\)"):
        mgx.jacobian(lambda a, b: a * b, argnums=(1, -1))(X, X)
    with pytest.raises(TypeError, match="argnums must be an int or a tuple of ints, got 'x'"):
        mgx.jacobian(VEC, argnums="x")
    with pytest.raises(ValueError, match="argnums is empty"):
        mgx.hessian(VEC, argnums=())


@pytest.mark.parametrize(
    "call",
    [
        lambda: mgx.jacobian(VEC)(np.array([1, 2])),
        lambda: mgx.hessian(lambda a: a.sum())(np.array([1, 2])),
        lambda: mgx.value_and_grad(lambda a: a.sum())(np.array([1, 2])),
        lambda: mgx.vjp(VEC, np.array([1, 2])),
        lambda: mgx.jvp(VEC, (np.array([1, 2]),), (np.array([1, 2]),)),
        lambda: mgx.hvp(lambda a: a.sum(), (np.array([1, 2]),), (np.array([1, 2]),)),
    ],
    ids=["jacobian", "hessian", "value_and_grad", "vjp", "jvp", "hvp"],
)
def test_a_non_float_input_is_refused_with_its_dtype(call):
    with pytest.raises(TypeError, match="argument 0 must be floating-point to be differentiated.*int64"):
        call()


def test_tangent_and_cotangent_shapes_are_checked():
    with pytest.raises(ValueError, match=r"jvp: tangent 0 has shape \(2,\) but must have shape \(3,\)"):
        mgx.jvp(VEC, (X,), (np.ones(2),))
    with pytest.raises(ValueError, match=r"hvp: tangent 1 has shape \(\) but must have shape \(3,\)"):
        mgx.hvp(lambda a, b: (a * b).sum(), (X, X), (X, 1.0))
    _, vjp_fn = mgx.vjp(VEC, X)
    with pytest.raises(ValueError, match=r"vjp: the cotangent has shape \(3, 1\) but must have shape \(3,\)"):
        vjp_fn(np.ones((3, 1)))  # would broadcast: refused, not summed


def test_primals_and_tangents_must_be_tuples_of_one_length():
    with pytest.raises(TypeError, match=r"jvp: primals must be a tuple .*write \(primal,\)"):
        mgx.jvp(VEC, X, (X,))
    with pytest.raises(ValueError, match="hvp: got 2 primals but 1 tangents"):
        mgx.hvp(lambda a, b: (a * b).sum(), (X, X), (X,))


def test_a_cut_graph_is_an_error_and_allow_unused_gives_zeros():
    cut = lambda a, b: a * mgx.tensor(b.data)  # noqa: E731  (.data cuts b out)
    with pytest.raises(ValueError, match="jacobian: the result of fn does not depend on argument 1"):
        mgx.jacobian(cut, argnums=(0, 1))(X, X)
    with pytest.raises(ValueError, match="vjp: the result of fn does not depend on argument 1"):
        mgx.vjp(cut, X, X)[1](X)
    with pytest.raises(ValueError, match="jvp: the result of fn does not depend on argument 1"):
        mgx.jvp(cut, (X, X), (X, X))
    J0, J1 = mgx.jacobian(cut, argnums=(0, 1), allow_unused=True)(X, X)
    np.testing.assert_array_equal(J0, np.diag(X))
    np.testing.assert_array_equal(J1, np.zeros((3, 3)))
    _, tangent = mgx.jvp(cut, (X, X), (np.ones(3), np.ones(3)), allow_unused=True)
    np.testing.assert_array_equal(tangent, X)  # d(a * b)/da . 1 only
    with pytest.raises(TypeError, match="jacobian: fn returned float"):
        mgx.jacobian(lambda a: float(a.sum().item()))(X)


def test_inputs_are_not_modified():
    x, t = X.copy(), np.ones(3)
    mgx.jacobian(lambda a: a.exp())(x)
    mgx.hvp(lambda a: (a**3).sum(), (x,), (t,))
    mgx.jvp(lambda a: a.exp(), (x,), (t,))
    np.testing.assert_array_equal(x, X)
    np.testing.assert_array_equal(t, np.ones(3))
