"""Elementwise functions: exp, log, sqrt, abs, tanh, sigmoid, relu, clip, the trigonometric and
hyperbolic functions, log1p / expm1 / log2 / log10 / exp2, square, reciprocal, sign / floor / ceil /
round, and of two tensors maximum, minimum, arctan2 and hypot.

Kinked functions (abs, relu, leaky_relu, clip) use the subgradient PyTorch uses
at the kink: abs'(0) = 0, relu'(0) = 0, clip' = 1 on the closed interval;
maximum and minimum split the gradient half and half between tied inputs.
sign, floor, ceil and round are piecewise constant: their gradient is 0
everywhere (also at the jumps), as in PyTorch. Each backward reads the value
PyTorch's reads (the output for exp, sqrt, tanh, sigmoid, relu, tan, expm1,
exp2 and reciprocal; the input for the others), so an in-place update is an
error in the same programs.
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


# --------------------------------------------------------------------------- #
# trigonometric and hyperbolic functions
# --------------------------------------------------------------------------- #
class Sin(_BuiltinOp):
    """Sine.

    Forward:  y = sin(x)
    Backward: dL/dx = dL/dy * cos(x)
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.sin(x)

    def backward(self, gy: Any) -> Any:
        return gy * _cos(self.input(0))


class Cos(_BuiltinOp):
    """Cosine.

    Forward:  y = cos(x)
    Backward: dL/dx = -dL/dy * sin(x)
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.cos(x)

    def backward(self, gy: Any) -> Any:
        return gy * -_sin(self.input(0))


class Tan(_BuiltinOp):
    """Tangent.

    Forward:  y = tan(x)
    Backward: dL/dx = dL/dy * (1 + y**2)
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.tan(x)

    def backward(self, gy: Any) -> Any:
        y = self.result
        return gy * (1 + y * y)


class Arcsin(_BuiltinOp):
    """Inverse sine, for x in [-1, 1] (NaN outside, as in NumPy and PyTorch).

    Forward:  y = arcsin(x)
    Backward: dL/dx = dL/dy / sqrt(1 - x**2)   (inf at x = +-1)
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.arcsin(x)

    def backward(self, gy: Any) -> Any:
        x = self.input(0)
        with np.errstate(divide="ignore", invalid="ignore"):  # inf at +-1, NaN outside [-1, 1]
            return gy / _sqrt(1 - x * x)


class Arccos(_BuiltinOp):
    """Inverse cosine, for x in [-1, 1] (NaN outside, as in NumPy and PyTorch).

    Forward:  y = arccos(x)
    Backward: dL/dx = -dL/dy / sqrt(1 - x**2)   (-inf at x = +-1)
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.arccos(x)

    def backward(self, gy: Any) -> Any:
        x = self.input(0)
        with np.errstate(divide="ignore", invalid="ignore"):
            return -gy / _sqrt(1 - x * x)


class Arctan(_BuiltinOp):
    """Inverse tangent.

    Forward:  y = arctan(x)
    Backward: dL/dx = dL/dy / (1 + x**2)
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.arctan(x)

    def backward(self, gy: Any) -> Any:
        x = self.input(0)
        with np.errstate(over="ignore"):  # x**2 = inf for huge x: the gradient is 0, rightly
            return gy / (1 + x * x)


class Sinh(_BuiltinOp):
    """Hyperbolic sine.

    Forward:  y = sinh(x)
    Backward: dL/dx = dL/dy * cosh(x)
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.sinh(x)

    def backward(self, gy: Any) -> Any:
        return gy * _cosh(self.input(0))


class Cosh(_BuiltinOp):
    """Hyperbolic cosine.

    Forward:  y = cosh(x)
    Backward: dL/dx = dL/dy * sinh(x)
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.cosh(x)

    def backward(self, gy: Any) -> Any:
        return gy * _sinh(self.input(0))


# --------------------------------------------------------------------------- #
# logarithms and exponentials
# --------------------------------------------------------------------------- #
_LN2 = 0.6931471805599453  # log(2)
_LN10 = 2.302585092994046  # log(10)


class Log1p(_BuiltinOp):
    """``log(1 + x)``, accurate for tiny x (where ``1 + x`` rounds to 1).

    Forward:  y = log1p(x)
    Backward: dL/dx = dL/dy / (1 + x)
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.log1p(x)

    def backward(self, gy: Any) -> Any:
        return gy / (self.input(0) + 1)


