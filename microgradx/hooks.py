"""Hooks: watch or change values as they flow, without editing the model.

- ``Tensor.register_hook(fn)``: during backward, ``fn(grad)`` is called with the
  tensor's gradient once it is complete (summed over every use of the tensor);
  returning a Tensor replaces the gradient, ``None`` keeps it. On a leaf the
  hooks run before the gradient is added to ``.grad``; on an intermediate,
  before the gradient flows on to the op that made it (and before
  ``retain_grad`` stores it). Several hooks run in the order they were
  registered, each seeing what the previous one returned.
- ``Module.register_forward_pre_hook(fn)``: ``fn(module, inputs)`` before
  ``forward`` (may return new inputs); ``Module.register_forward_hook(fn)``:
  ``fn(module, inputs, output)`` after it (may return a new output).

Each returns a :class:`RemovableHandle`, as PyTorch's do. The backward pass looks
for tensor hooks only while some are registered (``autograd._hook_count``), so a
program without hooks pays nothing for them.
"""

from __future__ import annotations

import itertools
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from . import autograd as _autograd
from .errors import BackwardError, describe, fmt_shape

if TYPE_CHECKING:
    from .nn.module import Module
    from .tensor import Tensor

__all__ = ["RemovableHandle"]


class RemovableHandle:
    """What ``register_hook``, ``register_forward_hook`` and ``register_forward_pre_hook`` return.

    ``handle.remove()`` unregisters the hook (calling it again does nothing). A
    handle is also a context manager: the hook is removed when the block ends.

    Examples
    --------
    >>> import microgradx as mgx
    >>> x = mgx.tensor([1.0, 2.0], requires_grad=True)
    >>> handle = x.register_hook(lambda g: g * 10)
    >>> (x * x).sum().backward()
    >>> x.grad                      # 2x, times 10
    tensor([20., 40.])
    >>> handle.remove()
    >>> x.grad = None
    >>> (x * x).sum().backward()
    >>> x.grad
    tensor([2., 4.])
    """

    _ids = itertools.count()

    def __init__(self, hooks: dict[int, Callable[..., Any]], live: list[int] | None = None) -> None:
        self.id = next(RemovableHandle._ids)
        self._hooks = hooks
        self._live = live  # a tensor's count of live hooks (None for a module's)

    def remove(self) -> None:
        """Unregister the hook; a second call does nothing."""
        if self._hooks.pop(self.id, None) is not None and self._live is not None and self._live[0] > 0:
            self._live[0] -= 1
            _autograd._hook_count[0] -= 1

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


# --------------------------------------------------------------------------- #
# Tensor hooks
# --------------------------------------------------------------------------- #
class _TensorHooks:
    """A tensor's hooks, in registration order, and how many of them the engine counts as live."""

    __slots__ = ("fns", "live")

    def __init__(self) -> None:
        self.fns: dict[int, Callable[..., Any]] = {}
        self.live = [0]

    def __reduce__(self) -> tuple[Any, ...]:
        return (_no_hooks, ())  # a copy (copy, deepcopy, pickle) of a tensor has no hooks, as in PyTorch


def _no_hooks() -> None:
    return None


def _forget(live: list[int]) -> None:
    """A tensor with hooks was freed: its hooks no longer count (they can never run again)."""
    _autograd._hook_count[0] -= live[0]
    live[0] = 0


def register_tensor_hook(t: Tensor, hook: Callable[[Tensor], Any]) -> RemovableHandle:
    """Register ``hook`` on ``t`` (see :meth:`microgradx.Tensor.register_hook`)."""
    if not callable(hook):
        raise TypeError(
            f"register_hook: the hook must be callable (a function of the gradient), got {describe(hook)}"
        )
    if not t.requires_grad:
        raise RuntimeError(
            "register_hook: this tensor does not require grad, so no gradient will ever reach the hook; "
            "create it with requires_grad=True (or call .requires_grad_())"
        )
    hooks = t.__dict__.get("_hooks")
    if hooks is None:
        hooks = _TensorHooks()
        t.__dict__["_hooks"] = hooks
        weakref.finalize(t, _forget, hooks.live).atexit = False  # (holds the counter, never a hook)
    handle = RemovableHandle(hooks.fns, hooks.live)
    hooks.fns[handle.id] = hook
    hooks.live[0] += 1
    _autograd._hook_count[0] += 1
    return handle


