"""NumPy functions and ufuncs called on Tensors: ``np.sum(t)``, ``np.exp(t)``, ``ndarray * t``.

NumPy hands such a call to ``Tensor.__array_function__`` (functions) or
``Tensor.__array_ufunc__`` (ufuncs, and the operators of ``ndarray``), which
call :func:`array_function` and :func:`array_ufunc` here. A call ends in one
of three ways:

1. microgradx has the operation, and it runs: a Tensor with gradients comes
   back. An ``ndarray`` operator with a Tensor operand calls the Tensor's
   operator (``ndarray * t`` is ``t.__rmul__(ndarray)``, exactly as ``2 * t``);
   any other NumPy name calls the function of the same name in
   :mod:`microgradx.functional` (looked up at call time), or the one
   ``ALIASES`` names (``np.concatenate`` -> ``F.concatenate`` or ``F.concat``,
   ``np.zeros_like`` -> ``mgx.zeros_like``). NumPy's arguments are passed by
   name, the leading data arguments by position; a NumPy default the
   microgradx function does not share is passed explicitly (NumPy's meaning
   is kept); an argument it lacks is a ``TypeError`` naming it, and so is
   ``out=`` (writing into an array would lose the gradient).
2. The result holds no floating-point values, so no gradient can be lost
   (``np.shape``, ``np.isnan``, ``np.argsort``, ``np.allclose``, integer
   tensors): NumPy runs on the data, and arrays in the result come back as
   Tensors (as comparisons give).
3. Otherwise a ``TypeError`` names the NumPy function and what to call
   instead, or says there is none and how to get the values without gradient
   (``np.median(t.numpy())``). Never a silently detached result.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from . import creation as _creation
from . import functional as F
from .tensor import Tensor

#: NumPy names whose microgradx counterpart has another name (the first that exists is used).
ALIASES: dict[str, tuple[str, ...]] = {
    "absolute": ("abs",),
    "fabs": ("abs",),
    "amax": ("max",),
    "amin": ("min",),
    "around": ("round",),
    "concatenate": ("concatenate", "concat"),
    "expand_dims": ("expand_dims", "unsqueeze"),
    "linalg.norm": ("norm",),
    "linalg.matmul": ("matmul",),
}


def _ravel(a: Any) -> Tensor:
    return F.reshape(a, (-1,))


def _copy(a: Any) -> Tensor:
    return F.clone(a)


#: NumPy functions written with microgradx ops here (name -> (function, how it is shown)).
ADAPTERS: dict[str, tuple[Callable[..., Any], str]] = {
    "ravel": (_ravel, "F.reshape(x, (-1,))"),
    "copy": (_copy, "F.clone"),
}

#: What to call instead, for NumPy functions that microgradx lacks (F.* entries are shown
#: only where F has them at the time of the call).
INSTEAD: dict[str, tuple[str, ...]] = {
    "append": ("F.concatenate",),
    "vstack": ("F.concatenate", "F.stack"),
    "hstack": ("F.concatenate",),
    "dstack": ("F.concatenate", "F.stack"),
    "column_stack": ("F.concatenate", "F.stack"),
    "atleast_1d": ("F.reshape",),
    "atleast_2d": ("F.reshape",),
    "atleast_3d": ("F.reshape",),
    "moveaxis": ("F.permute", "F.transpose"),
    "rollaxis": ("F.permute", "F.transpose"),
    "matrix_transpose": ("F.swapaxes", "F.transpose"),
    "broadcast_arrays": ("F.broadcast_to",),
    "average": ("F.mean", "F.sum"),
    "diff": ("x[1:] - x[:-1]",),
    "ptp": ("F.max(x) - F.min(x)",),
    "inner": ("F.tensordot", "F.dot"),
    "vdot": ("F.dot",),
    "cumulative_sum": ("F.cumsum",),
    "cumulative_prod": ("F.cumprod",),
    "linalg.vector_norm": ("F.norm",),
    "linalg.matrix_norm": ("F.norm",),
    "heaviside": ("F.where",),
    "select": ("F.where",),
    "piecewise": ("F.where",),
    "nan_to_num": ("F.where",),
    "float_power": ("F.power", "x ** y"),
    "rint": ("F.round",),
    "trunc": ("F.floor", "F.ceil"),
    "fix": ("F.floor", "F.ceil"),
    "logaddexp": ("F.logsumexp(F.stack([x, y]), axis=0)",),
}

#: Arguments that change only how NumPy computes, never the result: left out.
IGNORED: dict[str, set[str]] = {"einsum": {"optimize"}}

#: NumPy functions that write into an argument: on a Tensor they would bypass the graph.
WRITES_IN_PLACE = {"put", "place", "putmask", "copyto", "fill_diagonal", "put_along_axis"}

#: ufunc -> (the Tensor's operator, its reflected form): ``ndarray <op> Tensor`` lands here.
OPERATORS: dict[np.ufunc, tuple[str, str]] = {
    np.add: ("__add__", "__radd__"),
    np.subtract: ("__sub__", "__rsub__"),
    np.multiply: ("__mul__", "__rmul__"),
    np.divide: ("__truediv__", "__rtruediv__"),
    np.power: ("__pow__", "__rpow__"),
    np.matmul: ("__matmul__", "__rmatmul__"),
    np.less: ("__lt__", "__gt__"),
    np.less_equal: ("__le__", "__ge__"),
    np.greater: ("__gt__", "__lt__"),
    np.greater_equal: ("__ge__", "__le__"),
    np.equal: ("__eq__", "__eq__"),
    np.not_equal: ("__ne__", "__ne__"),
    np.negative: ("__neg__", "__neg__"),
    np.positive: ("__pos__", "__pos__"),
}

#: ufunc.reduce and ufunc.accumulate with a microgradx counterpart (NumPy's default axis is 0).
REDUCTIONS = {"add": "sum", "multiply": "prod", "maximum": "max", "minimum": "min"}
REDUCTIONS.update({"logical_and": "all", "logical_or": "any"})
ACCUMULATIONS = {"add": "cumsum", "multiply": "cumprod"}

#: ufunc keyword arguments at their defaults (given explicitly, they change nothing).
_UFUNC_DEFAULTS: dict[str, Any] = {
    "where": True,
    "casting": "same_kind",
    "order": "K",
    "dtype": None,
    "subok": True,
    "signature": None,
}

_EMPTY = inspect.Parameter.empty
_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
_VAR_POSITIONAL = inspect.Parameter.VAR_POSITIONAL
_VAR_KEYWORD = inspect.Parameter.VAR_KEYWORD


# ---------------------------------------------------------------------- #
# the two entry points
# ---------------------------------------------------------------------- #
def array_function(
    func: Callable[..., Any], types: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    """``Tensor.__array_function__``: ``np.<func>(*args, **kwargs)`` with a Tensor among the arguments."""
    if not all(issubclass(t, (Tensor, np.ndarray)) for t in types):
        return NotImplemented  # another library's arrays: let it (or NumPy) decide
    key = _key(func)
    shown = f"numpy.{key}"
    if key.rsplit(".", 1)[-1] in WRITES_IN_PLACE:
        raise TypeError(
            f"{shown}() writes into an argument in place: into a Tensor it would bypass the graph "
            "(write t[index] = values, recorded), and a Tensor's values written into an array lose "
            "the gradient (pass t.numpy() for the values alone)"
        )
    np_sig = _signature(func)
    bound = None
    if np_sig is not None:
        try:
            bound = np_sig.bind(*args, **kwargs)
        except TypeError as e:
            raise TypeError(f"{shown}(): {e}") from None
    target = _target(key)
    if target is not None and bound is not None:
        fn, label = target
        for ignored in IGNORED.get(key, ()):
            bound.arguments.pop(ignored, None)
        try:
            pos, kw = _match(shown, bound, fn, label)
        except _NoMatch as e:  # e.g. np.where(cond) with one argument: NumPy's other meaning
            result = _on_data(func, args, kwargs)
            if result is not _FLOAT:
                return result
            raise TypeError(f"{shown}() on a Tensor: {e}") from None
        return fn(*pos, **kw)
    out = bound.arguments.get("out") if bound is not None else kwargs.get("out")
    if out is not None:
        raise _out_error(shown)
    result = _on_data(func, args, kwargs)
    if result is not _FLOAT:
        return result
    raise _no_counterpart(shown, key)


def array_ufunc(ufunc: np.ufunc, method: str, inputs: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """``Tensor.__array_ufunc__``: ``np.<ufunc>(...)``, ``ufunc.reduce(...)`` or an ``ndarray``
    operator, with a Tensor among the inputs (or outputs)."""
    if method == "__call__" and not kwargs and len(inputs) == 2 and ufunc in OPERATORS:
        return _operator(ufunc, inputs)  # ndarray <op> Tensor, the common case: first
    outs = kwargs.pop("out", None) or ()
    for x in (*inputs, *outs):
        if hasattr(type(x), "__array_ufunc__") and not isinstance(x, (Tensor, np.ndarray, np.generic)):
            return NotImplemented  # another library's arrays: let it decide
    name = ufunc.__name__
    shown = f"numpy.{name}" if method == "__call__" else f"numpy.{name}.{method}"
    if any(o is not None for o in outs):
        raise _out_error(shown, ufunc if method == "__call__" else None)
    if method == "at":
        raise TypeError(
            f"{shown}() writes into its first argument in place, which on a Tensor would bypass the "
            "graph; write t[index] = values (recorded), or use a scatter op of microgradx.functional"
        )
    if method == "outer" and len(inputs) == 2:  # ufunc(a[..., None, ..., None], b)
        a, b = inputs
        a = _reshape(a, np.shape(_strip(a)) + (1,) * np.ndim(_strip(b)))
        return array_ufunc(ufunc, "__call__", (a, b), kwargs)
    if method == "__call__" and ufunc in OPERATORS:
        _ufunc_kwargs(shown, kwargs, None, f"the {_SYMBOLS.get(name, name)} operator")
        return _operator(ufunc, inputs)
    if method == "__call__":
        target = _target(name)
    elif method in ("reduce", "accumulate") and len(inputs) == 1:
        table = REDUCTIONS if method == "reduce" else ACCUMULATIONS
        target = _target(table[name]) if name in table else None
        if target is not None:
            kwargs.setdefault("axis", 0)  # NumPy's default axis for ufunc.reduce and .accumulate
    else:
        target = None
    if target is not None:
        fn, label = target
        return fn(*inputs, **_ufunc_kwargs(shown, kwargs, fn, label))
    if method == "__call__" and _gives_float(ufunc, inputs):
        raise _no_counterpart(shown, name)  # known without computing (and warning about) the values
    result = _on_data(ufunc if method == "__call__" else getattr(ufunc, method), inputs, kwargs)
    if result is not _FLOAT:
        return result
    raise _no_counterpart(shown, name)


# ---------------------------------------------------------------------- #
# finding the microgradx counterpart and matching the arguments
# ---------------------------------------------------------------------- #
class _NoMatch(Exception):
    """The microgradx function cannot take this call's arguments."""


