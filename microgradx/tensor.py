"""Tensor: an ndarray, its gradient, and the Function that made it.

Every operator and method here is explicit (no monkeypatching) and calls one
op from :mod:`microgradx.ops`, where its forward and derivative live side by
side.

In-place operations
-------------------
``+=, -=, *=, /=`` and ``t[idx] = v`` write into the tensor's memory (every view
of it sees the change) and bump its version counter, shared with those views.
While a graph is recorded they are recorded too, and the gradients stay right
even when the right-hand side reads the tensor being updated, or the tensor is a
slice or a view of another: see :mod:`microgradx.inplace`. On a leaf that
requires grad they are an error (use ``no_grad``, as optimizers do). Writing
into ``t.data`` directly is the explicit escape hatch: it bypasses all of this,
exactly like ``tensor.data`` in PyTorch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from . import _habits
from . import autograd as _autograd
from .autograd import Function
from .autograd import backward as _backward
from .errors import broadcast_error, describe, fmt_shape
from .hooks import RemovableHandle
from .hooks import register_tensor_hook as _register_hook

__all__ = ["Tensor", "tensor"]

_SCALARS = (int, float)


class Tensor:
    """A multi-dimensional array that records the operations applied to it.

    Parameters
    ----------
    data : scalar, nested list, numpy.ndarray or Tensor
        Copied. Float data keeps its dtype (Python floats give float64);
        integer and bool data are kept for labels and indices.
    requires_grad : bool
        Record operations on this tensor so that ``backward`` fills ``.grad``.
        Only floating-point tensors can require grad.
    dtype : numpy dtype, optional
        Convert the data to this dtype.
    name : str, optional
        A label shown by ``repr`` and in graph pictures.

    Examples
    --------
    >>> import microgradx as mgx
    >>> x = mgx.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> y = (x * x).sum()
    >>> y.backward()
    >>> x.grad
    tensor([2., 4., 6.])
    """

    # The fields every tensor sets live in slots; grad, name and _retains_grad are
    # class-level defaults that an instance overrides (in its __dict__, made on
    # first use), so an op's result costs four assignments.
    __slots__ = ("data", "_rg", "creator", "_vc", "__dict__", "__weakref__")

    # ndarray <op> Tensor calls Tensor's reflected operator through __array_ufunc__ (see
    # "creation and Tensor conveniences" below, with __array_function__ for np.sum(t) and the like)
    __hash__ = object.__hash__  # == is elementwise, identity stays hashable

    data: np.ndarray
    creator: Function | None
    _vc: list[int] | None  # version counter, shared with views; made on first use
    _grad: Tensor | None = None
    name: str | None = None
    _retains_grad: bool = False
    # set only on tensors that views or in-place updates touch (see microgradx.inplace):
    _view: tuple[Tensor, Function] | None = None  # (the tensor this is a view of, the op that made it)
    _hist: int = 0  # for a view: the version of its memory when its history was made
    _past: list[tuple[int, Function | None]] | None = None  # creators replaced by in-place updates

    def __init__(
        self,
        data: Any,
        requires_grad: bool = False,
        dtype: Any = None,
        name: str | None = None,
    ) -> None:
        if isinstance(data, Tensor):
            data = data.data
        try:
            arr = np.array(data, dtype=dtype, copy=True)
        except ValueError as e:
            raise ValueError(f"Tensor: cannot make an array of {describe(data)}: {e}") from e
        except TypeError as e:
            raise TypeError(f"Tensor: cannot make numeric data from {describe(data)}: {e}") from e
        if arr.dtype.kind not in "biuf":
            raise TypeError(
                f"Tensor: data must be numeric (bool, int or float); {describe(data)} gives dtype {arr.dtype}"
            )
        self.data = arr
        self._rg = False
        self.creator = None
        self._vc = None
        if name is not None:
            self.name = name
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _wrap(cls, data: np.ndarray) -> Tensor:
        """A new tensor around ``data`` (no copy, no checks): the engine's fast path."""
        t = object.__new__(cls)
        t.data = data
        t._rg = False
        t.creator = None
        t._vc = None
        return t

    @classmethod
    def _from_operand(cls, x: Any, ref: np.dtype | None) -> Tensor:
        """An operand as a constant tensor; a Python scalar adopts ``ref`` (the tensor's dtype)."""
        if ref is not None and (type(x) is float or type(x) is int):  # the common case, fast
            arr = np.array(x, dtype=ref)
        elif ref is not None and isinstance(x, _SCALARS) and not isinstance(x, bool):
            arr = np.array(x, dtype=ref)
        else:
            try:
                arr = np.asarray(x)
            except (TypeError, ValueError) as e:
                raise TypeError(f"cannot use {describe(x)} as a tensor operand: {e}") from e
            if arr.dtype.kind not in "biuf":
                raise TypeError(
                    f"cannot use {describe(x)} (dtype {arr.dtype}) as a tensor operand; it must be numeric"
                )
        return cls._wrap(arr)

    # ------------------------------------------------------------------ #
    # attributes
    # ------------------------------------------------------------------ #
    @property
    def requires_grad(self) -> bool:
        """Whether operations on this tensor are recorded for backward."""
        return self._current()._rg

    @requires_grad.setter
    def requires_grad(self, flag: bool) -> None:
        self.requires_grad_(flag)

    def requires_grad_(self, flag: bool = True) -> Tensor:
        """Set ``requires_grad`` in place and return ``self`` (float leaves only)."""
        flag = bool(flag)
        if flag and self.data.dtype.kind != "f":
            raise TypeError(
                f"requires_grad=True needs floating-point data; this tensor is {self.data.dtype}. "
                "Convert it first, e.g. Tensor(data, dtype=np.float64)"
            )
        if not flag and self.creator is not None:
            raise RuntimeError(
                "requires_grad_(False) on a non-leaf tensor; use .detach() to get a tensor outside the graph"
            )
        self._rg = flag
        return self

    @property
    def shape(self) -> tuple[int, ...]:
        try:
            return self.data.shape
        except AttributeError as e:  # a .data replaced by a list, say: say so
            _habits.raise_if_bad_data("Tensor.shape", [self], e)
            raise

    @property
    def ndim(self) -> int:
        try:
            return self.data.ndim
        except AttributeError as e:  # a .data replaced by a list, say: say so
            _habits.raise_if_bad_data("Tensor.ndim", [self], e)
            raise

    @property
    def size(self) -> int:
        try:
            return self.data.size
        except AttributeError as e:  # a .data replaced by a list, say: say so
            _habits.raise_if_bad_data("Tensor.size", [self], e)
            raise

    @property
    def dtype(self) -> np.dtype:
        try:
            return self.data.dtype
        except AttributeError as e:  # a .data replaced by a list, say: say so
            _habits.raise_if_bad_data("Tensor.dtype", [self], e)
            raise

    @property
    def grad(self) -> Tensor | None:
        """The accumulated gradient (a Tensor of this tensor's shape and dtype), or None."""
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(
                    f"grad must be a Tensor or None, got {describe(value)}; wrap an array: mgx.tensor(a)"
                )
            if value is self:
                raise ValueError("a tensor cannot be its own grad; assign a copy (t.clone().detach())")
            if value.data.shape != self.data.shape:
                raise ValueError(
                    f"cannot assign a grad of shape {fmt_shape(value.shape)} to a tensor of shape "
                    f"{fmt_shape(self.shape)}; they must be equal"
                )
            if value.data.dtype != self.data.dtype:
                raise TypeError(
                    f"cannot assign a grad of dtype {value.data.dtype} to a tensor of dtype "
                    f"{self.data.dtype}; convert it first (g.astype(...))"
                )
        self._grad = value

    @property
    def is_leaf(self) -> bool:
        """True for tensors made by the user (no creator), False for op results."""
        return self._current().creator is None

    @property
    def grad_fn(self) -> Function | None:
        """The Function that made this tensor (PyTorch's name for ``creator``)."""
        return self._current().creator

    def _current(self) -> Tensor:
        """This tensor, its history brought up to date if it is a view whose memory was written
        since (see :func:`microgradx.inplace.refresh`), so that its flags tell the truth."""
        if self._vc is not None and self._view is not None:
            _inplace.refresh(self)
        return self

    @property
    def T(self) -> Tensor:
        """The transpose: axes reversed, as ``ndarray.T``."""
        return _shape.transpose(self)

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

    def __iter__(self) -> Iterator[Tensor]:
        if self.data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(len(self.data)))

    def item(self) -> int | float | bool:
        """The single value as a Python number."""
        if self.data.size != 1:
            raise ValueError(
                f"item(): only a tensor with one element has an item; shape is {fmt_shape(self.shape)}"
            )
        return self.data.item()  # type: ignore[no-any-return]

    def numpy(self) -> np.ndarray:
        """The data as a NumPy array (the same memory, not a copy)."""
        return self.data

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        if dtype is not None and dtype != self.data.dtype:
            return self.data.astype(dtype)
        return self.data.copy() if copy else self.data

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __bool__(self) -> bool:
        return bool(self.data)

    def __repr__(self) -> str:
        if not isinstance(self.data, np.ndarray):  # a .data replaced by a list, say: say so
            _habits.raise_if_bad_data("repr(tensor)", [self], None)
        body = np.array2string(self.data, separator=", ", prefix="tensor(")
        extra = []
        if self.data.dtype not in (np.float64, np.int64, np.bool_):
            extra.append(f"dtype={self.data.dtype}")
        if self.name is not None:
            extra.append(f"name={self.name!r}")
        if self.creator is not None:
            extra.append(f"grad_fn=<{self.creator.name}>")
        elif self._rg:
            extra.append("requires_grad=True")
        return "tensor(" + ", ".join([body] + extra) + ")"

    # ------------------------------------------------------------------ #
    # graph control
    # ------------------------------------------------------------------ #
    def backward(self, grad: Any = None, retain_graph: bool = False, create_graph: bool = False) -> None:
        """Accumulate the gradient of this tensor into ``.grad`` of every leaf.

        Parameters
        ----------
        grad : array_like, optional
            d(something)/d(self), of this tensor's shape. Omit it only when the
            tensor has one element (it is then 1).
        retain_graph : bool
            Keep the graph so that backward can run through it again. Without
            it, each op frees its saved arrays as backward passes it, and a
            second backward raises a ``RuntimeError``.
        create_graph : bool
            Record the backward pass itself, so that the gradients can be
            differentiated again (implies ``retain_graph``).
        """
        _backward(self, grad, retain_graph=retain_graph, create_graph=create_graph)

    def detach(self) -> Tensor:
        """A new leaf that shares this tensor's data and is outside the graph."""
        t = Tensor._wrap(self.data)
        t._vc = self._counter()
        return t

    def clone(self) -> Tensor:
        """A copy of the data, recorded (the gradient flows back unchanged)."""
        return _arith.clone(self)

    def retain_grad(self) -> Tensor:
        """Keep ``.grad`` on this non-leaf tensor after backward (a leaf always does)."""
        if not self._current()._rg:
            raise RuntimeError("retain_grad() on a tensor that does not require grad")
        self._retains_grad = True
        return self

    @property
    def _version(self) -> int:
        """When the data was last modified in place (an epoch; 0 for never)."""
        return 0 if self._vc is None else self._vc[0]

    def _counter(self) -> list[int]:
        """The version counter (shared with views of the same memory), made on first use."""
        if self._vc is None:
            self._vc = [0]
        return self._vc

    # ------------------------------------------------------------------ #
    # arithmetic (NumPy broadcasting; scalars adopt this tensor's dtype)
    # ------------------------------------------------------------------ #
    def __add__(self, other: Any) -> Tensor:
        return _arith.Add.apply(self, self._operand(other))

    def __radd__(self, other: Any) -> Tensor:
        return _arith.Add.apply(self._operand(other), self)

    def __sub__(self, other: Any) -> Tensor:
        return _arith.Sub.apply(self, self._operand(other))

    def __rsub__(self, other: Any) -> Tensor:
        return _arith.Sub.apply(self._operand(other), self)

    def __mul__(self, other: Any) -> Tensor:
        return _arith.Mul.apply(self, self._operand(other))

    def __rmul__(self, other: Any) -> Tensor:
        return _arith.Mul.apply(self._operand(other), self)

    def __truediv__(self, other: Any) -> Tensor:
        return _arith.Div.apply(self, self._operand(other))

    def __rtruediv__(self, other: Any) -> Tensor:
        return _arith.Div.apply(self._operand(other), self)

    def __pow__(self, other: Any) -> Tensor:
        return _arith.power(self, other)

    def __rpow__(self, other: Any) -> Tensor:
        return _arith.power(other, self)

    def __matmul__(self, other: Any) -> Tensor:
        return _linalg.MatMul.apply(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return _linalg.MatMul.apply(other, self)

    def __neg__(self) -> Tensor:
        return _arith.Neg.apply(self)

    def __pos__(self) -> Tensor:
        return self

    def __abs__(self) -> Tensor:
        return _elem.Abs.apply(self)

    # comparisons: not differentiable, return bool tensors
    def _compare(self, other: Any, ufunc: np.ufunc, op: str) -> Tensor:
        o = other.data if isinstance(other, Tensor) else other
        try:
            return Tensor._wrap(np.asarray(ufunc(self.data, o)))
        except ValueError as e:
            raise broadcast_error(op, self.shape, np.shape(o)) from e

    def __lt__(self, other: Any) -> Tensor:
        return self._compare(other, np.less, "<")

    def __le__(self, other: Any) -> Tensor:
        return self._compare(other, np.less_equal, "<=")

    def __gt__(self, other: Any) -> Tensor:
        return self._compare(other, np.greater, ">")

    def __ge__(self, other: Any) -> Tensor:
        return self._compare(other, np.greater_equal, ">=")

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return self._compare(other, np.equal, "==")

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return self._compare(other, np.not_equal, "!=")

    # ------------------------------------------------------------------ #
    # in-place arithmetic and item assignment
    # ------------------------------------------------------------------ #
    def _inplace(self, op: type[Function], other: Any, ufunc: np.ufunc, sym: str) -> Tensor:
        o = other if isinstance(other, Tensor) else Tensor._from_operand(other, self._float_dtype())
        # * and / read their first input for the other's gradient, ** for both: keep the
        # value overwritten (+ and - read nothing)
        keep = op is _arith.Pow or (o._rg and op in (_arith.Mul, _arith.Div))

        def write(data: np.ndarray, od: np.ndarray) -> None:
            ufunc(data, od, out=data)

        _inplace.update(self, op, (o,), sym, write, keep_original=keep)
        return self

    def __iadd__(self, other: Any) -> Tensor:
        return self._inplace(_arith.Add, other, np.add, "+=")

    def __isub__(self, other: Any) -> Tensor:
        return self._inplace(_arith.Sub, other, np.subtract, "-=")

    def __imul__(self, other: Any) -> Tensor:
        return self._inplace(_arith.Mul, other, np.multiply, "*=")

    def __itruediv__(self, other: Any) -> Tensor:
        return self._inplace(_arith.Div, other, np.divide, "/=")

    def __ipow__(self, other: Any) -> Tensor:
        return self._inplace(_arith.Pow, other, np.power, "**=")

    def __imatmul__(self, other: Any) -> Tensor:
        raise TypeError(
            "@=: an in-place matrix product is not supported (the product generally has another "
            "shape, and its inputs are read while it is written); write x = x @ W"
        )

    def __setitem__(self, index: Any, value: Any) -> None:
        v = value if isinstance(value, Tensor) else Tensor._from_operand(value, self._float_dtype())
        index = _shape.normalize_index(index)

        def write(data: np.ndarray, vd: np.ndarray) -> None:
            _shape.assign(data, index, vd)

        _inplace.update(self, _shape.SetItem, (v,), "[]=", write, index=index)

    def _operand(self, other: Any) -> Tensor:
        """``other`` as a Tensor for a binary operator; a Python number adopts this tensor's float dtype."""
        if isinstance(other, Tensor):
            return other
        try:
            ref = self.data.dtype if self.data.dtype.kind == "f" else None
        except AttributeError as e:  # a .data replaced by a list, say
            _habits.raise_if_bad_data("an operator", [self], e)
            raise
        return Tensor._from_operand(other, ref)

    def _float_dtype(self) -> np.dtype | None:
        return self.data.dtype if self.data.dtype.kind == "f" else None

    # ------------------------------------------------------------------ #
    # indexing
    # ------------------------------------------------------------------ #
    def __getitem__(self, index: Any) -> Tensor:
        return _shape.GetItem.apply(self, index=_shape.normalize_index(index))

    # ------------------------------------------------------------------ #
    # methods (each calls one op; see microgradx.ops for the derivatives)
    # ------------------------------------------------------------------ #
    def sum(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """Sum over ``axis`` (all axes when None)."""
        return _reduce.sum(self, axis, keepdims)

    def mean(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """Mean over ``axis`` (all axes when None)."""
        return _reduce.mean(self, axis, keepdims)

    def max(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """Maximum over ``axis``; the gradient is shared equally among ties."""
        return _reduce.max(self, axis, keepdims)

    def min(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """Minimum over ``axis``; the gradient is shared equally among ties."""
        return _reduce.min(self, axis, keepdims)

    def argmax(self, axis: int | None = None) -> Tensor:
        """Indices of the maxima (not differentiable)."""
        return Tensor._wrap(np.asarray(np.argmax(self.data, axis=axis)))

    def reshape(self, *shape: Any) -> Tensor:
        """The same data in a new shape (``-1`` infers one dimension)."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return _shape.reshape(self, shape)

    def transpose(self, *axes: Any) -> Tensor:
        """Permute the axes, as NumPy's ``transpose`` (reverse them when none are given).

        ``t.transpose(0, 1)`` means different things in NumPy (the permutation
        (0, 1): a 2-D tensor unchanged) and in PyTorch (swap axes 0 and 1), so
        two separate axes that are not a permutation that swaps something are
        an error that says what to write: ``t.swapaxes(0, 1)`` swaps two axes,
        ``t.transpose((0, 1))`` is the explicit permutation.
        """
        if len(axes) == 2 and all(isinstance(a, (int, np.integer)) for a in axes):
            perm = tuple(int(a) % self.ndim if self.ndim and -self.ndim <= a < self.ndim else a for a in axes)
            if self.ndim != 2 or perm == (0, 1):
                raise ValueError(
                    f"transpose{tuple(axes)} on a {self.ndim}-D tensor is ambiguous: NumPy reads it as a "
                    f"permutation of all axes ({'the identity' if self.ndim == 2 else 'not one here'}), "
                    f"PyTorch as 'swap these two axes'. Write t.swapaxes({axes[0]}, {axes[1]}) to swap "
                    "them, or pass the permutation as one tuple: t.transpose((...))"
                )
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return _shape.transpose(self, axes or None)

    def flatten(self) -> Tensor:
        """The data as one dimension."""
        return _shape.reshape(self, (-1,))

    def broadcast_to(self, shape: tuple[int, ...]) -> Tensor:
        """Broadcast to ``shape`` (the gradient is summed back)."""
        return _shape.broadcast_to(self, shape)

    def astype(self, dtype: Any) -> Tensor:
        """Convert to another float dtype (the gradient is converted back)."""
        return _arith.astype(self, dtype)

    def matmul(self, other: Any) -> Tensor:
        return _linalg.MatMul.apply(self, other)

    def exp(self) -> Tensor:
        return _elem.Exp.apply(self)

    def log(self) -> Tensor:
        return _elem.Log.apply(self)

    def sqrt(self) -> Tensor:
        return _elem.Sqrt.apply(self)

    def abs(self) -> Tensor:
        return _elem.Abs.apply(self)

    def tanh(self) -> Tensor:
        return _elem.Tanh.apply(self)

    def sigmoid(self) -> Tensor:
        return _elem.Sigmoid.apply(self)

    def relu(self) -> Tensor:
        return _elem.ReLU.apply(self)

    def clip(self, lo: float | None = None, hi: float | None = None) -> Tensor:
        """Limit the values to ``[lo, hi]``; the gradient is 1 inside, 0 outside."""
        return _elem.clip(self, lo, hi)

    def softmax(self, axis: int = -1) -> Tensor:
        return _nn.softmax(self, axis)

    def log_softmax(self, axis: int = -1) -> Tensor:
        return _nn.log_softmax(self, axis)

    # ---- elementwise functions, activations and losses ----
    def sin(self) -> Tensor:
        return _elem.Sin.apply(self)

    def cos(self) -> Tensor:
        return _elem.Cos.apply(self)

    def tan(self) -> Tensor:
        return _elem.Tan.apply(self)

    def arcsin(self) -> Tensor:
        return _elem.Arcsin.apply(self)

    def arccos(self) -> Tensor:
        return _elem.Arccos.apply(self)

    def arctan(self) -> Tensor:
        return _elem.Arctan.apply(self)

    def sinh(self) -> Tensor:
        return _elem.Sinh.apply(self)

    def cosh(self) -> Tensor:
        return _elem.Cosh.apply(self)

    def log1p(self) -> Tensor:
        """``log(1 + x)``, accurate for tiny x."""
        return _elem.Log1p.apply(self)

    def expm1(self) -> Tensor:
        """``exp(x) - 1``, accurate for tiny x."""
        return _elem.Expm1.apply(self)

    def log2(self) -> Tensor:
        return _elem.Log2.apply(self)

    def log10(self) -> Tensor:
        return _elem.Log10.apply(self)

    def exp2(self) -> Tensor:
        """``2 ** x``."""
        return _elem.Exp2.apply(self)

    def square(self) -> Tensor:
        return _elem.Square.apply(self)

    def reciprocal(self) -> Tensor:
        """``1 / x``."""
        return _elem.Reciprocal.apply(self)

    def sign(self) -> Tensor:
        """-1, 0 or 1; the gradient is 0 everywhere."""
        return _elem.Sign.apply(self)

    def floor(self) -> Tensor:
        """The gradient is 0 everywhere."""
        return _elem.Floor.apply(self)

    def ceil(self) -> Tensor:
        """The gradient is 0 everywhere."""
        return _elem.Ceil.apply(self)

    def round(self, decimals: int = 0) -> Tensor:
        """Round to ``decimals`` places, halves to even; the gradient is 0 everywhere."""
        return _elem.round(self, decimals)

    def maximum(self, other: Any) -> Tensor:
        """Elementwise maximum with ``other``; ties split the gradient half and half."""
        return _elem.Maximum.apply(self, other)

    def minimum(self, other: Any) -> Tensor:
        """Elementwise minimum with ``other``; ties split the gradient half and half."""
        return _elem.Minimum.apply(self, other)

    def arctan2(self, other: Any) -> Tensor:
        """Angle of the point ``(other, self)``: ``self`` is y, ``other`` is x."""
        return _elem.Arctan2.apply(self, other)

    def hypot(self, other: Any) -> Tensor:
        """``sqrt(self**2 + other**2)``, without overflow."""
        return _elem.Hypot.apply(self, other)

    # ---- end of elementwise functions, activations and losses ----

    # ---- reductions and linear algebra ----
    def prod(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """Product over ``axis`` (all axes when None); the gradient is right with zeros too."""
        return _reduce.prod(self, axis, keepdims)

    def var(self, axis: Any = None, ddof: float = 0, keepdims: bool = False) -> Tensor:
        """Variance over ``axis`` with ``n - ddof`` degrees of freedom (``ddof=0`` as in NumPy;
        PyTorch's default is 1)."""
        return _reduce.var(self, axis, ddof, keepdims)

    def std(self, axis: Any = None, ddof: float = 0, keepdims: bool = False) -> Tensor:
        """Standard deviation over ``axis`` with ``n - ddof`` degrees of freedom (``ddof=0`` as in
        NumPy; PyTorch's default is 1)."""
        return _reduce.std(self, axis, ddof, keepdims)

    def logsumexp(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """``log(sum(exp(self)))`` over ``axis`` (all axes when None), without overflow."""
        return _reduce.logsumexp(self, axis, keepdims)

    def norm(self, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A002
        """Vector or matrix norm, as ``numpy.linalg.norm``; see :func:`~microgradx.functional.norm`."""
        return _reduce.norm(self, ord, axis, keepdims)

    def cumsum(self, axis: int | None = None) -> Tensor:
        """Cumulative sum along ``axis`` (of the flattened tensor when None, as in NumPy)."""
        return _reduce.cumsum(self, axis)

    def cumprod(self, axis: int | None = None) -> Tensor:
        """Cumulative product along ``axis`` (of the flattened tensor when None, as in NumPy)."""
        return _reduce.cumprod(self, axis)

    def argmin(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        """Indices of the minima (not differentiable)."""
        return _reduce.argmin(self, axis, keepdims)

    def any(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """Whether any element along ``axis`` is nonzero (a bool tensor, not differentiable)."""
        return _reduce.any(self, axis, keepdims)

    def all(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """Whether every element along ``axis`` is nonzero (a bool tensor, not differentiable)."""
        return _reduce.all(self, axis, keepdims)

    def trace(self, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
        """Sum along a diagonal, as ``numpy.trace``."""
        return _linalg.trace(self, offset, axis1, axis2)

    def diag(self, k: int = 0) -> Tensor:
        """The ``k``-th diagonal of a matrix, or a matrix with this vector on it, as ``numpy.diag``."""
        return _linalg.diag(self, k)

    def tril(self, k: int = 0) -> Tensor:
        """Zeros above the ``k``-th diagonal (last two axes)."""
        return _linalg.tril(self, k)

    def triu(self, k: int = 0) -> Tensor:
        """Zeros below the ``k``-th diagonal (last two axes)."""
        return _linalg.triu(self, k)

    def dot(self, other: Any) -> Tensor:
        """Dot product with NumPy's meaning (``torch.dot`` takes only vectors); see
        :func:`~microgradx.functional.dot`."""
        return _linalg.dot(self, other)

    def outer(self, other: Any) -> Tensor:
        """Outer product of the flattened tensors, as ``numpy.outer``."""
        return _linalg.outer(self, other)

    # ---- end of reductions and linear algebra ----

    # ---- shape and indexing ----
    def squeeze(self, axis: Any = None) -> Tensor:
        """Without its axes of size 1 (all when ``axis`` is None); a view. Naming an axis whose
        size is not 1 is an error, as in NumPy (PyTorch leaves it alone)."""
        return _shape.squeeze(self, axis)

    def unsqueeze(self, axis: int) -> Tensor:
        """With a new axis of size 1 at ``axis``; a view."""
        return _shape.unsqueeze(self, axis)

    def permute(self, *dims: Any) -> Tensor:
        """The axes in the order ``dims`` (``t.permute(2, 0, 1)`` or ``t.permute((2, 0, 1))``); a view."""
        return _shape.permute(self, *dims)

    def view(self, *shape: Any) -> Tensor:
        """The same data in a new shape: an alias of :meth:`reshape` (a copy where a view is impossible)."""
        return _shape.view(self, *shape)

    def swapaxes(self, axis1: int, axis2: int) -> Tensor:
        """The axes ``axis1`` and ``axis2`` exchanged; a view."""
        return _shape.swapaxes(self, axis1, axis2)

    def split(self, indices_or_sections: Any, axis: int = 0) -> list[Tensor]:
        """Views cut along ``axis`` with NumPy's meaning (an int is a number of equal sections, not
        PyTorch's piece size); see :func:`~microgradx.functional.split`."""
        return _shape.split(self, indices_or_sections, axis)

    def flip(self, axis: Any = None) -> Tensor:
        """The elements in reverse order along ``axis`` (None: every axis); a copy, as in PyTorch."""
        return _shape.flip(self, axis)

    def roll(self, shift: Any, axis: Any = None) -> Tensor:
        """The elements shifted cyclically by ``shift`` along ``axis`` (None: flattened)."""
        return _shape.roll(self, shift, axis)

    def repeat(self, repeats: Any, axis: int | None = None) -> Tensor:
        """Each element repeated, as ``numpy.repeat`` (PyTorch's ``Tensor.repeat`` is :meth:`tile`)."""
        return _shape.repeat(self, repeats, axis)

    def tile(self, reps: Any) -> Tensor:
        """The whole tensor repeated ``reps`` times per axis, as ``numpy.tile`` and ``torch.tile``."""
        return _shape.tile(self, reps)

    def gather(self, axis: int, index: Any) -> Tensor:
        """The elements at ``index`` along ``axis``, as ``torch.gather``."""
        return _shape.gather(self, axis, index)

    def scatter_add(self, axis: int, index: Any, src: Any) -> Tensor:
        """A copy with ``src`` added at ``index`` along ``axis``, as ``torch.scatter_add`` (not in place)."""
        return _shape.scatter_add(self, axis, index, src)

    # ---- end of shape and indexing ----

    # ---- notebook display ----
    def _repr_html_(self) -> str | None:
        """Jupyter's rich display: a summary table and the values (and the gradient, if any).

        Rows: shape, dtype, ``requires_grad``, ``grad_fn`` (the op that made the tensor,
        ``None`` for a leaf) and the name, if any. A 0-d tensor shows its value in the
        summary; a 1-D or 2-D one shows a value table, and ``.grad`` a second one. Like
        NumPy's repr of a large array, a long axis is cut, though sooner (more than 10
        items: the first 5, ``…``, the last 5) so that the table fits a notebook. Higher
        dimensions show NumPy's own text. User text (the name, an op's name) is escaped:
        it is shown, never interpreted as markup. ``None`` (Jupyter then shows ``repr``, which
        says what is wrong) when ``.data`` is no longer an ndarray.
        """
        from html import escape

        if not isinstance(self.data, np.ndarray):
            return None
        t = self._current()
        fn = t.creator
        rows = [("shape", fmt_shape(t.shape)), ("dtype", str(t.dtype))]
        rows += [("requires_grad", str(t.requires_grad)), ("grad_fn", "None" if fn is None else fn.name)]
        if t.name is not None:
            rows.append(("name", repr(t.name)))
        arrays = [("data", t.data)] + ([] if t._grad is None else [("grad", t._grad.data)])
        if t.data.ndim == 0:  # the value (and gradient) fit in the summary
            rows += [(title, Tensor._html_number(a[()])) for title, a in arrays]
            arrays = []
        summary = "".join(
            f'<tr><th style="text-align:left">{k}</th><td style="text-align:left"><code>{escape(v)}</code>'
            "</td></tr>"
            for k, v in rows
        )
        parts = [f"<table>{summary}</table>"]
        parts += [f"<div><b>{title}</b>{Tensor._html_values(a)}</div>" for title, a in arrays]
        return '<div style="display:flex;gap:1.5em;align-items:flex-start">' + "".join(parts) + "</div>"

    @staticmethod
    def _html_number(v: Any) -> str:
        """One element as NumPy prints it (its ``precision``), e.g. 0.21924763, 6.11110793e-10, 3.0"""
        from html import escape

        if not isinstance(v, np.floating) or not np.isfinite(v):
            return escape(str(v))
        p = np.get_printoptions()["precision"]
        if v == 0 or 1e-4 <= abs(v) < 1e8:
            return np.format_float_positional(v, precision=p, unique=True, trim="0")
        return np.format_float_scientific(v, precision=p, unique=True, trim="0")

    @staticmethod
    def _html_values(a: np.ndarray) -> str:
        """A value table for a 0-D, 1-D or 2-D array, each long axis cut to 5 … 5; NumPy's text otherwise."""
        from html import escape

        if a.ndim > 2:
            return f"<pre>{escape(np.array2string(a))}</pre>"

        def cut(n: int) -> list[int | None]:
            return list(range(n)) if n <= 10 else [*range(5), None, *range(n - 5, n)]

        def cell(i: int | None, j: int | None) -> str:
            return "…" if i is None or j is None else Tensor._html_number(m[i, j])

        m = np.atleast_2d(a)  # a 0-D or 1-D array is one row
        body = ""
        for i in cut(len(m)):
            cells = "".join(f'<td style="text-align:right">{cell(i, j)}</td>' for j in cut(m.shape[-1]))
            body += f"<tr>{cells}</tr>"
        return f"<table>{body}</table>"

    # ---- end of notebook display ----

    # ---- hooks ----
    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> RemovableHandle:
        """Call ``hook(grad)`` with this tensor's gradient in each backward pass (see microgradx.hooks).

        The hook gets the gradient once it is complete (summed over every use of the
        tensor), as a Tensor of this tensor's shape and dtype (with a graph under
        ``create_graph=True``). Returning a Tensor replaces the gradient; returning
        ``None`` keeps it; the hook must not modify its argument. On a leaf, hooks run
        before the gradient is added to ``.grad`` (once the pass has computed every
        gradient); on an intermediate result, before the gradient flows on (and before
        ``retain_grad`` stores it). Several hooks run in the order they were registered.
        As in PyTorch.

        Returns a handle whose ``.remove()`` unregisters the hook.

        >>> x = Tensor([1.0, -2.0], requires_grad=True)
        >>> h = x * 3
        >>> handle = h.register_hook(lambda g: print("dL/dh =", g))
        >>> (h * h).sum().backward()
        dL/dh = tensor([  6., -12.])
        >>> x.grad
        tensor([ 18., -36.])
        """
        return _register_hook(self, hook)

    # ---- end of hooks ----

    # ---- creation and Tensor conveniences ----
    def tolist(self) -> Any:
        """The data as (nested) Python lists of Python numbers; a 0-d tensor gives the number.

        >>> Tensor([[1.0, 2.0]]).tolist()
        [[1.0, 2.0]]
        """
        return self.data.tolist()

    def __format__(self, spec: str) -> str:
        """``f"{t:.3f}"`` formats the value of a one-element tensor, as a Python number.

        An empty spec gives ``str(t)`` (for a 0-d tensor: its value, as in PyTorch);
        a non-empty spec on a tensor of more than one element is a ``TypeError``.
        """
        if self.data.size == 1 and (spec or self.data.ndim == 0):
            return format(self.data.item(), spec)
        if not spec:
            return str(self)
        raise TypeError(
            f"format spec {spec!r} needs a one-element tensor; this one has shape {fmt_shape(self.shape)} "
            "(format its elements, e.g. [f'{v:.3f}' for v in t.tolist()])"
        )

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        """``np.sum(t)`` and other NumPy functions: microgradx's op of the same name (a Tensor with
        gradients), or a ``TypeError`` naming what to call; see :mod:`microgradx._numpy_interop`."""
        from . import _numpy_interop

        return _numpy_interop.array_function(func, types, args, kwargs)

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """``np.exp(t)``, ``ndarray * t`` and other ufuncs: the Tensor's operator or microgradx's op of
        the same name, or a ``TypeError`` naming what to call; see :mod:`microgradx._numpy_interop`."""
        from . import _numpy_interop

        return _numpy_interop.array_ufunc(ufunc, method, inputs, kwargs)

    # ---- end of creation and Tensor conveniences ----


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None, name: str | None = None) -> Tensor:
    """Make a :class:`Tensor` (same arguments).

    >>> tensor([[1, 2], [3, 4]]).dtype
    dtype('int64')
    """
    return Tensor(data, requires_grad=requires_grad, dtype=dtype, name=name)


_autograd._Tensor = Tensor  # the engine wraps op results in this class
_habits.accept_numpy_keywords_only(Tensor)  # x.sum(dim=0) answers "use axis=0" (methods taking axis)

from . import inplace as _inplace  # noqa: E402  (imports Tensor from here)
from .ops import arithmetic as _arith  # noqa: E402  (the ops import Tensor from here)
from .ops import elementwise as _elem  # noqa: E402
from .ops import linalg as _linalg  # noqa: E402
from .ops import nn as _nn  # noqa: E402
from .ops import reduce as _reduce  # noqa: E402
from .ops import shape as _shape  # noqa: E402

_autograd._inplace = _inplace  # the engine brings stale views up to date through it
