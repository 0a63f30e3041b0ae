"""Anomaly mode: the first NaN or infinity, traced to the op that made it.

Inside ``with mgx.detect_anomaly():`` (or after ``mgx.set_detect_anomaly(True)``):

1. every op that is recorded notes where the user's code created it: the innermost
   frames outside microgradx, and the microgradx function that was called there;
2. every forward result is checked: the first op whose output holds a NaN or an
   infinity raises :class:`AnomalyError`, naming the op and the output, or the input
   that already held one when it came from outside (a leaf, data passed in);
3. every gradient is checked in backward: the first op whose backward returns a NaN
   or an infinity raises, naming the op, the input whose gradient it is, and where
   the op was created; a tensor hook that returns one is named too. Any other error
   raised in an op's backward gets the same note (where the op was created).

Off (the default), it costs the engine one ``is None`` test per op and per backward
node. The switch is global, as PyTorch's is.

:class:`Watch` is the backward pass's slow path, taken only when anomaly mode is on or
some tensor has hooks (:mod:`microgradx.hooks`).
"""

from __future__ import annotations

import os
import sys
import threading
import traceback
import warnings
from collections.abc import Callable
from contextlib import ContextDecorator
from typing import TYPE_CHECKING, Any

import numpy as np

from . import autograd as _autograd
from .errors import fmt_shape
from .hooks import run_tensor_hooks, tensor_hooks

if TYPE_CHECKING:
    from .autograd import Function
    from .tensor import Tensor

__all__ = ["AnomalyError", "detect_anomaly", "is_anomaly_enabled", "set_detect_anomaly"]

_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep
_FRAMES = 8  # user frames kept per op (innermost first)


class AnomalyError(RuntimeError):
    """Raised in anomaly mode by the first NaN or infinity in a forward result or a gradient.

    Attributes
    ----------
    op : str
        The op's name (``"log"``, or a user's ``Function`` subclass in snake case).
    phase : str
        ``"forward"`` or ``"backward"``.
    created_at : traceback.StackSummary
        Where the op was created in the user's code (most recent call last; empty when
        the op was recorded while anomaly mode was off).
    """

    def __init__(self, message: str, op: str, phase: str, created_at: traceback.StackSummary) -> None:
        super().__init__(message)
        self.op = op
        self.phase = phase
        self.created_at = created_at


# --------------------------------------------------------------------------- #
# The switch
# --------------------------------------------------------------------------- #
class _Mode:
    """Anomaly mode as set: what to check. ``autograd._anomaly`` holds it while it is on."""

    def __init__(self, check_nan: bool, check_inf: bool) -> None:
        self.check_nan = bool(check_nan)
        self.check_inf = bool(check_inf) and self.check_nan

    def bad(self, arr: np.ndarray) -> np.ndarray | None:
        """Where ``arr`` holds what this mode looks for (a bool mask), or None when nowhere."""
        if not self.check_nan or arr.dtype.kind not in "fc":
            return None
        if self.check_inf:
            return None if np.isfinite(arr).all() else ~np.isfinite(arr)
        return np.isnan(arr) if np.isnan(arr).any() else None

    def forward(self, fn: Function, inputs: tuple[Tensor, ...], out: Tensor) -> None:
        """After ``fn``'s forward (called by ``Function.apply``): note where it was made, check the result."""
        during = getattr(_local, "fn", None)
        if out.creator is fn:
            fn.__dict__["_anomaly_trace"] = _creation_site(during)
        if during is not None:  # an op of some op's backward (create_graph): the backward check covers it
            return
        bad = self.bad(out.data)
        if bad is None:
            return
        trace = fn.__dict__.get("_anomaly_trace") or _creation_site(None)
        for i, x in enumerate(inputs):
            x_bad = self.bad(x.data)
            if x_bad is not None:
                raise self._error(
                    f"input {i} of '{fn.name}' ({_tensor(x)}) already holds {_found(x.data, x_bad)} "
                    f"before the forward of '{fn.name}': {_origin(x)}",
                    fn,
                    "forward",
                    trace,
                    called=True,
                )
        there = _values_at(bad, [(f"input {i}", x.data) for i, x in enumerate(inputs)])
        finite = all(np.isfinite(x.data).all() for x in inputs if x.data.dtype.kind in "fc")
        source = "finite inputs" if finite else "inputs that hold infinities but no nan"
        raise self._error(
            f"the forward of '{fn.name}' produced {_found(out.data, bad)} in its output "
            f"(shape {fmt_shape(out.data.shape)}) from {source}{there}",
            fn,
            "forward",
            trace,
        )

    def check_gradients(self, fn: Function, gxs: tuple[Any, ...], gy: Any, out: Tensor) -> None:
        """After ``fn``'s backward: each gradient it returned for an input that needs one."""
        need = fn.needs_input_grad
        for i, g in enumerate(gxs):
            if g is None or i >= len(need) or not need[i]:
                continue
            arr = _array(g)
            bad = self.bad(arr)
            if bad is not None:
                inputs = fn.inputs or ()
                x = inputs[i] if i < len(inputs) else None
                named = [(f"input {j}", t.data) for j, t in enumerate(inputs)]
                gy_arr = _array(gy)
                named += [("the output", out.data), ("the incoming gradient", gy_arr)]
                source = (
                    "a finite incoming gradient"
                    if np.isfinite(gy_arr).all()
                    else f"an incoming gradient that holds {_found(gy_arr, ~np.isfinite(gy_arr))}"
                )
                raise self._error(
                    f"the backward of '{fn.name}' returned {_found(arr, bad)} in the gradient for "
                    f"input {i}"
                    + (f" ({_tensor(x)})" if x is not None else "")
                    + f", from {source}{_values_at(bad, named)}",
                    fn,
                    "backward",
                    fn.__dict__.get("_anomaly_trace"),
                )

    def check_flow(self, g: Any, what: str, fn: Function | None) -> None:
        """A gradient on its way (the seed, a summed gradient, a hook's result): raise if it is bad."""
        arr = _array(g)
        bad = self.bad(arr)
        if bad is not None:
            trace = None if fn is None else fn.__dict__.get("_anomaly_trace")
            raise self._error(
                f"{what} holds {_found(arr, bad)}",
                fn,
                "backward",
                trace,
                called=fn is None,
            )

    def _error(
        self,
        message: str,
        fn: Function | None,
        phase: str,
        trace: tuple[Any, ...] | None,
        called: bool = False,
    ) -> AnomalyError:
        if trace is None and called:
            trace = _creation_site(None)
        name = "backward" if fn is None else fn.name
        stack = _stack(trace)
        return AnomalyError(f"anomaly mode: {message}.\n{_where(name, trace, called)}", name, phase, stack)


