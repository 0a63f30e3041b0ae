"""Anomaly mode: the first NaN or infinity names its op, forward or backward, and where it was created.

Where a value is non-finite is worked out by hand next to each test (float64
underflow and the derivative formula at the point); PyTorch's anomaly mode on
the same program is the oracle for which op is named when only NaN is checked.
"""

from __future__ import annotations

import sys
import threading

import numpy as np
import pytest

import microgradx as mgx
import microgradx.functional as F
from microgradx import autograd
from microgradx.errors import BackwardError

pytestmark = [
    pytest.mark.filterwarnings("ignore:.*encountered in:RuntimeWarning"),  # NumPy's own notes
    pytest.mark.filterwarnings("ignore:Anomaly Detection has been enabled:UserWarning"),  # PyTorch's
    pytest.mark.filterwarnings("ignore:Error detected in:UserWarning"),  # PyTorch's
]


def here() -> int:
    """The line number of the caller's next line."""
    return sys._getframe(1).f_lineno + 1


@pytest.fixture(autouse=True)
def anomaly_mode_is_left_off():
    assert not mgx.is_anomaly_enabled()
    yield
    assert not mgx.is_anomaly_enabled(), "a test left anomaly mode on"


# --------------------------------------------------------------------------- #
# forward
# --------------------------------------------------------------------------- #
def test_log_of_softmax_underflow_is_named_in_the_forward():
    # exp(-1000) underflows to 0 in float64, so softmax([1000, 0, -1000]) = [1, 0, 0] exactly
    # and log gives [0, -inf, -inf]; the loss -sum(t * log p) is then 0 * -inf = nan
    assert np.exp(-1000.0) == 0.0
    x = mgx.tensor([1000.0, 0.0, -1000.0], requires_grad=True)
    t = np.array([1.0, 0.0, 0.0])
    loss = -(t * F.log(F.softmax(x))).sum()  # without anomaly mode: silently nan
    assert np.isnan(loss.item())

    with pytest.raises(mgx.AnomalyError) as info, mgx.detect_anomaly():
        p = F.softmax(x)
        line = here()
        loss = -(t * F.log(p)).sum()
    e = info.value
    assert (e.op, e.phase) == ("log", "forward")
    message = str(e)
    assert "the forward of 'log' produced -inf (2 of 3 elements, the first at index (1,))" in message
    assert "input 0 is 0.0" in message
    assert e.created_at[-1].filename == __file__ and e.created_at[-1].lineno == line
    assert "loss = -(t * F.log(p)).sum()" in message  # the source line, as a traceback shows it


def test_the_fix_log_softmax_passes_anomaly_mode_with_the_exact_gradient():
    x = mgx.tensor([1000.0, 0.0, -1000.0], requires_grad=True)
    t = np.array([1.0, 0.0, 0.0])
    with mgx.detect_anomaly():
        loss = -(t * F.log_softmax(x)).sum()
        loss.backward()
    # d/dx -log softmax(x)[0] = softmax(x) - t = [1, 0, 0] - [1, 0, 0] = 0 (to float64 precision)
    np.testing.assert_allclose(x.grad.data, [0.0, 0.0, 0.0], atol=1e-300)


def test_an_input_that_already_holds_nan_is_named_with_where_it_came_from():
    a = mgx.tensor([1.0, np.nan, 3.0], name="a")
    with pytest.raises(mgx.AnomalyError) as info, mgx.detect_anomaly():
        line = here()
        a * 2
    message = str(info.value)
    assert (
        "input 0 of 'mul' ('a', shape (3,)) already holds nan (1 of 3 elements, the first at index (1,))"
        in message
    )
    assert "it is a leaf" in message
    assert info.value.created_at[-1].lineno == line


def test_an_input_made_by_an_op_while_the_mode_was_off_is_traced_to_that_op():
    x = mgx.tensor([0.0, 1.0], requires_grad=True)
    y = F.log(x)  # -inf, unchecked
    with (
        pytest.raises(mgx.AnomalyError, match="made by 'log', which anomaly mode did not check"),
        mgx.detect_anomaly(),
    ):
        y * 2


