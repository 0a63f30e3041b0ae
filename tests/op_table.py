"""The table of every differentiable op: one Hypothesis strategy per public name.

Each strategy draws an :class:`Example`: the microgradx computation, its input
arrays (drawn inside the op's domain) and the same computation written with
PyTorch. ``tests/test_every_op.py`` walks this table against the
central-difference oracle and with ``gradcheck``; ``tests/test_torch_oracle.py``
walks it against PyTorch; and a completeness test fails when a public op of
``microgradx.functional``, a differentiable Tensor method or operator, or a
Function subclass of ``microgradx.ops`` is not covered here.

To add an op: add its entry below (public name -> strategy).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import microgradx as mgx
import microgradx.functional as F
from microgradx.testing import (
    away_from,
    broadcastable_shapes,
    distinct_tensors,
    nonzero,
    positive,
    probabilities,
    reals,
    tensors,
)
from tests.strategies import matmul_shapes

try:  # the second oracle, where it is installed
    import torch
    import torch.nn.functional as TF
except ImportError:  # pragma: no cover - depends on the environment
    torch = TF = None


@dataclass
class Example:
    """One drawn instance of an op: ``fn(*Tensors)``, its inputs, and the PyTorch twin."""

    fn: Callable[..., Any]
    arrays: tuple[np.ndarray, ...]
    torch: Callable[..., Any] | None
    atol: float = 1e-7  # the oracle's absolute tolerance (see the entries that raise it)


shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)
nd_shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)


def unary(fn: Callable[..., Any], twin: Callable[..., Any] | None, elements: Any = None, shape: Any = shapes):
    """An op of one tensor, drawn with values from ``elements``."""
    return st.builds(
        lambda x: Example(fn, (x,), twin),
        tensors(shape, elements=elements if elements is not None else reals()),
    )


@st.composite
def binary(draw, fn, twin, ea=None, eb=None):
    """An op of two tensors of broadcast-compatible shapes."""
    sa, sb = draw(broadcastable_shapes())
    a = draw(tensors(sa, elements=ea if ea is not None else reals()))
    b = draw(tensors(sb, elements=eb if eb is not None else reals()))
    return Example(fn, (a, b), twin)


@st.composite
def reduction(draw, name, functional=False):
    """sum / mean / max / min over a drawn axis (None, int or tuple), keepdims or not."""
    x = draw(distinct_tensors(shapes) if name in ("max", "min") else tensors(shapes))
    choices = [st.none()]
    if x.ndim:
        choices += [st.integers(-x.ndim, x.ndim - 1), hnp.valid_tuple_axes(x.ndim, min_size=1)]
    axis = draw(st.one_of(*choices))
    keepdims = draw(st.booleans())
    dims = tuple(range(x.ndim)) if axis is None else axis
    twin_name = {"max": "amax", "min": "amin"}.get(name, name)
    if functional:
        fn = lambda t: getattr(F, name)(t, axis=axis, keepdims=keepdims)  # noqa: E731
    else:
        fn = lambda t: getattr(t, name)(axis=axis, keepdims=keepdims)  # noqa: E731
    return Example(fn, (x,), lambda t: getattr(torch, twin_name)(t, dim=dims, keepdim=keepdims))


def _torch_sum_to(t, shape):
    lead = t.ndim - len(shape)
    if lead:
        t = t.sum(dim=tuple(range(lead)))
    axes = tuple(i for i, s in enumerate(shape) if s == 1 and t.shape[i] != 1)
    return t.sum(dim=axes, keepdim=True) if axes else t


# shapes where broadcasting really happens (an equal shape is a no-op that records no node)
real_broadcasts = broadcastable_shapes().filter(lambda ss: np.broadcast_shapes(*ss) != ss[0])


@st.composite
def broadcast_case(draw, method):
    small, big = draw(real_broadcasts)
    target = np.broadcast_shapes(small, big)
    x = draw(tensors(small))
    fn = (lambda t: t.broadcast_to(target)) if method else (lambda t: F.broadcast_to(t, target))
    return Example(fn, (x,), lambda t: t.broadcast_to(target))


@st.composite
def sum_to_case(draw):
    small, big = draw(real_broadcasts)
    target = np.broadcast_shapes(small, big)
    x = draw(tensors(target))
    return Example(lambda t: F.sum_to(t, small), (x,), lambda t: _torch_sum_to(t, small))


@st.composite
def reshape_case(draw, how):
    x = draw(tensors(nd_shapes))
    new = draw(st.sampled_from([(-1,), (x.size, 1), (1, -1), x.shape[::-1]]))
    fns = {
        "method": lambda t: t.reshape(*new),
        "functional": lambda t: F.reshape(t, new),
        "flatten": lambda t: t.flatten(),
    }
    return Example(
        fns[how], (x,), (lambda t: t.flatten()) if how == "flatten" else (lambda t: t.reshape(new))
    )


@st.composite
def transpose_case(draw, how):
    x = draw(tensors(nd_shapes))
    if how == "T":
        return Example(lambda t: t.T, (x,), lambda t: t.permute(*reversed(range(t.ndim))))
    axes = tuple(draw(st.permutations(range(x.ndim))))
    # t.transpose(0, 1) on a 2-D tensor is refused as ambiguous (NumPy: identity, PyTorch: swap)
    spread = axes if axes != (0, 1) else (axes,)
    fn = (lambda t: t.transpose(*spread)) if how == "method" else (lambda t: F.transpose(t, axes))
    return Example(fn, (x,), lambda t: t.permute(*axes))


@st.composite
def axis_case(draw, fn_of_axis, twin_of_axis):
    x = draw(tensors(nd_shapes))
    axis = draw(st.integers(-x.ndim, x.ndim - 1))
    return Example(lambda t: fn_of_axis(t, axis), (x,), lambda t: twin_of_axis(t, axis))


def _torch_index(index):
    parts = index if isinstance(index, tuple) else (index,)
    if any(isinstance(p, slice) and p.step is not None and p.step < 0 for p in parts):
        return None  # PyTorch has no negative steps
    conv = tuple(torch.from_numpy(p) if isinstance(p, np.ndarray) else p for p in parts)
    return conv if isinstance(index, tuple) else conv[0]


@st.composite
def getitem_case(draw):
    x = draw(tensors(nd_shapes))
    kind = draw(st.sampled_from(["basic", "integer", "mask"]))
    if kind == "basic":
        index = draw(hnp.basic_indices(x.shape, allow_newaxis=True, allow_ellipsis=True))
    elif kind == "integer":
        index = draw(hnp.integer_array_indices(x.shape, result_shape=hnp.array_shapes(max_dims=2)))
    else:
        index = draw(hnp.arrays(np.bool_, x.shape))
    tindex = _torch_index(index) if torch is not None else None
    twin = None if tindex is None else (lambda t: t[tindex])
    return Example(lambda t: t[index], (x,), twin)


@st.composite
def setitem_case(draw):
    x = draw(tensors(nd_shapes))
    index = draw(hnp.basic_indices(x.shape, min_dims=0))
    v = draw(tensors(x[index].shape))

    def assign(a, b, index=index):
        out = a * 1.0  # a non-leaf copy: assigning into a leaf that requires grad is an error
        out[index] = b * 2.0
        return out

    tindex = _torch_index(index) if torch is not None else None
    return Example(assign, (x, v), None if tindex is None else (lambda a, b: assign(a, b, tindex)))


@st.composite
def inplace_case(draw, sym):
    """An in-place update of a non-leaf, directly or through a view of it (written back)."""
    small, big = draw(broadcastable_shapes())
    if sym == "**=":  # a positive base, so that any exponent is defined
        a = draw(tensors(np.broadcast_shapes(small, big), elements=positive(0.5, 3.0)))
        b = draw(tensors(small, elements=reals(-2, 2)))
    else:
        a = draw(tensors(np.broadcast_shapes(small, big)))
        b = draw(tensors(small, elements=nonzero() if sym == "/=" else reals()))
    through = draw(st.sampled_from(["a slice", "itself", "a reshape"]))  # a view first: the
    # one-example coverage test then sees ViewWrite

    def update(x, y):
        out = x * 1.0  # in-place on a non-leaf is recorded, as in PyTorch
        target = {"itself": out, "a slice": out[...], "a reshape": out.reshape(out.shape)}[through]
        if sym == "+=":
            target += y
        elif sym == "-=":
            target -= y
        elif sym == "*=":
            target *= y
        elif sym == "**=":
            target **= y
        else:
            target /= y
        return out  # the base: updated through its view

    return Example(update, (a, b), update)


@st.composite
def pow_case(draw, how):
    """x ** c (a constant exponent) + x ** y (a tensor exponent), x > 0: both kinds in every draw."""
    c = draw(st.sampled_from([2, 3, -1, 0.5, 1.5, 0]))
    sa, sb = draw(broadcastable_shapes())
    x = draw(tensors(sa, elements=positive(0.5, 3.0)))
    y = draw(tensors(sb, elements=reals(-2, 2)))
    power = F.power if how == "functional" else (lambda a, b: a**b)
    return Example(lambda a, b: power(a, c) + power(a, b), (x, y), lambda a, b: a**c + a**b)


@st.composite
def matmul_case(draw, how):
    sa, sb = draw(matmul_shapes())
    a, b = draw(tensors(sa)), draw(tensors(sb))
    if how == "rmatmul":  # ndarray @ Tensor
        return Example(lambda y: a @ y, (b,), lambda y: torch.from_numpy(a) @ y)
    fn = {"op": lambda x, y: x @ y, "method": lambda x, y: x.matmul(y), "functional": F.matmul}[how]
    return Example(fn, (a, b), lambda x, y: x @ y)


@st.composite
def linear_case(draw):
    n, i, o = (draw(st.integers(1, 4)) for _ in range(3))
    x, W, b = draw(tensors((n, i))), draw(tensors((i, o))), draw(tensors((o,)))
    return Example(F.linear, (x, W, b), lambda x, W, b: x @ W + b)


@st.composite
def join_case(draw, how):
    base = draw(nd_shapes)
    count = draw(st.integers(1, 3))
    if how == "stack":
        axis = draw(st.integers(-len(base) - 1, len(base)))
        parts = tuple(draw(tensors(base)) for _ in range(count))
        return Example(lambda *ts: F.stack(ts, axis=axis), parts, lambda *ts: torch.stack(ts, dim=axis))
    axis = draw(st.integers(-len(base), len(base) - 1))
    parts = []
    for _ in range(count):
        shape = list(base)
        shape[axis] = draw(st.integers(1, 3))
        parts.append(draw(tensors(tuple(shape))))
    return Example(lambda *ts: F.concat(ts, axis=axis), tuple(parts), lambda *ts: torch.cat(ts, dim=axis))


@st.composite
def where_case(draw):
    sc, sa, sb = draw(broadcastable_shapes(num_shapes=3))
    cond = draw(hnp.arrays(np.bool_, sc))
    a, b = draw(tensors(sa)), draw(tensors(sb))
    return Example(
        lambda x, y: F.where(cond, x, y), (a, b), lambda x, y: torch.where(torch.from_numpy(cond), x, y)
    )


@st.composite
def classification_case(draw, loss):
    n, c = draw(st.integers(1, 4)), draw(st.integers(2, 5))
    reduction = draw(st.sampled_from(["mean", "sum", "none"]))
    if draw(st.booleans()):
        target = draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, c - 1)))
    else:
        w = draw(tensors((n, c), elements=reals(0.1, 1.0)))
        target = w / w.sum(axis=1, keepdims=True)
    if loss == "cross_entropy":
        x = draw(tensors((n, c), elements=reals(-5, 5)))
        return Example(
            lambda a, t: F.cross_entropy(a, t, reduction=reduction),
            (x, target),
            lambda a, t: TF.cross_entropy(a, t, reduction=reduction),
        )
    # probability rows, as softmax gives, with y >= 0.2 / (0.2 + 4) = 0.048: the oracle's relative
    # truncation error for log y is h**2 / (3 y**2) <= 1.5e-6, inside rtol=1e-5
    w = draw(tensors((n, c), elements=reals(0.2, 1.0)))
    y = w / w.sum(axis=1, keepdims=True)
    if target.dtype.kind == "i":
        return Example(
            F.cross_entropy_error,
            (y, target),
            lambda a, t: -torch.log(a[torch.arange(n), t] + 1e-7).sum() / n,
        )
    return Example(F.cross_entropy_error, (y, target), lambda a, t: -(t * torch.log(a + 1e-7)).sum() / n)


@st.composite
def regression_case(draw, loss):
    y = draw(tensors(shapes))
    t = draw(tensors(y.shape))
    if loss == "mean_squared_error":
        return Example(F.mean_squared_error, (y, t), lambda a, b: 0.5 * ((a - b) ** 2).sum())
    reduction = draw(st.sampled_from(["mean", "sum", "none"]))
    return Example(
        lambda a, b: F.mse_loss(a, b, reduction=reduction),
        (y, t),
        lambda a, b: TF.mse_loss(a, b, reduction=reduction),
    )


@st.composite
def bce_case(draw):
    p = draw(tensors(shapes, elements=probabilities(0.2, 0.8)))
    t = draw(tensors(p.shape, elements=reals(0.001, 0.999)))  # the oracle's t +- h stays in [0, 1]
    # The oracle's truncation error h**2 / 6 * |f'''| * |g| is up to ~8e-7 for p in [0.2, 0.8]
    # (|f'''| <= 2 / 0.2**3 = 250, |g| <= 2), hence atol=1e-6.
    return Example(F.binary_cross_entropy, (p, t), TF.binary_cross_entropy if TF else None, atol=1e-6)


# ---- elementwise functions, activations and losses (strategies) ----
#: for maximum and minimum: a on a grid 0.02 apart, b on the same grid shifted by 0.01, so that
#: a and b are never closer than 0.01 (at a tie the gradient jumps, and the second-order checks
#: would straddle the jump; tests/ops/test_elementwise.py checks the ties against PyTorch)
ticks = st.integers(-500, 500).map(lambda k: k / 50)
ticks_between = st.integers(-500, 499).map(lambda k: k / 50 + 0.01)
INTEGERS = tuple(float(k) for k in range(-10, 11))  # where floor and ceil jump
TENTHS_HALVES = tuple((k + 0.5) / 10 for k in range(-101, 101))  # where round(x, 1) jumps
HALVES = tuple(k + 0.5 for k in range(-11, 11))  # where round(x) jumps
SOFTPLUS = {"beta": 2.0, "threshold": 5.0}  # linear above x = 2.5 (a jump of 3e-3 there)


def _both_gelus(gelu, stack):
    """The exact and the tanh form stacked: every check (and the edge values) sees both."""
    return lambda t: stack([gelu(t), gelu(t, approximate="tanh")])


@st.composite
def nll_case(draw):
    n, c = draw(st.integers(1, 4)), draw(st.integers(2, 5))
    reduction = draw(st.sampled_from(["mean", "sum", "none"]))
    x = draw(tensors((n, c), elements=reals(-5, 0)))
    target = draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, c - 1)))
    return Example(
        lambda a, t: F.nll_loss(a, t, reduction=reduction),
        (x, target),
        lambda a, t: TF.nll_loss(a, t, reduction=reduction),
    )


@st.composite
def pointwise_loss_case(draw, name, kinks, **params):
    """l1 / huber / smooth l1 of y and t = y - d, with d at least 1e-3 from the kinks (of the
    loss for l1, of its derivative for huber and smooth l1: the second-order checks)."""
    y = draw(tensors(shapes))
    d = draw(tensors(y.shape, elements=away_from(kinks)))
    reduction = draw(st.sampled_from(["mean", "sum", "none"]))
    return Example(
        lambda a, b: getattr(F, name)(a, b, reduction=reduction, **params),
        (y, y - d),
        lambda a, b: getattr(TF, name)(a, b, reduction=reduction, **params),
    )


def _torch_kl_div(a, b, reduction, log_target):
    import warnings

    with warnings.catch_warnings():  # PyTorch warns that "mean" is not the KL divergence
        warnings.simplefilter("ignore")
        return TF.kl_div(a, b, reduction=reduction, log_target=log_target)


@st.composite
def kl_div_case(draw):
    """Both forms stacked, on the same target (positive, so also usable as a probability)."""
    x = draw(tensors(nd_shapes, elements=reals(-5, 0)))
    t = draw(tensors(x.shape, elements=reals(0.1, 1.0)))  # t +- h stays positive (log t)
    reduction = draw(st.sampled_from(["mean", "batchmean", "sum", "none"]))

    def both(kl_div, stack):
        return lambda a, b: stack([kl_div(a, b, reduction, log_target) for log_target in (False, True)])

    return Example(both(F.kl_div, F.stack), (x, t), both(_torch_kl_div, lambda ts: torch.stack(ts)))


# ---- end of elementwise functions, activations and losses (strategies) ----


# ---- shape and indexing (strategies) ----
def _via(how, name):
    """``F.name(t, *args)`` or ``t.name(*args)``: the functional form or the Tensor method."""
    if how == "method":
        return lambda t, *args: getattr(t, name)(*args)
    return lambda t, *args: getattr(F, name)(t, *args)


@st.composite
def squeeze_case(draw, how):
    x = draw(tensors(hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=3)))
    ones = [k for k, n in enumerate(x.shape) if n == 1]
    axis = None
    if ones and draw(st.booleans()):
        picked = draw(st.lists(st.sampled_from(ones), min_size=1, max_size=len(ones), unique=True))
        axis = picked[0] if len(picked) == 1 else tuple(picked)
    dims = tuple(range(x.ndim)) if axis is None else axis
    return Example(lambda t: _via(how, "squeeze")(t, axis), (x,), lambda t: t.squeeze(dims))


@st.composite
def unsqueeze_case(draw, how):
    x = draw(tensors(shapes))
    axis = draw(st.integers(-x.ndim - 1, x.ndim))
    return Example(lambda t: _via(how, "unsqueeze")(t, axis), (x,), lambda t: t.unsqueeze(axis))


@st.composite
def expand_dims_case(draw):
    x = draw(tensors(shapes))
    count = draw(st.integers(1, 2))
    axes = draw(hnp.valid_tuple_axes(x.ndim + count, min_size=count, max_size=count))
    ascending = sorted(a % (x.ndim + count) for a in axes)

    def twin(t):
        for a in ascending:
            t = t.unsqueeze(a)
        return t

    return Example(lambda t: F.expand_dims(t, axes), (x,), twin)


@st.composite
def permute_case(draw, how):
    x = draw(tensors(nd_shapes))
    axes = tuple(draw(st.permutations(range(x.ndim))))
    fn = (lambda t: t.permute(*axes)) if how == "method" else (lambda t: F.permute(t, axes))
    return Example(fn, (x,), lambda t: t.permute(*axes))


@st.composite
def view_case(draw, how):
    x = draw(tensors(nd_shapes))
    new = draw(st.sampled_from([(-1,), (x.size, 1), (1, -1), x.shape[::-1]]))
    fn = (lambda t: t.view(*new)) if how == "method" else (lambda t: F.view(t, new))
    return Example(fn, (x,), lambda t: t.reshape(new))


@st.composite
def swapaxes_case(draw, how):
    x = draw(tensors(nd_shapes))
    a, b = (draw(st.integers(-x.ndim, x.ndim - 1)) for _ in range(2))
    return Example(lambda t: _via(how, "swapaxes")(t, a, b), (x,), lambda t: torch.swapaxes(t, a, b))


@st.composite
def concatenate_case(draw):
    base = draw(nd_shapes)
    axis = draw(st.one_of(st.none(), st.integers(-len(base), len(base) - 1)))
    parts = []
    for _ in range(draw(st.integers(1, 3))):
        shape = list(base)
        if axis is not None:
            shape[axis] = draw(st.integers(1, 3))
        else:  # any shapes: each is flattened
            shape = list(draw(shapes))
        parts.append(draw(tensors(tuple(shape))))
    if axis is None:
        return Example(
            lambda *ts: F.concatenate(ts, axis=None),
            tuple(parts),
            lambda *ts: torch.cat([t.flatten() for t in ts]),
        )
    return Example(
        lambda *ts: F.concatenate(ts, axis=axis), tuple(parts), lambda *ts: torch.cat(ts, dim=axis)
    )


@st.composite
def split_case(draw, how):
    """The pieces, each times its own factor (a piece's gradient must reach its own part), joined again."""
    x = draw(tensors(nd_shapes))
    axis = draw(st.integers(-x.ndim, x.ndim - 1))
    n = x.shape[axis]
    if draw(st.booleans()):
        how_many = draw(st.sampled_from([d for d in range(1, n + 1) if n % d == 0]))
    else:
        how_many = sorted(draw(st.lists(st.integers(0, n + 1), max_size=3)))

    def join(pieces):
        return [p * (i + 1.0) for i, p in enumerate(pieces)]

    def fn(t):
        return F.concat(join(_via(how, "split")(t, how_many, axis)), axis=axis)

    return Example(fn, (x,), lambda t: torch.cat(join(torch.tensor_split(t, how_many, dim=axis)), dim=axis))


def _torch_pad(t, widths, mode, value):
    """np.pad's modes with torch.cat, one axis after the other, as NumPy pads (widths the twin can do)."""
    for k, (b, a) in enumerate(widths):
        n = t.shape[k]
        if mode == "constant":
            before = torch.full((*t.shape[:k], b, *t.shape[k + 1 :]), value, dtype=t.dtype)
            after = torch.full((*t.shape[:k], a, *t.shape[k + 1 :]), value, dtype=t.dtype)
        elif mode == "edge":
            before = t.narrow(k, 0, 1).repeat_interleave(b, dim=k)
            after = t.narrow(k, n - 1, 1).repeat_interleave(a, dim=k)
        elif mode == "reflect":
            before, after = t.narrow(k, 1, b).flip(k), t.narrow(k, n - 1 - a, a).flip(k)
        elif mode == "symmetric":
            before, after = t.narrow(k, 0, b).flip(k), t.narrow(k, n - a, a).flip(k)
        else:  # wrap
            before, after = t.narrow(k, n - b, b), t.narrow(k, 0, a)
        t = torch.cat([before, t, after], dim=k)
    return t


@st.composite
def pad_case(draw):
    x = draw(tensors(nd_shapes))
    mode = draw(st.sampled_from(["constant", "edge", "reflect", "symmetric", "wrap"]))
    value = draw(st.sampled_from([0.0, 1.5, -2.0])) if mode == "constant" else 0
    # widths the twin can do: reflect mirrors without the edge (at most n - 1), the others at most n
    most = [n - 1 if mode == "reflect" else min(n, 2) if mode != "constant" else 2 for n in x.shape]
    form = draw(st.sampled_from(["per axis", "pair", "int"]))
    if form == "per axis":
        widths = tuple((draw(st.integers(0, m)), draw(st.integers(0, m))) for m in most)
        pad_width = widths
    elif form == "pair":
        pad_width = (draw(st.integers(0, min(most))), draw(st.integers(0, min(most))))
        widths = (pad_width,) * x.ndim
    else:
        pad_width = draw(st.integers(0, min(most)))
        widths = ((pad_width, pad_width),) * x.ndim
    return Example(
        lambda t: F.pad(t, pad_width, mode=mode, constant_values=value),
        (x,),
        lambda t: _torch_pad(t, widths, mode, value),
    )


@st.composite
def repeat_case(draw, how):
    x = draw(tensors(shapes))
    axis = draw(st.one_of(st.none(), st.integers(-x.ndim, x.ndim - 1))) if x.ndim else None
    n = x.size if axis is None else x.shape[axis]
    if draw(st.booleans()):
        repeats = draw(st.integers(0, 3))
        trepeats = repeats
    else:
        repeats = draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
        trepeats = torch.tensor(repeats) if torch is not None else None
    return Example(
        lambda t: _via(how, "repeat")(t, repeats, axis),
        (x,),
        lambda t: torch.repeat_interleave(t, trepeats, dim=axis),
    )


@st.composite
def tile_case(draw, how):
    x = draw(tensors(shapes))
    reps = tuple(draw(st.lists(st.integers(0, 2), min_size=1, max_size=4)))
    arg = reps[0] if len(reps) == 1 and draw(st.booleans()) else reps
    return Example(lambda t: _via(how, "tile")(t, arg), (x,), lambda t: t.tile(reps))


@st.composite
def flip_case(draw, how):
    x = draw(tensors(nd_shapes))
    axis = draw(
        st.one_of(st.none(), st.integers(-x.ndim, x.ndim - 1), hnp.valid_tuple_axes(x.ndim, min_size=1))
    )
    dims = tuple(range(x.ndim)) if axis is None else axis
    return Example(lambda t: _via(how, "flip")(t, axis), (x,), lambda t: t.flip(dims))


@st.composite
def roll_case(draw, how):
    x = draw(tensors(nd_shapes))
    shift_of = st.integers(-5, 5)
    kind = draw(st.sampled_from(["flat", "one", "several"]))
    if kind == "flat":
        shift, axis = draw(shift_of), None
    elif kind == "one":
        shift, axis = draw(shift_of), draw(st.integers(-x.ndim, x.ndim - 1))
    else:  # an axis may repeat: its shifts add up
        axis = tuple(draw(st.lists(st.integers(-x.ndim, x.ndim - 1), min_size=1, max_size=3)))
        shift = tuple(draw(shift_of) for _ in axis)
    return Example(lambda t: _via(how, "roll")(t, shift, axis), (x,), lambda t: torch.roll(t, shift, axis))


@st.composite
def _index_along(draw, x, axis, sizes):
    """Integer indices into axis ``axis`` of ``x``, of shape ``sizes`` (with 1 to 4 along the axis)."""
    shape = tuple(draw(st.integers(1, 4)) if k == axis else s for k, s in enumerate(sizes))
    return draw(hnp.arrays(np.int64, shape, elements=st.integers(0, x.shape[axis] - 1)))


@st.composite
def take_along_axis_case(draw):
    x = draw(tensors(nd_shapes))
    if draw(st.integers(0, 3)) == 0:  # the flattened tensor
        idx = draw(hnp.arrays(np.int64, (draw(st.integers(1, 4)),), elements=st.integers(0, x.size - 1)))
        return Example(
            lambda t: F.take_along_axis(t, idx, axis=None),
            (x,),
            lambda t: torch.take_along_dim(t, torch.from_numpy(idx)),
        )
    axis = draw(st.integers(-x.ndim, x.ndim - 1))
    sizes = [draw(st.sampled_from([1, n])) for n in x.shape]  # broadcasting on the other axes
    idx = draw(_index_along(x, axis, sizes))
    return Example(
        lambda t: F.take_along_axis(t, idx, axis),
        (x,),
        lambda t: torch.take_along_dim(t, torch.from_numpy(idx), axis),
    )


@st.composite
def gather_case(draw, how):
    x = draw(tensors(nd_shapes))
    axis = draw(st.integers(-x.ndim, x.ndim - 1))
    idx = draw(_index_along(x, axis, [draw(st.integers(1, n)) for n in x.shape]))
    return Example(
        lambda t: _via(how, "gather")(t, axis, idx),
        (x,),
        lambda t: torch.gather(t, axis, torch.from_numpy(idx)),
    )


@st.composite
def scatter_add_case(draw, how):
    """src of index's shape: PyTorch's backward refuses a larger src (tests/ops/test_shape.py has it)."""
    x = draw(tensors(nd_shapes))
    axis = draw(st.integers(-x.ndim, x.ndim - 1))
    idx = draw(_index_along(x, axis, [draw(st.integers(1, n)) for n in x.shape]))
    src = draw(tensors(idx.shape))
    return Example(
        lambda t, s: _via(how, "scatter_add")(t, axis, idx, s),
        (x, src),
        lambda t, s: torch.scatter_add(t, axis, torch.from_numpy(idx), s),
    )


# ---- end of shape and indexing (strategies) ----


# ---- reductions and linear algebra (strategies) ----
def _red_call(how, name):
    """``F.name(t, *args, **kw)`` or ``t.name(*args, **kw)``: the functional form or the Tensor method."""
    if how == "method":
        return lambda t, *args, **kw: getattr(t, name)(*args, **kw)
    return lambda *args, **kw: getattr(F, name)(*args, **kw)


@st.composite
def _red_axis(draw, ndim):
    """A reduction's axis: None, an int (maybe negative) or a tuple of axes."""
    choices = [st.none()]
    if ndim:
        choices += [st.integers(-ndim, ndim - 1), hnp.valid_tuple_axes(ndim, min_size=1)]
    return draw(st.one_of(*choices))


def _red_dims(axis, ndim):
    """The axes of a reduction as PyTorch's ``dim``: a tuple of non-negative ints."""
    if axis is None:
        return tuple(range(ndim))
    return tuple(a % ndim for a in ((axis,) if isinstance(axis, int) else axis))


def _torch_prod(t, axis, keepdims):
    """torch.prod reduces one dim: the reduced dims are moved to the end and flattened into one
    (a chain of one-dim prods would differ at inf: its second prod's backward divides inf by inf)."""
    if t.ndim == 0:
        return t.prod()
    dims = _red_dims(axis, t.ndim)
    rest = [i for i in range(t.ndim) if i not in dims]
    out = t.permute(*rest, *dims).reshape(*[t.shape[i] for i in rest], -1).prod(-1)
    return out.reshape([1 if i in dims else s for i, s in enumerate(t.shape)]) if keepdims else out


#: values with exact zeros among them (several in a lane, too): the case prod and cumprod get wrong
#: when they divide by x
with_zeros = st.one_of(reals(-2, 2), st.just(0.0))


@st.composite
def prod_case(draw, how):
    x = draw(tensors(shapes, elements=with_zeros))
    axis, keepdims = draw(_red_axis(x.ndim)), draw(st.booleans())
    return Example(
        lambda t: _red_call(how, "prod")(t, axis=axis, keepdims=keepdims),
        (x,),
        lambda t: _torch_prod(t, axis, keepdims),
    )


@st.composite
def moment_case(draw, name, how):
    """var / std with ddof 0 or 1 (n > ddof in every lane); for std, values 0.5 apart keep every
    lane's std >= 0.25, where the oracle's truncation error (~ h**2 / std**3) stays small."""
    if name == "std":
        x = draw(distinct_tensors(hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3), gap=0.5))
    else:
        x = draw(tensors(shapes))
    axis, keepdims = draw(_red_axis(x.ndim)), draw(st.booleans())
    n = int(np.prod([x.shape[d] for d in _red_dims(axis, x.ndim)]))
    ddof = draw(st.sampled_from([0, 1] if n > 1 else [0]))
    return Example(
        lambda t: _red_call(how, name)(t, axis=axis, ddof=ddof, keepdims=keepdims),
        (x,),
        lambda t: getattr(torch, name)(t, dim=_red_dims(axis, t.ndim), correction=ddof, keepdim=keepdims),
    )


