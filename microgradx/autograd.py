"""The engine: the Function base class, per-thread grad mode, and the backward pass.

How a graph is recorded
-----------------------
``Function.apply(*inputs)`` runs ``forward`` on the inputs' NumPy arrays and wraps
the result in a new Tensor. When grad mode is on and an input requires grad, the
Function keeps its inputs (strongly) and becomes the output's ``creator``. It
keeps no reference to its output, so a tensor holds its whole history and
dropping the last reference to the result frees the graph: there are no
reference cycles.

An edge names the version it read
---------------------------------
An in-place operator (``c += 1``, ``c[0] = v``) gives the tensor ``c`` a new
creator (see :mod:`microgradx.inplace`). An op recorded earlier read the old
version of ``c``, so the engine follows each edge to the creator the input had
*when the op was recorded*: every Function remembers the epoch it was recorded
in (``_recorded_at``), and a tensor whose creator was replaced remembers the creators
it had before (:func:`creator_read_by`). The values backward reads are checked
the same way: ``Function.input(i)`` and ``Function.result`` raise if that value
was overwritten after the op was recorded, instead of using the new one.

How backward runs
-----------------
:func:`backward` first walks the graph once, iteratively, counting for every
Function how many consumers inside the graph still owe it a gradient. It then
pops Functions whose count reached zero (their output's gradient is complete),
calls their ``backward``, fits each returned gradient to its input (undoing
broadcasting with :func:`sum_to`, checking the shape, casting to the input's
dtype) and passes it on. No recursion anywhere, so a chain of a million
operations backpropagates. Unless ``retain_graph=True`` each Function drops its
inputs and saved arrays as soon as it has been used.
"""

from __future__ import annotations

import bisect
import functools
import gc
import inspect
import threading
import weakref
from collections.abc import Callable, Generator, Sequence
from contextlib import ContextDecorator
from typing import TYPE_CHECKING, Any, TypeVar, overload

import numpy as np

from . import _habits
from .errors import BackwardError, fmt_shape

if TYPE_CHECKING:
    from .tensor import Tensor

__all__ = [
    "Function",
    "backward",
    "enable_grad",
    "is_grad_enabled",
    "no_grad",
    "set_grad_enabled",
    "bump_version",
    "sum_to",
    "vjp",
]

_F = TypeVar("_F", bound=Callable[..., Any])


# --------------------------------------------------------------------------- #
# Grad mode, per thread
# --------------------------------------------------------------------------- #
class _GradState(threading.local):
    """Each thread starts with recording on and an empty stack of saved states."""

    def __init__(self) -> None:
        self.enabled = True
        self.saved: list[bool] = []


_state = _GradState()


def is_grad_enabled() -> bool:
    """Whether operations in this thread are recorded for backward."""
    return _state.enabled


class set_grad_enabled(ContextDecorator):
    """Turn graph recording on or off in this thread: at once, or inside a ``with`` block.

    As in PyTorch, a plain call ``mgx.set_grad_enabled(False)`` takes effect
    at once and lasts until changed; ``with mgx.set_grad_enabled(False):``
    restores the previous mode at the end of the block; as a decorator,
    ``@mgx.set_grad_enabled(False)``, only the function's body runs in that
    mode. The setting is per thread: another thread's ``no_grad`` never
    affects this one.

    Examples
    --------
    >>> import microgradx as mgx
    >>> w = mgx.tensor(1.0, requires_grad=True)
    >>> _ = mgx.set_grad_enabled(False)
    >>> (w * 2).requires_grad
    False
    >>> _ = mgx.set_grad_enabled(True)
    >>> (w * 2).requires_grad
    True
    """

    _mode: bool = True
    #: The mode before a plain call changed it (restored by the ``with`` block or decorator
    #: that may follow); None once that happened, and for no_grad / enable_grad.
    _before: bool | None = None

    def __init__(self, mode: bool = True) -> None:
        self._mode = bool(mode)
        self._before = _state.enabled
        _state.enabled = self._mode  # at once, as torch.set_grad_enabled

    def __enter__(self) -> None:
        before, self._before = self._before, None
        _state.saved.append(_state.enabled if before is None else before)
        _state.enabled = self._mode

    def __exit__(self, *exc: object) -> None:
        _state.enabled = _state.saved.pop()

    def __call__(self, func: _F) -> _F:
        """Decorate ``func``: its body runs in this mode (a generator's too, each time it resumes)."""
        if self._before is not None:  # made by a plain call: the mode outside func is as it was
            _state.enabled, self._before = self._before, None
        if inspect.isgeneratorfunction(func):
            return _generator_in_mode(func, self._mode)  # type: ignore[return-value]
        return super().__call__(func)


