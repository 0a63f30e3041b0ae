"""Helpers and Hypothesis strategies for testing gradients, ours and our users' own ops.

``assert_gradients_match(fn, *arrays)`` is the one check every op of microgradx
passes: the reverse-mode gradient of ``sum(fn(*inputs) * g)`` for a random
upstream gradient ``g`` must equal the central-difference oracle
:func:`microgradx.numerical_gradient`. A random ``g`` (rather than all ones)
makes a backward that ignores its incoming gradient fail.

Hypothesis is needed only for the strategies (``tensors``,
``broadcastable_shapes``, ...); it is imported when they are first used, and
``pip install microgradx[testing]`` installs it.

Examples
--------
>>> import numpy as np
>>> import microgradx as mgx
>>> from microgradx.testing import assert_gradients_match
>>> class Cube(mgx.Function):
...     def forward(self, x):
...         return x ** 3
...     def backward(self, gy):
...         (x,) = self.inputs
...         return gy * 3 * x * x
>>> assert_gradients_match(Cube.apply, np.array([1.0, -2.0, 0.5]))
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .autograd import no_grad
from .debug import locate_wrong_backward
from .gradcheck import numerical_gradient
from .tensor import Tensor

__all__ = [
    "assert_gradients_match",
    "away_from",
    "broadcastable_shapes",
    "distinct_tensors",
    "locate_wrong_backward",
    "nonzero",
    "positive",
    "probabilities",
    "reals",
    "tensors",
]


def assert_gradients_match(
    fn: Callable[..., Tensor],
    *arrays: Any,
    grad_output: Any = None,
    rtol: float = 1e-5,
    atol: float = 1e-7,
    h: float = 1e-4,
    seed: int = 0,
) -> None:
    """Assert that reverse-mode gradients of ``fn`` equal the central-difference oracle.

    Parameters
    ----------
    fn : callable
        Maps Tensors (one per array) to a Tensor of any shape.
    *arrays : array_like
        The inputs. Float arrays are checked (as float64); integer arrays are
        passed through as constants (labels, indices).
    grad_output : array_like, optional
        The upstream gradient ``g``; random in [-2, 2] (seeded by ``seed``) by default.
    rtol, atol : float
        Tolerances of ``numpy.testing.assert_allclose``. With h = 1e-4 in float64
        the oracle's own error is about 1e-9 for smooth functions.

    Raises
    ------
    AssertionError
        Naming the input whose gradient differs, or saying that ``fn`` mutated an input.
    """
    xs = [np.array(a, dtype=np.float64 if np.asarray(a).dtype.kind == "f" else None) for a in arrays]
    leaves = [Tensor(x, requires_grad=x.dtype.kind == "f") for x in xs]
    # Tensor() copied each x: the leaves' .data is what fn receives, so that is what we watch.
    out = fn(*leaves)
    _assert_not_mutated(leaves, xs, "the forward pass")
    if grad_output is None:
        g = np.random.default_rng(seed).uniform(-2, 2, size=out.shape)
    else:
        g = np.broadcast_to(np.asarray(grad_output, dtype=np.float64), out.shape)
    if out.requires_grad:
        out.backward(g)
        _assert_not_mutated(leaves, xs, "the backward pass")

    for i, leaf in enumerate(leaves):
        if not leaf.requires_grad:
            continue

        def f(xi: np.ndarray, i: int = i) -> float:
            args = [Tensor(a) for a in xs]
            args[i] = Tensor(xi)
            with no_grad():
                return float(np.sum(fn(*args).data * g))

        expected = numerical_gradient(f, xs[i].copy(), h=h)
        actual = np.zeros_like(xs[i]) if leaf.grad is None else leaf.grad.data
        np.testing.assert_allclose(
            actual,
            expected,
            rtol=rtol,
            atol=atol,
            err_msg=f"gradient of input {i} (shape {xs[i].shape}) differs from numerical_gradient",
        )


def _assert_not_mutated(leaves: list[Tensor], originals: list[np.ndarray], when: str) -> None:
    """Raise AssertionError naming the first leaf whose data no longer equals its original."""
    for i, (leaf, x0) in enumerate(zip(leaves, originals, strict=True)):
        x = leaf.data
        if x.shape != x0.shape or x.dtype != x0.dtype or not np.array_equal(x, x0, equal_nan=True):
            raise AssertionError(
                f"fn mutated input {i} (shape {x0.shape}) during {when}: it was {_brief(x0)}, "
                f"now {_brief(x)}. An op must not write into its input arrays; compute into a new "
                "array (y = x * 2, not x *= 2), or copy first (x = x.copy())."
            )


def _brief(x: np.ndarray) -> str:
    """A one-line description of ``x``: its values when small, else its shape and dtype."""
    if x.size <= 6:
        return np.array2string(x, separator=", ").replace("\n", "")
    return f"an array of shape {x.shape}, dtype {x.dtype}"


# --------------------------------------------------------------------------- #
# Hypothesis strategies
# --------------------------------------------------------------------------- #
def _hypothesis() -> tuple[Any, Any]:
    """Hypothesis's ``strategies`` and ``extra.numpy``, or an error that says how to install it."""
    try:
        from hypothesis import strategies as st
        from hypothesis.extra import numpy as hnp
    except ImportError as e:
        raise ModuleNotFoundError(
            "microgradx.testing's strategies need Hypothesis, which is not installed: "
            "pip install microgradx[testing] (assert_gradients_match works without it)",
            name="hypothesis",
        ) from e
    return st, hnp