@st.composite
def logsumexp_case(draw, how):
    x = draw(tensors(shapes))
    axis, keepdims = draw(_red_axis(x.ndim)), draw(st.booleans())
    return Example(
        lambda t: _red_call(how, "logsumexp")(t, axis=axis, keepdims=keepdims),
        (x,),
        lambda t: torch.logsumexp(t, dim=_red_dims(axis, t.ndim), keepdim=keepdims),
    )


@st.composite
def norm_case(draw, how):
    """Vector norms (ord None, 1, 2, inf, -inf; axis None or an int) and matrix norms (None, 'fro',
    +-1, +-inf over a pair of axes, or all of a 2-D tensor). Absolute values are distinct and at
    least 0.5 (no kink of abs, no tie for the inf-norms, a 2-norm >= 0.5), and the row or column
    sums a matrix norm picks from are at least 1e-3 apart (no tie for max / min)."""
    import hypothesis

    matrix = draw(st.booleans())
    shape = draw(hnp.array_shapes(min_dims=2 if matrix else 1, max_dims=3, min_side=1, max_side=4))
    magnitude = draw(distinct_tensors(shape, lo=0.5, hi=10.0))
    x = np.where(draw(hnp.arrays(np.bool_, shape)), -magnitude, magnitude)
    inf = float("inf")
    if not matrix:
        order = draw(st.sampled_from([None, 1, 2, inf, -inf]))
        axes = [st.integers(-x.ndim, x.ndim - 1)]
        if order is None or x.ndim == 1:
            axes.append(st.none())
        axis = draw(st.one_of(*axes))
    else:
        order = draw(st.sampled_from([None, "fro", 1, -1, inf, -inf]))
        axis = draw(st.none() if x.ndim == 2 else st.permutations(range(x.ndim)).map(lambda p: tuple(p[:2])))
        row, col = (0, 1) if axis is None else axis
        if order not in (None, "fro"):
            sums = np.abs(x).sum(axis=row if abs(order) == 1 else col, keepdims=True)
            picked = np.sort(sums, axis=col if abs(order) == 1 else row)
            picked = np.moveaxis(picked, col if abs(order) == 1 else row, 0)
            hypothesis.assume(picked.shape[0] == 1 or np.diff(picked, axis=0).min() > 1e-3)
    keepdims = draw(st.booleans())
    return Example(
        lambda t: _red_call(how, "norm")(t, order, axis=axis, keepdims=keepdims),
        (x,),
        lambda t: torch.linalg.norm(t, ord=order, dim=axis, keepdim=keepdims),
    )