def _key(func: Callable[..., Any]) -> str:
    """``sum`` for numpy.sum, ``linalg.norm`` for numpy.linalg.norm."""
    module = getattr(func, "__module__", None) or "numpy"
    name = getattr(func, "__name__", repr(func))
    parts = (
        [p for p in module.split(".")[1:] if not p.startswith("_")]
        if module.startswith("numpy")
        else [module]
    )
    return ".".join([*parts, name])


def _target(key: str) -> tuple[Callable[..., Any], str] | None:
    """The microgradx function for a NumPy name (looked up now: ops are added to F over time)."""
    if key in ADAPTERS:
        return ADAPTERS[key]
    names = ALIASES.get(key, () if "." in key else (key,))
    for n in names:
        if n in F.__all__:
            return getattr(F, n), f"microgradx.functional.{n}"
        if n.endswith("_like") and n in _creation.__all__:
            return getattr(_creation, n), f"microgradx.{n}"
    return None


def _plain(sig: inspect.Signature | None) -> str:
    """``(x, axis=None, keepdims=False)``: a signature without its annotations, for messages."""
    if sig is None:
        return ""
    params = [p.replace(annotation=_EMPTY) for p in sig.parameters.values()]
    return str(sig.replace(parameters=params, return_annotation=_EMPTY))


