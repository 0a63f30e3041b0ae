"""Functional transforms in the JAX / ``torch.func`` forms: vjp, jvp, jacobian, hessian, hvp, value_and_grad.

Every transform here is built, like :func:`microgradx.grad`, on one primitive:
the engine's vector-Jacobian product (``autograd.vjp``, a backward pass that
returns gradients instead of filling ``.grad``), recorded with
``create_graph=True`` wherever its result must be differentiable again.

- ``vjp(f, *primals)``: one forward pass; each ``vjp_fn(v)`` is one backward
  pass giving ``J^T v``.
- ``jvp(f, primals, tangents)``: forward mode by the **double-vjp
  construction** (there is no forward-mode engine). ``u -> J^T u`` is linear
  in ``u``, so its vector-Jacobian product with the tangent ``t`` is
  ``d<J^T u, t>/du = J t``. Cost: the forward pass and two backward passes
  (the first recorded), for any value of the dummy cotangent ``u`` (zeros).
- ``jacobian(f)``: reverse mode, one backward pass per element of the output
  (``torch.func.jacrev``; for a scalar output it is ``grad``).
- ``hessian(f)``: the Jacobian of the recorded gradient (reverse over
  reverse): one backward pass per element of the differentiated arguments.
- ``hvp(f, primals, tangents)``: reverse over reverse, ``H t = d<grad f, t>/dx``
  (H is symmetric): two backward passes, the first recorded; the Hessian is
  never formed.

The conventions are :func:`microgradx.grad`'s, so that all of them compose
(``grad(jacobian(f))``, ``jacobian(jacobian(f))``, ``jvp(grad(f), ...)``):

- Arrays (or numbers) in give NumPy arrays out. A result is a Tensor that is
  part of the graph, so that it can be differentiated again, when it depends on
  something that requires grad: an argument (or a tangent, or a cotangent) that
  is a Tensor requiring grad, or a tensor ``f`` uses from outside. Under
  ``no_grad`` results are always arrays.
- ``f`` is differentiated with respect to each argument as a variable of its
  own (a Tensor argument is cloned), as in JAX and ``torch.func``.
- A derivative that is constant (``f`` linear) is still returned in the graph,
  with derivative 0 with respect to the arguments, so that a transform around
  it gives 0 instead of reporting the graph as cut.
- A result of ``f`` that does not depend on a differentiated argument is an
  error (the graph was cut by ``.data``, ``.item()``, ``float()``, ``detach()``
  or a NumPy function), unless ``allow_unused=True``, which gives zeros.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import functional as F
from .autograd import creator_read_by, enable_grad, is_grad_enabled
from .autograd import vjp as _engine_vjp
from .errors import describe, fmt_shape
from .tensor import Tensor

__all__ = ["hessian", "hvp", "jacobian", "jvp", "value_and_grad", "vjp"]

Argnums = int | Sequence[int]


# --------------------------------------------------------------------------- #
# The shared machinery: arguments -> variables, one recorded call of f, results
# --------------------------------------------------------------------------- #
@dataclass
class _Call:
    """One call of ``f`` on fresh variables: what every transform differentiates."""

    who: str  # the transform's name, for messages
    out: Tensor  # f's result, recorded
    wrt: list[Tensor]  # the variables, one per differentiated argument
    nums: list[int]  # the position of each among f's arguments
    in_graph: bool  # results must stay in the caller's graph (see the module docstring)
    recording: bool  # grad mode when the transform was called
    targets: list[Tensor] = field(default_factory=list)  # what results are connected to, in the graph
    fresh: list[Tensor] = field(default_factory=list)  # variables made from arrays (no one else's)

    def finish(self) -> None:
        """Mark the variables made from arrays as constants for transforms around this one."""
        for t in self.fresh:
            setattr(t, _FINISHED, True)

    def value(self) -> Any:
        """f's result: a Tensor in the graph, or a copy of its array."""
        return self.out if self.in_graph else np.array(self.out.data, copy=True)

    def check_used(self, grads: Sequence[Any], allow_unused: bool) -> None:
        for n, g in zip(self.nums, grads, strict=True):
            if g is None and not allow_unused:
                raise ValueError(
                    f"{self.who}: the result of fn does not depend on argument {n}: no gradient flows "
                    "back to it (was the graph cut by .data, .item(), float(), detach() or a NumPy "
                    "function?). Pass allow_unused=True to get zeros for it"
                )

    def result(
        self, g: Tensor | np.ndarray | None, shape: tuple[int, ...], create: bool, also: Sequence[Tensor] = ()
    ) -> Any:
        """A derivative as returned: an array, or (``create``) a Tensor connected to the variables
        (and to ``also``: tangents or a cotangent in a graph)."""
        if g is None:
            g = np.zeros(shape, dtype=self.out.dtype)
        if not create:
            return g.data if isinstance(g, Tensor) else g
        return _attach(g if isinstance(g, Tensor) else Tensor(g), [*self.targets, *also])