@st.composite
def cumulative_case(draw, name, how):
    """cumsum / cumprod along an axis, or of the flattened tensor (axis None); cumprod's values
    have exact zeros among them."""
    x = draw(tensors(shapes, elements=with_zeros if name == "cumprod" else None))
    axis = draw(st.none() if x.ndim == 0 else st.one_of(st.none(), st.integers(-x.ndim, x.ndim - 1)))
    return Example(
        lambda t: _red_call(how, name)(t, axis=axis),
        (x,),
        lambda t: getattr(torch, name)(t.flatten() if axis is None else t, 0 if axis is None else axis),
    )


#: einsum subscripts and, per operand, its shape in letters ('*' stands for drawn batch dimensions,
#: which may broadcast against each other)
EINSUMS = [
    ("ij,jk->ik", "ij", "jk"),
    ("ij,jk", "ij", "jk"),  # implicit output: ik
    ("ba,ac", "ba", "ac"),  # implicit output, alphabetical: bc
    ("ii->i", "ii"),  # a diagonal
    ("ii", "ii"),  # the trace
    ("iji->ij", "iji"),  # a diagonal over axes 0 and 2
    ("iij->j", "iij"),
    ("ii,i->i", "ii", "i"),
    ("ij->", "ij"),
    ("ij->ji", "ij"),
    ("ij->j", "ij"),  # a sum: the gradient is broadcast back
    ("i,i", "i", "i"),
    ("i,j->ij", "i", "j"),
    ("ij,ij->ij", "ij", "ij"),
    (",i->i", "", "i"),
    ("Ab,bA->", "Ab", "bA"),
    ("bij,bjk->bik", "bij", "bjk"),
    ("ij,jk,kl->il", "ij", "jk", "kl"),
    ("i,i,i->", "i", "i", "i"),
    ("ijk,jil->kl", "ijk", "jil"),
    ("...ij,...jk->...ik", "*ij", "*jk"),
    ("...i,...i->...", "*i", "*i"),
    ("i...->...", "i*"),
    ("...ii->...i", "*ii"),
]


