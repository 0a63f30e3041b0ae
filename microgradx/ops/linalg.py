"""Linear algebra: matmul (1-D, 2-D and batched operands), linear, einsum and what is built on it
(tensordot, dot, outer, trace), diag, tril and triu.

:class:`Einsum` is the one general product: its backward is again an einsum per operand (of the
upstream gradient with the other operands), so gradients of gradients come for free.
"""

from __future__ import annotations

import math
import string
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..autograd import _as_tensors
from ..errors import describe, fmt_shape
from ..tensor import Tensor
from . import _BuiltinOp, _is_int, normalize_axis
from .shape import IndexAdd


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


# --------------------------------------------------------------------------- #
# einsum
# --------------------------------------------------------------------------- #
#: The index letters, in the order NumPy sorts them (and numbers its sublist labels 0..51).
_LETTERS = string.ascii_uppercase + string.ascii_lowercase
_ELLIPSIS = "..."


class Einsum(_BuiltinOp):
    """Einstein summation, in a canonical form: explicit output, no '...', and every index of
    one size (:func:`einsum` turns any subscripts NumPy accepts into it). An index may repeat
    within an operand (a diagonal); indices missing from the output are summed.

    Forward:  y[out] = sum over the other indices of  prod_k x_k[ins_k]
    Backward: dL/dx_k = einsum(dL/dy[out], x_j[ins_j] for j != k -> ins_k), where an index that
              repeats in ins_k is given a fresh name per repeat and tied to the first by an
              identity matrix (the gradient lands on the diagonal, 0 elsewhere), and an index of
              ins_k that appears nowhere else is supplied by a vector of ones (the gradient is
              broadcast along it)
    """

    def __init__(self, ins: tuple[str, ...], out: str) -> None:
        self.ins, self.out = ins, out

    def forward(self, *xs: np.ndarray) -> np.ndarray:
        return _np_einsum(self.ins, self.out, xs)

    def backward(self, gy: Any) -> tuple[Any, ...]:
        return tuple(self._grad_of(k, gy) if need else None for k, need in enumerate(self.needs_input_grad))

    def _grad_of(self, k: int, gy: Any) -> Any:
        ins, shape = self.ins, self.inputs[k].shape  # type: ignore[index]
        size = dict(zip(ins[k], shape, strict=True))
        fresh = iter(c for c in _LETTERS if c not in set("".join(ins) + self.out))
        subs, operands = [self.out], [gy]
        for j, s in enumerate(ins):
            if j != k:
                subs.append(s)
                operands.append(self.input(j))
        target, seen = [], set()
        for c in ins[k]:
            if c in seen:  # a repeat: a new index, tied to c by the identity
                f = next(fresh, None)
                if f is None:
                    raise ValueError(f"einsum: too many indices to differentiate {self._spec()}")
                subs.append(c + f)
                operands.append(np.eye(size[c], dtype=gy.dtype))
                c = f
            seen.add(c)
            target.append(c)
        covered = set("".join(subs))
        for c in ins[k]:
            if c not in covered:  # summed over in the forward pass: broadcast back along it
                subs.append(c)
                operands.append(np.ones(size[c], dtype=gy.dtype))
                covered.add(c)
        return _einsum(tuple(subs), "".join(target), operands)

    def _spec(self) -> str:
        return ",".join(self.ins) + "->" + self.out


def _np_einsum(ins: Sequence[str], out: str, arrays: Sequence[np.ndarray]) -> np.ndarray:
    size: dict[str, int] = {}
    for s, a in zip(ins, arrays, strict=True):
        size.update(zip(s, a.shape, strict=True))
    # NumPy's path search (and its BLAS products) pays off for more than two operands, or from
    # about 32^3 multiply-adds; below, its overhead (~20 us) is more than the product
    optimize = len(arrays) > 2 or math.prod(size.values()) > 1 << 15
    return np.einsum(",".join(ins) + "->" + out, *arrays, optimize=optimize)  # type: ignore[no-any-return]


def _einsum(ins: tuple[str, ...], out: str, operands: Sequence[Any]) -> Any:
    """einsum of arrays (a plain backward), or recorded when an operand is a Tensor (create_graph)."""
    if any(isinstance(x, Tensor) for x in operands):
        return Einsum.apply(*operands, ins=ins, out=out)
    return _np_einsum(ins, out, operands)