def _hint(unknown: list[str]) -> str:
    if "dtype" in unknown:
        return " (t.astype(dtype) converts a tensor)"
    return ""


@functools.lru_cache(maxsize=512)
def _signature(fn: Callable[..., Any]) -> inspect.Signature | None:
    try:
        return inspect.signature(fn)
    except (TypeError, ValueError):
        return None


def _is_default(value: Any, default: Any) -> bool:
    """Whether an explicitly given argument equals NumPy's default (so leaving it out changes nothing)."""
    if value is default:
        return True
    simple = (type(None), bool, int, float, str)
    return type(value) is type(default) and isinstance(value, simple) and value == default


def _match(
    shown: str, bound: inspect.BoundArguments, fn: Callable[..., Any], label: str
) -> tuple[list[Any], dict[str, Any]]:
    """NumPy's arguments (``bound``) as positional and keyword arguments of ``fn``.

    A NumPy argument goes to ``fn``'s argument of the same name, or else to the one at
    its position (when that one's name is not NumPy's: ``a`` is ``x``, ``a_min`` is
    ``lo``); the leading ones by position, the rest by name. ``out=`` and arguments
    ``fn`` lacks raise ``TypeError``; a call ``fn`` cannot bind raises :class:`_NoMatch`.
    """
    sig = _signature(fn)
    if sig is None:  # not introspectable: pass the call through as written
        return list(bound.args), dict(bound.kwargs)
    params = list(sig.parameters.values())
    positional = [p for p in params if p.kind in _POSITIONAL]
    by_name = {p.name: p for p in params if p.kind not in (_VAR_POSITIONAL, _VAR_KEYWORD)}
    takes_varargs = any(p.kind is _VAR_POSITIONAL for p in params)
    takes_kwargs = any(p.kind is _VAR_KEYWORD for p in params)
    np_params = bound.signature.parameters
    pos: list[Any] = []
    kw: dict[str, Any] = {}
    unknown: list[str] = []

    def counterpart(i: int, name: str, kind: Any) -> str | None:
        if name in by_name:
            return name
        if kind in _POSITIONAL and i < len(positional) and positional[i].name not in np_params:
            return positional[i].name
        return name if takes_kwargs else None

    for i, p in enumerate(np_params.values()):
        if p.name not in bound.arguments:
            # NumPy's default holds: pass it where fn has this argument with another default
            q = by_name.get(p.name)
            if q is not None and p.default is not _EMPTY and p.default is not np._NoValue:  # type: ignore
                if q.default is _EMPTY or not _is_default(q.default, p.default):
                    kw[p.name] = p.default
            continue
        value = bound.arguments[p.name]
        if p.kind is _VAR_POSITIONAL:
            if len(pos) == i and not kw and (takes_varargs or len(positional) >= i + len(value)):
                pos.extend(value)
            else:
                unknown.append("*" + p.name)
        elif p.kind is _VAR_KEYWORD:
            for k, v in value.items():
                if k in by_name or takes_kwargs:
                    kw[k] = v
                else:
                    unknown.append(k)
        elif p.name == "out":
            if value is not None:
                raise _out_error(shown, label=label)
        else:
            name = counterpart(i, p.name, p.kind)
            if name is None:
                if not _is_default(value, p.default):
                    unknown.append(p.name)
            elif len(pos) == i and not kw and i < len(positional) and positional[i].name == name:
                pos.append(value)
            else:
                kw[name] = value
    if unknown:
        listed = ", ".join(u if u.startswith("*") else f"{u}=" for u in unknown)
        raise TypeError(
            f"{shown}() was called on a Tensor with {listed}, which {label}{_plain(sig)} does not "
            f"take; call it without{_hint(unknown)}"
        )
    try:
        sig.bind(*pos, **kw)
    except TypeError as e:
        raise _NoMatch(f"{label}{_plain(sig)} cannot take these arguments ({e})") from None
    return pos, kw