def test_results_of_ops_outside_the_graph_are_checked_too():
    with pytest.raises(mgx.AnomalyError, match="forward of 'sqrt' produced nan"), mgx.detect_anomaly():
        with mgx.no_grad():
            F.sqrt(mgx.tensor([-1.0]))  # sqrt(-1) = nan; no op is recorded, and still checked


def test_an_infinity_is_an_anomaly_unless_check_inf_is_false():
    x = mgx.tensor([0.0, 1.0], requires_grad=True)
    with pytest.raises(mgx.AnomalyError, match="produced -inf"), mgx.detect_anomaly():
        F.log(x)
    with mgx.detect_anomaly(check_inf=False):  # -inf is fine (masks), nan is not
        masked = F.log(x) + mgx.tensor([0.0, -np.inf])
        assert masked.data[0] == -np.inf
        with pytest.raises(
            mgx.AnomalyError, match="produced nan .* from inputs that hold infinities but no nan"
        ):
            masked - masked  # -inf - (-inf) = nan


def test_integer_and_boolean_results_are_not_checked():
    with mgx.detect_anomaly():
        m = mgx.tensor([1.0, np.inf]) > 0  # (the leaf holds inf, but a comparison makes bools)
    assert m.data.tolist() == [True, True]


# --------------------------------------------------------------------------- #
# backward
# --------------------------------------------------------------------------- #
def test_the_norm_of_a_zero_vector_is_named_in_the_backward_of_sqrt():
    # |r| = sqrt(sum r^2) is 0 at r = 0, finite; d sqrt(u)/du = 1 / (2 sqrt(u)) = inf there
    r = mgx.tensor([0.0, 0.0], requires_grad=True)
    with pytest.raises(mgx.AnomalyError) as info, mgx.detect_anomaly():
        line = here()
        norm = F.sqrt((r * r).sum())
        norm.backward()
    e = info.value
    assert (e.op, e.phase) == ("sqrt", "backward")
    assert "the backward of 'sqrt' returned inf in the gradient for input 0 (shape ())" in str(e)
    assert "input 0 is 0.0, the output is 0.0, the incoming gradient is 1.0" in str(e)
    assert e.created_at[-1].lineno == line
    assert r.grad is None  # stopped before the bad gradient reached any .grad


def test_pytorch_names_the_same_op_when_only_nan_is_checked():
    torch = pytest.importorskip("torch", reason="PyTorch not installed: run TORCH_ORACLE=1 make test")
    # PyTorch checks gradients for nan only: sqrt's inf passes, and mul's inf * 0 = nan is named
    rt = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    with pytest.raises(RuntimeError, match="MulBackward0"), torch.autograd.detect_anomaly():
        torch.sqrt((rt * rt).sum()).backward()
    r = mgx.tensor([0.0, 0.0], requires_grad=True)
    with pytest.raises(mgx.AnomalyError) as info, mgx.detect_anomaly(check_inf=False):
        F.sqrt((r * r).sum()).backward()
    assert (info.value.op, info.value.phase) == ("mul", "backward")
    # sqrt's inf, not an anomaly here, reached mul: the message says so rather than "finite"
    assert "returned nan (2 of 2 elements, the first at index (0,))" in str(info.value)
    assert "from an incoming gradient that holds inf (2 of 2 elements" in str(info.value)


