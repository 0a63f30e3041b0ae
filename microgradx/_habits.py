"""Clear errors for the habits readers bring from PyTorch, DeZero and NumPy.

A reader of *Deep Learning from Scratch* often knows PyTorch or DeZero too and
writes their forms by reflex. Each form below is refused with an error that
shows the microgradx form, and code that is already right pays nothing for it:

- ``x.sum(dim=0)``, ``keepdim=True``, ``dim0=``/``dim1=``: PyTorch's keyword
  names. Every Tensor method that takes ``axis`` answers "use axis=0
  (microgradx follows NumPy)" (:func:`numpy_keywords_only`; the check runs
  only when keywords are given).
- ``@staticmethod def forward(ctx, x)`` in a :class:`~microgradx.Function`
  subclass (the ``torch.autograd.Function`` form): refused when the class is
  created, once per class (:func:`function_form_error`).
- ``Sq()(x)`` (DeZero applies an instance, ``f = Square(); y = f(x)``): refused,
  naming ``Sq.apply(x)`` (:func:`function_call_error`).
- ``x.data = [7., 8.]`` (not an array), or int data on a tensor that requires
  grad: ``.data`` stays a plain attribute, since a checked one (a property) costs
  every op about 10 % more instructions (measured on chains of small ops). So
  the value is refused where it is first used instead, naming the tensor and
  the fix: by an op or operator that cannot use it, by ``shape``/``ndim``/
  ``size``/``dtype`` and ``repr``, and at the latest by ``backward`` (an
  elementwise op whose NumPy function accepts a list computes the right value;
  an integer gradient would be rounded). See :func:`bad_data_error` and
  :func:`graph_data_error`. These checks run only where the engine already
  failed or already converts, so correct code never runs them.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from .errors import describe, fmt_shape

if TYPE_CHECKING:
    from .autograd import Function
    from .tensor import Tensor

_F = TypeVar("_F", bound=Callable[..., Any])

#: PyTorch's keyword names and NumPy's (which microgradx uses) for the same thing.
TORCH_KEYWORDS = {"dim": "axis", "keepdim": "keepdims", "dim0": "axis1", "dim1": "axis2"}


# --------------------------------------------------------------------------- #
# dim= / keepdim=
# --------------------------------------------------------------------------- #
def torch_keyword_error(where: str, kwargs: dict[str, Any], own: Iterable[str] = ()) -> TypeError | None:
    """The error for PyTorch keyword names in ``kwargs`` (those not in ``own``), or None.

    >>> print(torch_keyword_error("Tensor.sum", {"dim": 0, "keepdim": True}))
    Tensor.sum() got dim=0, keepdim=True: use axis=0, keepdims=True (microgradx follows NumPy)
    """
    found = [k for k in TORCH_KEYWORDS if k in kwargs and k not in own]
    if not found:
        return None
    got = ", ".join(f"{k}={kwargs[k]!r}" for k in found)
    use = ", ".join(f"{TORCH_KEYWORDS[k]}={kwargs[k]!r}" for k in found)
    return TypeError(f"{where}() got {got}: use {use} (microgradx follows NumPy)")


def _parameters(func: Callable[..., Any]) -> tuple[str, ...]:
    """The names of ``func``'s parameters, read from its code (``inspect.signature`` is slow at import)."""
    code = func.__code__
    return code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]


def numpy_keywords_only(method: _F) -> _F:
    """``method`` that answers PyTorch's ``dim=``/``keepdim=`` with the NumPy names to use.

    A call without PyTorch's names costs one extra call and, when it has
    keyword arguments, one set test.
    """
    where = method.__qualname__
    own = frozenset(_parameters(method))
    torch_names = frozenset(TORCH_KEYWORDS) - own

    @functools.wraps(method)
    def checked(*args: Any, **kwargs: Any) -> Any:
        if kwargs and not torch_names.isdisjoint(kwargs):
            raise torch_keyword_error(where, kwargs, own)  # type: ignore[misc]
        return method(*args, **kwargs)

    return checked  # type: ignore[return-value]


def accept_numpy_keywords_only(cls: type) -> None:
    """Wrap each method of ``cls`` with an ``axis``/``axis1`` parameter in :func:`numpy_keywords_only`."""
    for name, value in list(vars(cls).items()):
        if inspect.isfunction(value) and {"axis", "axis1", "axis2"} & set(_parameters(value)):
            setattr(cls, name, numpy_keywords_only(value))