def _generator_in_mode(func: Callable[..., Generator[Any, Any, Any]], mode: bool) -> Callable[..., Any]:
    """``func`` (a generator function) with grad mode ``mode`` around every step of its body.

    A plain decorator would only cover the call, which merely creates the generator;
    the body runs later, in whatever mode the caller is in at each ``next()``.
    """

    @functools.wraps(func)
    def wrapped(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
        gen = func(*args, **kwargs)
        resume: Callable[[Any], Any] = gen.send
        value: Any = None
        while True:
            try:
                with set_grad_enabled(mode):
                    response = resume(value)
            except StopIteration as stop:
                return stop.value
            try:
                value = yield response
                resume = gen.send
            except GeneratorExit:
                with set_grad_enabled(mode):
                    gen.close()
                raise
            except BaseException as exc:  # thrown in by the caller: pass it on, inside the mode
                resume, value = gen.throw, exc

    return wrapped


class no_grad(set_grad_enabled):
    """Record no graph inside the block (or the decorated function).

    Examples
    --------
    >>> import microgradx as mgx
    >>> w = mgx.tensor([1.0, 2.0], requires_grad=True)
    >>> with mgx.no_grad():
    ...     y = w * 2
    >>> y.requires_grad
    False
    """

    _mode = False

    @overload
    def __new__(cls, func: None = None) -> no_grad: ...
    @overload
    def __new__(cls, func: _F) -> _F: ...  # type: ignore[misc]

    def __new__(cls, func: Any = None) -> Any:
        self = super().__new__(cls)
        if func is not None:  # used bare, as ``@no_grad``
            return self(func)
        return self

    def __init__(self, func: Any = None) -> None:
        self._mode = False


class enable_grad(no_grad):
    """Turn recording back on inside a ``no_grad`` block (or decorated function)."""

    _mode = True

    def __init__(self, func: Any = None) -> None:
        self._mode = True


# --------------------------------------------------------------------------- #
# Broadcasting, undone
# --------------------------------------------------------------------------- #
def sum_to(x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``x`` down to ``shape``: the adjoint of ``np.broadcast_to(., x.shape)``.

    Leading axes that broadcasting added are summed away; axes where ``shape``
    has 1 are summed with ``keepdims``.

    >>> sum_to(np.ones((2, 3)), (3,))
    array([2., 2., 2.])
    """
    if x.shape == shape:
        return x
    lead = x.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, s in enumerate(shape) if s == 1 and x.shape[lead + i] != 1
    )
    y = x.sum(axis=axes, keepdims=True) if axes else x
    return y.reshape(shape)


def _broadcasts_to(small: tuple[int, ...], big: tuple[int, ...]) -> bool:
    """True when an array of shape ``small`` broadcasts to exactly ``big``."""
    if len(small) > len(big):
        return False
    return all(s == 1 or s == b for s, b in zip(small[::-1], big[::-1], strict=False))


# --------------------------------------------------------------------------- #
# The in-place clock
# --------------------------------------------------------------------------- #
#: Ticks at every in-place modification of a tensor. A tensor's version is the clock
#: reading of its memory's last modification (0: never); a Function remembers the
#: reading it was recorded at (``_recorded_at``). While the clock has not moved
#: since, backward skips every per-tensor check (one integer comparison per op).
_clock = [0]


def bump_version(t: Tensor) -> int:
    """Record that ``t``'s memory (and so every view sharing its counter) was modified in place.

    Returns the new clock reading, which is now ``t``'s version.
    """
    _clock[0] += 1
    t._counter()[0] = _clock[0]
    return _clock[0]


def creator_read_by(t: Tensor, epoch: int) -> Function | None:
    """The creator ``t`` had at ``epoch``: the history an op recorded then read.

    An in-place op replaces a tensor's creator and appends the old one, with the
    epoch it was replaced at, to ``t._past``; an op recorded before that epoch
    read the old version, so its gradient must flow into the old history.
    """
    past = t._past
    if past is not None:
        i = bisect.bisect_right(past, epoch, key=_replaced_at)  # the first replaced after epoch
        if i < len(past):
            return past[i][1]
    return t.creator


def _replaced_at(entry: tuple[int, Function | None]) -> int:
    return entry[0]


# --------------------------------------------------------------------------- #
# Function
# --------------------------------------------------------------------------- #
class Function:
    """Base class of every differentiable operation, built-in or a user's own.

    Subclass it with a ``forward`` that maps NumPy arrays to a NumPy array and
    a ``backward`` that maps the output's gradient (a Tensor) to one gradient
    per input (Tensors, or ``None`` for "zero / not needed"). Write backward
    with Tensor operations so that ``create_graph=True`` can differentiate it
    again. The engine undoes broadcasting of returned gradients and checks
    their shapes, so backward may return a gradient of the broadcast shape.

    Inside ``backward`` you have ``self.inputs`` (the input Tensors),
    ``self.output`` (the output Tensor) and ``self.needs_input_grad``; keyword
    arguments given to ``apply`` go to ``__init__``. If an input or the output
    was modified in place after the op was recorded, backward raises instead
    of calling your ``backward`` with the new values.

    Examples
    --------
    >>> import numpy as np
    >>> import microgradx as mgx
    >>> class Cube(mgx.Function):
    ...     '''Forward: y = x**3.   Backward: dL/dx = dL/dy * 3 x**2'''
    ...     def forward(self, x):
    ...         return x ** 3
    ...     def backward(self, gy):
    ...         (x,) = self.inputs
    ...         return gy * 3 * x * x
    >>> x = mgx.tensor(2.0, requires_grad=True)
    >>> Cube.apply(x).backward()
    >>> x.grad
    tensor(12.)
    """

    __slots__ = ("inputs", "needs_input_grad", "_out", "_recorded_at", "_freed", "__dict__", "__weakref__")

    #: The op's name in error messages and graph pictures (default: class name, lower-case).
    name: str = "function"

    #: True when ``backward`` uses only operations that NumPy arrays and Tensors
    #: share (arithmetic, ``@``, ``.sum``, ``.reshape``, ``.transpose``, indexing,
    #: and the helpers of :mod:`microgradx.ops` that accept both), and reads its
    #: inputs through :meth:`input` and its output through :attr:`result`. A plain
    #: ``backward()`` then runs it on arrays (fast: no graph, no Tensor per step)
    #: and ``create_graph=True`` on Tensors. The built-in ops do this; a user's
    #: op gets Tensors unless it sets this too.
    backward_on_arrays: bool = False

    #: True for the built-in ops, whose backward reads values only through
    #: :meth:`input` and :attr:`result` (checked there, one by one, so an op raises
    #: only for the values it needs, as PyTorch's do). A user's op may read
    #: ``self.inputs`` directly, so all its inputs are checked before its backward.
    _reads_checked: bool = False

    #: For an in-place op: the epoch its output was written at (after it was recorded).
    _written_at: int = 0

    inputs: tuple[Tensor, ...] | None
    needs_input_grad: tuple[bool, ...]
    _out: Tensor | None
    _recorded_at: int

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" not in cls.__dict__:
            cls.name = _snake(cls.__name__)
        for method in ("forward", "backward"):  # PyTorch's @staticmethod forward(ctx, x): say our form
            if isinstance(cls.__dict__.get(method), (staticmethod, classmethod)):
                raise _habits.function_form_error(cls, method)

    def __call__(self, *inputs: Any, **params: Any) -> Any:
        """Refused: ``Sq()(x)`` is DeZero's form; a Function is applied with ``Sq.apply(x)``."""
        raise _habits.function_call_error(self, len(inputs))

    def forward(self, *xs: Any) -> Any:
        """Compute the output array from the input arrays."""
        raise NotImplementedError(f"{type(self).__name__} must define forward(self, *arrays)")

    def backward(self, *grads: Any) -> Any:
        """Given dL/d(output), return dL/d(input) for each input (a Tensor, None, or a tuple)."""
        raise NotImplementedError(f"{type(self).__name__} must define backward(self, gy)")

    #: Ops whose output is a view of their (single) input's memory (reshape, transpose,
    #: basic indexing) define ``view_of(self, x)``: the same view of ``x``, an array or a
    #: Tensor. With it, an in-place update of the output writes back into the input's
    #: history, and a view whose base changed follows it (see :mod:`microgradx.inplace`).
    view_of: Callable[[Any], Any] | None = None

    # ------------------------------------------------------------------ #
    # what backward reads, checked against in-place modification
    # ------------------------------------------------------------------ #
    @property
    def output(self) -> Tensor:
        """The Tensor this call produced, inside ``backward`` (the backward pass hands it over).

        Raises if it was modified in place after this op produced it. A Function keeps
        no reference to its output otherwise: the output refers to the Function (its
        ``creator``), and a reference back would be a cycle.
        """
        out = getattr(self, "_out", None)
        if out is None:
            raise BackwardError(f"{self.name}: the output is available only inside backward()")
        if self._recorded_at != _clock[0] and out._version > max(self._recorded_at, self._written_at):
            raise self._modified_error("its output", out)
        return out

    def input(self, i: int) -> Any:
        """Input ``i`` as backward reads it: an array in a plain backward, a Tensor under create_graph.

        Raises if the input was modified in place after this op was recorded.
        """
        assert self.inputs is not None
        t = self.inputs[i] if self._recorded_at == _clock[0] else self._unmodified_input(i)
        return t if _state.enabled else t.data

    def input_array(self, i: int) -> np.ndarray:
        """Input ``i``'s array (checked like :meth:`input`), for masks and constants."""
        return self._unmodified_input(i).data

    @property
    def saved(self) -> tuple[Any, ...]:
        """Every input as backward reads it (see :meth:`input`)."""
        assert self.inputs is not None
        return tuple([self.input(i) for i in range(len(self.inputs))])

    @property
    def result(self) -> Any:
        """The output as backward reads it: an array in a plain backward, the Tensor under create_graph.

        Raises if the output was modified in place after this op produced it.
        """
        out = self._out if self._recorded_at == _clock[0] else None  # (the fast path: unchecked)
        if out is None:
            out = self.output
        return out if _state.enabled else out.data

    @property
    def result_array(self) -> np.ndarray:
        """The output's array (checked like :attr:`result`)."""
        return self.output.data

    def _unmodified_input(self, i: int) -> Tensor:
        """Input ``i`` as it was when this op was recorded: unchanged, or kept by an in-place op."""
        assert self.inputs is not None
        t = self.inputs[i]
        if self._recorded_at == _clock[0]:  # nothing was modified in place since
            return t
        kept = self.__dict__.get("_originals")
        if kept is not None and i in kept:  # an in-place op kept the value it overwrote
            return kept[i]  # type: ignore[no-any-return]
        if t._version > self._recorded_at:
            raise self._modified_error(f"input {i}", t)
        return t

    def _modified_error(self, what: str, t: Tensor) -> BackwardError:
        name = f"{t.name!r}, " if t.name else ""
        shape = f"shape {fmt_shape(t.shape)}"
        owner = _inplace.memory_owner(t)
        buffer = owner is not t and owner.shape != t.shape
        if buffer:
            shape += f", a view of a tensor of shape {fmt_shape(owner.shape)}"
        if self._written_at and t._version == self._written_at:  # this in-place op wrote it
            return BackwardError(
                f"{self.name}: {what} ({name}{shape}) was overwritten by this very in-place "
                f"operation: its right-hand side shares memory with the tensor it updates, and "
                f"{self.name}'s backward needs the old value. Compute the right-hand side first "
                "(c = c * c rather than c *= c), or on a copy (c *= c[::-1].clone())."
            )
        advice = (
            " For a buffer written step by step (h[:, t] = f(h[:, t - 1])), any write to it counts: "
            "collect the steps in a list and F.stack them instead."
            if buffer
            else ""
        )
        return BackwardError(
            f"{self.name}: {what} ({name}{shape}) was modified by an in-place operation after "
            f"{self.name} used it, and {self.name}'s backward needs its old value; the gradient "
            "would be wrong. Use an out-of-place operation (x = x + y), or keep a copy of the value "
            f"(x.clone()).{advice}"
        )

    def _check_inputs(self) -> None:
        """For a user's op, which may read ``self.inputs`` directly: check them all before backward."""
        assert self.inputs is not None
        for i in range(len(self.inputs)):
            self._unmodified_input(i)

    # ------------------------------------------------------------------ #
    # recording
    # ------------------------------------------------------------------ #
    @classmethod
    def apply(cls, *inputs: Any, **params: Any) -> Tensor:
        """Run the op on ``inputs`` (Tensors, arrays or scalars), recording it when an input requires grad.

        The steps, for a reader: make the op (``cls(**params)``); turn the inputs into
        Tensors; run ``forward`` on their arrays; wrap the result in a Tensor; if it
        shares memory with an input, make it a view of that input (:func:`_make_view`);
        and if grad mode is on and an input requires grad, record the op as the
        result's creator. :func:`_run` is those middle steps, written for speed.
        """
        fn = cls(**params) if params else cls()
        for x in inputs:
            if not isinstance(x, _Tensor):
                inputs = _as_tensors(inputs)
                break
        recording = _state.enabled
        out, need = _run(fn, inputs, recording)
        if recording and True in need:
            if out.data.dtype.kind != "f":
                raise _habits.bad_data_error(fn.name, inputs) or TypeError(
                    f"{fn.name}: produced {out.data.dtype} data from inputs that require grad; "
                    "a differentiable op must return floating-point data"
                )
            fn.needs_input_grad = need
            fn.inputs = inputs
            fn._recorded_at = _clock[0]
            out._rg = True
            out.creator = fn
            if _on_record is not None:  # a recorder listens (microgradx.debug); None otherwise
                _on_record(fn, out)
        if _anomaly is not None:  # anomaly mode (microgradx.anomaly): check the result, note the caller
            _anomaly.forward(fn, inputs, out)
        if _tracer is not None:  # mgx.compile is tracing: note the op (microgradx.compile)
            _tracer.op(fn, params, inputs, out)
        return out

    def _release(self) -> None:
        """Drop the inputs and everything forward saved; a later backward raises.

        What remains is the graph's structure, as PyTorch keeps its ``grad_fn``
        nodes: each input that is a leaf (a parameter or a constant), and for
        each other input a weak reference to it and the creator it was read
        from. So the graph can still be drawn after backward. Ops that can make
        views keep their parameters (an index, a shape), which a view may need later.
        """
        assert self.inputs is not None
        freed = []
        for t in self.inputs:
            creator = t.creator if t._vc is None else creator_read_by(t, self._recorded_at)
            freed.append(t if creator is None else (weakref.ref(t), creator))
        self._freed = tuple(freed)
        self.inputs = None
        if self.view_of is None:
            self.__dict__.clear()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"


def _run(fn: Function, inputs: tuple[Tensor, ...], recording: bool) -> tuple[Tensor, tuple[bool, ...]]:
    """Forward of ``fn`` on ``inputs``: the output Tensor and which inputs require grad.

    The hot path of every op, so the common arities are spelled out. While
    recording, an input that is a view of a tensor changed in place since is
    first brought up to date (:func:`microgradx.inplace.refresh`).
    """
    n = len(inputs)
    try:
        if n == 1:
            (a,) = inputs
            if recording and a._vc is not None:
                _inplace.refresh(a)
            need: tuple[bool, ...] = _NEEDS[a._rg]
            y = fn.forward(a.data)
            if type(y) is not np.ndarray:
                y = np.asarray(y)
            aliased = y.base is not None or y is a.data
        elif n == 2:
            a, b = inputs
            if recording and (a._vc is not None or b._vc is not None):
                _inplace.refresh(a)
                _inplace.refresh(b)
            need = _NEEDS[a._rg, b._rg]
            y = fn.forward(a.data, b.data)
            if type(y) is not np.ndarray:
                if type(y) is list:  # list + list: a .data replaced by a list (no array op gives one)
                    _habits.raise_if_bad_data(fn.name, inputs, None)
                y = np.asarray(y)
            aliased = y.base is not None or y is a.data or y is b.data
        else:
            if recording:
                for t in inputs:
                    if t._vc is not None:
                        _inplace.refresh(t)
            need = tuple([t._rg for t in inputs])
            y = np.asarray(fn.forward(*[t.data for t in inputs]))
            aliased = y.base is not None or any(y is t.data for t in inputs)
    except (ValueError, TypeError, AttributeError) as e:
        _habits.raise_if_bad_data(fn.name, inputs, e)  # a .data replaced by a list, say
        if not isinstance(e, ValueError) or str(e).startswith(fn.name + ":"):  # (named itself and the shapes)
            raise
        shapes = ", ".join(fmt_shape(t.shape) for t in inputs)
        raise ValueError(f"{fn.name}: {e} (input shapes {shapes})") from e
    out = _new(_Tensor)  # Tensor._wrap(y), inlined
    out.data = y
    out.creator = None
    out._vc = None
    out._rg = False
    if aliased:  # a view of (or the very array of) an input
        for t in inputs:
            if np.may_share_memory(y, t.data):
                if fn.view_of is None:  # an op that cannot remake it (a user's): no aliasing
                    out.data = y.copy()
                else:  # they share memory from now on
                    _make_view(out, t, fn)
                break
    return out, need


def _make_view(out: Tensor, base: Tensor, fn: Function) -> None:
    """``out`` shares ``base``'s memory: one version counter, and a link to replay the view."""
    out._vc = base._counter()
    out._view = (base, fn)
    if out._vc[0]:
        out._hist = out._vc[0]  # the version its history was made at (see microgradx.inplace.refresh)


def _snake(name: str) -> str:
    out = []
    for i, c in enumerate(name):
        if c.isupper() and i and (not name[i - 1].isupper() or (i + 1 < len(name) and name[i + 1].islower())):
            out.append("_")
        out.append(c.lower())
    return "".join(out)


def _as_tensors(inputs: tuple[Any, ...]) -> tuple[Tensor, ...]:
    """Inputs as Tensors; Python scalars adopt the dtype of the first float Tensor."""
    ref = None
    for x in inputs:
        if isinstance(x, _Tensor) and x.data.dtype.kind == "f":
            ref = x.data.dtype
            break
    return tuple([x if isinstance(x, _Tensor) else _Tensor._from_operand(x, ref) for x in inputs])


# --------------------------------------------------------------------------- #
# The backward pass
# --------------------------------------------------------------------------- #
def backward(
    root: Tensor,
    grad: Any = None,
    retain_graph: bool = False,
    create_graph: bool = False,
    inputs: Sequence[Tensor] | None = None,
) -> list[Tensor | None] | None:
    """Accumulate d(root)/d(leaf) into ``.grad`` of every leaf that requires grad.

    With ``inputs``, touch no ``.grad`` at all: return the gradient of each
    tensor in ``inputs`` (leaf or not; ``None`` where no gradient reaches it),
    as ``torch.autograd.grad`` does. See :meth:`microgradx.Tensor.backward` for
    the user-facing description.

    Without ``create_graph`` gradients flow as NumPy arrays (ops whose
    ``backward_on_arrays`` is set compute on them directly); with it, as
    Tensors, so that the pass itself is recorded.
    """
    if _tracer is not None:  # mgx.compile is tracing: it runs the pass and records it
        return _tracer.backward(root, grad, retain_graph, create_graph, inputs)  # type: ignore[no-any-return]
    if root._vc is not None:  # a view of a tensor changed in place since: follow its new history
        _inplace.refresh(root)
    if not root._rg:
        raise RuntimeError(
            "backward: this tensor does not require grad and has no creator; "
            "create the inputs with requires_grad=True"
        )
    if grad is None:
        if root.data.size != 1:
            raise RuntimeError(
                f"backward: grad can be omitted only for a tensor with one element; this one "
                f"has shape {fmt_shape(root.shape)}. Pass grad= of that shape, or reduce first (.sum())"
            )
        seed = np.ones_like(root.data)
    else:
        g = grad.data if isinstance(grad, _Tensor) else grad
        seed = np.array(g, dtype=root.data.dtype, copy=True)
        if seed.shape != root.shape:
            raise ValueError(
                f"backward: grad has shape {fmt_shape(seed.shape)} but the tensor has shape "
                f"{fmt_shape(root.shape)}; they must be equal"
            )
    retain_graph = retain_graph or create_graph
    gseed: Any = seed
    if create_graph:
        gseed = grad if isinstance(grad, _Tensor) and grad._rg else _Tensor._wrap(seed)

    given: set[int] = set()  # arrays already stored as some tensor's .grad in this pass
    wanted = None if inputs is None else {id(t): i for i, t in enumerate(inputs)}
    captured: list[Tensor | None] = [None] * (0 if inputs is None else len(inputs))

    def deliver(t: Tensor, g: Any) -> None:
        """The gradient of ``t`` is complete: accumulate it into .grad, or capture it."""
        if wanted is None:
            t.grad = _combine(t.grad, g, create_graph, given)
        elif id(t) in wanted:
            i = wanted[id(t)]
            captured[i] = _combine(captured[i], g, create_graph, given)

    watch = None
    if _anomaly is not None or _hook_count[0]:  # anomaly mode or hooks: the watched pass (microgradx.anomaly)
        from .anomaly import Watch

        watch = Watch(create_graph, wanted, deliver)
        deliver, gseed = watch.deliver, watch.seed(gseed)

    head = root.creator
    if head is None:  # a leaf: its gradient is the seed
        deliver(root, gseed)
        if watch is not None:
            watch.finish()
        return None if inputs is None else captured

    # The pass makes no reference cycles, so the cyclic garbage collector has nothing to find
    # here; left on, it would repeatedly traverse the whole (possibly huge) graph. It is
    # paused for the pass and restored as the caller had it.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        try:
            _run_pass(head, root, gseed, deliver, wanted, create_graph, retain_graph, watch)
        except AttributeError as e:  # a .data replaced by a list, say (found only now: a check per op costs)
            _habits.raise_if_bad_data("backward", [root], e, graph=True)
            raise
        if watch is not None:
            watch.finish()
    except BaseException as e:
        if watch is not None:
            watch.failed(e)
        raise
    finally:
        if gc_was_enabled:
            gc.enable()
    return None if inputs is None else captured


def _run_pass(
    head: Function,
    root: Tensor,
    gseed: Any,
    deliver: Callable[[Tensor, Any], None],
    wanted: dict[int, int] | None,
    create_graph: bool,
    retain_graph: bool,
    watch: Any = None,
) -> None:
    """The backward pass proper: Functions in topological order, gradients passed on.

    ``watch`` (a :class:`microgradx.anomaly.Watch`, or None) runs tensor hooks and the
    anomaly checks at each node; None costs one test per node.
    """
    pending, outputs = _count_consumers(head, root)
    grads: dict[Function, Any] = {head: gseed}
    ready = [head]
    epoch = _clock[0]
    with set_grad_enabled(create_graph):
        while ready:
            fn = ready.pop()
            gy = grads.pop(fn, None)
            out = outputs.pop(fn)  # held until fn has run: its backward may read its output
            fn_inputs = fn.inputs
            assert fn_inputs is not None
            if gy is not None:
                if watch is not None:  # hooks on out may replace gy; anomaly mode checks it
                    gy = watch.arrived(fn, out, gy)
                # (out may have been given a new history by an in-place op since: then this
                # gradient belongs to its old version, which nobody can name)
                if (out._retains_grad if wanted is None else id(out) in wanted) and out.creator is fn:
                    deliver(out, gy)
                if fn._recorded_at != epoch and not fn._reads_checked:
                    fn._check_inputs()  # a user's op may read self.inputs directly: check them all
                fn._out = out  # for self.output / self.result, during this call only
                try:
                    if create_graph or fn.backward_on_arrays:
                        gxs = fn.backward(gy)
                        if type(gxs) is not tuple:
                            gxs = (gxs,)
                    else:
                        gxs = _tensor_backward(fn, gy)
                finally:
                    fn._out = None
                if watch is not None:
                    watch.returned(fn, gxs, gy, out)
                if len(gxs) != len(fn_inputs):
                    raise BackwardError(
                        f"{fn.name}: backward returned {len(gxs)} gradients for {len(fn_inputs)} inputs"
                    )
                need = fn.needs_input_grad
                for i, x in enumerate(fn_inputs):
                    gx = gxs[i]
                    creator = x.creator if x._vc is None else creator_read_by(x, fn._recorded_at)
                    if gx is not None and need[i]:
                        xd = x.data
                        if (
                            create_graph
                            or type(gx) is not np.ndarray
                            or gx.shape != xd.shape
                            or gx.dtype != xd.dtype
                        ):
                            gx = _fit(gx, x, fn, i, create_graph)
                        if creator is None:
                            deliver(x, gx)
                        else:
                            prev = grads.get(creator)
                            grads[creator] = gx if prev is None else prev + gx
                    if creator is not None:
                        left = pending[creator] - 1
                        pending[creator] = left
                        if left == 0:
                            ready.append(creator)
            else:  # nothing flowed in: every input gets nothing from here
                for x in fn_inputs:
                    creator = x.creator if x._vc is None else creator_read_by(x, fn._recorded_at)
                    if creator is not None:
                        pending[creator] -= 1
                        if pending[creator] == 0:
                            ready.append(creator)
            if not retain_graph:
                fn._release()


def _tensor_backward(fn: Function, gy: np.ndarray) -> tuple[Any, ...]:
    """A user's op in a plain backward: its backward takes and returns Tensors; the pass uses arrays."""
    gxs = fn.backward(_Tensor._wrap(gy))
    if type(gxs) is not tuple:
        gxs = (gxs,)
    return tuple(g.data if isinstance(g, _Tensor) else g for g in gxs)


def vjp(
    output: Tensor, inputs: Sequence[Tensor], grad_output: Any = None, create_graph: bool = False
) -> list[Tensor | None]:
    """Vector-Jacobian product: d<output, grad_output>/d(input) for each of ``inputs``.

    No ``.grad`` is touched and the graph is kept (it may be asked again).
    ``None`` marks an input that the output does not depend on.

    >>> import microgradx as mgx
    >>> x = mgx.tensor([1.0, 2.0], requires_grad=True)
    >>> vjp((x * x).sum(), [x])
    [tensor([2., 4.])]
    """
    if not output.requires_grad:  # (a view brought up to date first)
        return [None] * len(inputs)
    result = backward(output, grad_output, retain_graph=True, create_graph=create_graph, inputs=inputs)
    assert result is not None
    return result


def _count_consumers(head: Function, root: Tensor) -> tuple[dict[Function, int], dict[Function, Tensor]]:
    """For each Function reachable from ``head``: how many graph edges consume its output, and
    that output (held strongly for the pass, since releasing a consumer may drop the last
    other reference to it)."""
    pending: dict[Function, int] = {head: 0}
    outputs: dict[Function, Tensor] = {head: root}
    stack = [head]
    while stack:
        fn = stack.pop()
        if fn.inputs is None:
            raise BackwardError(
                f"backward: the graph through '{fn.name}' was already freed by an earlier "
                "backward(). To backpropagate through the same graph again, pass "
                "retain_graph=True to the first backward() call."
            )
        for x in fn.inputs:
            c = x.creator if x._vc is None else creator_read_by(x, fn._recorded_at)
            if c is not None:
                if c in pending:
                    pending[c] += 1
                else:
                    pending[c] = 1
                    outputs[c] = x
                    stack.append(c)
    return pending, outputs


def _fit(gx: Any, x: Tensor, fn: Function, i: int, create_graph: bool) -> Any:
    """Make ``gx`` x's shape and dtype (an array, or a Tensor under create_graph), or say what is wrong."""
    if create_graph:
        if not isinstance(gx, _Tensor):
            gx = _Tensor._wrap(np.asarray(gx))
        arr = gx.data
    else:
        if type(gx) is not np.ndarray:
            gx = np.asarray(gx.data if isinstance(gx, _Tensor) else gx)
        arr = gx
    xd = x.data
    if arr.shape == xd.shape and arr.dtype == xd.dtype:
        return gx
    if xd.dtype.kind != "f":  # .data replaced by int values: casting the gradient would round it
        raise _habits.bad_data_error(fn.name, [x]) or BackwardError(f"{fn.name}: input {i} is {xd.dtype}")
    if arr.shape != xd.shape:
        if not _broadcasts_to(xd.shape, arr.shape):
            raise BackwardError(
                f"{fn.name}: backward returned a gradient of shape {fmt_shape(arr.shape)} "
                f"for input {i} of shape {fmt_shape(xd.shape)}"
            )
        if create_graph:
            from .ops.shape import sum_to as sum_to_op

            gx = sum_to_op(gx, xd.shape)
        else:
            gx = sum_to(gx, xd.shape)
    if create_graph:
        return gx if gx.data.dtype == xd.dtype else gx.astype(xd.dtype)
    return gx if gx.dtype == xd.dtype else gx.astype(xd.dtype)


def _combine(prev: Tensor | None, g: Any, create_graph: bool, given: set[int]) -> Tensor:
    """``prev + g`` for a gradient being stored, as a Tensor that owns a writeable array.

    Backward passes gradients through (``a + b`` gives both inputs the same one) and
    returns views (``sum`` gives a read-only broadcast view), so the first gradient
    a tensor receives is copied when it is a view, read-only, or was already
    handed to another tensor in this pass (``given`` holds their ids). Then
    ``p.grad *= s`` under ``no_grad`` changes ``p.grad`` and nothing else, with or
    without ``create_graph`` (where the copy is recorded: a ``clone``).
    """
    if create_graph:
        if prev is not None:
            g = prev + g
        elif id(g) in given or g.data.base is not None or not g.data.flags.writeable:
            g = _clone(g)
        given.add(id(g))
        return g  # type: ignore[no-any-return]
    arr = g.data if isinstance(g, _Tensor) else np.asarray(g)
    if prev is not None:
        arr = np.asarray(prev.data + arr)  # (a 0-d sum is a NumPy scalar: make it an array)
    elif arr.base is not None or not arr.flags.writeable or id(arr) in given:
        arr = arr.copy()
    given.add(id(arr))
    return _Tensor._wrap(arr)


def _clone(g: Tensor) -> Tensor:
    from .ops.arithmetic import clone

    return clone(g)


#: The Tensor class; tensor.py, which imports this module, registers it here.
_Tensor: Any = None
#: Called as ``_on_record(fn, out)`` for each op just recorded. None except while
#: :mod:`microgradx.debug` records a function (to learn each op's output and the user's line
#: that called it); while None it costs one check per recorded op.
_on_record: Callable[[Function, Tensor], None] | None = None
#: While ``mgx.compile`` traces a function (a :class:`microgradx.compile._Tracer`), else None:
#: ``Function.apply`` reports each op to it and ``backward`` hands it the pass to run and record.
_tracer: Any = None
#: Anomaly mode while it is on (a ``microgradx.anomaly._Mode``), else None; and how many tensor
#: hooks are registered (microgradx.hooks). While both are off, the engine's one test each costs nothing more.
_anomaly: Any = None
_hook_count = [0]
#: microgradx.inplace, which imports this module (imported at the end of tensor.py).
_inplace: Any = None
_new = object.__new__
#: needs_input_grad for one and two inputs, shared: a recorded op allocates no tuple for it
_NEEDS: dict[Any, tuple[bool, ...]] = {
    **{flag: (flag,) for flag in (False, True)},
    **{(a, b): (a, b) for a in (False, True) for b in (False, True)},
}
