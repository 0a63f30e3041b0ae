"""Shape and indexing: reshape, transpose, broadcast_to / sum_to, indexing, concat, stack, where,
and the vocabulary of NumPy and PyTorch built on them (squeeze, permute, split, pad, flip, gather, ...).

``broadcast_to`` and ``sum_to`` are each other's adjoint, as are indexing and
scatter-add: every backward here is another op of this module, so gradients of
gradients work.

Reshape, transpose, broadcast_to and basic indexing return views of their input's
memory, as in NumPy and PyTorch; each can remake its view (``view_of``), so an
in-place update of a view writes back into its base (:class:`ViewWrite`).
The functions built on them are views too, as in PyTorch: ``squeeze``,
``unsqueeze``, ``expand_dims`` and ``view`` are reshapes, ``permute`` and
``swapaxes`` transposes, and the pieces of ``split`` slices. ``flip``, ``roll``,
``repeat``, ``tile``, ``pad``, ``take_along_axis`` and ``gather`` return new
memory (as PyTorch's do): they are indexing with integer arrays (or
:class:`Pad`), whose backward is the scatter-add :class:`IndexAdd`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..autograd import sum_to as _sum_to_array
from ..errors import fmt_shape
from ..tensor import Tensor
from . import _BuiltinOp, _is_int, normalize_axes, normalize_axis, normalize_permutation


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
    if hits.size and hits.max() > 1:  # type: ignore[call-overload]  # (numpy 2.5's stubs)
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
        gbase: Any = None
        gv: Any = None
        if need_base and isinstance(gy, Tensor):
            gbase = ViewWrite.apply(gy, np.zeros((), dtype=gy.dtype), view=self.view)
        elif need_base:
            gbase = np.array(gy, copy=True)  # an ndarray even when gy is a NumPy scalar (a 0-d sum)
            self.view.view_of(gbase)[...] = 0  # (a scalar's reshape is a new array: the write was lost)
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


class Pad(_BuiltinOp):
    """Padding with a constant (``mode="constant"`` of :func:`pad`; its other modes are indexing).

    ``widths[k] = (before, after)`` on axis k; ``inside`` the slices that ``x`` occupies in ``y``.

    Forward:  y = np.pad(x, widths, constant_values=c): x surrounded by the constant c
    Backward: dL/dx = (dL/dy)[b0 : b0 + n0, b1 : b1 + n1, ...]   (the positions x occupies)
    """

    def __init__(self, widths: tuple[tuple[int, int], ...], constant: Any, inside: tuple[slice, ...]) -> None:
        self.widths, self.constant, self.inside = widths, constant, inside

    def forward(self, x: np.ndarray) -> np.ndarray:
        try:
            return np.pad(x, self.widths, mode="constant", constant_values=self.constant)
        except (TypeError, ValueError) as e:
            raise ValueError(
                f"pad: cannot pad a tensor of shape {fmt_shape(x.shape)} with constant_values "
                f"{self.constant!r}: {e}"
            ) from None

    def backward(self, gy: Any) -> Any:
        return gy[self.inside]


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


# --------------------------------------------------------------------------- #
# the vocabulary of NumPy and PyTorch, built on the ops above
# --------------------------------------------------------------------------- #
def squeeze(x: Any, axis: Any = None) -> Tensor:
    """``x`` without its axes of size 1 (all of them when ``axis`` is None; else an int or a tuple).

    A view of ``x`` (a :class:`Reshape`), as in NumPy and PyTorch: an in-place update of the
    result writes into ``x``. Naming an axis whose size is not 1 is an error, as in NumPy
    (``torch.squeeze(x, dim)`` leaves such an axis alone, silently); ``Tensor.squeeze`` does the same.

    >>> squeeze([[1.0], [2.0]]).shape
    (2,)
    >>> squeeze([[[1.0, 2.0]]], axis=0).shape
    (1, 2)
    """
    x = _as_tensor(x)
    if axis is None:
        axes: tuple[int, ...] = tuple(k for k, n in enumerate(x.shape) if n == 1)
    elif x.ndim == 0 and axis in (0, -1, (0,), (-1,)):  # as NumPy: a 0-d tensor has no axis to remove
        axes = ()
    else:
        axes = normalize_axes(axis, x.ndim, "squeeze")
        for k in axes:
            if x.shape[k] != 1:
                raise ValueError(
                    f"squeeze: axis {k} of a tensor of shape {fmt_shape(x.shape)} has size {x.shape[k]}, "
                    "not 1; only axes of size 1 can be squeezed"
                )
    return Reshape.apply(x, shape=tuple(n for k, n in enumerate(x.shape) if k not in axes))


def unsqueeze(x: Any, axis: int) -> Tensor:
    """``x`` with a new axis of size 1 at position ``axis`` (in ``[-ndim - 1, ndim]``), as PyTorch.

    A view of ``x`` (a :class:`Reshape`). :func:`expand_dims` is the NumPy form (several axes).

    >>> unsqueeze([1.0, 2.0], 0).shape
    (1, 2)
    >>> unsqueeze([1.0, 2.0], -1).shape
    (2, 1)
    """
    x = _as_tensor(x)
    if not _is_int(axis):
        raise TypeError(f"unsqueeze: axis must be an int, got {axis!r} (expand_dims adds several axes)")
    k = normalize_axis(axis, x.ndim + 1, "unsqueeze")
    return Reshape.apply(x, shape=x.shape[:k] + (1,) + x.shape[k:])


def expand_dims(x: Any, axis: Any) -> Tensor:
    """``x`` with new axes of size 1 at the positions ``axis`` (an int or a tuple) of the result, as NumPy.

    A view of ``x`` (a :class:`Reshape`).

    >>> expand_dims([1.0, 2.0], (0, 2)).shape
    (1, 2, 1)
    """
    x = _as_tensor(x)
    count = 1 if _is_int(axis) else len(tuple(axis))
    axes = normalize_axes(axis, x.ndim + count, "expand_dims")
    sizes = iter(x.shape)
    return Reshape.apply(x, shape=tuple(1 if k in axes else next(sizes) for k in range(x.ndim + count)))


def permute(x: Any, *dims: Any) -> Tensor:
    """``x`` with its axes in the order ``dims`` (``permute(x, (2, 0, 1))`` or ``permute(x, 2, 0, 1)``).

    PyTorch's name for :func:`transpose` with axes: a view of ``x`` (a :class:`Transpose`).

    >>> permute([[1.0, 2.0]], 1, 0)
    tensor([[1.],
            [2.]])
    """
    x = _as_tensor(x)
    if len(dims) == 1 and not _is_int(dims[0]):
        dims = tuple(dims[0])
    return Transpose.apply(x, axes=normalize_permutation(dims, x.ndim, "permute"))


def view(x: Any, *shape: Any) -> Tensor:
    """``x`` with a new shape (``view(x, (2, 3))`` or ``view(x, 2, 3)``; ``-1`` infers one size).

    An alias of :func:`reshape`, as ``Tensor.view`` in PyTorch, except that it also works where
    PyTorch's ``view`` refuses a non-contiguous tensor: the result is then a copy, as
    ``reshape``'s (NumPy copies exactly when a view is impossible). Reinterpreting the bytes as
    another dtype (``torch.Tensor.view(dtype)``, ``ndarray.view(dtype)``) is not supported.

    >>> view([1.0, 2.0, 3.0, 4.0], 2, -1)
    tensor([[1., 2.],
            [3., 4.]])
    """
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    if not all(_is_int(n) for n in shape):
        raise TypeError(
            f"view: the shape must be ints, got {shape!r}; reinterpreting the data as another dtype "
            "is not supported (use astype to convert)"
        )
    return reshape(x, shape)


def swapaxes(x: Any, axis1: int, axis2: int) -> Tensor:
    """``x`` with the axes ``axis1`` and ``axis2`` exchanged, as NumPy and ``torch.swapaxes``
    (``torch.transpose(x, a, b)``).

    A view of ``x`` (a :class:`Transpose`).

    >>> swapaxes([[1.0, 2.0]], 0, 1).shape
    (2, 1)
    """
    x = _as_tensor(x)
    a, b = normalize_axis(axis1, x.ndim, "swapaxes"), normalize_axis(axis2, x.ndim, "swapaxes")
    axes = list(range(x.ndim))
    axes[a], axes[b] = b, a
    return Transpose.apply(x, axes=tuple(axes))


def concatenate(seq: Sequence[Any], axis: int | None = 0) -> Tensor:
    """Join tensors along an existing axis (NumPy's name for :func:`concat`); ``axis=None``
    flattens each first, as in NumPy.

    >>> concatenate([[[1.0, 2.0]], [[3.0, 4.0]]], axis=None)
    tensor([1., 2., 3., 4.])
    """
    if len(seq) == 0:
        raise ValueError("concatenate: needs at least one tensor")
    if axis is None:
        return concat([reshape(t, (-1,)) for t in seq], axis=0)
    return concat(seq, axis=axis)


def split(x: Any, indices_or_sections: Any, axis: int = 0) -> list[Tensor]:
    """``x`` cut along ``axis`` into a list of tensors, as ``numpy.split``.

    ``indices_or_sections`` is either a number of equal sections (which must divide the axis),
    or the indices where the axis is cut (``[2, 3]`` gives ``x[:2], x[2:3], x[3:]``; as in
    NumPy, indices past the end give empty pieces). This is NumPy's meaning also for
    ``Tensor.split``: PyTorch's ``split(2)`` means pieces of size 2, ours 2 pieces (PyTorch's
    ``torch.tensor_split`` is NumPy's). Each piece is a view of ``x`` (a slice), as in NumPy and
    PyTorch; each piece's gradient flows back to its part of ``x``.

    Examples
    --------
    >>> [p.shape for p in split([1.0, 2.0, 3.0, 4.0], 2)]
    [(2,), (2,)]
    >>> split([1.0, 2.0, 3.0, 4.0], [1, 3])
    [tensor([1.]), tensor([2., 3.]), tensor([4.])]
    """
    x = _as_tensor(x)
    k = normalize_axis(axis, x.ndim, "split")
    n = x.shape[k]
    if _is_int(indices_or_sections):
        sections = int(indices_or_sections)
        if sections <= 0:
            raise ValueError(f"split: the number of sections must be positive, got {sections}")
        if n % sections:
            raise ValueError(
                f"split: axis {k} of a tensor of shape {fmt_shape(x.shape)} (length {n}) cannot be split "
                f"into {sections} equal sections; give the indices where to cut it instead (a list)"
            )
        bounds = [i * (n // sections) for i in range(sections + 1)]
    else:
        cuts = _sizes(indices_or_sections, "split")
        cuts = np.asarray(cuts)
        if cuts.ndim != 1 or (cuts.size and cuts.dtype.kind not in "iu"):
            raise TypeError(
                "split: indices_or_sections must be an int (a number of sections) or a sequence of "
                f"ints (where to cut), got {indices_or_sections!r}"
            )
        bounds = [0, *(int(i) for i in cuts), n]
    before = (slice(None),) * k
    return [
        GetItem.apply(x, index=before + (slice(start, stop), Ellipsis))
        for start, stop in zip(bounds[:-1], bounds[1:], strict=True)
    ]


def pad(x: Any, pad_width: Any, mode: str = "constant", constant_values: Any = 0) -> Tensor:
    """``x`` padded on each side of each axis, as ``numpy.pad``.

    ``pad_width`` takes NumPy's forms: ``n`` (n before and after every axis), ``(before, after)``
    (the same on every axis), ``((before_0, after_0), (before_1, after_1), ...)``, one pair per
    axis, in axis order (``torch.nn.functional.pad`` lists the last axis first), or a dict
    ``{axis: n or (before, after)}`` (the other axes unpadded). ``mode`` is
    ``"constant"`` (``constant_values``, a constant: no gradient flows to it), ``"edge"``,
    ``"reflect"``, ``"symmetric"`` or ``"wrap"``, with NumPy's meanings; the result is new memory.
    Backward: the gradient of each position of the result flows to the element of ``x`` it came
    from (summed, where the padding repeats an element); constant padding gets none.

    >>> pad([1.0, 2.0], 1)
    tensor([0., 1., 2., 0.])
    >>> pad([1.0, 2.0, 3.0], (2, 0), mode="reflect")
    tensor([3., 2., 1., 2., 3.])
    """
    x = _as_tensor(x)
    widths = _pad_widths(pad_width, x.shape)
    if isinstance(constant_values, Tensor) and constant_values.requires_grad:
        raise TypeError(
            "pad: constant_values is a constant, and this tensor requires grad: no gradient would reach "
            "it. Pad with 0 and add the value where the padding is (a mask), or detach() it"
        )
    if mode == "constant" or x.ndim == 0:
        c = constant_values.data if isinstance(constant_values, Tensor) else constant_values
        inside = tuple(slice(b, b + n) for (b, _), n in zip(widths, x.shape, strict=True))
        return Pad.apply(x, widths=widths, constant=c, inside=inside)
    if mode not in ("edge", "reflect", "symmetric", "wrap"):
        raise ValueError(
            f"pad: mode {mode!r} is not supported; use 'constant', 'edge', 'reflect', 'symmetric' or 'wrap'"
        )
    if not (np.ndim(constant_values) == 0 and constant_values == 0):
        raise ValueError(f"pad: constant_values is for mode='constant', not for mode={mode!r}")
    try:  # where each position of the result comes from: NumPy pads the positions
        positions = np.arange(x.size, dtype=np.intp).reshape(x.shape)
        source = np.pad(positions, widths, mode=mode)  # type: ignore[call-overload]
    except ValueError as e:
        raise ValueError(
            f"pad: cannot pad a tensor of shape {fmt_shape(x.shape)} in mode {mode!r}: {e}"
        ) from None
    return GetItem.apply(x, index=np.unravel_index(source, x.shape))


def repeat(x: Any, repeats: Any, axis: int | None = None) -> Tensor:
    """Each element of ``x`` repeated ``repeats`` times along ``axis``, as ``numpy.repeat``
    (``torch.repeat_interleave``); ``axis=None`` flattens ``x`` first.

    ``repeats`` is an int or one int per element along the axis. This is NumPy's meaning also for
    ``Tensor.repeat``: PyTorch's ``Tensor.repeat`` tiles the whole tensor (that is :func:`tile`).
    The result is new memory; the gradient of an element is the sum over its copies.

    >>> repeat([1.0, 2.0], 2)
    tensor([1., 1., 2., 2.])
    >>> repeat([[1.0, 2.0]], [1, 3], axis=1)
    tensor([[1., 2., 2., 2.]])
    """
    x = _as_tensor(x)
    r = np.asarray(_sizes(repeats, "repeat"))
    if r.dtype.kind not in "iu" or r.ndim > 1:
        raise TypeError(f"repeat: repeats must be an int or a sequence of ints, got {repeats!r}")
    if axis is None:
        x, k = reshape(x, (-1,)), 0
    else:
        k = normalize_axis(axis, x.ndim, "repeat")
    n = x.shape[k]
    if r.ndim == 1 and r.size not in (1, n):
        raise ValueError(
            f"repeat: {r.size} repeats for an axis of length {n} (a tensor of shape {fmt_shape(x.shape)})"
        )
    if (r < 0).any():
        raise ValueError(f"repeat: repeats must not be negative, got {repeats!r}")
    return _take(x, {k: np.repeat(np.arange(n, dtype=np.intp), r)})


def tile(x: Any, reps: Any) -> Tensor:
    """``x`` repeated ``reps`` times (an int or one per axis) as a whole, as ``numpy.tile``
    (``torch.tile``, PyTorch's ``Tensor.repeat``).

    As in NumPy, a shorter ``reps`` is padded with 1s in front, and a shorter ``x`` gets new leading
    axes. The result is new memory; the gradient of an element is the sum over its copies.

    >>> tile([1.0, 2.0], 2)
    tensor([1., 2., 1., 2.])
    >>> tile([1.0, 2.0], (2, 1))
    tensor([[1., 2.],
            [1., 2.]])
    """
    x = _as_tensor(x)
    reps_t = (reps,) if _is_int(reps) else tuple(reps) if np.ndim(reps) == 1 else (None,)
    if not all(_is_int(r) and r >= 0 for r in reps_t):
        raise ValueError(f"tile: reps must be non-negative ints, got {reps!r}")
    d = max(len(reps_t), x.ndim)
    reps_t = (1,) * (d - len(reps_t)) + reps_t
    if x.ndim < d:
        x = Reshape.apply(x, shape=(1,) * (d - x.ndim) + x.shape)
    picks = {
        k: np.tile(np.arange(n, dtype=np.intp), r)
        for k, (n, r) in enumerate(zip(x.shape, reps_t, strict=True))
        if r != 1
    }
    return _take(x, picks)


def flip(x: Any, axis: Any = None) -> Tensor:
    """``x`` with the order of its elements reversed along ``axis`` (None: every axis; an int or a
    tuple), as ``numpy.flip`` and ``torch.flip``.

    The result is new memory, as in PyTorch (NumPy's ``flip`` is a view): an in-place update of it
    leaves ``x`` alone.

    >>> flip([[1.0, 2.0], [3.0, 4.0]], axis=1)
    tensor([[2., 1.],
            [4., 3.]])
    """
    x = _as_tensor(x)
    axes = normalize_axes(axis, x.ndim, "flip")
    return _take(x, {k: np.arange(x.shape[k] - 1, -1, -1, dtype=np.intp) for k in axes})


def roll(x: Any, shift: Any, axis: Any = None) -> Tensor:
    """``x`` with its elements shifted by ``shift`` along ``axis``, those that fall off one end
    coming back at the other, as ``numpy.roll`` and ``torch.roll``.

    ``shift`` and ``axis`` are ints or tuples (broadcast together; shifts of one axis add up);
    ``axis=None`` rolls the flattened tensor and restores the shape. The result is new memory.

    >>> roll([1.0, 2.0, 3.0], 1)
    tensor([3., 1., 2.])
    >>> roll([[1.0, 2.0], [3.0, 4.0]], (1, 1), axis=(0, 1))
    tensor([[4., 3.],
            [2., 1.]])
    """
    x = _as_tensor(x)
    if axis is None:
        return reshape(roll(reshape(x, (-1,)), shift, 0), x.shape)
    s, a = np.asarray(shift), np.asarray(axis)
    if s.dtype.kind not in "iu" or a.dtype.kind not in "iu":
        raise TypeError(
            f"roll: shift and axis must be ints or tuples of ints, got shift={shift!r}, axis={axis!r}"
        )
    try:
        pairs = np.broadcast(s, a)
        if pairs.ndim > 1:
            raise ValueError
    except ValueError:
        raise ValueError(
            f"roll: shift {shift!r} and axis {axis!r} must be ints or sequences of the same length"
        ) from None
    total: dict[int, int] = {}
    for by, k in pairs:
        k = normalize_axis(int(k), x.ndim, "roll")
        total[k] = total.get(k, 0) + int(by)
    return _take(
        x,
        {
            k: (np.arange(x.shape[k], dtype=np.intp) - by) % x.shape[k]
            for k, by in total.items()
            if x.shape[k]
        },
    )


def take_along_axis(x: Any, indices: Any, axis: int | None = -1) -> Tensor:
    """The elements of ``x`` at ``indices`` along ``axis``, as ``numpy.take_along_axis``
    (``torch.take_along_dim``).

    ``indices`` (integers) has as many dimensions as ``x``, and broadcasts against it on the other
    axes; ``axis=None`` takes from the flattened ``x`` (``indices`` then 1-D). Negative indices
    count from the end, as in NumPy. The result is new memory; the gradient of an element taken
    several times is the sum.

    >>> take_along_axis([[10.0, 30.0, 20.0]], [[1, 2]], axis=1)
    tensor([[30., 20.]])
    """
    x = _as_tensor(x)
    idx = _int_index(indices, "take_along_axis")
    if axis is None:
        if idx.ndim != 1:
            raise ValueError(
                f"take_along_axis: with axis=None the indices must be 1-D, got shape {fmt_shape(idx.shape)}"
            )
        x, k = reshape(x, (-1,)), 0
    else:
        k = normalize_axis(axis, x.ndim, "take_along_axis")
    if idx.ndim != x.ndim:
        raise ValueError(
            f"take_along_axis: indices of shape {fmt_shape(idx.shape)} must have as many dimensions as "
            f"the tensor, of shape {fmt_shape(x.shape)}"
        )
    others = [i for i in range(x.ndim) if i != k]
    try:
        np.broadcast_shapes(tuple(idx.shape[i] for i in others), tuple(x.shape[i] for i in others))
    except ValueError:
        raise ValueError(
            f"take_along_axis: indices of shape {fmt_shape(idx.shape)} do not broadcast against a tensor "
            f"of shape {fmt_shape(x.shape)} on the axes other than axis {k}"
        ) from None
    _check_bounds(idx, x.shape, k, "take_along_axis", negative=True)
    return GetItem.apply(x, index=_along_axis(idx, x.shape, k))


def gather(x: Any, axis: int, index: Any) -> Tensor:
    """``out[i][j][k] = x[index[i][j][k]][j][k]`` for ``axis=0`` (and so on), as ``torch.gather``.

    ``index`` (integers in ``[0, x.shape[axis])``) has as many dimensions as ``x``, and on every
    other axis a size no larger than ``x``'s; the result has ``index``'s shape and new memory.
    The gradient of an element gathered several times is the sum.
    :func:`take_along_axis` is the NumPy form (it broadcasts instead).

    >>> gather([[1.0, 2.0], [3.0, 4.0]], 1, [[0, 0], [1, 0]])
    tensor([[1., 1.],
            [4., 3.]])
    """
    x = _as_tensor(x)
    idx = _int_index(index, "gather")
    k = normalize_axis(axis, x.ndim, "gather")
    _check_index_shape(idx, x.shape, k, "gather")
    _check_bounds(idx, x.shape, k, "gather", negative=False)
    return GetItem.apply(x, index=_along_axis(idx, idx.shape, k))


def scatter_add(x: Any, axis: int, index: Any, src: Any) -> Tensor:
    """``x`` with ``src`` added at ``index`` along ``axis``, as ``torch.scatter_add``:
    ``out[index[i][j][k]][j][k] += src[i][j][k]`` for ``axis=0`` (and so on).

    ``index`` (integers in ``[0, x.shape[axis])``) has as many dimensions as ``x`` and ``src``, a
    size no larger than ``src``'s on every axis and than ``x``'s on the other axes; only the part
    of ``src`` that ``index`` covers is added. Repeated indices accumulate. The result is new
    memory. Backward: dL/dx = dL/dout; dL/dsrc = ``gather(dL/dout, axis, index)`` where ``index``
    covers ``src``, 0 elsewhere.

    >>> scatter_add([0.0, 0.0, 0.0], 0, [0, 2, 0], [1.0, 2.0, 3.0])
    tensor([4., 0., 2.])
    """
    x = _as_tensor(x)
    if not isinstance(src, Tensor):  # a constant (a list, an array): it adopts the tensor's float dtype
        src = Tensor._from_operand(src, None)
        if x.dtype.kind == "f":
            src = Tensor._from_operand(src.data.astype(x.dtype, copy=False), None)
    if x.dtype.kind == "f" and src.dtype != x.dtype:
        raise TypeError(
            f"scatter_add: src has dtype {src.dtype} and the tensor {x.dtype}; convert one (astype) first"
        )
    idx = _int_index(index, "scatter_add")
    k = normalize_axis(axis, x.ndim, "scatter_add")
    _check_index_shape(idx, x.shape, k, "scatter_add")
    if src.ndim != idx.ndim or any(i > s for i, s in zip(idx.shape, src.shape, strict=True)):
        raise ValueError(
            f"scatter_add: index of shape {fmt_shape(idx.shape)} must have as many dimensions as src, of "
            f"shape {fmt_shape(src.shape)}, and be no larger on any axis"
        )
    _check_bounds(idx, x.shape, k, "scatter_add", negative=False)
    if src.shape != idx.shape:  # only the part of src that index covers
        src = GetItem.apply(src, index=tuple(slice(0, n) for n in idx.shape) + (Ellipsis,))
    return x + IndexAdd.apply(src, index=_along_axis(idx, idx.shape, k), shape=x.shape)


def _as_tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor._from_operand(x, None)


def _sizes(v: Any, op: str) -> Any:
    """Sizes given as a tensor (split points, repeats, pad widths): its array, read in Python to
    shape the result (a function of its own: mgx.compile refuses it while tracing, as the shapes
    of a replay would be the trace's)."""
    return v.data if isinstance(v, Tensor) else v


def _pad_widths(pad_width: Any, shape: tuple[int, ...]) -> tuple[tuple[int, int], ...]:
    """NumPy's forms of ``pad_width`` as one ``(before, after)`` pair per axis, or an error."""
    if isinstance(pad_width, dict):  # {axis: n or (before, after)}, the other axes unpadded
        widths = [(0, 0)] * len(shape)
        for axis, width in pad_width.items():
            widths[normalize_axis(axis, len(shape), "pad")] = _pad_widths(width, (1,))[0]
        return tuple(widths)
    w = np.asarray(_sizes(pad_width, "pad"))
    if w.dtype.kind not in "iu":
        raise TypeError(f"pad: pad_width must be ints, got {pad_width!r}")
    try:
        pairs = np.broadcast_to(w, (len(shape), 2)) if w.ndim <= 2 else None
    except ValueError:
        pairs = None
    if pairs is None:
        raise ValueError(
            f"pad: pad_width {pad_width!r} does not fit a tensor of shape {fmt_shape(shape)}; give n, "
            "(before, after), or one (before, after) pair per axis"
        )
    if (pairs < 0).any():
        raise ValueError(f"pad: pad_width must not be negative, got {pad_width!r}")
    return tuple((int(b), int(a)) for b, a in pairs)


def _take(x: Tensor, picks: dict[int, np.ndarray]) -> Tensor:
    """``x`` indexed by ``picks[k]`` (an array of positions) along each axis k, others whole: new memory."""
    if not picks:
        from .arithmetic import clone  # (arithmetic imports this module)

        return clone(x)
    if len(picks) == 1:
        ((k, positions),) = picks.items()
        index: Any = (slice(None),) * k + (positions,)
    else:
        index = np.ix_(*[picks.get(k, np.arange(n, dtype=np.intp)) for k, n in enumerate(x.shape)])
    return GetItem.apply(x, index=index)


def _int_index(index: Any, op: str) -> np.ndarray:
    """``index`` (a Tensor, an array or a list) as an integer array, or an error naming ``op``."""
    a = np.asarray(index.data if isinstance(index, Tensor) else index)
    if a.dtype.kind not in "iu" and not (a.size == 0 and a.dtype.kind == "f"):
        raise TypeError(f"{op}: the indices must be integers, got dtype {a.dtype}")
    return a.astype(np.intp, copy=False)


def _along_axis(idx: np.ndarray, shape: tuple[int, ...], axis: int) -> tuple[np.ndarray, ...]:
    """The integer-array index taking ``idx`` along ``axis`` and every position of ``shape`` elsewhere."""
    ones = (1,) * len(shape)
    return tuple(
        idx if k == axis else np.arange(n, dtype=np.intp).reshape(ones[:k] + (n,) + ones[k + 1 :])
        for k, n in enumerate(shape)
    )


def _check_index_shape(idx: np.ndarray, shape: tuple[int, ...], axis: int, op: str) -> None:
    """PyTorch's rule for gather and scatter_add: as many dimensions, and no larger off ``axis``."""
    if idx.ndim != len(shape) or any(
        i > n for k, (i, n) in enumerate(zip(idx.shape, shape, strict=True)) if k != axis
    ):
        raise ValueError(
            f"{op}: index of shape {fmt_shape(idx.shape)} must have as many dimensions as the tensor, of "
            f"shape {fmt_shape(shape)}, and be no larger on the axes other than axis {axis}"
        )


def _check_bounds(idx: np.ndarray, shape: tuple[int, ...], axis: int, op: str, negative: bool) -> None:
    n = shape[axis]
    low = -n if negative else 0
    bad = idx[(idx < low) | (idx >= n)]
    if bad.size:
        allowed = f"[{low}, {n})"
        raise IndexError(
            f"{op}: index {int(bad[0])} is out of range {allowed} for axis {axis} of a tensor of shape "
            f"{fmt_shape(shape)}"
        )


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
