"""Engine semantics: accumulation, shared subgraphs, retain_graph, create_graph, grad mode
per thread, detach / retain_grad, in-place safety, deep graphs and freeing memory."""

import gc
import threading
import weakref

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import microgradx as mgx
import microgradx.functional as F
from microgradx.testing import tensors
from tests.strategies import floats, positive, seeds


# --------------------------------------------------------------------------- #
# accumulation and graph shapes
# --------------------------------------------------------------------------- #
def test_gradients_accumulate_across_backward_calls_until_cleared():
    x = mgx.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3 + 2, 3 + 4])
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3, 3])


def test_diamond_and_a_tensor_used_twice_in_one_op():
    x = mgx.tensor(1.5, requires_grad=True)
    a = x * 2
    y = a * a + a.exp() + x  # a feeds three edges, x two
    y.backward()
    # dy/dx = 2 * (2a) + 2 e^a + 1, by hand
    a0 = 3.0
    assert x.grad.item() == pytest.approx(4 * a0 + 2 * np.exp(a0) + 1, rel=1e-14)


def test_backward_of_a_leaf_and_of_a_non_scalar_with_grad():
    x = mgx.tensor([1.0, 2.0], requires_grad=True)
    x.backward(np.array([5.0, 6.0]))
    np.testing.assert_array_equal(x.grad.data, [5.0, 6.0])
    w = mgx.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    (w * 2).backward(mgx.tensor([[1.0, 0.0], [0.0, 1.0]]))
    np.testing.assert_array_equal(w.grad.data, [[2.0, 0.0], [0.0, 2.0]])


def test_each_leaf_owns_a_writeable_gradient_buffer():
    # a + b passes one array to both inputs; sum's backward is a read-only broadcast view.
    a, b = mgx.tensor([1.0, 2.0], requires_grad=True), mgx.tensor([3.0, 4.0], requires_grad=True)
    h = (a + b).retain_grad()
    (h * 1.0).sum().backward()
    with mgx.no_grad():  # gradient clipping, as users write it
        a.grad *= 0.5
    np.testing.assert_array_equal(a.grad.data, [0.5, 0.5])
    np.testing.assert_array_equal(b.grad.data, [1.0, 1.0])
    np.testing.assert_array_equal(h.grad.data, [1.0, 1.0])
    x = mgx.tensor(np.ones((2, 3)), requires_grad=True)
    x.sum().backward()
    assert x.grad.data.flags.writeable and x.grad.data.base is None
    x.grad.data += 1.0
    np.testing.assert_array_equal(x.grad.data, np.full((2, 3), 2.0))


def test_non_leaves_keep_no_grad_unless_retain_grad():
    x = mgx.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    k = (x * 2).retain_grad()
    (h * k).sum().backward()
    assert h.grad is None
    np.testing.assert_array_equal(k.grad.data, h.data)  # d(sum h*k)/dk = h
    assert not h.is_leaf and x.is_leaf


def test_detach_stops_the_gradient_and_shares_data():
    x = mgx.tensor([1.0, 2.0], requires_grad=True)
    d = (x * 2).detach()
    assert d.is_leaf and not d.requires_grad
    y = (x * d).sum()
    y.backward()
    np.testing.assert_array_equal(x.grad.data, d.data)  # d is a constant to the graph


def test_ops_on_constants_record_nothing():
    a, b = mgx.tensor([1.0]), mgx.tensor([2.0])
    y = a * b + 1
    assert y.creator is None and not y.requires_grad
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.sum().backward()


# --------------------------------------------------------------------------- #
# errors of backward
# --------------------------------------------------------------------------- #
def test_backward_on_non_scalar_without_grad_names_the_shape():
    x = mgx.tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"one element.*shape \(2, 3\)"):
        (x * 2).backward()
    with pytest.raises(ValueError, match=r"grad has shape \(3,\) but the tensor has shape \(2, 3\)"):
        (x * 2).backward(np.ones(3))


def test_second_backward_through_a_freed_graph_names_retain_graph():
    x = mgx.tensor(2.0, requires_grad=True)
    y = (x * x).exp()
    y.backward()
    with pytest.raises(RuntimeError, match=r"retain_graph=True"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = mgx.tensor(2.0, requires_grad=True)
    y = x * x * x
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.item() == pytest.approx(2 * 3 * 4.0)


class _Custom(mgx.Function):
    """A user op whose backward returns what the test asks for."""

    def __init__(self, make_grad):
        self.make_grad = make_grad

    def forward(self, x):
        return x * 2

    def backward(self, gy):
        return self.make_grad(gy)


def test_wrong_gradient_shape_from_a_custom_op_names_op_input_and_shapes():
    x = mgx.tensor(np.ones((2, 3)), requires_grad=True)
    y = _Custom.apply(x, make_grad=lambda gy: mgx.tensor(np.ones((3, 2))))
    with pytest.raises(RuntimeError, match=r"_custom: .*shape \(3, 2\) for input 0 of shape \(2, 3\)"):
        y.sum().backward()


def test_broadcast_gradients_from_a_custom_op_are_summed_back():
    x = mgx.tensor(np.ones((1, 3)), requires_grad=True)
    y = _Custom.apply(x, make_grad=lambda gy: mgx.tensor(np.ones((4, 1, 3))))
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[4.0, 4.0, 4.0]])