class _Local(threading.local):
    """The op whose backward this thread is running (its ops are checked by the backward check)."""

    fn: Function | None = None


_local = _Local()
_stacks: list[_Mode | None] = []


def is_anomaly_enabled() -> bool:
    """Whether anomaly mode is on (see :func:`detect_anomaly`)."""
    return _autograd._anomaly is not None


class set_detect_anomaly:
    """Turn anomaly mode on or off now; as a context manager, restore the previous setting after.

    Parameters
    ----------
    mode : bool
        On (True) or off.
    check_nan : bool
        Check forward results and gradients (the default). False only notes where each op
        was created, so that any error in a backward says so.
    check_inf : bool
        Count ±inf as an anomaly too (the default); False looks for NaN only (as
        PyTorch does), for programs that use infinities on purpose (``-inf`` masks).

    Examples
    --------
    >>> import microgradx as mgx
    >>> _ = mgx.set_detect_anomaly(True)
    >>> mgx.is_anomaly_enabled()
    True
    >>> _ = mgx.set_detect_anomaly(False)
    >>> with mgx.set_detect_anomaly(True):
    ...     print(mgx.is_anomaly_enabled())
    True
    >>> mgx.is_anomaly_enabled()
    False
    """

    def __init__(self, mode: bool, check_nan: bool = True, check_inf: bool = True) -> None:
        self._previous = _autograd._anomaly
        _autograd._anomaly = _Mode(check_nan, check_inf) if mode else None

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        _autograd._anomaly = self._previous

    def __repr__(self) -> str:
        return f"<set_detect_anomaly: anomaly mode {'on' if is_anomaly_enabled() else 'off'}>"


class detect_anomaly(ContextDecorator):
    """Inside the block (or the decorated function), the first NaN or infinity raises :class:`AnomalyError`.

    Every forward result and every gradient of the backward pass is checked; the error
    names the op, whether its forward or its backward produced the value, the input or
    output concerned, the values there, and where the op was created in your code. Slow
    (each op checks its result and notes the caller's frames): for debugging only. The
    setting is global, as in PyTorch; ``set_detect_anomaly`` is the switch without a block.

    Parameters
    ----------
    check_nan : bool
        Check values (the default); False only notes where each op was created, added
        to any error raised in a backward.
    check_inf : bool
        Count ±inf as an anomaly too (the default); False looks for NaN only.

    Examples
    --------
    >>> import microgradx as mgx
    >>> import microgradx.functional as F
    >>> r = mgx.tensor([0.0, 0.0], requires_grad=True)
    >>> with mgx.detect_anomaly():
    ...     F.sqrt((r * r).sum()).backward()  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    microgradx.anomaly.AnomalyError: anomaly mode: the backward of 'sqrt' returned inf ...
    """

    def __init__(self, check_nan: bool = True, check_inf: bool = True) -> None:
        self._mode = _Mode(check_nan, check_inf)

    def __enter__(self) -> None:
        _stacks.append(_autograd._anomaly)
        _autograd._anomaly = self._mode

    def __exit__(self, *exc: object) -> None:
        _autograd._anomaly = _stacks.pop()


