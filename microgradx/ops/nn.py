"""Neural-network ops: softmax, log-softmax, the activations softplus, gelu, silu, elu and
logsigmoid, cross-entropy and the losses (nll, l1, huber, smooth l1, kl_div and the book's).

All of them are stable for any finite input: softmax and log-softmax subtract
the maximum first, cross-entropy goes through log-softmax, softplus and
logsigmoid never form exp of a large positive number, and binary cross-entropy
clamps its logarithms at -100 (as PyTorch does). Every loss takes
``reduction=`` "mean", "sum" or "none" (kl_div also "batchmean"), as PyTorch's.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import is_grad_enabled
from ..errors import describe, fmt_shape
from ..tensor import Tensor
from . import _BuiltinOp, normalize_axis
from .elementwise import (
    Abs,
    Exp,
    Log,
    _clip,
    _erf,
    _exp,
    _log,
    _log1p,
    _sigmoid,
    _tanh,
)
from .shape import _where

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
# activations
# --------------------------------------------------------------------------- #
class Softplus(_BuiltinOp):
    """Smooth ReLU, ``log(1 + exp(beta x)) / beta``, linear above ``threshold`` (as PyTorch).

    Forward:  y = x where beta x > threshold, else (max(beta x, 0) + log1p(exp(-|beta x|))) / beta
              (= log1p(exp(beta x)) / beta, never forming exp of a large positive number)
    Backward: dL/dx = dL/dy * (1 where beta x > threshold, else sigmoid(beta x))
    """

    def __init__(self, beta: float, threshold: float) -> None:
        self.beta, self.threshold = beta, threshold

    def forward(self, x: np.ndarray) -> np.ndarray:
        bx = x * self.beta
        with np.errstate(over="ignore", under="ignore"):
            soft = (np.maximum(bx, 0) + np.log1p(np.exp(-np.abs(bx)))) / self.beta
        return np.where(bx > self.threshold, x, soft)

    def backward(self, gy: Any) -> Any:
        linear = self.input_array(0) * self.beta > self.threshold
        return gy * _where(linear, 1.0, _sigmoid(self.input(0) * self.beta))


_SQRT1_2 = 0.7071067811865476  # 1 / sqrt(2)
_INV_SQRT_2PI = 0.3989422804014327  # 1 / sqrt(2 pi)
_GELU_BETA = 0.7978845608028654  # sqrt(2 / pi)
_GELU_KAPPA = 0.044715


class GELU(_BuiltinOp):
    """Gaussian error linear unit, ``x * Phi(x)`` (Phi: the standard normal CDF), exact or with
    PyTorch's tanh approximation (``approximate="tanh"``).

    Forward:  y = x / 2 * (1 + erf(x / sqrt(2)))   (approximate="none"), or
              y = x / 2 * (1 + tanh(u)),  u = sqrt(2 / pi) * (x + 0.044715 x**3)   ("tanh")
    Backward: dL/dx = dL/dy * (Phi(x) + x * exp(-x**2 / 2) / sqrt(2 pi))   ("none"), or
              dL/dx = dL/dy * ((1 + tanh(u)) / 2 + x / 2 * (1 - tanh(u)**2) * sqrt(2 / pi)
              * (1 + 3 * 0.044715 x**2))   ("tanh"); the same formulas as PyTorch's
    """

    name = "gelu"

    def __init__(self, approximate: str) -> None:
        self.approximate = approximate

    def forward(self, x: np.ndarray) -> np.ndarray:
        if self.approximate == "none":
            self.erf = _erf(x * _SQRT1_2)  # kept for a plain backward: erf is the costly part
            return x * 0.5 * (1 + self.erf)
        with np.errstate(over="ignore"):  # x**3 = inf for huge x: tanh(inf) = 1, rightly
            inner = _GELU_BETA * (x + _GELU_KAPPA * (x * x * x))
        return 0.5 * x * (1 + np.tanh(inner))

    def backward(self, gy: Any) -> Any:
        x = self.input(0)
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):  # inf * 0 at +-inf
            if self.approximate == "none":
                cdf = 0.5 * (1 + (_erf(x * _SQRT1_2) if is_grad_enabled() else self.erf))
                pdf = _exp(-0.5 * (x * x)) * _INV_SQRT_2PI
                return gy * (cdf + x * pdf)
            x_sq = x * x
            t = _tanh(_GELU_BETA * (x + _GELU_KAPPA * (x_sq * x)))
            left = 0.5 * x
            inner_derivative = _GELU_BETA * (1 + 3 * _GELU_KAPPA * x_sq)
            return gy * (0.5 * (1 + t) + left * (1 - t * t) * inner_derivative)


class SiLU(_BuiltinOp):
    """Sigmoid linear unit (swish), ``x * sigmoid(x)``.

    Forward:  y = x / (1 + exp(-x))
    Backward: dL/dx = dL/dy * s * (1 + x * (1 - s)),  s = sigmoid(x)
    """

    name = "silu"

    def forward(self, x: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore", invalid="ignore"):  # exp(-x) = inf: y = 0 (NaN at -inf)
            return x / (1 + np.exp(-x))

    def backward(self, gy: Any) -> Any:
        x = self.input(0)
        s = _sigmoid(x)
        with np.errstate(invalid="ignore"):  # inf * 0 at x = inf, as PyTorch
            return gy * s * (1 + x * (1 - s))


class ELU(_BuiltinOp):
    """Exponential linear unit with scale ``alpha`` for negative inputs.

    Forward:  y = x if x > 0 else alpha * expm1(x)
    Backward: dL/dx = dL/dy * (1 if x > 0 else alpha * exp(x))   (alpha at x = 0, and 1 at
              x = NaN, as PyTorch)
    """

    name = "elu"

    def __init__(self, alpha: float) -> None:
        self.alpha = alpha

    def forward(self, x: np.ndarray) -> np.ndarray:
        negative = self.alpha * np.expm1(np.minimum(x, 0))  # no overflow for large x
        return np.where(x <= 0, negative, x)

    def backward(self, gy: Any) -> Any:
        negative = self.input_array(0) <= 0
        return gy * _where(negative, self.alpha * _exp(_clip(self.input(0), None, 0.0)), 1.0)


class LogSigmoid(_BuiltinOp):
    """Logarithm of the sigmoid, ``-softplus(-x)``.

    Forward:  y = min(x, 0) - log1p(exp(-|x|))
    Backward: dL/dx = dL/dy * sigmoid(-x)
    """

    name = "logsigmoid"

    def forward(self, x: np.ndarray) -> np.ndarray:
        with np.errstate(under="ignore"):
            return np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))

    def backward(self, gy: Any) -> Any:
        return gy * _sigmoid(-self.input(0))


def _number(op: str, what: str, value: Any) -> float:
    """A real number parameter of ``op``, or an error naming it."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{op}: {what} must be a number, got {describe(value)}")
    if np.isnan(value):
        raise ValueError(f"{op}: {what} must not be NaN")
    return float(value)


