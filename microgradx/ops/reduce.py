"""Reductions over an axis, a tuple of axes, or everything: sum, mean, max, min, prod, var, std,
logsumexp, norm; cumulative sums and products; argmin, argmax, any and all (not differentiable).

Where a function is not differentiable at a point, the gradient there is the one PyTorch uses:
norm's is 0 at 0, std's is 0 where all values of the lane are equal, max and min (and so the
inf-norm) share it equally among ties.
"""

from __future__ import annotations

import builtins
import math
import warnings
from typing import Any

import numpy as np

from ..autograd import is_grad_enabled
from ..errors import describe, fmt_shape
from ..tensor import Tensor
from . import _BuiltinOp, _is_int, normalize_axes, normalize_axis
from .elementwise import Abs, _exp
from .shape import _broadcast_to, _where, concat, stack


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
        return x.sum(axis=self.axes, keepdims=self.keepdims)  # type: ignore[call-overload]  # (numpy 2.5's stubs)

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
        return x.mean(axis=self.axes, keepdims=self.keepdims)  # type: ignore[call-overload]  # (numpy 2.5)

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


# --------------------------------------------------------------------------- #
# products, moments, logsumexp and norms
# --------------------------------------------------------------------------- #
class Prod(_BuiltinOp):
    """Product over axes.

    Forward:  y = prod(x, axes)
    Backward: dL/dx_i = broadcast(dL/dy) * prod_{j != i} x_j   (the product of the other
              elements of the lane, as exclusive cumulative products from the left and from
              the right: no division by x_i, so zeros (one or several) give the right
              gradient, and it is differentiable again, also at zeros)
    """

    def __init__(self, axes: tuple[int, ...], keepdims: bool) -> None:
        self.axes, self.keepdims = axes, keepdims

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.prod(x, axis=self.axes, keepdims=self.keepdims)  # type: ignore[call-overload]  # (numpy 2.5)

    def backward(self, gy: Any) -> Any:
        x = self.input(0)
        if not self.keepdims:
            gy = gy.reshape(keepdims_shape(x.shape, self.axes))
        return gy * _product_of_others(x, self.axes)


def _product_of_others(x: Any, axes: tuple[int, ...]) -> Any:
    """``o`` shaped like ``x`` with ``o_i = prod_{j != i} x_j`` over each lane of ``axes``
    (an array, or a Tensor recorded for create_graph): the left exclusive cumulative product
    times the right one."""
    shape = x.shape
    rest = tuple(i for i in range(len(shape)) if i not in axes)
    n = int(np.prod([shape[a] for a in axes]))
    if n <= 1:  # nothing else in the lane (or an empty lane): the product of no values is 1
        return np.ones(shape, dtype=x.dtype)
    perm = rest + axes
    moved = tuple(shape[i] for i in perm)
    z = x.transpose(perm).reshape(moved[: len(rest)] + (n,))
    last = z.ndim - 1
    left = _exclusive_cumprod(z, last)
    right = _flip(_exclusive_cumprod(_flip(z, last), last), last)
    return (left * right).reshape(moved).transpose(tuple(int(i) for i in np.argsort(perm)))


def _exclusive_cumprod(z: Any, axis: int) -> Any:
    """``[1, z_0, z_0 z_1, ...]`` along ``axis`` (the product of the elements before each)."""
    head = np.ones(z.shape[:axis] + (1,) + z.shape[axis + 1 :], dtype=z.dtype)
    body = z[(slice(None),) * axis + (slice(None, -1),)]
    return _concat([head, _cumprod(body, axis)], axis)


