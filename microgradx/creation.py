"""Functions that make new tensors: ``zeros``, ``ones``, ``full``, ``arange``, ``rand``, ...

They follow NumPy and PyTorch: a shape is given as ints or as one tuple
(``zeros(2, 3)`` and ``zeros((2, 3))`` are the same), ``dtype=`` picks the
data type, ``requires_grad=True`` makes a leaf that records operations (a
floating-point dtype only, as for :class:`~microgradx.Tensor`), and ``name=``
labels it. Floating-point results are float64 unless ``dtype=`` says
otherwise; ``arange`` and ``randint`` give integers for integer arguments, as
NumPy does.

The random ones (``rand``, ``randn``, ``randint`` and their ``*_like``) draw
from the package's generator (:func:`microgradx.random.default_rng`), so that
``mgx.manual_seed(n)`` makes them reproducible: the same seed gives the same
numbers.

These make tensors; they are not operations, and no gradient flows into their
arguments (a ``fill_value`` that requires grad is refused: write
``x * mgx.ones(shape)`` to broadcast a value with its gradient).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import random as _random
from .errors import describe, fmt_shape
from .tensor import Tensor

__all__ = [
    "arange",
    "empty",
    "empty_like",
    "eye",
    "full",
    "full_like",
    "linspace",
    "ones",
    "ones_like",
    "rand",
    "rand_like",
    "randint",
    "randn",
    "randn_like",
    "zeros",
    "zeros_like",
]

ShapeLike = int | Sequence[int]


def _is_int(v: Any) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))


def _shape(op: str, dims: tuple[Any, ...]) -> tuple[int, ...]:
    """``dims`` (ints, or one tuple/list of ints) as a shape, or an error naming ``op``."""
    if len(dims) == 0:
        raise TypeError(f"{op}: missing the shape; give ints or a tuple ({op}(()) makes a 0-d tensor)")
    if len(dims) == 1 and not _is_int(dims[0]):
        given = dims[0]
        if isinstance(given, (str, bytes)) or not isinstance(given, (Sequence, np.ndarray)):
            raise TypeError(f"{op}: the shape must be ints or a tuple of ints, got {describe(given)}")
        dims = tuple(given)
    for d in dims:
        if not _is_int(d):
            raise TypeError(f"{op}: the shape must be ints or a tuple of ints, got {describe(dims)}")
    shape = tuple(int(d) for d in dims)
    if any(d < 0 for d in shape):
        raise ValueError(f"{op}: negative size in shape {fmt_shape(shape)}; sizes must be >= 0")
    return shape


def _dtype(op: str, dtype: Any, default: Any) -> np.dtype:
    """``dtype`` (or ``default`` when None) as a NumPy dtype a Tensor can hold, or an error naming ``op``."""
    if dtype is None:
        return np.dtype(default)
    try:
        dt = np.dtype(dtype)
    except TypeError as e:
        raise TypeError(f"{op}: {describe(dtype)} is not a dtype ({e})") from e
    if dt.kind not in "biuf":
        raise TypeError(f"{op}: dtype {dt} is not supported; a Tensor holds bool, integer or float data")
    return dt


def _float_dtype(op: str, dtype: Any, default: Any = np.float64) -> np.dtype:
    """Like :func:`_dtype`, for functions whose values are floating point by nature."""
    dt = _dtype(op, dtype, default)
    if dt.kind != "f":
        raise TypeError(f"{op}: dtype must be floating point, got {dt}")
    return dt


def _make(op: str, arr: np.ndarray, requires_grad: bool, name: str | None) -> Tensor:
    """Wrap a freshly made array (not shared with anyone) as a leaf tensor."""
    if requires_grad and arr.dtype.kind != "f":
        raise TypeError(
            f"{op}: requires_grad=True needs a floating-point dtype; this tensor would be "
            f"{arr.dtype} (pass dtype=np.float64)"
        )
    t = Tensor._wrap(arr)
    if name is not None:
        t.name = name
    if requires_grad:
        t.requires_grad_(True)
    return t


def _fill(op: str, fill_value: Any, dtype: Any) -> tuple[np.ndarray, np.dtype]:
    """The fill value as a 0-d array converted to its dtype (inferred as NumPy does when None),
    refusing a value the dtype cannot hold: never silently 2 for 2.5 or inf for 1e40 in float32."""
    if isinstance(fill_value, Tensor):
        if fill_value.requires_grad:
            raise TypeError(
                f"{op}: fill_value is a Tensor that requires grad, and {op} is not differentiable; "
                "write x * mgx.ones(shape) (or F.broadcast_to(x, shape)) to keep its gradient"
            )
        fill_value = fill_value.data
    value = np.asarray(fill_value)
    if value.ndim != 0 or value.dtype.kind not in "biuf":
        raise TypeError(f"{op}: fill_value must be a single number, got {describe(fill_value)}")
    dt = _dtype(op, dtype, value.dtype)
    with np.errstate(all="ignore"):
        cast = value.astype(dt)
    if dt.kind in "biu" and cast != value:
        raise ValueError(f"{op}: fill_value {value.item()!r} cannot be stored exactly as {dt}")
    if dt.kind == "f" and np.isfinite(value) and not np.isfinite(cast):
        raise ValueError(f"{op}: fill_value {value.item()!r} overflows {dt}")
    return cast, dt


def _like(op: str, x: Any) -> tuple[tuple[int, ...], np.dtype]:
    """The shape and dtype of a Tensor, an array or anything NumPy makes an array of."""
    if isinstance(x, Tensor):
        return x.shape, x.dtype
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError) as e:
        raise TypeError(f"{op}: cannot take a shape and dtype from {describe(x)}: {e}") from e
    if arr.dtype.kind not in "biuf":
        raise TypeError(
            f"{op}: {describe(x)} has dtype {arr.dtype}; a Tensor holds bool, integer or float data"
        )
    return arr.shape, arr.dtype


# ---------------------------------------------------------------------- #
# constant tensors
# ---------------------------------------------------------------------- #
def zeros(*shape: Any, dtype: Any = None, requires_grad: bool = False, name: str | None = None) -> Tensor:
    """A tensor of zeros.

    Parameters
    ----------
    *shape : ints, or one tuple of ints
        ``zeros(2, 3)`` and ``zeros((2, 3))`` are the same; ``zeros(())`` is 0-d.
    dtype : numpy dtype, optional
        float64 when not given.
    requires_grad : bool
        Make a leaf that records operations (floating-point dtypes only).
    name : str, optional
        A label shown by ``repr`` and in graph pictures.

    Examples
    --------
    >>> zeros(2, 3).shape
    (2, 3)
    >>> zeros((2,), dtype=np.int64)
    tensor([0, 0])
    """
    dims = _shape("zeros", shape)
    return _make("zeros", np.zeros(dims, dtype=_dtype("zeros", dtype, np.float64)), requires_grad, name)


def ones(*shape: Any, dtype: Any = None, requires_grad: bool = False, name: str | None = None) -> Tensor:
    """A tensor of ones; the arguments are those of :func:`zeros`.

    >>> ones(2)
    tensor([1., 1.])
    """
    dims = _shape("ones", shape)
    return _make("ones", np.ones(dims, dtype=_dtype("ones", dtype, np.float64)), requires_grad, name)


def empty(*shape: Any, dtype: Any = None, requires_grad: bool = False, name: str | None = None) -> Tensor:
    """A tensor whose values are **uninitialised**: whatever the memory held (fast; write
    every element before reading one). The arguments are those of :func:`zeros`.

    >>> empty(2, 3).shape
    (2, 3)
    """
    dims = _shape("empty", shape)
    return _make("empty", np.empty(dims, dtype=_dtype("empty", dtype, np.float64)), requires_grad, name)


def full(
    shape: ShapeLike, fill_value: Any, dtype: Any = None, requires_grad: bool = False, name: str | None = None
) -> Tensor:
    """A tensor of ``shape`` filled with ``fill_value``.

    Parameters
    ----------
    shape : int or tuple of ints
    fill_value : number
        Its type gives the dtype when ``dtype`` is None, as in NumPy: a float
        gives float64, an int int64, a bool bool. A value the dtype cannot hold
        exactly (2.5 as an integer, 1e40 as float32) is a ``ValueError``.
    dtype, requires_grad, name
        As for :func:`zeros`.

    Examples
    --------
    >>> full((2, 2), 0.5)
    tensor([[0.5, 0.5],
            [0.5, 0.5]])
    >>> full(3, 7)
    tensor([7, 7, 7])
    """
    dims = _shape("full", (shape,))
    value, dt = _fill("full", fill_value, dtype)
    return _make("full", np.full(dims, value, dtype=dt), requires_grad, name)


def eye(
    n: int,
    m: int | None = None,
    k: int = 0,
    dtype: Any = None,
    requires_grad: bool = False,
    name: str | None = None,
) -> Tensor:
    """An ``n`` by ``m`` (default ``n``) matrix with ones on diagonal ``k`` (0: the main one,
    positive: above it, negative: below), zeros elsewhere, as ``numpy.eye``.

    >>> eye(2)
    tensor([[1., 0.],
            [0., 1.]])
    >>> eye(2, 3, k=1, dtype=np.int64)
    tensor([[0, 1, 0],
            [0, 0, 1]])
    """
    for label, v in (("n", n), ("m", m), ("k", k)):
        if v is not None and not _is_int(v):
            raise TypeError(f"eye: {label} must be an int, got {describe(v)}")
    if n < 0 or (m is not None and m < 0):
        raise ValueError(f"eye: sizes must be >= 0, got n={n}, m={m}")
    arr = np.eye(int(n), None if m is None else int(m), int(k), dtype=_dtype("eye", dtype, np.float64))
    return _make("eye", arr, requires_grad, name)


# ---------------------------------------------------------------------- #
# ranges
# ---------------------------------------------------------------------- #
def arange(
    start: Any,
    stop: Any = None,
    step: Any = 1,
    *,
    dtype: Any = None,
    requires_grad: bool = False,
    name: str | None = None,
) -> Tensor:
    """Evenly spaced values in ``[start, stop)``, as ``numpy.arange``: ``arange(stop)`` starts at 0.

    The dtype is int64 when every argument is an integer, float64 otherwise
    (as NumPy), unless ``dtype`` says. Values are computed in float64 and then
    converted; an integer ``dtype`` whose values would not be whole numbers is a
    ``ValueError`` (NumPy silently truncates the start and the step: ``[0, 0, 0, 0]`` for
    ``arange(0, 1, 0.3, dtype=int)``).

    >>> arange(4)
    tensor([0, 1, 2, 3])
    >>> arange(0, 1, 0.25)
    tensor([0.  , 0.25, 0.5 , 0.75])
    >>> arange(3, dtype=np.float32, requires_grad=True)
    tensor([0., 1., 2.], dtype=float32, requires_grad=True)
    """
    if stop is None:
        start, stop = 0, start
    for label, v in (("start", start), ("stop", stop), ("step", step)):
        if not _is_number(v):
            raise TypeError(f"arange: {label} must be a number, got {describe(v)}")
        if not math.isfinite(v):
            raise ValueError(f"arange: {label} must be finite, got {v}")
    if step == 0:
        raise ValueError("arange: step must not be zero")
    integral = all(_is_int(v) for v in (start, stop, step))
    dt = _dtype("arange", dtype, np.int64 if integral else np.float64)
    arr: np.ndarray
    if integral:
        arr = np.arange(int(start), int(stop), int(step), dtype=np.int64)
    else:
        arr = np.arange(float(start), float(stop), float(step), dtype=np.float64)
    return _make("arange", _exactly(f"arange({start}, {stop}, {step})", arr, dt), requires_grad, name)


def linspace(
    start: Any,
    stop: Any,
    num: int = 50,
    endpoint: bool = True,
    dtype: Any = None,
    requires_grad: bool = False,
    name: str | None = None,
) -> Tensor:
    """``num`` evenly spaced values from ``start`` to ``stop`` (included when ``endpoint``),
    as ``numpy.linspace``; float64 unless ``dtype`` says (an integer ``dtype`` needs values
    that are whole numbers: NumPy floors the others silently).

    >>> linspace(0, 1, 5)
    tensor([0.  , 0.25, 0.5 , 0.75, 1.  ])
    """
    for label, v in (("start", start), ("stop", stop)):
        if not _is_number(v):
            raise TypeError(f"linspace: {label} must be a number, got {describe(v)}")
        if not math.isfinite(v):
            raise ValueError(f"linspace: {label} must be finite, got {v}")
    if not _is_int(num):
        raise TypeError(f"linspace: num must be an int, got {describe(num)}")
    if num < 0:
        raise ValueError(f"linspace: num must be >= 0, got {num}")
    dt = _dtype("linspace", dtype, np.float64)
    arr = np.linspace(float(start), float(stop), int(num), endpoint=bool(endpoint), dtype=np.float64)
    return _make("linspace", _exactly("linspace", arr, dt), requires_grad, name)


def _exactly(op: str, arr: np.ndarray, dt: np.dtype) -> np.ndarray:
    """Float64 values converted to ``dt``; for an integer or bool ``dt`` they must convert exactly
    (NumPy and PyTorch truncate or floor silently)."""
    with np.errstate(all="ignore"):
        cast = arr.astype(dt)
    if dt.kind in "biu" and not np.array_equal(cast, arr):
        raise ValueError(
            f"{op}: dtype {dt} cannot hold these values exactly ({describe(arr.tolist())}); "
            "use a float dtype or arguments that give whole numbers"
        )
    return cast


# ---------------------------------------------------------------------- #
# random tensors (the package's generator: mgx.manual_seed makes them reproducible)
# ---------------------------------------------------------------------- #
def _uniform(dims: tuple[int, ...], dt: np.dtype) -> np.ndarray:
    if dt in (np.float32, np.float64):
        return _random.default_rng().random(dims, dtype=dt)
    # other float types (float16): draw float64, and keep the values below 1 after rounding
    below_one = np.nextafter(dt.type(1), dt.type(0))
    return np.minimum(_random.default_rng().random(dims).astype(dt), below_one)


def _normal(dims: tuple[int, ...], dt: np.dtype) -> np.ndarray:
    if dt in (np.float32, np.float64):
        return _random.default_rng().standard_normal(dims, dtype=dt)
    return _random.default_rng().standard_normal(dims).astype(dt)


def rand(*shape: Any, dtype: Any = None, requires_grad: bool = False, name: str | None = None) -> Tensor:
    """Samples from the uniform distribution on ``[0, 1)``, drawn from the package's generator
    (reseed it with ``mgx.manual_seed``); the arguments are those of :func:`zeros`, with a
    floating-point ``dtype``.

    >>> rand(2, 3).shape
    (2, 3)
    """
    dims = _shape("rand", shape)
    return _make("rand", _uniform(dims, _float_dtype("rand", dtype)), requires_grad, name)


def randn(*shape: Any, dtype: Any = None, requires_grad: bool = False, name: str | None = None) -> Tensor:
    """Samples from the standard normal distribution (mean 0, variance 1), drawn from the
    package's generator; the arguments are those of :func:`rand`.

    >>> randn(4, dtype=np.float32).dtype
    dtype('float32')
    """
    dims = _shape("randn", shape)
    return _make("randn", _normal(dims, _float_dtype("randn", dtype)), requires_grad, name)


def randint(
    low: int,
    high: Any = None,
    size: ShapeLike | None = None,
    *,
    dtype: Any = None,
    requires_grad: bool = False,
    name: str | None = None,
) -> Tensor:
    """Random integers in ``[low, high)``, uniformly, drawn from the package's generator.

    Both NumPy's and PyTorch's forms work: ``randint(10, size=(3,))`` and
    ``randint(0, 10, (3,))`` (NumPy), ``randint(10, (3,))`` (PyTorch: a tuple as the
    second argument is the size, and ``low`` is then the upper bound). With one
    bound it is ``[0, low)``. Without ``size`` the result is 0-d.

    Parameters
    ----------
    dtype : numpy dtype, optional
        int64 when not given. A float dtype gives whole numbers stored as floats
        (as in PyTorch), and may then require grad.

    Examples
    --------
    >>> randint(0, 10, (2, 3)).shape
    (2, 3)
    >>> randint(5, (4,)).dtype
    dtype('int64')
    """
    if size is None and isinstance(high, (tuple, list)):
        low, high, size = 0, low, high  # PyTorch's randint(high, size)
    if high is None:
        low, high = 0, low
    for label, v in (("low", low), ("high", high)):
        if not _is_int(v):
            raise TypeError(f"randint: {label} must be an int, got {describe(v)}")
    if low >= high:
        raise ValueError(f"randint: low must be less than high, got low={low}, high={high}")
    dims = () if size is None else _shape("randint", (size,))
    dt = _dtype("randint", dtype, np.int64)
    if dt.kind == "b" and (low < 0 or high > 2):
        raise ValueError(f"randint: [{low}, {high}) does not fit in bool; it holds 0 and 1")
    draw_as = dt if dt.kind in "iu" else np.dtype(np.int64)
    try:
        arr = _random.default_rng().integers(int(low), int(high), dims, dtype=draw_as)
    except ValueError as e:  # bounds outside the integer dtype
        raise ValueError(f"randint: [{low}, {high}) does not fit in {dt}: {e}") from e
    return _make("randint", np.asarray(arr).astype(dt), requires_grad, name)


# ---------------------------------------------------------------------- #
# *_like: the shape and dtype of another tensor (or array)
# ---------------------------------------------------------------------- #
def zeros_like(x: Any, dtype: Any = None, requires_grad: bool = False, name: str | None = None) -> Tensor:
    """Zeros with the shape and dtype of ``x`` (a Tensor or an array); ``dtype`` overrides the
    dtype. The result is a new leaf: it does not copy ``x``'s ``requires_grad``.

    >>> zeros_like(np.ones((2, 2), dtype=np.float32))
    tensor([[0., 0.],
            [0., 0.]], dtype=float32)
    """
    dims, xdt = _like("zeros_like", x)
    return _make("zeros_like", np.zeros(dims, dtype=_dtype("zeros_like", dtype, xdt)), requires_grad, name)


def ones_like(x: Any, dtype: Any = None, requires_grad: bool = False, name: str | None = None) -> Tensor:
    """Ones with the shape and dtype of ``x``; see :func:`zeros_like`.

    >>> ones_like(Tensor([1, 2]))
    tensor([1, 1])
    """
    dims, xdt = _like("ones_like", x)
    return _make("ones_like", np.ones(dims, dtype=_dtype("ones_like", dtype, xdt)), requires_grad, name)


def empty_like(x: Any, dtype: Any = None, requires_grad: bool = False, name: str | None = None) -> Tensor:
    """An **uninitialised** tensor with the shape and dtype of ``x``; see :func:`empty`.

    >>> empty_like(Tensor([1.0, 2.0])).shape
    (2,)
    """
    dims, xdt = _like("empty_like", x)
    return _make("empty_like", np.empty(dims, dtype=_dtype("empty_like", dtype, xdt)), requires_grad, name)


def full_like(
    x: Any, fill_value: Any, dtype: Any = None, requires_grad: bool = False, name: str | None = None
) -> Tensor:
    """``fill_value`` in the shape and dtype of ``x``; a value that dtype cannot hold exactly
    (2.5 for an integer ``x``) is a ``ValueError`` (NumPy and PyTorch silently truncate).

    >>> full_like(Tensor([1.0, 2.0]), 3)
    tensor([3., 3.])
    """
    dims, xdt = _like("full_like", x)
    value, dt = _fill("full_like", fill_value, xdt if dtype is None else dtype)
    return _make("full_like", np.full(dims, value, dtype=dt), requires_grad, name)


def rand_like(x: Any, dtype: Any = None, requires_grad: bool = False, name: str | None = None) -> Tensor:
    """Uniform samples on ``[0, 1)`` with the shape and dtype of ``x`` (a floating-point dtype,
    or ``dtype=`` given); see :func:`rand`.

    >>> rand_like(Tensor([[1.0, 2.0]])).shape
    (1, 2)
    """
    dims, xdt = _like("rand_like", x)
    dt = _float_dtype("rand_like", dtype, xdt) if dtype is not None else _like_float("rand_like", xdt)
    return _make("rand_like", _uniform(dims, dt), requires_grad, name)


def randn_like(x: Any, dtype: Any = None, requires_grad: bool = False, name: str | None = None) -> Tensor:
    """Standard normal samples with the shape and dtype of ``x``; see :func:`rand_like`.

    >>> randn_like(np.zeros(3, dtype=np.float32)).dtype
    dtype('float32')
    """
    dims, xdt = _like("randn_like", x)
    dt = _float_dtype("randn_like", dtype, xdt) if dtype is not None else _like_float("randn_like", xdt)
    return _make("randn_like", _normal(dims, dt), requires_grad, name)


def _like_float(op: str, dt: np.dtype) -> np.dtype:
    if dt.kind != "f":
        raise TypeError(
            f"{op}: x has dtype {dt}, and random samples need a floating-point dtype; "
            "pass dtype=np.float64 (or convert x first)"
        )
    return dt