def softplus(x: Any, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """Elementwise ``log(1 + exp(beta * x)) / beta``, and ``x`` where ``beta * x > threshold``
    (as ``torch.nn.functional.softplus``); finite for any input; see :class:`Softplus`.

    >>> softplus([0.0, 1000.0, -1000.0])
    tensor([6.93147181e-01, 1.00000000e+03, 0.00000000e+00])
    """
    beta = _number("softplus", "beta", beta)
    threshold = _number("softplus", "threshold", threshold)
    if not beta > 0:
        raise ValueError(f"softplus: beta must be > 0, got {beta}")
    return Softplus.apply(x, beta=beta, threshold=threshold)


def gelu(x: Any, approximate: str = "none") -> Tensor:
    """Elementwise Gaussian error linear unit ``x * Phi(x)``; ``approximate="tanh"`` uses the tanh
    formula (as ``torch.nn.functional.gelu``); see :class:`GELU`.

    >>> gelu([-1.0, 0.0, 1.0])
    tensor([-0.15865525,  0.        ,  0.84134475])
    >>> gelu([1.0], approximate="tanh")
    tensor([0.84119199])
    """
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {describe(approximate)}")
    return GELU.apply(x, approximate=approximate)


def silu(x: Any) -> Tensor:
    """Elementwise ``x * sigmoid(x)`` (swish); see :class:`SiLU`.

    >>> silu([0.0, 1.0])
    tensor([0.        , 0.73105858])
    """
    return SiLU.apply(x)


def elu(x: Any, alpha: float = 1.0) -> Tensor:
    """Elementwise ``x if x > 0 else alpha * (exp(x) - 1)``; see :class:`ELU`.

    >>> elu([-1.0, 2.0])
    tensor([-0.63212056,  2.        ])
    """
    return ELU.apply(x, alpha=_number("elu", "alpha", alpha))


def logsigmoid(x: Any) -> Tensor:
    """Elementwise ``log(sigmoid(x))``, finite for any finite input; see :class:`LogSigmoid`.

    >>> logsigmoid([0.0, -1000.0])
    tensor([-6.93147181e-01, -1.00000000e+03])
    """
    return LogSigmoid.apply(x)


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
              dL/dt = dL/dy * (max(log1p(-p), -100) - max(log p, -100)) / n
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
                gt = (_clip(_log1p(-p), -100, None) - _clip(_log(p), -100, None)) * g
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


# --------------------------------------------------------------------------- #
# more losses: nll, l1, huber, smooth l1, kl_div
# --------------------------------------------------------------------------- #
def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "none":
        return loss
    return loss.mean() if reduction == "mean" else loss.sum()


def nll_loss(log_probs: Any, target: Any, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of class indices: ``-log_probs[i, target[i]]``, reduced.

    As ``torch.nn.functional.nll_loss``: the input holds log-probabilities (as
    :func:`log_softmax` gives), and ``nll_loss(log_softmax(x), t)`` equals
    ``cross_entropy(x, t)``. The gradient is ``-dL/dy`` at each picked entry (divided by N for
    "mean") and 0 elsewhere.

    Parameters
    ----------
    log_probs : (N, C) or (C,) tensor
        Log-probabilities; a 1-D input is one sample.
    target : (N,) integer class indices (a 0-d one for a 1-D input)
    reduction : "mean" | "sum" | "none"

    Examples
    --------
    >>> nll_loss([[-0.1, -2.5], [-1.2, -0.4]], [0, 1])
    tensor(0.25)
    """
    _check_reduction("nll_loss", reduction)
    x, single = _as_batch("nll_loss", log_probs)
    n, c = x.shape
    t = target if isinstance(target, Tensor) else Tensor._from_operand(target, None)
    if single:
        t = t.reshape(1) if t.ndim == 0 else t
    if t.shape != (n,):
        raise ValueError(
            f"nll_loss: target must hold one class index per sample, shape ({n},) for log-probabilities "
            f"of shape {fmt_shape(x.shape)}; got shape {fmt_shape(t.shape)} (for probability targets "
            "use kl_div or cross_entropy)"
        )
    _, index = _target("nll_loss", t, n, c)
    if x.dtype.kind != "f":
        x = x.astype(np.float64)
    loss = _reduce(-x[np.arange(n), index], reduction)
    return loss.reshape(()) if single and reduction == "none" else loss


def l1_loss(y: Any, t: Any, reduction: str = "mean") -> Tensor:
    """Mean absolute error: ``|y - t|`` reduced by mean, sum or none (``torch``'s ``l1_loss``).

    The gradient at ``y = t`` is 0 (the subgradient of :func:`abs`, as PyTorch).

    >>> l1_loss([1.0, -3.0], [0.0, 0.0])
    tensor(2.)
    """
    _check_reduction("l1_loss", reduction)
    y, t = _same_shape("l1_loss", y, t)
    return _reduce(Abs.apply(y - t), reduction)


class HuberLoss(_BuiltinOp):
    """Huber loss, elementwise: quadratic within ``delta`` of the target, linear beyond.

    Forward:  y = d**2 / 2 if |d| < delta else delta * (|d| - delta / 2),  d = a - b
    Backward: dL/da = dL/dy * clip(d, -delta, delta),  dL/db = -dL/da
    """

    name = "huber_loss"

    def __init__(self, delta: float) -> None:
        self.delta = delta

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        z = np.abs(a - b)
        with np.errstate(over="ignore"):  # z * z of the branch not taken
            return np.where(z < self.delta, 0.5 * z * z, self.delta * (z - 0.5 * self.delta))

    def backward(self, gy: Any) -> tuple[Any, Any]:
        ga = gy * _clip(self.input(0) - self.input(1), -self.delta, self.delta)
        return ga, (-ga if self.needs_input_grad[1] else None)


class SmoothL1Loss(_BuiltinOp):
    """Smooth L1 loss, elementwise: the Huber loss with ``delta = beta``, divided by ``beta``.

    Forward:  y = d**2 / (2 beta) if |d| < beta else |d| - beta / 2,  d = a - b
    Backward: dL/da = dL/dy * clip(d / beta, -1, 1),  dL/db = -dL/da
    """

    name = "smooth_l1_loss"

    def __init__(self, beta: float) -> None:
        self.beta = beta

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        z = np.abs(a - b)
        with np.errstate(over="ignore"):
            return np.where(z < self.beta, 0.5 * z * z / self.beta, z - 0.5 * self.beta)

    def backward(self, gy: Any) -> tuple[Any, Any]:
        ga = gy * _clip((self.input(0) - self.input(1)) / self.beta, -1.0, 1.0)
        return ga, (-ga if self.needs_input_grad[1] else None)


def huber_loss(y: Any, t: Any, reduction: str = "mean", delta: float = 1.0) -> Tensor:
    """Huber loss of ``y`` against ``t``: ``d**2 / 2`` for ``|d| < delta``, else
    ``delta * (|d| - delta / 2)``, with ``d = y - t``, reduced (``torch``'s ``huber_loss``);
    see :class:`HuberLoss`.

    >>> huber_loss([0.5, 3.0], [0.0, 0.0], delta=1.0)
    tensor(1.3125)
    """
    _check_reduction("huber_loss", reduction)
    delta = _number("huber_loss", "delta", delta)
    if not delta > 0:
        raise ValueError(f"huber_loss: delta must be > 0, got {delta}")
    y, t = _same_shape("huber_loss", y, t)
    return _reduce(HuberLoss.apply(y, t, delta=delta), reduction)


def smooth_l1_loss(y: Any, t: Any, reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """Smooth L1 loss of ``y`` against ``t``: ``d**2 / (2 beta)`` for ``|d| < beta``, else
    ``|d| - beta / 2``, with ``d = y - t``, reduced (``torch``'s ``smooth_l1_loss``; ``beta = 0``
    is :func:`l1_loss`); see :class:`SmoothL1Loss`.

    >>> smooth_l1_loss([0.5, 3.0], [0.0, 0.0], beta=1.0)
    tensor(1.3125)
    """
    _check_reduction("smooth_l1_loss", reduction)
    beta = _number("smooth_l1_loss", "beta", beta)
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be >= 0, got {beta}")
    y, t = _same_shape("smooth_l1_loss", y, t)
    if beta == 0:
        return _reduce(Abs.apply(y - t), reduction)
    return _reduce(SmoothL1Loss.apply(y, t, beta=beta), reduction)


class KLDiv(_BuiltinOp):
    """Pointwise Kullback-Leibler divergence of a target distribution ``t`` from log-probabilities
    ``x`` (PyTorch's convention: the input is in log space, the target is not).

    Forward:  y = t * log(t) - t * x   (0 * log 0 = 0: the term is 0 where t = 0)
    Backward: dL/dx = -dL/dy * t,  dL/dt = dL/dy * (log(t) + 1 - x)   (-inf at t = 0, the limit)
    """

    name = "kl_div"

    def forward(self, x: np.ndarray, t: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore"):  # NaN for t < 0, as PyTorch
            t_log_t = t * np.log(np.where(t == 0, 1, t))
        return t_log_t - t * x

    def backward(self, gy: Any) -> tuple[Any, Any]:
        need_x, need_t = self.needs_input_grad
        gx = gt = None
        if need_x:
            gx = -gy * self.input(1)
        if need_t:
            with np.errstate(divide="ignore", invalid="ignore"):  # log 0 = -inf; log of t < 0
                gt = gy * (_log(self.input(1)) + 1 - self.input(0))
        return gx, gt


_KL_REDUCTIONS = ("mean", "batchmean", "sum", "none")


def kl_div(log_probs: Any, target: Any, reduction: str = "mean", log_target: bool = False) -> Tensor:
    """Kullback-Leibler divergence ``sum(t * (log t - log_probs))`` (``torch``'s ``kl_div``).

    Parameters
    ----------
    log_probs : tensor
        Log-probabilities of the model (as :func:`log_softmax` gives).
    target : tensor of the same shape (or one that broadcasts to it)
        Probabilities, or log-probabilities with ``log_target=True``.
    reduction : "mean" | "batchmean" | "sum" | "none"
        "batchmean" divides the sum by the batch size ``log_probs.shape[0]``: the mathematical KL
        divergence per sample. "mean" (the default, as in PyTorch) divides by the number of
        elements instead.
    log_target : bool
        The target holds log-probabilities: the pointwise loss is ``exp(t) * (t - log_probs)``.

    Examples
    --------
    >>> import numpy as np
    >>> kl_div(np.log([[0.5, 0.5]]), [[0.25, 0.75]], reduction="batchmean")
    tensor(0.13081204)
    """
    if reduction not in _KL_REDUCTIONS:
        raise ValueError(f"kl_div: reduction must be one of {_KL_REDUCTIONS}, got {describe(reduction)}")
    if not isinstance(log_target, (bool, np.bool_)):
        raise TypeError(f"kl_div: log_target must be True or False, got {describe(log_target)}")
    x, t = _same_shape("kl_div", log_probs, target)
    if x.dtype.kind != "f":
        x = x.astype(np.float64)
    loss = Exp.apply(t) * (t - x) if log_target else KLDiv.apply(x, t)
    if reduction == "batchmean":
        return loss.sum() / x.shape[0] if x.ndim else loss.sum()
    return _reduce(loss, reduction)
