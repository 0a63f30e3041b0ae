"""``mgx.compile``: trace a training step once, replay it as straight-line NumPy.

How it works
------------
``step = mgx.compile(fn)``. The first call with a given *signature* (the shapes,
dtypes and ``requires_grad`` of the tensor arguments, the values of the other
arguments, and the grad mode) runs ``fn`` eagerly, exactly as without
``compile``, while a :class:`_Tracer` writes down, in order, every array
computation it makes:

- each op's forward (``Function.apply`` reports it: the engine's one hook,
  ``microgradx.autograd._tracer``),
- the backward pass that ``loss.backward()`` starts (the engine hands the pass to
  the tracer, which runs the engine's own steps and writes each down: the op's
  backward, undoing broadcasting, adding up gradients, storing ``.grad``),
- in-place updates, comparisons, random draws, ``.grad`` assignments, and the
  calls ``optimizer.step()``, ``optimizer.zero_grad()``, ``module.zero_grad()``
  and ``scheduler.step()``.

That record is the *plan*: a Python function of NumPy calls on arrays, one line
per step, made with ``exec``. Later calls with the same signature run the plan
instead of ``fn``: no Tensor per op, no Function, no graph.

The plan calls the very code the eager run called (each op's ``forward`` and its
array ``backward``, the engine's ``sum_to`` and ``_combine``, the optimizer's
``step``) on the same arrays in the same order, so its results are the eager
results, bit for bit; ``tests/test_compile.py`` checks it for every op of the op
table and for random user programs.

What tracing freezes
--------------------
Whatever ``fn`` decides in Python is decided once, at the trace: a branch on a
tensor's value, a loop count, a Python number computed from data. So inside
``fn``, ``.item()``, ``float()``, ``int()``, ``bool()``, ``.numpy()``,
``.tolist()`` and ``np.asarray()`` of a traced tensor raise
:class:`TraceError` naming the line (with ``fallback=True`` the signature runs
eagerly instead, after one warning). NumPy computed directly on ``.data``
inside ``fn`` is not seen: its result is a constant of the plan. Module
``training`` flags of modules passed as arguments are part of the signature;
other Python state read inside ``fn`` is frozen.

``step.source`` is the plan as Python text.
"""

from __future__ import annotations

import builtins
import functools
import gc
import linecache
import os
import sys
import warnings
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np

from . import autograd as _ag
from . import creation as _creation
from . import inplace as _inplace_mod
from .autograd import _combine, _count_consumers, _state, creator_read_by, sum_to
from .errors import fmt_shape
from .tensor import Tensor

__all__ = ["Compiled", "TraceError", "compile"]

_PKG = os.path.dirname(os.path.abspath(__file__)) + os.sep
#: How many signatures one compiled function keeps plans for; the least recently used goes first.
CACHE_SIZE = 8
#: Ops the plan writes as one direct NumPy line instead of ``f.forward(...)`` / ``f.backward(...)``.
_RANDOM = ("rand", "randn", "randint", "rand_like", "randn_like")


class TraceError(RuntimeError):
    """``fn`` did something that a compiled plan cannot replay (it names the line)."""


class _Shim:
    """What an op's array backward reads as an input or output: ``.data`` (and a version of 0)."""

    __slots__ = ("data",)
    _version = 0
    name = None

    def __init__(self, data: Any = None) -> None:
        self.data = data

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape  # type: ignore[no-any-return]

    @property
    def dtype(self) -> Any:
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim  # type: ignore[no-any-return]

    @property
    def size(self) -> int:
        return self.data.size  # type: ignore[no-any-return]


def _user_line() -> str:
    """``file:line: code`` of the innermost frame outside microgradx (the user's line)."""
    f: Any = sys._getframe(2)
    while f is not None and (f.f_code.co_filename.startswith(_PKG) or f.f_code.co_filename == __file__):
        f = f.f_back
    if f is None:
        return "?"
    name = f.f_code.co_filename
    code = linecache.getline(name, f.f_lineno).strip()
    return (
        f"{os.path.basename(name)}:{f.f_lineno}: {code}" if code else f"{os.path.basename(name)}:{f.f_lineno}"
    )


def _wrap(arr: Any) -> Tensor:
    t = object.__new__(Tensor)
    t.data = arr
    t._rg = False
    t.creator = None
    t._vc = None
    return t


def _run_user_forward(f: Any, *xs: np.ndarray) -> np.ndarray:
    """A user's op forward, post-processed as ``autograd._run`` does (array; no aliasing)."""
    y = f.forward(*xs)
    if type(y) is not np.ndarray:
        y = np.asarray(y)
    if (y.base is not None or any(y is x for x in xs)) and f.view_of is None:
        if any(np.may_share_memory(y, x) for x in xs):
            y = y.copy()
    return y


