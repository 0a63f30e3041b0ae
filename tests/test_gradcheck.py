"""gradcheck catches planted mistakes and says where; grad and vjp give gradients as values."""

import re

import numpy as np
import pytest

import microgradx as mgx
import microgradx.functional as F
from microgradx.autograd import vjp


class Square(mgx.Function):
    """x**2 with a backward chosen by the test: right, or with a planted mistake."""

    def __init__(self, mistake=None):
        self.mistake = mistake

    def forward(self, x):
        return x**2

    def backward(self, gy):
        (x,) = self.inputs
        if self.mistake == "factor 2":
            return gy * 4 * x
        if self.mistake == "drops gy":
            return 2 * x
        if self.mistake == "sign of one element":
            flip = np.ones(x.shape)
            flip[1, 2] = -1.0
            return gy * 2 * x * flip
        if self.mistake == "constant in backward":  # right value, but not differentiable again
            return gy * mgx.tensor(2 * x.data)
        return gy * 2 * x


X = np.arange(1.0, 7.0).reshape(2, 3) / 4


def test_a_correct_op_passes():
    assert mgx.gradcheck(lambda x: Square.apply(x), X)
    assert mgx.gradcheck(lambda x: Square.apply(x), X, order=2)


@pytest.mark.parametrize("mistake", ["factor 2", "drops gy", "sign of one element"])
def test_planted_mistakes_are_caught(mistake):
    with pytest.raises(mgx.GradcheckError):
        mgx.gradcheck(lambda x: Square.apply(x, mistake=mistake), X)
    assert mgx.gradcheck(lambda x: Square.apply(x, mistake=mistake), X, raise_exception=False) is False


def test_the_message_names_input_index_values_and_tolerance():
    W = mgx.tensor(X, name="W")
    with pytest.raises(mgx.GradcheckError) as info:
        mgx.gradcheck(lambda a, w: a * Square.apply(w, mistake="sign of one element"), np.ones((2, 3)), W)
    msg = str(info.value).splitlines()[0]  # (the report of the ops checked one by one follows)
    assert "input 1 'W' (shape (2, 3), float64)" in msg
    assert "at index (1, 2)" in msg  # the one flipped element
    backward, central = (float(v) for v in re.findall(r"gives? (-?[\d.e+-]+)", msg))
    assert backward == pytest.approx(-central, rel=1e-6)  # the sign is what is wrong
    assert "tolerance" in msg and "1 of 6 elements are off" in msg
    assert isinstance(info.value, AssertionError)


def test_a_backward_that_ignores_its_incoming_gradient_fails_even_for_scalar_outputs():
    # with gy = 1 the mistake would be invisible; gradcheck weights the output randomly
    assert not mgx.gradcheck(lambda x: Square.apply(x, mistake="drops gy").sum(), X, raise_exception=False)


def test_order_2_checks_create_graph_gradients():
    fn = lambda x: Square.apply(x, mistake="constant in backward")  # noqa: E731
    assert mgx.gradcheck(fn, X)  # first derivatives are right
    with pytest.raises(mgx.GradcheckError, match="order-2 gradient"):
        mgx.gradcheck(fn, X, order=2)
    assert mgx.gradcheck(lambda x, W: F.softmax(x @ W), X, X.T * 0.5, order=2)


def test_a_first_order_mistake_is_not_called_order_2():
    # Regression: with order=2 the first-order check was labelled "order-2 gradient (create_graph=True)"
    with pytest.raises(mgx.GradcheckError) as info:
        mgx.gradcheck(lambda x: Square.apply(x, mistake="factor 2"), X, order=2)
    assert str(info.value).startswith("gradcheck: the gradient of input 0 ")


def test_large_inputs_use_the_projection_check():
    big = np.linspace(-1, 1, 60).reshape(6, 10)
    assert mgx.gradcheck(lambda x: F.tanh(Square.apply(x)), big, max_full_size=10)
    with pytest.raises(mgx.GradcheckError, match=r"projection check <v, J u> = <J\^T v, u>"):
        mgx.gradcheck(lambda x: Square.apply(x, mistake="factor 2"), big, max_full_size=10)