@st.composite
def einsum_case(draw):
    subscripts, *templates = draw(st.sampled_from(EINSUMS))
    size = {c: draw(st.integers(1, 3)) for c in "".join(templates) if c != "*"}
    batches = iter(draw(broadcastable_shapes(num_shapes=len(templates), max_dims=2, max_side=3)))
    shapes_ = []
    for tpl in templates:
        batch = next(batches)
        shapes_.append(tuple(d for c in tpl for d in (batch if c == "*" else (size[c],))))
    arrays = tuple(draw(tensors(s, elements=reals(-3, 3))) for s in shapes_)
    return Example(lambda *ts: F.einsum(subscripts, *ts), arrays, lambda *ts: torch.einsum(subscripts, *ts))


@st.composite
def tensordot_case(draw):
    """axes as an int N (the last N of a with the first N of b) or as a pair of sequences."""
    a = draw(tensors(nd_shapes, elements=reals(-3, 3)))
    extra = list(draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3)))
    if draw(st.booleans()):
        n = draw(st.integers(0, min(a.ndim, 2)))
        b = draw(tensors(a.shape[a.ndim - n :] + tuple(extra), elements=reals(-3, 3)))
        axes = n
    else:
        ax_a = draw(st.permutations(range(a.ndim)))[: draw(st.integers(1, a.ndim))]
        dims = [a.shape[i] for i in ax_a] + extra
        order = draw(st.permutations(range(len(dims))))
        b = draw(tensors(tuple(dims[i] for i in order), elements=reals(-3, 3)))
        ax_b = [order.index(i) for i in range(len(ax_a))]
        axes = (ax_a, ax_b)
    return Example(
        lambda x, y: F.tensordot(x, y, axes=axes), (a, b), lambda x, y: torch.tensordot(x, y, dims=axes)
    )