def _normalize_argnums(who: str, argnums: Any) -> tuple[bool, tuple[int, ...]]:
    """``(single, nums)``: whether one argument (an int) was asked for, and the positions."""
    if isinstance(argnums, (int, np.integer)) and not isinstance(argnums, bool):
        return True, (int(argnums),)
    if isinstance(argnums, (tuple, list)) and all(
        isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in argnums
    ):
        if not argnums:
            raise ValueError(f"{who}: argnums is empty; name at least one argument to differentiate")
        return False, tuple(int(a) for a in argnums)
    raise TypeError(f"{who}: argnums must be an int or a tuple of ints, got {argnums!r}")


def _trace(
    who: str,
    fn: Callable[..., Any],
    args: Sequence[Any],
    kwargs: dict[str, Any],
    nums: Sequence[int],
    scalar: bool = False,
) -> _Call:
    """Call ``fn`` with a fresh variable for each argument in ``nums``, recording (grad's rules)."""
    positions = []
    for n in nums:
        if not -len(args) <= n < len(args):
            raise IndexError(
                f"{who}: argnums {n} is out of range for {len(args)} positional argument"
                f"{'' if len(args) == 1 else 's'}"
            )
        p = n % len(args)
        if p in positions:
            raise ValueError(f"{who}: argnums names argument {p} twice ({tuple(nums)})")
        positions.append(p)
    recording = is_grad_enabled()
    call = list(args)
    wrt, fresh = [], []
    in_graph = False
    for p in positions:
        a = args[p]
        if isinstance(a, Tensor) and a.requires_grad and recording:
            in_graph = True
            leaf = a.clone()  # a variable of its own, in a's graph
        else:
            data = np.array(a.data if isinstance(a, Tensor) else a, copy=True)
            if data.dtype.kind != "f":
                raise TypeError(
                    f"{who}: argument {p} must be floating-point to be differentiated, got "
                    f"{describe(a)} of dtype {data.dtype}"
                )
            leaf = Tensor(data, requires_grad=True)
            fresh.append(leaf)
        call[p] = leaf
        wrt.append(leaf)
    with enable_grad():
        out = fn(*call, **kwargs)
    if not isinstance(out, Tensor):
        raise TypeError(
            f"{who}: fn returned {type(out).__name__}; it must return a Tensor computed from its "
            "arguments (a Python number has no graph: .item(), float() and .data cut it)"
        )
    if out.dtype.kind != "f":
        raise TypeError(f"{who}: fn must return floating-point values, got dtype {out.dtype}")
    if scalar and out.size != 1:
        raise TypeError(
            f"{who}: fn must return a Tensor with one element, got shape {fmt_shape(out.shape)} "
            "(for a function with a non-scalar result, use mgx.jacobian or mgx.vjp)"
        )
    # fn may close over tensors that require grad (a model's parameters): stay in their graph
    in_graph = in_graph or (recording and _depends_on_outside(out, wrt))
    others = [a for i, a in enumerate(args) if i not in positions] + list(kwargs.values())
    # (the variables made from arrays are no one else's: nothing outside can vary them)
    made = {id(x) for x in fresh}
    targets = [x for x in wrt if id(x) not in made]
    targets += [a for a in others if isinstance(a, Tensor) and a.requires_grad]
    return _Call(who, out, wrt, [int(p) for p in positions], in_graph, recording, targets, fresh)