def test_integer_inputs_are_constants_and_float32_warns():
    logits = np.array([[0.2, -1.0, 0.5], [1.0, 0.0, -0.5]])
    assert mgx.gradcheck(F.cross_entropy, logits, np.array([2, 0]))
    with pytest.warns(mgx.GradcheckWarning, match="float32 are too coarse"):
        mgx.gradcheck(lambda x: x * 2.0, np.ones(3, dtype=np.float32), raise_exception=False)
    with pytest.raises(ValueError, match="no floating-point input"):
        mgx.gradcheck(lambda i: i * 2, np.array([1, 2]))


# --------------------------------------------------------------------------- #
# messages in Jacobian terms: v detects, the values shown are recomputed exactly
# --------------------------------------------------------------------------- #
def test_a_scalar_output_reports_the_gradient_itself():
    # Regression (issue 14): the message gave the weighted numbers (-0.438 and -0.877 here), when
    # backward's gradient is b = -1.6 (b.detach() is a constant) and the true one 2 b = -3.2 (by hand).
    with pytest.raises(mgx.GradcheckError) as info:
        mgx.gradcheck(lambda b: (b * b.detach()).sum(), np.array([0.8, -1.6]))
    first = str(info.value).splitlines()[0]
    assert "wrong at index (1,): backward gives -1.6, central differences give -3.2 (" in first
    assert "2 of 2 elements are off" in first
    # the same for a planted factor: Square's "factor 2" gives 4 x for 2 x; the worst is the largest x
    with pytest.raises(mgx.GradcheckError) as info:
        mgx.gradcheck(lambda x: Square.apply(x, mistake="factor 2").sum(), X)
    first = str(info.value).splitlines()[0]
    assert "wrong at index (1, 2): backward gives 6, central differences give 3 (" in first  # x = 1.5


def test_a_vector_output_names_the_worst_jacobian_entry():
    # Cube's backward with 3 x for 3 x**2 (the docs' example): d out[i] / d in[i] is 3 x[i] by backward
    # and 3 x[i]**2 in truth: 6 and 12 at x = 2 (by hand); the off-diagonal entries are 0 in both
    class Cube(mgx.Function):
        def forward(self, x):
            return x**3

        def backward(self, gy):
            (x,) = self.inputs
            return gy * 3 * x

    x = np.array([[0.5, -1.0], [2.0, 0.25]])
    with pytest.raises(mgx.GradcheckError) as info:
        mgx.gradcheck(Cube.apply, x)
    first = str(info.value).splitlines()[0]
    assert "is wrong at index (1, 0): the worst Jacobian entry there is d out[1, 0] / d in[1, 0]: " in first
    assert "backward gives 6, central differences give 12 (" in first
    assert "4 of 4 elements are off (found as J^T v, for a random weighting v of the output)" in first


def test_a_vector_output_names_the_worst_jacobian_entry_off_the_diagonal():
    A = np.array([[1.0, 2.0, -0.5], [0.3, -1.0, 4.0], [2.5, 0.7, 0.2]])

    class MatVec(mgx.Function):
        """y = A x; the planted backward uses A where A^T belongs (d y[j] / d x[i] = A[j, i])."""

        def forward(self, x):
            return A @ x

        def backward(self, gy):
            return mgx.tensor(A) @ gy

    x = np.array([0.5, -1.0, 2.0])
    with pytest.raises(mgx.GradcheckError) as info:
        mgx.gradcheck(MatVec.apply, x)
    m = info.value.report.worst
    assert m.kind == "jacobian"
    (i,), (j,) = m.index, m.output_index
    # column i of the true Jacobian is A[:, i]; the backward gives A[i, :]: the worst entry is the
    # one that exceeds its tolerance most, and both values are entries of A
    excess = np.abs(A[i, :] - A[:, i]) - (1e-5 + 1e-3 * np.abs(A[:, i]))
    assert j == int(np.argmax(excess)) and j != i
    assert m.backward == pytest.approx(A[i, j], rel=1e-12)
    assert m.numerical == pytest.approx(A[j, i], rel=1e-8)
    assert f"d out[{j}] / d in[{i}]: backward gives" in str(info.value).splitlines()[0]