# --------------------------------------------------------------------------- #
# The watched backward pass
# --------------------------------------------------------------------------- #
class Watch:
    """The backward pass's slow path: tensor hooks and anomaly checks, node by node.

    :func:`microgradx.autograd.backward` makes one when anomaly mode is on or a tensor has
    hooks, and the pass calls it at each node: :meth:`arrived` when a node's output
    gradient is complete (hooks on that output run here), :meth:`returned` after its
    backward. Leaves' gradients go through :meth:`deliver`: a leaf with hooks collects its
    gradient over the whole pass and :meth:`finish` runs its hooks once on the sum, as
    PyTorch runs them once per backward.
    """

    def __init__(
        self,
        create_graph: bool,
        wanted: dict[int, int] | None,
        deliver: Callable[[Tensor, Any], None],
    ) -> None:
        self.mode: _Mode | None = _autograd._anomaly
        if self.mode is not None and not self.mode.check_nan:
            self.check: _Mode | None = None
        else:
            self.check = self.mode
        self.hooks = _autograd._hook_count[0] > 0
        self.create_graph = create_graph
        self.wanted = wanted
        self._deliver = deliver
        self.leaves: dict[int, list[Any]] = {}  # hooked leaves: [tensor, summed gradient]
        self.fn: Function | None = None  # the node being processed (for errors' notes)
        self.outer = _local.fn

    def seed(self, g: Any) -> Any:
        if self.check is not None:
            self.check.check_flow(g, "the gradient given to backward()", None)
        return g

    def deliver(self, t: Tensor, g: Any) -> None:
        """A gradient for a leaf (or, for retain_grad, an output that already ran its hooks)."""
        if self.hooks and t.creator is None and (self.wanted is None or id(t) in self.wanted):
            hooks = tensor_hooks(t)
            if hooks:
                entry = self.leaves.get(id(t))
                if entry is None:
                    self.leaves[id(t)] = [t, g]
                else:
                    entry[1] = entry[1] + g
                return
        self._store(t, g)

    def _store(self, t: Tensor, g: Any) -> None:
        self._deliver(t, g)
        if self.check is not None and self.wanted is None and t.grad is not None:
            self.check.check_flow(
                t.grad, f"the gradient accumulated in .grad of {_tensor(t, 'a tensor of')}", None
            )

    def arrived(self, fn: Function, out: Tensor, gy: Any) -> Any:
        """``fn``'s output gradient is complete: check it, run the output's hooks; the gradient to use."""
        self.fn = None
        if self.check is not None:
            self.check.check_flow(gy, f"the gradient of the output of '{fn.name}' (summed over its uses)", fn)
        if self.hooks and out.creator is fn:
            hooks = tensor_hooks(out)
            if hooks:
                gy = run_tensor_hooks(out, hooks, gy, self.create_graph, self._check_hook)
        self.fn = fn
        _local.fn = fn
        return gy

    def returned(self, fn: Function, gxs: tuple[Any, ...], gy: Any, out: Tensor) -> None:
        """``fn``'s backward returned ``gxs``: check them."""
        _local.fn = self.outer
        if self.check is not None:
            self.check.check_gradients(fn, gxs, gy, out)

    def finish(self) -> None:
        """The pass is over: run the hooks of leaves on their summed gradients, then store them."""
        self.fn = None
        _local.fn = self.outer
        if self.leaves:
            with _autograd.set_grad_enabled(self.create_graph):  # the pass's mode, as for other hooks
                self._finish_leaves()

    def _finish_leaves(self) -> None:
        for t, g in self.leaves.values():
            if self.check is not None:
                self.check.check_flow(g, f"the gradient of {_tensor(t, 'leaf')} (summed over its uses)", None)
            hooks = tensor_hooks(t)
            if hooks:
                g = run_tensor_hooks(t, hooks, g, self.create_graph, self._check_hook)
            self._store(t, g)

    def failed(self, exc: BaseException) -> None:
        """An error ended the pass: in anomaly mode, say where the op whose backward raised it was created."""
        _local.fn = self.outer
        fn = self.fn
        if self.mode is None or fn is None or isinstance(exc, AnomalyError) or not isinstance(exc, Exception):
            return
        note = "anomaly mode: " + _where(fn.name, fn.__dict__.get("_anomaly_trace"), False).replace(
            f"'{fn.name}' was created", f"the error came from the backward of '{fn.name}', created", 1
        )
        if hasattr(exc, "add_note"):
            exc.add_note(note)
        else:  # Python 3.10
            warnings.warn(note, RuntimeWarning, stacklevel=2)

    def _check_hook(self, g: Any, t: Tensor, hook: Callable[..., Any]) -> None:
        if self.check is not None:
            name = getattr(hook, "__qualname__", None) or repr(hook)
            self.check.check_flow(
                g, f"the gradient that hook '{name}' on {_tensor(t, 'the tensor of')} returned", None
            )