def _tokens(part: str, where: str, subscripts: str) -> list[str]:
    """The letters and '...' of one operand's (or the output's) subscripts."""
    out: list[str] = []
    i = 0
    while i < len(part):
        c = part[i]
        if c == ".":
            if part[i : i + 3] != _ELLIPSIS:
                raise ValueError(f"einsum: {where} of {subscripts!r} has a '.' that is not part of '...'")
            if _ELLIPSIS in out:
                raise ValueError(f"einsum: {where} of {subscripts!r} has '...' more than once")
            out.append(_ELLIPSIS)
            i += 3
        elif c in _LETTERS:
            out.append(c)
            i += 1
        else:
            raise ValueError(
                f"einsum: invalid character {c!r} in subscripts {subscripts!r}; "
                "indices are the letters a-z and A-Z, with '...', ',' and '->'"
            )
    return out


def _canonical(subscripts: str, shapes: Sequence[tuple[int, ...]]) -> tuple[tuple[str, ...], str]:
    """``subscripts`` for operands of ``shapes`` as (input subscripts, output subscripts) of
    :class:`Einsum`: '...' and the implicit output spelled out with letters, and an index of size 1
    that broadcasts against a larger size renamed apart (it is summed, a no-op). Raises a
    ValueError naming the subscripts and the shapes for anything NumPy would refuse."""
    listed = ", ".join(fmt_shape(s) for s in shapes)
    where = f"(subscripts {subscripts!r}, operand shapes {listed})"
    subs = subscripts.replace(" ", "")
    if subs.count("->") > 1:
        raise ValueError(f"einsum: subscripts {subscripts!r} have more than one '->'")
    lhs, arrow, rhs = subs.partition("->")
    parts = lhs.split(",")
    if len(parts) != len(shapes):
        raise ValueError(
            f"einsum: subscripts {subscripts!r} name {len(parts)} operand(s) but {len(shapes)} "
            f"were given (shapes {listed})"
        )
    ins = [_tokens(p, f"operand {k}", subscripts) for k, p in enumerate(parts)]
    ellipsis_shapes = []
    for k, (tok, shape) in enumerate(zip(ins, shapes, strict=True)):
        named = len(tok) - (_ELLIPSIS in tok)
        if _ELLIPSIS in tok and len(shape) >= named:
            start = tok.index(_ELLIPSIS)
            ellipsis_shapes.append(shape[start : start + len(shape) - named])
        elif len(shape) != named:
            raise ValueError(
                f"einsum: operand {k} has {len(shape)} dimension(s) (shape {fmt_shape(shape)}) but its "
                f"subscripts {parts[k]!r} name {named}{' or more' if _ELLIPSIS in tok else ''} {where}"
            )
    try:
        np.broadcast_shapes(*ellipsis_shapes)
    except ValueError:
        shown = ", ".join(fmt_shape(s) for s in ellipsis_shapes)
        raise ValueError(f"einsum: the dimensions under '...' ({shown}) do not broadcast {where}") from None
    n_ell = max((len(s) for s in ellipsis_shapes), default=0)
    counts = Counter(c for tok in ins for c in tok if c != _ELLIPSIS)
    if arrow:
        out = _tokens(rhs, "the output", subscripts)
        for c, n in Counter(out).items():
            if n > 1 and c != _ELLIPSIS:
                raise ValueError(f"einsum: the output names index {c!r} more than once {where}")
            if c != _ELLIPSIS and c not in counts:
                raise ValueError(f"einsum: the output index {c!r} appears in no operand {where}")
        if _ELLIPSIS not in out and n_ell:
            raise ValueError(
                f"einsum: the operands have {n_ell} dimension(s) under '...' but the output has no "
                f"'...' to keep them {where}"
            )
    else:  # implicit: '...' first, then the indices used once, in alphabetical order
        out = ([_ELLIPSIS] if any(_ELLIPSIS in tok for tok in ins) else []) + sorted(
            c for c, n in counts.items() if n == 1
        )
    free = iter(c for c in _LETTERS if c not in counts)
    spare = [next(free, None) for _ in range(n_ell)]
    if None in spare:
        raise ValueError(f"einsum: too many dimensions under '...' for the 52 index letters {where}")
    ell = "".join(spare)  # type: ignore[arg-type]

    def spell(tok: list[str], ndim: int) -> list[str]:
        """``tok`` with its '...' (standing for the last of the broadcast dimensions) spelled out."""
        under = ndim - (len(tok) - (_ELLIPSIS in tok))
        return list("".join(ell[n_ell - under :] if c == _ELLIPSIS else c for c in tok))

    letters = [spell(tok, len(shape)) for tok, shape in zip(ins, shapes, strict=True)]
    size: dict[str, int] = {}  # of each index, broadcast (a 1 gives way to any other size)
    for k, (lets, shape) in enumerate(zip(letters, shapes, strict=True)):
        mine: dict[str, int] = {}
        for c, d in zip(lets, shape, strict=True):
            if mine.setdefault(c, d) != d:
                raise ValueError(
                    f"einsum: operand {k} repeats index {c!r} over dimensions of sizes {mine[c]} and {d} "
                    f"(a diagonal needs equal sizes) {where}"
                )
            if c not in size or size[c] == 1:
                size[c] = d
            elif d not in (1, size[c]):
                raise ValueError(
                    f"einsum: index {c!r} has size {size[c]} in one operand and {d} in operand {k} {where}"
                )
    for k, (lets, shape) in enumerate(zip(letters, shapes, strict=True)):
        for c in set(lets):
            if size[c] != 1 and shape[lets.index(c)] == 1:  # broadcast: sum over its own index
                f = next(free, None)
                if f is None:
                    raise ValueError(f"einsum: too many indices for the 52 index letters {where}")
                letters[k] = [f if x == c else x for x in letters[k]]
    out_ndim = len(out) - (_ELLIPSIS in out) + n_ell
    return tuple("".join(lets) for lets in letters), "".join(spell(out, out_ndim))