def test_log_of_softmax_with_a_finite_loss_fails_in_the_backward_of_log_as_in_pytorch():
    torch = pytest.importorskip("torch", reason="PyTorch not installed: run TORCH_ORACLE=1 make test")
    # loss = -log(softmax(x))[0] = -log 1 = 0 is finite; log's backward divides by p = [1, 0, 0]:
    # the incoming gradient [-1, 0, 0] / p = [-1, 0/0, 0/0] = [-1, nan, nan]
    xt = torch.tensor([1000.0, 0.0, -1000.0], dtype=torch.float64, requires_grad=True)
    with pytest.raises(RuntimeError, match="LogBackward0"), torch.autograd.detect_anomaly():
        (-torch.log(torch.softmax(xt, 0))[0]).backward()
    x = mgx.tensor([1000.0, 0.0, -1000.0], requires_grad=True)
    with pytest.raises(mgx.AnomalyError) as info, mgx.detect_anomaly(check_inf=False):
        loss = -F.log(F.softmax(x))[0]
        assert loss.item() == 0.0
        loss.backward()
    e = info.value
    assert (e.op, e.phase) == ("log", "backward")
    assert "returned nan (2 of 3 elements, the first at index (1,))" in str(e)
    assert "input 0 is 0.0" in str(e)


def test_under_create_graph_the_op_whose_backward_made_it_is_named():
    # sqrt's backward gy / (2 sqrt(u)) is itself recorded (a div); the anomaly is still sqrt's
    r = mgx.tensor([0.0, 0.0], requires_grad=True)
    with pytest.raises(mgx.AnomalyError) as info, mgx.detect_anomaly():
        F.sqrt((r * r).sum()).backward(create_graph=True)
    assert (info.value.op, info.value.phase) == ("sqrt", "backward")


def test_a_users_function_is_named_by_its_name():
    class BadSquare(mgx.Function):
        """Forward: y = x**2.   Backward: wrong on purpose (nan)."""

        def forward(self, x):
            return x**2

        def backward(self, gy):
            return gy * mgx.tensor(np.nan)

    x = mgx.tensor([1.0, 2.0], requires_grad=True)
    with (
        pytest.raises(mgx.AnomalyError, match="the backward of 'bad_square' returned nan"),
        mgx.detect_anomaly(),
    ):
        BadSquare.apply(x).sum().backward()


def test_a_nan_seed_and_a_nan_from_a_hook_are_named():
    x = mgx.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(mgx.AnomalyError, match="the gradient given to backward"), mgx.detect_anomaly():
        (x * 2).backward(np.array([1.0, np.nan]))
    h = x * 2
    h.register_hook(lambda g: mgx.tensor([np.nan, 0.0]))
    with pytest.raises(
        mgx.AnomalyError, match="the gradient that hook '.*lambda.*' on the tensor of shape .2,. returned"
    ):
        with mgx.detect_anomaly():
            h.sum().backward()


def test_a_gradient_that_overflows_when_summed_over_uses_is_named():
    # L = k sqrt(h) + k sqrt(h) with h = 1e-300, k = 3e158: L = 6e8 is finite, and so is each
    # use's gradient k / (2 sqrt(h)) = 3e158 / 2e-150 = 1.5e308; their sum, 3e308, overflows
    x = mgx.tensor(1e-300, requires_grad=True)
    h = x * 1.0
    with pytest.raises(mgx.AnomalyError, match="output of 'mul' .summed over its uses. holds inf"):
        with mgx.detect_anomaly():
            (F.sqrt(h) * 3e158 + F.sqrt(h) * 3e158).backward()


def test_a_gradient_that_overflows_when_accumulated_into_grad_is_named():
    x = mgx.tensor(1.0, requires_grad=True)
    (x * 1e308).backward()
    with pytest.raises(mgx.AnomalyError, match=r"accumulated in .grad of a tensor of shape \(\) holds inf"):
        with mgx.detect_anomaly():
            (x * 1e308).backward()  # 1e308 + 1e308 = inf


# --------------------------------------------------------------------------- #
# other errors get the creation site; tracebacks are the user's frames
# --------------------------------------------------------------------------- #
@pytest.mark.skipif(sys.version_info < (3, 11), reason="exception notes need Python 3.11")
def test_any_error_in_a_backward_gets_a_note_of_where_its_op_was_created():
    c = mgx.tensor([1.0, 2.0], requires_grad=True)
    with mgx.detect_anomaly(check_nan=False):
        line = here()
        e = (c * 2).exp()
        e += 1  # exp's backward needs its output, now overwritten
        with pytest.raises(BackwardError) as info:
            e.sum().backward()
    (note,) = info.value.__notes__
    assert "the error came from the backward of 'exp'" in note
    assert f'File "{__file__}", line {line}' in note