def _tensor_backward(f: Any, gy: np.ndarray) -> tuple[Any, ...]:
    """A user's op backward, on Tensors, as ``autograd._tensor_backward`` runs it."""
    return _ag._tensor_backward(f, gy)  # type: ignore[no-any-return]


def _dropout_scale(shape: tuple[int, ...], p: float, dtype: Any) -> np.ndarray:
    """The mask of ``F.dropout`` (microgradx.ops.norm.dropout), drawn afresh: the same code."""
    from . import random as _random

    keep = _random.default_rng().random(shape) >= p
    if p == 1:
        return np.zeros(shape, dtype=dtype)
    return keep.astype(dtype) / np.asarray(1 - p, dtype)  # type: ignore[no-any-return]


# --------------------------------------------------------------------------- #
# The tracer
# --------------------------------------------------------------------------- #
class _Tracer:
    """Records, while ``fn`` runs eagerly, the array computations it makes (see the module doc)."""

    def __init__(self, fallback: bool) -> None:
        self.fallback = fallback
        self.escaped: str | None = None  # the line of a value escape under fallback=True
        self.lines: list[str] = []
        self.ns: dict[str, Any] = {}
        self.names: dict[int, str] = {}  # id(array) -> expression for it in the plan
        self.keep: list[Any] = []  # everything whose id is a key above stays alive
        self.reps: dict[int, str] = {}  # id(real Function) -> its replay twin's name
        self.args: dict[int, str] = {}  # id(argument Tensor) -> its name
        self.objs: dict[int, str] = {}  # id(persistent tensor, optimizer, module) -> name
        self.local: dict[int, str] = {}  # id(tensor made inside fn) -> name of its .grad (or "None")
        self.op_log: list[tuple[type, int, str]] = []  # (op class, line index, output name)
        self.paused = 0
        self.count = 0
        self.modules: dict[int, Any] = {}  # id -> every Module called while tracing (its flag is frozen)

    # names ------------------------------------------------------------------
    def new(self, prefix: str = "v") -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def const(self, value: Any, prefix: str = "c") -> str:
        name = self.new(prefix)
        self.ns[name] = value
        return name

    def emit(self, code: str, comment: str = "") -> None:
        self.lines.append(f"{code}  # {comment}" if comment else code)

    def bind(self, arr: Any, name: str) -> None:
        self.names[id(arr)] = name
        self.keep.append(arr)

    def tensor_name(self, t: Tensor) -> str:
        """How the plan names a tensor that lives across calls (an argument, a parameter)."""
        k = id(t)
        if k in self.args:
            return self.args[k]
        if k not in self.objs:
            label = "".join(c if c.isalnum() else "_" for c in (t.name or "")) or "t"
            self.objs[k] = self.const(t, f"{'p' if t._rg else label}_")
            self.keep.append(t)
        return self.objs[k]

    def value(self, arr: Any, t: Tensor | None = None) -> str:
        """The plan's name for ``arr`` (``t``'s data, if given): known, read from ``t``, or a constant."""
        name = self.names.get(id(arr))
        if name is not None:
            return name
        if t is not None and (id(t) in self.args or id(t) not in self.local):
            name = self.new()
            self.emit(f"{name} = {self.tensor_name(t)}.data")
        else:
            name = self.const(arr)
        self.bind(arr, name)
        return name

    # forward ---------------------------------------------------------------
    def op(self, fn: Any, params: dict[str, Any], inputs: tuple[Tensor, ...], out: Tensor) -> None:
        """``Function.apply`` ran ``fn`` on ``inputs`` giving ``out`` (the engine's hook)."""
        if self.paused:
            return
        from .ops import _BuiltinOp
        from .ops.norm import Dropout, dropout

        cls = type(fn)
        ins = [self.value(t.data, t) for t in inputs]
        rep = object.__new__(cls)
        rep.__dict__.update(fn.__dict__)
        rep.needs_input_grad = tuple(t._rg for t in inputs)
        rep._recorded_at = 0
        rep.inputs = tuple(_Shim() for _ in inputs)
        rep._out = _Shim()
        fname = self.new("f")
        self.ns[fname] = rep
        self.reps[id(fn)] = fname
        self.keep.append(fn)
        where = _user_line()
        if cls is Dropout and sys._getframe(2).f_code is dropout.__code__:  # draw the mask afresh
            p = sys._getframe(2).f_locals["p"]
            self.emit(
                f"{fname}.scale = _dropout_scale({tuple(out.shape)!r}, {p!r}, np.{out.dtype})",
                "dropout: a fresh mask from the package's generator",
            )
        else:
            dyn = {
                k: self.names[id(v)]
                for k, v in params.items()
                if isinstance(v, np.ndarray) and id(v) in self.names
            }
            if dyn:  # a parameter computed in fn (an index array from an argument): pass it again
                args = ", ".join(f"{k}={dyn[k] if k in dyn else self.const(v)}" for k, v in params.items())
                self.emit(f"{fname}.__init__({args})")
        name = self.new()
        call = f"{fname}.forward({', '.join(ins)})"
        if not issubclass(cls, _BuiltinOp):
            call = f"_run_user_forward({fname}, {', '.join(ins)})"
        elif out.data.ndim == 0 or type(fn).__dict__.get("forward") is None:
            call = f"np.asarray({call})"
        self.emit(f"{name} = {call}", f"{fn.name}  <- {where}")
        self.op_log.append((cls, len(self.lines) - 1, name))
        self.bind(out.data, name)
        self.keep.append(out)

    # backward --------------------------------------------------------------
    def backward(self, root: Tensor, grad: Any, retain_graph: bool, create_graph: bool, inputs: Any) -> None:
        """The engine's ``backward`` (see :func:`microgradx.autograd.backward`), run and recorded."""
        if self.paused:
            raise TraceError("mgx.compile: backward() inside an optimizer or scheduler call is not supported")
        where = _user_line()
        if create_graph or inputs is not None:
            raise TraceError(
                f"mgx.compile: {where}: create_graph=True and gradients of chosen inputs "
                "(mgx.grad, vjp, autograd-style calls) cannot be traced yet; call fn without compile"
            )
        if _ag._anomaly is not None or _ag._hook_count[0]:
            raise TraceError(
                f"mgx.compile: {where}: backward with tensor hooks or anomaly mode on cannot be traced; "
                "remove the hooks (or turn anomaly mode off) inside compiled functions"
            )
        if root._vc is not None:
            _ag._inplace.refresh(root)
        if not root._rg:
            raise RuntimeError(
                "backward: this tensor does not require grad and has no creator; "
                "create the inputs with requires_grad=True"
            )
        rname = self.value(root.data, root)
        self.emit("_given = set()", f"backward  <- {where}")
        gs = self.new("g")
        if grad is None:
            if root.data.size != 1:
                raise RuntimeError(
                    f"backward: grad can be omitted only for a tensor with one element; this one "
                    f"has shape {fmt_shape(root.shape)}. Pass grad= of that shape, or reduce first (.sum())"
                )
            seed = np.ones_like(root.data)
            self.emit(f"{gs} = np.ones_like({rname})", "dL/dL = 1")
        else:
            garr = grad.data if isinstance(grad, Tensor) else grad
            gsrc = (
                self.value(garr, grad if isinstance(grad, Tensor) else None)
                if isinstance(garr, np.ndarray)
                else self.const(garr)
            )
            seed = np.array(garr, dtype=root.data.dtype, copy=True)
            if seed.shape != root.shape:
                raise ValueError(
                    f"backward: grad has shape {fmt_shape(seed.shape)} but the tensor has shape "
                    f"{fmt_shape(root.shape)}; they must be equal"
                )
            self.emit(f"{gs} = np.array({gsrc}, dtype=np.{root.data.dtype}, copy=True)", "the given gradient")
        self.bind(seed, gs)
        given: set[int] = set()
        head = root.creator
        if head is None:
            self.deliver(root, seed, gs, given)
            return
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            self.run_pass(head, root, seed, gs, given, retain_graph)
        finally:
            if gc_was_enabled:
                gc.enable()

    def deliver(self, t: Tensor, g: Any, gname: str, given: set[int]) -> None:
        """``t.grad = _combine(t.grad, g)``, as the engine's ``deliver``; recorded."""
        self.paused += 1
        try:
            t.grad = new = _combine(t.grad, g, False, given)
        finally:
            self.paused -= 1
        r = self.new("r")
        k = id(t)
        if k in self.local or (k not in self.args and k not in self.objs and t.creator is not None):
            prev = self.local.get(k, "None")
            self.emit(f"{r} = _combine({prev}, {gname}, False, _given)", "store .grad (a tensor made in fn)")
            self.local[k] = r
        else:
            tn = self.tensor_name(t)
            self.emit(
                f"{r} = _combine({tn}.grad, {gname}, False, _given); {tn}.grad = {r}", "accumulate .grad"
            )
        self.bind(new.data, f"{r}.data")
        self.keep.append(new)

    def run_pass(
        self, head: Any, root: Tensor, seed: Any, gs: str, given: set[int], retain_graph: bool
    ) -> None:
        """``autograd._run_pass`` without hooks, anomaly mode or create_graph, writing each step down."""
        pending, outputs = _count_consumers(head, root)
        grads: dict[Any, Any] = {head: (seed, gs)}
        ready = [head]
        epoch = _ag._clock[0]
        with _ag.set_grad_enabled(False):
            while ready:
                fn = ready.pop()
                entry = grads.pop(fn, None)
                out = outputs.pop(fn)
                fn_inputs = fn.inputs
                if entry is not None:
                    gy, gyn = entry
                    if out._retains_grad and out.creator is fn:
                        self.deliver(out, gy, gyn, given)
                    if fn._recorded_at != epoch and not fn._reads_checked:
                        fn._check_inputs()
                    fname = self.reps.get(id(fn))
                    if fname is None:
                        raise TraceError(
                            f"mgx.compile: backward reaches '{fn.name}', an op recorded before the compiled "
                            "function was called; compute everything that needs gradients inside fn"
                        )
                    self.bind_rep(fn, fname, out)
                    fn._out = out
                    try:
                        if fn.backward_on_arrays:
                            gxs = fn.backward(gy)
                            single = type(gxs) is not tuple
                            if single:
                                gxs = (gxs,)
                            call = f"{fname}.backward({gyn})"
                        else:
                            self.paused += 1
                            try:
                                gxs = _ag._tensor_backward(fn, gy)
                            finally:
                                self.paused -= 1
                            single = False
                            call = f"_tensor_backward({fname}, {gyn})"
                    finally:
                        fn._out = None
                    if len(gxs) != len(fn_inputs):
                        raise _ag.BackwardError(
                            f"{fn.name}: backward returned {len(gxs)} gradients for {len(fn_inputs)} inputs"
                        )
                    need = fn.needs_input_grad
                    outs = []
                    for i, gx in enumerate(gxs):
                        if gx is not None and need[i]:
                            n = self.new("g")
                            outs.append(n)
                        else:
                            outs.append("_")
                    target = outs[0] if single else ", ".join(outs) + ("," if len(outs) == 1 else "")
                    self.emit(f"{target} = {call}", f"backward of {fn.name}")
                    for i, x in enumerate(fn_inputs):
                        gx = gxs[i]
                        creator = x.creator if x._vc is None else creator_read_by(x, fn._recorded_at)
                        if gx is not None and need[i]:
                            gxn = outs[i]
                            xd = x.data
                            if type(gx) is not np.ndarray or gx.shape != xd.shape or gx.dtype != xd.dtype:
                                gx, gxn = self.fit(gx, gxn, x, fn, i)
                            if creator is None:
                                self.deliver(x, gx, gxn, given)
                            else:
                                prev = grads.get(creator)
                                if prev is None:
                                    grads[creator] = (gx, gxn)
                                else:
                                    n = self.new("g")
                                    self.emit(f"{n} = {prev[1]} + {gxn}", "gradients add up")
                                    grads[creator] = (prev[0] + gx, n)
                        if creator is not None:
                            left = pending[creator] - 1
                            pending[creator] = left
                            if left == 0:
                                ready.append(creator)
                else:
                    for x in fn_inputs:
                        creator = x.creator if x._vc is None else creator_read_by(x, fn._recorded_at)
                        if creator is not None:
                            pending[creator] -= 1
                            if pending[creator] == 0:
                                ready.append(creator)
                if not retain_graph:
                    fn._release()

    def bind_rep(self, fn: Any, fname: str, out: Tensor) -> None:
        """Before the twin's backward: its inputs and output are the plan's current arrays."""
        rep = self.ns[fname]
        assert fn.inputs is not None
        names = [self.value(t.data, t) for t in fn.inputs]
        outn = self.value(out.data)
        kept = fn.__dict__.get("_originals")
        if kept:
            rep._originals = {i: _Shim() for i in kept}
        if fn.backward_on_arrays:
            sets = [f"{fname}.inputs[{i}].data = {n}" for i, n in enumerate(names)]
            sets.append(f"{fname}._out.data = {outn}")
            if kept:
                sets += [f"{fname}._originals[{i}].data = {self.value(t.data)}" for i, t in kept.items()]
        else:
            sets = [
                f"{fname}.inputs = ({', '.join(f'_wrap({n})' for n in names)},)",
                f"{fname}._out = _wrap({outn})",
            ]
            if kept:
                kv = ", ".join(f"{i}: _wrap({self.value(t.data)})" for i, t in kept.items())
                sets.append(f"{fname}._originals = {{{kv}}}")
        self.emit("; ".join(sets))

    def fit(self, gx: Any, gxn: str, x: Tensor, fn: Any, i: int) -> tuple[Any, str]:
        """``autograd._fit`` (without create_graph): recorded as the NumPy it does."""
        new = _ag._fit(gx, x, fn, i, False)
        xd = x.data
        expr = gxn
        if type(gx) is not np.ndarray:
            expr = f"np.asarray({expr})"
            gx = np.asarray(gx)
        if gx.shape != xd.shape:
            expr = f"sum_to({expr}, {tuple(xd.shape)!r})"
        if gx.dtype != xd.dtype:
            expr = f"{expr}.astype(np.{xd.dtype})"
        n = self.new("g")
        self.emit(f"{n} = {expr}", f"undo broadcasting into input {i} of {fn.name}")
        return new, n

    # other recorded actions ------------------------------------------------
    def call(self, obj: Any, method: str, label: str) -> None:
        k = id(obj)
        if k not in self.objs:
            self.objs[k] = self.const(obj, label)
            self.keep.append(obj)
        self.emit(f"{self.objs[k]}.{method}()", f"{type(obj).__name__}.{method}  <- {_user_line()}")

    def set_grad(self, t: Tensor, value: Any) -> None:
        k = id(t)
        expr = "None" if value is None else f"_wrap({self.value(value.data, value)})"
        if k in self.local or (k not in self.args and k not in self.objs and t.creator is not None):
            r = self.new("r")
            self.emit(f"{r} = {expr}", f".grad = ...  <- {_user_line()}")
            self.local[k] = r
        else:
            self.emit(f"{self.tensor_name(t)}.grad = {expr}", f".grad = ...  <- {_user_line()}")

    def created(self, t: Tensor, source: Any) -> None:
        """A Tensor made inside fn (``mgx.tensor(...)``): a fresh copy of its value each call."""
        src = self.names.get(id(source)) if isinstance(source, np.ndarray) else None
        if src is None and isinstance(source, Tensor):
            src = self.names.get(id(source.data))
        name = self.new()
        if src is None:
            self.emit(f"{name} = {self.const(t.data.copy())}.copy()", f"tensor  <- {_user_line()}")
        else:
            self.emit(
                f"{name} = np.array({src}, dtype=np.{t.data.dtype}, copy=True)", f"tensor  <- {_user_line()}"
            )
        self.bind(t.data, name)
        self.local[id(t)] = "None"
        self.keep.append(t)

    def unsupported(self, what: str) -> None:
        """``what`` changes state outside the recorded array computations: a replay would skip it."""
        where = _user_line()
        if self.fallback:
            if self.escaped is None:
                self.escaped = where
            return
        raise TraceError(
            f"mgx.compile: {where}: {what}, which a compiled plan cannot replay yet (a replay would "
            "silently skip it). Run this function eagerly, or use mgx.compile(fn, fallback=True)"
        )

    def escape(self, what: str) -> None:
        where = _user_line()
        if self.fallback:
            if self.escaped is None:
                self.escaped = where
            return
        raise TraceError(
            f"mgx.compile: {where}: {what} of a traced tensor; its value is known only when the "
            "function runs, and a compiled plan replays the trace without Python. Return the "
            "tensor from the function and use its value outside, or use "
            "mgx.compile(fn, fallback=True) to run this function eagerly"
        )