#: Set on the variables a transform made from arrays once it has returned: they belong to no
#: caller, so a transform around it that finds them in a result's graph treats them as constants.
_FINISHED = "_finished_transform_variable"


def _depends_on_outside(out: Tensor, own: list[Tensor]) -> bool:
    """Whether ``out``'s graph reaches a leaf that requires grad other than ``own``.

    (``microgradx.gradcheck``'s walk, skipping the variables of transforms that have
    returned: a result computed inside ``f`` by ``jacobian(g)(x_array, y)`` depends on
    ``jacobian``'s own variable for ``x_array``, which no one outside can vary.)
    """
    mine = {id(t) for t in own}
    stack = [out.creator] if out.creator is not None else []
    seen = set()
    while stack:
        fn = stack.pop()
        if id(fn) in seen or fn.inputs is None:
            continue
        seen.add(id(fn))
        for x, needed in zip(fn.inputs, fn.needs_input_grad, strict=True):
            creator = creator_read_by(x, fn._recorded_at)
            if creator is not None:
                stack.append(creator)
            elif needed and id(x) not in mine and not getattr(x, _FINISHED, False):
                return True
    return False


def _attach(g: Tensor, targets: Sequence[Tensor]) -> Tensor:
    """``g`` connected to every tensor in ``targets``, with derivative 0 with respect to each.

    A derivative that does not depend on a variable (a linear function's, or one of
    ``x + y`` seen from ``y``) is constant in it: its derivative is 0. Without a
    connection, a transform around this one would find no path back and report the
    graph as cut. ``where(True, g, s)`` with ``s`` the sum of the targets has the value
    ``g`` and sends 0 to each target (and nothing through their own backward, so no
    ``0 * inf``).
    """
    s: Tensor | None = None
    for t in targets:
        if t.requires_grad:
            ts = t.sum()
            s = ts if s is None else s + ts
    if s is None:
        return g
    if s.dtype != g.dtype:
        s = s.astype(g.dtype)
    return F.where(np.ones(g.shape, dtype=bool), g, s)


def _jacobian_rows(y: Tensor, xs: Sequence[Tensor], create: bool) -> list[Tensor | np.ndarray | None]:
    """The Jacobian of ``y`` with respect to each of ``xs`` (shape ``y.shape + x.shape``), by rows.

    Row k is ``J^T e_k``: one backward pass per element of ``y``. ``None`` where
    ``y`` does not depend on ``x`` at all.
    """
    if y.size == 0:
        return [np.zeros(y.shape + x.shape, dtype=y.dtype) for x in xs]
    if not y.requires_grad:
        return [None] * len(xs)
    rows: list[list[Tensor]] = [[] for _ in xs]
    unused = [False] * len(xs)
    e = np.zeros(y.size, dtype=y.dtype)
    for k in range(y.size):
        e[k] = 1.0
        gs = _engine_vjp(y, xs, e.reshape(y.shape), create_graph=create)  # the seed is copied
        e[k] = 0.0
        for i, g in enumerate(gs):
            if g is None:
                unused[i] = True
            else:
                rows[i].append(g)
    result: list[Tensor | np.ndarray | None] = []
    for x, r, skip in zip(xs, rows, unused, strict=True):
        if skip:
            result.append(None)
        elif create:
            result.append(F.stack(r).reshape(*(y.shape + x.shape)))
        else:
            result.append(np.stack([g.data for g in r]).reshape(y.shape + x.shape))
    return result


