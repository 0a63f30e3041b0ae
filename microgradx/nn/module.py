"""Parameter and Module: named, nested containers of trainable tensors."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

from ..autograd import bump_version
from ..errors import fmt_shape
from ..hooks import RemovableHandle, register_module_hook
from ..tensor import Tensor

__all__ = ["Module", "Parameter"]


class Parameter(Tensor):
    """A Tensor that is a model's trainable weight: ``requires_grad=True``, float64 by default.

    When its module is attached to another module, its ``name`` becomes its
    attribute path (``fc1.weight``), so graph pictures read like the model.
    """

    __slots__ = ("_auto_name",)

    def __init__(self, data: Any, dtype: Any = None, name: str | None = None) -> None:
        arr = np.asarray(data.data if isinstance(data, Tensor) else data)
        if dtype is None and arr.dtype.kind != "f":
            dtype = np.float64
        super().__init__(arr, requires_grad=True, dtype=dtype, name=name)
        self._auto_name = name is None

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class Module:
    """Base class of layers and models.

    Assign Parameters and Modules as attributes (or put Modules in a list or
    tuple attribute); ``parameters()``, ``named_parameters()``,
    ``state_dict()`` and ``zero_grad()`` find them. Calling the module calls
    ``forward``.

    Examples
    --------
    >>> import microgradx as mgx
    >>> from microgradx import nn
    >>> class Net(nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.fc1 = nn.Linear(2, 3)
    ...         self.fc2 = nn.Linear(3, 1)
    ...     def forward(self, x):
    ...         return self.fc2(self.fc1(x).sigmoid())
    >>> [name for name, _ in Net().named_parameters()]
    ['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']
    """

    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "training", True)

    def __setattr__(self, name: str, value: Any) -> None:
        if "training" not in self.__dict__:
            raise RuntimeError(f"{type(self).__name__}.__init__ must call super().__init__() first")
        if name in self.__dict__.get("_buffer_names", ()):
            if value is not None and not isinstance(value, Tensor):
                value = Tensor(value)
            if isinstance(value, Tensor) and value.requires_grad:
                raise TypeError(
                    f"{type(self).__name__}: buffer '{name}' cannot be a Tensor that requires grad"
                )
        if isinstance(value, Parameter) and value._auto_name:
            value.name = name
        elif isinstance(value, Module):
            _prefix_names(value, name)
        elif isinstance(value, (list, tuple)):
            for i, item in enumerate(value):
                if isinstance(item, Module):
                    _prefix_names(item, f"{name}.{i}")
        object.__setattr__(self, name, value)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        hooks = self.__dict__.get("_forward_hooks")  # (see register_forward_hook)
        if hooks is None:
            return self.forward(*args, **kwargs)
        return hooks.call(self, args, kwargs)

    # ---- hooks ----
    def register_forward_hook(self, hook: Callable[[Module, tuple[Any, ...], Any], Any]) -> RemovableHandle:
        """Call ``hook(module, inputs, output)`` after every ``forward`` of this module, as PyTorch does.

        ``inputs`` is the tuple of positional arguments (keyword arguments are not
        passed); a hook that returns something other than ``None`` replaces the output.
        Hooks run in the order they were registered. Returns a handle whose
        ``.remove()`` unregisters the hook.

        >>> from microgradx import nn
        >>> import microgradx as mgx
        >>> layer = nn.ReLU()
        >>> handle = layer.register_forward_hook(lambda m, inputs, out: print(type(m).__name__, out))
        >>> _ = layer(mgx.tensor([-1.0, 2.0]))
        ReLU tensor([0., 2.])
        >>> handle.remove()
        """
        return register_module_hook(self, "post", hook)

    def register_forward_pre_hook(self, hook: Callable[[Module, tuple[Any, ...]], Any]) -> RemovableHandle:
        """Call ``hook(module, inputs)`` before every ``forward`` of this module, as PyTorch does.

        A hook that returns something other than ``None`` replaces the positional
        arguments (a tuple, or a single value that becomes the only one). Returns a
        handle whose ``.remove()`` unregisters the hook.
        """
        return register_module_hook(self, "pre", hook)

    # ---- end of hooks ----

    def register_buffer(self, name: str, value: Any) -> None:
        """Keep ``value`` (an array or Tensor, not trained) as the attribute ``name``, saved by
        :meth:`state_dict` and restored by :meth:`load_state_dict` (batch norm's running statistics)."""
        if "training" not in self.__dict__:
            raise RuntimeError(f"{type(self).__name__}.__init__ must call super().__init__() first")
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"register_buffer: the name must be an identifier, got {name!r}")
        names = self.__dict__.setdefault("_buffer_names", [])
        if name not in names:
            names.append(name)
        setattr(self, name, value)

    def named_buffers(self, prefix: str = "") -> Iterator[tuple[str, Tensor]]:
        """Every buffer with its dotted path (``bn1.running_mean``)."""
        for name in self.__dict__.get("_buffer_names", ()):
            value = getattr(self, name)
            if value is not None:
                yield prefix + name, value
        for name, child in self.named_children():
            yield from child.named_buffers(f"{prefix}{name}.")

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """Direct submodules with their attribute names (``layers.0`` for list items)."""
        for name, value in vars(self).items():
            if isinstance(value, Module):
                yield name, value
            elif isinstance(value, (list, tuple)):
                for i, item in enumerate(value):
                    if isinstance(item, Module):
                        yield f"{name}.{i}", item

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """Every parameter with its dotted path, each once (shared ones under their first path)."""
        seen: set[int] = set()
        for name, p in self._walk_parameters(prefix):
            if id(p) not in seen:
                seen.add(id(p))
                yield name, p

    def _walk_parameters(self, prefix: str) -> Iterator[tuple[str, Parameter]]:
        for name, value in vars(self).items():
            if isinstance(value, Parameter):
                yield prefix + name, value
        for name, child in self.named_children():
            yield from child._walk_parameters(f"{prefix}{name}.")

    def parameters(self) -> list[Parameter]:
        """The parameters, each once, in a stable order."""
        return [p for _, p in self.named_parameters()]

    def zero_grad(self) -> None:
        """Clear every parameter's ``.grad``."""
        for p in self.parameters():
            p.grad = None

    def train(self, mode: bool = True) -> Module:
        """Set training mode here and in every submodule; returns self."""
        object.__setattr__(self, "training", mode)
        for _, child in self.named_children():
            child.train(mode)
        return self

    def eval(self) -> Module:
        """Set evaluation mode (``train(False)``); returns self."""
        return self.train(False)

    def state_dict(self) -> OrderedDict[str, np.ndarray]:
        """Parameter and buffer name -> a copy of its array (parameters first, then buffers)."""
        items = list(self.named_parameters()) + list(self.named_buffers())
        return OrderedDict((name, t.data.copy()) for name, t in items)

    def load_state_dict(self, state: Any, strict: bool = True, cast: bool = False) -> None:
        """Copy arrays into the parameters (and buffers) by name; nothing changes unless every entry fits.

        Every entry is checked before any parameter is touched: ``KeyError``
        naming missing and unexpected keys (unless ``strict=False``, which
        loads the keys both have); ``ValueError`` naming the parameter and both
        shapes when a shape differs; ``TypeError`` for a value that is not a
        bool, integer or float array (strings, complex numbers, ``None``), and
        for one that the parameter's dtype cannot hold exactly (float64 values
        into a float32 parameter round; integers beyond 2**53 round in float64).
        ``cast=True`` allows such rounding; a finite value that would overflow
        to infinity is refused even then.
        """
        if not isinstance(state, Mapping):
            hint = (
                "; read the file first: model.load_state_dict(mgx.load(path))"
                if isinstance(state, str)
                else ""
            )
            raise TypeError(
                f"load_state_dict: expected a dict of arrays (a state dict), got {type(state).__name__}{hint}"
            )
        params: dict[str, Tensor] = dict(self.named_parameters())
        params.update(self.named_buffers())
        missing = [k for k in params if k not in state]
        unexpected = [k for k in state if k not in params]
        if strict and (missing or unexpected):
            raise KeyError(
                f"load_state_dict: missing keys {missing}, unexpected keys {unexpected} "
                f"(the model has {list(params)})"
            )
        updates = [
            (p, _checked_value(name, state[name], p, cast)) for name, p in params.items() if name in state
        ]
        for p, value in updates:
            p.data[...] = value
            bump_version(p)

    def __repr__(self) -> str:
        children = list(self.named_children())
        if not children:
            return f"{type(self).__name__}({self.extra_repr()})"
        lines = [f"  ({name}): " + repr(child).replace("\n", "\n  ") for name, child in children]
        return f"{type(self).__name__}(\n" + "\n".join(lines) + "\n)"

    def extra_repr(self) -> str:
        return ""


def _checked_value(name: str, value: Any, p: Tensor, cast: bool) -> np.ndarray:
    """``value`` as an array of ``p``'s dtype and shape, or an error naming ``name``."""
    try:
        arr = np.asarray(value.data if isinstance(value, Tensor) else value)
    except ValueError as e:
        raise TypeError(f"load_state_dict: '{name}' is not an array ({e})") from None
    if arr.dtype.kind not in "biuf":
        raise TypeError(
            f"load_state_dict: '{name}' has dtype {arr.dtype} in the state dict; a parameter "
            f"({p.dtype}) takes only bool, integer and float values"
        )
    if arr.shape != p.shape:
        raise ValueError(
            f"load_state_dict: '{name}' has shape {fmt_shape(arr.shape)} in the state dict "
            f"but {fmt_shape(p.shape)} in the model"
        )
    with np.errstate(over="ignore", invalid="ignore"):
        converted = arr.astype(p.dtype)
        back = converted.astype(arr.dtype)
    overflow = np.isinf(converted) & ~np.isinf(arr) if arr.dtype.kind == "f" else np.isinf(converted)
    if overflow.any():
        i = _first(overflow)
        raise TypeError(
            f"load_state_dict: '{name}' holds {arr[i].item()!r}{_at(i)}, which overflows to "
            f"infinity in the parameter's dtype {p.dtype}"
        )
    if not cast and not np.array_equal(back, arr, equal_nan=arr.dtype.kind == "f"):
        inexact = back != arr
        if arr.dtype.kind == "f":
            inexact &= ~np.isnan(arr)
        i = _first(inexact)
        raise TypeError(
            f"load_state_dict: '{name}' is {arr.dtype} in the state dict but {p.dtype} in the "
            f"model, which cannot hold its values exactly ({arr[i].item()!r}{_at(i)} would become "
            f"{converted[i].item()!r}); pass cast=True to round them"
        )
    return converted


def _first(mask: np.ndarray) -> tuple[int, ...]:
    """The index of the first True in ``mask``."""
    return tuple(int(j) for j in np.unravel_index(int(np.argmax(mask)), mask.shape))


def _at(index: tuple[int, ...]) -> str:
    return f" at index {index}" if index else ""


def _prefix_names(module: Module, prefix: str) -> None:
    for name, p in module.named_parameters():
        if p._auto_name:
            p.name = f"{prefix}.{name}"