# --------------------------------------------------------------------------- #
# Patches in effect while a trace runs (each restored after it)
# --------------------------------------------------------------------------- #
def _patches(tr: _Tracer) -> list[tuple[Any, str, Any]]:
    from .nn.module import Module
    from .optim import Optimizer
    from .optim.lr_scheduler import LRScheduler

    patches: list[tuple[Any, str, Any]] = []

    def patch(owner: Any, name: str, new: Any) -> None:
        patches.append(
            (owner, name, owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name))
        )
        setattr(owner, name, new)

    def opaque(cls: type, method: str, label: str) -> None:
        orig = cls.__dict__[method]

        @functools.wraps(orig)
        def wrapper(self: Any, *a: Any, **k: Any) -> Any:
            if tr.paused:
                return orig(self, *a, **k)
            if a or k:
                raise TraceError(
                    f"mgx.compile: {type(self).__name__}.{method} with arguments cannot be traced"
                )
            tr.call(self, method, label)
            tr.paused += 1
            try:
                return orig(self)
            finally:
                tr.paused -= 1

        patch(cls, method, wrapper)

    module_call = Module.__dict__["__call__"]

    @functools.wraps(module_call)
    def traced_module_call(self: Any, *a: Any, **k: Any) -> Any:
        tr.modules[id(self)] = self  # its training flag is frozen into the plan: checked at replay
        return module_call(self, *a, **k)

    patch(Module, "__call__", traced_module_call)

    opaque(Optimizer, "step", "opt")
    opaque(Optimizer, "zero_grad", "opt")
    opaque(Module, "zero_grad", "model")
    opaque(LRScheduler, "step", "sched")

    grad_prop = Tensor.__dict__["grad"]

    def set_grad(self: Tensor, value: Any) -> None:
        grad_prop.fset(self, value)
        if not tr.paused:
            tr.set_grad(self, value)

    patch(Tensor, "grad", property(grad_prop.fget, set_grad, doc=grad_prop.__doc__))

    def escaping(name: str, what: str) -> None:
        orig = Tensor.__dict__[name]

        @functools.wraps(orig)
        def wrapper(self: Tensor, *a: Any, **k: Any) -> Any:
            if not tr.paused:
                tr.escape(what)
            return orig(self, *a, **k)

        patch(Tensor, name, wrapper)

    for name, what in (
        ("item", ".item()"),
        ("numpy", ".numpy()"),
        ("tolist", ".tolist()"),
        ("__bool__", "bool() (an `if` or `while` on a tensor)"),
        ("__float__", "float()"),
        ("__int__", "int()"),
        ("__array__", "np.asarray()"),
    ):
        if name in Tensor.__dict__:
            escaping(name, what)

    init = Tensor.__dict__["__init__"]

    def tensor_init(self: Tensor, data: Any, *a: Any, **k: Any) -> None:
        init(self, data, *a, **k)
        if not tr.paused:
            tr.created(self, data)

    patch(Tensor, "__init__", tensor_init)

    compare = Tensor.__dict__["_compare"]

    def traced_compare(self: Tensor, other: Any, ufunc: np.ufunc, op: str) -> Tensor:
        out = compare(self, other, ufunc, op)
        if not tr.paused:
            a = tr.value(self.data, self)
            if isinstance(other, Tensor):
                b = tr.value(other.data, other)
            else:
                b = tr.value(other) if isinstance(other, np.ndarray) else tr.const(other)
            name = tr.new()
            tr.emit(f"{name} = np.asarray(np.{ufunc.__name__}({a}, {b}))", f"{op}  <- {_user_line()}")
            tr.bind(out.data, name)
        return out

    patch(Tensor, "_compare", traced_compare)

    update = _inplace_mod.update

    def traced_update(
        target: Tensor, op: Any, operands: tuple[Tensor, ...], sym: str, write: Any, *a: Any, **k: Any
    ) -> None:
        if tr.paused:
            return update(target, op, operands, sym, write, *a, **k)
        tn = tr.value(target.data, target)
        on = [tr.value(o.data, o) for o in operands]
        recorded = target.data.flags.writeable and _inplace_mod.recording(target, operands)
        mark = len(tr.op_log)
        where = _user_line()
        if not recorded:
            tr.paused += 1
            try:
                update(target, op, operands, sym, write, *a, **k)
            finally:
                tr.paused -= 1
            tr.emit(f"{tr.const(write, 'write')}({tn}, {', '.join(on)})", f"{sym} in place  <- {where}")
            return
        update(target, op, operands, sym, write, *a, **k)
        from .ops.shape import ViewWrite

        log = tr.op_log[mark:]
        new = next(entry for entry in log if entry[0] is op)
        last = max([e[1] for e in log if e[0] is ViewWrite] + [new[1]])
        tr.lines.insert(last + 1, f'np.copyto({tn}, {new[2]}, casting="same_kind")  # {sym} writes in place')
        for j, (c, line, n) in enumerate(tr.op_log):
            if line > last:
                tr.op_log[j] = (c, line + 1, n)

    patch(_inplace_mod, "update", traced_update)

    snapshot = _inplace_mod._snapshot

    def traced_snapshot(t: Tensor) -> Tensor:
        s = snapshot(t)
        name = tr.new()
        tr.emit(f"{name} = {tr.value(t.data, t)}.copy()", "keep the value an in-place op overwrites")
        tr.bind(s.data, name)
        return s

    patch(_inplace_mod, "_snapshot", traced_snapshot)

    import microgradx as _mgx

    from . import random as _random

    seed_fn = _random.manual_seed

    def manual_seed(seed: int) -> None:
        seed_fn(seed)
        if not tr.paused:
            tr.emit(f"{tr.const(seed_fn, 'manual_seed')}({seed!r})", f"manual_seed  <- {_user_line()}")

    for owner in (_random, _mgx):
        if getattr(owner, "manual_seed", None) is seed_fn:
            patch(owner, "manual_seed", manual_seed)

    for fname in _RANDOM:
        orig_fn = getattr(_creation, fname, None)
        if orig_fn is None:
            continue

        def random_fn(*a: Any, __orig: Any = orig_fn, __name: str = fname, **k: Any) -> Any:
            if tr.paused:
                return __orig(*a, **k)
            tr.paused += 1
            try:
                t = __orig(*a, **k)
            finally:
                tr.paused -= 1
            f = tr.const(__orig, __name)
            ca = tr.const(a, "args")
            ck = tr.const(k, "kw")
            name = tr.new()
            tr.emit(
                f"{name} = {f}(*{ca}, **{ck}).data", f"{__name}: fresh numbers each call  <- {_user_line()}"
            )
            tr.bind(t.data, name)
            tr.local[id(t)] = "None"
            tr.keep.append(t)
            return t

        for owner in (_creation, _mgx):
            if getattr(owner, fname, None) is orig_fn:
                patch(owner, fname, random_fn)
    return patches


