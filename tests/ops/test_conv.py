"""im2col / col2im (the book's layout and examples, their adjointness), conv2d, max_pool2d and
avg_pool2d against PyTorch (values and float64 gradients, arg-max conventions at ties, NaN and
-inf), dtypes, unbatched inputs, and the error messages.

The op table (tests/op_table.py) walks the five functions against the oracle, gradcheck of
orders 1 to 3, PyTorch and the edge values; here are the cases it does not draw.
"""

import itertools

import numpy as np
import pytest

import microgradx as mgx
import microgradx.functional as F

torch = pytest.importorskip("torch", reason="PyTorch not installed: run TORCH_ORACLE=1 make test")
TF = torch.nn.functional

rng = np.random.default_rng(0)


def windows_by_loops(x, kh, kw, stride=1, pad=0, dilation=1):
    """im2col written with one loop per index (the independent reference): row (n, y, x),
    column (c, i, j) holds xpad[n, c, y * stride + i * dilation, x * stride + j * dilation]."""
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    oh = (h + 2 * pad - dilation * (kh - 1) - 1) // stride + 1
    ow = (w + 2 * pad - dilation * (kw - 1) - 1) // stride + 1
    col = np.zeros((n * oh * ow, c * kh * kw))
    for b, y, xx, ch, i, j in itertools.product(
        range(n), range(oh), range(ow), range(c), range(kh), range(kw)
    ):
        col[(b * oh + y) * ow + xx, (ch * kh + i) * kw + j] = xp[
            b, ch, y * stride + i * dilation, xx * stride + j * dilation
        ]
    return col


def _grads(fn, *arrays, gy=None, lib=mgx):
    """fn's output and the gradient of <output, gy> for every input (float64), in microgradx or torch."""
    if lib is mgx:
        ts = [mgx.tensor(a, requires_grad=True) for a in arrays]
        out = fn(*ts)
        out.backward(gy)
        return out.data, [t.grad.data for t in ts]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*ts)
    out.backward(torch.tensor(gy))
    return out.detach().numpy(), [t.grad.numpy() for t in ts]


def assert_same_as_torch(ours, theirs, *arrays, rtol=1e-10, atol=1e-12):
    out_shape = ours(*[mgx.tensor(a) for a in arrays]).shape
    gy = rng.uniform(-2, 2, out_shape)
    y1, g1 = _grads(ours, *arrays, gy=gy)
    y2, g2 = _grads(theirs, *arrays, gy=gy, lib=torch)
    np.testing.assert_allclose(y1, y2, rtol=rtol, atol=atol)
    for i, (a, b) in enumerate(zip(g1, g2, strict=True)):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=f"gradient of input {i}")


# --------------------------------------------------------------------------- #
# im2col and col2im
# --------------------------------------------------------------------------- #
def test_im2col_gives_the_books_shapes():
    x1 = rng.random((1, 3, 7, 7))  # the book's examples (chapter 7.4.3)
    assert F.im2col(x1, 5, 5, stride=1, pad=0).shape == (9, 75)
    x2 = rng.random((10, 3, 7, 7))
    assert F.im2col(x2, 5, 5, stride=1, pad=0).shape == (90, 75)
    assert F.im2col(x2, kernel_size=5).shape == (90, 75)  # the PyTorch-style form
    assert F.im2col(x2, (5, 5), stride=2, padding=1).shape == (10 * 3 * 3, 75)


@pytest.mark.parametrize(
    ("kh", "kw", "stride", "pad", "dilation"),
    [(5, 5, 1, 0, 1), (3, 2, 2, 1, 1), (2, 3, 1, 2, 2), (1, 1, 3, 0, 1), (3, 3, 2, 1, 2)],
)
def test_im2col_matches_a_loop_over_every_index(kh, kw, stride, pad, dilation):
    x = rng.standard_normal((2, 3, 7, 6))
    want = windows_by_loops(x, kh, kw, stride, pad, dilation)
    np.testing.assert_array_equal(
        F.im2col(x, (kh, kw), stride=stride, padding=pad, dilation=dilation).data, want
    )
    if dilation == 1:  # the book's positional form: im2col(input_data, filter_h, filter_w, stride, pad)
        np.testing.assert_array_equal(F.im2col(x, kh, kw, stride, pad).data, want)


