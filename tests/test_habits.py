"""Habits from PyTorch, DeZero and NumPy: each wrong form gets an error showing the microgradx form.

Also the two PyTorch behaviours readers rely on: ``mgx.set_grad_enabled(False)`` called
as a plain function takes effect at once, and ``Linear``/``MLP`` take ``dtype=``. The
expected values come from NumPy, written out next to each assertion.
"""

import inspect
import sys
import threading

import numpy as np
import pytest

import microgradx as mgx
import microgradx.testing as mgx_testing
from microgradx import nn


def _axis_methods():
    """Every Tensor method with an axis parameter (axis, axis1, axis2)."""
    return sorted(
        name
        for name, f in vars(mgx.Tensor).items()
        if inspect.isfunction(f) and any(p.startswith("axis") for p in inspect.signature(f).parameters)
    )


# --------------------------------------------------------------------------- #
# dim= / keepdim=
# --------------------------------------------------------------------------- #
def test_the_reductions_of_the_issue_are_among_the_axis_methods():
    names = set(_axis_methods())
    assert {"sum", "mean", "max", "min", "prod", "var", "std", "softmax", "log_softmax", "argmax"} <= names


@pytest.mark.parametrize("name", _axis_methods())
def test_dim_says_use_axis(name):
    x = mgx.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    param = "dim" if "axis" in inspect.signature(getattr(mgx.Tensor, name)).parameters else "dim0"
    want = "axis" if param == "dim" else "axis1"
    with pytest.raises(
        TypeError, match=rf"Tensor\.{name}\(\) got {param}=0: use {want}=0 \(microgradx follows NumPy\)"
    ):
        getattr(x, name)(**{param: 0})


def test_keepdim_says_keepdims_and_both_are_named():
    x = mgx.tensor(np.ones((2, 3)))
    with pytest.raises(TypeError) as e:
        x.mean(dim=1, keepdim=True)
    assert str(e.value) == (
        "Tensor.mean() got dim=1, keepdim=True: use axis=1, keepdims=True (microgradx follows NumPy)"
    )
    with pytest.raises(TypeError, match=r"use axis1=0, axis2=1"):
        x.swapaxes(dim0=0, dim1=1)


def test_numpy_keywords_still_work_and_keep_the_signature():
    a = np.arange(6.0).reshape(2, 3)
    x = mgx.tensor(a, requires_grad=True)
    np.testing.assert_array_equal(x.sum(axis=0, keepdims=True).data, a.sum(axis=0, keepdims=True))
    np.testing.assert_array_equal(x.max(1).data, a.max(1))
    x.mean(axis=1).sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.full((2, 3), 1 / 3))  # d mean / d x = 1/3 each
    assert list(inspect.signature(mgx.Tensor.sum).parameters) == ["self", "axis", "keepdims"]
    assert mgx.Tensor.sum.__doc__.startswith("Sum over ``axis``")


