"""Shape and indexing: reshape, transpose, broadcast_to / sum_to, indexing, concat, stack, where.

``broadcast_to`` and ``sum_to`` are each other's adjoint, as are indexing and
scatter-add: every backward here is another op of this module, so gradients of
gradients work.

Reshape, transpose, broadcast_to and basic indexing return views of their input's
memory, as in NumPy and PyTorch; each can remake its view (``view_of``), so an
in-place update of a view writes back into its base (:class:`ViewWrite`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..autograd import sum_to as _sum_to_array
from ..errors import fmt_shape
from ..tensor import Tensor
from . import _BuiltinOp, normalize_axis, normalize_permutation


class Reshape(_BuiltinOp):
    """Same data, new shape.

    Forward:  y = x.reshape(shape)
    Backward: dL/dx = (dL/dy).reshape(x.shape)
    """

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = shape

    def forward(self, x: np.ndarray) -> np.ndarray:
        try:
            return x.reshape(self.shape)
        except ValueError:
            raise ValueError(
                f"cannot reshape a tensor of shape {fmt_shape(x.shape)} ({x.size} elements) "
                f"into shape {tuple(self.shape)}"
            ) from None

    def backward(self, gy: Any) -> Any:
        return gy.reshape(self.inputs[0].shape)  # type: ignore[index]

    def view_of(self, x: Any) -> Any:
        return x.reshape(self.shape)


class Transpose(_BuiltinOp):
    """Permutation of the axes (``axes``: a permutation of 0 .. ndim-1, normalised by :func:`transpose`).

    Forward:  y = x.transpose(axes)
    Backward: dL/dx = (dL/dy).transpose(argsort(axes))
    """

    def __init__(self, axes: tuple[int, ...]) -> None:
        self.axes = axes

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.transpose(x, self.axes)

    def backward(self, gy: Any) -> Any:
        return gy.transpose(tuple(int(i) for i in np.argsort(self.axes)))

    def view_of(self, x: Any) -> Any:
        return x.transpose(self.axes)


class BroadcastTo(_BuiltinOp):
    """Broadcast to a larger shape.

    Forward:  y = broadcast_to(x, shape)
    Backward: dL/dx = sum_to(dL/dy, x.shape)
    """

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = tuple(shape)

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.broadcast_to(x, self.shape)

    def backward(self, gy: Any) -> Any:
        return _sum_to(gy, self.inputs[0].shape)  # type: ignore[index]

    def view_of(self, x: Any) -> Any:
        return _broadcast_to(x, self.shape)


class SumTo(_BuiltinOp):
    """Sum down to a shape that broadcasts to the input's (the adjoint of broadcast_to).

    Forward:  y = sum of x over the axes that broadcasting to x.shape would add or stretch
    Backward: dL/dx = broadcast_to(dL/dy, x.shape)
    """

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = tuple(shape)

    def forward(self, x: np.ndarray) -> np.ndarray:
        return _sum_to_array(x, self.shape)

    def backward(self, gy: Any) -> Any:
        return _broadcast_to(gy, self.inputs[0].shape)  # type: ignore[index]


def normalize_index(index: Any) -> Any:
    """An index with Tensors and lists replaced by arrays, ready for NumPy.

    A basic index (ints, slices, None, ...) gets a trailing ``...`` if it has none:
    NumPy then returns a view even when every axis is indexed by an int (``x[0]``
    on a vector is a 0-d view, not a copied scalar), as PyTorch does.
    """
    parts = tuple(_index_part(i) for i in index) if isinstance(index, tuple) else (_index_part(index),)
    basic = all(p is None or p is Ellipsis or isinstance(p, (slice, int, np.integer)) for p in parts)
    if basic and Ellipsis not in parts and not any(isinstance(p, (bool, np.bool_)) for p in parts):
        return parts + (Ellipsis,)
    return parts if isinstance(index, tuple) else parts[0]


def _index_part(i: Any) -> Any:
    if isinstance(i, Tensor):
        i = i.data
    elif isinstance(i, list):
        i = np.asarray(i)
    if isinstance(i, np.ndarray) and i.dtype.kind not in "biu":
        raise IndexError(f"index arrays must be integer or boolean, got dtype {i.dtype}")
    return i


def _has_array(index: Any) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return any(isinstance(p, np.ndarray) and p.ndim > 0 and p.dtype.kind != "b" for p in parts)


class GetItem(_BuiltinOp):
    """Indexing with ints, slices, None, Ellipsis, integer arrays and boolean masks.

    Forward:  y = x[index]
    Backward: dL/dx = zeros(x.shape) with dL/dy added at index
              (repeated integer indices accumulate their gradients)
    """

    name = "getitem"

    def __init__(self, index: Any) -> None:
        self.index = index

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x[self.index]

    def backward(self, gy: Any) -> Any:
        shape = self.inputs[0].shape  # type: ignore[index]
        if isinstance(gy, Tensor):
            return IndexAdd.apply(gy, index=self.index, shape=shape)
        return _scatter_add(gy, self.index, shape)

    def view_of(self, x: Any) -> Any:
        return x[self.index]


def _scatter_add(x: np.ndarray, index: Any, shape: tuple[int, ...]) -> np.ndarray:
    y = np.zeros(shape, dtype=x.dtype)
    if _has_array(index):
        np.add.at(y, index, x)
    else:  # basic indexing and masks select each element at most once
        y[index] = x
    return y


def assign(y: np.ndarray, index: Any, v: np.ndarray) -> None:
    """``y[index] = v``, dropping leading size-1 axes of ``v`` that the selection does not have
    (as PyTorch does; NumPy refuses them for a boolean mask of ``y``'s own shape)."""
    try:
        y[index] = v
    except (TypeError, ValueError):
        if v.ndim == 0 or v.shape[0] != 1:
            raise
        assign(y, index, v.reshape(v.shape[1:]))


def _refuse_repeats(index: Any, shape: tuple[int, ...]) -> None:
    hits = np.zeros(shape, dtype=np.intp)
    np.add.at(hits, index, 1)
    if hits.size and hits.max() > 1:
        where = tuple(int(i) for i in np.argwhere(hits > 1)[0])
        raise ValueError(
            f"setitem: the index assigns position {where} of a tensor of shape {fmt_shape(shape)} "
            f"{int(hits[where])} times while recording; only the last value survives, so the gradient "
            "of the others would be wrong. Assign each position once (e.g. np.unique the indices)"
        )


class IndexAdd(_BuiltinOp):
    """Scatter-add into zeros (the adjoint of indexing).

    Forward:  y = zeros(shape); y[index] += x   (repeated indices accumulate)
    Backward: dL/dx = (dL/dy)[index]
    """

    name = "index_add"

    def __init__(self, index: Any, shape: tuple[int, ...]) -> None:
        self.index, self.shape = index, shape

    def forward(self, x: np.ndarray) -> np.ndarray:
        return _scatter_add(x, self.index, self.shape)

    def backward(self, gy: Any) -> Any:
        return gy[self.index]


class SetItem(_BuiltinOp):
    """Out-of-place item assignment (records ``x[index] = v`` on a graph).

    Forward:  y = copy of x with y[index] = v
    Backward: dL/dx = dL/dy with the assigned positions zeroed,  dL/dv = (dL/dy)[index]
    An integer-array index that selects a position twice is refused: only one of the values
    assigned there survives, and the gradient would reach the others too (PyTorch gives it
    to every one of them, silently).
    """

    name = "setitem"

    def __init__(self, index: Any) -> None:
        self.index = index

    def forward(self, x: np.ndarray, v: np.ndarray) -> np.ndarray:
        if _has_array(self.index):
            _refuse_repeats(self.index, x.shape)
        y = x.copy()
        assign(y, self.index, v)
        return y

    def backward(self, gy: Any) -> tuple[Any, Any]:
        need_x, need_v = self.needs_input_grad
        gx = gv = None
        if need_x and isinstance(gy, Tensor):
            gx = SetItem.apply(gy, np.zeros((), dtype=gy.dtype), index=self.index)
        elif need_x:
            gx = gy.copy()
            gx[self.index] = 0
        if need_v:
            gv = gy[self.index]
            extra = self.inputs[1].ndim - gv.ndim  # type: ignore[index]
            if extra > 0:  # v had leading 1s that the assignment dropped: the engine sums to v
                gv = gv.reshape((1,) * extra + gv.shape)
        return gx, gv


class ViewWrite(_BuiltinOp):
    """A tensor after an in-place update of one of its views (PyTorch's CopySlices).

    ``view`` is the op that made the view (indexing, reshape, transpose); ``view(b)``
    below means the same view of ``b``. Recorded by :mod:`microgradx.inplace`.

    Forward:  y = copy of base with view(y) replaced by v
    Backward: dL/dbase = dL/dy with the view's positions zeroed,  dL/dv = view(dL/dy)
    """

    name = "view_write"

    def __init__(self, view: Any) -> None:
        self.view = view

    def forward(self, base: np.ndarray, v: np.ndarray) -> np.ndarray:
        y = base.copy()
        self.view.view_of(y)[...] = v
        return y

    def backward(self, gy: Any) -> tuple[Any, Any]:
        need_base, need_v = self.needs_input_grad
        gbase = gv = None
        if need_base and isinstance(gy, Tensor):
            gbase = ViewWrite.apply(gy, np.zeros((), dtype=gy.dtype), view=self.view)
        elif need_base:
            gbase = gy.copy()
            self.view.view_of(gbase)[...] = 0
        if need_v:
            gv = self.view.view_of(gy)
        return gbase, gv


class Concat(_BuiltinOp):
    """Join tensors along an existing axis.

    Forward:  y = concatenate([x1, x2, ...], axis)
    Backward: dL/dxi = the slice of dL/dy that xi occupies
    """

    def __init__(self, axis: int) -> None:
        self.axis = axis

    def forward(self, *xs: np.ndarray) -> np.ndarray:
        return np.concatenate(xs, axis=self.axis)

    def backward(self, gy: Any) -> tuple[Any, ...]:
        axis = self.axis
        out, start = [], 0
        for x in self.inputs:  # type: ignore[union-attr]
            stop = start + x.shape[axis]
            out.append(gy[(slice(None),) * axis + (slice(start, stop),)])
            start = stop
        return tuple(out)


class Stack(_BuiltinOp):
    """Join tensors of one shape along a new axis.

    Forward:  y = stack([x1, x2, ...], axis)
    Backward: dL/dxi = (dL/dy) indexed at i along axis
    """

    def __init__(self, axis: int) -> None:
        self.axis = axis

    def forward(self, *xs: np.ndarray) -> np.ndarray:
        return np.stack(xs, axis=self.axis)

    def backward(self, gy: Any) -> tuple[Any, ...]:
        axis = self.axis
        return tuple(gy[(slice(None),) * axis + (i,)] for i in range(len(self.inputs)))  # type: ignore[arg-type]


class Where(_BuiltinOp):
    """Elementwise choice by a constant boolean condition.

    Forward:  y = a where cond else b
    Backward: dL/da = dL/dy * cond,  dL/db = dL/dy * (not cond)
    """

    def __init__(self, cond: np.ndarray) -> None:
        self.cond = cond

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.where(self.cond, a, b)

    def backward(self, gy: Any) -> tuple[Any, Any]:
        need_a, need_b = self.needs_input_grad
        c = self.cond.astype(gy.dtype)
        return (gy * c if need_a else None), (gy * (1 - c) if need_b else None)


def reshape(x: Any, shape: Sequence[int]) -> Tensor:
    """``x`` with a new shape; see :class:`Reshape`.

    >>> reshape([1.0, 2.0, 3.0, 4.0], (2, 2))
    tensor([[1., 2.],
            [3., 4.]])
    """
    return Reshape.apply(x, shape=tuple(shape))


def transpose(x: Any, axes: Sequence[int] | None = None) -> Tensor:
    """``x`` with its axes permuted (reversed when ``axes`` is None); see :class:`Transpose`.

    >>> transpose([[1.0, 2.0]])
    tensor([[1.],
            [2.]])
    """
    x = x if isinstance(x, Tensor) else Tensor._from_operand(x, None)
    return Transpose.apply(x, axes=normalize_permutation(axes, x.ndim, "transpose"))


def broadcast_to(x: Any, shape: Sequence[int]) -> Tensor:
    """``x`` broadcast to ``shape``; see :class:`BroadcastTo`.

    >>> broadcast_to([1.0, 2.0], (2, 2))
    tensor([[1., 2.],
            [1., 2.]])
    """
    x = x if isinstance(x, Tensor) else Tensor._from_operand(x, None)
    shape = tuple(shape)
    if x.shape == shape:
        return x
    try:
        np.broadcast_shapes(x.shape, shape)
        if np.broadcast_shapes(x.shape, shape) != shape:
            raise ValueError
    except ValueError:
        raise ValueError(
            f"broadcast_to: a tensor of shape {fmt_shape(x.shape)} cannot be broadcast to "
            f"shape {fmt_shape(shape)}"
        ) from None
    return BroadcastTo.apply(x, shape=shape)


def sum_to(x: Any, shape: Sequence[int]) -> Tensor:
    """Sum ``x`` down to ``shape`` (undo broadcasting); see :class:`SumTo`.

    >>> sum_to([[1.0, 2.0], [3.0, 4.0]], (2,))
    tensor([4., 6.])
    """
    x = x if isinstance(x, Tensor) else Tensor._from_operand(x, None)
    shape = tuple(shape)
    if x.shape == shape:
        return x
    return SumTo.apply(x, shape=shape)


def concat(seq: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis; see :class:`Concat`.

    >>> concat([[1.0], [2.0, 3.0]])
    tensor([1., 2., 3.])
    """
    if len(seq) == 0:
        raise ValueError("concat: needs at least one tensor")
    ndim = np.ndim(seq[0].data if isinstance(seq[0], Tensor) else seq[0])
    return Concat.apply(*seq, axis=normalize_axis(axis, ndim, "concat"))


def stack(seq: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors of one shape along a new axis; see :class:`Stack`.

    >>> stack([[1.0, 2.0], [3.0, 4.0]], axis=1)
    tensor([[1., 3.],
            [2., 4.]])
    """
    if len(seq) == 0:
        raise ValueError("stack: needs at least one tensor")
    ndim = np.ndim(seq[0].data if isinstance(seq[0], Tensor) else seq[0])
    return Stack.apply(*seq, axis=normalize_axis(axis, ndim + 1, "stack"))


def where(cond: Any, a: Any, b: Any) -> Tensor:
    """``a`` where ``cond`` is true, else ``b`` (NumPy broadcasting); see :class:`Where`.

    >>> where([True, False], [1.0, 2.0], [10.0, 20.0])
    tensor([ 1., 20.])
    """
    c = np.asarray(cond.data if isinstance(cond, Tensor) else cond)
    if c.dtype != np.bool_:
        raise TypeError(f"where: cond must be boolean, got dtype {c.dtype}")
    return Where.apply(a, b, cond=c)


def _broadcast_to(x: Any, shape: tuple[int, ...]) -> Any:
    """broadcast_to of an array (a plain backward) or of a Tensor (recorded, under create_graph)."""
    return broadcast_to(x, shape) if isinstance(x, Tensor) else np.broadcast_to(x, shape)


def _sum_to(x: Any, shape: tuple[int, ...]) -> Any:
    """sum_to of an array or of a Tensor (see :func:`_broadcast_to`)."""
    return sum_to(x, shape) if isinstance(x, Tensor) else _sum_to_array(x, shape)


def _where(cond: np.ndarray, a: Any, b: Any) -> Any:
    """where of arrays (a plain backward) or with Tensors (recorded, under create_graph)."""
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        return Where.apply(a, b, cond=cond)
    return np.where(cond, a, b)
