"""In-place updates as users write them: the right-hand side reads the target, slices, views.

Each program is written twice: with in-place updates on a microgradx graph, and as an
out-of-place NumPy function of the same leaves. The expected gradient is the central-difference
oracle of the NumPy twin (an independent computation); where PyTorch 2.13 raises because a
value its backward needs was overwritten, we must raise too, naming the op. (The same programs
run against PyTorch itself in tests/test_user_programs.py.)
"""

import numpy as np
import pytest

import microgradx as mgx
import microgradx.functional as F

A0 = np.array([1.0, 2.0, 3.0, 4.0])
W0 = np.array([0.5, -1.5, 2.0, 3.0])


def gradients(program):
    """d sum(program(c)**2)/d(a, W) with c = 2a, computed by microgradx."""
    a = mgx.tensor(A0, requires_grad=True)
    W = mgx.tensor(W0, requires_grad=True)
    out = program(a * 2, W)
    (out * out).sum().backward()
    return (None if a.grad is None else a.grad.data), (None if W.grad is None else W.grad.data)


def oracle(twin):
    """The same loss with the NumPy twin (out-of-place), differentiated numerically."""

    def loss(a, W):
        out = twin(a * 2, W)
        return float(np.sum(out * out))

    ga = mgx.numerical_gradient(lambda a: loss(a, W0.copy()), A0.copy())
    gW = mgx.numerical_gradient(lambda W: loss(A0.copy(), W), W0.copy())
    return ga, gW


def _iadd_reads_target(c, W):
    c += c + 1
    return c


def _iadd_self(c, W):
    c += c
    return c


def _isub_exp(c, W):
    c -= F.exp(c * 0.1)
    return c


def _setitem_reads_target(c, W):
    c[0] = c[1] * 5
    return c


def _slice_assign_reads_target(c, W):
    c[2:4] = c[0:2] * 2
    return c


def _imul_by_parameter(c, W):
    c *= W
    return c


def _idiv_by_parameter(c, W):
    c /= W
    return c


def _iadd_through_a_slice_view(c, W):
    v = c[0:2]
    v += W[0:2]  # writes into c
    return c


def _slice_iadd(c, W):
    c[0:2] += W[0:2]  # Python: tmp = c[0:2]; tmp += ...; c[0:2] = tmp
    return c


def _view_read_after_base_update(c, W):
    v = c[0:2]
    c += 1  # v sees the new values, and its history follows
    return c * v.sum()


def _iadd_through_a_reshape_view(c, W):
    v = c.reshape(2, 2)
    v += W.reshape(2, 2)
    return c


def _imul_through_a_transposed_reshape(c, W):
    v = c.reshape(2, 2).T
    v *= 2
    return c


def _imul_through_a_0d_view(c, W):
    v = c[0]
    v *= W[0]
    return c


def _relu_then_update_input(c, W):
    d = c - 3
    y = F.relu(d)  # relu's backward reads its output, not its input (as in PyTorch)
    d += 1
    return y + d


def _div_then_update_output(c, W):
    y = c / W  # d/dW reads c and W, not y
    y += 1
    return y


def _detached_alias_update(c, W):
    d = c.detach()
    d += W  # changes c's values; c's history does not see it (as in PyTorch)
    return c