def tensors(
    shape: Any = None,
    dtype: Any = np.float64,
    elements: Any = None,
    min_dims: int = 0,
    max_dims: int = 3,
    max_side: int = 4,
) -> Any:
    """Strategy for float arrays (NumPy) to feed to an op under test.

    ``shape`` is a tuple or a strategy of shapes (default: 0 to 3 dimensions of
    1 to 4 elements); ``elements`` a strategy of values (default: floats in
    [-10, 10]).
    """
    st, hnp = _hypothesis()

    if shape is None:
        shape = hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=max_side)
    if elements is None:
        elements = st.floats(-10, 10, allow_nan=False, allow_infinity=False, width=64)
    return hnp.arrays(dtype, shape, elements=elements)


def broadcastable_shapes(num_shapes: int = 2, min_dims: int = 0, max_dims: int = 3, max_side: int = 4) -> Any:
    """Strategy for a tuple of ``num_shapes`` shapes that broadcast together (sides >= 1)."""
    _, hnp = _hypothesis()

    return hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes, min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=max_side
    ).map(lambda bs: bs.input_shapes)


# --------------------------------------------------------------------------- #
# value strategies for ops with restricted domains
# --------------------------------------------------------------------------- #
def reals(lo: float = -10.0, hi: float = 10.0) -> Any:
    """Finite floats in ``[lo, hi]``."""
    st, _ = _hypothesis()

    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def positive(lo: float = 0.1, hi: float = 10.0) -> Any:
    """Floats in ``[lo, hi]`` with ``lo > 0``: the domain of ``log``, ``sqrt`` and ``a ** b``."""
    if lo <= 0:
        raise ValueError(f"positive: lo must be > 0, got {lo}")
    return reals(lo, hi)


def nonzero(gap: float = 0.5, hi: float = 4.0) -> Any:
    """Floats with ``gap <= |x| <= hi``: safe denominators."""
    st, _ = _hypothesis()

    return st.one_of(reals(gap, hi), reals(-hi, -gap))


def probabilities(lo: float = 0.05, hi: float = 0.95) -> Any:
    """Floats inside ``(0, 1)``, away from the ends where log-losses blow up."""
    return reals(lo, hi)


def away_from(kinks: Any = (0.0,), lo: float = -10.0, hi: float = 10.0, gap: float = 1e-3) -> Any:
    """Floats in ``[lo, hi]`` at least ``gap`` from every kink (relu and abs at 0, clip bounds).

    With the oracle's step h = 1e-4 < gap, central differences never straddle a kink.
    """
    points = tuple(kinks)
    return reals(lo, hi).filter(lambda v: all(abs(v - p) >= gap for p in points))


def distinct_tensors(shape: Any = None, gap: float = 1e-3, lo: float = -10.0, hi: float = 10.0) -> Any:
    """Strategy for float64 arrays in ``[lo, hi]`` whose values are pairwise at least ``gap`` apart.

    For ``max`` / ``min`` / ``sort``: no ties, so central differences never
    straddle a switch of the argmax. The values are distinct by construction,
    not by filtering (which fails Hypothesis's health check on 2-D shapes):
    ``[lo, hi]`` is cut into ``n`` slots of width ``step = (hi - lo) / n``, a
    drawn permutation gives each element its own slot, and a drawn jitter in
    ``[0, 1]`` places it in the slot's first ``step - gap``, so neighbours
    stay ``gap`` apart. Shrinking leads to the identity permutation and zero
    jitter: ``lo, lo + step, lo + 2 step, ...`` in order.

    Parameters
    ----------
    shape : tuple or strategy of tuples, optional
        Default: the shapes of :func:`tensors` (0 to 3 dimensions of 1 to 4 elements).
    gap : float
        The least distance between any two values.
    lo, hi : float
        The range of the values.

    Raises
    ------
    ValueError
        When ``n`` values ``gap`` apart do not fit in ``[lo, hi]`` (``(hi - lo) / n < gap``):
        at once for a fixed shape, when drawn for a strategy of shapes.

    Examples
    --------
    >>> from hypothesis import find
    >>> find(distinct_tensors((2, 2), lo=0.0, hi=4.0), lambda a: True)
    array([[0., 1.],
           [2., 3.]])
    """
    st, hnp = _hypothesis()

    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ValueError(f"distinct_tensors: need finite lo < hi, got lo={lo}, hi={hi}")
    if not gap >= 0:
        raise ValueError(f"distinct_tensors: gap must be >= 0, got {gap}")
    if shape is None:
        shape = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)
    if isinstance(shape, st.SearchStrategy):
        return shape.flatmap(lambda s: _distinct_arrays(s, gap, lo, hi))
    return _distinct_arrays(shape, gap, lo, hi)


def _distinct_arrays(shape: Any, gap: float, lo: float, hi: float) -> Any:
    """:func:`distinct_tensors` for one fixed shape."""
    st, hnp = _hypothesis()

    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    n = int(np.prod(shape))
    if n == 0:
        return st.just(np.zeros(shape))
    step = (hi - lo) / n
    # lo + step * k + u * slack rounds by a few ulps; keep that much more than gap between slots.
    slack = step - gap - 16 * float(np.spacing(max(abs(lo), abs(hi), hi - lo)))
    if n > 1 and slack < 0:
        raise ValueError(
            f"distinct_tensors: shape {shape} has n={n} elements, which cannot be pairwise "
            f"gap={gap} apart in [lo, hi] = [{lo}, {hi}]: that needs (hi - lo) / n = {step:.6g} > gap. "
            "Use a smaller gap or shape, or a wider [lo, hi]."
        )
    slack = max(slack, 0.0)

    def build(perm: list[int], u: np.ndarray) -> np.ndarray:
        values = lo + step * np.asarray(perm, dtype=np.float64) + u * slack
        return np.minimum(values, hi).reshape(shape)  # never above hi, whatever the rounding

    return st.builds(
        build,
        st.permutations(range(n)),
        hnp.arrays(np.float64, n, elements=st.floats(0.0, 1.0)),
    )