# --------------------------------------------------------------------------- #
# Signatures, plans, the compiled function
# --------------------------------------------------------------------------- #
def _flatten(obj: Any, leaves: list[Any], sig: list[Any]) -> None:
    """Collect the tensor/array leaves of ``obj`` (tuples, lists, dicts) and its signature."""
    from .nn.module import Module

    if isinstance(obj, Tensor):
        sig.append(("T", obj.data.shape, obj.data.dtype.str, obj._rg, _first(leaves, obj)))
        leaves.append(obj)
    elif isinstance(obj, np.ndarray):
        sig.append(("A", obj.shape, obj.dtype.str, _first(leaves, obj)))
        leaves.append(obj)
    elif isinstance(obj, (tuple, list)):
        sig.append((type(obj), len(obj)))
        for x in obj:
            _flatten(x, leaves, sig)
    elif isinstance(obj, dict):
        sig.append((dict, tuple(obj)))
        for x in obj.values():
            _flatten(x, leaves, sig)
    elif isinstance(obj, Module):
        sig.append((Module, id(obj), tuple(m.training for m in _modules(obj))))
    else:
        try:
            hash(obj)
        except TypeError:
            raise TypeError(
                f"mgx.compile: an argument of type {type(obj).__name__} is neither a Tensor, an array, "
                "a tuple/list/dict of them nor hashable; a compiled function's other arguments are "
                "part of its signature"
            ) from None
        sig.append((type(obj), obj))