def _torch_dot(a, b):
    """numpy.dot's meaning in PyTorch (torch.dot takes only vectors)."""
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    return torch.tensordot(a, b, dims=([a.ndim - 1], [0 if b.ndim == 1 else b.ndim - 2]))


@st.composite
def dot_case(draw, how):
    n, k, m = (draw(st.integers(1, 3)) for _ in range(3))
    sa, sb = draw(
        st.sampled_from([((k,), (k,)), ((n, k), (k, m)), ((2, n, k), (k,)), ((n, k), (2, k, m)), ((), (k,))])
    )
    a, b = draw(tensors(sa)), draw(tensors(sb))
    fn = F.dot if how == "functional" else (lambda x, y: x.dot(y))
    return Example(fn, (a, b), _torch_dot)


@st.composite
def outer_case(draw, how):
    """Any shapes: numpy.outer flattens them."""
    a, b = draw(tensors(nd_shapes)), draw(tensors(nd_shapes))
    fn = F.outer if how == "functional" else (lambda x, y: x.outer(y))
    return Example(fn, (a, b), lambda x, y: torch.outer(x.flatten(), y.flatten()))


@st.composite
def trace_case(draw, how):
    x = draw(tensors(hnp.array_shapes(min_dims=2, max_dims=3, min_side=1, max_side=4)))
    axis1, axis2 = draw(st.permutations(range(x.ndim)))[:2]
    offset = draw(st.integers(-2, 2))
    return Example(
        lambda t: _red_call(how, "trace")(t, offset, axis1, axis2),
        (x,),
        lambda t: torch.diagonal(t, offset, axis1, axis2).sum(-1),
    )


@st.composite
def diag_case(draw, how):
    x = draw(tensors(hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=4)))
    k = draw(st.integers(-2, 2))
    return Example(lambda t: _red_call(how, "diag")(t, k), (x,), lambda t: torch.diag(t, k))


@st.composite
def triangle_case(draw, name, how):
    x = draw(tensors(hnp.array_shapes(min_dims=2, max_dims=3, min_side=1, max_side=4)))
    k = draw(st.integers(-3, 3))
    return Example(lambda t: _red_call(how, name)(t, k), (x,), lambda t: getattr(torch, name)(t, k))


# ---- end of reductions and linear algebra (strategies) ----


def _t(name):
    """A PyTorch function by dotted name, looked up when called (torch may be absent)."""
    return lambda *a, **k: _resolve(name)(*a, **k)


def _resolve(name):
    obj = torch
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


LEAKY = 0.2
CLIP = (-1.0, 2.0)
clip_values = away_from(CLIP, -4, 4)


# ---- normalisation and dropout: strategies ----
def _generic(a):
    """x + x**2 / 10: increasing on [-3, 3], so distinct values stay distinct, but never equally
    spaced, so that a gradient never cancels to exactly 0 (where two libraries' rounding noise
    would be compared) against the edge test's upstream gradient 1, 1.25, 1.5, 1.75."""
    return a + a * a / 10


