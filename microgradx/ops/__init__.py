"""The differentiable operations, one module per family, and the helpers they share.

Each op is a :class:`~microgradx.Function` subclass whose docstring states its
``Forward:`` and ``Backward:`` formulas, followed by the public function that
calls it. :mod:`microgradx.functional` re-exports the public functions.

Every backward here is written once, with operations that NumPy arrays and
Tensors share, reading the inputs through ``self.input(i)`` and the output
through ``self.result``: a plain ``backward()`` runs it on arrays (no graph, no
Tensor per step: fast), ``create_graph=True`` on Tensors (recorded, so
differentiable again). Where arrays and Tensors spell an operation differently,
a helper below each op's module takes either (``_exp``, ``_broadcast_to``, ...).
A backward reads only the values it needs for the gradients asked for: reading
one that an in-place operation overwrote since is an error (as in PyTorch).

Every op that takes axes normalises them here, once, with the error messages
users see (:func:`normalize_axis`, :func:`normalize_axes`,
:func:`normalize_permutation`): an op class only ever sees non-negative axes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import Function


class _BuiltinOp(Function):
    """Base of the built-in ops: backward runs on arrays in a plain backward pass, and reads
    values only through ``self.input(i)`` and ``self.result`` (checked one by one)."""

    backward_on_arrays = True
    _reads_checked = True


def _is_int(a: Any) -> bool:
    return isinstance(a, (int, np.integer)) and not isinstance(a, (bool, np.bool_))


def normalize_axis(axis: Any, ndim: int, op: str) -> int:
    """One axis in ``[-ndim, ndim)`` as a non-negative int, or an error naming ``op``."""
    if not _is_int(axis):
        raise TypeError(f"{op}: axis must be an int, got {axis!r}")
    if not -ndim <= axis < ndim:
        raise np.exceptions.AxisError(
            f"{op}: axis {axis} is out of range for a tensor with {ndim} dimensions"
        )
    return int(axis) % ndim


def normalize_axes(axis: Any, ndim: int, op: str) -> tuple[int, ...]:
    """``axis`` of a reduction (None, an int or a tuple) as a sorted tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    if _is_int(axis):
        return (normalize_axis(axis, ndim, op),)
    try:
        axes = tuple(axis)
    except TypeError:
        raise TypeError(f"{op}: axis must be an int or a tuple of ints, got {axis!r}") from None
    out = []
    for a in axes:
        if not _is_int(a):
            raise TypeError(f"{op}: axis must be an int or a tuple of ints, got {axis!r}")
        out.append(normalize_axis(a, ndim, op))
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: repeated axis in {axis!r}")
    return tuple(sorted(out))


def normalize_permutation(axes: Any, ndim: int, op: str) -> tuple[int, ...]:
    """``axes`` of a transpose (None: reversed) as a permutation of ``range(ndim)``."""
    if axes is None:
        return tuple(range(ndim - 1, -1, -1))
    perm = tuple(normalize_axis(a, ndim, op) if _is_int(a) else a for a in axes)
    if sorted(perm) != list(range(ndim)):
        raise ValueError(f"{op}: axes {tuple(axes)!r} are not a permutation of {ndim} axes")
    return perm