# --------------------------------------------------------------------------- #
# Function: PyTorch's @staticmethod forward(ctx, x), DeZero's Sq()(x)
# --------------------------------------------------------------------------- #
def test_a_pytorch_style_function_is_refused_showing_our_form():
    with pytest.raises(TypeError) as e:

        class Sq(mgx.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x**2

            @staticmethod
            def backward(ctx, grad_output):
                (x,) = ctx.saved_tensors
                return 2 * x * grad_output

    message = str(e.value)
    assert "Sq.forward is a @staticmethod" in message
    for form in (
        "def forward(self, x):",
        "def backward(self, grad_output):",
        "(x,) = self.inputs",
        "Sq.apply(x)",
    ):
        assert form in message, form


@pytest.mark.parametrize("decorator", [staticmethod, classmethod])
def test_a_static_or_class_backward_alone_is_refused(decorator):
    with pytest.raises(
        TypeError, match=r"(?s)Mul2\.backward is a @(static|class)method.*Mul2\.apply\(a, b\)"
    ):
        type(
            "Mul2",
            (mgx.Function,),
            {"forward": lambda self, a, b: a * b, "backward": decorator(lambda ctx, gy: (gy, gy))},
        )


class Sq(mgx.Function):
    """Forward: y = x**2.   Backward: dL/dx = dL/dy * 2x"""

    def forward(self, x):
        return x**2

    def backward(self, gy):
        (x,) = self.inputs
        return gy * 2 * x


def test_a_dezero_style_call_is_refused_naming_apply():
    x = mgx.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(
        TypeError, match=r"Sq\(\)\(x\): a microgradx Function is applied through its class, Sq\.apply\(x\)"
    ):
        Sq()(x)
    with pytest.raises(TypeError, match=r"Sq\.apply\(x0, x1\)"):
        Sq()(x, x)
    Sq.apply(x).sum().backward()  # the microgradx form works
    np.testing.assert_array_equal(x.grad.data, [2.0, 4.0])  # 2x


def test_a_plain_method_named_ctx_is_still_a_method():
    class Cube(mgx.Function):
        def forward(ctx, x):  # ctx is self here: allowed
            return x**3

        def backward(ctx, gy):
            (x,) = ctx.inputs
            return gy * 3 * x * x

    x = mgx.tensor(2.0, requires_grad=True)
    Cube.apply(x).backward()
    assert x.grad.item() == 12.0  # 3 * 2**2


# --------------------------------------------------------------------------- #
# .data replaced by a list, a float, or int values on a tensor that requires grad
# --------------------------------------------------------------------------- #
LIST_USES = {
    "x * x": lambda x: x * x,
    "x + x": lambda x: x + x,  # list + list concatenates: a silent (4,) without the check
    "x * 2": lambda x: x * 2,
    "x.exp().sum().backward()": lambda x: x.exp().sum().backward(),  # exp(list) is right: backward refuses
    "repr": repr,
    "(x ** 2).sum().backward()": lambda x: (x**2).sum().backward(),
    "x.sum(axis=0)": lambda x: x.sum(axis=0),
    "x.shape": lambda x: x.shape,
    "x[0]": lambda x: x[0],
}


@pytest.mark.parametrize("use", LIST_USES.values(), ids=list(LIST_USES))
def test_a_list_as_data_is_refused_at_first_use(use):
    x = mgx.tensor([1.0, 2.0], requires_grad=True, name="x")
    x.data = [7.0, 8.0]
    with pytest.raises(
        TypeError,
        match=r"tensor 'x'.* has a list as \.data \(\[7\.0, 8\.0\]\); \.data must be a numpy\.ndarray",
    ):
        use(x)


def test_a_float_as_data_is_refused():
    x = mgx.tensor(1.0, requires_grad=True)
    x.data = 3.0
    with pytest.raises(TypeError, match=r"has a float as \.data \(3\.0\)"):
        x * 2.5


def test_int_data_on_a_tensor_that_requires_grad_is_refused():
    x = mgx.tensor([1.0, 2.0], requires_grad=True, name="x")
    x.data = np.array([7, 8])
    # without the check: an int64 gradient [2, 2], the true 2.5 rounded down
    with pytest.raises(TypeError, match=r"tensor 'x' requires grad but its \.data holds int64 values"):
        (x * 2.5).sum().backward()
    with pytest.raises(
        TypeError, match=r"mul: tensor 'x' \(input 0\) requires grad but its \.data holds int64"
    ):
        x * x
    x.data = np.array([7.0, 8.0])  # the fix the message names
    (x * 2.5).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [2.5, 2.5])


def test_int_data_without_grad_stays_fine():
    labels = mgx.tensor([0, 1])
    labels.data = np.array([2, 3])
    np.testing.assert_array_equal((labels + 1).data, [3, 4])


# --------------------------------------------------------------------------- #
# set_grad_enabled as a plain call (PyTorch's torch.set_grad_enabled(False))
# --------------------------------------------------------------------------- #
@pytest.fixture
def grad_mode_restored():
    yield
    mgx.set_grad_enabled(True)


def test_set_grad_enabled_as_a_plain_call_takes_effect_at_once(grad_mode_restored):
    w = mgx.tensor(1.0, requires_grad=True)
    mgx.set_grad_enabled(False)
    assert not mgx.is_grad_enabled() and not (w * 2).requires_grad
    mgx.set_grad_enabled(True)
    assert mgx.is_grad_enabled() and (w * 2).requires_grad