@st.composite
def batch_norm_case(draw):
    """Training (batch statistics; drawn first) or evaluation (running statistics), with or without
    weight and bias. Values at least 0.3 apart keep every channel's variance away from 0, where the
    oracle's truncation error would grow like 1 / std**3."""
    shape = draw(st.sampled_from([(3, 2), (2, 3, 2), (2, 2, 2, 2), (4, 1)]))
    c = shape[1]
    x = _generic(draw(distinct_tensors(shape, gap=0.3, lo=-3.0, hi=3.0)))
    w = draw(distinct_tensors((c,), gap=0.1, lo=0.5, hi=2.0))
    b = draw(tensors((c,)))
    training = draw(st.sampled_from([True, False]))
    rm = draw(tensors((c,), elements=reals(-1, 1)))
    rv = draw(tensors((c,), elements=reals(0.5, 2.0)))
    if training:

        def ours(a, w, b):
            return F.batch_norm(a, None, None, w, b, training=True)

        def twin(a, w, b):
            return TF.batch_norm(a, None, None, w, b, training=True)

    else:

        def ours(a, w, b):
            return F.batch_norm(a, rm, rv, w, b)

        def twin(a, w, b):
            return TF.batch_norm(a, torch.from_numpy(rm).to(a.dtype), torch.from_numpy(rv).to(a.dtype), w, b)

    if draw(st.booleans()):  # without the affine part
        return Example(lambda a: ours(a, None, None), (x,), lambda a: twin(a, None, None))
    return Example(ours, (x, w, b), twin)


@st.composite
def layer_norm_case(draw):
    shape = draw(st.sampled_from([(2, 3), (3,), (2, 2, 3), (1, 4)]))
    k = draw(st.integers(1, len(shape)))
    norm_shape = shape[len(shape) - k :]
    if int(np.prod(norm_shape)) < 2:
        norm_shape, k = shape, len(shape)
    x = _generic(draw(distinct_tensors(shape, gap=0.3, lo=-3.0, hi=3.0)))
    w = draw(distinct_tensors(norm_shape, gap=0.1, lo=0.5, hi=2.0))
    b = draw(tensors(norm_shape))
    return Example(
        lambda a, w, b: F.layer_norm(a, norm_shape, w, b),
        (x, w, b),
        lambda a, w, b: TF.layer_norm(a, norm_shape, w, b),
    )


@st.composite
def dropout_case(draw):
    """The mask comes from mgx.manual_seed(seed) on each call, so the oracle's many calls see one
    mask; the twin rebuilds the same mask from the same generator."""
    x = draw(tensors(nd_shapes))
    p = draw(st.sampled_from([0.5, 0.25, 0.9, 0.0]))  # the first is what a minimal draw exercises
    seed = draw(st.integers(0, 2**16))

    def ours(a):
        mgx.manual_seed(seed)
        return F.dropout(a, p)

    def twin(a):
        keep = np.random.default_rng(seed).random(a.shape) >= p
        return a * torch.from_numpy(keep / (1 - p)).to(a.dtype) if p else a * 1.0

    return Example(ours, (x,), twin)


@st.composite
def embedding_case(draw):
    n, d = draw(st.integers(1, 5)), draw(st.integers(1, 3))
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=2, max_side=4))
    idx = draw(hnp.arrays(np.int64, shape, elements=st.integers(0, n - 1)))
    w = draw(tensors((n, d)))
    return Example(lambda i, w: F.embedding(i, w), (idx, w), lambda i, w: TF.embedding(i, w))


# ---- end of normalisation and dropout: strategies ----


