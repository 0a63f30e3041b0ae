"""Arithmetic: + - * / ** and negation, identity copy and dtype conversion.

Broadcasting is undone by the engine: each backward returns gradients of the
broadcast (output) shape and the engine sums them down to each input's shape.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor
from . import _BuiltinOp
from .elementwise import _log


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
        a, b = self.saved
        need_a, need_b = self.needs_input_grad
        return (gy * b if need_a else None), (gy * a if need_b else None)


class Div(_BuiltinOp):
    """Elementwise quotient.

    Forward:  y = a / b
    Backward: dL/da = dL/dy / b,  dL/db = -dL/dy * a / b**2
    """

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a / b

    def backward(self, gy: Any) -> tuple[Tensor | None, Tensor | None]:
        a, b = self.saved
        need_a, need_b = self.needs_input_grad
        ga = gy / b if need_a else None
        gb = -gy * a / (b * b) if need_b else None
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
        (x,) = self.saved
        c = self.c
        if c == 0:  # d/dx x**0 = 0 everywhere, also at x = 0 (never 0 * inf)
            return gy * 0
        if c == 1:
            return gy
        if c == 2:
            return gy * (2 * x)
        return gy * (c * x ** (c - 1))


class Pow(_BuiltinOp):
    """Power with a tensor exponent.

    Forward:  y = a ** b
    Backward: dL/da = dL/dy * b * a ** (b - 1),  dL/db = dL/dy * y * log(a)
    (the second needs a > 0; it is computed only when b requires grad)
    """

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a**b

    def backward(self, gy: Any) -> tuple[Tensor | None, Tensor | None]:
        a, b = self.saved
        need_a, need_b = self.needs_input_grad
        ga = gy * b * a ** (b - 1) if need_a else None
        gb = gy * self.result * _log(a) if need_b else None
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
