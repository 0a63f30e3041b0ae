"""Normalisation and dropout: batch norm, layer norm, dropout and embedding lookup (the book's ch. 6).

``batch_norm`` and ``layer_norm`` both standardise over some axes with one
op, :class:`Normalize`, whose backward is the book's (and PyTorch's) closed
form; the affine scale and shift are ordinary multiplications and additions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import autograd as _autograd
from .. import random as _random
from ..errors import fmt_shape
from ..tensor import Tensor
from . import _BuiltinOp, _is_int

__all__ = ["Dropout", "Normalize", "batch_norm", "dropout", "embedding", "layer_norm"]


def _as_tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor._from_operand(x, None)


class Normalize(_BuiltinOp):
    """Standardise over ``axes``: zero mean and unit variance (the biased variance, as PyTorch).

    Forward:  y = (x - m) / s,  m = mean(x),  s = sqrt(mean((x - m)**2) + eps)   (over the axes)
    Backward: dL/dx = (g - mean(g) - y * mean(g * y)) / s   with g = dL/dy (means over the axes)
    """

    def __init__(self, axes: tuple[int, ...], eps: float) -> None:
        self.axes, self.eps = axes, eps

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._scale = None
        self._stats: tuple[np.ndarray, np.ndarray] | None = None
        with np.errstate(over="ignore", invalid="ignore"):  # handled below
            d = x - x.mean(axis=self.axes, keepdims=True)
            var = (d * d).mean(axis=self.axes, keepdims=True)
        if not np.isfinite(var).all():  # an overflow (|x| > 1e154 in float64), or inf/NaN in x
            self._scale = _group_scale(x, self.axes)  # divide by the largest |x| first: same y, no overflow
            d = x / self._scale
            d -= d.mean(axis=self.axes, keepdims=True)
            var = (d * d).mean(axis=self.axes, keepdims=True)
            self._inv_std = 1.0 / np.sqrt(var + self.eps / self._scale / self._scale)
            return d * self._inv_std  # and 1/s is self._inv_std / self._scale
        self._inv_std = 1.0 / np.sqrt(var + np.asarray(self.eps, dtype=x.dtype))
        self._stats = (x.mean(axis=self.axes), var)  # for batch_norm's running statistics (no recount)
        return d * self._inv_std

    def backward(self, gy: Any) -> Any:
        y, axes, scale = self.result, self.axes, self._scale
        if isinstance(gy, Tensor):  # create_graph: 1/s as a function of x, so that it is differentiated too
            x = self.input(0) if scale is None else self.input(0) / scale  # the scale is a constant
            d = x - x.mean(axis=axes, keepdims=True)
            eps = self.eps if scale is None else self.eps / scale / scale
            inv_std = ((d * d).mean(axis=axes, keepdims=True) + eps) ** -0.5
        else:  # a plain backward: the value the forward computed
            inv_std = self._inv_std
        if scale is not None:
            inv_std = inv_std / scale
        return (
            gy - gy.mean(axis=axes, keepdims=True) - y * (gy * y).mean(axis=axes, keepdims=True)
        ) * inv_std


def _group_scale(x: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    """The largest finite |x| of each group (1 where there is none)."""
    m = np.where(np.isfinite(x), np.abs(x), 0).max(axis=axes, keepdims=True)
    return np.where(m > 0, m, 1).astype(x.dtype)


def _channel_shape(x: Tensor) -> tuple[int, ...]:
    """(1, C, 1, ...): a per-channel vector broadcast against x of shape (N, C, ...)."""
    return (1, x.shape[1]) + (1,) * (x.ndim - 2)


def _check_vector(op: str, name: str, v: Any, c: int) -> Any:
    if v is None:
        return None
    shape = np.shape(v.data if isinstance(v, Tensor) else v)
    if shape != (c,):
        raise ValueError(
            f"{op}: {name} must have shape ({c},) for {c} channels, got shape {fmt_shape(shape)}"
        )
    return v


def batch_norm(
    x: Any,
    running_mean: Any = None,
    running_var: Any = None,
    weight: Any = None,
    bias: Any = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Batch normalisation over the batch (and spatial) axes of ``x`` of shape (N, C, ...), per channel C.

    In training, each channel is standardised with the statistics of the batch
    (:class:`Normalize`), and ``running_mean`` / ``running_var`` (arrays or
    Tensors of shape (C,), when given) are updated in place:
    ``r = (1 - momentum) * r + momentum * batch statistic``, with the unbiased
    variance (``n / (n - 1)``) as PyTorch. In evaluation it uses the running
    statistics instead: ``(x - running_mean) / sqrt(running_var + eps)``.
    Then ``y = x_hat * weight + bias`` (per channel; each optional).
    Arguments and behaviour follow ``torch.nn.functional.batch_norm``.
    """
    x = _as_tensor(x)
    op = "batch_norm"
    if x.ndim < 2:
        raise ValueError(f"batch_norm: expected input of shape (N, C, ...), got shape {fmt_shape(x.shape)}")
    c = x.shape[1]
    running_mean = _check_vector(op, "running_mean", running_mean, c)
    running_var = _check_vector(op, "running_var", running_var, c)
    weight = _check_vector(op, "weight", weight, c)
    bias = _check_vector(op, "bias", bias, c)
    if (running_mean is None) != (running_var is None):
        raise ValueError("batch_norm: give both running_mean and running_var, or neither")
    if not 0 <= momentum <= 1:
        raise ValueError(f"batch_norm: momentum must be in [0, 1], got {momentum!r}")
    shape = _channel_shape(x)
    axes = (0, *range(2, x.ndim))

    def per_channel(v: Any) -> Tensor:
        """A (C,) vector broadcast along x's channels: as it is for (N, C) input (no recorded reshape)."""
        return _as_tensor(v) if x.ndim == 2 else _as_tensor(v).reshape(shape)

    if training:
        n = x.size // c
        if n <= 1:
            raise ValueError(
                f"batch_norm: training needs more than 1 value per channel, got input of shape "
                f"{fmt_shape(x.shape)} (use eval() for a batch of one)"
            )
        y = Normalize.apply(x, axes=axes, eps=eps)
        if running_mean is not None:
            if _autograd._tracer is not None:  # mgx.compile: the update below is not a recorded op
                _autograd._tracer.unsupported("batch norm updates its running statistics in training")
            stats = getattr(y.creator, "_stats", None)  # what Normalize computed (not recorded: recount)
            if stats is not None:
                mean, biased = stats[0], stats[1].reshape(c)
            else:
                mean, biased = x.data.mean(axis=axes), x.data.var(axis=axes)
            var = biased * (n / (n - 1))
            for buf, stat in ((running_mean, mean), (running_var, var)):
                arr = buf.data if isinstance(buf, Tensor) else buf
                arr *= 1 - momentum
                arr += momentum * stat
        if weight is not None:
            y = y * per_channel(weight)
    else:
        if running_mean is None:
            raise ValueError("batch_norm: evaluation (training=False) needs running_mean and running_var")
        # the statistics through ops (nothing requires their gradient): the same NumPy calls, and
        # a compiled plan (microgradx.compile) reads the buffers at each call
        rm, rv = _as_tensor(running_mean), _as_tensor(running_var)
        inv_std = 1.0 / (rv + eps).sqrt()
        if inv_std.dtype != x.dtype:
            inv_std = inv_std.astype(x.dtype)
        centred = x - (rm if rm.dtype == x.dtype else rm.astype(x.dtype)).reshape(shape)
        inv_std = inv_std.reshape(shape)
        # weight * inv_std first, as PyTorch: x * inv_std alone may overflow where y does not
        y = centred * (inv_std if weight is None else _as_tensor(weight).reshape(shape) * inv_std)
    if bias is not None:
        y = y + per_channel(bias)
    return y