# --------------------------------------------------------------------------- #
# Function: the PyTorch and DeZero forms
# --------------------------------------------------------------------------- #
def _arguments(method: Any, default: list[str]) -> list[str]:
    """The parameter names of ``method`` after the first (ctx/self/cls), or ``default``."""
    func = getattr(method, "__func__", method)
    try:
        params = [
            p.name
            for p in inspect.signature(func).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
    except (TypeError, ValueError):
        return default
    if params and params[0] in ("ctx", "self", "cls"):
        params = params[1:]
    return params or default


def function_form_error(cls: type, method: str) -> TypeError:
    """The error for a Function subclass whose ``forward`` or ``backward`` is a static or class method.

    That is the ``torch.autograd.Function`` form (``@staticmethod def
    forward(ctx, x)``); in microgradx both are plain methods and ``self`` takes
    the part of ``ctx``.
    """
    kind = "staticmethod" if isinstance(cls.__dict__[method], staticmethod) else "classmethod"
    name = cls.__name__
    xs = _arguments(cls.__dict__.get("forward"), ["x"])
    gs = _arguments(cls.__dict__.get("backward"), ["gy"])
    unpack = f"({xs[0]},)" if len(xs) == 1 else ", ".join(xs)
    return TypeError(
        f"{name}.{method} is a @{kind}: that is torch.autograd.Function's form "
        f"(forward(ctx, ...), ctx.save_for_backward). A microgradx Function defines plain methods, "
        f"and self takes the part of ctx:\n\n"
        f"    class {name}(mgx.Function):\n"
        f"        def forward({', '.join(['self', *xs])}):\n"
        f"            ...  # NumPy arrays in, an array out\n\n"
        f"        def backward({', '.join(['self', *gs])}):\n"
        f"            {unpack} = self.inputs  # what ctx.saved_tensors gives in PyTorch\n"
        f"            ...  # the output's gradient in, one gradient per input out\n\n"
        f"Apply it with {name}.apply({', '.join(xs)}), as in PyTorch. See docs/custom_ops.md."
    )


def function_call_error(fn: Function, n_inputs: int) -> TypeError:
    """The error for calling a Function instance, ``Sq()(x)`` (DeZero's form)."""
    name = type(fn).__name__
    xs = ", ".join(["x"] if n_inputs <= 1 else [f"x{i}" for i in range(n_inputs)])
    return TypeError(
        f"{name}()({xs}): a microgradx Function is applied through its class, {name}.apply({xs}), "
        f"as in PyTorch; an instance is not called (DeZero's f = {name}(); y = f(x)). "
        f"The op's options go to apply as keywords: {name}.apply({xs}, option=value)."
    )


# --------------------------------------------------------------------------- #
# .data replaced by something that is not an array of the right kind
# --------------------------------------------------------------------------- #
def _named(t: Tensor, where: str, i: int | None) -> str:
    label = f"tensor {t.name!r}" if t.name is not None else "a tensor"
    return f"{where}: {label}" + ("" if i is None else f" (input {i})")


def bad_data_error(where: str, tensors: Iterable[Tensor]) -> TypeError | None:
    """The error for the first tensor whose ``.data`` is not a NumPy array, or is not float
    while the tensor requires grad; None when all are fine.

    Only a direct assignment to ``.data`` makes either: ``Tensor(...)`` converts
    and checks its data.
    """
    tensors = list(tensors)
    for i, t in enumerate(tensors):
        d = t.data
        who = _named(t, where, i if len(tensors) > 1 else None)
        if not isinstance(d, np.ndarray):
            return TypeError(
                f"{who} has a {type(d).__name__} as .data ({describe(d)}); .data must be "
                "a numpy.ndarray. Assign an array (t.data = np.array([7.0, 8.0])), or another tensor's "
                ".data; mgx.tensor([...]) converts a list"
            )
        if t._rg and d.dtype.kind != "f":
            return TypeError(
                f"{who} requires grad but its .data holds {d.dtype} values "
                f"(shape {fmt_shape(d.shape)}): a gradient needs floating-point data, and an integer "
                "one would be rounded. Assign float data: t.data = np.asarray(values, dtype=np.float64)"
            )
    return None


def graph_data_error(root: Tensor) -> TypeError | None:
    """:func:`bad_data_error` for the graph behind ``root`` (its ops' inputs that are still held)."""
    error = bad_data_error("backward", [root])
    stack = [] if root.creator is None else [root.creator]
    seen: set[int] = set()
    while stack and error is None:
        fn = stack.pop()
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        if fn.inputs is not None:
            error = bad_data_error(f"backward through {fn.name}", fn.inputs)
            stack.extend(x.creator for x in fn.inputs if x.creator is not None)
        else:  # already passed and released: what it kept is its leaves and its inputs' creators
            kept = getattr(fn, "_freed", ())
            stack.extend(k[1] for k in kept if isinstance(k, tuple))
            error = bad_data_error(
                f"backward through {fn.name}", [k for k in kept if not isinstance(k, tuple)]
            )
    return error


def raise_if_bad_data(
    where: str, tensors: Iterable[Tensor], cause: BaseException | None, graph: bool = False
) -> None:
    """Raise :func:`bad_data_error` (from ``cause``) when one of ``tensors`` has bad ``.data``; with
    ``graph``, look through the graph behind the one tensor given (:func:`graph_data_error`).

    Called only after ``cause`` was raised, to say what a bare ``AttributeError: 'list' object
    has no attribute 'shape'`` (or a TypeError from NumPy) really means.
    """
    error = graph_data_error(next(iter(tensors))) if graph else bad_data_error(where, tensors)
    if error is not None:
        raise error from cause