def _from_sublists(args: tuple[Any, ...]) -> tuple[str, tuple[Any, ...]]:
    """NumPy's other form, ``einsum(x, [0, 1], y, [1, 2], [0, 2])``, as subscripts and operands."""

    def letters(sub: Any) -> str:
        try:
            labels = list(sub)
        except TypeError:
            raise TypeError(f"einsum: expected a list of index labels, got {describe(sub)}") from None
        out = []
        for v in labels:
            if v is Ellipsis:
                out.append(_ELLIPSIS)
            elif _is_int(v) and 0 <= v < len(_LETTERS):
                out.append(_LETTERS[v])
            else:
                raise ValueError(f"einsum: sublist labels are ints in [0, 52) or Ellipsis, got {describe(v)}")
        return "".join(out)

    operands, subs = args[0::2], [letters(s) for s in args[1::2]]
    if len(args) % 2:  # the last is the output
        return ",".join(subs[: len(operands) - 1]) + "->" + letters(operands[-1]), operands[:-1]
    return ",".join(subs), operands


def einsum(subscripts: Any, *operands: Any) -> Tensor:
    """Einstein summation over the operands, with NumPy's subscripts; see :class:`Einsum`.

    Everything ``numpy.einsum`` accepts: explicit (``'ij,jk->ik'``) or implicit (``'ij,jk'``:
    the indices used once, in alphabetical order) output, ``'...'`` for broadcast dimensions,
    repeated indices (``'ii->i'`` takes a diagonal, ``'ii'`` the trace), any number of operands,
    and the sublist form ``einsum(x, [0, 1], y, [1, 2], [0, 2])``.

    >>> einsum("ij,jk->ik", [[1.0, 2.0]], [[3.0], [4.0]])
    tensor([[11.]])
    >>> einsum("ii", [[1.0, 2.0], [3.0, 4.0]])
    tensor(5.)
    """
    if not isinstance(subscripts, str):
        subscripts, operands = _from_sublists((subscripts, *operands))
    if not operands:
        raise ValueError(f"einsum: subscripts {subscripts!r} were given no operands")
    ts = _as_tensors(tuple(operands))
    ins, out = _canonical(subscripts, [t.shape for t in ts])
    return Einsum.apply(*ts, ins=ins, out=out)


# --------------------------------------------------------------------------- #
# built on einsum: tensordot, dot, outer, trace
# --------------------------------------------------------------------------- #
def _axis_list(axes: Any, v: Any, ndim: int, which: str) -> list[int]:
    try:
        items = [v] if _is_int(v) else list(v)
    except TypeError:
        raise TypeError(
            f"tensordot: axes must be an int or a pair of sequences of axes, got {describe(axes)}"
        ) from None
    return [normalize_axis(a, ndim, f"tensordot (axes of {which})") for a in items]


