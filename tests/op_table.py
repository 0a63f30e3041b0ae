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
    fn = (lambda t: t.transpose(*axes)) if how == "method" else (lambda t: F.transpose(t, axes))
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
    # ---- end of elementwise functions, activations and losses ----
    # ---- reductions and linear algebra ----
    # ---- end of reductions and linear algebra ----
    # ---- shape and indexing ----
    # ---- end of shape and indexing ----
    # ---- creation and Tensor conveniences ----
    # ---- end of creation and Tensor conveniences ----
}

#: Public Tensor attributes that are not differentiable ops (checked by the completeness test).
NOT_DIFFERENTIABLE = {
    "Tensor.argmax",  # integer result
    "Tensor.backward",
    "Tensor.detach",
    "Tensor.item",
    "Tensor.numpy",
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
    # ---- end of reductions and linear algebra ----
    # ---- shape and indexing ----
    # ---- end of shape and indexing ----
    # ---- creation and Tensor conveniences ----
    # ---- end of creation and Tensor conveniences ----
}