# --------------------------------------------------------------------------- #
# Where an op was created, and how to say what is wrong
# --------------------------------------------------------------------------- #
_interned: dict[Any, Any] = {}


def _creation_site(during: Function | None) -> tuple[Any, ...]:
    """(the microgradx function the user called, the op whose backward was running, the user's frames).

    The frames are the innermost ``_FRAMES`` outside the microgradx package, innermost
    first, as (file, line, function); the same site is stored once.
    """
    f: Any = sys._getframe(1)
    frames: list[tuple[str, int, str]] = []
    entered = None
    while f is not None and len(frames) < _FRAMES:
        code = f.f_code
        if code.co_filename.startswith(_PACKAGE):
            if not frames:
                entered = code.co_name
        else:
            frames.append((code.co_filename, f.f_lineno, code.co_name))
        f = f.f_back
    site = (entered, None if during is None else during.name, tuple(frames))
    return _interned.setdefault(site, site)  # type: ignore[no-any-return]


def _stack(trace: tuple[Any, ...] | None) -> traceback.StackSummary:
    if trace is None:
        return traceback.StackSummary()
    return traceback.StackSummary.from_list(
        [traceback.FrameSummary(file, line, name) for file, line, name in reversed(trace[2])]
    )


def _where(name: str, trace: tuple[Any, ...] | None, called: bool) -> str:
    """'<op> was created ... at:' and the user's frames, as a traceback prints them."""
    if trace is None:
        return (
            f"'{name}' was created while anomaly mode was off, so where is unknown; run the forward "
            "pass inside detect_anomaly() too"
        )
    entered, during, _ = trace
    how = "called" if called else "created"
    # (say which microgradx function made the op, unless the line says it: an operator, F.log for 'log')
    plain = not entered or entered == name or entered.startswith(("<", "__"))
    inside = "" if plain else f" (inside microgradx's {entered})"
    if during:
        inside += f" by the backward of '{during}'"
    lines = "".join(traceback.format_list(_stack(trace))).rstrip("\n")
    return f"'{name}' was {how}{inside} at (most recent call last):\n{lines}"


def _array(g: Any) -> np.ndarray:
    return np.asarray(g.data if isinstance(g, _autograd._Tensor) else g)


def _tensor(t: Tensor, kind: str = "") -> str:
    named = f"'{t.name}', " if t.name else ""
    lead = f"{kind} " if kind else ""
    return f"{lead}{named}shape {fmt_shape(t.data.shape)}"


def _first(mask: np.ndarray) -> tuple[int, ...]:
    return tuple(int(j) for j in np.unravel_index(int(np.argmax(mask)), mask.shape))


def _found(arr: np.ndarray, bad: np.ndarray) -> str:
    """'nan (2 of 6 elements, the first at index (0, 1))'."""
    values = arr[bad]
    kinds = [
        k
        for k, present in (
            ("nan", np.isnan(values).any()),
            ("inf", (values == np.inf).any()),
            ("-inf", (values == -np.inf).any()),
        )
        if present
    ]
    what = " and ".join(kinds)
    if arr.ndim == 0:
        return what
    return f"{what} ({int(bad.sum())} of {arr.size} elements, the first at index {_first(bad)})"


def _values_at(bad: np.ndarray, named: list[tuple[str, np.ndarray]]) -> str:
    """'; there input 0 is 0.0, ...': each array that broadcasts to bad's shape, at its first bad index."""
    index = _first(bad)
    parts = []
    for label, arr in named:
        try:
            value = np.broadcast_to(np.asarray(arr), bad.shape)[index]
        except ValueError:
            continue
        parts.append(f"{label} is {value.item()!r}")
    if not parts:
        return ""
    return "; there " + ", ".join(parts)


def _origin(x: Tensor) -> str:
    if x.creator is None:
        return "it is a leaf (data made outside any op): check the data you passed in"
    return (
        f"it was made by '{x.creator.name}', which anomaly mode did not check (it ran while the "
        "mode was off): run that part inside detect_anomaly() too"
    )