def tensordot(a: Any, b: Any, axes: Any = 2) -> Tensor:
    """Sum of products over the given axes of ``a`` and ``b``, as ``numpy.tensordot``.

    ``axes`` is an int ``N`` (the last ``N`` axes of ``a`` with the first ``N`` of ``b``) or a
    pair of sequences (the axes of ``a``, then of ``b``, summed pairwise). The result has the
    remaining axes of ``a``, then those of ``b``. Built on :class:`Einsum`.

    >>> tensordot([[1.0, 2.0], [3.0, 4.0]], [[1.0, 0.0], [0.0, 1.0]])
    tensor(5.)
    """
    ta, tb = _as_tensors((a, b))
    na, nb = ta.ndim, tb.ndim
    if _is_int(axes):
        if not 0 <= axes <= min(na, nb):
            raise ValueError(
                f"tensordot: axes={axes} must be between 0 and the smaller number of dimensions "
                f"({min(na, nb)}), for shapes {fmt_shape(ta.shape)} and {fmt_shape(tb.shape)}"
            )
        ax_a, ax_b = list(range(na - axes, na)), list(range(axes))
    else:
        try:
            first, second = axes
        except (TypeError, ValueError):
            raise TypeError(
                f"tensordot: axes must be an int or a pair of sequences of axes, got {describe(axes)}"
            ) from None
        ax_a, ax_b = _axis_list(axes, first, na, "a"), _axis_list(axes, second, nb, "b")
        if len(ax_a) != len(ax_b):
            raise ValueError(f"tensordot: axes {axes!r} pair {len(ax_a)} axes of a with {len(ax_b)} of b")
        if len(set(ax_a)) != len(ax_a) or len(set(ax_b)) != len(ax_b):
            raise ValueError(f"tensordot: axes {axes!r} name an axis twice")
    for i, j in zip(ax_a, ax_b, strict=True):
        if ta.shape[i] != tb.shape[j]:
            raise ValueError(
                f"tensordot: axis {i} of a (size {ta.shape[i]}) and axis {j} of b (size {tb.shape[j]}) "
                f"differ, for shapes {fmt_shape(ta.shape)} and {fmt_shape(tb.shape)}"
            )
    if na + nb > len(_LETTERS):
        raise ValueError(f"tensordot: {na} + {nb} dimensions are more than 52")
    sa = _LETTERS[:na]
    new = iter(_LETTERS[na:])
    paired = dict(zip(ax_b, ax_a, strict=True))
    sb = "".join(sa[paired[j]] if j in paired else next(new) for j in range(nb))
    out = "".join(c for i, c in enumerate(sa) if i not in ax_a) + "".join(
        c for j, c in enumerate(sb) if j not in paired
    )
    return Einsum.apply(ta, tb, ins=(sa, sb), out=out)


def dot(a: Any, b: Any) -> Tensor:
    """Dot product with NumPy's meaning, as ``numpy.dot``.

    Two vectors: their inner product. Two matrices: the matrix product. ``a`` N-D and ``b`` 1-D:
    the sum over the last axis of ``a`` and ``b``. ``a`` N-D and ``b`` M-D (M >= 2): the sum
    over the last axis of ``a`` and the second-to-last of ``b`` (not matmul's broadcasting). A
    0-D operand multiplies. (``torch.dot`` takes only vectors.)

    >>> dot([1.0, 2.0, 3.0], [4.0, 5.0, 6.0])
    tensor(32.)
    """
    ta, tb = _as_tensors((a, b))
    if ta.ndim == 0 or tb.ndim == 0:
        return ta * tb
    j = 0 if tb.ndim == 1 else tb.ndim - 2
    if ta.shape[-1] != tb.shape[j]:
        raise ValueError(
            f"dot: shapes {fmt_shape(ta.shape)} and {fmt_shape(tb.shape)} are not aligned: "
            f"{ta.shape[-1]} (last dim of a) != {tb.shape[j]} "
            f"({'dim 0' if tb.ndim == 1 else 'second-to-last dim'} of b)"
        )
    return tensordot(ta, tb, axes=([ta.ndim - 1], [j]))


def outer(a: Any, b: Any) -> Tensor:
    """Outer product ``a_i * b_j`` of the flattened ``a`` and ``b``, as ``numpy.outer``.

    >>> outer([1.0, 2.0], [3.0, 4.0, 5.0])
    tensor([[ 3.,  4.,  5.],
            [ 6.,  8., 10.]])
    """
    ta, tb = _as_tensors((a, b))
    return Einsum.apply(ta.reshape(-1), tb.reshape(-1), ins=("i", "j"), out="ij")


def _offset(op: str, k: Any) -> int:
    if not _is_int(k):
        raise TypeError(f"{op}: the diagonal offset must be an int, got {describe(k)}")
    return int(k)