def _reduced_shape(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(s for i, s in enumerate(shape) if i not in axes)


def _count(shape: tuple[int, ...], axes: tuple[int, ...]) -> int:
    return int(np.prod([shape[a] for a in axes]))


class _Moment(_BuiltinOp):
    """Shared by :class:`Var` and :class:`Std`: the variance with ``n - ddof`` degrees of freedom."""

    def __init__(self, axes: tuple[int, ...], ddof: float, keepdims: bool) -> None:
        self.axes, self.ddof, self.keepdims = axes, ddof, keepdims

    def _variance(self, x: np.ndarray) -> np.ndarray:
        n = _count(x.shape, self.axes)
        if n == 0:
            raise ValueError(
                f"{self.name}: the selection is empty (shape {fmt_shape(x.shape)}, axes {self.axes})"
            )
        dof = n - self.ddof
        if dof <= 0:
            warnings.warn(
                f"{self.name}: n - ddof = {n} - {self.ddof} <= 0 degrees of freedom; the result is inf "
                "or nan (as in NumPy and PyTorch)",
                RuntimeWarning,
                stacklevel=4,
            )
        # 2 / dof as in PyTorch's backward (inf for no degrees of freedom)
        self.scale = 2.0 / dof if dof > 0 else math.inf
        # float16/32 in float64: the mean of float32 values near its largest overflows (PyTorch's
        # does not), and so do the squares of their deviations
        wide = x.astype(np.float64) if x.dtype.itemsize < 8 else x
        d = wide - wide.mean(axis=self.axes, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return (d * d).sum(axis=self.axes, keepdims=self.keepdims) / builtins.max(dof, 0)  # type: ignore[call-overload]

    def _variance_grad(self, gvar: Any) -> Any:
        """dL/dx from dL/dvar (of the keepdims shape)."""
        x = self.input(0)
        return gvar * (x - x.mean(axis=self.axes, keepdims=True)) * self.scale


class Var(_Moment):
    """Variance over axes, with ``n - ddof`` degrees of freedom (n elements per lane; ddof=0 as in
    NumPy, where PyTorch's default is 1).

    Forward:  y = sum((x - mean(x))**2, axes) / (n - ddof)
    Backward: dL/dx = broadcast(dL/dy) * 2 (x - mean(x)) / (n - ddof)
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):
            return self._variance(x).astype(x.dtype, copy=False)

    def backward(self, gy: Any) -> Any:
        if not self.keepdims:
            gy = gy.reshape(keepdims_shape(self.inputs[0].shape, self.axes))  # type: ignore[index]
        return self._variance_grad(gy)


class Std(_Moment):
    """Standard deviation over axes, with ``n - ddof`` degrees of freedom (as :class:`Var`).

    Forward:  y = sqrt(var(x, axes, ddof))
    Backward: dL/dx = broadcast(dL/dy / (2 y)) * 2 (x - mean(x)) / (n - ddof),
              and 0 where y = 0 (all values of the lane equal), as in PyTorch
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):
            return np.sqrt(self._variance(x)).astype(x.dtype, copy=False)

    def backward(self, gy: Any) -> Any:
        kshape = keepdims_shape(self.inputs[0].shape, self.axes)  # type: ignore[index]
        y = self.result.reshape(kshape)
        zero = self.result_array.reshape(kshape) == 0
        gvar = _where(zero, 0.0, gy.reshape(kshape) / (_where(zero, 1.0, y) * 2))
        return self._variance_grad(gvar)


class LogSumExp(_BuiltinOp):
    """Logarithm of the sum of exponentials over axes, stable for any input.

    Forward:  y = m + log(sum(exp(x - m), axes)),  m = max(x, axes)  (m = 0 where the maximum is
              ±inf, as in PyTorch, so an all -inf lane gives -inf and an inf gives inf, never nan)
    Backward: dL/dx = broadcast(dL/dy) * exp(x - y)   (the softmax of the lane)
    """

    name = "logsumexp"

    def __init__(self, axes: tuple[int, ...], keepdims: bool) -> None:
        self.axes, self.keepdims = axes, keepdims

    def forward(self, x: np.ndarray) -> np.ndarray:
        m = np.max(x, axis=self.axes, keepdims=True, initial=-np.inf)
        m = np.where(np.isinf(m), 0, m).astype(m.dtype, copy=False)
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            y = np.log(np.exp(x - m).sum(axis=self.axes, keepdims=True)) + m
        return y if self.keepdims else y.reshape(_reduced_shape(x.shape, self.axes))

    def backward(self, gy: Any) -> Any:
        x = self.input(0)
        kshape = keepdims_shape(x.shape, self.axes)
        with np.errstate(invalid="ignore", over="ignore"):
            return gy.reshape(kshape) * _exp(x - self.result.reshape(kshape))


class Norm(_BuiltinOp):
    """Euclidean norm over axes: the vector 2-norm, or the Frobenius norm over two axes.

    Forward:  y = sqrt(sum(x**2, axes))
    Backward: dL/dx = broadcast(dL/dy / y) * x,  and 0 where y = 0 (the subgradient PyTorch
              uses at the kink)
    """

    def __init__(self, axes: tuple[int, ...], keepdims: bool) -> None:
        self.axes, self.keepdims = axes, keepdims

    def forward(self, x: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore", under="ignore"):
            return np.sqrt((x * x).sum(axis=self.axes, keepdims=self.keepdims))

    def backward(self, gy: Any) -> Any:
        x = self.input(0)
        kshape = keepdims_shape(x.shape, self.axes)
        zero = self.result_array.reshape(kshape) == 0
        y = _where(zero, 1.0, self.result.reshape(kshape))
        return _where(zero, 0.0, gy.reshape(kshape) / y) * x


# --------------------------------------------------------------------------- #
# cumulative sums and products
# --------------------------------------------------------------------------- #
class Cumsum(_BuiltinOp):
    """Cumulative sum along one axis.

    Forward:  y_i = sum_{j <= i} x_j
    Backward: dL/dx_i = sum_{j >= i} dL/dy_j   (a cumulative sum from the end)
    """

    def __init__(self, axis: int) -> None:
        self.axis = axis

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.cumsum(x, axis=self.axis)

    def backward(self, gy: Any) -> Any:
        return _flip(_cumsum(_flip(gy, self.axis), self.axis), self.axis)


class Cumprod(_BuiltinOp):
    """Cumulative product along one axis.

    Forward:  y_i = prod_{j <= i} x_j
    Backward: dL/dx_k = sum_{i >= k} dL/dy_i * prod_{j <= i, j != k} x_j. In a plain backward where
              no x is 0 and no |y| is below the smallest normal number, as PyTorch:
              (sum_{i >= k} dL/dy_i y_i) / x_k. Otherwise, and always with create_graph, without
              dividing (dividing loses the terms where y underflows to 0, and its derivatives
              cancel catastrophically for a tiny x_k): (prod_{j < k} x_j) * s_k with
              s_k = dL/dy_k + x_{k+1} s_{k+1}, O(n) per lane (in a plain backward 0 after a zero,
              also with an inf or nan before it, as PyTorch). So zeros, one or several, give the
              right gradient at every order.
    """

    def __init__(self, axis: int) -> None:
        self.axis = axis

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.cumprod(x, axis=self.axis)

    def backward(self, gy: Any) -> Any:
        axis = self.axis
        if not is_grad_enabled():  # a plain backward (arrays)
            x, y = self.input_array(0), self.result_array
            if not ((x == 0).any() or (np.abs(y) < np.finfo(y.dtype).tiny).any()):
                # (nan and inf, without zeros: divide, as PyTorch)
                with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                    return _flip(np.cumsum(_flip(gy * y, axis), axis), axis) / x
        return _cumprod_grad_by_recurrence(self.input(0), gy, axis)


def _cumprod_grad_by_recurrence(x: Any, g: Any, axis: int) -> Any:
    """The gradient of cumprod without dividing: ``dL/dx_k = (prod_{j < k} x_j) * s_k`` with
    ``s_k = g_k + x_{k+1} s_{k+1}`` (a loop along the axis, vectorised across the lanes), on
    arrays or on Tensors (recorded, so differentiable again)."""
    n = x.shape[axis]
    if n == 0:
        return g
    lead = (slice(None),) * axis
    acc = g[lead + (n - 1,)]
    s = [acc]
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(n - 2, -1, -1):
            acc = g[lead + (k,)] + x[lead + (k + 1,)] * acc
            s.append(acc)
        left = _exclusive_cumprod(x, axis)
        if not isinstance(left, Tensor):  # after a zero the product is 0, also with an inf or nan before it
            left = np.where(np.cumsum(x == 0, axis=axis) > (x == 0), 0, left)
        return left * _stack(s[::-1], axis)


def _flip(x: Any, axis: int) -> Any:
    """``x`` reversed along ``axis`` (an array or a Tensor: basic indexing, a view)."""
    return x[(slice(None),) * axis + (slice(None, None, -1),)]


def _cumsum(x: Any, axis: int) -> Any:
    """cumsum of an array (a plain backward) or of a Tensor (recorded, under create_graph)."""
    return Cumsum.apply(x, axis=axis) if isinstance(x, Tensor) else np.cumsum(x, axis=axis)


def _cumprod(x: Any, axis: int) -> Any:
    """cumprod of an array or of a Tensor (see :func:`_cumsum`)."""
    return Cumprod.apply(x, axis=axis) if isinstance(x, Tensor) else np.cumprod(x, axis=axis)


def _stack(seq: list[Any], axis: int) -> Any:
    """stack arrays, or record the stacking when one of them is a Tensor."""
    if builtins.any(isinstance(s, Tensor) for s in seq):
        return stack(seq, axis)
    return np.stack(seq, axis=axis)


def _concat(seq: list[Any], axis: int) -> Any:
    """concatenate arrays, or record the concatenation when one of them is a Tensor."""
    if builtins.any(isinstance(s, Tensor) for s in seq):
        return concat(seq, axis)
    return np.concatenate(seq, axis=axis)


# --------------------------------------------------------------------------- #
# the public functions
# --------------------------------------------------------------------------- #
def _tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor._from_operand(x, None)


def _float(x: Tensor) -> Tensor:
    """``x``, or its values as float64 when they are integers or booleans (NumPy's result dtype)."""
    return x if x.dtype.kind == "f" else Tensor._wrap(x.data.astype(np.float64))


def prod(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Product of ``x`` over ``axis`` (all axes when None); see :class:`Prod`.

    The gradient is the product of the other elements, right also where ``x`` has zeros.

    >>> import microgradx as mgx
    >>> x = mgx.tensor([2.0, 0.0, 3.0], requires_grad=True)
    >>> prod(x).backward()
    >>> x.grad
    tensor([0., 6., 0.])
    """
    x = _tensor(x)
    return Prod.apply(x, axes=normalize_axes(axis, x.ndim, "prod"), keepdims=keepdims)


def _ddof(op: str, ddof: Any) -> float:
    if isinstance(ddof, (bool, np.bool_)) or not isinstance(ddof, (int, float, np.integer, np.floating)):
        raise TypeError(f"{op}: ddof must be a number (0 for the population, 1 for the sample), got {ddof!r}")
    return ddof  # type: ignore[return-value]


def var(x: Any, axis: Any = None, ddof: float = 0, keepdims: bool = False) -> Tensor:
    """Variance of ``x`` over ``axis`` with ``n - ddof`` degrees of freedom; see :class:`Var`.

    ``ddof=0`` (the population variance) as in NumPy; PyTorch's default is the sample
    variance, ``ddof=1`` (its ``correction=1``).

    >>> var([1.0, 2.0, 3.0, 4.0]), var([1.0, 2.0, 3.0, 4.0], ddof=1)
    (tensor(1.25), tensor(1.66666667))
    """
    x = _float(_tensor(x))
    return Var.apply(x, axes=normalize_axes(axis, x.ndim, "var"), ddof=_ddof("var", ddof), keepdims=keepdims)


def std(x: Any, axis: Any = None, ddof: float = 0, keepdims: bool = False) -> Tensor:
    """Standard deviation of ``x`` over ``axis`` with ``n - ddof`` degrees of freedom; see :class:`Std`.

    ``ddof=0`` as in NumPy (PyTorch's default is ``correction=1``). The gradient is 0 where all
    values of a lane are equal (std = 0), as in PyTorch.

    >>> std([1.0, 3.0])
    tensor(1.)
    """
    x = _float(_tensor(x))
    return Std.apply(x, axes=normalize_axes(axis, x.ndim, "std"), ddof=_ddof("std", ddof), keepdims=keepdims)


def logsumexp(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """``log(sum(exp(x)))`` over ``axis`` (all axes when None), without overflow; see :class:`LogSumExp`.

    >>> logsumexp([1000.0, 1000.0])
    tensor(1000.69314718)
    """
    x = _float(_tensor(x))
    return LogSumExp.apply(x, axes=normalize_axes(axis, x.ndim, "logsumexp"), keepdims=keepdims)


_VECTOR_ORDS = "None, 1, 2, inf or -inf"
_MATRIX_ORDS = "None, 'fro', 1, -1, inf or -inf"


def _is_number(v: Any, *values: float) -> bool:
    return (
        isinstance(v, (int, float, np.integer, np.floating))
        and not isinstance(v, (bool, np.bool_))
        and builtins.any(v == w for w in values)
    )


def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A002
    """Vector or matrix norm of ``x``, with the meaning of ``numpy.linalg.norm``.

    Parameters
    ----------
    x : tensor
    ord : None, 1, 2, inf, -inf (vectors); None, 'fro', 1, -1, inf, -inf (matrices)
        Vectors: ``None`` and 2 give the Euclidean norm (:class:`Norm`), 1 the sum of absolute
        values, inf (-inf) the largest (smallest) absolute value. Matrices: ``None`` and
        ``'fro'`` give the Frobenius norm, 1 (-1) the largest (smallest) column sum of absolute
        values, inf (-inf) the largest (smallest) row sum. The spectral and nuclear norms (2, -2,
        'nuc') need singular values, which microgradx does not compute: they raise.
    axis : None, int, or a pair of ints
        An int (or a 1-tuple) takes vector norms along it; a pair takes matrix norms over those
        two axes. ``None``: with ``ord=None`` the Euclidean norm of all elements (the Frobenius
        norm of a matrix); with another ``ord``, ``x`` must be 1-D (a vector) or 2-D (a matrix).
    keepdims : bool
        Keep the reduced axes with size 1.

    Notes
    -----
    At the points where a norm is not differentiable the gradient is PyTorch's: 0 for the
    Euclidean norm at 0; ``sign(x)`` for the 1-norm (0 at 0); the inf-norm's shared equally
    among the elements that tie for the largest absolute value. The vector 1-, inf- and -inf-norms
    are sums, maxima and minima of ``abs(x)``: a NaN in a lane gives NaN gradients in that lane,
    where PyTorch's are 0 (as for ``abs``; see ``docs/edge_values.md``, note 1).

    Examples
    --------
    >>> norm([3.0, -4.0]), norm([3.0, -4.0], 1), norm([3.0, -4.0], float("inf"))
    (tensor(5.), tensor(7.), tensor(4.))
    >>> norm([[1.0, 2.0], [3.0, 4.0]], 1)
    tensor(6.)
    """
    x = _float(_tensor(x))
    ndim = x.ndim
    if axis is None:
        if ord is None:
            return Norm.apply(x, axes=tuple(range(ndim)), keepdims=keepdims)
        if ndim not in (1, 2):
            raise ValueError(
                f"norm: ord={ord!r} with axis=None needs a 1-D (vector) or 2-D (matrix) tensor, got "
                f"shape {fmt_shape(x.shape)}; give axis (an int for vectors, a pair for matrices)"
            )
        axes = tuple(range(ndim))
    elif _is_int(axis):
        axes = (normalize_axis(axis, ndim, "norm"),)
    else:
        try:
            given = tuple(axis)
        except TypeError:
            raise TypeError(f"norm: axis must be None, an int or a pair of ints, got {axis!r}") from None
        if len(given) not in (1, 2):
            raise ValueError(f"norm: axis must name 1 axis (vector norms) or 2 (matrix norms), got {axis!r}")
        axes = tuple(normalize_axis(a, ndim, "norm") for a in given)
        if len(axes) == 2 and axes[0] == axes[1]:
            raise ValueError(f"norm: axis {axis!r} names the same axis twice")
    if len(axes) == 1:
        return _vector_norm(x, ord, axes[0], keepdims)
    return _matrix_norm(x, ord, axes, keepdims)


def _vector_norm(x: Tensor, ord: Any, axis: int, keepdims: bool) -> Tensor:  # noqa: A002
    if ord is None or _is_number(ord, 2):
        return Norm.apply(x, axes=(axis,), keepdims=keepdims)
    if _is_number(ord, 1):
        return sum(Abs.apply(x), axis, keepdims)
    if _is_number(ord, math.inf):
        return max(Abs.apply(x), axis, keepdims)
    if _is_number(ord, -math.inf):
        return min(Abs.apply(x), axis, keepdims)
    raise ValueError(f"norm: ord={describe(ord)} is not supported for vectors; use {_VECTOR_ORDS}")


def _matrix_norm(x: Tensor, ord: Any, axes: tuple[int, ...], keepdims: bool) -> Tensor:  # noqa: A002
    row, col = axes
    if ord is None or (isinstance(ord, str) and ord == "fro"):
        return Norm.apply(x, axes=tuple(sorted(axes)), keepdims=keepdims)
    if _is_number(ord, 1, -1):  # the largest (smallest) column sum: sum down the rows first
        summed, pick = row, col
    elif _is_number(ord, math.inf, -math.inf):  # the largest (smallest) row sum
        summed, pick = col, row
    elif _is_number(ord, 2, -2) or (isinstance(ord, str) and ord == "nuc"):
        raise NotImplementedError(
            f"norm: ord={ord!r} for matrices (the spectral or nuclear norm) needs singular values, "
            f"which microgradx does not compute; use {_MATRIX_ORDS}"
        )
    else:
        raise ValueError(f"norm: ord={describe(ord)} is not supported for matrices; use {_MATRIX_ORDS}")
    extreme = max if ord > 0 else min
    y = extreme(sum(Abs.apply(x), summed, keepdims=True), pick, keepdims=True)
    return y if keepdims else y.reshape(_reduced_shape(x.shape, axes))


def cumsum(x: Any, axis: int | None = None) -> Tensor:
    """Cumulative sum of ``x`` along ``axis`` (of the flattened ``x`` when None, as in NumPy);
    see :class:`Cumsum`.

    >>> cumsum([[1.0, 2.0], [3.0, 4.0]], axis=1)
    tensor([[1., 3.],
            [3., 7.]])
    """
    x = _tensor(x)
    if axis is None:
        return Cumsum.apply(x.reshape(-1), axis=0)
    return Cumsum.apply(x, axis=normalize_axis(axis, x.ndim, "cumsum"))


def cumprod(x: Any, axis: int | None = None) -> Tensor:
    """Cumulative product of ``x`` along ``axis`` (of the flattened ``x`` when None, as in NumPy);
    see :class:`Cumprod`. The gradient is right where ``x`` has zeros.

    >>> cumprod([1.0, 2.0, 3.0])
    tensor([1., 2., 6.])
    """
    x = _tensor(x)
    if axis is None:
        return Cumprod.apply(x.reshape(-1), axis=0)
    return Cumprod.apply(x, axis=normalize_axis(axis, x.ndim, "cumprod"))


def _arg_extremum(op: str, x: Any, axis: int | None, keepdims: bool) -> Tensor:
    x = _tensor(x)
    if x.size == 0:
        raise ValueError(f"{op}: the tensor is empty (shape {fmt_shape(x.shape)})")
    if axis is not None:
        axis = normalize_axis(axis, x.ndim, op)
    if op == "argmin":
        i = np.argmin(x.data, axis=axis, keepdims=keepdims)  # type: ignore[call-overload]  # (numpy 2.5's stubs)
    else:
        i = np.argmax(x.data, axis=axis, keepdims=keepdims)  # type: ignore[call-overload]  # (numpy 2.5's stubs)
    return Tensor._wrap(np.asarray(i))


def argmin(x: Any, axis: int | None = None, keepdims: bool = False) -> Tensor:
    """Indices of the minima along ``axis`` (of the flattened ``x`` when None), as ``numpy.argmin``.

    An integer tensor, outside the graph (not differentiable).

    >>> argmin([[3.0, 1.0], [0.0, 5.0]], axis=1)
    tensor([1, 0])
    """
    return _arg_extremum("argmin", x, axis, keepdims)


def argmax(x: Any, axis: int | None = None, keepdims: bool = False) -> Tensor:
    """Indices of the maxima along ``axis`` (of the flattened ``x`` when None), as ``numpy.argmax``.

    An integer tensor, outside the graph (not differentiable).

    >>> argmax([[3.0, 1.0], [0.0, 5.0]])
    tensor(3)
    """
    return _arg_extremum("argmax", x, axis, keepdims)


def any(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Whether any element along ``axis`` is true (nonzero), as ``numpy.any``.

    A boolean tensor, outside the graph (not differentiable).

    >>> any([[0.0, 1.0], [0.0, 0.0]], axis=1)
    tensor([ True, False])
    """
    return _logical(np.any, "any", x, axis, keepdims)


def all(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Whether every element along ``axis`` is true (nonzero), as ``numpy.all``.

    A boolean tensor, outside the graph (not differentiable).

    >>> all([[1.0, 1.0], [0.0, 1.0]], axis=1)
    tensor([ True, False])
    """
    return _logical(np.all, "all", x, axis, keepdims)


def _logical(reduce: Any, op: str, x: Any, axis: Any, keepdims: bool) -> Tensor:
    x = _tensor(x)
    return Tensor._wrap(np.asarray(reduce(x.data, axis=normalize_axes(axis, x.ndim, op), keepdims=keepdims)))