def test_wrong_number_of_gradients_is_named():
    x = mgx.tensor(1.0, requires_grad=True)
    y = _Custom.apply(x, make_grad=lambda gy: (gy, gy))
    with pytest.raises(RuntimeError, match="2 gradients for 1 inputs"):
        y.backward()


def test_a_none_gradient_means_zero():
    x = mgx.tensor(1.0, requires_grad=True)
    y = _Custom.apply(x * 1.0, make_grad=lambda gy: None)
    (y + x).backward()
    assert x.grad.item() == 1.0  # only the direct path contributes


# --------------------------------------------------------------------------- #
# create_graph: higher-order derivatives
# --------------------------------------------------------------------------- #
def test_second_and_third_derivative_of_x_cubed():
    x = mgx.tensor(2.0, requires_grad=True)
    (x**3).backward(create_graph=True)
    g1 = x.grad
    assert g1.item() == 12.0 and g1.requires_grad  # 3x^2
    x.grad = None
    g1.backward(create_graph=True)
    g2 = x.grad
    assert g2.item() == 12.0  # 6x
    x.grad = None
    g2.backward()
    assert x.grad.item() == 6.0


def test_hessian_vector_product_equals_hand_derived_hessian():
    rng = np.random.default_rng(3)
    A = rng.normal(size=(4, 4))
    x0, v = rng.normal(size=4), rng.normal(size=4)
    x = mgx.tensor(x0, requires_grad=True)
    f = 0.5 * (x @ (mgx.tensor(A) @ x)) + (x**3).sum() / 3
    f.backward(create_graph=True)
    g = x.grad
    x.grad = None
    (g * v).sum().backward()
    H = 0.5 * (A + A.T) + np.diag(2 * x0)  # by hand
    np.testing.assert_allclose(x.grad.data, H @ v, rtol=1e-12, atol=1e-12)


SECOND_ORDER = {
    "mul": (lambda t: t * t * 2.0, floats(-3, 3)),
    "div": (lambda t: 1.0 / t, positive),
    "exp": (F.exp, floats(-3, 3)),
    "log": (F.log, positive),
    "sqrt": (F.sqrt, positive),
    "tanh": (F.tanh, floats(-3, 3)),
    "sigmoid": (F.sigmoid, floats(-5, 5)),
    "pow": (lambda t: t**3.5, positive),
    "softmax": (lambda t: F.softmax(t.reshape(1, -1), axis=1), floats(-3, 3)),
    "log_softmax": (lambda t: F.log_softmax(t.reshape(1, -1)), floats(-3, 3)),
    "cross_entropy": (lambda t: F.cross_entropy(t.reshape(1, -1), [0]), floats(-3, 3)),
    "matmul": (lambda t: t @ (t.reshape(-1, 1) * t), floats(-3, 3)),
    "mean_max": (lambda t: (t * t).mean() + t.max(), floats(-3, 3)),
    "getitem": (lambda t: t[[0, 0]] ** 2, floats(-3, 3)),
}


@pytest.mark.parametrize("name", sorted(SECOND_ORDER))
@given(data=st.data())
def test_create_graph_gradients_are_themselves_right(name, data):
    """d/dx <grad f(x), v> by the engine equals the oracle applied to the engine's first gradient."""
    op, elements = SECOND_ORDER[name]
    x0 = data.draw(tensors((3,), elements=elements))
    if name == "mean_max":
        x0 = x0 + np.array([0.0, 0.0, 10.0])  # a unique, well-separated maximum
    v = np.random.default_rng(data.draw(seeds)).uniform(-1, 1, 3)

    def first_grad(a, create_graph=False):
        t = mgx.tensor(a, requires_grad=True)
        op(t).sum().backward(create_graph=create_graph)
        return t, t.grad

    x, g = first_grad(x0.copy(), create_graph=True)
    x.grad = None
    (g * v).sum().backward()
    expected = mgx.numerical_gradient(lambda a: float(np.sum(first_grad(a)[1].data * v)), x0.copy())
    np.testing.assert_allclose(x.grad.data, expected, rtol=1e-5, atol=1e-6)