class Expm1(_BuiltinOp):
    """``exp(x) - 1``, accurate for tiny x.

    Forward:  y = expm1(x)
    Backward: dL/dx = dL/dy * (y + 1)
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.expm1(x)

    def backward(self, gy: Any) -> Any:
        return gy * (self.result + 1)


class Log2(_BuiltinOp):
    """Base-2 logarithm.

    Forward:  y = log2(x)
    Backward: dL/dx = dL/dy / (x * log(2))
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.log2(x)

    def backward(self, gy: Any) -> Any:
        return gy / (self.input(0) * _LN2)


class Log10(_BuiltinOp):
    """Base-10 logarithm.

    Forward:  y = log10(x)
    Backward: dL/dx = dL/dy / (x * log(10))
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.log10(x)

    def backward(self, gy: Any) -> Any:
        return gy / (self.input(0) * _LN10)


class Exp2(_BuiltinOp):
    """Power of two.

    Forward:  y = 2 ** x
    Backward: dL/dx = dL/dy * y * log(2)
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.exp2(x)

    def backward(self, gy: Any) -> Any:
        return gy * self.result * _LN2


# --------------------------------------------------------------------------- #
# powers
# --------------------------------------------------------------------------- #
class Square(_BuiltinOp):
    """Square.

    Forward:  y = x * x
    Backward: dL/dx = dL/dy * (2 x)
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.square(x)

    def backward(self, gy: Any) -> Any:
        return gy * (2 * self.input(0))


class Reciprocal(_BuiltinOp):
    """Reciprocal.

    Forward:  y = 1 / x
    Backward: dL/dx = -dL/dy * y**2
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore"):  # 1 / 0 = inf, as 1.0 / t does
            return np.reciprocal(x.astype(np.float64) if x.dtype.kind in "biu" else x)

    def backward(self, gy: Any) -> Any:
        y = self.result
        return -gy * (y * y)


# --------------------------------------------------------------------------- #
# piecewise constant: zero gradient
# --------------------------------------------------------------------------- #
class _PiecewiseConstant(_BuiltinOp):
    """A function that is constant between its jumps: its gradient is 0 everywhere, at the jumps
    too (PyTorch's convention: the derivative where it exists, 0 where it does not)."""

    def backward(self, gy: Any) -> Any:
        return gy * 0


class Sign(_PiecewiseConstant):
    """Sign: -1, 0 or 1 (NaN for NaN, as in NumPy).

    Forward:  y = sign(x)
    Backward: dL/dx = 0   (also at x = 0, as PyTorch)
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.sign(x)


class Floor(_PiecewiseConstant):
    """Largest integer not above x.

    Forward:  y = floor(x)
    Backward: dL/dx = 0   (also at the integers, as PyTorch)
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.floor(x)


