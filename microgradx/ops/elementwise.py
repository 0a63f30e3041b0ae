"""Elementwise functions of one tensor: exp, log, sqrt, abs, tanh, sigmoid, relu, clip.

Kinked functions (abs, relu, leaky_relu, clip) use the subgradient PyTorch uses
at the kink: abs'(0) = 0, relu'(0) = 0, clip' = 1 on the closed interval. Each
backward reads the value PyTorch's reads (the output for exp, sqrt, tanh,
sigmoid and relu; the input for the others), so an in-place update is an error
in the same programs.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor
from . import _BuiltinOp


class Exp(_BuiltinOp):
    """Exponential.

    Forward:  y = exp(x)
    Backward: dL/dx = dL/dy * y
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.exp(x)

    def backward(self, gy: Any) -> Tensor:
        return gy * self.result


class Log(_BuiltinOp):
    """Natural logarithm.

    Forward:  y = log(x)
    Backward: dL/dx = dL/dy / x
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.log(x)

    def backward(self, gy: Any) -> Tensor:
        return gy / self.input(0)


class Sqrt(_BuiltinOp):
    """Square root.

    Forward:  y = sqrt(x)
    Backward: dL/dx = dL/dy / (2 y)
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.sqrt(x)

    def backward(self, gy: Any) -> Tensor:
        return gy / (2 * self.result)


class Abs(_BuiltinOp):
    """Absolute value.

    Forward:  y = |x|
    Backward: dL/dx = dL/dy * sign(x)   (0 at x = 0)
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.abs(x)

    def backward(self, gy: Any) -> Tensor:
        return gy * np.sign(self.input_array(0))


class Tanh(_BuiltinOp):
    """Hyperbolic tangent.

    Forward:  y = tanh(x)
    Backward: dL/dx = dL/dy * (1 - y**2)
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.tanh(x)

    def backward(self, gy: Any) -> Tensor:
        y = self.result
        return gy * (1 - y * y)


class Sigmoid(_BuiltinOp):
    """Logistic sigmoid.

    Forward:  y = 1 / (1 + exp(-x))   (for large |x|, exp(-x) overflows to inf, giving y = 0
              exactly, or underflows to 0, giving y = 1: expected, so not reported)
    Backward: dL/dx = dL/dy * y * (1 - y)
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore", under="ignore"):  # faster than 0.5 * (tanh(x / 2) + 1)
            return 1 / (1 + np.exp(-x))

    def backward(self, gy: Any) -> Tensor:
        y = self.result
        return gy * y * (1 - y)


class ReLU(_BuiltinOp):
    """Rectified linear unit.

    Forward:  y = max(x, 0)   (nan stays nan)
    Backward: dL/dx = dL/dy * [not y <= 0]   (= [x > 0], and 1 at x = nan, as PyTorch's
              threshold_backward: the gradient passes where the value is unknown)
    """

    name = "relu"

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.maximum(x, 0)

    def backward(self, gy: Any) -> Tensor:
        y = self.result_array
        return gy * (~(y <= 0)).astype(y.dtype)


class LeakyReLU(_BuiltinOp):
    """Leaky rectified linear unit with slope ``slope`` for negative inputs.

    Forward:  y = x if x > 0 else slope * x
    Backward: dL/dx = dL/dy * (1 if x > 0 else slope)
    """

    name = "leaky_relu"

    def __init__(self, slope: float = 0.01) -> None:
        self.slope = slope

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.where(x > 0, x, x * np.asarray(self.slope, dtype=x.dtype))

    def backward(self, gy: Any) -> Tensor:
        x = self.input_array(0)
        return gy * np.where(x > 0, 1, self.slope).astype(x.dtype)


class Clip(_BuiltinOp):
    """Clamp to [lo, hi] (either bound may be None).

    Forward:  y = min(max(x, lo), hi)
    Backward: dL/dx = dL/dy * [lo <= x <= hi]
    """

    def __init__(self, lo: float | None, hi: float | None) -> None:
        self.lo, self.hi = lo, hi

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.clip(x, self.lo, self.hi)

    def backward(self, gy: Any) -> Tensor:
        x = self.input_array(0)
        inside = np.ones(x.shape, dtype=bool)
        if self.lo is not None:
            inside &= x >= self.lo
        if self.hi is not None:
            inside &= x <= self.hi
        return gy * inside.astype(x.dtype)


def _exp(x: Any) -> Any:
    """exp of an array (a plain backward) or of a Tensor (recorded, under create_graph)."""
    return Exp.apply(x) if isinstance(x, Tensor) else np.exp(x)


def _log(x: Any) -> Any:
    """log of an array or of a Tensor (see :func:`_exp`)."""
    return Log.apply(x) if isinstance(x, Tensor) else np.log(x)


def _clip(x: Any, lo: float | None, hi: float | None) -> Any:
    """clip of an array or of a Tensor (see :func:`_exp`)."""
    return Clip.apply(x, lo=lo, hi=hi) if isinstance(x, Tensor) else np.clip(x, lo, hi)


def exp(x: Any) -> Tensor:
    """Elementwise ``e ** x``; see :class:`Exp`.

    >>> exp([0.0, 1.0])
    tensor([1.        , 2.71828183])
    """
    return Exp.apply(x)


def log(x: Any) -> Tensor:
    """Elementwise natural logarithm; see :class:`Log`.

    >>> log([1.0])
    tensor([0.])
    """
    return Log.apply(x)


def sqrt(x: Any) -> Tensor:
    """Elementwise square root; see :class:`Sqrt`.

    >>> sqrt([4.0, 9.0])
    tensor([2., 3.])
    """
    return Sqrt.apply(x)


def abs(x: Any) -> Tensor:  # noqa: A001  (the public name is abs, as in NumPy)
    """Elementwise absolute value; see :class:`Abs`.

    >>> abs([-2.0, 3.0])
    tensor([2., 3.])
    """
    return Abs.apply(x)


def tanh(x: Any) -> Tensor:
    """Elementwise hyperbolic tangent; see :class:`Tanh`.

    >>> tanh([0.0])
    tensor([0.])
    """
    return Tanh.apply(x)


def sigmoid(x: Any) -> Tensor:
    """Elementwise logistic sigmoid, finite for any input; see :class:`Sigmoid`.

    >>> sigmoid([0.0, 1000.0, -1000.0])
    tensor([0.5, 1. , 0. ])
    """
    return Sigmoid.apply(x)


def relu(x: Any) -> Tensor:
    """Elementwise ``max(x, 0)``; see :class:`ReLU`.

    >>> relu([-1.0, 2.0])
    tensor([0., 2.])
    """
    return ReLU.apply(x)


def leaky_relu(x: Any, slope: float = 0.01) -> Tensor:
    """Elementwise ``x if x > 0 else slope * x``; see :class:`LeakyReLU`.

    >>> leaky_relu([-1.0, 2.0], slope=0.1)
    tensor([-0.1,  2. ])
    """
    return LeakyReLU.apply(x, slope=slope)


def clip(x: Any, lo: float | None = None, hi: float | None = None) -> Tensor:
    """Clamp ``x`` to ``[lo, hi]``; see :class:`Clip`.

    >>> clip([-2.0, 0.5, 2.0], -1.0, 1.0)
    tensor([-1. ,  0.5,  1. ])
    """
    if lo is None and hi is None:
        raise ValueError("clip: give at least one of lo and hi")
    if lo is not None and hi is not None and lo > hi:
        raise ValueError(f"clip: lo={lo} is greater than hi={hi}")
    return Clip.apply(x, lo=lo, hi=hi)
