"""Matrix products: matmul (1-D, 2-D and batched operands) and linear."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import fmt_shape
from ..tensor import Tensor
from . import _BuiltinOp


def _check_matmul(a: tuple[int, ...], b: tuple[int, ...]) -> None:
    """Raise a ValueError naming both shapes when ``a @ b`` is undefined."""
    if len(a) == 0 or len(b) == 0:
        raise ValueError(
            f"matmul: operands must have at least one dimension, got shapes {fmt_shape(a)} and {fmt_shape(b)}"
        )
    k_a = a[-1]
    k_b = b[0] if len(b) == 1 else b[-2]
    if k_a != k_b:
        raise ValueError(
            f"matmul: shapes {fmt_shape(a)} and {fmt_shape(b)} are not aligned: "
            f"{k_a} (last dim of a) != {k_b} ({'dim 0' if len(b) == 1 else 'second-to-last dim'} of b)"
        )
    if len(a) <= 2 and len(b) <= 2:
        return
    try:
        np.broadcast_shapes(a[:-2], b[:-2])
    except ValueError:
        raise ValueError(
            f"matmul: batch dimensions of shapes {fmt_shape(a)} and {fmt_shape(b)} "
            "cannot be broadcast together"
        ) from None


class MatMul(_BuiltinOp):
    """Matrix product with NumPy's rules (1-D operands are promoted, then squeezed).

    Forward:  y = a @ b
    Backward: dL/da = dL/dy @ b^T,  dL/db = a^T @ dL/dy
              (transposes swap the last two axes; batch axes are summed back by the engine)
    """

    name = "matmul"

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        _check_matmul(a.shape, b.shape)
        return np.matmul(a, b)

    def backward(self, gy: Any) -> tuple[Any, Any]:
        need_a, need_b = self.needs_input_grad
        a_shape, b_shape = (t.shape for t in self.inputs)  # type: ignore[union-attr]
        a_vec, b_vec = len(a_shape) == 1, len(b_shape) == 1
        if a_vec:
            gy = gy.reshape(gy.shape[:-1] + (1,) + gy.shape[-1:]) if not b_vec else gy.reshape(1)
        if b_vec:
            gy = gy.reshape(gy.shape + (1,))
        ga = gb = None
        if need_a:  # reads b only
            b = self.input(1)
            ga = gy @ _swap_last(b.reshape(-1, 1) if b_vec else b)
            if a_vec:
                ga = ga.reshape(ga.shape[:-2] + ga.shape[-1:])
        if need_b:  # reads a only
            a = self.input(0)
            gb = _swap_last(a.reshape(1, -1) if a_vec else a) @ gy
            if b_vec:
                gb = gb.reshape(gb.shape[:-1])
        return ga, gb


def _swap_last(x: Any) -> Any:
    axes = tuple(range(x.ndim - 2)) + (x.ndim - 1, x.ndim - 2)
    return x.transpose(axes)


def matmul(a: Any, b: Any) -> Tensor:
    """Matrix product ``a @ b``; see :class:`MatMul`.

    >>> matmul([[1.0, 2.0]], [[3.0], [4.0]])
    tensor([[11.]])
    """
    return MatMul.apply(a, b)


def linear(x: Any, W: Any, b: Any = None) -> Tensor:
    """Affine map ``x @ W + b`` (W has shape (in, out), as in the book).

    >>> linear([[1.0, 2.0]], [[1.0], [1.0]], [0.5])
    tensor([[3.5]])
    """
    y = MatMul.apply(x, W)
    return y if b is None else y + b
