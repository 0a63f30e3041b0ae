"""Neural-network ops: softmax, log-softmax, cross-entropy and the losses of the book.

All of them are stable for any finite input: softmax and log-softmax subtract
the maximum first, cross-entropy goes through log-softmax, and binary
cross-entropy clamps its logarithms at -100 (as PyTorch does).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import is_grad_enabled
from ..errors import describe, fmt_shape
from ..tensor import Tensor
from . import _BuiltinOp, normalize_axis
from .elementwise import Log, _clip, _exp, _log

_REDUCTIONS = ("mean", "sum", "none")


class Softmax(_BuiltinOp):
    """Softmax along one axis.

    Forward:  y = exp(x - max(x)) / sum(exp(x - max(x)))
    Backward: dL/dx = y * (dL/dy - sum(dL/dy * y))   (sums along the axis)
    """

    def __init__(self, axis: int) -> None:
        self.axis = axis

    def forward(self, x: np.ndarray) -> np.ndarray:
        e = np.exp(x - x.max(axis=self.axis, keepdims=True))
        return e / e.sum(axis=self.axis, keepdims=True)

    def backward(self, gy: Any) -> Any:
        y = self.result
        return y * (gy - (gy * y).sum(axis=self.axis, keepdims=True))


class LogSoftmax(_BuiltinOp):
    """Logarithm of softmax along one axis.

    Forward:  y = x - max(x) - log(sum(exp(x - max(x))))
    Backward: dL/dx = dL/dy - exp(y) * sum(dL/dy)   (sums along the axis)
    """

    def __init__(self, axis: int) -> None:
        self.axis = axis

    def forward(self, x: np.ndarray) -> np.ndarray:
        z = x - x.max(axis=self.axis, keepdims=True)
        return z - np.log(np.exp(z).sum(axis=self.axis, keepdims=True))

    def backward(self, gy: Any) -> Any:
        return gy - _exp(self.result) * gy.sum(axis=self.axis, keepdims=True)


def softmax(x: Any, axis: int = -1) -> Tensor:
    """Softmax of ``x`` along ``axis``; see :class:`Softmax`.

    >>> softmax([1e4, 0.0])
    tensor([1., 0.])
    """
    x = x if isinstance(x, Tensor) else Tensor._from_operand(x, None)
    return Softmax.apply(x, axis=normalize_axis(axis, x.ndim, "softmax"))


def log_softmax(x: Any, axis: int = -1) -> Tensor:
    """Log-softmax of ``x`` along ``axis``; see :class:`LogSoftmax`.

    >>> log_softmax([0.0, 0.0])
    tensor([-0.69314718, -0.69314718])
    """
    x = x if isinstance(x, Tensor) else Tensor._from_operand(x, None)
    return LogSoftmax.apply(x, axis=normalize_axis(axis, x.ndim, "log_softmax"))


# --------------------------------------------------------------------------- #
# targets
# --------------------------------------------------------------------------- #
def _target(op: str, target: Any, n: int, c: int) -> tuple[str, Any]:
    """Classify ``target`` for ``n`` samples of ``c`` classes.

    Returns ``("index", int array of shape (n,))`` or ``("dense", Tensor of shape (n, c))``,
    or raises an error that names the bad value or shape and what was expected.
    """
    t = target if isinstance(target, Tensor) else Tensor._from_operand(target, None)
    if t.shape == (n,):
        idx = t.data
        if idx.dtype.kind == "b":
            raise TypeError(f"{op}: class indices must be integers, got booleans")
        if idx.dtype.kind == "f":
            bad = idx[idx != np.round(idx)]
            if bad.size:
                raise ValueError(
                    f"{op}: class indices must be integers; got the non-integer value {bad.flat[0].item()!r}"
                )
            idx = idx.astype(np.int64)
        out = idx[(idx < 0) | (idx >= c)]
        if out.size:
            raise ValueError(
                f"{op}: class index {int(out.flat[0])} is out of range for {c} classes "
                f"(expected 0 <= index < {c})"
            )
        return "index", idx
    if t.shape == (n, c):
        if t.dtype.kind != "f":
            t = t.astype(np.float64)
        return "dense", t
    raise ValueError(
        f"{op}: target of shape {fmt_shape(t.shape)} matches neither class indices of shape "
        f"({n},) nor one-hot/probabilities of shape ({n}, {c}) for predictions of shape ({n}, {c})"
    )


def _check_reduction(op: str, reduction: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {_REDUCTIONS}, got {describe(reduction)}")


def _as_batch(op: str, y: Any) -> tuple[Tensor, bool]:
    """Predictions as (N, C); a 1-D input is one sample."""
    y = y if isinstance(y, Tensor) else Tensor._from_operand(y, None)
    if y.ndim == 1:
        return y.reshape(1, -1), True
    if y.ndim != 2:
        raise ValueError(f"{op}: predictions must have shape (N, C) or (C,), got shape {fmt_shape(y.shape)}")
    return y, False


def _batch_and_target(op: str, y: Any, target: Any) -> tuple[Tensor, bool, str, Any]:
    """Predictions as (N, C) (a 1-D input is one sample, its target reshaped to match) and the
    target classified by :func:`_target`: ``(y, single, kind, target)``."""
    yb, single = _as_batch(op, y)
    if single:
        t = target if isinstance(target, Tensor) else Tensor._from_operand(target, None)
        target = t.reshape(1) if t.ndim == 0 else t.reshape(1, -1)
    n, c = yb.shape
    kind, t = _target(op, target, n, c)
    return yb, single, kind, t


# --------------------------------------------------------------------------- #
# cross-entropy
# --------------------------------------------------------------------------- #
class CrossEntropy(_BuiltinOp):
    """Softmax and cross-entropy fused, against class indices (``index``) or target rows ``t``.

    Forward:  loss_i = -log_softmax(x)_i[index_i]   (class indices: picked, not multiplied, so a
              -inf logit of another class is fine), or
              loss_i = -sum_c t_ic * log_softmax(x)_ic   (one-hot or probability rows),
              then mean / sum / none over i
    Backward: dL/dx_i = g_i * (softmax(x_i) - onehot(index_i)), or
              dL/dx_i = g_i * (softmax(x_i) * sum_c t_ic - t_i)   (= g_i * (p_i - t_i) for rows
              that sum to 1),  dL/dt_i = -g_i * log_softmax(x_i)
              where g_i = dL/dy / N (mean), dL/dy (sum) or dL/dy_i (none)
    """

    def __init__(self, reduction: str, index: np.ndarray | None = None) -> None:
        self.reduction, self.index = reduction, index

    def forward(self, x: np.ndarray, t: np.ndarray | None = None) -> np.ndarray:
        z = x - x.max(axis=1, keepdims=True)
        e = np.exp(z)
        s = e.sum(axis=1, keepdims=True)
        self.logp = z - np.log(s)
        self.p = e / s
        if self.index is not None:
            loss = -self.logp[np.arange(x.shape[0]), self.index]
        else:
            loss = -(t * self.logp).sum(axis=1)
        if self.reduction == "mean":
            return loss.mean()
        return loss.sum() if self.reduction == "sum" else loss

    def backward(self, gy: Any) -> Any:
        n = self.inputs[0].shape[0]  # type: ignore[index]
        g = gy * (1.0 / n) if self.reduction == "mean" else gy
        if self.reduction == "none":
            g = g.reshape(n, 1)
        if is_grad_enabled():  # create_graph: build the gradient from differentiable ops
            x = self.input(0)
            p, logp = softmax(x, axis=1), log_softmax(x, axis=1)
        else:
            p, logp = self.p, self.logp
        if self.index is not None:
            onehot = np.zeros(self.p.shape, dtype=self.p.dtype)
            onehot[np.arange(n), self.index] = 1
            return (p - onehot) * g
        need_x, need_t = self.needs_input_grad
        gx = gt = None
        if need_x:
            t = self.input(1)
            gx = (p * t.sum(axis=1, keepdims=True) - t) * g
        if need_t:
            gt = -logp * g
        return gx, gt


def cross_entropy(logits: Any, target: Any, reduction: str = "mean") -> Tensor:
    """Cross-entropy of softmax(``logits``) against ``target``, fused and stable.

    Parameters
    ----------
    logits : (N, C) or (C,) tensor
        Unnormalised scores; a 1-D input is one sample.
    target : (N,) integer class indices, or (N, C) one-hot / probability rows
    reduction : "mean" | "sum" | "none"

    Examples
    --------
    >>> cross_entropy([[0.0, 0.0]], [1])
    tensor(0.69314718)
    """
    _check_reduction("cross_entropy", reduction)
    x, single, kind, t = _batch_and_target("cross_entropy", logits, target)
    if x.dtype.kind != "f":
        x = x.astype(np.float64)
    if kind == "index":
        loss = CrossEntropy.apply(x, reduction=reduction, index=t)
    else:
        loss = CrossEntropy.apply(x, t, reduction=reduction)
    return loss.reshape(()) if single and reduction == "none" else loss


def cross_entropy_error(y: Any, t: Any) -> Tensor:
    """The book's cross-entropy on probabilities: ``-sum(t * log(y + 1e-7)) / N``.

    ``t`` holds class indices of shape (N,) or one-hot rows of shape (N, C); a
    1-D ``y`` is one sample (as in *Deep Learning from Scratch*).

    >>> round(cross_entropy_error([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0],
    ...                           [0, 0, 1, 0, 0, 0, 0, 0, 0, 0]).item(), 9)
    0.510825457
    """
    yb, _, kind, tt = _batch_and_target("cross_entropy_error", y, t)
    n = yb.shape[0]
    if kind == "index":
        return -Log.apply(yb[np.arange(n), tt] + 1e-7).sum() / n
    return -(tt * Log.apply(yb + 1e-7)).sum() / n


# --------------------------------------------------------------------------- #
# regression and binary losses
# --------------------------------------------------------------------------- #
def _same_shape(op: str, y: Any, t: Any) -> tuple[Tensor, Tensor]:
    y = y if isinstance(y, Tensor) else Tensor._from_operand(y, None)
    t = t if isinstance(t, Tensor) else Tensor._from_operand(t, y._float_dtype())
    if t.shape != y.shape and (t.ndim > y.ndim or np.broadcast_shapes(y.shape, t.shape) != y.shape):
        raise ValueError(
            f"{op}: prediction of shape {fmt_shape(y.shape)} and target of shape "
            f"{fmt_shape(t.shape)} differ; broadcasting them would silently compare every "
            "pair. Reshape one of them"
        )
    return y, t


def mean_squared_error(y: Any, t: Any) -> Tensor:
    """The book's sum of squares error ``0.5 * sum((y - t) ** 2)``.

    >>> mean_squared_error([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0],
    ...                    [0, 0, 1, 0, 0, 0, 0, 0, 0, 0])
    tensor(0.0975)
    """
    y, t = _same_shape("mean_squared_error", y, t)
    d = y - t
    return 0.5 * (d * d).sum()


def mse_loss(y: Any, t: Any, reduction: str = "mean") -> Tensor:
    """PyTorch's mean squared error: ``(y - t) ** 2`` reduced by mean, sum or none.

    >>> mse_loss([1.0, 3.0], [0.0, 0.0])
    tensor(5.)
    """
    _check_reduction("mse_loss", reduction)
    y, t = _same_shape("mse_loss", y, t)
    d = y - t
    sq = d * d
    if reduction == "none":
        return sq
    return sq.mean() if reduction == "mean" else sq.sum()


class BinaryCrossEntropy(_BuiltinOp):
    """Binary cross-entropy on probabilities, mean over all elements (n of them).

    Forward:  y = -mean(t * max(log p, -100) + (1 - t) * max(log1p(-p), -100))
              (log1p: log(1 - p) would round 1 - p to 1 for p < 1e-16 and lose the term)
    Backward: dL/dp = dL/dy * (p - t) / max(p * (1 - p), 1e-12) / n,
              dL/dt = dL/dy * (max(log(1 - p), -100) - max(log p, -100)) / n
    """

    name = "binary_cross_entropy"

    def forward(self, p: np.ndarray, t: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore"):
            logp = np.maximum(np.log(p), -100)
            log1mp = np.maximum(np.log1p(-p), -100)
        return -(t * logp + (1 - t) * log1mp).mean()

    def backward(self, gy: Any) -> tuple[Any, Any]:
        p, t = self.input(0), self.input(1)
        g = gy * (1.0 / p.size)
        need_p, need_t = self.needs_input_grad
        gp = gt = None
        if need_p:
            gp = (p - t) / _clip(p * (1 - p), 1e-12, None) * g
        if need_t:
            with np.errstate(divide="ignore"):
                gt = (_clip(_log(1 - p), -100, None) - _clip(_log(p), -100, None)) * g
        return gp, gt


def binary_cross_entropy(p: Any, t: Any) -> Tensor:
    """Mean binary cross-entropy of probabilities ``p`` against targets ``t`` in [0, 1].

    Finite for p = 0 or 1 (logarithms are clamped at -100, as in PyTorch).

    >>> binary_cross_entropy([0.5, 0.5], [1.0, 0.0])
    tensor(0.69314718)
    """
    p, t = _same_shape("binary_cross_entropy", p, t)
    for what, v in (("probabilities", p.data), ("targets", t.data)):
        bad = v[~((v >= 0) & (v <= 1))]  # nan too
        if bad.size:
            raise ValueError(f"binary_cross_entropy: {what} must lie in [0, 1]; got {bad.flat[0].item()!r}")
    return BinaryCrossEntropy.apply(p, t)
