"""Reductions: sum, mean, max, min over an axis, a tuple of axes, or everything."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor
from . import _BuiltinOp, normalize_axes
from .shape import _broadcast_to


def keepdims_shape(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...]:
    """``shape`` with each reduced axis set to 1 (the shape of a keepdims reduction)."""
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


class Sum(_BuiltinOp):
    """Sum over axes.

    Forward:  y = sum(x, axes)
    Backward: dL/dx = broadcast(dL/dy, x.shape)   (dL/dy reshaped with the summed axes kept)
    """

    def __init__(self, axes: tuple[int, ...], keepdims: bool) -> None:
        self.axes, self.keepdims = axes, keepdims

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x.sum(axis=self.axes, keepdims=self.keepdims)

    def backward(self, gy: Any) -> Any:
        shape = self.inputs[0].shape  # type: ignore[index]
        if not self.keepdims:
            gy = gy.reshape(keepdims_shape(shape, self.axes))
        return _broadcast_to(gy, shape)


class Mean(_BuiltinOp):
    """Mean over axes (n = number of elements averaged).

    Forward:  y = sum(x, axes) / n
    Backward: dL/dx = broadcast(dL/dy, x.shape) / n
    """

    def __init__(self, axes: tuple[int, ...], keepdims: bool) -> None:
        self.axes, self.keepdims = axes, keepdims

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.n = int(np.prod([x.shape[a] for a in self.axes]))
        if self.n == 0:
            raise ValueError("mean of an empty selection")
        return x.mean(axis=self.axes, keepdims=self.keepdims)

    def backward(self, gy: Any) -> Any:
        shape = self.inputs[0].shape  # type: ignore[index]
        if not self.keepdims:
            gy = gy.reshape(keepdims_shape(shape, self.axes))
        return _broadcast_to(gy, shape) * (1.0 / self.n)


class _Extremum(_BuiltinOp):
    """Shared by :class:`Max` and :class:`Min`."""

    _reduce: Any = staticmethod(np.max)

    def __init__(self, axes: tuple[int, ...], keepdims: bool) -> None:
        self.axes, self.keepdims = axes, keepdims

    def forward(self, x: np.ndarray) -> np.ndarray:
        if x.size == 0:
            raise ValueError(f"{self.name} of an empty tensor")
        return self._reduce(x, axis=self.axes, keepdims=self.keepdims)

    def backward(self, gy: Any) -> Any:
        x = self.input_array(0)
        kshape = keepdims_shape(x.shape, self.axes)
        y = self.result_array.reshape(kshape)
        mask = (x == y).astype(x.dtype)
        mask /= mask.sum(axis=self.axes, keepdims=True)
        return gy.reshape(kshape) * mask


class Max(_Extremum):
    """Maximum over axes.

    Forward:  y = max(x, axes)
    Backward: dL/dx = broadcast(dL/dy) * [x == y] / (number of ties)
              (the gradient is shared equally among tied maxima, like torch.amax)
    """

    _reduce = staticmethod(np.max)


class Min(_Extremum):
    """Minimum over axes.

    Forward:  y = min(x, axes)
    Backward: dL/dx = broadcast(dL/dy) * [x == y] / (number of ties)
              (the gradient is shared equally among tied minima, like torch.amin)
    """

    _reduce = staticmethod(np.min)


def sum(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Sum of ``x`` over ``axis`` (all axes when None); see :class:`Sum`.

    >>> import microgradx as mgx
    >>> sum(mgx.tensor([[1.0, 2.0], [3.0, 4.0]]), axis=0)
    tensor([4., 6.])
    """
    x = x if isinstance(x, Tensor) else Tensor._from_operand(x, None)
    return Sum.apply(x, axes=normalize_axes(axis, x.ndim, "sum"), keepdims=keepdims)


def mean(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Mean of ``x`` over ``axis`` (all axes when None); see :class:`Mean`.

    >>> import microgradx as mgx
    >>> mean(mgx.tensor([[1.0, 2.0], [3.0, 4.0]]), axis=1)
    tensor([1.5, 3.5])
    """
    x = x if isinstance(x, Tensor) else Tensor._from_operand(x, None)
    return Mean.apply(x, axes=normalize_axes(axis, x.ndim, "mean"), keepdims=keepdims)


def max(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Maximum of ``x`` over ``axis``; see :class:`Max`.

    >>> import microgradx as mgx
    >>> max(mgx.tensor([[1.0, 5.0], [3.0, 4.0]]), axis=1)
    tensor([5., 4.])
    """
    x = x if isinstance(x, Tensor) else Tensor._from_operand(x, None)
    return Max.apply(x, axes=normalize_axes(axis, x.ndim, "max"), keepdims=keepdims)


def min(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Minimum of ``x`` over ``axis``; see :class:`Min`.

    >>> import microgradx as mgx
    >>> min(mgx.tensor([[1.0, 5.0], [3.0, 4.0]]), axis=1)
    tensor([1., 3.])
    """
    x = x if isinstance(x, Tensor) else Tensor._from_operand(x, None)
    return Min.apply(x, axes=normalize_axes(axis, x.ndim, "min"), keepdims=keepdims)