def test_a_backward_that_ignores_its_incoming_gradient_is_called_so():
    x = np.array([0.5, -1.5, 2.0])
    with pytest.raises(mgx.GradcheckError) as info:
        mgx.gradcheck(lambda t: Square.apply(t, mistake="drops gy").sum(), x)
    first = str(info.value).splitlines()[0]
    assert "with the output's gradient 1, one element at a time, backward is right" in first
    assert "does it ignore gy?" in first
    report = info.value.report
    assert report.failing.cls is Square and report.failing.mismatch.kind == "jacobian"
    # alone, one output element at a time: d out[j] / d in[i] is 2 x[i] by backward, 0 off the diagonal
    m = report.failing.mismatch
    assert m.output_index != m.index and m.numerical == pytest.approx(0.0, abs=1e-8)
    assert m.backward == pytest.approx(2 * x[m.index])


def test_no_report_without_raising_and_a_broken_localiser_hides_nothing(monkeypatch):
    import microgradx.debug

    def broken(*args, **kwargs):
        raise RuntimeError("the localiser broke")

    monkeypatch.setattr(microgradx.debug, "_locate", broken)
    fn = lambda x: Square.apply(x, mistake="factor 2")  # noqa: E731
    assert mgx.gradcheck(fn, X, raise_exception=False) is False  # (the localiser is not called)
    with pytest.raises(mgx.GradcheckError) as info:
        mgx.gradcheck(fn, X)
    assert info.value.report is None
    assert "is wrong at index" in str(info.value)
    assert "(The ops could not be checked one by one: RuntimeError: the localiser broke)" in str(info.value)