def _pairs(who: str, primals: Any, tangents: Any) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """Check that ``primals`` and ``tangents`` are tuples of one length."""
    for name, seq in (("primals", primals), ("tangents", tangents)):
        if not isinstance(seq, (tuple, list)):
            raise TypeError(
                f"{who}: {name} must be a tuple (one entry per argument of fn), got {describe(seq)}; "
                f"for one argument write ({name[:-1]},)"
            )
    if len(primals) != len(tangents):
        raise ValueError(
            f"{who}: got {len(primals)} primals but {len(tangents)} tangents; give one tangent per primal"
        )
    if not primals:
        raise ValueError(f"{who}: primals is empty; fn needs at least one argument to differentiate")
    return tuple(primals), tuple(tangents)


def _direction(who: str, what: str, v: Any, like: Tensor, recording: bool) -> Tensor:
    """A tangent or cotangent as a Tensor of ``like``'s shape and dtype (kept as is when in a graph)."""
    if isinstance(v, Tensor) and v.requires_grad and recording:
        if v.shape != like.shape:
            raise ValueError(
                f"{who}: {what} has shape {fmt_shape(v.shape)} but must have shape {fmt_shape(like.shape)}"
            )
        return v
    data = np.asarray(v.data if isinstance(v, Tensor) else v)
    if data.dtype.kind not in "iuf":
        raise TypeError(f"{who}: {what} must be numeric, got {describe(v)} of dtype {data.dtype}")
    if data.shape != like.shape:
        raise ValueError(
            f"{who}: {what} has shape {fmt_shape(data.shape)} but must have shape {fmt_shape(like.shape)}"
        )
    return Tensor(np.array(data, dtype=like.dtype, copy=True))


def _inner(gs: Sequence[Tensor | None], vs: Sequence[Tensor]) -> Tensor | None:
    """``sum_i <g_i, v_i>`` over the ``g_i`` that are in a graph (the others contribute constants)."""
    total: Tensor | None = None
    for g, v in zip(gs, vs, strict=True):
        if g is not None and g.requires_grad:
            term = (g * v).sum()
            total = term if total is None else total + term
    return total


# --------------------------------------------------------------------------- #
# The transforms
# --------------------------------------------------------------------------- #
def value_and_grad(
    fn: Callable[..., Any], argnums: Argnums = 0, allow_unused: bool = False
) -> Callable[..., Any]:
    """``fn``'s value and its gradient from one forward and one backward pass (JAX's ``value_and_grad``).

    The same as ``(fn(*args), grad(fn, argnums)(*args))``, with ``fn`` called once.

    Parameters
    ----------
    fn : callable
        Returns a one-element Tensor computed from the differentiated arguments.
    argnums : int or tuple of int
        Which positional arguments to differentiate with respect to.
    allow_unused : bool
        Zeros, instead of a ``ValueError``, for an argument ``fn``'s result does not depend on.

    Returns
    -------
    callable
        Same arguments as ``fn``; returns ``(value, gradient)`` for an int
        ``argnums`` and ``(value, (gradient, ...))`` for a tuple. Arrays, or
        Tensors in the graph (see :func:`microgradx.grad`).

    Raises
    ------
    TypeError
        ``fn`` returned something other than a one-element floating-point Tensor,
        or a differentiated argument is not floating-point.
    IndexError
        An entry of ``argnums`` is out of range.
    ValueError
        ``fn``'s result does not depend on a differentiated argument (and
        ``allow_unused`` is False).

    Examples
    --------
    >>> import microgradx as mgx
    >>> value, g = mgx.value_and_grad(lambda x: (x ** 2).sum())(np.array([3.0, 4.0]))
    >>> value, g
    (array(25.), array([6., 8.]))
    """
    single, nums = _normalize_argnums("value_and_grad", argnums)

    @functools.wraps(fn)
    def value_and_gradient(*args: Any, **kwargs: Any) -> Any:
        c = _trace("value_and_grad", fn, args, kwargs, nums, scalar=True)
        with enable_grad():
            gs = _engine_vjp(c.out, c.wrt, create_graph=c.in_graph)
            c.check_used(gs, allow_unused)
            grads = [c.result(g, x.shape, c.in_graph) for g, x in zip(gs, c.wrt, strict=True)]
        c.finish()
        return c.value(), (grads[0] if single else tuple(grads))

    return value_and_gradient