def test_col2im_of_im2col_counts_the_windows_over_each_element():
    """col2im adds each row back, so col2im(im2col(x)) is x times the number of windows covering
    each element; the count comes from a loop over the windows."""
    x = rng.standard_normal((2, 2, 6, 7))
    for kernel, stride, pad in [((3, 3), 1, 0), ((2, 3), (2, 1), 1), ((5, 5), 1, 2), ((2, 2), 2, 0)]:
        kh, kw = kernel
        sh, sw = (stride, stride) if isinstance(stride, int) else stride
        count = np.zeros((6 + 2 * pad, 7 + 2 * pad))
        for y in range(0, 6 + 2 * pad - kh + 1, sh):
            for xx in range(0, 7 + 2 * pad - kw + 1, sw):
                count[y : y + kh, xx : xx + kw] += 1
        count = count[pad : pad + 6, pad : pad + 7]
        col = F.im2col(x, kernel, stride=stride, padding=pad)
        back = F.col2im(col, x.shape, kernel, stride=stride, padding=pad)
        np.testing.assert_allclose(back.data, x * count, rtol=1e-14)


def test_col2im_is_the_adjoint_of_im2col():
    x = rng.standard_normal((2, 3, 6, 5))
    kw = {"stride": (2, 1), "padding": 1, "dilation": (1, 2)}
    col = F.im2col(x, (3, 2), **kw)
    c = rng.standard_normal(col.shape)
    lhs = np.sum(col.data * c)  # <im2col(x), c>
    rhs = np.sum(x * F.col2im(c, x.shape, (3, 2), **kw).data)  # <x, col2im(c)>
    assert lhs == pytest.approx(rhs, rel=1e-12)


def test_col2im_matches_pytorch_fold():
    col = rng.standard_normal((2 * 6 * 5, 3 * 2 * 2))  # oh = 5 + 2 - 2 + 1, ow = 6 - 2 + 1
    ours = F.col2im(col, (2, 3, 5, 6), 2, padding=(1, 0), stride=1)
    theirs = TF.fold(torch.tensor(col).reshape(2, 30, 12).transpose(1, 2), (5, 6), 2, padding=(1, 0))
    np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-14)


def test_im2col_and_col2im_differentiate_each_other_to_any_order():
    x = rng.standard_normal((1, 2, 4, 4))
    assert mgx.gradcheck(lambda t: F.im2col(t, 3, padding=1) ** 2, x, order=2)
    c = rng.standard_normal((4, 8))
    assert mgx.gradcheck(lambda t: F.col2im(t, (1, 2, 3, 3), 2) ** 2, c, order=2)


# --------------------------------------------------------------------------- #
# conv2d against PyTorch
# --------------------------------------------------------------------------- #
CONFIGS = [
    {},
    {"stride": 2},
    {"padding": 1},
    {"padding": (2, 0), "stride": (1, 2)},
    {"dilation": 2, "padding": 1},
    {"stride": (2, 3), "padding": (1, 2), "dilation": (2, 1)},
]


@pytest.mark.parametrize("kw", CONFIGS)
@pytest.mark.parametrize("bias", [True, False])
def test_conv2d_matches_pytorch(kw, bias):
    x, w, b = rng.standard_normal((3, 2, 9, 8)), rng.standard_normal((4, 2, 3, 2)), rng.standard_normal(4)
    if bias:
        assert_same_as_torch(lambda *t: F.conv2d(*t, **kw), lambda *t: TF.conv2d(*t, **kw), x, w, b)
    else:
        assert_same_as_torch(lambda *t: F.conv2d(*t, **kw), lambda *t: TF.conv2d(*t, **kw), x, w)