# --------------------------------------------------------------------------- #
# grad mode
# --------------------------------------------------------------------------- #
def test_no_grad_and_enable_grad_as_context_managers_and_decorators():
    x = mgx.tensor(1.0, requires_grad=True)
    with mgx.no_grad():
        assert not (x * 2).requires_grad
        with mgx.enable_grad():
            assert (x * 2).requires_grad
        assert not (x * 2).requires_grad
    assert (x * 2).requires_grad

    @mgx.no_grad()
    def f(t):
        return t * 2

    @mgx.no_grad
    def g(t):
        return t * 2

    assert not f(x).requires_grad and not g(x).requires_grad
    assert mgx.is_grad_enabled()


def test_grad_mode_is_per_thread():
    inside = threading.Event()
    done = threading.Event()
    seen = {}

    def worker():
        with mgx.no_grad():
            inside.set()
            done.wait(5)
            seen["worker"] = mgx.is_grad_enabled()

    t = threading.Thread(target=worker)
    t.start()
    assert inside.wait(5)
    x = mgx.tensor(1.0, requires_grad=True)
    seen["main"] = (x * 2).requires_grad  # recorded here while the worker is in no_grad
    done.set()
    t.join()
    assert seen == {"main": True, "worker": False}


# --------------------------------------------------------------------------- #
# in-place safety
# --------------------------------------------------------------------------- #
def test_modifying_a_saved_input_in_place_is_an_error_naming_the_op():
    w = mgx.tensor([1.0, 2.0], requires_grad=True)
    c = mgx.tensor([3.0, 4.0])
    y = (w * c).sum()
    c += 1
    with pytest.raises(RuntimeError, match=r"mul: input 1 .*modified by an in-place operation"):
        y.backward()


def test_modifying_a_view_of_a_saved_input_is_caught_through_the_shared_version():
    w = mgx.tensor([[1.0], [2.0]], requires_grad=True)
    c = mgx.tensor([3.0, 4.0])
    cv = c.reshape(2, 1)  # shares c's memory
    y = (w * cv).sum()
    c[0] = 10.0
    with pytest.raises(RuntimeError, match="mul: input 1"):
        y.backward()


def test_modifying_a_saved_output_under_no_grad_is_an_error():
    x = mgx.tensor([0.5], requires_grad=True)
    y = F.sigmoid(x)
    with mgx.no_grad():
        y *= 2
    with pytest.raises(RuntimeError, match="sigmoid: its output"):
        y.sum().backward()


def test_in_place_on_a_leaf_that_requires_grad():
    w = mgx.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"leaf that requires grad .* out of place: x = x \+ y"):
        w += 1
    with pytest.raises(RuntimeError, match=r"out of place: x = x \* y"):
        w *= 2
    with pytest.raises(RuntimeError, match=r"x = x.clone\(\); x\[i\] = v"):
        w[0] = 5.0
    before = w._version
    with mgx.no_grad():  # how an optimizer updates parameters
        w -= 0.5
    np.testing.assert_array_equal(w.data, [0.5, 1.5])
    assert w._version > before


def test_in_place_on_a_non_leaf_is_recorded():
    x = mgx.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y += x * x  # rebased: y is now y_old + x^2
    y *= 3
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, 3 * (2 + 2 * x.data))
    assert not y.is_leaf


def test_in_place_after_use_by_a_non_saving_op_follows_the_old_history():
    # y + 1 does not need y's value: its gradient flows into the history it read (y's old
    # version), not y's new one. Sigmoid's backward reads its output y, which was overwritten:
    # that is the error (PyTorch raises here too).
    x = mgx.tensor([1.0], requires_grad=True)
    y = F.sigmoid(x)
    z = y + 1
    y *= 3
    with pytest.raises(RuntimeError, match="sigmoid: its output .* was modified by an in-place"):
        z.backward(np.ones(1))
    x2 = mgx.tensor([1.0], requires_grad=True)
    y2 = x2 * 2
    z2 = y2 + 1
    y2 *= 3
    z2.backward(np.ones(1))  # by hand: dz2/dx2 = 2 (y2's update came after z2)
    np.testing.assert_array_equal(x2.grad.data, [2.0])


def test_setitem_of_a_value_that_requires_grad_into_a_buffer():
    w = mgx.tensor([1.0, 2.0], requires_grad=True)
    buf = mgx.tensor(np.zeros(4))
    buf[1:3] = w * w
    buf.sum().backward()
    np.testing.assert_array_equal(w.grad.data, 2 * w.data)


# --------------------------------------------------------------------------- #
# depth and memory
# --------------------------------------------------------------------------- #
def test_a_chain_of_a_million_ops_backpropagates_without_recursion():
    x = mgx.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(1_000_000):
        y = y + 1.0
    y.backward()
    assert x.grad.item() == 1.0
    assert y.item() == 1_000_001.0
    del y  # deallocating the freed chain must not overflow the C stack either


