"""Arithmetic: + - * / ** and negation, identity copy and dtype conversion.

Broadcasting is undone by the engine: each backward returns gradients of the
broadcast (output) shape and the engine sums them down to each input's shape.
Each backward reads only the inputs the asked-for gradients need (mul's
gradient for ``a`` reads ``b``, and so on), as PyTorch's does.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor
from . import _BuiltinOp
from .elementwise import _log
from .shape import _where


class Add(_BuiltinOp):
    """Elementwise sum.

    Forward:  y = a + b
    Backward: dL/da = dL/dy,  dL/db = dL/dy
    """

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a + b

    def backward(self, gy: Any) -> tuple[Tensor, Tensor]:
        return gy, gy


class Sub(_BuiltinOp):
    """Elementwise difference.

    Forward:  y = a - b
    Backward: dL/da = dL/dy,  dL/db = -dL/dy
    """

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a - b

    def backward(self, gy: Any) -> tuple[Tensor, Tensor | None]:
        return gy, (-gy if self.needs_input_grad[1] else None)


class Mul(_BuiltinOp):
    """Elementwise product.

    Forward:  y = a * b
    Backward: dL/da = dL/dy * b,  dL/db = dL/dy * a
    """

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a * b

    def backward(self, gy: Any) -> tuple[Tensor | None, Tensor | None]:
        need_a, need_b = self.needs_input_grad
        return (gy * self.input(1) if need_a else None), (gy * self.input(0) if need_b else None)


class Div(_BuiltinOp):
    """Elementwise quotient.

    Forward:  y = a / b
    Backward: dL/da = dL/dy / b,  dL/db = -dL/dy * ((a / b) / b)
              (a / b**2 would square b: 0 for b = 1e-23 in float32, inf for 1e200 in float64)
    """

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a / b

    def backward(self, gy: Any) -> tuple[Tensor | None, Tensor | None]:
        need_a, need_b = self.needs_input_grad
        b = self.input(1)
        ga = gy / b if need_a else None
        gb = -gy * ((self.input(0) / b) / b) if need_b else None
        return ga, gb


class Neg(_BuiltinOp):
    """Negation.

    Forward:  y = -x
    Backward: dL/dx = -dL/dy
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        return -x

    def backward(self, gy: Any) -> Tensor:
        return -gy


class PowScalar(_BuiltinOp):
    """Power with a constant exponent c.

    Forward:  y = x ** c
    Backward: dL/dx = dL/dy * c * x ** (c - 1)   (exactly 0 for c = 0, also at x = 0)
    """

    def __init__(self, c: float) -> None:
        self.c = c

    name = "pow"

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x**self.c

    def backward(self, gy: Any) -> Tensor:
        c = self.c
        if c == 0:  # d/dx x**0 = 0 everywhere, also at x = 0 (never 0 * inf)
            return gy * 0
        if c == 1:
            return gy
        x = self.input(0)
        if c == 2:
            return gy * (2 * x)
        return gy * (c * x ** (c - 1))


class Pow(_BuiltinOp):
    """Power with a tensor exponent (or a constant base, for ``2 ** t``).

    Forward:  y = a ** b
    Backward: dL/da = dL/dy * b * a ** (b - 1),  and 0 where a = b = 0 (the formula gives
              0 * inf there; elsewhere it is right as it is, also for b = 0, where its derivative
              with respect to b, a ** (b - 1), must survive for second derivatives);
              dL/db = dL/dy * y * log(a),  and 0 where a = 0 and b >= 0 (the limit:
              y log a -> 0 as a -> 0 for b > 0; the formula gives 0 * -inf). As PyTorch.
    """

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a**b

    def backward(self, gy: Any) -> tuple[Tensor | None, Tensor | None]:
        need_a, need_b = self.needs_input_grad
        ga = gb = None
        with np.errstate(divide="ignore", invalid="ignore"):  # the masked points below
            if need_a:
                a, b = self.input(0), self.input(1)
                zero_zero = (self.input_array(0) == 0) & (self.input_array(1) == 0)
                ga = _where(zero_zero, 0.0, gy * (b * a ** (b - 1)))
            if need_b:
                a_arr, b_arr = self.input_array(0), self.input_array(1)
                zero_base = (a_arr == 0) & (b_arr >= 0)
                gb = _where(zero_base, 0.0, gy * (self.result * _log(self.input(0))))
        return ga, gb


def power(a: Any, b: Any) -> Tensor:
    """``a ** b``: a constant scalar exponent uses :class:`PowScalar`, else :class:`Pow`.

    >>> import microgradx as mgx
    >>> power(mgx.tensor([2.0, 3.0]), 2)
    tensor([4., 9.])
    """
    if isinstance(b, (int, float)) and not isinstance(b, bool) and isinstance(a, Tensor):
        return PowScalar.apply(a, c=b)
    return Pow.apply(a, b)


class Clone(_BuiltinOp):
    """A copy of the data.

    Forward:  y = x (new memory)
    Backward: dL/dx = dL/dy
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x.copy()

    def backward(self, gy: Any) -> Tensor:
        return gy


def clone(x: Any) -> Tensor:
    """A recorded copy of ``x`` in new memory."""
    return Clone.apply(x)


class AsType(_BuiltinOp):
    """Conversion to another dtype.

    Forward:  y = x converted to ``dtype``
    Backward: dL/dx = dL/dy converted back to x's dtype
    """

    def __init__(self, dtype: Any) -> None:
        self.dtype = np.dtype(dtype)

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.in_dtype = x.dtype
        return x.astype(self.dtype)

    def backward(self, gy: Any) -> Tensor:
        return gy.astype(self.in_dtype)


def astype(x: Any, dtype: Any) -> Tensor:
    """``x`` converted to ``dtype`` (no-op when it already has it)."""
    if isinstance(x, Tensor) and x.dtype == np.dtype(dtype):
        return x
    return AsType.apply(x, dtype=dtype)