def test_conv2d_the_books_simple_convnet_layer():
    """Batch of 1x28x28 images, 30 filters of 5x5 (SimpleConvNet), against PyTorch."""
    x, w, b = rng.random((4, 1, 28, 28)), 0.01 * rng.standard_normal((30, 1, 5, 5)), np.zeros(30)
    assert_same_as_torch(F.conv2d, TF.conv2d, x, w, b)


def test_conv2d_equals_im2col_times_the_filters():
    """The book's Convolution layer, written with the public im2col (the definition)."""
    x, w, b = rng.standard_normal((2, 3, 6, 6)), rng.standard_normal((5, 3, 3, 3)), rng.standard_normal(5)
    col = F.im2col(x, 3, padding=1).data
    want = (col @ w.reshape(5, -1).T + b).reshape(2, 6, 6, 5).transpose(0, 3, 1, 2)
    np.testing.assert_allclose(F.conv2d(x, w, b, padding=1).data, want, rtol=1e-12)


def test_conv2d_gradients_of_gradients_match_pytorch():
    """A gradient penalty |d sum(conv(x, w)^2) / dx|^2, differentiated again, against PyTorch."""
    x, w = rng.standard_normal((2, 2, 5, 5)), rng.standard_normal((3, 2, 3, 3))
    xm, wm = mgx.tensor(x, requires_grad=True), mgx.tensor(w, requires_grad=True)
    y = F.conv2d(xm, wm, padding=1)
    (y * y).sum().backward(create_graph=True)
    gx = xm.grad
    xm.grad = wm.grad = None
    ours = (gx * gx).sum()
    ours.backward()
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    yt = TF.conv2d(xt, wt, padding=1)
    (gxt,) = torch.autograd.grad((yt * yt).sum(), xt, create_graph=True)
    theirs = (gxt * gxt).sum()
    theirs.backward()
    assert ours.item() == pytest.approx(theirs.item(), rel=1e-10)
    np.testing.assert_allclose(xm.grad.data, xt.grad.numpy(), rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(wm.grad.data, wt.grad.numpy(), rtol=1e-9, atol=1e-10)


def test_conv2d_relu_pool_chain_matches_pytorch():
    """conv2d leaves its output with channels outermost in memory; the ops after it (relu, pooling,
    reshape) and their gradients must not care."""
    x, w, b = rng.standard_normal((3, 2, 12, 12)), rng.standard_normal((4, 2, 3, 3)), rng.standard_normal(4)
    ours = lambda x, w, b: F.max_pool2d(F.relu(F.conv2d(x, w, b)), 2).reshape(3, -1)  # noqa: E731
    theirs = lambda x, w, b: TF.max_pool2d(TF.relu(TF.conv2d(x, w, b)), 2).reshape(3, -1)  # noqa: E731
    assert_same_as_torch(ours, theirs, x, w, b)
    ours2 = lambda x, w, b: F.conv2d(F.avg_pool2d(F.conv2d(x, w, b), 2), w[:, :2] * 1.0)  # noqa: E731
    theirs2 = lambda x, w, b: TF.conv2d(TF.avg_pool2d(TF.conv2d(x, w, b), 2), w[:, :2] * 1.0)  # noqa: E731
    assert_same_as_torch(
        ours2, theirs2, rng.standard_normal((3, 2, 12, 12)), rng.standard_normal((2, 2, 3, 3)), b[:2]
    )


def test_conv2d_takes_one_unbatched_image_as_pytorch():
    x, w = rng.standard_normal((2, 5, 5)), rng.standard_normal((3, 2, 2, 2))
    y = F.conv2d(x, w, padding=1)
    assert y.shape == (3, 6, 6)
    np.testing.assert_allclose(y.data, F.conv2d(x[None], w, padding=1).data[0])
    assert_same_as_torch(lambda *t: F.conv2d(*t, padding=1), lambda *t: TF.conv2d(*t, padding=1), x, w)


@pytest.mark.parametrize(
    "fn",
    [
        lambda x: F.conv2d(x, np.ones((2, 3, 2, 2), np.float32), np.ones(2, np.float32), padding=1),
        lambda x: F.max_pool2d(x, 2, padding=1),
        lambda x: F.avg_pool2d(x, 2),
        lambda x: F.im2col(x, 2),
        lambda x: F.col2im(F.im2col(x, 2), x.shape, 2),
    ],
    ids=["conv2d", "max_pool2d", "avg_pool2d", "im2col", "col2im"],
)
def test_float32_stays_float32(fn):
    x = mgx.tensor(rng.standard_normal((2, 3, 4, 4)).astype(np.float32), requires_grad=True)
    y = fn(x)
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32


# --------------------------------------------------------------------------- #
# pooling against PyTorch, and the arg-max conventions
# --------------------------------------------------------------------------- #
POOLS = [
    (2, {}),
    (3, {"stride": 1}),
    ((2, 3), {"stride": (1, 2), "padding": (1, 1)}),
    (3, {"stride": 2, "padding": 1}),
]


@pytest.mark.parametrize(("kernel", "kw"), POOLS)
def test_pools_match_pytorch(kernel, kw):
    x = rng.permutation(3 * 2 * 7 * 8).reshape(3, 2, 7, 8) / 10.0  # distinct values: one arg-max
    assert_same_as_torch(lambda t: F.max_pool2d(t, kernel, **kw), lambda t: TF.max_pool2d(t, kernel, **kw), x)
    assert_same_as_torch(lambda t: F.avg_pool2d(t, kernel, **kw), lambda t: TF.avg_pool2d(t, kernel, **kw), x)
    kd = kw | {"dilation": 2}
    assert_same_as_torch(lambda t: F.max_pool2d(t, kernel, **kd), lambda t: TF.max_pool2d(t, kernel, **kd), x)


@pytest.mark.parametrize(
    "x",
    [
        np.array([[1.0, 3.0, 3.0], [3.0, 0.0, 3.0], [2.0, 3.0, 1.0]]),  # ties: the first maximum
        np.array([[np.nan, 1.0, np.nan], [2.0, np.nan, 0.0], [1.0, 1.0, 1.0]]),  # NaN: the last NaN
        np.full((3, 3), -np.inf),  # all -inf with padding: the first element that is not padding
        np.array([[np.inf, np.inf, 1.0], [-np.inf, 0.0, np.inf], [5.0, -0.0, 0.0]]),
    ],
    ids=["ties", "nan", "-inf", "inf"],
)
@pytest.mark.parametrize(
    "kw", [{"kernel_size": 2, "stride": 1}, {"kernel_size": 2, "stride": 1, "padding": 1}]
)
def test_max_pool_sends_the_gradient_where_pytorch_does(x, kw):
    """PyTorch's rule: the first element greater than all before it, or the last NaN; a window of
    -inf (and padding) gives it to its first real element."""
    x = np.stack([x, x[::-1]])[None]  # (1, 2, 3, 3)
    y1, (g1,) = _grads(
        lambda t: F.max_pool2d(t, **kw),
        x,
        gy=np.ones((1, 2, 2 + 2 * kw.get("padding", 0), 2 + 2 * kw.get("padding", 0))),
    )
    y2, (g2,) = _grads(lambda t: TF.max_pool2d(t, **kw), x, gy=np.ones(y1.shape), lib=torch)
    np.testing.assert_array_equal(y1, y2)
    np.testing.assert_array_equal(g1, g2)


def test_max_pool_keeps_a_nan_gradient_at_its_own_element():
    """A NaN (or inf) in the upstream gradient reaches the arg-max of its window only, as in PyTorch
    (a product with a 0/1 mask would spread NaN = inf * 0 to every element)."""
    x = rng.standard_normal((1, 1, 4, 4))
    gy = np.array([[[[np.nan, 1.0], [np.inf, 2.0]]]])
    for kw in [{"kernel_size": 2}, {"kernel_size": 2, "stride": 1, "padding": 1}]:
        gy_ = gy if "padding" not in kw else np.pad(gy, ((0, 0), (0, 0), (0, 3), (0, 3)), constant_values=1.0)
        _, (g1,) = _grads(lambda t: F.max_pool2d(t, **kw), x, gy=gy_)
        _, (g2,) = _grads(lambda t: TF.max_pool2d(t, **kw), x, gy=gy_, lib=torch)
        np.testing.assert_array_equal(g1, g2)


def test_avg_pool_counts_padding_zeros_as_pytorch():
    x = np.ones((1, 1, 2, 2))
    y = F.avg_pool2d(x, 2, stride=1, padding=1)
    np.testing.assert_allclose(y.data[0, 0], [[0.25, 0.5, 0.25], [0.5, 1.0, 0.5], [0.25, 0.5, 0.25]])
    assert_same_as_torch(
        lambda t: F.avg_pool2d(t, 2, stride=1, padding=1),
        lambda t: TF.avg_pool2d(t, 2, stride=1, padding=1),
        x,
    )


def test_pools_take_one_unbatched_image_and_default_the_stride_to_the_kernel():
    x = rng.standard_normal((3, 6, 4))
    assert F.max_pool2d(x, 2).shape == (3, 3, 2)
    np.testing.assert_array_equal(F.max_pool2d(x, 2).data, F.max_pool2d(x[None], 2, stride=2).data[0])
    np.testing.assert_allclose(F.avg_pool2d(x, (3, 2)).data, TF.avg_pool2d(torch.tensor(x), (3, 2)).numpy())


def test_pools_differentiate_twice():
    x = rng.permutation(2 * 5 * 5).reshape(1, 2, 5, 5) / 7.0
    assert mgx.gradcheck(lambda t: F.max_pool2d(t, 3, stride=2, padding=1) ** 2, x, order=2)
    assert mgx.gradcheck(lambda t: F.avg_pool2d(t, 3, stride=2, padding=1) ** 2, x, order=2)


# --------------------------------------------------------------------------- #
# errors
# --------------------------------------------------------------------------- #
def test_conv2d_channel_mismatch_names_both_shapes():
    with pytest.raises(
        ValueError, match=r"conv2d: input of shape \(2, 3, 8, 8\) has 3 channels.*\(4, 1, 3, 3\).*1"
    ):
        F.conv2d(np.zeros((2, 3, 8, 8)), np.zeros((4, 1, 3, 3)))


def test_a_kernel_larger_than_the_padded_input_is_an_error():
    with pytest.raises(
        ValueError,
        match=r"conv2d: the kernel \(5, 5\).*larger than the padded input.*\(1, 1, 4, 4\).*\(4, 4\)",
    ):
        F.conv2d(np.zeros((1, 1, 4, 4)), np.zeros((1, 1, 5, 5)))
    F.conv2d(np.zeros((1, 1, 4, 4)), np.zeros((1, 1, 5, 5)), padding=1)  # fits once padded
    with pytest.raises(ValueError, match=r"dilation \(2, 2\) spans \(5, 5\)"):
        F.conv2d(np.zeros((1, 1, 4, 4)), np.zeros((1, 1, 3, 3)), dilation=2)
    with pytest.raises(ValueError, match="max_pool2d: the kernel"):
        F.max_pool2d(np.zeros((1, 1, 2, 2)), 3)
    with pytest.raises(ValueError, match="im2col: the kernel"):
        F.im2col(np.zeros((1, 1, 2, 2)), 3)


@pytest.mark.parametrize("bad", [0, -1, (1, 0), 1.5, "2", (1, 2, 3)])
def test_stride_must_be_a_positive_int_or_pair(bad):
    with pytest.raises((ValueError, TypeError), match=r"conv2d: stride must be a positive int or a pair"):
        F.conv2d(np.zeros((1, 1, 4, 4)), np.zeros((1, 1, 2, 2)), stride=bad)
    with pytest.raises((ValueError, TypeError), match=r"max_pool2d: stride must be a positive int"):
        F.max_pool2d(np.zeros((1, 1, 4, 4)), 2, stride=bad)


def test_other_bad_window_arguments():
    x = np.zeros((1, 1, 4, 4))
    with pytest.raises(ValueError, match="padding must be a non-negative int"):
        F.im2col(x, 2, padding=-1)
    with pytest.raises(ValueError, match="dilation must be a positive int"):
        F.conv2d(x, np.zeros((1, 1, 2, 2)), dilation=0)
    with pytest.raises(ValueError, match="kernel_size must be a positive int"):
        F.avg_pool2d(x, 0)
    with pytest.raises(ValueError, match=r"max_pool2d: padding must be at most half of the kernel size"):
        F.max_pool2d(x, 2, padding=2)
    with pytest.raises(
        ValueError, match=r"max_pool2d: the window at output row 0 lies wholly in the padding"
    ):
        F.max_pool2d(np.zeros((1, 1, 1, 4)), 2, stride=1, padding=1, dilation=2)
    with pytest.raises(TypeError, match="filter_w"):
        F.im2col(x, (2, 2), 2)  # a pair kernel and a third positional: stride is a keyword here
    with pytest.raises(TypeError, match="pad is the book's name for padding"):
        F.im2col(x, 2, padding=1, pad=1)


def test_groups_other_than_one_are_refused():
    with pytest.raises(NotImplementedError, match="conv2d: groups=2 is not supported"):
        F.conv2d(np.zeros((1, 2, 4, 4)), np.zeros((2, 1, 2, 2)), groups=2)


def test_wrong_dimensions_are_named():
    with pytest.raises(
        ValueError,
        match=r"conv2d: expected a 4-D input \(N, C, H, W\) or 3-D \(C, H, W\), got shape \(4, 4\)",
    ):
        F.conv2d(np.zeros((4, 4)), np.zeros((1, 1, 2, 2)))
    with pytest.raises(ValueError, match=r"conv2d: weight must be 4-D.*\(1, 2, 2\)"):
        F.conv2d(np.zeros((1, 1, 4, 4)), np.zeros((1, 2, 2)))
    with pytest.raises(
        ValueError, match=r"conv2d: bias of shape \(3,\) does not match weight of shape \(2, 1, 2, 2\)"
    ):
        F.conv2d(np.zeros((1, 1, 4, 4)), np.zeros((2, 1, 2, 2)), np.zeros(3))
    with pytest.raises(
        ValueError, match=r"im2col: expected a 4-D input \(N, C, H, W\), got shape \(1, 4, 4\)"
    ):
        F.im2col(np.zeros((1, 4, 4)), 2)
    with pytest.raises(ValueError, match=r"max_pool2d: expected a 4-D input.*\(2, 1, 1, 4, 4\)"):
        F.max_pool2d(np.zeros((2, 1, 1, 4, 4)), 2)


def test_col2im_checks_its_shapes():
    with pytest.raises(
        ValueError, match=r"col2im: col of shape \(9, 4\) does not fit input_shape \(1, 2, 4, 4\).*\(9, 8\)"
    ):
        F.col2im(np.zeros((9, 4)), (1, 2, 4, 4), 2, stride=1)
    with pytest.raises(ValueError, match="col2im: input_shape must be 4 positive ints"):
        F.col2im(np.zeros((9, 4)), (3, 3), 2)
