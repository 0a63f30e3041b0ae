"""softmax, log_softmax, cross_entropy, cross_entropy_error and the losses: the oracle,
the plain compositions, extreme logits, bad input, and the book's worked examples; the
activations (softplus, gelu, silu, elu, logsigmoid) and the losses nll, l1, huber, smooth l1 and
kl_div by hand, at their switches and extremes, with their errors."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import microgradx as mgx
import microgradx.functional as F
from microgradx.testing import assert_gradients_match, tensors
from tests.strategies import floats, seeds

batch = st.tuples(st.integers(1, 4), st.integers(2, 5))


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@given(data=st.data())
def test_softmax_family_matches_oracle_on_any_axis(name, data):
    x = data.draw(tensors(shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=4)))
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    op = lambda t: getattr(F, name)(t, axis=axis)  # noqa: E731
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    ref = e / e.sum(axis=axis, keepdims=True)  # NumPy by hand
    np.testing.assert_allclose(
        op(mgx.tensor(x)).data, ref if name == "softmax" else np.log(ref), rtol=1e-10, atol=1e-12
    )
    assert_gradients_match(op, x, seed=data.draw(seeds))
    assert_gradients_match(lambda t: getattr(t, name)(axis), x, seed=data.draw(seeds))


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_family_is_finite_for_extreme_logits(name):
    x = mgx.tensor([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4]], requires_grad=True)
    with np.errstate(over="raise", invalid="raise"):
        y = getattr(F, name)(x)
        (y * mgx.tensor([[1.0, 2.0, 3.0], [1.0, -1.0, 0.5]])).sum().backward()
    assert np.all(np.isfinite(y.data)) and np.all(np.isfinite(x.grad.data))
    if name == "softmax":
        np.testing.assert_allclose(y.data, [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3]])


@st.composite
def logits_and_targets(draw):
    n, c = draw(batch)
    x = draw(tensors((n, c), elements=floats(-5, 5)))
    if draw(st.booleans()):
        t = draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, c - 1)))
    else:
        w = draw(tensors((n, c), elements=floats(0.1, 1.0)))
        t = w / w.sum(axis=1, keepdims=True)  # probability rows
    return x, t


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@given(data=st.data())
def test_cross_entropy_matches_oracle(reduction, data):
    x, t = data.draw(logits_and_targets())
    assert_gradients_match(
        lambda a, b: F.cross_entropy(a, b, reduction=reduction), x, t, seed=data.draw(seeds)
    )


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@given(data=st.data())
def test_fused_cross_entropy_equals_plain_composition(reduction, data):
    x, t = data.draw(logits_and_targets())
    n, c = x.shape
    dense = np.eye(c)[t] if t.dtype.kind == "i" else t
    xf, xp = mgx.tensor(x, requires_grad=True), mgx.tensor(x, requires_grad=True)
    fused = F.cross_entropy(xf, t, reduction=reduction)
    per_sample = -(mgx.tensor(dense) * F.log_softmax(xp, axis=1)).sum(axis=1)
    plain = {"mean": per_sample.sum() / n, "sum": per_sample.sum(), "none": per_sample}[reduction]
    np.testing.assert_allclose(fused.data, plain.data, rtol=1e-12, atol=1e-12)
    g = np.random.default_rng(data.draw(seeds)).uniform(-2, 2, fused.shape)
    fused.backward(g)
    plain.backward(g)
    np.testing.assert_allclose(xf.grad.data, xp.grad.data, rtol=1e-10, atol=1e-12)


def test_cross_entropy_backward_is_softmax_minus_target_over_n():
    x = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]])
    t = np.array([2, 0])
    xt = mgx.tensor(x, requires_grad=True)
    F.cross_entropy(xt, t).backward()
    p = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)  # by hand
    np.testing.assert_allclose(xt.grad.data, (p - np.eye(3)[t]) / 2, rtol=1e-12)


def test_cross_entropy_one_sample_and_extremes():
    one = F.cross_entropy([2.0, 1.0, 0.1], 0)
    ref = -np.log(np.exp(2.0) / np.exp([2.0, 1.0, 0.1]).sum())
    np.testing.assert_allclose(one.data, ref)
    assert F.cross_entropy([2.0, 1.0, 0.1], 0, reduction="none").shape == ()
    x = mgx.tensor([[1e4, -1e4], [-1e4, 1e4]], requires_grad=True)
    with np.errstate(over="raise", invalid="raise"):
        loss = F.cross_entropy(x, [1, 1])
        loss.backward()
    np.testing.assert_allclose(loss.data, 1e4)  # sample 0 is off by 2e4, sample 1 is right
    assert np.all(np.isfinite(x.grad.data))


@pytest.mark.parametrize(
    ("target", "error", "message"),
    [
        ([0, 3], ValueError, r"class index 3 is out of range for 3 classes \(expected 0 <= index < 3\)"),
        ([-1, 0], ValueError, r"class index -1 is out of range"),
        ([0.5, 1.0], ValueError, r"non-integer value 0\.5"),
        (np.zeros((2, 4)), ValueError, r"target of shape \(2, 4\) matches neither .*\(2,\).*\(2, 3\)"),
        (np.zeros(3), ValueError, r"target of shape \(3,\)"),
    ],
)
def test_cross_entropy_bad_targets_are_named(target, error, message):
    logits = np.zeros((2, 3))
    with pytest.raises(error, match=message):
        F.cross_entropy(logits, target)
    with pytest.raises(error, match=message.replace("cross_entropy", "cross_entropy_error")):
        F.cross_entropy_error(logits + 1 / 3, target)


def test_bad_reduction_is_named():
    with pytest.raises(ValueError, match=r"reduction must be one of \('mean', 'sum', 'none'\), got 'avg'"):
        F.cross_entropy(np.zeros((2, 3)), [0, 1], reduction="avg")
    with pytest.raises(ValueError, match="got 'avg'"):
        F.mse_loss([1.0], [1.0], reduction="avg")


@given(data=st.data())
def test_cross_entropy_error_matches_oracle_and_book_formula(data):
    n, c = data.draw(batch)
    # y >= 0.048 keeps the oracle's relative truncation error h**2 / (3 y**2) for log y <= 1.5e-6
    w = data.draw(tensors((n, c), elements=floats(0.2, 1.0)))
    y = w / w.sum(axis=1, keepdims=True)
    t = data.draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, c - 1)))
    onehot = np.eye(c)[t]
    book = -np.sum(onehot * np.log(y + 1e-7)) / n  # the book's formula in NumPy
    np.testing.assert_allclose(F.cross_entropy_error(y, t).data, book, rtol=1e-12)
    np.testing.assert_allclose(F.cross_entropy_error(y, onehot).data, book, rtol=1e-12)
    assert_gradients_match(lambda a: F.cross_entropy_error(a, t), y, seed=data.draw(seeds))
    assert_gradients_match(lambda a: F.cross_entropy_error(a, onehot), y, seed=data.draw(seeds))


@given(data=st.data())
def test_regression_losses_match_oracle(data):
    y = data.draw(tensors())
    t = data.draw(tensors(y.shape))
    np.testing.assert_allclose(F.mean_squared_error(y, t).data, 0.5 * np.sum((y - t) ** 2))
    np.testing.assert_allclose(F.mse_loss(y, t).data, np.mean((y - t) ** 2))
    assert_gradients_match(F.mean_squared_error, y, t, seed=data.draw(seeds))
    for reduction in ("mean", "sum", "none"):
        assert_gradients_match(
            lambda a, b: F.mse_loss(a, b, reduction=reduction), y, t, seed=data.draw(seeds)
        )


@given(data=st.data())
def test_binary_cross_entropy_matches_oracle(data):
    p = data.draw(tensors(elements=floats(0.2, 0.8)))
    # targets inside (0, 1) by more than the oracle's step: t = -1e-4 is refused, as in PyTorch
    t = data.draw(tensors(p.shape, elements=floats(0.001, 0.999)))
    ref = -np.mean(t * np.log(p) + (1 - t) * np.log(1 - p))
    np.testing.assert_allclose(F.binary_cross_entropy(p, t).data, ref, rtol=1e-12)
    # The oracle's truncation error is h**2 / 6 * |f'''| * |g|, with |f'''| <= 2 / 0.2**3 = 250
    # and |g| <= 2 here: about 8e-7, hence atol=1e-6 (the gradients themselves are O(1)).
    assert_gradients_match(F.binary_cross_entropy, p, t, seed=data.draw(seeds), atol=1e-6)


def test_binary_cross_entropy_is_finite_at_0_and_1():
    p = mgx.tensor([0.0, 1.0, 1.0, 0.0], requires_grad=True)
    loss = F.binary_cross_entropy(p, [0.0, 1.0, 0.0, 1.0])
    loss.backward()
    np.testing.assert_allclose(loss.data, (0 + 0 + 100 + 100) / 4)  # log clamped at -100
    assert np.all(np.isfinite(p.grad.data))
    with pytest.raises(ValueError, match=r"must lie in \[0, 1\]; got 1.5"):
        F.binary_cross_entropy([1.5], [1.0])


def test_losses_refuse_silent_broadcasting_of_mismatched_shapes():
    with pytest.raises(ValueError, match=r"prediction of shape \(3, 1\) and target of shape \(3,\)"):
        F.mse_loss(np.zeros((3, 1)), np.zeros(3))
    with pytest.raises(ValueError, match=r"\(3,\) and target of shape \(3, 1\)"):
        F.mean_squared_error(np.zeros(3), np.zeros((3, 1)))


# --------------------------------------------------------------------------- #
# The book's examples (Deep Learning from Scratch, ch. 4-5, and a blog write-up)
# --------------------------------------------------------------------------- #
BOOK_W = np.array([[0.47355232, 0.9977393, 0.84668094], [0.85557411, 0.03563661, 0.69422093]])


@pytest.mark.parametrize("W", [BOOK_W, np.random.default_rng(7).normal(size=(2, 3))])
def test_simple_net_gradient_equals_numerical_gradient(W):
    x = np.array([0.6, 0.9])
    t = np.array([0, 0, 1])

    def loss(w):
        return F.cross_entropy_error(F.softmax(mgx.tensor(x) @ w), t)

    Wt = mgx.tensor(W, requires_grad=True)
    loss(Wt).backward()
    expected = mgx.numerical_gradient(lambda w: loss(mgx.tensor(w)).item(), W.copy())
    np.testing.assert_allclose(Wt.grad.data, expected, rtol=1e-6, atol=1e-9)
    # by hand: d/dz of -log(y_2 + d) is (y - t) * y_2 / (y_2 + d), so dW = outer(x, that)
    z = x @ W
    y = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    np.testing.assert_allclose(Wt.grad.data, np.outer(x, (y - t) * y[2] / (y[2] + 1e-7)), rtol=1e-12)


def test_simple_net_book_output_is_the_loss_without_its_1e_7():
    """The book prints dW = [[0.21924763, ...]] and loss 0.92806853663 for its W. Its code computes
    -log(y + 1e-7), whose gradient is [[0.21924757, ...]] (above); the printed numbers are those of
    the exact -log(y) instead (a slip in the 8th digit), which the fused F.cross_entropy computes."""
    x = np.array([0.6, 0.9])
    Wt = mgx.tensor(BOOK_W, requires_grad=True)
    loss = F.cross_entropy(mgx.tensor(x) @ Wt, 2)
    loss.backward()
    book_dW = [[0.21924763, 0.14356247, -0.36281009], [0.32887144, 0.2153437, -0.54421514]]
    np.testing.assert_allclose(Wt.grad.data, book_dW, atol=5e-9)  # all 8 printed decimals
    # the book's W is printed to 8 decimals, which moves the loss by up to ~5e-9
    assert loss.item() == pytest.approx(0.92806853663411326, abs=5e-9)
    with_delta = F.cross_entropy_error(F.softmax(mgx.tensor(x) @ mgx.tensor(BOOK_W)), [0, 0, 1]).item()
    assert abs(with_delta - 0.92806853663411326) > 2e-7  # the code as printed gives 0.9280682858


def test_worked_2_2_1_mlp_w21_update():
    """x=2; hidden h_j = sigmoid(w1j x + b1) with one shared b1; y = sigmoid(w21 h1 + w22 h2 + b2)."""
    p = {
        k: mgx.tensor(v, requires_grad=True, name=k)
        for k, v in dict(w11=1.0, w12=-1.0, b1=3.0, w21=2.0, w22=1.0, b2=0.0).items()
    }
    x, y_true, lr = 2.0, 1.0, 0.2

    def error(q):
        h1 = F.sigmoid(q["w11"] * x + q["b1"])
        h2 = F.sigmoid(q["w12"] * x + q["b1"])
        y = F.sigmoid(q["w21"] * h1 + q["w22"] * h2 + q["b2"])
        return 0.5 * (y_true - y) ** 2

    error(p).backward()
    # by hand: dE/dw21 = -(y_true - y) * y (1 - y) * h1 = -0.0035746767400618...
    assert p["w21"].grad.item() == pytest.approx(-0.0035746767400618, rel=1e-12)
    new_w21 = p["w21"].item() - lr * p["w21"].grad.item()
    assert new_w21 == pytest.approx(2.0007149353480123, rel=1e-14)
    # The source rounds the gradient to -0.004 (which would step to 2.0008) and then
    # applies the update with the wrong sign (w21 + lr * dE/dw21), printing 1.9992.
    # Gradient descent subtracts: the correct step is 2.0007149..., asserted above.
    assert new_w21 != pytest.approx(1.9992, abs=1e-4)
    for name, leaf in p.items():  # every other parameter against the oracle

        def f(v, name=name):
            q = {k: mgx.tensor(leaf2.data) for k, leaf2 in p.items()}
            q[name] = mgx.tensor(v)
            return error(q).item()

        np.testing.assert_allclose(
            leaf.grad.data, mgx.numerical_gradient(f, leaf.data.copy()), rtol=1e-7, atol=1e-12
        )


def test_cross_entropy_with_a_masked_logit():
    # -inf marks an impossible class. With index targets the loss is log(1 + e) - 1 + ... by hand:
    # softmax over [0, 1] gives p = [1/(1+e), e/(1+e)], the loss of class 2 is log(1 + e) - 1.
    x = mgx.tensor([[-np.inf, 0.0, 1.0]], requires_grad=True)
    loss = F.cross_entropy(x, [2])
    assert loss.item() == pytest.approx(np.log1p(np.e) - 1, rel=1e-15)  # 0.3133, as PyTorch
    loss.backward()
    p = np.exp([0.0, 1.0]) / np.exp([0.0, 1.0]).sum()
    np.testing.assert_allclose(x.grad.data, [[0.0, p[0], p[1] - 1]], rtol=1e-15)
    rows = F.cross_entropy(mgx.tensor([[-np.inf, 0.0, 1.0], [0.0, 0.0, 0.0]]), [1, 0], reduction="none")
    np.testing.assert_allclose(rows.data, [np.log1p(np.e), np.log(3)], rtol=1e-15)


def test_binary_cross_entropy_rejects_targets_outside_0_1():
    with pytest.raises(ValueError, match=r"binary_cross_entropy: targets must lie in \[0, 1\]; got 2.0"):
        F.binary_cross_entropy([0.5], [2.0])
    with pytest.raises(ValueError, match="targets must lie in"):
        F.binary_cross_entropy([0.5, 0.5], [0.0, -0.5])


def test_binary_cross_entropy_keeps_a_tiny_probability_of_a_negative_label():
    # -log(1 - p) = p + p**2/2 + ... = p for tiny p (by hand; PyTorch gives 1e-17 and 1e-8 too).
    # Regression: log(1 - p) rounded 1 - p to 1 and gave 0 (found by tests/test_edge_values.py).
    assert F.binary_cross_entropy([1e-17], [0.0]).item() == pytest.approx(1e-17, rel=1e-12)
    loss32 = F.binary_cross_entropy(mgx.tensor([1e-8], dtype=np.float32), mgx.tensor([0.0], dtype=np.float32))
    assert loss32.item() == pytest.approx(1e-8, rel=1e-6)


# --------------------------------------------------------------------------- #
# activations: softplus, gelu, silu, elu, logsigmoid (the op table walks each against the
# oracle, gradcheck and PyTorch; here: the formulas by hand, extreme inputs, conventions, errors)
# --------------------------------------------------------------------------- #
def test_gelu_exact_is_x_times_the_normal_cdf():
    x = np.array([-3.0, -1.0, -0.1, 0.0, 0.5, 2.0, 7.0])
    cdf = np.array([0.5 * (1 + math.erf(v / math.sqrt(2))) for v in x])  # math.erf: independent
    t = mgx.tensor(x, requires_grad=True)
    y = F.gelu(t)
    np.testing.assert_allclose(y.data, x * cdf, rtol=1e-15, atol=1e-300)
    y.sum().backward()
    pdf = np.exp(-x * x / 2) / math.sqrt(2 * math.pi)
    np.testing.assert_allclose(t.grad.data, cdf + x * pdf, rtol=1e-14, atol=1e-300)


def test_gelu_tanh_form_by_hand():
    x = np.array([-2.0, 0.3, 1.0])
    u = math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)
    np.testing.assert_allclose(F.gelu(x, approximate="tanh").data, 0.5 * x * (1 + np.tanh(u)), rtol=1e-15)
    with pytest.raises(ValueError, match=r"gelu: approximate must be 'none' or 'tanh', got 'erf'"):
        F.gelu(x, approximate="erf")


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_keeps_float32_and_is_finite_for_large_inputs(approximate):
    x = mgx.tensor(np.array([-1e4, -30.0, 0.0, 30.0, 1e4], dtype=np.float32), requires_grad=True)
    with np.errstate(all="raise"):
        y = F.gelu(x, approximate=approximate)
        y.sum().backward()
    assert y.dtype == np.float32 and x.grad.dtype == np.float32
    np.testing.assert_array_equal(y.data, [0.0, 0.0, 0.0, 30.0, 1e4])
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0, 0.5, 1.0, 1.0])


def test_softplus_is_finite_and_follows_beta_and_threshold_as_pytorch():
    x = mgx.tensor([-1000.0, -1.0, 0.0, 1.0, 2.4, 2.6, 1000.0], requires_grad=True)
    with np.errstate(over="raise"):
        y = F.softplus(x, beta=2.0, threshold=5.0)
        y.sum().backward()
    soft = np.log1p(np.exp(2 * np.array([-1000.0, -1.0, 0.0, 1.0, 2.4]))) / 2  # by hand, no overflow here
    np.testing.assert_allclose(y.data, [*soft, 2.6, 1000.0], rtol=1e-15)  # x where 2 x > 5
    with np.errstate(over="ignore"):  # exp(2000) = inf: sigmoid(-2000) = 0
        sig = 1 / (1 + np.exp(-2 * np.array([-1000.0, -1.0, 0.0, 1.0, 2.4])))
    np.testing.assert_allclose(x.grad.data, [*sig, 1.0, 1.0], rtol=1e-15)
    assert F.softplus([800.0], threshold=1e9).item() == pytest.approx(800.0)  # no exp(800)
    with pytest.raises(ValueError, match=r"softplus: beta must be > 0, got 0\.0"):
        F.softplus([1.0], beta=0.0)
    with pytest.raises(TypeError, match="softplus: threshold must be a number"):
        F.softplus([1.0], threshold="20")


def test_elu_gradient_is_alpha_at_zero_and_passes_nan_as_pytorch():
    x = mgx.tensor([-1e-300, 0.0, np.nan, -np.inf, 1000.0], requires_grad=True)
    y = F.elu(x, alpha=0.7)
    np.testing.assert_array_equal(y.data, [-0.7e-300, 0.0, np.nan, -0.7, 1000.0])  # expm1: exact
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.7, 0.7, 1.0, 0.0, 1.0])


def test_silu_and_logsigmoid_by_hand():
    x = np.array([-2.0, 0.0, 1.5])
    s = 1 / (1 + np.exp(-x))
    np.testing.assert_allclose(F.silu(x).data, x * s, rtol=1e-15)
    np.testing.assert_allclose(F.logsigmoid(x).data, np.log(s), rtol=1e-15)
    t = mgx.tensor([-1000.0, 1000.0, -40.0], requires_grad=True)
    with np.errstate(over="raise"):
        y = F.logsigmoid(t)
        y.sum().backward()
    np.testing.assert_allclose(y.data, [-1000.0, 0.0, -40.0 - np.exp(-40.0)], rtol=1e-15)
    np.testing.assert_allclose(t.grad.data, [1.0, 0.0, 1.0], rtol=1e-15)  # sigmoid(-x)


# --------------------------------------------------------------------------- #
# losses: nll_loss, l1_loss, huber_loss, smooth_l1_loss, kl_div
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@given(data=st.data())
def test_nll_of_log_softmax_is_cross_entropy(reduction, data):
    n, c = data.draw(batch)
    x = data.draw(tensors((n, c), elements=floats(-5, 5)))
    t = data.draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, c - 1)))
    a, b = mgx.tensor(x, requires_grad=True), mgx.tensor(x, requires_grad=True)
    nll = F.nll_loss(F.log_softmax(a, axis=1), t, reduction=reduction)
    ce = F.cross_entropy(b, t, reduction=reduction)
    np.testing.assert_allclose(nll.data, ce.data, rtol=1e-12, atol=1e-12)
    g = np.random.default_rng(data.draw(seeds)).uniform(-2, 2, nll.shape)
    nll.backward(g)
    ce.backward(g)
    np.testing.assert_allclose(a.grad.data, b.grad.data, rtol=1e-10, atol=1e-12)


def test_nll_loss_picks_and_its_gradient_is_minus_one_at_the_picks():
    logp = mgx.tensor([[-0.1, -2.5, -3.0], [-1.2, -0.4, -2.0]], requires_grad=True)
    loss = F.nll_loss(logp, [2, 0])
    assert loss.item() == pytest.approx((3.0 + 1.2) / 2, rel=1e-15)  # by hand
    loss.backward()
    np.testing.assert_array_equal(logp.grad.data, [[0, 0, -0.5], [-0.5, 0, 0]])
    one = F.nll_loss([-0.1, -2.5], 1, reduction="none")  # one sample, as in PyTorch
    assert one.shape == () and one.item() == 2.5


@pytest.mark.parametrize(
    ("target", "error", "message"),
    [
        ([0, 3], ValueError, r"nll_loss: class index 3 is out of range for 3 classes"),
        ([0.5, 1.0], ValueError, r"nll_loss: class indices must be integers; got the non-integer value 0\.5"),
        (
            np.full((2, 3), 1 / 3),
            ValueError,
            r"nll_loss: target must hold one class index per sample, shape \(2,\) .* got shape \(2, 3\) "
            r"\(for probability targets use kl_div",
        ),
        ([0, 1, 2], ValueError, r"got shape \(3,\)"),
    ],
)
def test_nll_loss_bad_targets_are_named(target, error, message):
    with pytest.raises(error, match=message):
        F.nll_loss(np.zeros((2, 3)), target)


def test_nll_loss_bad_input_and_reduction_are_named():
    with pytest.raises(
        ValueError, match=r"nll_loss: predictions must have shape \(N, C\) or \(C,\), got shape \(2, 3, 4\)"
    ):
        F.nll_loss(np.zeros((2, 3, 4)), [0, 1])
    for loss in (F.nll_loss, F.l1_loss, F.huber_loss, F.smooth_l1_loss):
        with pytest.raises(ValueError, match=rf"{loss.__name__}: reduction must be one of .* got 'avg'"):
            loss(np.zeros((2, 3)), [0, 1] if loss is F.nll_loss else np.zeros((2, 3)), reduction="avg")


def test_l1_loss_by_hand_and_zero_gradient_where_prediction_equals_target():
    y = mgx.tensor([1.0, -3.0, 2.0], requires_grad=True)
    t = mgx.tensor([0.0, 0.0, 2.0], requires_grad=True)
    loss = F.l1_loss(y, t)
    assert loss.item() == pytest.approx(4 / 3, rel=1e-15)
    loss.backward()
    np.testing.assert_allclose(y.grad.data, [1 / 3, -1 / 3, 0.0])  # sign(y - t) / n; 0 at y = t
    np.testing.assert_allclose(t.grad.data, [-1 / 3, 1 / 3, 0.0])
    np.testing.assert_array_equal(F.l1_loss(y, t, reduction="none").data, [1.0, 3.0, 0.0])


@pytest.mark.parametrize(("name", "param"), [("huber_loss", "delta"), ("smooth_l1_loss", "beta")])
def test_huber_and_smooth_l1_by_hand_on_both_sides_of_the_switch(name, param):
    d = np.array([-3.0, -1.5, -0.5, 0.0, 1.0, 1.5, 2.0])  # the switch at |d| = 1.5
    y = mgx.tensor(d + 1.0, requires_grad=True)
    loss = getattr(F, name)(y, np.ones(7), reduction="none", **{param: 1.5})
    huber = np.where(np.abs(d) < 1.5, d * d / 2, 1.5 * (np.abs(d) - 0.75))
    expected = huber if name == "huber_loss" else huber / 1.5
    np.testing.assert_allclose(loss.data, expected, rtol=1e-15)
    loss.backward(np.ones(7))
    slope = np.clip(d, -1.5, 1.5)  # continuous: d inside, +-1.5 outside
    np.testing.assert_allclose(y.grad.data, slope if name == "huber_loss" else slope / 1.5, rtol=1e-15)


def test_smooth_l1_with_beta_0_is_l1_and_bad_parameters_are_named():
    y, t = np.array([1.0, -2.0, 0.5]), np.zeros(3)
    np.testing.assert_array_equal(F.smooth_l1_loss(y, t, beta=0.0).data, F.l1_loss(y, t).data)
    with pytest.raises(ValueError, match=r"smooth_l1_loss: beta must be >= 0, got -1\.0"):
        F.smooth_l1_loss(y, t, beta=-1.0)
    with pytest.raises(ValueError, match=r"huber_loss: delta must be > 0, got 0\.0"):
        F.huber_loss(y, t, delta=0.0)
    with pytest.raises(
        ValueError, match=r"huber_loss: prediction of shape \(3,\) and target of shape \(3, 1\)"
    ):
        F.huber_loss(y, np.zeros((3, 1)))


def test_kl_div_batchmean_by_hand_and_zero_target_terms():
    p = np.array([[0.5, 0.5, 0.0], [0.2, 0.3, 0.5]])  # target: a 0 contributes 0 (0 log 0 = 0)
    q = np.array([[0.25, 0.7, 0.05], [0.2, 0.3, 0.5]])  # the model
    x = mgx.tensor(np.log(q), requires_grad=True)
    loss = F.kl_div(x, p, reduction="batchmean")
    by_hand = (0.5 * np.log(0.5 / 0.25) + 0.5 * np.log(0.5 / 0.7) + 0.0) / 2  # row 2 is 0
    assert loss.item() == pytest.approx(by_hand, rel=1e-14)
    loss.backward()
    np.testing.assert_allclose(x.grad.data, -p / 2, rtol=1e-15)  # -t / N
    for reduction, n in (("mean", 6), ("sum", 1)):
        assert F.kl_div(x, p, reduction=reduction).item() == pytest.approx(by_hand * 2 / n, rel=1e-14)
    assert F.kl_div(x, p, reduction="none").shape == (2, 3)


def test_kl_div_with_log_target_equals_kl_div_of_the_probabilities():
    x = np.log([[0.25, 0.75], [0.6, 0.4]])
    p = mgx.tensor([[0.5, 0.5], [0.1, 0.9]], requires_grad=True)
    logp = mgx.tensor(np.log(p.data), requires_grad=True)
    a = F.kl_div(x, p, reduction="sum")
    b = F.kl_div(x, logp, reduction="sum", log_target=True)
    assert a.item() == pytest.approx(b.item(), rel=1e-14)
    a.backward()
    b.backward()
    np.testing.assert_allclose(logp.grad.data, p.grad.data * p.data, rtol=1e-13)  # chain rule: dt/dlogt = t


def test_kl_div_target_gradient_is_minus_inf_at_a_zero_target_and_errors_are_named():
    t = mgx.tensor([0.0, 0.5], requires_grad=True)
    F.kl_div(np.log([0.5, 0.5]), t, reduction="sum").backward()
    assert t.grad.data[0] == -np.inf  # log 0 + 1 - x: the derivative of t log t from above
    assert t.grad.data[1] == pytest.approx(np.log(0.5) + 1 - np.log(0.5))
    with pytest.raises(
        ValueError,
        match=r"kl_div: reduction must be one of \('mean', 'batchmean', 'sum', 'none'\), got 'avg'",
    ):
        F.kl_div([0.0], [1.0], reduction="avg")
    with pytest.raises(TypeError, match="kl_div: log_target must be True or False"):
        F.kl_div([0.0], [1.0], log_target="yes")


@pytest.mark.parametrize("name", ["huber_loss", "smooth_l1_loss", "l1_loss", "kl_div", "nll_loss"])
def test_new_losses_keep_float32(name):
    x = mgx.tensor(np.array([[-1.0, -2.0], [-0.5, -3.0]], dtype=np.float32), requires_grad=True)
    other = np.array([1, 0]) if name == "nll_loss" else np.array([[0.5, 0.5], [0.2, 0.8]], dtype=np.float32)
    loss = getattr(F, name)(x, other)
    loss.backward()
    assert loss.dtype == np.float32 and x.grad.dtype == np.float32