CASES = {
    "c += c + 1": (_iadd_reads_target, lambda c, W: 2 * c + 1),
    "c += c": (_iadd_self, lambda c, W: 2 * c),
    "c -= exp(0.1 c)": (_isub_exp, lambda c, W: c - np.exp(c * 0.1)),
    "c[0] = c[1] * 5": (_setitem_reads_target, lambda c, W: np.concatenate([[c[1] * 5], c[1:]])),
    "c[2:4] = c[0:2] * 2": (_slice_assign_reads_target, lambda c, W: np.concatenate([c[:2], c[:2] * 2])),
    "c *= W": (_imul_by_parameter, lambda c, W: c * W),
    "c /= W": (_idiv_by_parameter, lambda c, W: c / W),
    "v = c[0:2]; v += W[0:2]": (
        _iadd_through_a_slice_view,
        lambda c, W: np.concatenate([c[:2] + W[:2], c[2:]]),
    ),
    "c[0:2] += W[0:2]": (_slice_iadd, lambda c, W: np.concatenate([c[:2] + W[:2], c[2:]])),
    "v = c[0:2]; c += 1; c * v.sum()": (
        _view_read_after_base_update,
        lambda c, W: (c + 1) * np.sum(c[:2] + 1),
    ),
    "v = c.reshape(2, 2); v += W": (_iadd_through_a_reshape_view, lambda c, W: c + W),
    "v = c.reshape(2, 2).T; v *= 2": (_imul_through_a_transposed_reshape, lambda c, W: 2 * c),
    "v = c[0]; v *= W[0]": (_imul_through_a_0d_view, lambda c, W: np.concatenate([[c[0] * W[0]], c[1:]])),
    "y = relu(d); d += 1": (_relu_then_update_input, lambda c, W: np.maximum(c - 3, 0) + c - 2),
    "y = c / W; y += 1": (_div_then_update_output, lambda c, W: c / W + 1),
    "d = c.detach(); d += W": (_detached_alias_update, None),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_in_place_programs_give_the_out_of_place_gradients(name):
    program, twin = CASES[name]
    ga, gW = gradients(program)
    if twin is None:  # the detached alias: c's value changes, its history (c = 2a) does not
        c_new = 2 * A0 + W0
        np.testing.assert_allclose(ga, 2 * c_new * 2, rtol=1e-12)  # by hand
        assert gW is None
        return
    want_a, want_W = oracle(twin)
    assert ga is not None, "the gradient of a was lost"
    np.testing.assert_allclose(ga, want_a, rtol=1e-6, atol=1e-6)
    if np.any(want_W != 0):
        assert gW is not None, "the gradient of W was lost"
        np.testing.assert_allclose(gW, want_W, rtol=1e-6, atol=1e-6)
    else:
        assert gW is None or not np.any(gW)


# Where the value a backward needs has been overwritten, PyTorch raises; so must we, by name.
def _imul_self(c, W):
    c *= c
    return c


def _idiv_by_own_max(c, W):
    c /= c.max()
    return c


def _exp_output_updated(c, W):
    e = F.exp(c * 0.1)
    e *= W
    return e


def _mul_input_updated(c, W):
    y = c * W
    c += 1
    return y


RAISES = {
    "c *= c": (_imul_self, r"mul: input 1 .* overwritten by this very in-place operation"),
    "c /= c.max()": (_idiv_by_own_max, r"max: input 0 .* modified by an in-place operation"),
    "e = exp(c); e *= W": (_exp_output_updated, r"exp: its output .* modified by an in-place operation"),
    "y = c * W; c += 1": (_mul_input_updated, r"mul: input 0 .* modified by an in-place operation"),
}


@pytest.mark.parametrize("name", sorted(RAISES))
def test_overwriting_a_value_that_backward_needs_raises_naming_the_op(name):
    program, message = RAISES[name]
    with pytest.raises(mgx.BackwardError, match=message):
        gradients(program)


def test_a_0d_tensor_updated_from_itself():
    a = mgx.tensor(3.0, requires_grad=True)
    c = a * 2
    c += c  # c = 4a
    c.backward()
    assert a.grad.item() == 4.0  # by hand; this raised a bare KeyError


def test_a_stale_gradient_is_not_left_behind():
    a = mgx.tensor([1.0, 2.0], requires_grad=True)
    a.grad = mgx.tensor([100.0, 100.0])
    c = a * 2
    c += c + 1  # c = 4a + 1
    (c * c).sum().backward()
    np.testing.assert_allclose(a.grad.data, 100 + 2 * (4 * a.data + 1) * 4)  # by hand: accumulated


def test_rnn_style_loop_with_add_accumulates_into_the_parameter():
    W = mgx.tensor([0.5, -1.5], requires_grad=True)
    h = mgx.tensor(np.zeros((2, 4)))
    h[:, 0] = mgx.tensor([1.0, 2.0])
    for t in range(1, 4):
        h[:, t] = h[:, t - 1] + W  # h[:, t] = h0 + t W: d sum(h)/dW = 1 + 2 + 3
    h.sum().backward()
    np.testing.assert_array_equal(W.grad.data, [6.0, 6.0])


def test_rnn_style_loop_with_mul_raises_like_pytorch():
    # mul saves h[:, t-1], a view of h, and the next step overwrites h: PyTorch raises too
    W = mgx.tensor([0.5, -1.5], requires_grad=True)
    h = mgx.tensor(np.zeros((2, 4)))
    h[:, 0] = mgx.tensor([1.0, 2.0])
    for t in range(1, 4):
        h[:, t] = h[:, t - 1] * W
    with pytest.raises(mgx.BackwardError, match="mul: input 0 .* modified by an in-place operation") as info:
        h.sum().backward()
    assert "a view of a tensor of shape (2, 4)" in str(info.value)  # the buffer, named by its shape
    assert "F.stack" in str(info.value)  # and what to do instead


def test_the_rnn_loop_written_with_a_list_and_stack_works():
    W = mgx.tensor([0.5, -1.5], requires_grad=True)
    hs = [mgx.tensor([1.0, 2.0])]
    for _ in range(3):
        hs.append(hs[-1] * W)
    F.stack(hs, axis=1).sum().backward()
    w = W.data
    np.testing.assert_allclose(W.grad.data, np.array([1.0, 2.0]) * (1 + 2 * w + 3 * w * w))  # by hand


def test_in_place_on_a_view_of_a_leaf_that_requires_grad_is_an_error():
    w = mgx.tensor([1.0, 2.0, 3.0], requires_grad=True)
    v = w[0:2]
    with pytest.raises(RuntimeError, match="view of a leaf that requires grad"):
        v += 1


def test_in_place_on_a_broadcast_view_is_an_error():
    x = mgx.tensor([1.0, 2.0], requires_grad=True)
    b = F.broadcast_to(x * 1, (3, 2))
    with pytest.raises(ValueError, match="read-only"):
        b += 1


def test_a_sibling_view_follows_an_update_through_another_view():
    a = mgx.tensor([1.0, 2.0, 3.0], requires_grad=True)
    c = a * 1
    u, v = c[0:2], c[1:3]
    u *= 3  # c = [3a0, 3a1, a2]; v now sees [3a1, a2]
    np.testing.assert_array_equal(v.data, [6.0, 3.0])
    (v * v).sum().backward()
    np.testing.assert_allclose(a.grad.data, [0.0, 2 * 6.0 * 3, 2 * 3.0])  # by hand


def test_getitem_with_integers_is_a_view_like_basic_indexing_in_numpy_and_pytorch():
    c = mgx.tensor([1.0, 2.0]) * 1
    v = c[0]
    v += 10
    np.testing.assert_array_equal(c.data, [11.0, 2.0])


def test_assigning_one_position_twice_is_refused_while_recording():
    # Only one of the two values survives, so a gradient for both would be wrong (PyTorch 2.13
    # keeps v[1] and gives v.grad = [1, 1]: v[0] gets a gradient it has no effect on).
    v = mgx.tensor([1.0, 2.0], requires_grad=True)
    c = mgx.tensor(np.zeros(3)) * 1
    with pytest.raises(ValueError, match=r"setitem: the index assigns position \(0,\) .* 2 times"):
        c[[0, 0]] = v
    c[[0, 2]] = v  # distinct positions are fine
    (c * np.array([1.0, 10.0, 100.0])).sum().backward()
    np.testing.assert_array_equal(v.grad.data, [1.0, 100.0])
    plain = mgx.tensor(np.zeros(3))
    plain[[0, 0]] = mgx.tensor([1.0, 2.0])  # nothing recorded: NumPy's rule, the last one wins
    np.testing.assert_array_equal(plain.data, [2.0, 0.0, 0.0])


# --------------------------------------------------------------------------- #
# found by the random programs and by review (each seen failing before its fix)
# --------------------------------------------------------------------------- #
def test_after_an_update_through_a_view_the_view_is_a_function_of_its_base():
    # PyTorch 2.13 gives v.grad = [100] and c.grad = [110, 10]; the first version made the
    # base depend on the view instead (v.grad = [110], c.grad = [10, 10]; leaf gradients agreed).
    def run(retain):
        a = mgx.tensor([1.0, 2.0], requires_grad=True)
        c = a * 1
        v = c[0:1]
        v *= 3
        (v if retain == "v" else c).retain_grad()
        ((c * 10).sum() + (v * 100).sum()).backward()
        np.testing.assert_array_equal(a.grad.data, [330.0, 10.0])  # by hand: c = [3 a0, a1]
        return (v if retain == "v" else c).grad.data

    np.testing.assert_array_equal(run("v"), [100.0])  # only v's own use
    np.testing.assert_array_equal(run("c"), [110.0, 10.0])  # c's use and v's (v is part of c)


class _Square(mgx.Function):
    """Forward: y = x**2.   Backward: dL/dx = dL/dy * 2 x   (reads self.inputs directly)"""

    def forward(self, x):
        return x * x

    def backward(self, gy):
        return gy * 2 * self.inputs[0]


class _FastSquare(_Square):
    backward_on_arrays = True

    def backward(self, gy):
        return gy * 2 * self.inputs[0].data  # not through self.input(0): still checked


@pytest.mark.parametrize("op", [_Square, _FastSquare])
def test_a_users_op_is_checked_on_every_input_it_may_read(op):
    a = mgx.tensor([1.0, 2.0], requires_grad=True)
    c = a * 1
    y = op.apply(c)
    c += 10  # PyTorch (save_for_backward) raises; _FastSquare gave [22, 24] silently
    with pytest.raises(mgx.BackwardError, match=r"_square: input 0 .* modified by an in-place"):
        y.sum().backward()


def test_updating_the_output_of_a_users_op_that_never_reads_it_is_fine():
    a = mgx.tensor([1.0, 2.0], requires_grad=True)
    y = _Square.apply(a * 1)
    y += 1  # the backward reads its input, not its output: PyTorch gives [2, 4] too
    y.sum().backward()
    np.testing.assert_array_equal(a.grad.data, [2.0, 4.0])


def test_a_users_op_that_returns_its_input_does_not_alias_it():
    class Same(mgx.Function):
        def forward(self, x):
            return x  # the very array: the engine copies it, as the op cannot remake a view

        def backward(self, gy):
            return gy

    x = mgx.tensor([1.0, 2.0])
    y = Same.apply(x)
    x += 1
    np.testing.assert_array_equal((y * 2).data, [2.0, 4.0])  # raised "cannot remake the view"


def test_setitem_of_a_value_with_extra_leading_ones():
    a = mgx.tensor([1.0, 2.0], requires_grad=True)
    w = mgx.tensor([3.0], requires_grad=True)
    c = a * 1
    c[1] = w  # NumPy drops w's leading 1; backward failed with a shape error
    (c * c).sum().backward()
    np.testing.assert_array_equal(a.grad.data, [2.0, 0.0])  # PyTorch: [2, 0] and [6]
    np.testing.assert_array_equal(w.grad.data, [6.0])


def test_create_graph_gives_each_leaf_its_own_grad():
    a = mgx.tensor([1.0, 2.0], requires_grad=True)
    b = mgx.tensor([3.0, 4.0], requires_grad=True)
    ((a + b) * mgx.tensor([5.0, 6.0])).sum().backward(create_graph=True)
    with mgx.no_grad():
        a.grad *= 0  # clipping one parameter's gradient (a.grad was b.grad)
    np.testing.assert_array_equal(b.grad.data, [5.0, 6.0])  # PyTorch keeps [5, 6]
    x = mgx.tensor([1.0, 2.0], requires_grad=True)
    (x + b).sum().backward(create_graph=True)  # x.grad was sum's read-only broadcast view
    with mgx.no_grad():
        x.grad *= 0.5
    np.testing.assert_array_equal(x.grad.data, [0.5, 0.5])


def test_a_0d_gradient_accumulated_twice_stays_an_array():
    x = mgx.tensor(3.0, requires_grad=True)
    (x * x).backward()
    (x * x).backward()
    assert type(x.grad.data) is np.ndarray  # was a numpy.float64
    with mgx.no_grad():
        x.grad *= 0.5
    assert x.grad.item() == 6.0  # (6 + 6) / 2, by hand


def test_a_view_tells_the_truth_about_its_history_before_it_is_used_again():
    a = mgx.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = mgx.tensor(np.zeros(3))
    u = b[0:2]
    b += a  # u's memory now holds a's values: u depends on a (PyTorch: True, False)
    assert (u.requires_grad, u.is_leaf) == (True, False)
    u.retain_grad()  # raised "does not require grad"
    (u * u).sum().backward()
    np.testing.assert_array_equal(u.grad.data, [2.0, 4.0])
    np.testing.assert_array_equal(a.grad.data, [2.0, 4.0, 0.0])


def test_mask_assignment_of_a_value_with_extra_leading_ones():
    # NumPy refuses w of shape (1, 1) for a boolean mask of c's own shape; PyTorch drops the ones
    a = mgx.tensor([[0.5]], requires_grad=True)
    c = mgx.tensor(np.zeros(3))
    c[np.array([False, True, False])] = a
    np.testing.assert_array_equal(c.data, [0.0, 0.5, 0.0])
    (c * np.array([1.0, 3.0, 5.0])).sum().backward()
    np.testing.assert_array_equal(a.grad.data, [[3.0]])  # by hand
    plain = mgx.tensor(np.zeros(3))
    plain[np.array([True, False, False])] = mgx.tensor([[2.0]])  # nothing recorded: the same
    np.testing.assert_array_equal(plain.data, [2.0, 0.0, 0.0])


def test_updating_a_view_made_under_no_grad_is_refused_as_in_pytorch():
    a = mgx.tensor([1.0, 2.0, 3.0], requires_grad=True)
    c = a * 2
    with mgx.no_grad():
        v = c[0:2]
    with pytest.raises(RuntimeError, match="view made under no_grad .* both inside the no_grad block"):
        v += 1  # raised a bare AssertionError
    with mgx.no_grad():
        v += 1  # both inside: not recorded, as PyTorch
    np.testing.assert_array_equal(c.data, [3.0, 5.0, 6.0])