def vjp(fn: Callable[..., Any], *primals: Any, allow_unused: bool = False) -> tuple[Any, Callable[..., Any]]:
    """``fn``'s value and its vector-Jacobian product as a function (JAX's / ``torch.func``'s ``vjp``).

    ``out, vjp_fn = vjp(fn, x, y)``; then ``vjp_fn(v)`` is ``(J_x^T v, J_y^T v)``:
    the gradient of ``<fn(x, y), v>`` with respect to each primal, one backward
    pass per call (``vjp_fn`` may be called any number of times).

    Parameters
    ----------
    fn : callable
        Takes one Tensor per primal and returns a floating-point Tensor of any shape.
    *primals : array_like or Tensor
        Floating-point arguments; every one is differentiated (to hold one
        fixed, close over it: ``vjp(lambda x: fn(x, y), x)``).
    allow_unused : bool
        Zeros, instead of a ``ValueError``, for a primal the output does not depend on.

    Returns
    -------
    out : numpy.ndarray or Tensor
        ``fn(*primals)``.
    vjp_fn : callable
        Takes a cotangent of ``out``'s shape and returns a tuple with one
        gradient per primal, each of the primal's shape. Arrays, or Tensors in
        the graph when they depend on something that requires grad (a primal,
        or the cotangent itself, that is a Tensor requiring grad).

    Examples
    --------
    >>> import microgradx as mgx
    >>> out, vjp_fn = mgx.vjp(lambda x: x ** 2, np.array([1.0, 2.0, 3.0]))
    >>> out
    array([1., 4., 9.])
    >>> vjp_fn(np.array([1.0, 0.0, 10.0]))  # 2 x * v
    (array([ 2.,  0., 60.]),)
    """
    c = _trace("vjp", fn, primals, {}, range(len(primals)))

    def vjp_fn(cotangent: Any) -> tuple[Any, ...]:
        recording = is_grad_enabled()
        v = _direction("vjp", "the cotangent", cotangent, c.out, recording)
        create = recording and (c.in_graph or v.requires_grad)
        with enable_grad():
            gs = _engine_vjp(c.out, c.wrt, v, create_graph=create)
            c.check_used(gs, allow_unused)
            return tuple(c.result(g, x.shape, create, [v]) for g, x in zip(gs, c.wrt, strict=True))

    c.finish()  # (vjp_fn's own checks know its variables)
    return c.value(), vjp_fn


def jvp(
    fn: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any], *, allow_unused: bool = False
) -> tuple[Any, Any]:
    """``fn``'s value and its Jacobian-vector product (JAX's / ``torch.func``'s ``jvp``).

    ``tangent_out = sum_i J_i t_i``, the directional derivative of ``fn`` at
    ``primals`` along ``tangents``:
    ``lim (fn(x + h t) - fn(x - h t)) / 2h``.

    Forward mode by the **double-vjp construction** (there is no forward-mode
    engine): ``u -> J^T u`` is linear in ``u``, so the vector-Jacobian product
    of that map with ``t`` is ``J t``. It costs the forward pass and two
    backward passes, whatever the sizes.

    Parameters
    ----------
    fn : callable
        Takes one Tensor per primal and returns a floating-point Tensor of any shape.
    primals : tuple
        Floating-point arguments of ``fn``, every one differentiated.
    tangents : tuple
        One direction per primal, each of the primal's shape.
    allow_unused : bool
        Zeros, instead of a ``ValueError``, for a primal the output does not depend on.

    Returns
    -------
    (out, tangent_out)
        ``fn(*primals)`` and ``J t``, both of ``out``'s shape: arrays, or
        Tensors in the graph when they depend on something that requires grad.

    Examples
    --------
    >>> import microgradx as mgx
    >>> mgx.jvp(lambda x, y: x * y, (np.array([1.0, 2.0]), np.array([3.0, 4.0])),
    ...         (np.array([1.0, 1.0]), np.array([0.0, 10.0])))  # y t_x + x t_y
    (array([3., 8.]), array([ 3., 24.]))
    """
    primals, tangents = _pairs("jvp", primals, tangents)
    c = _trace("jvp", fn, primals, {}, range(len(primals)))
    ts = [
        _direction("jvp", f"tangent {i}", t, x, c.recording)
        for i, (t, x) in enumerate(zip(tangents, c.wrt, strict=True))
    ]
    with enable_grad():
        create = c.recording and (c.in_graph or any(t.requires_grad for t in ts))
        u = Tensor(np.zeros(c.out.shape, dtype=c.out.dtype), requires_grad=True)  # any value: J^T u is linear
        gs = _engine_vjp(c.out, c.wrt, u, create_graph=True)
        c.check_used(gs, allow_unused)
        total = _inner(gs, ts)  # <J^T u, t>
        jt = None if total is None else _engine_vjp(total, [u], create_graph=create)[0]
        c.finish()
        return c.value(), c.result(jt, c.out.shape, create, ts)