def test_a_deep_unbackpropagated_graph_is_freed_without_stack_overflow():
    x = mgx.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(200_000):
        y = y * 1.0
    ref = weakref.ref(y.creator)
    del y
    assert ref() is None


def test_intermediates_are_freed_by_backward_and_by_refcounting_alone():
    gc.collect()
    gc.disable()  # prove there are no reference cycles: refcounting alone must free all
    try:
        x = mgx.tensor(np.ones(3), requires_grad=True)
        h = x * 2
        z = h.exp()
        loss = z.sum()
        tensors = [weakref.ref(h), weakref.ref(z)]
        ops = [weakref.ref(z.creator), weakref.ref(h.creator)]
        del h, z
        assert all(r() is not None for r in tensors)  # the graph holds them until backward
        loss.backward()
        assert all(r() is None for r in tensors)  # released as backward passed them
        # the ops stay (small, without their saved arrays) so that the graph can be drawn,
        # as PyTorch keeps grad_fn nodes; they go with the root
        assert all(r() is not None and r().inputs is None for r in ops)
        del loss
        assert all(r() is None for r in ops)
        loss2 = (x * 3).sum()
        fn = weakref.ref(loss2.creator)
        del loss2  # no backward at all: dropping the root frees the graph
        assert fn() is None
    finally:
        gc.enable()


@pytest.mark.parametrize(
    "op", [F.exp, F.sqrt, F.tanh, F.sigmoid, F.softmax, F.log_softmax, lambda t: 2.0**t], ids=str
)
def test_ops_that_read_their_output_work_when_only_the_graph_holds_it(op):
    # Regression: releasing Sum dropped the last reference to op's output before op's backward ran.
    x0 = np.array([0.5, 1.5])
    x = mgx.tensor(x0, requires_grad=True)
    op(x).sum().backward()  # no Python name holds op(x)
    expected = mgx.numerical_gradient(lambda a: op(mgx.tensor(a)).sum().item(), x0.copy())
    np.testing.assert_allclose(x.grad.data, expected, rtol=1e-6, atol=1e-9)


def test_retain_graph_keeps_intermediates_until_the_root_goes():
    x = mgx.tensor(np.ones(3), requires_grad=True)
    h = x * 2
    loss = h.exp().sum()
    ref = weakref.ref(h)
    del h
    loss.backward(retain_graph=True)
    assert ref() is not None
    del loss
    assert ref() is None


def test_float32_stays_float32_end_to_end():
    x = mgx.tensor(np.ones((2, 3)), dtype=np.float32)
    W = mgx.tensor(np.full((3, 2), 0.5), dtype=np.float32, requires_grad=True)
    b = mgx.tensor(np.zeros(2), dtype=np.float32, requires_grad=True)
    loss = F.cross_entropy(F.sigmoid(x @ W + b) * 2.0, np.array([0, 1]))
    assert loss.dtype == np.float32
    loss.backward()
    assert W.grad.dtype == np.float32 and b.grad.dtype == np.float32


@pytest.mark.parametrize("enabled", [True, False])
def test_backward_leaves_the_garbage_collector_as_it_found_it(enabled):
    (gc.enable if enabled else gc.disable)()
    try:
        x = mgx.tensor([1.0, 2.0], requires_grad=True)
        (x * x).sum().backward()
        assert gc.isenabled() is enabled
        bad = _Custom.apply(x, make_grad=lambda gy: mgx.tensor(np.ones(3)))  # x has shape (2,)
        with pytest.raises(RuntimeError, match="gradient of shape"):
            bad.sum().backward()  # an error inside the pass restores it too
        assert gc.isenabled() is enabled
    finally:
        gc.enable()


def test_a_function_with_no_inputs_runs():
    class Const(mgx.Function):
        def forward(self):
            return np.array([1.0, 2.0])

    out = Const.apply()
    np.testing.assert_array_equal(out.data, [1.0, 2.0])
    assert not out.requires_grad


def test_no_grad_on_a_generator_function_covers_its_body():
    # Regression: the decorator returned the generator, whose body then ran with recording on.
    x = mgx.tensor(1.0, requires_grad=True)

    @mgx.no_grad()
    def scaled(n):
        for i in range(n):
            yield x * i
            assert not mgx.is_grad_enabled()  # still off when resumed

    @mgx.no_grad
    def bare():
        yield x * 2

    outs = list(scaled(3)) + list(bare())
    assert not any(o.requires_grad for o in outs)
    assert mgx.is_grad_enabled()  # the caller's mode between and after the steps
    gen = scaled(2)
    next(gen)
    assert (x * 2).requires_grad  # suspended: the caller records as before

    @mgx.enable_grad()
    def recording():
        yield x * 2

    with mgx.no_grad():
        assert next(recording()).requires_grad