def tensor_hooks(t: Tensor) -> dict[int, Callable[..., Any]] | None:
    """``t``'s hooks (``None`` or empty when it has none)."""
    hooks = t.__dict__.get("_hooks")
    return None if hooks is None else hooks.fns


def run_tensor_hooks(
    t: Tensor,
    hooks: dict[int, Callable[..., Any]],
    g: Any,
    create_graph: bool,
    check: Callable[[Any, Tensor, Callable[..., Any]], None] | None = None,
) -> Any:
    """Call ``t``'s hooks on its gradient ``g``; return the gradient, replaced where a hook returned one.

    ``g`` is an array in a plain backward (each hook gets it as a read-only Tensor, so that a
    hook cannot change a gradient that other tensors share) and a Tensor under ``create_graph``.
    What comes back has the same form. ``check(value, t, hook)`` (anomaly mode) sees each
    replacement.
    """
    for hook in list(hooks.values()):
        if create_graph:
            arg = g
        else:
            arr = np.asarray(g).view()
            arr.flags.writeable = False
            arg = _autograd._Tensor._wrap(arr)
        result = hook(arg)
        if result is None:
            continue
        g = _replacement(result, t, hook, create_graph)
        if check is not None:
            check(g, t, hook)
    return g


def _replacement(result: Any, t: Tensor, hook: Callable[..., Any], create_graph: bool) -> Any:
    """A hook's return value as the gradient of ``t``, or an error naming the hook and what is wrong."""
    Tensor = _autograd._Tensor
    if isinstance(result, Tensor):
        arr = result.data
    elif isinstance(result, np.ndarray):
        arr = result
    else:
        raise TypeError(
            f"hook {_hook_name(hook)} on {_tensor_name(t)} returned {describe(result)}; a tensor hook "
            "returns None (to keep the gradient) or a Tensor of the gradient's shape"
        )
    if arr.shape != t.data.shape:
        raise BackwardError(
            f"hook {_hook_name(hook)} on {_tensor_name(t)} returned a gradient of shape "
            f"{fmt_shape(arr.shape)}; it must have the tensor's shape {fmt_shape(t.data.shape)}"
        )
    if arr.dtype != t.data.dtype:
        raise BackwardError(
            f"hook {_hook_name(hook)} on {_tensor_name(t)} returned a gradient of dtype {arr.dtype}; "
            f"it must have the tensor's dtype {t.data.dtype} (convert it: g.astype(...))"
        )
    if create_graph:
        return result if isinstance(result, Tensor) else Tensor._wrap(result)
    return arr


def _hook_name(hook: Callable[..., Any]) -> str:
    return repr(getattr(hook, "__qualname__", None) or repr(hook))


def _tensor_name(t: Tensor) -> str:
    named = f"'{t.name}', " if t.name else ""
    return f"the tensor ({named}shape {fmt_shape(t.data.shape)})"


# --------------------------------------------------------------------------- #
# Module hooks
# --------------------------------------------------------------------------- #
class ModuleHooks:
    """A module's forward pre-hooks and forward hooks, each in registration order."""

    __slots__ = ("pre", "post")

    def __init__(self) -> None:
        self.pre: dict[int, Callable[..., Any]] = {}
        self.post: dict[int, Callable[..., Any]] = {}

    def call(self, module: Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """``module(*args, **kwargs)`` with the hooks around ``forward``."""
        for hook in list(self.pre.values()):
            new = hook(module, args)
            if new is not None:
                args = new if isinstance(new, tuple) else (new,)
        out = module.forward(*args, **kwargs)
        for hook in list(self.post.values()):
            new = hook(module, args, out)
            if new is not None:
                out = new
        return out


def register_module_hook(module: Module, kind: str, hook: Callable[..., Any]) -> RemovableHandle:
    """Register ``hook`` on ``module`` as a forward pre-hook (``kind="pre"``) or forward hook (``"post"``)."""
    name = "register_forward_pre_hook" if kind == "pre" else "register_forward_hook"
    if not callable(hook):
        raise TypeError(f"{name}: the hook must be callable, got {describe(hook)}")
    if "training" not in module.__dict__:
        raise RuntimeError(f"{type(module).__name__}.__init__ must call super().__init__() first")
    hooks = module.__dict__.get("_forward_hooks")
    if hooks is None:
        hooks = ModuleHooks()
        object.__setattr__(module, "_forward_hooks", hooks)
    fns = hooks.pre if kind == "pre" else hooks.post
    handle = RemovableHandle(fns)
    fns[handle.id] = hook
    return handle