# ---- convolution and pooling (strategies) ----
@st.composite
def window_case(draw, pool=None):
    """An image shape (N, C, H, W) and a window that fits it, as keyword arguments (ints or pairs).

    ``pool``: "max" (padding at most half the kernel, as PyTorch requires, and no window wholly in
    the padding), "avg" (the same, no dilation) or None (a convolution: any padding, any dilation).
    """
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    dh, dw = (1, 1) if pool == "avg" else (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    sh, sw = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    if pool:
        ph, pw = draw(st.integers(0, kh // 2)), draw(st.integers(0, kw // 2))
    else:
        ph, pw = draw(st.integers(0, 1)), draw(st.integers(0, 1))
    eh, ew = dh * (kh - 1) + 1, dw * (kw - 1) + 1  # the span of the kernel
    least_h, least_w = max(1, eh - 2 * ph), max(1, ew - 2 * pw)
    if pool == "max":  # every window keeps a real row and column: pad no more than the dilation's gap
        least_h, least_w = max(least_h, eh - ph), max(least_w, ew - pw)
    shape = (
        draw(st.integers(1, 2)),
        draw(st.integers(1, 2)),
        draw(st.integers(least_h, least_h + 3)),
        draw(st.integers(least_w, least_w + 3)),
    )
    pair = lambda a, b: a if a == b else (a, b)  # noqa: E731 - ints and pairs, both accepted
    kwargs = {"stride": pair(sh, sw), "padding": pair(ph, pw)}
    if pool != "avg":
        kwargs["dilation"] = pair(dh, dw)
    return shape, pair(kh, kw), kwargs


def _out_hw(shape, kernel, kw):
    from microgradx.ops.conv import _window

    g = _window("test", kernel, kw["stride"], kw["padding"], kw.get("dilation", 1))
    return g.out_hw(shape[2], shape[3]), g


@st.composite
def conv2d_case(draw):
    shape, kernel, kw = draw(window_case())
    (_, g) = _out_hw(shape, kernel, kw)
    x = draw(tensors(shape))
    w = draw(tensors((draw(st.integers(1, 2)), shape[1], g.kh, g.kw)))
    if draw(st.booleans()):
        b = draw(tensors((w.shape[0],)))
        return Example(
            lambda a, f, c: F.conv2d(a, f, c, **kw), (x, w, b), lambda a, f, c: TF.conv2d(a, f, c, **kw)
        )
    return Example(lambda a, f: F.conv2d(a, f, **kw), (x, w), lambda a, f: TF.conv2d(a, f, **kw))


@st.composite
def im2col_case(draw):
    shape, kernel, kw = draw(window_case())
    x = draw(tensors(shape))
    (_, g) = _out_hw(shape, kernel, kw)
    cols = shape[1] * g.kh * g.kw

    def twin(t):  # PyTorch's unfold: (N, C * kh * kw, L); the book's layout is its transpose, stacked
        return TF.unfold(t, kernel, **kw).transpose(1, 2).reshape(-1, cols)

    return Example(lambda t: F.im2col(t, kernel, **kw), (x,), twin)


@st.composite
def col2im_case(draw):
    shape, kernel, kw = draw(window_case())
    ((oh, ow), g) = _out_hw(shape, kernel, kw)
    n, c = shape[:2]
    col = draw(tensors((n * oh * ow, c * g.kh * g.kw)))

    def twin(t):  # PyTorch's fold, the adjoint of unfold
        return TF.fold(t.reshape(n, oh * ow, -1).transpose(1, 2), shape[2:], kernel, **kw)

    return Example(lambda t: F.col2im(t, shape, kernel, **kw), (col,), twin)


@st.composite
def pool_case(draw, kind):
    shape, kernel, kw = draw(window_case(pool=kind))
    if draw(st.booleans()):
        kw = kw | {"stride": None} if kw["stride"] == kernel else kw  # the default: stride = kernel
    if kind == "max":  # no ties within reach of the oracle's steps
        x = draw(distinct_tensors(shape))
        return Example(
            lambda t: F.max_pool2d(t, kernel, **kw), (x,), lambda t: TF.max_pool2d(t, kernel, **kw)
        )
    x = draw(tensors(shape))
    return Example(lambda t: F.avg_pool2d(t, kernel, **kw), (x,), lambda t: TF.avg_pool2d(t, kernel, **kw))


# ---- end of convolution and pooling (strategies) ----

TABLE: dict[str, Any] = {
    # ---- microgradx.functional ----
    "F.abs": unary(F.abs, _t("abs"), away_from()),
    "F.astype": unary(lambda t: F.astype(t, np.longdouble), lambda t: t),
    "F.binary_cross_entropy": bce_case(),
    "F.broadcast_to": broadcast_case(method=False),
    "F.clip": unary(lambda t: F.clip(t, *CLIP), lambda t: torch.clamp(t, *CLIP), clip_values),
    "F.clone": unary(F.clone, lambda t: t.clone()),
    "F.concat": join_case("concat"),
    "F.cross_entropy": classification_case("cross_entropy"),
    "F.cross_entropy_error": classification_case("cross_entropy_error"),
    "F.exp": unary(F.exp, _t("exp"), reals(-5, 5)),
    "F.leaky_relu": unary(
        lambda t: F.leaky_relu(t, slope=LEAKY), lambda t: TF.leaky_relu(t, LEAKY), away_from()
    ),
    "F.linear": linear_case(),
    "F.log": unary(F.log, _t("log"), positive()),
    "F.log_softmax": axis_case(lambda t, a: F.log_softmax(t, axis=a), lambda t, a: torch.log_softmax(t, a)),
    "F.matmul": matmul_case("functional"),
    "F.max": reduction("max", functional=True),
    "F.mean": reduction("mean", functional=True),
    "F.mean_squared_error": regression_case("mean_squared_error"),
    "F.min": reduction("min", functional=True),
    "F.mse_loss": regression_case("mse_loss"),
    "F.power": pow_case("functional"),
    "F.relu": unary(F.relu, _t("relu"), away_from()),
    "F.reshape": reshape_case("functional"),
    "F.sigmoid": unary(F.sigmoid, _t("sigmoid"), reals(-20, 20)),
    "F.softmax": axis_case(lambda t, a: F.softmax(t, axis=a), lambda t, a: torch.softmax(t, a)),
    "F.sqrt": unary(F.sqrt, _t("sqrt"), positive()),
    "F.stack": join_case("stack"),
    "F.sum": reduction("sum", functional=True),
    "F.sum_to": sum_to_case(),
    "F.tanh": unary(F.tanh, _t("tanh"), reals(-5, 5)),
    "F.transpose": transpose_case("functional"),
    "F.where": where_case(),
    # ---- Tensor methods ----
    "Tensor.T": transpose_case("T"),
    "Tensor.abs": unary(lambda t: t.abs(), _t("abs"), away_from()),
    "Tensor.astype": unary(lambda t: t.astype(np.longdouble), lambda t: t),
    "Tensor.broadcast_to": broadcast_case(method=True),
    "Tensor.clip": unary(lambda t: t.clip(*CLIP), lambda t: torch.clamp(t, *CLIP), clip_values),
    "Tensor.clone": unary(lambda t: t.clone(), lambda t: t.clone()),
    "Tensor.exp": unary(lambda t: t.exp(), _t("exp"), reals(-5, 5)),
    "Tensor.flatten": reshape_case("flatten"),
    "Tensor.log": unary(lambda t: t.log(), _t("log"), positive()),
    "Tensor.log_softmax": axis_case(lambda t, a: t.log_softmax(a), lambda t, a: torch.log_softmax(t, a)),
    "Tensor.matmul": matmul_case("method"),
    "Tensor.max": reduction("max"),
    "Tensor.mean": reduction("mean"),
    "Tensor.min": reduction("min"),
    "Tensor.relu": unary(lambda t: t.relu(), _t("relu"), away_from()),
    "Tensor.reshape": reshape_case("method"),
    "Tensor.sigmoid": unary(lambda t: t.sigmoid(), _t("sigmoid"), reals(-20, 20)),
    "Tensor.softmax": axis_case(lambda t, a: t.softmax(a), lambda t, a: torch.softmax(t, a)),
    "Tensor.sqrt": unary(lambda t: t.sqrt(), _t("sqrt"), positive()),
    "Tensor.sum": reduction("sum"),
    "Tensor.tanh": unary(lambda t: t.tanh(), _t("tanh"), reals(-5, 5)),
    "Tensor.transpose": transpose_case("method"),
    # ---- Tensor operators ----
    "Tensor.__abs__": unary(lambda t: abs(t), _t("abs"), away_from()),
    "Tensor.__add__": binary(lambda a, b: a + b, lambda a, b: a + b),
    "Tensor.__getitem__": getitem_case(),
    "Tensor.__iadd__": inplace_case("+="),
    "Tensor.__imul__": inplace_case("*="),
    "Tensor.__ipow__": inplace_case("**="),
    "Tensor.__isub__": inplace_case("-="),
    "Tensor.__itruediv__": inplace_case("/="),
    "Tensor.__matmul__": matmul_case("op"),
    "Tensor.__mul__": binary(lambda a, b: a * b, lambda a, b: a * b),
    "Tensor.__neg__": unary(lambda t: -t, lambda t: -t),
    "Tensor.__pos__": unary(lambda t: +t * 1.0, lambda t: +t * 1.0),
    "Tensor.__pow__": pow_case("op"),
    "Tensor.__radd__": unary(lambda t: 2.5 + t, lambda t: 2.5 + t),
    "Tensor.__rmatmul__": matmul_case("rmatmul"),
    "Tensor.__rmul__": unary(lambda t: 2.5 * t, lambda t: 2.5 * t),
    "Tensor.__rpow__": unary(lambda t: 2.5**t, lambda t: 2.5**t, reals(-3, 3)),
    "Tensor.__rsub__": unary(lambda t: 2.5 - t, lambda t: 2.5 - t),
    "Tensor.__rtruediv__": unary(lambda t: 2.5 / t, lambda t: 2.5 / t, nonzero()),
    "Tensor.__setitem__": setitem_case(),
    "Tensor.__sub__": binary(lambda a, b: a - b, lambda a, b: a - b),
    "Tensor.__truediv__": binary(lambda a, b: a / b, lambda a, b: a / b, eb=nonzero()),
    # ---- normalisation and dropout ----
    "F.batch_norm": batch_norm_case(),
    "F.dropout": dropout_case(),
    "F.embedding": embedding_case(),
    "F.layer_norm": layer_norm_case(),
    # ---- end of normalisation and dropout ----
    # ---- elementwise functions, activations and losses ----
    "F.arccos": unary(F.arccos, _t("arccos"), reals(-0.9, 0.9)),
    "F.arcsin": unary(F.arcsin, _t("arcsin"), reals(-0.9, 0.9)),
    "F.arctan": unary(F.arctan, _t("arctan")),
    "F.arctan2": binary(F.arctan2, _t("atan2"), nonzero(), reals(-4, 4)),  # away from the origin
    "F.ceil": unary(F.ceil, _t("ceil"), away_from(INTEGERS)),
    "F.cos": unary(F.cos, _t("cos")),
    "F.cosh": unary(F.cosh, _t("cosh"), reals(-5, 5)),
    "F.elu": unary(lambda t: F.elu(t, alpha=0.7), lambda t: TF.elu(t, alpha=0.7), away_from()),
    "F.exp2": unary(F.exp2, _t("exp2"), reals(-5, 5)),
    "F.expm1": unary(F.expm1, _t("expm1"), reals(-5, 5)),
    "F.floor": unary(F.floor, _t("floor"), away_from(INTEGERS)),
    "F.gelu": unary(_both_gelus(F.gelu, F.stack), _both_gelus(lambda *a, **k: TF.gelu(*a, **k), _t("stack"))),
    "F.huber_loss": pointwise_loss_case("huber_loss", (-1.5, 1.5), delta=1.5),
    "F.hypot": binary(F.hypot, _t("hypot"), nonzero(), reals(-4, 4)),  # away from the origin
    "F.kl_div": kl_div_case(),
    "F.l1_loss": pointwise_loss_case("l1_loss", (0.0,)),
    "F.log10": unary(F.log10, _t("log10"), positive()),
    "F.log1p": unary(F.log1p, _t("log1p"), reals(-0.5, 10)),
    "F.log2": unary(F.log2, _t("log2"), positive()),
    "F.logsigmoid": unary(F.logsigmoid, lambda t: TF.logsigmoid(t), reals(-20, 20)),
    "F.maximum": binary(F.maximum, _t("maximum"), ticks, ticks_between),
    "F.minimum": binary(F.minimum, _t("minimum"), ticks, ticks_between),
    "F.nll_loss": nll_case(),
    "F.reciprocal": unary(F.reciprocal, _t("reciprocal"), nonzero()),
    "F.round": unary(lambda t: F.round(t, 1), lambda t: torch.round(t, decimals=1), away_from(TENTHS_HALVES)),
    "F.sign": unary(F.sign, _t("sign"), away_from()),
    "F.silu": unary(F.silu, lambda t: TF.silu(t), reals(-20, 20)),
    "F.sin": unary(F.sin, _t("sin")),
    "F.sinh": unary(F.sinh, _t("sinh"), reals(-5, 5)),
    "F.smooth_l1_loss": pointwise_loss_case("smooth_l1_loss", (-0.5, 0.5), beta=0.5),
    "F.softplus": unary(
        lambda t: F.softplus(t, **SOFTPLUS), lambda t: TF.softplus(t, **SOFTPLUS), away_from((2.5,))
    ),
    "F.square": unary(F.square, _t("square")),
    "F.tan": unary(F.tan, _t("tan"), reals(-1.2, 1.2)),  # away from the poles at +-pi/2
    "Tensor.arccos": unary(lambda t: t.arccos(), _t("arccos"), reals(-0.9, 0.9)),
    "Tensor.arcsin": unary(lambda t: t.arcsin(), _t("arcsin"), reals(-0.9, 0.9)),
    "Tensor.arctan": unary(lambda t: t.arctan(), _t("arctan")),
    "Tensor.arctan2": binary(lambda a, b: a.arctan2(b), _t("atan2"), nonzero(), reals(-4, 4)),
    "Tensor.ceil": unary(lambda t: t.ceil(), _t("ceil"), away_from(INTEGERS)),
    "Tensor.cos": unary(lambda t: t.cos(), _t("cos")),
    "Tensor.cosh": unary(lambda t: t.cosh(), _t("cosh"), reals(-5, 5)),
    "Tensor.exp2": unary(lambda t: t.exp2(), _t("exp2"), reals(-5, 5)),
    "Tensor.expm1": unary(lambda t: t.expm1(), _t("expm1"), reals(-5, 5)),
    "Tensor.floor": unary(lambda t: t.floor(), _t("floor"), away_from(INTEGERS)),
    "Tensor.hypot": binary(lambda a, b: a.hypot(b), _t("hypot"), nonzero(), reals(-4, 4)),
    "Tensor.log10": unary(lambda t: t.log10(), _t("log10"), positive()),
    "Tensor.log1p": unary(lambda t: t.log1p(), _t("log1p"), reals(-0.5, 10)),
    "Tensor.log2": unary(lambda t: t.log2(), _t("log2"), positive()),
    "Tensor.maximum": binary(lambda a, b: a.maximum(b), _t("maximum"), ticks, ticks_between),
    "Tensor.minimum": binary(lambda a, b: a.minimum(b), _t("minimum"), ticks, ticks_between),
    "Tensor.reciprocal": unary(lambda t: t.reciprocal(), _t("reciprocal"), nonzero()),
    "Tensor.round": unary(lambda t: t.round(), _t("round"), away_from(HALVES)),
    "Tensor.sign": unary(lambda t: t.sign(), _t("sign"), away_from()),
    "Tensor.sin": unary(lambda t: t.sin(), _t("sin")),
    "Tensor.sinh": unary(lambda t: t.sinh(), _t("sinh"), reals(-5, 5)),
    "Tensor.square": unary(lambda t: t.square(), _t("square")),
    "Tensor.tan": unary(lambda t: t.tan(), _t("tan"), reals(-1.2, 1.2)),
    # ---- end of elementwise functions, activations and losses ----
    # ---- reductions and linear algebra ----
    "F.cumprod": cumulative_case("cumprod", "functional"),
    "F.cumsum": cumulative_case("cumsum", "functional"),
    "F.diag": diag_case("functional"),
    "F.dot": dot_case("functional"),
    "F.einsum": einsum_case(),
    "F.logsumexp": logsumexp_case("functional"),
    "F.norm": norm_case("functional"),
    "F.outer": outer_case("functional"),
    "F.prod": prod_case("functional"),
    "F.std": moment_case("std", "functional"),
    "F.tensordot": tensordot_case(),
    "F.trace": trace_case("functional"),
    "F.tril": triangle_case("tril", "functional"),
    "F.triu": triangle_case("triu", "functional"),
    "F.var": moment_case("var", "functional"),
    "Tensor.cumprod": cumulative_case("cumprod", "method"),
    "Tensor.cumsum": cumulative_case("cumsum", "method"),
    "Tensor.diag": diag_case("method"),
    "Tensor.dot": dot_case("method"),
    "Tensor.logsumexp": logsumexp_case("method"),
    "Tensor.norm": norm_case("method"),
    "Tensor.outer": outer_case("method"),
    "Tensor.prod": prod_case("method"),
    "Tensor.std": moment_case("std", "method"),
    "Tensor.trace": trace_case("method"),
    "Tensor.tril": triangle_case("tril", "method"),
    "Tensor.triu": triangle_case("triu", "method"),
    "Tensor.var": moment_case("var", "method"),
    # ---- end of reductions and linear algebra ----
    # ---- shape and indexing ----
    "F.concatenate": concatenate_case(),
    "F.expand_dims": expand_dims_case(),
    "F.flip": flip_case("functional"),
    "F.gather": gather_case("functional"),
    "F.pad": pad_case(),
    "F.permute": permute_case("functional"),
    "F.repeat": repeat_case("functional"),
    "F.roll": roll_case("functional"),
    "F.scatter_add": scatter_add_case("functional"),
    "F.split": split_case("functional"),
    "F.squeeze": squeeze_case("functional"),
    "F.swapaxes": swapaxes_case("functional"),
    "F.take_along_axis": take_along_axis_case(),
    "F.tile": tile_case("functional"),
    "F.unsqueeze": unsqueeze_case("functional"),
    "F.view": view_case("functional"),
    "Tensor.flip": flip_case("method"),
    "Tensor.gather": gather_case("method"),
    "Tensor.permute": permute_case("method"),
    "Tensor.repeat": repeat_case("method"),
    "Tensor.roll": roll_case("method"),
    "Tensor.scatter_add": scatter_add_case("method"),
    "Tensor.split": split_case("method"),
    "Tensor.squeeze": squeeze_case("method"),
    "Tensor.swapaxes": swapaxes_case("method"),
    "Tensor.tile": tile_case("method"),
    "Tensor.unsqueeze": unsqueeze_case("method"),
    "Tensor.view": view_case("method"),
    # ---- end of shape and indexing ----
    # ---- creation and Tensor conveniences ----
    # ---- end of creation and Tensor conveniences ----
    # ---- convolution and pooling ----
    "F.avg_pool2d": pool_case("avg"),
    "F.col2im": col2im_case(),
    "F.conv2d": conv2d_case(),
    "F.im2col": im2col_case(),
    "F.max_pool2d": pool_case("max"),
    # ---- end of convolution and pooling ----
}

#: Public Tensor attributes that are not differentiable ops (checked by the completeness test).
NOT_DIFFERENTIABLE = {
    "Tensor.argmax",  # integer result
    "Tensor.backward",
    "Tensor.detach",
    "Tensor.item",
    "Tensor.numpy",
    "Tensor.register_hook",  # registers a gradient hook (tests/test_hooks.py)
    "Tensor.requires_grad_",
    "Tensor.retain_grad",
    # comparisons give bool tensors outside the graph
    "Tensor.__eq__",
    "Tensor.__ge__",
    "Tensor.__gt__",
    "Tensor.__le__",
    "Tensor.__lt__",
    "Tensor.__ne__",
    # the object protocol
    "Tensor.__array__",
    "Tensor.__bool__",
    "Tensor.__float__",
    "Tensor.__init__",
    "Tensor.__int__",
    "Tensor.__imatmul__",  # raises: an in-place matrix product is not supported
    "Tensor.__iter__",
    "Tensor.__len__",
    "Tensor.__repr__",
    # ---- reductions and linear algebra ----
    "F.all",  # bool result
    "F.any",  # bool result
    "F.argmax",  # integer result
    "F.argmin",  # integer result
    "Tensor.all",  # bool result
    "Tensor.any",  # bool result
    "Tensor.argmin",  # integer result
    # ---- end of reductions and linear algebra ----
    # ---- shape and indexing ----
    # ---- end of shape and indexing ----
    # ---- creation and Tensor conveniences ----
    "Tensor.tolist",  # Python numbers, outside the graph
    "Tensor.__format__",  # a string
    # NumPy protocol: dispatches to the ops of microgradx.functional (tested there), or raises;
    # tests/test_tensor_numpy_protocol.py checks values and gradients against F and PyTorch
    "Tensor.__array_function__",
    "Tensor.__array_ufunc__",
    # ---- end of creation and Tensor conveniences ----
}