def _ufunc_kwargs(
    shown: str, kwargs: dict[str, Any], fn: Callable[..., Any] | None, label: str
) -> dict[str, Any]:
    """The ufunc's keyword arguments that ``fn`` takes; the others raise unless at their defaults."""
    sig = None if fn is None else _signature(fn)
    names = set() if sig is None else set(sig.parameters)
    passed, unknown = {}, []
    for k, v in kwargs.items():
        if k in names:
            passed[k] = v
        elif not (k in _UFUNC_DEFAULTS and _is_default(v, _UFUNC_DEFAULTS[k])):
            unknown.append(k)
    if unknown:
        raise TypeError(
            f"{shown}() was called on a Tensor with {', '.join(u + '=' for u in unknown)}, which "
            f"{label}{_plain(sig)} does not take; call it without{_hint(unknown)}"
        )
    return passed


def _operator(ufunc: np.ufunc, inputs: tuple[Any, ...]) -> Any:
    """``ndarray <op> Tensor`` (and ``np.add(t, u)``): the Tensor's own operator, reflected when
    the Tensor is on the right, as Python calls it for ``2 * t``."""
    left, right = OPERATORS[ufunc]
    if len(inputs) == 1:
        return getattr(inputs[0], left)()
    a, b = inputs
    if isinstance(a, Tensor):
        return getattr(a, left)(b)
    return getattr(b, right)(a)