def trace(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    """Sum along a diagonal, as ``numpy.trace``: of the 2-D slices over ``axis1`` and ``axis2``
    (the result has the other axes), the ``offset``-th diagonal (above the main one for
    ``offset > 0``). Built on :class:`Einsum`.

    >>> trace([[1.0, 2.0], [3.0, 4.0]]), trace([[1.0, 2.0], [3.0, 4.0]], offset=1)
    (tensor(5.), tensor(2.))
    """
    (t,) = _as_tensors((x,))
    if t.ndim < 2:
        raise ValueError(f"trace: needs at least 2 dimensions, got shape {fmt_shape(t.shape)}")
    a1, a2 = normalize_axis(axis1, t.ndim, "trace"), normalize_axis(axis2, t.ndim, "trace")
    if a1 == a2:
        raise ValueError(f"trace: axis1={axis1} and axis2={axis2} are the same axis of shape {t.shape}")
    k = _offset("trace", offset)
    s1, s2 = max(-k, 0), max(k, 0)  # where the diagonal starts along axis1 and axis2
    m = max(0, min(t.shape[a1] - s1, t.shape[a2] - s2))
    if (s1, s2, m) != (0, 0, t.shape[a1]) or m != t.shape[a2]:
        index = [slice(None)] * t.ndim
        index[a1], index[a2] = slice(s1, s1 + m), slice(s2, s2 + m)
        t = t[tuple(index)]
    letters = list(_LETTERS[: t.ndim])
    letters[a2] = letters[a1]
    out = "".join(c for i, c in enumerate(letters) if i not in (a1, a2))
    return Einsum.apply(t, ins=("".join(letters),), out=out)


def diag(x: Any, k: int = 0) -> Tensor:
    """The ``k``-th diagonal of a matrix, or a matrix with a vector on its ``k``-th diagonal, as
    ``numpy.diag`` (``k > 0`` above the main diagonal, ``k < 0`` below).

    >>> diag([[1.0, 2.0], [3.0, 4.0]])
    tensor([1., 4.])
    >>> diag([1.0, 2.0], k=1)
    tensor([[0., 1., 0.],
            [0., 0., 2.],
            [0., 0., 0.]])
    """
    (t,) = _as_tensors((x,))
    k = _offset("diag", k)
    if t.ndim == 1:
        n = t.shape[0]
        i = np.arange(n)
        size = n + abs(k)
        return IndexAdd.apply(t, index=(i + max(-k, 0), i + max(k, 0)), shape=(size, size))
    if t.ndim == 2:
        r, c = t.shape
        m = max(0, min(r - max(-k, 0), c - max(k, 0)))
        i = np.arange(m)
        return t[i + max(-k, 0), i + max(k, 0)]
    raise ValueError(
        f"diag: needs a 1-D tensor (to make a matrix) or a 2-D one (to take a diagonal), got shape "
        f"{fmt_shape(t.shape)}"
    )


# --------------------------------------------------------------------------- #
# triangles
# --------------------------------------------------------------------------- #
class _Triangle(_BuiltinOp):
    """Shared by :class:`Tril` and :class:`Triu`."""

    _keep: Any = staticmethod(np.tril)

    def __init__(self, k: int) -> None:
        self.k = k

    def forward(self, x: np.ndarray) -> np.ndarray:
        return self._keep(x, self.k)  # type: ignore[no-any-return]

    def backward(self, gy: Any) -> Any:
        return type(self).apply(gy, k=self.k) if isinstance(gy, Tensor) else self._keep(gy, self.k)


class Tril(_Triangle):
    """The lower triangle of the last two axes: zeros above the ``k``-th diagonal.

    Forward:  y[..., i, j] = x[..., i, j] if j - i <= k else 0
    Backward: dL/dx = tril(dL/dy, k)
    """

    _keep = staticmethod(np.tril)


class Triu(_Triangle):
    """The upper triangle of the last two axes: zeros below the ``k``-th diagonal.

    Forward:  y[..., i, j] = x[..., i, j] if j - i >= k else 0
    Backward: dL/dx = triu(dL/dy, k)
    """

    _keep = staticmethod(np.triu)


def _triangle(op: type[_Triangle], x: Any, k: Any) -> Tensor:
    (t,) = _as_tensors((x,))
    if t.ndim < 2:  # NumPy would treat a vector as a matrix of n equal rows
        raise ValueError(f"{op.name}: needs at least 2 dimensions, got shape {fmt_shape(t.shape)}")
    return op.apply(t, k=_offset(op.name, k))


def tril(x: Any, k: int = 0) -> Tensor:
    """``x`` with the entries above its ``k``-th diagonal set to 0 (last two axes); see :class:`Tril`.

    >>> tril([[1.0, 2.0], [3.0, 4.0]])
    tensor([[1., 0.],
            [3., 4.]])
    """
    return _triangle(Tril, x, k)


def triu(x: Any, k: int = 0) -> Tensor:
    """``x`` with the entries below its ``k``-th diagonal set to 0 (last two axes); see :class:`Triu`.

    >>> triu([[1.0, 2.0], [3.0, 4.0]], k=1)
    tensor([[0., 2.],
            [0., 0.]])
    """
    return _triangle(Triu, x, k)