def _first(leaves: list[Any], obj: Any) -> int:
    for i, x in enumerate(leaves):
        if x is obj:
            return i
    return -1


def _modules(m: Any) -> list[Any]:
    out = [m]
    for _, child in m.named_children():
        out += _modules(child)
    return out


class _Plan:
    """One traced signature: the generated function, its source, and the ``training`` flags of the
    modules the trace called (a module reached through a closure is not in the signature: a replay
    after ``model.eval()`` would silently keep training mode, so a changed flag traces again)."""

    def __init__(
        self, source: str, run: Callable[..., Any], lines: int, modules: tuple[Any, ...] = ()
    ) -> None:
        self.source = source
        self.run = run
        self.lines = lines
        self.modes = [(m, m.training) for m in modules]

    def modes_hold(self) -> bool:
        return all(m.training is flag for m, flag in self.modes)


_EAGER = object()


class Compiled:
    """A compiled function (see :func:`compile`): call it as ``fn``; ``source`` is the latest plan."""

    def __init__(self, fn: Callable[..., Any], fallback: bool = False, cache_size: int = CACHE_SIZE) -> None:
        self.fn = fn
        self.fallback = fallback
        self.cache_size = cache_size
        self.plans: OrderedDict[Any, Any] = OrderedDict()
        self._latest: _Plan | None = None
        self.traces = 0
        functools.update_wrapper(self, fn)

    @property
    def source(self) -> str:
        """The latest plan as Python: one line per NumPy call, commented with the op and the user's line."""
        if self._latest is None:
            raise RuntimeError("mgx.compile: no plan yet; call the compiled function once first")
        return self._latest.source

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        leaves: list[Any] = []
        sig: list[Any] = [_state.enabled]
        _flatten(args, leaves, sig)
        _flatten(kwargs, leaves, sig)
        key = tuple(sig)
        plan = self.plans.get(key)
        if plan is None:
            return self._trace(key, leaves, args, kwargs)
        self.plans.move_to_end(key)
        if plan is _EAGER or _ag._anomaly is not None or _ag._hook_count[0]:
            # a plan replays no hooks and checks no anomalies: with either on, run eagerly
            return self.fn(*args, **kwargs)
        if not plan.modes_hold():  # a module's train()/eval() changed since the trace: trace again
            del self.plans[key]
            return self._trace(key, leaves, args, kwargs)
        self._latest = plan
        before = _state.enabled
        _state.enabled = False
        try:
            return plan.run(*leaves)
        finally:
            _state.enabled = before

    def _trace(self, key: Any, leaves: list[Any], args: Any, kwargs: Any) -> Any:
        if _ag._tracer is not None:
            raise TraceError("mgx.compile: a compiled function was called while another one is tracing")
        tr = _Tracer(self.fallback)
        params = []
        for i, x in enumerate(leaves):
            name = f"a{i}"
            params.append(name)
            if isinstance(x, Tensor):
                tr.args[id(x)] = name
                if id(x.data) not in tr.names:
                    tr.emit(f"v_a{i} = {name}.data")
                    tr.bind(x.data, f"v_a{i}")
            elif id(x) not in tr.names:
                tr.bind(x, name)
        patches = _patches(tr)
        _ag._tracer = tr
        try:
            result = self.fn(*args, **kwargs)
        finally:
            _ag._tracer = None
            for owner, name, old in reversed(patches):
                setattr(owner, name, old)
        self.traces += 1
        if tr.escaped is not None:
            warnings.warn(
                f"mgx.compile: {tr.escaped}: the function reads a tensor's value; this signature "
                "runs eagerly (fallback=True)",
                stacklevel=2,
            )
            self._store(key, _EAGER)
            return result
        ret = _returns(tr, result)
        body = "\n".join("    " + line for line in tr.lines) or "    pass"
        name = getattr(self.fn, "__name__", "fn")
        name = name if name.isidentifier() else "fn"
        source = f"def {name}_plan({', '.join(params)}):\n{body}\n    return {ret}\n"
        ns = dict(tr.ns)
        ns.update(
            np=np,
            sum_to=sum_to,
            _combine=_combine,
            _wrap=_wrap,
            _run_user_forward=_run_user_forward,
            _tensor_backward=_tensor_backward,
            _dropout_scale=_dropout_scale,
        )
        exec(builtins.compile(source, f"<mgx.compile {name}>", "exec"), ns)
        plan = _Plan(source, ns[f"{name}_plan"], len(tr.lines), tuple(tr.modules.values()))
        self._store(key, plan)
        self._latest = plan
        return result

    def _store(self, key: Any, plan: Any) -> None:
        self.plans[key] = plan
        while len(self.plans) > self.cache_size:
            self.plans.popitem(last=False)