def layer_norm(
    x: Any, normalized_shape: int | Sequence[int], weight: Any = None, bias: Any = None, eps: float = 1e-5
) -> Tensor:
    """Layer normalisation: standardise over the last ``len(normalized_shape)`` axes of ``x``
    (:class:`Normalize`), then ``y * weight + bias`` (each of shape ``normalized_shape``, optional),
    as ``torch.nn.functional.layer_norm``."""
    x = _as_tensor(x)
    shape = (normalized_shape,) if _is_int(normalized_shape) else tuple(normalized_shape)  # type: ignore[arg-type]
    k = len(shape)
    if k == 0 or x.shape[x.ndim - k :] != shape or k > x.ndim:
        raise ValueError(
            f"layer_norm: normalized_shape {shape} must be the last dimensions of the input, "
            f"got input of shape {fmt_shape(x.shape)}"
        )
    for name, v in (("weight", weight), ("bias", bias)):
        if v is not None and np.shape(v.data if isinstance(v, Tensor) else v) != shape:
            got = np.shape(v.data if isinstance(v, Tensor) else v)
            raise ValueError(f"layer_norm: {name} must have shape {shape}, got shape {fmt_shape(got)}")
    y = Normalize.apply(x, axes=tuple(range(x.ndim - k, x.ndim)), eps=eps)
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y