class Ceil(_PiecewiseConstant):
    """Smallest integer not below x.

    Forward:  y = ceil(x)
    Backward: dL/dx = 0   (also at the integers, as PyTorch)
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.ceil(x)


class Round(_PiecewiseConstant):
    """Rounding to ``decimals`` decimal places, halves to even (as NumPy and PyTorch).

    Forward:  y = round(x, decimals)
    Backward: dL/dx = 0   (also at the halves, as PyTorch)
    """

    def __init__(self, decimals: int = 0) -> None:
        self.decimals = decimals

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.round(x, self.decimals)


# --------------------------------------------------------------------------- #
# functions of two tensors
# --------------------------------------------------------------------------- #
def _tie_weights(a: np.ndarray, b: np.ndarray, lose: np.ndarray, dtype: Any) -> np.ndarray:
    """1 where this input is selected, 1/2 at a tie, 0 where it loses (``lose``); 1 at NaN."""
    return np.where(lose, 0.0, np.where(a == b, 0.5, 1.0)).astype(dtype, copy=False)


class Maximum(_BuiltinOp):
    """Elementwise maximum (NaN if either is NaN, as NumPy and PyTorch).

    Forward:  y = max(a, b)
    Backward: dL/da = dL/dy * [a > b],  dL/db = dL/dy * [b > a], and dL/dy / 2 to each at a tie
              (a = b), as PyTorch; where either is NaN, both get dL/dy (as PyTorch)
    """

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.maximum(a, b)

    def backward(self, gy: Any) -> tuple[Any, Any]:
        a, b = self.input_array(0), self.input_array(1)
        need_a, need_b = self.needs_input_grad
        ga = gy * _tie_weights(a, b, a < b, gy.dtype) if need_a else None
        gb = gy * _tie_weights(a, b, a > b, gy.dtype) if need_b else None
        return ga, gb


class Minimum(_BuiltinOp):
    """Elementwise minimum (NaN if either is NaN, as NumPy and PyTorch).

    Forward:  y = min(a, b)
    Backward: dL/da = dL/dy * [a < b],  dL/db = dL/dy * [b < a], and dL/dy / 2 to each at a tie
              (a = b), as PyTorch; where either is NaN, both get dL/dy (as PyTorch)
    """

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.minimum(a, b)

    def backward(self, gy: Any) -> tuple[Any, Any]:
        a, b = self.input_array(0), self.input_array(1)
        need_a, need_b = self.needs_input_grad
        ga = gy * _tie_weights(a, b, a > b, gy.dtype) if need_a else None
        gb = gy * _tie_weights(a, b, a < b, gy.dtype) if need_b else None
        return ga, gb


class Arctan2(_BuiltinOp):
    """Angle of the point (b, a) (``a`` the y coordinate, ``b`` the x coordinate, as NumPy).

    Forward:  y = arctan2(a, b)
    Backward: dL/da = dL/dy * b / (a**2 + b**2),  dL/db = -dL/dy * a / (a**2 + b**2),
              computed as (b / r) / r with r = hypot(a, b), so that a**2 + b**2 neither
              underflows to 0 nor overflows to inf (PyTorch's does: 0 for a = b = 1e-200);
              0 at the origin a = b = 0, as PyTorch
    """

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.arctan2(a, b)

    def backward(self, gy: Any) -> tuple[Any, Any]:
        a, b = self.input(0), self.input(1)
        r = _hypot(a, b)
        origin = (self.input_array(0) == 0) & (self.input_array(1) == 0)
        if origin.any():  # r = 1 there: the gradient b / r / r = 0, not 0 / 0
            r = r + origin.astype(gy.dtype)
        need_a, need_b = self.needs_input_grad
        ga = gy * ((b / r) / r) if need_a else None
        gb = -gy * ((a / r) / r) if need_b else None
        return ga, gb


class Hypot(_BuiltinOp):
    """Length of the vector (a, b), without overflow or underflow of a**2 + b**2.

    Forward:  y = hypot(a, b) = sqrt(a**2 + b**2)
    Backward: dL/da = dL/dy * (a / y),  dL/db = dL/dy * (b / y)   (NaN at a = b = 0, as
              PyTorch: 0 / 0, the point where the gradient has no limit)
    """

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.hypot(a, b)

    def backward(self, gy: Any) -> tuple[Any, Any]:
        y = self.result
        need_a, need_b = self.needs_input_grad
        with np.errstate(invalid="ignore"):  # 0 / 0 at the origin
            ga = gy * (self.input(0) / y) if need_a else None
            gb = gy * (self.input(1) / y) if need_b else None
        return ga, gb


# --------------------------------------------------------------------------- #
# the error function (used by gelu)
# --------------------------------------------------------------------------- #
# erf(x) for |x| < 1 is x * P(x**2), and for 1 <= |x| < 6 it is 1 - exp(-x**2) * Q(s) with
# s = (2 |x| - 7) / 5 in [-1, 1]; beyond 6 it rounds to +-1. P (degree 11) and Q (degree 28) are
# the Chebyshev interpolants of erf(sqrt(t)) / sqrt(t) on [0, 1] and of exp(x**2) * erfc(x) on
# [1, 6], computed with mpmath at 40 digits and written as powers of t and s. Against math.erf
# they are within 2 ulps (tests/ops/test_elementwise.py checks 1e5 points), and about 5 times
# faster than math.erf called per element.
_ERF_SMALL = (
    1.1283791670955126, -0.37612638903183543, 0.11283791670945006, -0.02686617064323777,
    0.0052239776071164225, -0.0008548325975389692, 0.00012055294904839707, -1.492473690741966e-05,
    1.6447424703317362e-06, -1.6208483801871705e-07, 1.3720064546777686e-08, -7.795898827002142e-10,
)  # fmt: skip
_ERFC_SCALED = (
    0.1552936556088943, -0.10330894458313108, 0.06663208245319104, -0.04176678811945303,
    0.02549555964371531, -0.015182511544736937, 0.008833423916019923, -0.005028067985897489,
    0.002803326193753514, -0.0015325155208559278, 0.0008222551763227133, -0.0004333630245212691,
    0.00022453048643318593, -0.00011443636902313971, 5.741823232072277e-05, -2.8395881636091154e-05,
    1.3828928244542998e-05, -6.597721129314622e-06, 3.1285932958036703e-06, -1.5335203223793152e-06,
    7.043754988574408e-07, -2.4029191446724603e-07, 1.1143084433615192e-07, -1.1370578545985852e-07,
    4.825961898969941e-08, 1.2368852435201621e-08, -4.723529684323121e-09, -8.27808017002486e-09,
    3.403549128809476e-09,
)  # fmt: skip
_TWO_OVER_SQRT_PI = 1.1283791670955126  # 2 / sqrt(pi)


def _polynomial(coefs: tuple[float, ...], t: np.ndarray) -> np.ndarray:
    """sum(coefs[k] * t**k), by Horner's rule, in place."""
    acc = np.full(t.shape, coefs[-1])
    for c in coefs[-2::-1]:
        acc *= t
        acc += c
    return acc


def _erf_array(x: Any) -> np.ndarray:
    """The error function of an array, in float64 (NumPy has none; SciPy is not a dependency).

    >>> _erf_array([0.0, 0.5, -3.0, np.inf])
    array([ 0.        ,  0.52049988, -0.99997791,  1.        ])
    """
    x = np.asarray(x, dtype=np.float64)
    shape, x = x.shape, x.reshape(-1)  # (1-D: a 0-d array's products would be scalars)
    # x**2 overflows to inf for huge x, and exp(-x**2) underflows to 0 for |x| > 27: both fine
    with np.errstate(over="ignore", under="ignore"):
        t = x * x
        np.minimum(t, 1.0, out=t)  # (the polynomial is used below 1 only; NaN stays NaN)
        out = _polynomial(_ERF_SMALL, t)
        out *= x
        big = np.flatnonzero(np.abs(x) >= 1.0)
        if big.size:
            xb = x[big]
            ab = np.abs(xb)
            s = (2 * np.minimum(ab, 6.0) - 7.0) / 5.0
            erfc = np.exp(-ab * ab) * _polynomial(_ERFC_SCALED, s)
            out[big] = np.copysign(1.0 - erfc, xb)
    return out.reshape(shape)


class Erf(_BuiltinOp):
    """The error function (the building block of :func:`microgradx.functional.gelu`).

    Forward:  y = erf(x) = 2 / sqrt(pi) * integral of exp(-u**2) from 0 to x   (computed in float64,
              within 2 ulps, returned in x's dtype)
    Backward: dL/dx = dL/dy * 2 / sqrt(pi) * exp(-x**2)
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        y = _erf_array(x)
        return y.astype(x.dtype) if x.dtype.kind == "f" else y

    def backward(self, gy: Any) -> Any:
        x = self.input(0)
        with np.errstate(over="ignore", under="ignore"):  # x**2 = inf: exp(-inf) = 0, rightly
            return gy * (_TWO_OVER_SQRT_PI * _exp(-(x * x)))


# --------------------------------------------------------------------------- #
# helpers: one function of an array (a plain backward) or of a Tensor (create_graph)
# --------------------------------------------------------------------------- #
def _sin(x: Any) -> Any:
    return Sin.apply(x) if isinstance(x, Tensor) else np.sin(x)


def _cos(x: Any) -> Any:
    return Cos.apply(x) if isinstance(x, Tensor) else np.cos(x)


def _sinh(x: Any) -> Any:
    return Sinh.apply(x) if isinstance(x, Tensor) else np.sinh(x)


def _cosh(x: Any) -> Any:
    return Cosh.apply(x) if isinstance(x, Tensor) else np.cosh(x)


def _sqrt(x: Any) -> Any:
    return Sqrt.apply(x) if isinstance(x, Tensor) else np.sqrt(x)


def _hypot(a: Any, b: Any) -> Any:
    return Hypot.apply(a, b) if isinstance(a, Tensor) or isinstance(b, Tensor) else np.hypot(a, b)


def _tanh(x: Any) -> Any:
    return Tanh.apply(x) if isinstance(x, Tensor) else np.tanh(x)


def _sigmoid(x: Any) -> Any:
    if isinstance(x, Tensor):
        return Sigmoid.apply(x)
    with np.errstate(over="ignore", under="ignore"):  # as Sigmoid.forward
        return 1 / (1 + np.exp(-x))


def _log1p(x: Any) -> Any:
    return Log1p.apply(x) if isinstance(x, Tensor) else np.log1p(x)


def _erf(x: Any) -> Any:
    if isinstance(x, Tensor):
        return Erf.apply(x)
    y = _erf_array(x)
    return y.astype(x.dtype) if x.dtype.kind == "f" else y


# --------------------------------------------------------------------------- #
# the public functions
# --------------------------------------------------------------------------- #
def sin(x: Any) -> Tensor:
    """Elementwise sine; see :class:`Sin`.

    >>> sin([0.0, np.pi / 2])
    tensor([0., 1.])
    """
    return Sin.apply(x)


def cos(x: Any) -> Tensor:
    """Elementwise cosine; see :class:`Cos`.

    >>> cos([0.0, np.pi])
    tensor([ 1., -1.])
    """
    return Cos.apply(x)


def tan(x: Any) -> Tensor:
    """Elementwise tangent; see :class:`Tan`.

    >>> tan([0.0, np.pi / 4])
    tensor([0., 1.])
    """
    return Tan.apply(x)


def arcsin(x: Any) -> Tensor:
    """Elementwise inverse sine (NaN outside [-1, 1]); see :class:`Arcsin`.

    >>> arcsin([0.0, 1.0])
    tensor([0.        , 1.57079633])
    """
    return Arcsin.apply(x)


def arccos(x: Any) -> Tensor:
    """Elementwise inverse cosine (NaN outside [-1, 1]); see :class:`Arccos`.

    >>> arccos([1.0, 0.0])
    tensor([0.        , 1.57079633])
    """
    return Arccos.apply(x)


def arctan(x: Any) -> Tensor:
    """Elementwise inverse tangent; see :class:`Arctan`.

    >>> arctan([0.0, 1.0])
    tensor([0.        , 0.78539816])
    """
    return Arctan.apply(x)


def sinh(x: Any) -> Tensor:
    """Elementwise hyperbolic sine; see :class:`Sinh`.

    >>> sinh([0.0])
    tensor([0.])
    """
    return Sinh.apply(x)


def cosh(x: Any) -> Tensor:
    """Elementwise hyperbolic cosine; see :class:`Cosh`.

    >>> cosh([0.0])
    tensor([1.])
    """
    return Cosh.apply(x)


def log1p(x: Any) -> Tensor:
    """Elementwise ``log(1 + x)``, accurate for tiny ``x``; see :class:`Log1p`.

    >>> log1p([0.0, 1e-20])
    tensor([0.e+00, 1.e-20])
    """
    return Log1p.apply(x)


def expm1(x: Any) -> Tensor:
    """Elementwise ``exp(x) - 1``, accurate for tiny ``x``; see :class:`Expm1`.

    >>> expm1([0.0, 1e-20])
    tensor([0.e+00, 1.e-20])
    """
    return Expm1.apply(x)


def log2(x: Any) -> Tensor:
    """Elementwise base-2 logarithm; see :class:`Log2`.

    >>> log2([1.0, 8.0])
    tensor([0., 3.])
    """
    return Log2.apply(x)


def log10(x: Any) -> Tensor:
    """Elementwise base-10 logarithm; see :class:`Log10`.

    >>> log10([1.0, 1000.0])
    tensor([0., 3.])
    """
    return Log10.apply(x)


def exp2(x: Any) -> Tensor:
    """Elementwise ``2 ** x``; see :class:`Exp2`.

    >>> exp2([0.0, 3.0])
    tensor([1., 8.])
    """
    return Exp2.apply(x)


def square(x: Any) -> Tensor:
    """Elementwise ``x * x``; see :class:`Square`.

    >>> square([-2.0, 3.0])
    tensor([4., 9.])
    """
    return Square.apply(x)


def reciprocal(x: Any) -> Tensor:
    """Elementwise ``1 / x`` (float for integer input, as ``1 / t``); see :class:`Reciprocal`.

    >>> reciprocal([2.0, -4.0])
    tensor([ 0.5 , -0.25])
    """
    return Reciprocal.apply(x)


def sign(x: Any) -> Tensor:
    """Elementwise sign, -1, 0 or 1; its gradient is 0 everywhere; see :class:`Sign`.

    >>> sign([-2.0, 0.0, 3.0])
    tensor([-1.,  0.,  1.])
    """
    return Sign.apply(x)


def floor(x: Any) -> Tensor:
    """Elementwise floor; its gradient is 0 everywhere; see :class:`Floor`.

    >>> floor([-1.5, 1.5])
    tensor([-2.,  1.])
    """
    return Floor.apply(x)


def ceil(x: Any) -> Tensor:
    """Elementwise ceiling; its gradient is 0 everywhere; see :class:`Ceil`.

    >>> ceil([-1.5, 1.5])
    tensor([-1.,  2.])
    """
    return Ceil.apply(x)


def round(x: Any, decimals: int = 0) -> Tensor:  # noqa: A001  (the public name is round, as in NumPy)
    """Elementwise rounding to ``decimals`` places, halves to even; its gradient is 0 everywhere;
    see :class:`Round`.

    >>> round([0.5, 1.5, 2.675], 0)
    tensor([0., 2., 3.])
    >>> round([1.234, -5.678], decimals=1)
    tensor([ 1.2, -5.7])
    """
    if not isinstance(decimals, (int, np.integer)) or isinstance(decimals, (bool, np.bool_)):
        raise TypeError(f"round: decimals must be an int, got {decimals!r}")
    return Round.apply(x, decimals=int(decimals))


def maximum(a: Any, b: Any) -> Tensor:
    """Elementwise maximum of ``a`` and ``b`` (broadcast); ties split the gradient half and half;
    see :class:`Maximum`.

    >>> maximum([1.0, 5.0], [3.0, 2.0])
    tensor([3., 5.])
    """
    return Maximum.apply(a, b)


def minimum(a: Any, b: Any) -> Tensor:
    """Elementwise minimum of ``a`` and ``b`` (broadcast); ties split the gradient half and half;
    see :class:`Minimum`.

    >>> minimum([1.0, 5.0], [3.0, 2.0])
    tensor([1., 2.])
    """
    return Minimum.apply(a, b)


def arctan2(a: Any, b: Any) -> Tensor:
    """Elementwise angle of the point ``(b, a)``, in [-pi, pi] (``a`` is y, ``b`` is x, as
    ``np.arctan2``); see :class:`Arctan2`.

    >>> arctan2([1.0, 1.0], [1.0, -1.0])
    tensor([0.78539816, 2.35619449])
    """
    return Arctan2.apply(a, b)


def hypot(a: Any, b: Any) -> Tensor:
    """Elementwise ``sqrt(a**2 + b**2)``, without overflow; see :class:`Hypot`.

    >>> hypot([3.0, 1e300], [4.0, 1e300])
    tensor([5.00000000e+000, 1.41421356e+300])
    """
    return Hypot.apply(a, b)