def test_without_anomaly_mode_errors_get_no_note():
    c = mgx.tensor([1.0, 2.0], requires_grad=True)
    e = (c * 2).exp()
    e += 1
    with pytest.raises(BackwardError) as info:
        e.sum().backward()
    assert not getattr(info.value, "__notes__", [])


def build_model(x):
    """A user's function: its frame and its caller's are the creation traceback."""
    return F.log(x - 1.0)


def test_the_creation_traceback_is_the_users_frames_innermost_last_without_microgradx():
    x = mgx.tensor([1.0], requires_grad=True)
    with pytest.raises(mgx.AnomalyError) as info, mgx.detect_anomaly():
        line = here()
        build_model(x)
    stack = info.value.created_at
    assert [f.name for f in stack[-2:]] == [
        "test_the_creation_traceback_is_the_users_frames_innermost_last_without_microgradx",
        "build_model",
    ]
    assert stack[-2].lineno == line
    assert not any("/microgradx/" in f.filename.replace("\\", "/") for f in stack)


def test_an_op_recorded_before_the_mode_was_on_says_so():
    r = mgx.tensor([0.0], requires_grad=True)
    norm = F.sqrt((r * r).sum())
    with (
        pytest.raises(mgx.AnomalyError, match="created while anomaly mode was off") as info,
        mgx.detect_anomaly(),
    ):
        norm.backward()
    assert len(info.value.created_at) == 0


# --------------------------------------------------------------------------- #
# the switch
# --------------------------------------------------------------------------- #
def test_the_switch_nests_restores_and_is_off_by_default():
    assert autograd._anomaly is None
    with mgx.detect_anomaly():
        assert mgx.is_anomaly_enabled()
        with mgx.set_detect_anomaly(False):
            assert not mgx.is_anomaly_enabled()
        assert mgx.is_anomaly_enabled()
    assert not mgx.is_anomaly_enabled()
    mgx.set_detect_anomaly(True)
    try:
        assert mgx.is_anomaly_enabled()
    finally:
        mgx.set_detect_anomaly(False)
    with pytest.raises(ZeroDivisionError), mgx.detect_anomaly():
        _ = 1 / 0
    assert not mgx.is_anomaly_enabled()  # restored after an error too


def test_detect_anomaly_decorates_a_function_even_a_recursive_one():
    @mgx.detect_anomaly()
    def depth(n):
        assert mgx.is_anomaly_enabled()
        return 0 if n == 0 else 1 + depth(n - 1)

    assert depth(3) == 3
    assert not mgx.is_anomaly_enabled()


def test_check_nan_false_records_sites_but_checks_nothing():
    x = mgx.tensor([0.0], requires_grad=True)
    with mgx.detect_anomaly(check_nan=False):
        y = F.log(x)  # -inf: not checked
        y.sum().backward()  # 1/0 = inf: not checked
    assert x.grad.item() == np.inf


def test_the_mode_is_global_as_in_pytorch():
    seen = []
    with mgx.detect_anomaly():
        thread = threading.Thread(target=lambda: seen.append(mgx.is_anomaly_enabled()))
        thread.start()
        thread.join()
    assert seen == [True]


def test_gradients_are_the_same_with_and_without_anomaly_mode():
    rng = np.random.default_rng(0)
    x0, w0 = rng.normal(size=(4, 3)), rng.normal(size=(3, 2))
    grads = []
    for on in (False, True):
        x = mgx.tensor(x0, requires_grad=True)
        w = mgx.tensor(w0, requires_grad=True)
        with mgx.set_detect_anomaly(on):
            F.cross_entropy(F.tanh(x @ w), np.array([0, 1, 1, 0])).backward()
        grads.append((x.grad.data.copy(), w.grad.data.copy()))
    for a, b in zip(*grads, strict=True):
        np.testing.assert_array_equal(a, b)