def jacobian(fn: Callable[..., Any], argnums: Argnums = 0, allow_unused: bool = False) -> Callable[..., Any]:
    """The Jacobian of ``fn`` as a function (JAX's ``jacobian`` / ``jacrev``, ``torch.func.jacrev``).

    ``J[i..., j...] = d out[i...] / d x[j...]``, of shape ``out.shape + x.shape``.
    Reverse mode: row ``i`` is the vector-Jacobian product with the unit vector
    ``e_i``, one backward pass per element of ``out``. For a scalar output it is
    :func:`microgradx.grad` (with ``out.shape`` in front: ``()`` or ``(1,)``).

    Parameters
    ----------
    fn : callable
        Returns a floating-point Tensor of any shape.
    argnums : int or tuple of int
        Which positional arguments to differentiate with respect to.
    allow_unused : bool
        Zeros, instead of a ``ValueError``, for an argument the output does not depend on.

    Returns
    -------
    callable
        Same arguments as ``fn``; returns the Jacobian for an int ``argnums``, a
        tuple of them for a tuple. Arrays, or Tensors in the graph (so that
        ``jacobian(jacobian(f))`` is the Hessian).

    Examples
    --------
    >>> import microgradx as mgx
    >>> mgx.jacobian(lambda x: x ** 2)(np.array([1.0, 2.0]))
    array([[2., 0.],
           [0., 4.]])
    >>> J_x, J_W = mgx.jacobian(lambda x, W: W @ x, argnums=(0, 1))(np.ones(3), np.ones((2, 3)))
    >>> J_x.shape, J_W.shape
    ((2, 3), (2, 2, 3))
    """
    single, nums = _normalize_argnums("jacobian", argnums)

    @functools.wraps(fn)
    def jacobian_of_fn(*args: Any, **kwargs: Any) -> Any:
        c = _trace("jacobian", fn, args, kwargs, nums)
        with enable_grad():
            js = _jacobian_rows(c.out, c.wrt, c.in_graph)
            c.check_used(js, allow_unused)
            out = [c.result(j, c.out.shape + x.shape, c.in_graph) for j, x in zip(js, c.wrt, strict=True)]
        c.finish()
        return out[0] if single else tuple(out)

    return jacobian_of_fn