def test_grad_on_the_book_functions():
    # x0^2 + x1^2 at (3, 4): [6, 8]; the tangent of 0.01 x^2 + 0.1 x at x = 10 has slope 0.3
    np.testing.assert_array_equal(mgx.grad(lambda x: (x**2).sum())(np.array([3.0, 4.0])), [6.0, 8.0])
    assert mgx.grad(lambda x: 0.01 * x**2 + 0.1 * x)(10.0) == pytest.approx(0.3, rel=1e-15)
    dx, dy = mgx.grad(lambda x, y: (x * y).sum(), argnums=(0, 1))(np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    np.testing.assert_array_equal(dx, [3.0, 4.0])
    np.testing.assert_array_equal(dy, [1.0, 2.0])


def test_grad_errors_are_clear():
    with pytest.raises(TypeError, match=r"one element, got shape \(2,\)"):
        mgx.grad(lambda x: x * 2)(np.array([1.0, 2.0]))
    with pytest.raises(TypeError, match="argument 0 must be floating-point"):
        mgx.grad(lambda x: x.sum())(np.array([1, 2]))
    with pytest.raises(IndexError, match="argnums 2 is out of range for 1 positional"):
        mgx.grad(lambda x: x, argnums=2)(1.0)


def test_vjp_touches_no_grad_and_keeps_the_graph():
    x = mgx.tensor([1.0, 2.0], requires_grad=True)
    h = x * x
    y = (h * 3).sum()
    (gx, gh) = vjp(y, [x, h])
    np.testing.assert_array_equal(gx.data, 6 * x.data)
    np.testing.assert_array_equal(gh.data, [3.0, 3.0])
    assert x.grad is None and h.grad is None
    y.backward()  # the graph is still there
    np.testing.assert_array_equal(x.grad.data, 6 * x.data)


# --------------------------------------------------------------------------- #
# numerical_gradient below the input's resolution
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize(
    "x",
    [np.array([1.0, 2.0], dtype=np.float16), np.array([5000.0], dtype=np.float32), np.array([1e13])],
    ids=["float16 at 1", "float32 at 5000", "float64 at 1e13"],
)
def test_numerical_gradient_refuses_a_step_below_the_resolution(x):
    # Regression: x + h == x, so both sides were equal and the "gradient" was 0 without a word.
    with pytest.raises(ValueError, match=r"x \+ h == x .* float64 .* larger h"):
        mgx.numerical_gradient(lambda a: np.sum(a**2), x)


@pytest.mark.parametrize(
    "x, h",
    [(np.array([300.0], dtype=np.float32), 1e-4), (np.array([3.0, 4.0]), 1e-15), (np.array([1e6]), 1e-10)],
    ids=["float32 at 300", "float64, h = 1e-15", "float64 at 1e6, h = 1e-10"],
)
def test_numerical_gradient_warns_where_the_step_is_stored_coarsely(x, h):
    # Regression (a new-user trial): these gave 546.9 for 600, [7.1, 7.1] for [6, 8] and 2.44e6
    # for 2e6 without a word, since x + h != x there but the step actually taken is 8-16% off.
    with pytest.warns(mgx.GradcheckWarning, match=r"the step h = .* is stored \d+% off"):
        mgx.numerical_gradient(lambda a: np.sum(a.astype(np.float64) ** 2), x, h=h)


def test_numerical_gradient_refuses_a_step_that_is_not_positive():
    with pytest.raises(ValueError, match="h must be a positive number, got 0"):
        mgx.numerical_gradient(lambda a: np.sum(a**2), np.array([1.0]), h=0)


def test_numerical_gradient_with_a_step_the_input_resolves():
    x = np.array([5000.0], dtype=np.float32)
    with pytest.warns(mgx.GradcheckWarning, match="x is float32"):  # still: f is rounded in float32
        g = mgx.numerical_gradient(lambda a: float(np.sum(a.astype(np.float64) ** 2)), x, h=0.5)
    np.testing.assert_allclose(g, [10000.0], rtol=1e-6)


# --------------------------------------------------------------------------- #
# grad composes, and refuses a result that is not connected to its input
# --------------------------------------------------------------------------- #
def test_grad_of_grad_to_third_order():
    f = lambda t: (t**3).sum()  # noqa: E731
    x = np.array([2.0])
    assert mgx.grad(mgx.grad(f))(x) == pytest.approx(12.0)  # 6x, by hand (returned [0.] before)
    assert mgx.grad(mgx.grad(mgx.grad(f)))(x) == pytest.approx(6.0)
    g = lambda t: F.tanh(t).sum()  # noqa: E731
    xs = np.array([0.3, -0.7])
    second = mgx.grad(lambda t: mgx.grad(g)(t).sum())(xs)
    np.testing.assert_allclose(second, -2 * np.tanh(xs) * (1 - np.tanh(xs) ** 2), rtol=1e-12)


def test_grad_of_a_linear_function_composes_to_zero():
    assert mgx.grad(mgx.grad(lambda t: (3.0 * t).sum()))(np.array([1.5])) == 0.0  # as in JAX


def test_grad_inside_a_loss_is_differentiable():
    # a gradient penalty: a Tensor that requires grad goes in, a Tensor in the graph comes out
    w = mgx.tensor([1.0, -2.0], requires_grad=True)
    g = mgx.grad(lambda t: (t**3).sum())(w)
    assert isinstance(g, mgx.Tensor) and g.requires_grad
    (g * g).sum().backward()  # sum (3 w^2)^2 -> d/dw = 36 w^3
    np.testing.assert_allclose(w.grad.data, 36 * w.data**3)


def test_grad_of_a_function_not_connected_to_its_input_is_an_error():
    with pytest.raises(TypeError, match="grad: fn returned float; it must return a Tensor"):
        mgx.grad(lambda t: float((t.data**2).sum()))(np.array([1.0, 2.0]))
    x = mgx.tensor(1.0)
    with pytest.raises(ValueError, match="grad: the result of fn does not depend on argument 1"):
        mgx.grad(lambda x, y: x * 2.0, argnums=1)(x, 5.0)
    with pytest.raises(ValueError, match="does not depend on argument 0: .* allow_unused=True"):
        mgx.grad(lambda t: mgx.tensor(t.data).sum())(np.array([1.0]))
    np.testing.assert_array_equal(mgx.grad(lambda x, y: x * 2.0, argnums=1, allow_unused=True)(x, 5.0), 0.0)


def test_a_gradient_penalty_with_respect_to_the_input_keeps_the_parameters():
    # Regression (found by a new-user trial): x is data, W a parameter fn closes over;
    # grad(f)(x) returned an array, so the penalty added nothing to W.grad.
    W0 = np.array([[0.5, -1.0], [2.0, 0.3]])
    x = mgx.tensor([[1.0, 2.0]])
    W = mgx.tensor(W0, requires_grad=True)

    def f(inp, w=W):
        return (inp @ w).tanh().sum()

    gx = mgx.grad(f)(x)
    assert isinstance(gx, mgx.Tensor) and gx.requires_grad
    (f(x) + ((gx**2).sum() - 1) ** 2).backward()

    def loss_of(w):  # the same loss, with the input gradient written out by hand
        h = np.tanh(x.data @ w)
        g = (1 - h**2) @ w.T  # d sum tanh(x W) / dx
        return float(h.sum() + ((g**2).sum() - 1) ** 2)

    np.testing.assert_allclose(W.grad.data, mgx.numerical_gradient(loss_of, W0.copy()), rtol=1e-6)
    with mgx.no_grad():  # nothing is recorded: arrays
        assert isinstance(mgx.grad(f)(x), np.ndarray)
    assert isinstance(mgx.grad(lambda t: (t**2).sum())(x), np.ndarray)  # no parameter: arrays


def test_grad_differentiates_with_respect_to_the_argument_not_other_uses_of_the_same_tensor():
    # Regression (review): "perturbation confusion". d/dx [x * d/dy (x y)] = d/dx x^2 = 2x (JAX
    # and torch.func give 2 at x = 1); differentiating the caller's own tensor gave 4.
    assert mgx.grad(lambda x: x * mgx.grad(lambda y: x * y)(x))(np.array(1.0)) == pytest.approx(2.0)
    a = mgx.tensor([1.0, 2.0], requires_grad=True)
    u = a * 2
    f = lambda z: (z * u).sum()  # noqa: E731
    np.testing.assert_array_equal(mgx.grad(f)(a).data, u.data)  # u, as for grad(f)(a.data)
    np.testing.assert_array_equal(mgx.grad(f)(a.data).data, u.data)
    w = mgx.tensor(2.0, requires_grad=True)
    ga, gb = mgx.grad(lambda p, q: p * q * q, argnums=(0, 1))(w, w)  # the same tensor twice
    assert (ga.item(), gb.item()) == (4.0, 8.0)  # q^2 and 2 p q, by hand


def test_nested_grad_on_arrays_returns_arrays():
    """Found by the transforms work: the inner grad's own variables counted as outside tensors, so
    the outer gradient came back as a Tensor although every argument was an array. By hand:
    d/da sum(a * b * a) = 2 a b = 2 b at a = 1; d/db sum(2 b) = 2."""
    y = np.array([1.0, 2.0, 3.0])
    g = mgx.grad(lambda b: mgx.grad(lambda a, bb: (a * bb * a).sum())(np.ones(3), b).sum())(y)
    assert type(g) is np.ndarray
    np.testing.assert_array_equal(g, [2.0, 2.0, 2.0])


def test_the_grad_of_a_constant_gradient_is_zero_as_in_jax():
    # d/dx (x + y) = 1 whatever y is: its derivative with respect to y is 0 (it raised before)
    assert mgx.grad(lambda y: mgx.grad(lambda x, yy: x + yy)(2.0, y))(3.0) == 0.0


def test_repeated_argnums_are_named():
    with pytest.raises(ValueError, match=r"grad: argnums names argument 0 twice"):
        mgx.grad(lambda x: x.sum(), argnums=(0, 0))(np.ones(2))
