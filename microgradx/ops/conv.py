"""Convolution and pooling: im2col / col2im, conv2d, max_pool2d and avg_pool2d.

Images are channels-first, ``(N, C, H, W)``, as in PyTorch and the book
(*Deep Learning from Scratch*, chapter 7). A window of ``kh x kw`` elements
(``dilation`` apart) slides over the image padded by ``padding`` on each side,
``stride`` at a time, giving ``oh x ow`` output positions:

    oh = (H + 2 * ph - dh * (kh - 1) - 1) // sh + 1      (likewise ow)

:func:`im2col` writes the windows as the rows of a matrix in the book's
layout: row ``(n, y, x)`` (``n * oh * ow + y * ow + x``) holds the window at
output position ``(y, x)`` of image ``n``, channel by channel, each channel's
``kh x kw`` window in row-major order (column ``c * kh * kw + i * kw + j``;
PyTorch's ``unfold`` gives the transpose of each image's block). A
convolution is then one matrix product with the filters, each filter a
column. :func:`col2im` is its adjoint: it adds every row back to the window
it came from, so an element covered by several windows receives the sum.
Each is the other's backward, so gradients of any order work.

Both also take the book's positional form, ``im2col(x, filter_h, filter_w,
stride, pad)`` and ``col2im(col, input_shape, filter_h, filter_w, stride,
pad)``: an int after the kernel size is the kernel's width (pass ``stride=``
by keyword), and ``pad=`` is another name for ``padding=``.

:func:`conv2d` is the book's Convolution layer as one op (:class:`Conv2d`):
im2col, one matrix product with the filters, a reshape. Its backward under
``create_graph`` is written with :class:`Im2Col`, :class:`Col2Im` and matrix
products, so it differentiates again. :func:`max_pool2d` sends the gradient
of each window to the first of its largest elements (the last NaN when it
holds NaN), as PyTorch does; padding counts as ``-inf``. :func:`avg_pool2d`
counts padding zeros in its averages (PyTorch's default, ``count_include_pad=True``).

Speed: the windows are strided views of the (padded) image
(``sliding_window_view``), copied once by im2col; pooling works on one view
per kernel position and never copies the windows; no Python loop runs over
the images or the output pixels, only over the kernel positions (the book's
col2im loop).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..errors import fmt_shape
from ..tensor import Tensor
from . import _BuiltinOp, _is_int
from .shape import _broadcast_to, _where


class Window(NamedTuple):
    """A sliding window: kernel size, stride, padding and dilation, each as (height, width)."""

    kh: int
    kw: int
    sh: int = 1
    sw: int = 1
    ph: int = 0
    pw: int = 0
    dh: int = 1
    dw: int = 1

    def out_hw(self, h: int, w: int) -> tuple[int, int]:
        """The number of window positions down and across an ``h x w`` image."""
        oh = (h + 2 * self.ph - self.dh * (self.kh - 1) - 1) // self.sh + 1
        ow = (w + 2 * self.pw - self.dw * (self.kw - 1) - 1) // self.sw + 1
        return oh, ow

    def at(self, i: int, j: int, oh: int, ow: int) -> tuple[slice, slice, slice, slice]:
        """The elements of a padded image under kernel element ``(i, j)`` of every window."""
        y, x = i * self.dh, j * self.dw
        return (
            slice(None),
            slice(None),
            slice(y, y + self.sh * (oh - 1) + 1, self.sh),
            slice(x, x + self.sw * (ow - 1) + 1, self.sw),
        )


# --------------------------------------------------------------------------- #
# the array kernels (NumPy in, NumPy out)
# --------------------------------------------------------------------------- #
def _layout(x: np.ndarray) -> tuple[int, ...]:
    """The order of ``x``'s axes in memory, outermost first: (0, 1, 2, 3) for C order, (0, 2, 3, 1)
    for the output of :func:`conv2d` (channels last in memory, as the book's Convolution leaves it)."""
    return tuple(int(a) for a in np.argsort([-s for s in x.strides], kind="stable"))


def _full(shape: tuple[int, ...], value: Any, dtype: Any, layout: tuple[int, ...]) -> np.ndarray:
    """``np.full(shape, value)`` laid out in memory in the order ``layout``, so that elementwise work
    between it and an array of that layout runs through memory in order (``value`` None: np.empty)."""
    stored = tuple(shape[a] for a in layout)
    if value is None:
        a = np.empty(stored, dtype=dtype)
    elif value == 0:
        a = np.zeros(stored, dtype=dtype)
    else:
        a = np.full(stored, value, dtype=dtype)
    return a.transpose(np.argsort(layout))


def _padded(x: np.ndarray, g: Window, value: Any) -> np.ndarray:
    if not (g.ph or g.pw):
        return x
    n, c, h, w = x.shape
    out = _full((n, c, h + 2 * g.ph, w + 2 * g.pw), value, x.dtype, _layout(x))
    out[:, :, g.ph : g.ph + h, g.pw : g.pw + w] = x
    return out


def _im2col(x: np.ndarray, g: Window, transposed: bool = False) -> np.ndarray:
    """The book's im2col: one row per window, ``(N * oh * ow, C * kh * kw)``; or its transpose,
    ``(C * kh * kw, N * oh * ow)``, which :class:`Conv2d` uses (copied and multiplied faster)."""
    n, c, h, w = x.shape
    oh, ow = g.out_hw(h, w)
    span = (g.dh * (g.kh - 1) + 1, g.dw * (g.kw - 1) + 1)
    windows = sliding_window_view(_padded(x, g, 0), span, axis=(2, 3))  # type: ignore  # a view: no copy yet
    windows = windows[:, :, :: g.sh, :: g.sw, :: g.dh, :: g.dw]  # (N, C, oh, ow, kh, kw)
    if transposed:
        colt = np.empty((c, g.kh, g.kw, n, oh, ow), dtype=x.dtype)
        colt[...] = windows.transpose(1, 4, 5, 0, 2, 3)  # the one copy
        return colt.reshape(c * g.kh * g.kw, n * oh * ow)
    col = np.empty((n, oh, ow, c, g.kh, g.kw), dtype=x.dtype)
    col[...] = windows.transpose(0, 2, 3, 1, 4, 5)  # the one copy
    return col.reshape(n * oh * ow, c * g.kh * g.kw)


def _col2im(col: np.ndarray, shape: tuple[int, ...], g: Window, transposed: bool = False) -> np.ndarray:
    """The book's col2im: each row added back to its window (overlaps add up); with ``transposed``,
    each column of ``col`` (C * kh * kw, N * oh * ow), into an image laid out channel by channel."""
    n, c, h, w = shape
    oh, ow = g.out_hw(h, w)
    hp, wp = h + 2 * g.ph, w + 2 * g.pw
    if transposed:  # (C, N, ...) in memory on both sides: the additions run through memory in order
        blocks = col.reshape(c, g.kh, g.kw, n, oh, ow).transpose(3, 0, 1, 2, 4, 5)
        img = np.zeros((c, n, hp, wp), dtype=col.dtype).transpose(1, 0, 2, 3)
    else:
        blocks = col.reshape(n, oh, ow, c, g.kh, g.kw).transpose(0, 3, 4, 5, 1, 2)
        img = np.zeros((n, c, hp, wp), dtype=col.dtype)
    for i in range(g.kh):  # blocks: (N, C, kh, kw, oh, ow)
        for j in range(g.kw):
            img[g.at(i, j, oh, ow)] += blocks[:, :, i, j]
    return img[:, :, g.ph : g.ph + h, g.pw : g.pw + w]


def _lowest(dtype: np.dtype) -> Any:
    """What max-pooling pads with: -inf, or the smallest value of an integer dtype."""
    if dtype.kind == "f":
        return -np.inf
    return np.iinfo(dtype).min if dtype.kind in "iu" else False


def _first_real(g: Window, oh: int, ow: int) -> np.ndarray:
    """For each window, the kernel position (``i * kw + j``) of its first element that is not padding."""
    i0 = np.maximum(0, -((np.arange(oh) * g.sh - g.ph) // g.dh))  # ceil((ph - y * sh) / dh), at least 0
    j0 = np.maximum(0, -((np.arange(ow) * g.sw - g.pw) // g.dw))
    return i0[:, None] * g.kw + j0[None, :]  # type: ignore[no-any-return]


def _max_pool(x: np.ndarray, g: Window) -> tuple[np.ndarray, list[np.ndarray]]:
    """The maximum of each window, and for each kernel position ``p = i * kw + j`` the mask of the
    windows whose arg-max is there, chosen as PyTorch does: the first of the largest elements; the
    last NaN in a window with NaN; the first element that is not padding when all are -inf.

    Elementwise over the kernel positions, each a strided view of x (no copy of the windows).
    """
    oh, ow = g.out_hw(x.shape[2], x.shape[3])
    xp = _padded(x, g, _lowest(x.dtype))
    views = [xp[g.at(i, j, oh, ow)] for i in range(g.kh) for j in range(g.kw)]
    out = views[0].copy(order="K")  # (in x's memory layout, as everything below)
    for v in views[1:]:
        np.maximum(out, v, out=out)  # NaN propagates
    masks = [views[0] == out]
    found = masks[0].copy()
    for v in views[1:]:  # the first position holding the maximum wins
        hit = v == out
        hit &= ~found
        found |= hit
        masks.append(hit)
    if x.dtype.kind == "f":
        nan = np.isnan(out)
        if nan.any():  # no position equals NaN: the last NaN of each such window wins
            later = np.zeros_like(nan)
            for p in range(len(views) - 1, -1, -1):
                last = nan & np.isnan(views[p]) & ~later
                later |= last
                masks[p] = np.where(nan, last, masks[p])
        if g.ph or g.pw:
            empty = out == -np.inf  # maybe from the padding: PyTorch picks the first real element
            if empty.any():
                first = _first_real(g, oh, ow)
                masks = [np.where(empty, first == p, m) for p, m in enumerate(masks)]
    return out, masks


def _unpool(
    gy: np.ndarray, shape: tuple[int, ...], g: Window, masks: list[np.ndarray] | None, layout: tuple[int, ...]
) -> np.ndarray:
    """The adjoint of pooling: ``gy`` of each window sent to the position its mask marks (max), or
    to each of its positions (``masks`` None: avg, ``gy`` already divided by the window's size).
    The result has the memory ``layout`` of the pooled input."""
    n, c, h, w = shape
    oh, ow = gy.shape[2:]
    if _layout(gy) != layout:  # one copy into the masks' layout: the loop below is then in order
        gy = np.ascontiguousarray(gy.transpose(layout)).transpose(np.argsort(layout))
    hp, wp = h + 2 * g.ph, w + 2 * g.pw
    disjoint = g.sh >= g.dh * (g.kh - 1) + 1 and g.sw >= g.dw * (g.kw - 1) + 1  # no element in 2 windows
    tiled = (g.dh, g.dw) == (1, 1) and (g.sh * oh, g.sw * ow) == (hp, wp) and (g.sh, g.sw) == (g.kh, g.kw)
    gx = _full((n, c, hp, wp), None if tiled else 0, gy.dtype, layout)  # tiled: each element written once
    finite = masks is None or bool(np.isfinite(gy).all())
    for p in range(g.kh * g.kw):
        at = g.at(p // g.kw, p % g.kw, oh, ow)
        if masks is None:
            part = gy
        elif finite:
            part = gy * masks[p]
        else:  # where, not a product: a NaN or inf in gy reaches its own element only (inf * 0 = NaN)
            part = np.where(masks[p], gy, np.zeros((), gy.dtype))
        if disjoint:
            gx[at] = part
        else:
            gx[at] += part
    return gx[:, :, g.ph : g.ph + h, g.pw : g.pw + w]


# --------------------------------------------------------------------------- #
# the ops
# --------------------------------------------------------------------------- #
class Im2Col(_BuiltinOp):
    """The windows of an image batch as the rows of a matrix (the book's layout; see the module).

    Forward:  y[(n, oy, ox), (c, i, j)] = xpad[n, c, oy * sh + i * dh, ox * sw + j * dw]
              (xpad: x with ``padding`` zeros around each image)
    Backward: dL/dx = col2im(dL/dy, x.shape)   (each row added back to its window; overlaps sum)
    """

    name = "im2col"

    def __init__(self, window: Window) -> None:
        self.window = window

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x_shape = x.shape
        return _im2col(x, self.window)

    def backward(self, gy: Any) -> Any:
        if isinstance(gy, Tensor):
            return Col2Im.apply(gy, shape=self.x_shape, window=self.window)
        return _col2im(gy, self.x_shape, self.window)


class Col2Im(_BuiltinOp):
    """The adjoint of :class:`Im2Col`: each row of a matrix added back to its window of an image.

    Forward:  y = zeros(shape);  y[n, c, oy * sh + i * dh - ph, ox * sw + j * dw - pw]
              += x[(n, oy, ox), (c, i, j)]   (positions in the padding are dropped)
    Backward: dL/dx = im2col(dL/dy)
    """

    name = "col2im"

    def __init__(self, shape: tuple[int, ...], window: Window) -> None:
        self.shape, self.window = shape, window

    def forward(self, col: np.ndarray) -> np.ndarray:
        return _col2im(col, self.shape, self.window)

    def backward(self, gy: Any) -> Any:
        if isinstance(gy, Tensor):
            return Im2Col.apply(gy, window=self.window)
        return _im2col(gy, self.window)


class Conv2d(_BuiltinOp):
    """2-D convolution (cross-correlation), as the book's Convolution layer: im2col, then one matrix
    product with the F filters. With ``col = im2col(x)`` (N * oh * ow, C * kh * kw) and
    ``Wm = W.reshape(F, C * kh * kw)`` (one filter per row):

    Forward:  y = (col @ Wm^T + b).reshape(N, oh, ow, F).transpose(0, 3, 1, 2)
    Backward: with G = dL/dy.transpose(0, 2, 3, 1).reshape(N * oh * ow, F):
              dL/dx = col2im(G @ Wm),  dL/dW = (G^T @ col).reshape(W.shape),  dL/db = sum of G's rows

    On arrays (forward, and a plain backward) the same products are computed transposed
    (``colT = col^T``, ``Wm @ colT``, ``Wm^T @ G^T``): that layout is faster to build, to multiply
    and to add back, and leaves y with its channels outermost in memory (y.transpose(1, 0, 2, 3)
    is contiguous), which the next layer's windows read in order.
    """

    name = "conv2d"

    def __init__(self, window: Window) -> None:
        self.window = window

    def forward(self, x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
        n, _, h, wd = x.shape
        oh, ow = self.window.out_hw(h, wd)
        self.x_shape = x.shape
        self.colt = colt = _im2col(x, self.window, transposed=True)  # kept for dL/dW, as the book's
        out = w.reshape(w.shape[0], -1) @ colt  # (F, N * oh * ow), a new array
        if b is not None:
            b = b.reshape(-1, 1)
            if np.result_type(out, b) == out.dtype:
                out += b
            else:
                out = out + b
        return out.reshape(w.shape[0], n, oh, ow).transpose(1, 0, 2, 3)

    def backward(self, gy: Any) -> tuple[Any, ...]:
        need, g = self.needs_input_grad, self.window
        f = gy.shape[1]
        w_shape = self.inputs[1].shape  # type: ignore[index]
        gx: Any = None
        gw: Any = None
        gb: Any = None
        if isinstance(gy, Tensor):  # create_graph: recorded ops, in the book's layout
            gm = gy.transpose(0, 2, 3, 1).reshape(-1, f)
            if need[0]:  # reads W only
                gx = Col2Im.apply(gm @ self.input(1).reshape(f, -1), shape=self.x_shape, window=g)
            if need[1]:  # reads x only
                gw = (gm.T @ Im2Col.apply(self.input(0), window=g)).reshape(w_shape)
            gb = gm.sum(axis=0) if len(need) > 2 and need[2] else None
        else:
            gmt = gy.transpose(1, 0, 2, 3).reshape(f, -1)  # G^T, (F, N * oh * ow): free for gy laid out as y
            if need[0]:
                gx = _col2im(self.input(1).reshape(f, -1).T @ gmt, self.x_shape, g, transposed=True)
            if need[1]:
                gw = (gmt @ self.colt.T).reshape(w_shape)
            gb = gmt.sum(axis=1) if len(need) > 2 and need[2] else None
        return (gx, gw) if len(need) == 2 else (gx, gw, gb)


def _unwindow(g5: Tensor, shape: tuple[int, ...], window: Window) -> Tensor:
    """A recorded col2im of per-window values laid out ``(N, C, oh, ow, kh * kw)`` (pooling's backward
    under create_graph, so that it is differentiable again)."""
    n, c, oh, ow, k = g5.shape
    col = g5.transpose(0, 2, 3, 1, 4).reshape(n * oh * ow, c * k)
    return Col2Im.apply(col, shape=shape, window=window)


class MaxPool2d(_BuiltinOp):
    """The largest element of each window.

    Forward:  y[n, c, oy, ox] = max over the window at (oy, ox) of x padded with -inf
    Backward: dL/dx = dL/dy of each window added at its arg-max (the first of the largest elements,
              the last NaN if any, as in PyTorch); zero elsewhere
    """

    name = "max_pool2d"

    def __init__(self, window: Window) -> None:
        self.window = window

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x_shape, self.layout = x.shape, _layout(x)
        out, self.masks = _max_pool(x, self.window)
        return out

    def backward(self, gy: Any) -> Any:
        if isinstance(gy, Tensor):
            onehot = np.stack(self.masks, axis=-1)  # (N, C, oh, ow, kh * kw)
            g5 = _where(onehot, gy.reshape(gy.shape + (1,)), np.zeros((), dtype=gy.dtype))
            return _unwindow(g5, self.x_shape, self.window)
        return _unpool(gy, self.x_shape, self.window, self.masks, self.layout)


class AvgPool2d(_BuiltinOp):
    """The mean of each window, padding zeros included (PyTorch's ``count_include_pad=True``).

    Forward:  y[n, c, oy, ox] = sum over the window at (oy, ox) of x padded with 0, / (kh * kw)
    Backward: dL/dx = dL/dy / (kh * kw) added to every element of each window
    """

    name = "avg_pool2d"

    def __init__(self, window: Window) -> None:
        self.window = window

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x_shape, self.layout = x.shape, _layout(x)
        g = self.window
        oh, ow = g.out_hw(x.shape[2], x.shape[3])
        xp = _padded(x, g, 0)
        out = xp[g.at(0, 0, oh, ow)].astype(x.dtype if x.dtype.kind == "f" else np.float64, order="K")
        for p in range(1, g.kh * g.kw):
            out += xp[g.at(p // g.kw, p % g.kw, oh, ow)]
        out /= g.kh * g.kw
        return out

    def backward(self, gy: Any) -> Any:
        g = self.window
        k = g.kh * g.kw
        if isinstance(gy, Tensor):
            g5 = _broadcast_to((gy / k).reshape(gy.shape + (1,)), gy.shape + (k,))
            return _unwindow(g5, self.x_shape, g)
        return _unpool(gy / k, self.x_shape, g, None, self.layout)


# --------------------------------------------------------------------------- #
# the public functions: arguments checked here, with the messages users see
# --------------------------------------------------------------------------- #
def _pair(value: Any, what: str, op: str, least: int) -> tuple[int, int]:
    """An int or a pair of ints, each at least ``least``, as a pair; or an error naming ``op``."""
    pair = (value, value) if _is_int(value) else value
    try:
        ok = len(pair) == 2 and all(_is_int(v) for v in pair)
    except TypeError:
        ok = False
    kind = {0: "a non-negative int", 1: "a positive int"}[least]
    if not ok:
        raise TypeError(f"{op}: {what} must be {kind} or a pair of them, got {value!r}")
    if min(pair) < least:
        raise ValueError(f"{op}: {what} must be {kind} or a pair of them, got {value!r}")
    return int(pair[0]), int(pair[1])


def _window(
    op: str, kernel_size: Any, stride: Any, padding: Any, dilation: Any, filter_w: Any = None
) -> Window:
    if filter_w is not None:  # the book's im2col(x, filter_h, filter_w, ...)
        if not _is_int(kernel_size):
            raise TypeError(
                f"{op}: got kernel_size={kernel_size!r} and filter_w={filter_w!r}; give the kernel "
                "as an int or a pair, or the book's filter_h, filter_w (two ints); pass stride= by keyword"
            )
        kernel_size = (kernel_size, filter_w)
    kh, kw = _pair(kernel_size, "kernel_size", op, 1)
    sh, sw = _pair(stride, "stride", op, 1)
    ph, pw = _pair(padding, "padding", op, 0)
    dh, dw = _pair(dilation, "dilation", op, 1)
    return Window(kh, kw, sh, sw, ph, pw, dh, dw)


def _check_fits(op: str, shape: tuple[int, ...], g: Window, what: str = "input") -> None:
    """The window must fit inside the padded image."""
    h, w = shape[-2] + 2 * g.ph, shape[-1] + 2 * g.pw
    eh, ew = g.dh * (g.kh - 1) + 1, g.dw * (g.kw - 1) + 1
    if eh > h or ew > w:
        dil = f" with dilation ({g.dh}, {g.dw})" if (g.dh, g.dw) != (1, 1) else ""
        raise ValueError(
            f"{op}: the kernel ({g.kh}, {g.kw}){dil} spans ({eh}, {ew}), larger than the padded {what}: "
            f"{what} of shape {fmt_shape(shape)} with padding ({g.ph}, {g.pw}) is ({h}, {w})"
        )


def _image(op: str, x: Any, unbatched: bool) -> Tensor:
    """``x`` as a Tensor of 4 dimensions (N, C, H, W) (or 3, (C, H, W), when ``unbatched``)."""
    x = x if isinstance(x, Tensor) else Tensor._from_operand(x, None)
    if x.ndim != 4 and not (unbatched and x.ndim == 3):
        also = " or 3-D (C, H, W)" if unbatched else ""
        raise ValueError(f"{op}: expected a 4-D input (N, C, H, W){also}, got shape {fmt_shape(x.shape)}")
    return x


def _padding(op: str, padding: Any, pad: Any) -> Any:
    if pad is None:
        return padding
    if not (_is_int(padding) and padding == 0):
        raise TypeError(
            f"{op}: got both padding={padding!r} and pad={pad!r}; pad is the book's name for padding"
        )
    return pad


def im2col(
    x: Any,
    kernel_size: Any,
    filter_w: int | None = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    *,
    pad: Any = None,
) -> Tensor:
    """The windows of ``x`` (N, C, H, W) as the rows of a matrix (N * oh * ow, C * kh * kw); see
    :class:`Im2Col`.

    ``kernel_size``, ``stride``, ``padding`` and ``dilation`` are each an int or
    an (height, width) pair; padding adds zeros. The book's form
    ``im2col(x, filter_h, filter_w, stride=1, pad=0)`` works too: an int
    ``filter_w`` after an int kernel size is the kernel's width, and ``pad`` is
    ``padding``.

    >>> import numpy as np
    >>> im2col(np.ones((1, 3, 7, 7)), 5, 5, stride=1, pad=0).shape  # the book's example
    (9, 75)
    >>> im2col(np.ones((10, 3, 7, 7)), kernel_size=5).shape
    (90, 75)
    """
    op = "im2col"
    g = _window(op, kernel_size, stride, _padding(op, padding, pad), dilation, filter_w)
    x = _image(op, x, unbatched=False)
    _check_fits(op, x.shape, g)
    return Im2Col.apply(x, window=g)


def col2im(
    col: Any,
    input_shape: Any,
    kernel_size: Any,
    filter_w: int | None = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    *,
    pad: Any = None,
) -> Tensor:
    """Each row of ``col`` added back to its window of an image of ``input_shape``; see :class:`Col2Im`.

    The adjoint of :func:`im2col` with the same arguments (not its inverse:
    an element covered by several windows receives the sum of their rows).
    The book's form ``col2im(col, input_shape, filter_h, filter_w, stride=1,
    pad=0)`` works too, as for :func:`im2col`.

    >>> import numpy as np
    >>> col2im(im2col(np.ones((1, 1, 3, 3)), 2), (1, 1, 3, 3), 2)  # how many windows cover each element
    tensor([[[[1., 2., 1.],
              [2., 4., 2.],
              [1., 2., 1.]]]])
    """
    op = "col2im"
    g = _window(op, kernel_size, stride, _padding(op, padding, pad), dilation, filter_w)
    try:
        shape = tuple(int(s) for s in input_shape)
        ok = len(shape) == 4 and min(shape) >= 1 and all(_is_int(s) for s in input_shape)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(f"col2im: input_shape must be 4 positive ints (N, C, H, W), got {input_shape!r}")
    col = col if isinstance(col, Tensor) else Tensor._from_operand(col, None)
    _check_fits(op, shape, g, what="image")
    oh, ow = g.out_hw(shape[2], shape[3])
    want = (shape[0] * oh * ow, shape[1] * g.kh * g.kw)
    if col.shape != want:
        raise ValueError(
            f"col2im: col of shape {fmt_shape(col.shape)} does not fit input_shape {fmt_shape(shape)} with "
            f"kernel ({g.kh}, {g.kw}), stride ({g.sh}, {g.sw}), padding ({g.ph}, {g.pw}), dilation "
            f"({g.dh}, {g.dw}): im2col gives shape {fmt_shape(want)} (N * oh * ow, C * kh * kw)"
        )
    return Col2Im.apply(col, shape=shape, window=g)


def conv2d(
    x: Any,
    weight: Any,
    bias: Any = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> Tensor:
    """2-D convolution (cross-correlation, as in PyTorch and the book) of ``x`` (N, C, H, W) with
    ``weight`` (out_channels, C, kh, kw), plus ``bias`` (out_channels,); result (N, out_channels, oh, ow).

    Computed as the book's Convolution layer: ``im2col(x) @ weight.reshape(out_channels, -1).T + bias``,
    reshaped to (N, oh, ow, out_channels) and transposed to channels-first. ``stride``, ``padding``
    (zeros) and ``dilation`` are an int or a pair; only ``groups=1`` is supported. A 3-D ``x``
    (C, H, W) is one image, as in PyTorch.

    >>> import numpy as np
    >>> conv2d(np.ones((1, 1, 3, 3)), np.ones((2, 1, 2, 2)), bias=[0.0, 0.5]).shape
    (1, 2, 2, 2)
    >>> conv2d(np.arange(9.0).reshape(1, 1, 3, 3), np.ones((1, 1, 2, 2)), padding=1)
    tensor([[[[ 0.,  1.,  3.,  2.],
              [ 3.,  8., 12.,  7.],
              [ 9., 20., 24., 13.],
              [ 6., 13., 15.,  8.]]]])
    """
    op = "conv2d"
    if groups != 1:
        raise NotImplementedError(f"conv2d: groups={groups!r} is not supported; only groups=1")
    x = _image(op, x, unbatched=True)
    weight = weight if isinstance(weight, Tensor) else Tensor._from_operand(weight, None)
    if weight.ndim != 4:
        raise ValueError(
            "conv2d: weight must be 4-D (out_channels, in_channels, kh, kw), "
            f"got shape {fmt_shape(weight.shape)}"
        )
    out_c, in_c, kh, kw = weight.shape
    g = _window(op, (kh, kw), stride, padding, dilation)
    if x.shape[-3] != in_c:
        raise ValueError(
            f"conv2d: input of shape {fmt_shape(x.shape)} has {x.shape[-3]} channels, but weight of shape "
            f"{fmt_shape(weight.shape)} (out_channels, in_channels, kh, kw) expects {in_c}"
        )
    if bias is not None:
        bias = bias if isinstance(bias, Tensor) else Tensor._from_operand(bias, None)
        if bias.shape != (out_c,):
            raise ValueError(
                f"conv2d: bias of shape {fmt_shape(bias.shape)} does not match weight of shape "
                f"{fmt_shape(weight.shape)}: it needs shape ({out_c},), one per output channel"
            )
    _check_fits(op, x.shape, g)
    single = x.ndim == 3
    if single:
        x = x.reshape(1, *x.shape)
    n, _, h, w = x.shape
    oh, ow = g.out_hw(h, w)
    out = Conv2d.apply(x, weight, window=g) if bias is None else Conv2d.apply(x, weight, bias, window=g)
    return out.reshape(out_c, *out.shape[2:]) if single else out


def _pool(
    op: str, cls: type[_BuiltinOp], x: Any, kernel_size: Any, stride: Any, padding: Any, dilation: Any
) -> Tensor:
    x = _image(op, x, unbatched=True)
    g = _window(op, kernel_size, kernel_size if stride is None else stride, padding, dilation)
    if 2 * g.ph > g.kh or 2 * g.pw > g.kw:  # PyTorch's rule (without dilation, every window then
        # holds an element of x)
        raise ValueError(
            f"{op}: padding must be at most half of the kernel size, got padding ({g.ph}, {g.pw}) with "
            f"kernel_size ({g.kh}, {g.kw})"
        )
    _check_fits(op, x.shape, g)
    if op == "max_pool2d":
        _check_no_window_in_padding(x.shape, g)
    if x.ndim == 3:
        return cls.apply(x.reshape(1, *x.shape), window=g).reshape(*x.shape[:1], *g.out_hw(*x.shape[1:]))
    return cls.apply(x, window=g)


def _check_no_window_in_padding(shape: tuple[int, ...], g: Window) -> None:
    """With dilation, a window can skip every real row (or column): its maximum would be the padding's
    -inf, with no element to send the gradient to (PyTorch sends it to an element outside the window)."""
    oh, ow = g.out_hw(shape[-2], shape[-1])
    for axis, n, o, s, k, p, d in (
        (-2, shape[-2], oh, g.sh, g.kh, g.ph, g.dh),
        (-1, shape[-1], ow, g.sw, g.kw, g.pw, g.dw),
    ):
        rows = np.arange(o)[:, None] * s + np.arange(k)[None, :] * d - p  # positions in x of each window
        empty = ~((rows >= 0) & (rows < n)).any(axis=1)
        if empty.any():
            what = "row" if axis == -2 else "column"
            raise ValueError(
                f"max_pool2d: the window at output {what} {int(np.argmax(empty))} lies wholly in the "
                f"padding: kernel ({g.kh}, {g.kw}), dilation ({g.dh}, {g.dw}), stride ({g.sh}, {g.sw}) "
                f"and padding ({g.ph}, {g.pw}) on an input of shape {fmt_shape(shape)}; use less padding"
            )


def max_pool2d(x: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1) -> Tensor:
    """The largest element of each window of ``x`` (N, C, H, W); see :class:`MaxPool2d`.

    ``stride`` defaults to ``kernel_size`` (windows side by side); ``padding``
    counts as ``-inf`` and may be at most half the kernel (as in PyTorch). The
    gradient of each window goes to its first largest element, as in PyTorch.

    >>> max_pool2d([[[[1.0, 2.0, 5.0, 0.0], [4.0, 3.0, 1.0, 1.0]]]], 2)
    tensor([[[[4., 5.]]]])
    """
    return _pool("max_pool2d", MaxPool2d, x, kernel_size, stride, padding, dilation)


def avg_pool2d(x: Any, kernel_size: Any, stride: Any = None, padding: Any = 0) -> Tensor:
    """The mean of each window of ``x`` (N, C, H, W); see :class:`AvgPool2d`.

    ``stride`` defaults to ``kernel_size``; ``padding`` adds zeros, which count
    in the mean (PyTorch's default ``count_include_pad=True``), and may be at
    most half the kernel.

    >>> avg_pool2d([[[[1.0, 2.0, 5.0, 0.0], [4.0, 3.0, 1.0, 1.0]]]], 2)
    tensor([[[[2.5 , 1.75]]]])
    """
    return _pool("avg_pool2d", AvgPool2d, x, kernel_size, stride, padding, 1)
