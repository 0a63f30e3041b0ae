"""Gradient checking: the central-difference oracle, ``gradcheck`` and ``grad``.

``numerical_gradient`` is the oracle every op is tested against. ``gradcheck``
compares reverse-mode gradients with it and, when they differ, says which
input, which element, both values and the tolerance. ``grad`` turns a scalar
function of Tensors into a function that returns its gradient as NumPy arrays.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .autograd import enable_grad, no_grad, vjp
from .errors import GradcheckError, describe, fmt_shape
from .tensor import Tensor
from .transforms import _normalize_argnums, _trace

__all__ = ["GradcheckWarning", "grad", "gradcheck", "numerical_gradient"]


class GradcheckWarning(UserWarning):
    """Central differences are too coarse here: an input is not float64, or the step is too small."""


def numerical_gradient(f: Callable[[np.ndarray], Any], x: np.ndarray, h: float = 1e-4) -> np.ndarray:
    """Central-difference gradient of scalar ``f`` at ``x``: the oracle every op is tested against.

    For each element, ``(f(x + h e_i) - f(x - h e_i)) / (2 h)``, the formula of
    *Deep Learning from Scratch* generalised to any shape. ``x`` is perturbed in
    place one element at a time and restored unchanged on return (also when
    ``f`` raises).

    Parameters
    ----------
    f : callable
        Takes an array shaped like ``x``, returns a scalar (a number, a
        one-element array or Tensor).
    x : numpy.ndarray
        A float array of any shape.
    h : float
        The step; 1e-4 as in the book.

    Returns
    -------
    numpy.ndarray
        The gradient, shaped like ``x``.

    Examples
    --------
    >>> numerical_gradient(lambda x: np.sum(x ** 2), np.array([3.0, 4.0]))
    array([6., 8.])
    """
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
        raise TypeError(
            f"numerical_gradient: x must be a float numpy.ndarray, got {describe(x)}"
            + (f" of dtype {x.dtype}" if isinstance(x, np.ndarray) else "")
        )
    if not x.flags.writeable:
        raise ValueError("numerical_gradient: x must be writeable (it is perturbed in place)")
    _check_resolution(x, h)
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        orig = x[idx].copy()
        try:
            x[idx] = orig + h
            f_plus = _scalar(f(x))
            x[idx] = orig - h
            f_minus = _scalar(f(x))
        finally:
            x[idx] = orig
        grad[idx] = (f_plus - f_minus) / (2 * h)
    return grad


def _check_resolution(x: np.ndarray, h: float) -> None:
    """Refuse a step ``x``'s dtype cannot represent, and warn where it is represented coarsely.

    Where ``x + h == x`` central differences give 0: an error. Where the step actually taken,
    ``(x + h) - (x - h)``, is more than 1% off ``2 h`` (float32 at 300, float64 with h = 1e-15),
    they are off by as much, and in float32 or float16 the rounding of ``f`` itself costs most
    digits: a warning.
    """
    if not (np.isfinite(h) and h > 0):
        raise ValueError(f"numerical_gradient: h must be a positive number, got {h!r}")
    with np.errstate(over="ignore", invalid="ignore"):
        lost = (x + h == x) | (x - h == x)
        off = np.abs(((x + h) - (x - h)) / (2 * h) - 1)
    advice = (
        "Use a larger h (gradcheck's eps), still small against the scale of x"
        if x.dtype == np.float64
        else "Use float64 inputs (x.astype(np.float64)), or a larger h (gradcheck's eps)"
    )
    if lost.any():
        idx = tuple(int(i) for i in np.argwhere(lost)[0])
        step = float(np.spacing(np.abs(x[idx]).astype(x.dtype)))
        raise ValueError(
            f"numerical_gradient: x + h == x at index {idx} (x = {x[idx].item()!r} in {x.dtype}, "
            f"h = {h!r}): the step is below the resolution of {x.dtype} there (spacing {step:.3g}), "
            f"so central differences would give 0. {advice}"
        )
    worst = np.nanmax(off) if off.size else 0.0
    if worst > 0.01:
        idx = tuple(int(i) for i in np.unravel_index(int(np.nanargmax(off)), x.shape))
        warnings.warn(
            f"numerical_gradient: at index {idx} (x = {x[idx].item()!r} in {x.dtype}) the step "
            f"h = {h!r} is stored {100 * worst:.0f}% off, so the gradient will be off by about as "
            f"much. {advice}",
            GradcheckWarning,
            stacklevel=3,
        )
    elif x.dtype != np.float64:
        warnings.warn(
            f"numerical_gradient: x is {x.dtype}; rounding f's values in {x.dtype} costs most of the "
            f"digits of a central difference (about eps * |f| / h). {advice}",
            GradcheckWarning,
            stacklevel=3,
        )


def _scalar(value: Any) -> float:
    arr = np.asarray(value.data if isinstance(value, Tensor) else value)
    if arr.size != 1:
        raise ValueError(f"numerical_gradient: f must return a scalar, got a value of shape {arr.shape}")
    return float(arr.reshape(()))


# --------------------------------------------------------------------------- #
# gradcheck
# --------------------------------------------------------------------------- #
def gradcheck(
    fn: Callable[..., Tensor],
    *inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    order: int = 1,
    max_full_size: int = 1000,
    seed: int = 0,
    locate: bool = True,
) -> bool:
    """Check the reverse-mode gradients of ``fn`` against central differences.

    For an output of any shape, a random weighting ``v`` of the output (seeded
    by ``seed``) is drawn and the vector-Jacobian product ``J^T v`` from
    backward is compared, for every floating-point input, with central
    differences of ``<fn(x), v>``, element by element. A random ``v`` (rather
    than ones) makes a backward that ignores its incoming gradient fail. An
    input with more than ``max_full_size`` elements is checked by the
    projection ``<v, J u> = <J^T v, u>`` for three random directions ``u``
    instead (two evaluations each, not two per element).

    When an element is off, the numbers reported are recomputed without the
    weighting: for a one-element output, the gradient itself (cotangent 1,
    central differences of ``fn`` itself); otherwise the column ``i`` of the
    Jacobian at the worst element (one backward per output element, two
    evaluations of ``fn``) and its worst entry ``d out[j] / d in[i]``.

    Use float64 inputs: in float32 central differences are too coarse to check
    anything (a ``GradcheckWarning`` says so).

    Parameters
    ----------
    fn : callable
        Maps Tensors (one per input) to a Tensor of any shape.
    *inputs : array_like or Tensor
        Floating-point inputs are checked; integer ones are passed as constants.
    eps : float
        The central-difference step.
    atol, rtol : float
        An element passes when ``|analytic - numerical| <= atol + rtol * |numerical|``.
    raise_exception : bool
        Raise :class:`GradcheckError` on failure (default), else return ``False``.
    order : int
        1 checks first derivatives; 2 also checks the gradients built with
        ``create_graph=True`` (second derivatives), and so on.
    max_full_size : int
        Inputs with more elements are checked by random projections.
    seed : int
        Seeds the random weightings and directions.
    locate : bool
        On failure, also check every op ``fn`` records on its own and name the
        first whose backward is wrong (see
        :func:`microgradx.testing.locate_wrong_backward`).

    Returns
    -------
    bool
        ``True`` when every gradient matches.

    Raises
    ------
    GradcheckError
        An ``AssertionError`` naming the input, the worst element's index, the
        analytic and numerical values and the tolerance, in Jacobian terms: the
        random weighting only detects a mistake; the values shown are the gradient
        itself for a one-element output, the worst Jacobian entry
        ``d out[j] / d in[i]`` otherwise. With ``locate`` (the default) the message
        goes on with the report of the ops checked one by one (the first wrong one,
        the file and line that called it, its inputs' shapes, its worst element),
        also available as the error's ``report`` attribute.

    Examples
    --------
    >>> import microgradx as mgx
    >>> gradcheck(lambda x, W: (x @ W).tanh(), np.ones((2, 3)), np.full((3, 4), 0.1))
    True
    >>> class Twice(mgx.Function):  # a planted mistake: the true derivative of x**2 is 2x
    ...     def forward(self, x):
    ...         return x ** 2
    ...     def backward(self, gy):
    ...         return gy * 4 * self.inputs[0]
    >>> gradcheck(Twice.apply, np.array([1.0, 2.0]), raise_exception=False)
    False
    """
    if order < 1:
        raise ValueError(f"gradcheck: order must be 1 or more, got {order}")
    arrays, names = _prepare(inputs)
    checked = [i for i, a in enumerate(arrays) if a.dtype.kind == "f"]
    if not checked:
        raise ValueError("gradcheck: no floating-point input to check")
    rng = np.random.default_rng(seed)
    try:
        _check_first_order(fn, arrays, names, checked, eps, atol, rtol, max_full_size, rng, 1)
        for k in range(2, order + 1):
            fn = _gradient_function(fn, arrays, checked, rng)
            _check_first_order(fn, arrays, names, checked, eps, atol, rtol, max_full_size, rng, k)
    except GradcheckError as err:
        if not raise_exception:
            return False
        if locate:
            _add_report(err, fn, arrays, eps, atol, rtol, max_full_size, seed)
        raise
    return True


def _add_report(
    err: GradcheckError,
    fn: Callable[..., Tensor],
    arrays: list[np.ndarray],
    eps: float,
    atol: float,
    rtol: float,
    max_full_size: int,
    seed: int,
) -> None:
    """Check ``fn``'s ops one by one and add the report to ``err`` (its message and ``err.report``)."""
    from .debug import _locate

    try:
        report = _locate(fn, arrays, eps, atol, rtol, max_full_size, seed)
        text = str(report)
    except Exception as e:  # noqa: BLE001 (the gradient check's finding stands on its own)
        report, text = None, f"(The ops could not be checked one by one: {type(e).__name__}: {e})"
    err.report = report  # type: ignore[attr-defined]
    err.args = (f"{err.args[0]}\n\n{text}",) if text else err.args


def _prepare(inputs: Sequence[Any]) -> tuple[list[np.ndarray], list[str]]:
    arrays, names = [], []
    for i, x in enumerate(inputs):
        a = np.array(x.data if isinstance(x, Tensor) else x, copy=True)
        if a.dtype.kind not in "biuf":
            raise TypeError(f"gradcheck: input {i} must be numeric, got {describe(x)}")
        if a.dtype.kind == "f" and a.dtype != np.float64:
            warnings.warn(
                f"gradcheck: input {i} is {a.dtype}; central differences in {a.dtype} are too "
                "coarse to check gradients reliably. Pass float64 inputs.",
                GradcheckWarning,
                stacklevel=3,
            )
        name = getattr(x, "name", None)
        label = f"input {i}" + (f" {name!r}" if name else "")
        names.append(f"{label} (shape {fmt_shape(a.shape)}, {a.dtype})")
        arrays.append(a)
    return arrays, names


def _call(
    fn: Callable[..., Tensor], arrays: list[np.ndarray], grad_for: Sequence[int]
) -> tuple[list[Tensor], Tensor]:
    leaves = [Tensor(a, requires_grad=i in grad_for) for i, a in enumerate(arrays)]
    out = fn(*leaves)
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: fn must return a Tensor, got {describe(out)}")
    if out.dtype.kind != "f":
        raise TypeError(f"gradcheck: fn must return floating-point values, got dtype {out.dtype}")
    return leaves, out


def _check_first_order(
    fn: Callable[..., Tensor],
    arrays: list[np.ndarray],
    names: list[str],
    checked: list[int],
    eps: float,
    atol: float,
    rtol: float,
    max_full_size: int,
    rng: np.random.Generator,
    order: int,
) -> None:
    leaves, out = _call(fn, arrays, checked)
    v = rng.uniform(-1.0, 1.0, size=out.shape)
    analytic = vjp(out, [leaves[i] for i in checked], v)
    what = "gradient" if order == 1 else f"order-{order} gradient (create_graph=True)"

    def forward(args: list[np.ndarray]) -> np.ndarray:
        with no_grad():
            return _call(fn, args, ())[1].data

    from .debug import _find_mismatch

    for i, g in zip(checked, analytic, strict=True):
        a = np.zeros_like(arrays[i]) if g is None else g.data

        def backward(cot: np.ndarray, i: int = i) -> np.ndarray:
            (gi,) = vjp(out, [leaves[i]], cot)
            return np.zeros_like(arrays[i]) if gi is None else gi.data

        m = _find_mismatch(forward, backward, arrays, i, v, a, eps, atol, rtol, max_full_size, rng)
        if m is not None:
            raise GradcheckError(f"gradcheck: the {what} of {names[i]} is wrong {m.text()}")


def _gradient_function(
    fn: Callable[..., Tensor], arrays: list[np.ndarray], checked: list[int], rng: np.random.Generator
) -> Callable[..., Tensor]:
    """``x -> sum_i <grad_i(x), w_i>`` built with create_graph=True: its gradient is second order."""
    probe = _call(fn, arrays, checked)[1]
    v = rng.uniform(-1.0, 1.0, size=probe.shape)
    w = [rng.uniform(-1.0, 1.0, size=arrays[i].shape) for i in checked]

    def gradient_of_fn(*ts: Tensor) -> Tensor:
        with enable_grad():
            # the numerical side passes constants: make them leaves so that fn has gradients
            ts2 = [
                t if t.requires_grad or i not in checked else t.detach().requires_grad_()
                for i, t in enumerate(ts)
            ]
            out = fn(*ts2)
            grads = vjp(out, [ts2[i] for i in checked], v, create_graph=True)
            total = Tensor(0.0)
            for g, wk in zip(grads, w, strict=True):
                if g is not None:
                    total = total + (g * wk).sum()
            return total

    return gradient_of_fn


# --------------------------------------------------------------------------- #
# grad
# --------------------------------------------------------------------------- #
def grad(
    fn: Callable[..., Any], argnums: int | Sequence[int] = 0, allow_unused: bool = False
) -> Callable[..., Any]:
    """The gradient of a scalar-valued ``fn`` as a function (autograd / JAX style).

    ``grad`` composes: ``grad(grad(f))`` is the second derivative, to any order.
    Arrays (or numbers) in give NumPy arrays out. The gradient is a Tensor that is
    part of the graph (computed with ``create_graph=True``), so that the caller
    can differentiate it again, when it depends on something that requires grad:
    an argument that is a Tensor requiring grad (as inside another ``grad``), or
    a tensor ``fn`` uses from outside (a model's parameters, as in a gradient
    penalty ``loss + (grad(f)(x) ** 2).sum()``). Under ``no_grad`` it is always
    arrays. As in JAX and ``torch.func``, ``fn`` is differentiated with respect to
    its argument as a variable of its own: a tensor ``fn`` also uses from outside
    is a constant here, even if it is the same tensor (``grad(lambda y: x * y)(x)``
    is ``x``, not ``2 x``).

    Parameters
    ----------
    fn : callable
        Takes Tensors (and anything else) and returns a one-element Tensor
        computed from the differentiated arguments.
    argnums : int or tuple of int
        Which positional arguments to differentiate with respect to.
    allow_unused : bool
        If ``fn``'s result does not depend on an argument, return zeros for it
        (as PyTorch's ``allow_unused``) instead of raising.

    Returns
    -------
    callable
        Same arguments as ``fn``; returns the gradient (of the argument's shape)
        for an int ``argnums``, a tuple of them for a tuple.

    Raises
    ------
    TypeError
        ``fn`` returned something other than a one-element Tensor (a Python
        number has no graph: ``.item()``, ``float()`` and ``.data`` cut it).
    ValueError
        ``fn``'s result does not depend on a differentiated argument, and
        ``allow_unused`` is False.

    Examples
    --------
    >>> df = grad(lambda x: (x ** 2).sum())
    >>> df(np.array([3.0, 4.0]))
    array([6., 8.])
    >>> grad(lambda x, y: x * y, argnums=(0, 1))(2.0, 5.0)
    (array(5.), array(2.))
    >>> grad(grad(lambda x: x ** 3))(2.0)  # 6 x
    array(12.)
    """
    single, nums = _normalize_argnums("grad", argnums)

    @functools.wraps(fn)
    def gradient(*args: Any, **kwargs: Any) -> Any:
        # the same machinery as value_and_grad (microgradx.transforms), so that grad composes with
        # the other transforms: fresh variables per argument, staying in the graph when needed
        c = _trace("grad", fn, args, kwargs, nums, scalar=True)
        with enable_grad():
            gs = vjp(c.out, c.wrt, create_graph=c.in_graph)
            c.check_used(gs, allow_unused)
            grads = [c.result(g, x.shape, c.in_graph) for g, x in zip(gs, c.wrt, strict=True)]
        c.finish()
        return grads[0] if single else tuple(grads)

    return gradient