# ---------------------------------------------------------------------- #
# results without gradient, and the errors
# ---------------------------------------------------------------------- #
_FLOAT = object()  # marks a result that holds floating-point values (a gradient would be lost)


def _strip(x: Any) -> Any:
    """Tensors (also inside lists, tuples and dicts) replaced by their data."""
    if isinstance(x, Tensor):
        return x.data
    if isinstance(x, (list, tuple)):
        return type(x)(_strip(v) for v in x)
    if isinstance(x, dict):
        return {k: _strip(v) for k, v in x.items()}
    return x


def _holds_float(x: Any) -> bool:
    if isinstance(x, (np.ndarray, np.generic)):
        return x.dtype.kind not in "biu"
    if isinstance(x, (float, complex)):
        return True
    if isinstance(x, (list, tuple)):
        return any(_holds_float(v) for v in x)
    return False


def _as_tensors(x: Any) -> Any:
    if isinstance(x, (np.ndarray, np.generic)):
        return Tensor._wrap(np.asarray(x))
    if isinstance(x, tuple) and not hasattr(x, "_fields"):
        return tuple(_as_tensors(v) for v in x)
    if isinstance(x, list):
        return [_as_tensors(v) for v in x]
    return x


def _gives_float(ufunc: np.ufunc, inputs: tuple[Any, ...]) -> bool:
    """Whether the ufunc's result on these inputs is floating point, found on empty arrays of their
    dtypes (False when NumPy refuses them: computing on the data then shows NumPy's error)."""
    try:
        empty = [np.empty((0,), dtype=np.asarray(_strip(x)).dtype) for x in inputs]
        with np.errstate(all="ignore"):
            out = ufunc(*empty)
    except (TypeError, ValueError):
        return False
    return _holds_float(out)


def _on_data(call: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """``call`` on the data, when its result holds no floating-point values (nothing to
    differentiate); else ``_FLOAT``."""
    result = call(*_strip(args), **_strip(kwargs))
    return _FLOAT if _holds_float(result) else _as_tensors(result)


def _reshape(x: Any, shape: tuple[int, ...]) -> Any:
    return x.reshape(shape) if isinstance(x, Tensor) else np.reshape(x, shape)


def _out_error(shown: str, operator: np.ufunc | None = None, label: str | None = None) -> TypeError:
    instead = f"y = {label}(...)" if label else "the returned Tensor"
    text = (
        f"{shown}(..., out=...) on a Tensor: microgradx does not write results into a given array "
        f"(that would lose the gradient); use {instead}"
    )
    if operator is not None and operator.__name__ in _SYMBOLS:
        sym = _SYMBOLS[operator.__name__]
        text += (
            f". `array {sym}= tensor` comes here too: write `array = array {sym} tensor` for a Tensor, "
            f"or `array {sym}= tensor.numpy()` for the values alone"
        )
    return TypeError(text)


_SYMBOLS = {"add": "+", "subtract": "-", "multiply": "*", "divide": "/", "power": "**", "matmul": "@"}


def _no_counterpart(shown: str, key: str) -> TypeError:
    alternatives = [a for a in INSTEAD.get(key, ()) if not a.startswith("F.") or _has(a)]
    if alternatives:
        return TypeError(
            f"{shown}() is not supported on a Tensor (it would lose the gradient); "
            f"call {' or '.join(alternatives)} instead"
        )
    return TypeError(
        f"{shown}() is not supported on a Tensor: microgradx has no differentiable counterpart "
        f"(no microgradx.functional.{key.rsplit('.', 1)[-1]}); for the values alone, without "
        f"gradient, call {shown}(t.numpy(), ...)"
    )


def _has(alternative: str) -> bool:
    """Whether ``F.name`` (or ``F.name(...)`` in an expression) exists now."""
    name = alternative[2:].split("(", 1)[0]
    return hasattr(F, name)