def _returns(tr: _Tracer, obj: Any) -> str:
    """The plan's expression for what fn returned (tensors become detached results)."""
    if isinstance(obj, Tensor):
        k = id(obj)
        if k in tr.args or k in tr.objs:
            return tr.tensor_name(obj)
        name = tr.names.get(id(obj.data))
        if name is None:
            return tr.const(obj)
        return f"_wrap({name})"
    if isinstance(obj, np.ndarray):
        name = tr.names.get(id(obj))
        return name if name is not None else tr.const(obj)
    if isinstance(obj, tuple):
        inner = ", ".join(_returns(tr, x) for x in obj)
        return f"({inner}{',' if len(obj) == 1 else ''})"
    if isinstance(obj, list):
        return "[" + ", ".join(_returns(tr, x) for x in obj) + "]"
    if isinstance(obj, dict):
        return "{" + ", ".join(f"{tr.const(k)}: {_returns(tr, v)}" for k, v in obj.items()) + "}"
    if obj is None:
        return "None"
    return tr.const(obj)


def compile(  # noqa: A001 - the name users expect (torch.compile)
    fn: Callable[..., Any] | None = None, *, fallback: bool = False, cache_size: int = CACHE_SIZE
) -> Any:
    """Trace ``fn`` once per signature and replay it as straight-line NumPy.

    The first call with a new signature (shapes, dtypes and ``requires_grad``
    of the tensor and array arguments, the values of the other arguments, the
    grad mode, the ``training`` flags of modules passed in) runs ``fn``
    eagerly and records its array computations (forward ops, ``backward()``,
    in-place updates, ``optimizer.step()`` / ``zero_grad()``, random draws);
    later calls replay that plan, giving the eager results bit for bit.
    Up to ``cache_size`` signatures keep their plans (the least recently used
    is traced again when needed). Tensors returned by a replay are detached.

    Inside ``fn``, ``.item()``, ``float()``, ``int()``, ``bool()``,
    ``.numpy()``, ``.tolist()`` and ``np.asarray()`` of a traced tensor raise
    :class:`TraceError` naming the line; with ``fallback=True`` that signature
    runs eagerly instead (one warning).

    Examples
    --------
    >>> import microgradx as mgx
    >>> w = mgx.tensor([1.0, 2.0], requires_grad=True)
    >>> @mgx.compile
    ... def step(x):
    ...     w.grad = None
    ...     loss = (w * x).sum()
    ...     loss.backward()
    ...     return loss
    >>> step(mgx.tensor([3.0, 4.0]))
    tensor(11., grad_fn=<sum>)
    >>> step(mgx.tensor([1.0, 1.0])), w.grad
    (tensor(3.), tensor([1., 1.]))
    """
    if fn is None:
        return lambda f: Compiled(f, fallback=fallback, cache_size=cache_size)
    return Compiled(fn, fallback=fallback, cache_size=cache_size)