class Dropout(_BuiltinOp):
    """Inverted dropout with a fixed mask: zero each element with probability p, scale the rest.

    Forward:  y = x * mask / (1 - p)     (mask: 1 with probability 1 - p, else 0)
    Backward: dL/dx = dL/dy * mask / (1 - p)
    """

    def __init__(self, scale: np.ndarray) -> None:
        self.scale = scale  # mask / (1 - p), in x's dtype

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x * self.scale

    def backward(self, gy: Any) -> Any:
        return gy * self.scale


def dropout(x: Any, p: float = 0.5, training: bool = True) -> Tensor:
    """Inverted dropout (PyTorch's): in training, zero each element with probability ``p`` and
    divide the others by ``1 - p``; otherwise return ``x`` unchanged. See :class:`Dropout`.

    The mask is drawn from the generator that ``mgx.manual_seed`` seeds. The
    book's ``Dropout`` keeps the kept values as they are in training and
    multiplies by ``1 - p`` at test time instead: the same expected output.
    """
    x = _as_tensor(x)
    if isinstance(p, bool) or not 0 <= p <= 1:
        raise ValueError(f"dropout: p must be a probability in [0, 1], got {p!r}")
    if not training or p == 0:
        return x
    keep = _random.default_rng().random(x.shape) >= p
    scale = np.zeros(x.shape, dtype=x.dtype) if p == 1 else keep.astype(x.dtype) / np.asarray(1 - p, x.dtype)
    return Dropout.apply(x, scale=scale)


def embedding(indices: Any, weight: Any) -> Tensor:
    """Rows of ``weight`` (num_embeddings, dim) picked by the integer ``indices`` (any shape):
    ``weight[indices]``, whose gradient adds up into the rows used (as ``torch.nn.functional.embedding``)."""
    weight = _as_tensor(weight)
    _integer_indices(indices)
    if weight.ndim != 2:
        raise ValueError(
            f"embedding: weight must be 2-D (num_embeddings, dim), got shape {fmt_shape(weight.shape)}"
        )
    return weight[_embedding_indices(indices, weight.shape[0])]


def _integer_indices(indices: Any) -> np.ndarray:
    idx = np.asarray(indices.data if isinstance(indices, Tensor) else indices)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers, got dtype {idx.dtype}")
    return idx


def _embedding_indices(indices: Any, n: int) -> np.ndarray:
    """``indices`` as an integer array, each in ``[0, n)``, or the error that names the first bad one
    (a function of its own: a compiled plan calls it at each replay, see microgradx.compile)."""
    idx = _integer_indices(indices)
    bad = idx[(idx < 0) | (idx >= n)]
    if bad.size:
        raise IndexError(
            f"embedding: index {int(bad.flat[0])} is out of range for {n} embeddings "
            f"(expected 0 <= index < {n})"
        )
    return idx