def hessian(fn: Callable[..., Any], argnums: Argnums = 0, allow_unused: bool = False) -> Callable[..., Any]:
    """The Hessian of a scalar-valued ``fn`` as a function (JAX's / ``torch.func``'s ``hessian``).

    ``H[i..., j...] = d^2 fn / (d x[i...] d x[j...])``, of shape ``x.shape + x.shape``:
    the Jacobian of the recorded gradient (reverse over reverse), one backward
    pass per element of ``x``. ``hessian(f)`` equals ``jacobian(grad(f))``.

    Parameters
    ----------
    fn : callable
        Returns a one-element floating-point Tensor.
    argnums : int or tuple of int
        Which positional arguments to differentiate with respect to.
    allow_unused : bool
        Zeros, instead of a ``ValueError``, for an argument the output does not depend on.

    Returns
    -------
    callable
        Same arguments as ``fn``; returns the Hessian for an int ``argnums``,
        and for a tuple the blocks ``H[a][b] = d^2 fn / (d x_a d x_b)`` (shape
        ``x_a.shape + x_b.shape``) as a tuple of tuples, as JAX does.

    Examples
    --------
    >>> import microgradx as mgx
    >>> mgx.hessian(lambda x: x[0] ** 2 * x[1])(np.array([1.0, 2.0]))  # [[2 x1, 2 x0], [2 x0, 0]]
    array([[4., 2.],
           [2., 0.]])
    """
    single, nums = _normalize_argnums("hessian", argnums)

    @functools.wraps(fn)
    def hessian_of_fn(*args: Any, **kwargs: Any) -> Any:
        c = _trace("hessian", fn, args, kwargs, nums, scalar=True)
        with enable_grad():
            gs = _engine_vjp(c.out, c.wrt, create_graph=True)
            c.check_used(gs, allow_unused)
            blocks = []
            for g, xa in zip(gs, c.wrt, strict=True):
                hs = [None] * len(c.wrt) if g is None else _jacobian_rows(g, c.wrt, c.in_graph)
                blocks.append(
                    tuple(
                        c.result(h, xa.shape + xb.shape, c.in_graph) for h, xb in zip(hs, c.wrt, strict=True)
                    )
                )
        c.finish()
        return blocks[0][0] if single else tuple(blocks)

    return hessian_of_fn


def hvp(
    fn: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any], *, allow_unused: bool = False
) -> tuple[Any, tuple[Any, ...]]:
    """``fn``'s value and its Hessian-vector product (``torch.autograd.functional.hvp``).

    ``product_a = sum_b H[a][b] t_b``, the derivative of the gradient along
    ``tangents``, computed reverse over reverse: ``H t = d<grad fn, t>/dx`` (the
    Hessian is symmetric), two backward passes, the first recorded. The Hessian
    itself is never formed.

    Parameters
    ----------
    fn : callable
        Takes one Tensor per primal and returns a one-element floating-point Tensor.
    primals : tuple
        Floating-point arguments of ``fn``, every one differentiated.
    tangents : tuple
        One vector per primal, each of the primal's shape.
    allow_unused : bool
        Zeros, instead of a ``ValueError``, for a primal the output does not depend on.

    Returns
    -------
    (value, product)
        ``fn(*primals)`` and a tuple with one product per primal, of its shape.

    Examples
    --------
    >>> import microgradx as mgx
    >>> mgx.hvp(lambda x: (x ** 3).sum(), (np.array([1.0, 2.0]),), (np.array([1.0, 1.0]),))  # 6 x t
    (array(9.), (array([ 6., 12.]),))
    """
    primals, tangents = _pairs("hvp", primals, tangents)
    c = _trace("hvp", fn, primals, {}, range(len(primals)), scalar=True)
    ts = [
        _direction("hvp", f"tangent {i}", t, x, c.recording)
        for i, (t, x) in enumerate(zip(tangents, c.wrt, strict=True))
    ]
    with enable_grad():
        create = c.recording and (c.in_graph or any(t.requires_grad for t in ts))
        gs = _engine_vjp(c.out, c.wrt, create_graph=True)
        c.check_used(gs, allow_unused)
        total = _inner(gs, ts)  # <grad fn, t>
        hs: Sequence[Tensor | None] = (
            [None] * len(c.wrt) if total is None else _engine_vjp(total, c.wrt, create_graph=create)
        )
        c.finish()
        return c.value(), tuple(c.result(h, x.shape, create, ts) for h, x in zip(hs, c.wrt, strict=True))