def test_set_grad_enabled_in_a_with_block_and_as_a_decorator_restores(grad_mode_restored):
    w = mgx.tensor(1.0, requires_grad=True)
    with mgx.set_grad_enabled(False):
        assert not (w * 2).requires_grad
        with mgx.set_grad_enabled(True):
            assert (w * 2).requires_grad
        assert not (w * 2).requires_grad
    assert (w * 2).requires_grad

    @mgx.set_grad_enabled(False)
    def evaluate():
        return (w * 2).requires_grad

    assert mgx.is_grad_enabled()  # decorating changed nothing outside the function
    assert evaluate() is False and evaluate() is False
    assert mgx.is_grad_enabled()

    mgx.set_grad_enabled(False)
    with mgx.enable_grad():
        assert (w * 2).requires_grad
    assert not mgx.is_grad_enabled()  # back to the plain call's mode
    with mgx.no_grad():
        pass
    assert not mgx.is_grad_enabled()


def test_set_grad_enabled_is_per_thread(grad_mode_restored):
    seen = []
    t = threading.Thread(target=lambda: (mgx.set_grad_enabled(False), seen.append(mgx.is_grad_enabled())))
    t.start()
    t.join()
    assert seen == [False] and mgx.is_grad_enabled()


# --------------------------------------------------------------------------- #
# Linear / MLP dtype=
# --------------------------------------------------------------------------- #
def test_linear_dtype_float32_draws_the_same_values_rounded():
    w64 = nn.Linear(3, 2, rng=np.random.default_rng(0)).weight.data
    layer = nn.Linear(3, 2, dtype=np.float32, rng=np.random.default_rng(0))
    assert layer.weight.dtype == np.float32 and layer.bias.dtype == np.float32
    np.testing.assert_array_equal(layer.weight.data, w64.astype(np.float32))
    x = np.ones((4, 3), np.float32)
    assert layer(x).dtype == np.float32
    mlp = nn.MLP([3, 5, 2], dtype="float32")
    assert {p.dtype for p in mlp.parameters()} == {np.dtype(np.float32)}


@pytest.mark.parametrize("dtype", [np.int64, "int32", bool, "not a dtype"])
def test_linear_refuses_a_dtype_that_is_not_float(dtype):
    with pytest.raises(TypeError, match=r"Linear: dtype must be a float dtype"):
        nn.Linear(3, 2, dtype=dtype)
    with pytest.raises(TypeError, match=r"MLP: dtype must be a float dtype"):
        nn.MLP([3, 2], dtype=dtype)


def test_a_float32_input_to_a_float64_layer_follows_numpy_promotion():
    layer = nn.Linear(3, 2, rng=np.random.default_rng(1))
    W, b = layer.weight.data, layer.bias.data
    x32 = np.random.default_rng(2).standard_normal((4, 3)).astype(np.float32)
    g = np.random.default_rng(3).standard_normal((4, 2))
    x = mgx.tensor(x32, requires_grad=True)
    y = layer(x)
    (y * mgx.tensor(g)).sum().backward()
    # NumPy's rule: float32 with float64 gives float64, computed on the float64 value of x
    x64 = x32.astype(np.float64)
    assert y.dtype == np.float64
    np.testing.assert_allclose(y.data, x64 @ W + b, rtol=1e-15)
    # each gradient in its own tensor's dtype: dL/dx = g W^T (float32), dL/dW = x^T g (float64)
    assert x.grad.dtype == np.float32 and layer.weight.grad.dtype == np.float64
    np.testing.assert_array_equal(x.grad.data, (g @ W.T).astype(np.float32))
    np.testing.assert_allclose(layer.weight.grad.data, x64.T @ g, rtol=1e-14)
    np.testing.assert_allclose(layer.bias.grad.data, g.sum(axis=0), rtol=1e-14)


# --------------------------------------------------------------------------- #
# microgradx.testing without Hypothesis
# --------------------------------------------------------------------------- #
def test_testing_without_hypothesis_says_pip_install_testing(monkeypatch):
    monkeypatch.setitem(sys.modules, "hypothesis", None)  # `import hypothesis` now fails
    with pytest.raises(ModuleNotFoundError, match=r"pip install microgradx\[testing\]") as e:
        mgx_testing.tensors()
    assert e.value.name == "hypothesis"
    for strategy in (mgx_testing.broadcastable_shapes, mgx_testing.reals, mgx_testing.positive):
        with pytest.raises(ModuleNotFoundError, match=r"microgradx\[testing\]"):
            strategy()
    mgx_testing.assert_gradients_match(Sq.apply, np.array([1.0, -2.0]))  # needs no Hypothesis
