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

The hot ops (:func:`_forward_table`, :func:`_backward_table`: arithmetic, exp,
tanh, sigmoid, ReLU, 2-D matmul, cross-entropy against class indices, and the
sums that undo broadcasting) are written as the NumPy calls their ``forward``
and ``backward`` make; at the trace each is run once and compared bit for bit
with the op's own result (else the op's own code is called). :func:`_assemble`
then finds the values that only those lines read and writes them into buffers
kept across calls, or in place over a value that dies (``out=``): a ufunc gives
the same bits whichever array it writes into. Every other op is called through
a copy of itself (its own ``forward`` and ``backward`` on the plan's arrays), as
are the engine's ``_combine`` and the optimizer's ``step``: the same code, on
the same arrays, in the same order, so the results are the eager results, bit
for bit; ``tests/test_compile.py`` checks it for every op of the op table,
random user programs and random chains of the lowered ops.

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
import types
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


_LINES: dict[tuple[str, int], str] = {}


def _user_line() -> str:
    """``file:line: code`` of the innermost frame outside microgradx (the user's line)."""
    f: Any = sys._getframe(2)
    while f is not None and (f.f_code.co_filename.startswith(_PKG) or f.f_code.co_filename == __file__):
        f = f.f_back
    if f is None:
        return "?"
    key = (f.f_code.co_filename, f.f_lineno)
    text = _LINES.get(key)
    if text is None:
        name, line = key
        code = linecache.getline(name, line).strip()
        text = f"{os.path.basename(name)}:{line}: {code}" if code else f"{os.path.basename(name)}:{line}"
        if len(_LINES) > 10000:
            _LINES.clear()
        _LINES[key] = text
    return text


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
        self.lines: list[Any] = []  # code lines, and the _Steps of lowered ops
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
        self.modules: dict[int, Any] = {}  # id -> (module, its flag when fn first used it, or None)
        self.born: set[int] = set()  # ids of constant tensors made inside fn from Python numbers
        self.interned: dict[tuple[str, bytes], str] = {}  # a 0-d constant's dtype and bytes -> name
        self.immutable: set[str] = set()  # constants no code outside the plan can change (foldable)
        self.snaps: dict[int, tuple[Tensor, Any, Any]] = {}  # arrays read from outside fn, as first read
        self.written: set[int] = set()  # ids of such arrays that recorded code writes (optimizer, x += ..)
        self.state: dict[int, dict[str, _H]] = {}  # id(op) -> what its lowered forward kept
        self.guards: dict[int, tuple[Tensor, Any, Any, bool, Any]] = {}  # read: shape, dtype, rg, strides
        self.lowered: set[str] = set()  # names of values the plan's own NumPy lines make
        self.pending: dict[int, Any] = {}  # id(op) with a lowered forward -> what its twin would need
        self.made: set[int] = set()  # ids of tensors made during the trace (Tensor._wrap)
        self.seen: dict[int, Tensor] = {}  # id(array) -> the tensor whose .data it was read as
        self.hooked = False  # a module called during the trace has forward hooks
        self.born_arrays: list[Any] = []  # arrays of constants made from Python numbers

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
            if not label.isidentifier():  # (a name such as "0.weight" starts with a digit)
                label = "t_" + label
            self.objs[k] = self.const(t, f"{'p' if t._rg else label}_")
            self.keep.append(t)
        return self.objs[k]

    def value(self, arr: Any, t: Tensor | None = None) -> str:
        """The plan's name for ``arr`` (``t``'s data, if given): known, read from ``t``, or a constant."""
        name = self.names.get(id(arr))
        if name is not None:
            return name
        if (
            t is not None
            and id(t) in self.made
            and id(t) not in self.born
            and id(t) not in self.local
            and not self.views_known(arr)
        ):
            # made during fn, yet by no recorded op: argmax, any/all, a NumPy result wrapped
            self.escape(
                "a value computed outside the recorded ops (argmax, any, all, or NumPy on .data)",
                "Compute it outside the compiled function (or from recorded ops)",
            )
        if t is not None and id(t) in self.born:  # a constant made from a Python number: fold it
            self.born_arrays.append(arr)
            if arr.ndim == 0:  # (one name per value: a plan of a million `* 0.9` reads one global)
                key = (arr.dtype.str, arr.tobytes())
                name = self.interned.get(key)
                if name is None:
                    name = self.interned[key] = self.const(arr)
                    self.immutable.add(name)  # (nothing outside fn can change it: ops on it fold)
            else:
                name = self.const(arr)
        elif t is not None and (id(t) in self.args or id(t) not in self.local):
            name = self.new()
            self.emit(f"{name} = {self.tensor_name(t)}.data")
            if id(t) not in self.args:  # a parameter (or other tensor) read at each replay
                self.guards[id(t)] = (t, arr.shape, arr.dtype, t._rg, arr.strides)
                if isinstance(arr, np.ndarray) and id(arr) not in self.snaps:  # (see _trace: NumPy writes)
                    self.snaps[id(arr)] = (t, arr, arr.copy())
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
        self.keep.append(fn)
        where = _user_line()
        needs = tuple(t._rg for t in inputs)
        p = None
        if cls is Dropout and sys._getframe(2).f_code is dropout.__code__:  # draw the mask afresh
            p = sys._getframe(2).f_locals["p"]
        elif cls in _FORWARD and self.lower_forward(fn, inputs, ins, out, f"{fn.name}  <- {where}"):
            # its twin is made only if its backward is not lowered too
            self.pending[id(fn)] = (needs, params)
            return
        fname = self.twin(fn, fn.__dict__, needs, params)
        if p is not None:
            self.emit(
                f"{fname}.scale = _dropout_scale({tuple(out.shape)!r}, {p!r}, np.{out.dtype})",
                "dropout: a fresh mask from the package's generator",
            )
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

    def twin(self, fn: Any, state: dict[str, Any], needs: tuple[bool, ...], params: dict[str, Any]) -> str:
        """The replay's own copy of op ``fn`` (its inputs and output set before its backward runs),
        in the plan's namespace; a parameter computed in fn (an index array from an argument) is
        passed to it again at each call."""
        rep = object.__new__(type(fn))
        rep.__dict__.update(state)
        rep.needs_input_grad = needs
        rep._recorded_at = 0
        rep.inputs = tuple(_Shim() for _ in needs)
        rep._out = _Shim()
        fname = self.new("f")
        self.ns[fname] = rep
        self.reps[id(fn)] = fname
        dyn = {k: e for k, v in params.items() if (e := self.dynamic(v)) is not None}
        if dyn:
            args = ", ".join(f"{k}={dyn[k] if k in dyn else self.const(v)}" for k, v in params.items())
            self.emit(f"{fname}.__init__({args})")
        return fname

    def source(self, x: Any) -> str | None:
        """The plan's name for what an op's checking helper reads (a tensor's array, an array), or
        None for no array; a name of ``ns`` when it is a constant of the plan."""
        src = x.data if isinstance(x, Tensor) else x
        if not isinstance(src, np.ndarray):
            return None
        return self.value(src, x if isinstance(x, Tensor) else None)

    def replay(self, helper: Any, args: str, result: Any, note: str, unpack: str = "") -> None:
        """Call an op's checking or converting ``helper`` again at each replay (labels, indices:
        checked as eagerly), its result named as ``result`` is."""
        name = self.new()
        self.emit(
            f"{unpack}{name} = {self.const(helper, helper.__name__)}({args})", f"{note}  <- {_user_line()}"
        )
        self.bind(result, name)

    def views_known(self, arr: Any) -> bool:
        """``arr`` is a view of an array the trace knows (an engine-made view of a parameter, say)."""
        root = arr
        while isinstance(root, np.ndarray) and root.base is not None:
            root = root.base
        return root is not arr and (id(root) in self.names or id(root) in self.seen)

    def param(self, arr: np.ndarray) -> str:
        """The plan's name for an array an op takes as a parameter: known (an argument's, computed in
        fn), the array of a tensor from outside fn (a mask or an index refreshed with g.data = ...
        between calls: read at each call), or else a constant."""
        name = self.names.get(id(arr))
        if name is not None:
            return name
        t = self.seen.get(id(arr))
        if t is not None and id(t) not in self.made and id(t) not in self.local and id(t) not in self.born:
            return self.value(arr, t)
        return self.value(arr)

    def dynamic(self, v: Any) -> str | None:
        """The plan's expression for an op parameter that holds an array computed in fn (an index
        from an argument, alone or in a tuple), or None for a constant."""
        if isinstance(v, np.ndarray):
            name = self.param(v)
            return None if name in self.ns else name
        if isinstance(v, tuple):
            parts = [self.dynamic(x) for x in v]
            if any(p is not None for p in parts):
                inner = ", ".join(
                    p if p is not None else self.const(x) for p, x in zip(parts, v, strict=True)
                )
                return f"({inner}{',' if len(v) == 1 else ''})"
        return None

    def lower_forward(
        self, fn: Any, inputs: tuple[Tensor, ...], ins: list[str], out: Tensor, note: str
    ) -> bool:
        """Write ``fn``'s forward as direct NumPy lines (see :func:`_forward_table`), when it has
        such a form and that form gives the op's own output bit for bit at the trace."""
        low = _FORWARD.get(type(fn))
        arrs = [t.data for t in inputs]
        if low is None or type(out.data) is not np.ndarray or any(type(a) is not np.ndarray for a in arrs):
            return False
        L = _Lowerer(self)
        L.known, L.fn = (out.data,), fn
        with np.errstate(all="ignore"):
            res = low(L, *(_H(n, a) for n, a in zip(ins, arrs, strict=True)))
        if res is None or not _same_bits(res.arr, out.data):
            return False
        if not L.steps:  # folded: the output is a constant of the plan
            self.bind(out.data, res.name)
            self.keep.append(out)
            return True
        if L.state is not None:  # (the twin gets these too, should its backward run generically)
            if any(not _same_bits(h.arr, getattr(fn, k)) for k, h in L.state.items() if k != "index"):
                return False
            self.state[id(fn)] = L.state
        L.steps[0].comment = note
        if type(fn).__name__ == "Sigmoid":  # its forward ignores over/underflow in exp
            for step in L.steps:
                step.errstate = True
        self.lines.extend(L.steps)
        self.op_log.append((type(fn), len(self.lines) - 1, res.name))
        self.bind(out.data, res.name)
        self.keep.append(out)
        return True

    def lower_backward(
        self, fn: Any, gy: Any, gyn: str, out: Tensor, need: Any, gxs: Any
    ) -> list[str] | None:
        """``fn``'s backward as direct NumPy lines, when it has such a form, nothing was changed in
        place since the op ran, and the lines give the eager gradients bit for bit at the trace."""
        low = _BACKWARD.get(type(fn))
        if (
            low is None
            or fn._recorded_at != _ag._clock[0]
            or fn.__dict__.get("_originals")
            or type(gy) is not np.ndarray
            or type(out.data) is not np.ndarray
        ):
            return None
        ins = [_H(self.value(t.data, t), t.data) for t in fn.inputs]
        if any(type(h.arr) is not np.ndarray for h in ins):
            return None
        L = _Lowerer(self)
        L.known = tuple(gxs)
        with np.errstate(all="ignore"):
            res = low(L, fn, _H(gyn, gy), ins, _H(self.value(out.data), out.data), need)
        if res is None:
            return None
        names = []
        for i, gx in enumerate(gxs):
            if gx is None or not need[i]:
                names.append("_")
            elif res[i] is None or not _same_bits(res[i].arr, gx):
                return None
            else:
                names.append(res[i].name)
        if L.steps:
            L.steps[0].comment = f"backward of {fn.name}"
        self.lines.extend(L.steps)
        return names

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
                    if fname is None and id(fn) not in self.pending:
                        raise TraceError(
                            f"mgx.compile: backward reaches '{fn.name}', an op recorded before the compiled "
                            "function was called; compute everything that needs gradients inside fn"
                        )
                    fn._out = out
                    try:
                        if fn.backward_on_arrays:
                            gxs = fn.backward(gy)
                            single = type(gxs) is not tuple
                            if single:
                                gxs = (gxs,)
                            call = f"{{f}}.backward({gyn})"
                        else:
                            self.paused += 1
                            try:
                                gxs = _ag._tensor_backward(fn, gy)
                            finally:
                                self.paused -= 1
                            single = False
                            call = f"_tensor_backward({{f}}, {gyn})"
                    finally:
                        fn._out = None
                    if len(gxs) != len(fn_inputs):
                        raise _ag.BackwardError(
                            f"{fn.name}: backward returned {len(gxs)} gradients for {len(fn_inputs)} inputs"
                        )
                    need = fn.needs_input_grad
                    lowered = self.lower_backward(fn, gy, gyn, out, need, gxs)
                    if lowered is not None:
                        outs = lowered
                    else:
                        if fname is None:  # its forward was lowered, its backward is not
                            fname = self.twin(fn, fn.__dict__, *self.pending[id(fn)])
                        self.bind_rep(fn, fname, out)
                        kept = self.state.get(id(fn))
                        if kept:  # its forward was lowered: hand the twin what that forward kept
                            sets = [f"{fname}.{k} = {h.name}" for k, h in kept.items() if k != "index"]
                            self.emit("; ".join(sets))
                        outs = []
                        for i, gx in enumerate(gxs):
                            if gx is not None and need[i]:
                                n = self.new("g")
                                outs.append(n)
                            else:
                                outs.append("_")
                        target = outs[0] if single else ", ".join(outs) + ("," if len(outs) == 1 else "")
                        self.emit(f"{target} = {call.format(f=fname)}", f"backward of {fn.name}")
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
                                    grads[creator] = self.add_up(prev, gx, gxn)
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

    def add_up(self, prev: tuple[Any, str], gx: Any, gxn: str) -> tuple[Any, str]:
        """Two gradients of one value add up (``prev + gx``, as the engine adds them)."""
        total = prev[0] + gx
        if type(prev[0]) is np.ndarray and type(gx) is np.ndarray:
            L = _Lowerer(self)
            with np.errstate(all="ignore"):
                h = L.uf("add", _H(prev[1], prev[0]), _H(gxn, gx))
            if _same_bits(h.arr, total) and L.steps:
                h_step = L.steps[0]
                h_step.comment = "gradients add up"
                self.lines.append(h_step)
                return total, h.name
        n = self.new("g")
        self.emit(f"{n} = {prev[1]} + {gxn}", "gradients add up")
        return total, n

    def fit(self, gx: Any, gxn: str, x: Tensor, fn: Any, i: int) -> tuple[Any, str]:
        """``autograd._fit`` (without create_graph): recorded as the NumPy it does."""
        new = _ag._fit(gx, x, fn, i, False)
        xd = x.data
        if gxn in self.lowered and new.shape == np.shape(gx) and new.dtype == np.asarray(gx).dtype:
            # only a NumPy scalar made an array: the plan's own lines take either (and give an
            # array to any other code that reads the value, see _Step.code)
            return new, gxn
        if type(gx) is np.ndarray and gx.shape != xd.shape and gx.ndim >= len(xd.shape):
            lead = gx.ndim - len(xd.shape)
            axes = tuple(range(lead)) + tuple(
                lead + j for j, s in enumerate(xd.shape) if s == 1 and gx.shape[lead + j] != 1
            )
            if axes:  # sum_to(gx, shape): its sum (the reshape only drops the summed leading axes)
                L = _Lowerer(self)
                with np.errstate(all="ignore"):
                    summed = f"{{0}}.sum(axis={axes!r}, keepdims=True).reshape({tuple(xd.shape)!r})"
                    if axes == tuple(range(lead)):
                        summed = f"{{0}}.sum(axis={axes!r})"
                    h = L.ex(summed, _H(gxn, gx))
                    if gx.dtype != xd.dtype:
                        h = L.ex(f"{{0}}.astype(np.{xd.dtype})", h)
                if _same_bits(h.arr, new):
                    L.steps[0].comment = f"undo broadcasting into input {i} of {fn.name}"
                    self.lines.extend(L.steps)
                    return new, h.name
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
        if src is None and isinstance(source, Tensor):  # mgx.tensor(g): g's value at each call
            src = self.value(source.data, source)
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
            f"mgx.compile: {what}, which a compiled plan cannot replay (a replay would silently skip "
            f"it), at {where}. Run this function eagerly, or use mgx.compile(fn, fallback=True) "
            "(which runs this signature eagerly: no speed-up)"
        )

    def escape(self, what: str, advice: str = "") -> None:
        where = _user_line()
        if self.fallback:
            if self.escaped is None:
                self.escaped = where
            return
        advice = advice or "Return the tensor from the function and use its value outside"
        raise TraceError(
            f"mgx.compile: {what} of a traced tensor, at {where}. Its value is known only when the "
            f"function runs, and a compiled plan replays the trace without Python. {advice}; or use "
            "mgx.compile(fn, fallback=True), which runs this signature eagerly (no speed-up)"
        )


# --------------------------------------------------------------------------- #
# Lowering: hot ops written as direct NumPy lines, into reusable buffers
# --------------------------------------------------------------------------- #
class _H:
    """A value of the plan while it is being lowered: its name, and its array at the trace."""

    __slots__ = ("name", "arr", "sfx")

    def __init__(self, name: str, arr: Any, sfx: str = "") -> None:
        self.name, self.arr, self.sfx = name, arr, sfx

    @property
    def T(self) -> _H:  # noqa: N802 - NumPy's name
        return _H(self.name, self.arr.T, ".T")


class _Step:
    """One lowered NumPy call: ``out = np.<fn>(args)`` (kind "uf": a ufunc, may write into a
    buffer or in place into a dying argument; "mm": matmul, may write into a buffer) or
    ``out = <template>`` (kind "ex": a fresh array)."""

    __slots__ = ("out", "kind", "fn", "args", "shape", "dtype", "c_order", "comment", "errstate")

    def __init__(self, out: str, kind: str, fn: str, args: list[Any], arr: np.ndarray) -> None:
        self.out, self.kind, self.fn, self.args = out, kind, fn, args
        self.shape, self.dtype = arr.shape, arr.dtype
        # NumPy lays a result out as its inputs are (x.T - 1 is Fortran-ordered), and a later
        # reduction adds in that order: only a C-ordered result may go into a (C-ordered) buffer
        self.c_order = bool(arr.flags.c_contiguous)
        self.comment = ""
        self.errstate = False

    def reads(self) -> list[str]:
        return [a.name for a in self.args if isinstance(a, _H)]

    def code(self, target: str | None, pinned: bool) -> str:
        """The line; ``target``: the array to write into; ``pinned``: opaque code reads the value."""
        args = [f"{a.name}{a.sfx}" if isinstance(a, _H) else a for a in self.args]
        # (0-d values stay ufunc calls: NumPy's scalar arithmetic rounds the same, but of two NaN
        # operands it keeps another one than the array loop does, so the sign bit can differ)
        if self.kind == "ex":
            expr = self.fn.format(*args)
        else:
            fn = "matmul" if self.kind == "mm" else self.fn
            expr = f"np.{fn}({', '.join(args)}{'' if target is None else f', out={target}'})"
        if pinned and self.shape == ():
            expr = f"np.asarray({expr})"  # (NumPy gives a 0-d result as a scalar: the engine's array)
        return f"{self.out} = {expr}"


class _Lowerer:
    """Builds the steps of one lowered op, running each at the trace to know its value."""

    def __init__(self, tr: _Tracer) -> None:
        self.tr = tr
        self.steps: list[_Step] = []
        self.known: tuple[Any, ...] = ()  # the eager results of the op being lowered
        self.fn: Any = None  # the op being lowered
        self.state: dict[str, _H] | None = None  # what its lowered forward keeps for its backward

    def _run(self, kind: str, fn: str, args: tuple[Any, ...], known: Any = None) -> _H:
        for a in args:
            if not isinstance(a, _H) and (type(a) not in (int, float) or not np.isfinite(a)):
                raise TypeError(f"lowering: argument {a!r}")
        vals = [a.arr if isinstance(a, _H) else a for a in args]
        # (run inside the tracer's np.errstate(all="ignore"): the eager run warned already)
        if known is not None:  # the op's own result of this very call (a matmul not run twice)
            arr = known
        elif kind == "ex":
            code = _EX_CODE.get(fn)
            if code is None:
                code = _EX_CODE[fn] = builtins.compile(
                    fn.format(*(f"_{i}" for i in range(len(args)))), "<lowering>", "eval"
                )
            arr = eval(code, _EX_GLOBALS, {f"_{i}": v for i, v in enumerate(vals)})  # noqa: S307
        else:
            arr = getattr(np, fn)(*vals)
        if type(arr) is not np.ndarray:
            arr = np.asarray(arr)
        if kind != "ex" and all(not isinstance(a, _H) or a.name in self.tr.immutable for a in args):
            # every operand a constant of the plan: so is the result, computed here once, unless it
            # overflows or divides by zero (it would warn, or raise, at each call as eagerly)
            try:
                with np.errstate(all="raise"):
                    getattr(np, fn)(*vals)
            except FloatingPointError:
                pass
            else:
                arr = arr.copy()
                arr.flags.writeable = False
                name = self.tr.const(arr, "k")
                self.tr.immutable.add(name)
                return _H(name, arr)
        texts: list[Any] = []
        for a in args:
            if not isinstance(a, _H):
                texts.append(repr(a))
            else:
                texts.append(a)
        out = self.tr.new("u")
        self.tr.lowered.add(out)
        self.steps.append(_Step(out, kind, fn, texts, arr))
        return _H(out, arr)

    def uf(self, fn: str, *args: Any) -> _H:
        return self._run("uf", fn, args)

    def mm(self, a: _H, b: _H, known: Any = None) -> _H:
        """``np.matmul(a, b)``; ``known``: the eager run's result of exactly this call, if at hand."""
        return self._run("mm", "matmul", (a, b), known)

    def ex(self, template: str, *args: Any) -> _H:
        return self._run("ex", template, args)


def _onehot(p: np.ndarray, index: np.ndarray) -> np.ndarray:
    """The one-hot rows of CrossEntropy.backward (microgradx.ops.nn), made the same way."""
    onehot = np.zeros(p.shape, dtype=p.dtype)
    onehot[np.arange(p.shape[0]), index] = 1
    return onehot


_EX_GLOBALS = {"np": np, "_onehot": _onehot}


def _same_bits(a: Any, b: Any) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return bool(a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes())


def _sigmoid(L: _Lowerer, x: _H) -> _H:
    t = L.uf("negative", x)
    t = L.uf("exp", t)
    t = L.uf("add", 1, t)
    return L.uf("divide", 1, t)


def _matmul_ok(a: Any, b: Any) -> bool:
    return bool(a.ndim == 2 and b.ndim == 2)


#: op name -> (forward lowering, condition on the input arrays)
def _cross_entropy(L: _Lowerer, x: _H, t: _H | None = None) -> _H | None:
    """CrossEntropy.forward against class indices, call for call; p and log p are kept for its
    backward (``L.state``)."""
    fn = L.fn
    if t is not None or fn.index is None or x.arr.ndim != 2 or fn.reduction not in ("mean", "sum"):
        return None
    z = L.uf("subtract", x, L.ex("{0}.max(axis=1, keepdims=True)", x))
    e = L.uf("exp", z)
    s = L.ex("{0}.sum(axis=1, keepdims=True)", e)
    logp = L.uf("subtract", z, L.uf("log", s))
    p = L.uf("divide", e, s)
    rows = L.tr.const(np.arange(x.arr.shape[0]))
    idx = L.tr.param(fn.index)
    loss = L.uf("negative", L.ex("{0}[{1}, {2}]", logp, _H(rows, L.tr.ns[rows]), _H(idx, fn.index)))
    L.state = {"p": p, "logp": logp, "index": _H(idx, fn.index)}
    return L.ex("{0}.mean()" if fn.reduction == "mean" else "{0}.sum()", loss)


def _forward_table() -> dict[type, Any]:
    from .ops import arithmetic as ar
    from .ops import elementwise as el
    from .ops import linalg as la
    from .ops import nn as nn_ops

    return {
        ar.Add: lambda L, a, b: L.uf("add", a, b),
        ar.Sub: lambda L, a, b: L.uf("subtract", a, b),
        ar.Mul: lambda L, a, b: L.uf("multiply", a, b),
        ar.Div: lambda L, a, b: L.uf("divide", a, b),
        ar.Neg: lambda L, x: L.uf("negative", x),
        el.Exp: lambda L, x: L.uf("exp", x),
        el.Tanh: lambda L, x: L.uf("tanh", x),
        el.Sigmoid: _sigmoid,
        el.ReLU: lambda L, x: L.uf("maximum", x, 0),
        # (MatMul.forward is np.matmul(a, b): the eager output is this call's result)
        la.MatMul: lambda L, a, b: L.mm(a, b, L.known[0]) if _matmul_ok(a.arr, b.arr) else None,
        nn_ops.CrossEntropy: _cross_entropy,
    }


def _backward_table() -> dict[type, Any]:
    """op -> f(L, fn, gy, inputs, out, need) giving the input gradients (None where not needed)."""
    from .ops import arithmetic as ar
    from .ops import elementwise as el
    from .ops import linalg as la
    from .ops import nn as nn_ops

    def div(L: _Lowerer, fn: Any, gy: _H, ins: list[_H], y: _H, need: Any) -> Any:
        a, b = ins
        ga = L.uf("divide", gy, b) if need[0] else None
        gb = None
        if need[1]:
            q = L.uf("divide", L.uf("divide", a, b), b)
            gb = L.uf("multiply", L.uf("negative", gy), q)
        return ga, gb

    def sigmoid(L: _Lowerer, fn: Any, gy: _H, ins: list[_H], y: _H, need: Any) -> Any:
        return (L.uf("multiply", L.uf("multiply", gy, y), L.uf("subtract", 1, y)),)

    def relu(L: _Lowerer, fn: Any, gy: _H, ins: list[_H], y: _H, need: Any) -> Any:
        passes = L.uf("invert", L.uf("less_equal", y, 0))  # (ReLU.backward: gy * (~(y <= 0)) as y's dtype)
        return (L.uf("multiply", gy, L.ex(f"{{0}}.astype(np.{y.arr.dtype})", passes)),)

    def matmul(L: _Lowerer, fn: Any, gy: _H, ins: list[_H], y: _H, need: Any) -> Any:
        a, b = ins
        if not _matmul_ok(a.arr, b.arr):
            return None
        # (MatMul.backward computes gy @ b.T and a.T @ gy for 2-D operands: the eager gradients)
        ga = L.mm(gy, b.T, L.known[0]) if need[0] else None
        return ga, (L.mm(a.T, gy, L.known[1]) if need[1] else None)

    def cross_entropy(L: _Lowerer, fn: Any, gy: _H, ins: list[_H], y: _H, need: Any) -> Any:
        st = L.tr.state.get(id(fn))
        if st is None:
            return None
        n = ins[0].arr.shape[0]
        g = L.uf("multiply", gy, 1.0 / n) if fn.reduction == "mean" else gy
        onehot = L.ex("_onehot({0}, {1})", st["p"], st["index"])
        return (L.uf("multiply", L.uf("subtract", st["p"], onehot), g),)

    return {
        ar.Add: lambda L, fn, gy, ins, y, need: (gy, gy),
        ar.Sub: lambda L, fn, gy, ins, y, need: (gy, L.uf("negative", gy) if need[1] else None),
        ar.Mul: lambda L, fn, gy, ins, y, need: (
            L.uf("multiply", gy, ins[1]) if need[0] else None,
            L.uf("multiply", gy, ins[0]) if need[1] else None,
        ),
        ar.Div: div,
        ar.Neg: lambda L, fn, gy, ins, y, need: (L.uf("negative", gy),),
        el.Exp: lambda L, fn, gy, ins, y, need: (L.uf("multiply", gy, y),),
        el.Tanh: lambda L, fn, gy, ins, y, need: (
            L.uf("multiply", gy, L.uf("subtract", 1, L.uf("multiply", y, y))),
        ),
        el.Sigmoid: sigmoid,
        el.ReLU: relu,
        la.MatMul: matmul,
        nn_ops.CrossEntropy: cross_entropy,
    }


_EX_CODE: dict[str, Any] = {}
_FORWARD: dict[type, Any] = {}
_BACKWARD: dict[type, Any] = {}
_IDENT = None


def _assemble(items: list[Any], ret: str, ns: dict[str, Any]) -> list[str]:
    """The plan's lines: opaque lines as they are, lowered steps with their outputs placed.

    A lowered value that no opaque line names (no op twin, ``.grad``, user in-place write or
    return sees it) is the plan's own: it goes into a buffer kept across calls, or is written
    in place over an argument that dies at that step (when NumPy would lay the result out in C
    order, as the buffers are).
    Everything an opaque line names is a fresh array, as in the eager run.
    """
    import re

    global _IDENT
    if _IDENT is None:
        _IDENT = re.compile(r"[A-Za-z_]\w*")
    steps = [it for it in items if isinstance(it, _Step)]
    produced = {s.out for s in steps}
    pinned: set[str] = set()
    for it in items:
        if not isinstance(it, _Step):  # (the code, not the comment quoting the user's line)
            pinned.update(n for n in _IDENT.findall(it.split("  # ", 1)[0]) if n in produced)
    pinned.update(n for n in _IDENT.findall(ret) if n in produced)
    keep = items  # (every step runs, read or not: an unused op warns or raises as eagerly)
    last: dict[str, int] = {}
    for k, it in enumerate(keep):
        if isinstance(it, _Step):
            for n in it.reads():
                last[n] = k
    storage: dict[str, str] = {}  # lowered, unpinned value -> the expression of its array ("" fresh)
    free: dict[tuple[Any, ...], list[str]] = {}
    out: list[str] = []
    count = 0
    quiet = False
    for k, it in enumerate(keep):
        if not isinstance(it, _Step):
            out.append(it)
            quiet = False
            continue
        target: str | None = None
        inplace = None
        if it.out not in pinned and it.kind != "ex" and it.shape != () and it.c_order:
            if it.kind == "uf":
                for a in it.args:
                    if (
                        isinstance(a, _H)
                        and not a.sfx
                        and a.name in storage
                        and last.get(a.name) == k
                        and a.arr.shape == it.shape
                        and a.arr.dtype == it.dtype
                        and a.arr.flags.c_contiguous
                    ):
                        inplace = a.name
                        target = a.name
                        break
            if target is None:
                pool = free.get((it.shape, it.dtype.str))
                if pool:
                    target = pool.pop()
                else:
                    count += 1
                    target = f"_buf{count}"
                    ns[target] = np.empty(it.shape, it.dtype)
        line = it.code(target, it.out in pinned)
        if it.comment:
            line += f"  # {it.comment}"
        if it.errstate and not quiet:  # (one block for a run of steps that ignore over/underflow)
            out.append('with np.errstate(over="ignore", under="ignore"):')
        quiet = it.errstate
        out.append("    " + line if quiet else line)
        if it.out not in pinned:
            storage[it.out] = (storage[inplace] if inplace is not None else target) or ""
        for n in set(it.reads()):
            if last.get(n) == k and n in storage and n != inplace:
                buf = storage.pop(n)
                if buf.startswith("_buf"):
                    arr = ns[buf]
                    free.setdefault((arr.shape, arr.dtype.str), []).append(buf)
        if inplace is not None:
            storage.pop(inplace, None)
        if it.out not in last and it.out in storage:  # never read: its buffer is free again
            buf = storage.pop(it.out)
            if buf.startswith("_buf"):
                free.setdefault((ns[buf].shape, ns[buf].dtype.str), []).append(buf)
    return out


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
            for p in getattr(self, "params", ()) if method == "step" else ():
                tr.written.add(id(p.data))  # (the optimizer's writes are replayed)
            tr.paused += 1
            try:
                return orig(self)
            finally:
                tr.paused -= 1

        patch(cls, method, wrapper)

    module_call = Module.__dict__["__call__"]

    @functools.wraps(module_call)
    def traced_module_call(self: Any, *a: Any, **k: Any) -> Any:
        if id(self) not in tr.modules:  # its flag as fn found it is frozen into the plan: checked
            tr.modules[id(self)] = (self, self.training)
        if _module_hooked(self):  # its hooks run Python a replay would skip: this call stays eager
            tr.hooked = True
        return module_call(self, *a, **k)

    patch(Module, "__call__", traced_module_call)

    wrap = Tensor.__dict__["_wrap"].__func__

    def traced_wrap(cls: Any, data: np.ndarray) -> Tensor:
        t = wrap(cls, data)
        tr.made.add(id(t))
        return t  # type: ignore[no-any-return]

    patch(Tensor, "_wrap", classmethod(traced_wrap))

    from .nn import init as _init
    from .nn import utils as _nn_utils

    clip = _nn_utils.clip_grad_norm_

    @functools.wraps(clip)
    def traced_clip(
        parameters: Any, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False
    ) -> Any:
        if tr.paused:
            return clip(parameters, max_norm, norm_type, error_if_nonfinite)
        params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
        for p in params:
            if id(p) in tr.local or (id(p) not in tr.args and id(p) in tr.made):
                tr.unsupported("clip_grad_norm_ of a tensor made inside the function")
        tr.paused += 1
        try:
            norm = clip(params, max_norm, norm_type, error_if_nonfinite)
        finally:
            tr.paused -= 1
        name = tr.new()
        args = f"{tr.const(params, 'params')}, {max_norm!r}, {norm_type!r}, {error_if_nonfinite!r}"
        tr.emit(
            f"{name} = {tr.const(clip, 'clip_grad_norm_')}({args}).data",
            f"clip_grad_norm_  <- {_user_line()}",
        )
        tr.bind(norm.data, name)
        tr.made.discard(id(norm))
        tr.local[id(norm)] = "None"
        tr.keep.append(norm)
        return norm

    for owner in (_nn_utils, sys.modules.get("microgradx.nn")):
        if owner is not None and getattr(owner, "clip_grad_norm_", None) is clip:
            patch(owner, "clip_grad_norm_", traced_clip)

    def refusing(owner: Any, fname: str, what: str) -> None:
        orig = getattr(owner, fname)

        @functools.wraps(orig)
        def wrapper(*a: Any, **k: Any) -> Any:
            if not tr.paused:
                tr.unsupported(what)
            return orig(*a, **k)

        patch(owner, fname, wrapper)

    for fname in dir(_init):
        if fname.endswith("_") and not fname.startswith("_") and callable(getattr(_init, fname)):
            refusing(_init, fname, f"nn.init.{fname} (it writes with NumPy, outside the recorded ops)")
    fill = _creation._fill

    def traced_fill(op: str, fill_value: Any, dtype: Any) -> Any:
        if isinstance(fill_value, Tensor) and not tr.paused:
            tr.unsupported(f"a tensor as the fill_value of {op} (its value would be read at the trace only)")
        return fill(op, fill_value, dtype)

    patch(_creation, "_fill", traced_fill)

    from .ops import shape as _shape_ops

    int_index, check_bounds = _shape_ops._int_index, _shape_ops._check_bounds

    def traced_int_index(index: Any, op: str) -> Any:
        idx = int_index(index, op)
        srcn = None if tr.paused else tr.source(index)
        if srcn is not None and srcn not in tr.ns and tr.names.get(id(idx)) != srcn:
            tr.replay(int_index, f"{srcn}, {op!r}", idx, f"{op}: indices")  # (made integers at each call)
        return idx

    def traced_check_bounds(idx: Any, shape: Any, axis: int, op: str, negative: bool) -> None:
        check_bounds(idx, shape, axis, op, negative)
        name = tr.names.get(id(idx))
        if not tr.paused and name is not None and name not in tr.ns:  # checked at each call too
            args = f"{name}, {tuple(shape)!r}, {axis!r}, {op!r}, {negative!r}"
            tr.emit(f"{tr.const(check_bounds, '_check_bounds')}({args})", f"{op}: check the indices")

    sizes = _shape_ops._sizes

    def traced_sizes(v: Any, op: str) -> Any:
        if isinstance(v, Tensor) and not tr.paused:
            tr.escape(f"{op} sizes given as a tensor (they shape the result)", "Pass them as Python ints")
        return sizes(v, op)

    patch(_shape_ops, "_sizes", traced_sizes)
    patch(_shape_ops, "_int_index", traced_int_index)
    patch(_shape_ops, "_check_bounds", traced_check_bounds)

    module_train = Module.__dict__["train"]

    @functools.wraps(module_train)
    def traced_train(self: Any, mode: bool = True) -> Any:
        if tr.paused:
            return module_train(self, mode)
        for m in _modules(self):  # fn sets the flags itself: the plan does too, nothing to check
            tr.modules.setdefault(id(m), (m, None))
        k = id(self)
        if k not in tr.objs:
            tr.objs[k] = tr.const(self, "model")
            tr.keep.append(self)
        tr.emit(f"{tr.objs[k]}.train({bool(mode)!r})", f"{type(self).__name__}.train  <- {_user_line()}")
        tr.paused += 1
        try:
            return module_train(self, mode)
        finally:
            tr.paused -= 1

    patch(Module, "train", traced_train)

    def subclasses(cls: type) -> list[type]:
        out = [cls]
        sub: type
        for sub in cls.__subclasses__():
            out += subclasses(sub)
        return out

    for base, method, label in (
        (Optimizer, "step", "opt"),
        (Optimizer, "zero_grad", "opt"),
        (Module, "zero_grad", "model"),
        (LRScheduler, "step", "sched"),
    ):
        for cls in subclasses(base):  # (a user's optimizer with its own step() is replayed as a call too)
            if method in cls.__dict__:
                opaque(cls, method, label)

    grad_prop = Tensor.__dict__["grad"]

    def set_grad(self: Tensor, value: Any) -> None:
        grad_prop.fset(self, value)
        if not tr.paused:
            tr.set_grad(self, value)

    patch(Tensor, "grad", property(grad_prop.fget, set_grad, doc=grad_prop.__doc__))

    def escaping(name: str, what: str, advice: str = "") -> None:
        orig = Tensor.__dict__[name]

        @functools.wraps(orig)
        def wrapper(self: Tensor, *a: Any, **k: Any) -> Any:
            if not tr.paused:
                tr.escape(what, advice)
            return orig(self, *a, **k)

        patch(Tensor, name, wrapper)

    branch = "Move the branch out of the compiled function, or compute both sides and pick with F.where"
    for name, what, advice in (
        ("item", ".item()", ""),
        ("numpy", ".numpy()", ""),
        ("tolist", ".tolist()", ""),
        ("__bool__", "bool() (an `if` or `while` on a tensor)", branch),
        ("__float__", "float()", ""),
        ("__int__", "int()", ""),
        ("__array__", "np.asarray()", ""),
        ("__format__", "formatting (an f-string)", ""),
    ):
        if name in Tensor.__dict__:
            escaping(name, what, advice)

    # A. .data assigned by the user's code (p.data -= lr * p.grad.data): NumPy outside the plan
    data_slot = Tensor.__dict__["data"]

    def get_data(self: Tensor) -> Any:
        arr = data_slot.__get__(self, Tensor)
        if id(arr) not in tr.names and not tr.paused:  # (whose array this is: see _Tracer.param)
            tr.seen[id(arr)] = self
        return arr

    def set_data(self: Tensor, value: Any) -> None:
        if not tr.paused and not sys._getframe(1).f_code.co_filename.startswith(_PKG):
            tr.unsupported(
                "assigning .data (p.data -= ... is NumPy outside the recorded ops; write "
                "`with mgx.no_grad(): p -= lr * p.grad`, or use an optimizer)"
            )
        data_slot.__set__(self, value)

    patch(Tensor, "data", property(get_data, set_data, doc=getattr(data_slot, "__doc__", None)))

    init = Tensor.__dict__["__init__"]

    def tensor_init(self: Tensor, data: Any, *a: Any, **k: Any) -> None:
        init(self, data, *a, **k)
        if not tr.paused:
            tr.created(self, data)

    patch(Tensor, "__init__", tensor_init)

    from .ops import nn as _nn_ops

    target_fn = _nn_ops._target

    def traced_target(op: str, target: Any, n: int, c: int) -> tuple[str, Any]:
        kind, out = target_fn(op, target, n, c)
        if kind == "index" and not tr.paused:
            # class indices of each call (an argument, a tensor refreshed between calls) are checked
            # and made integers at each replay; constant ones (a list) were checked once, here
            srcn = tr.source(target)
            if srcn is not None and srcn not in tr.ns:
                tr.replay(
                    target_fn, f"{op!r}, {srcn}, {n}, {c}", out, f"{op}: check the class indices", "_, "
                )
        return kind, out

    patch(_nn_ops, "_target", traced_target)

    from .ops import norm as _norm_ops
    from .ops import shape as _shape_ops

    index_part = _shape_ops._index_part

    def traced_index_part(i: Any) -> Any:
        if isinstance(i, Tensor) and not tr.paused:  # x[g]: g's value at each call
            tr.value(i.data, i)
        return index_part(i)

    patch(_shape_ops, "_index_part", traced_index_part)

    check_indices = _norm_ops._embedding_indices

    def traced_check_indices(indices: Any, n: int) -> Any:
        idx = check_indices(indices, n)
        srcn = None if tr.paused else tr.source(indices)
        if srcn is not None and srcn not in tr.ns:  # embedding(g, W): g checked at each replay
            tr.replay(check_indices, f"{srcn}, {n}", idx, "embedding: check the indices")
        return idx

    patch(_norm_ops, "_embedding_indices", traced_check_indices)

    detach = Tensor.__dict__["detach"]

    @functools.wraps(detach)
    def traced_detach(self: Tensor) -> Tensor:
        if not tr.paused:  # the detached tensor shares the array: name it as read at each call
            tr.value(self.data, self)
        return detach(self)  # type: ignore[no-any-return]

    patch(Tensor, "detach", traced_detach)

    make = _creation._make

    def traced_make(op: str, arr: np.ndarray, requires_grad: bool, name: str | None) -> Tensor:
        t = make(op, arr, requires_grad, name)
        if not tr.paused and id(t) not in tr.local:  # mgx.zeros(...) in fn: a new tensor each call
            tr.created(t, None)
        return t  # type: ignore[no-any-return]

    patch(_creation, "_make", traced_make)

    from_operand = Tensor.__dict__["_from_operand"].__func__

    def traced_from_operand(cls: Any, x: Any, ref: Any) -> Tensor:
        t = from_operand(cls, x, ref)
        tr.made.discard(id(t))  # (an operand given to an op: no result of an unrecorded computation)
        if not isinstance(x, np.ndarray):  # a fresh array made from a number: a constant of the plan
            tr.born.add(id(t))
            tr.keep.append(t)
        return t  # type: ignore[no-any-return]

    patch(Tensor, "_from_operand", classmethod(traced_from_operand))

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
        if any(np.may_share_memory(target.data, b) for b in tr.born_arrays):
            tr.unsupported(
                f"{sym} in place on a view of a constant made from a Python number (the plan keeps that "
                "constant across calls)"
            )
        tn = tr.value(target.data, target)
        tr.written.add(id(target.data))
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
            index = k.get("index")
            dyn = tr.dynamic(index) if index is not None else None
            if dyn is not None and op is _shape_ops.SetItem:  # x[idx] = v, idx computed in fn
                tr.emit(
                    f"{tr.const(_shape_ops.assign, 'assign')}({tn}, {dyn}, {on[0]})",
                    f"{sym} in place  <- {where}",
                )
            elif dyn is not None:
                tr.unsupported(
                    f"{sym} in place at an index computed in the function, on a tensor without grad"
                )
            else:
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
def _flatten(obj: Any, leaves: list[Any], sig: list[Any], seen: dict[int, int] | None = None) -> None:
    """Collect the tensor/array leaves of ``obj`` (tuples, lists, dicts) and its signature.

    ``seen`` maps the id of each leaf, and of each leaf's array, to the first leaf it was: a
    tensor passed twice, or two arguments sharing one array, are part of the signature."""
    from .nn.module import Module

    if seen is None:
        seen = {}
    if isinstance(obj, Tensor):  # (which earlier leaf is this tensor, or shares its very array)
        d = obj.data
        sig.append(
            ("T", d.shape, d.dtype.str, obj._rg, seen.get(id(obj), -1), seen.get(id(d), -1), d.strides)
        )
        seen.setdefault(id(obj), len(leaves))
        seen.setdefault(id(d), len(leaves))
        leaves.append(obj)
    elif isinstance(obj, np.ndarray):
        sig.append(("A", obj.shape, obj.dtype.str, seen.get(id(obj), -1), obj.strides))
        seen.setdefault(id(obj), len(leaves))
        leaves.append(obj)
    elif isinstance(obj, (tuple, list)):
        sig.append((type(obj), len(obj)))
        for x in obj:
            _flatten(x, leaves, sig, seen)
    elif isinstance(obj, dict):
        sig.append((dict, tuple(obj)))
        for x in obj.values():
            _flatten(x, leaves, sig, seen)
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
        if isinstance(obj, (float, np.floating)):  # -0.0 == 0.0, yet 1 / x tells them apart;
            value = "nan" if obj != obj else obj  # and nan != nan: one signature for every nan
            sig.append((type(obj), value, bool(np.signbit(obj))))
        else:
            sig.append((type(obj), obj))


def _fast_key(args: tuple[Any, ...]) -> Any:
    """The signature of a call whose arguments are all distinct Tensors (the common case, made
    quickly), or None; it is a different key from what :func:`_flatten` makes for the same call."""
    key: list[Any] = [_state.enabled]
    for a in args:
        if type(a) is not Tensor:
            return None
        d = a.data
        key.append((d.shape, d.dtype, a._rg, d.strides))  # (layout: NumPy's order of summing)
    if len(args) > 1 and len({id(a.data) for a in args}) < len(args):  # (aliases: see _flatten)
        return None
    return tuple(key)


def _parts(key: Any) -> list[Any]:
    """A signature's entries, nested keys flattened (for saying which entry changed)."""
    if isinstance(key, tuple) and len(key) == 2 and isinstance(key[0], tuple) and isinstance(key[1], tuple):
        return list(key[0]) + [("train/eval flags", key[1])]
    return list(key) if isinstance(key, tuple) else [key]


def _describe(entry: Any) -> str:
    if isinstance(entry, tuple) and entry and entry[0] in ("T", "A"):
        return f"an array argument of shape {fmt_shape(entry[1])}, dtype {np.dtype(entry[2])}"
    if isinstance(entry, tuple) and len(entry) >= 2 and isinstance(entry[0], type):
        return f"a {entry[0].__name__} argument {entry[1]!r}"
    return repr(entry)


def _module_hooked(m: Any) -> bool:
    hooks = m.__dict__.get("_forward_hooks")
    return hooks is not None and bool(hooks.pre or hooks.post)


def _modules(m: Any) -> list[Any]:
    out = [m]
    for _, child in m.named_children():
        out += _modules(child)
    return out


class _Plan:
    """One traced signature: the generated function, its source, the ``training`` flags of the
    modules the trace called, and the shape and dtype of each tensor it reads that is not an
    argument (a parameter). These are not in the signature, yet a replay after ``model.eval()`` or
    after a parameter's ``.data`` changed dtype would silently compute what the trace saw: when one
    has changed, the call traces again."""

    def __init__(
        self,
        source: str,
        run: Callable[..., Any],
        lines: int,
        modules: tuple[Any, ...] = (),
        guards: tuple[tuple[Tensor, Any, Any, bool, Any], ...] = (),
    ) -> None:
        self.source = source
        self.run = run
        self.lines = lines
        self.modes = [(m, flag) for m, flag in modules if flag is not None]
        self.guards = guards
        self.called: tuple[Any, ...] = ()  # every module the trace called (hooks added later: eager)

    def holds(self) -> bool:
        for m, flag in self.modes:
            if m.training is not flag:
                return False
        for t, shape, dtype, rg, strides in self.guards:
            d = t.data
            if type(d) is not np.ndarray or d.shape != shape or d.dtype != dtype or t._rg is not rg:
                return False
            if d.strides != strides:
                return False
        return True


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
        self._watched: list[Any] = []  # modules whose flags some plan depends on
        self._last_key: Any = None
        self._warned = False
        functools.update_wrapper(self, fn)

    def __get__(self, obj: Any, objtype: Any = None) -> Any:
        """``@mgx.compile`` on a method: bound to its instance (an argument of the signature)."""
        return self if obj is None else types.MethodType(self, obj)

    @property
    def source(self) -> str:
        """The latest plan as Python: one line per NumPy call, commented with the op and the user's line."""
        if self._latest is None:
            if self.traces:
                raise RuntimeError(
                    "mgx.compile: no plan: every signature traced so far runs eagerly (fallback=True, "
                    "or a trace that raised)"
                )
            raise RuntimeError("mgx.compile: no plan yet; call the compiled function once first")
        return self._latest.source

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if _ag._tracer is not None:  # called while another compiled function traces: its ops are
            return self.fn(*args, **kwargs)  # that function's (a replay here would be invisible)
        key = _fast_key(args) if not kwargs else None
        if key is not None:
            leaves: list[Any] = list(args)
        else:
            leaves = []
            sig: list[Any] = [_state.enabled]
            seen: dict[int, int] = {}
            _flatten(args, leaves, sig, seen)
            _flatten(dict(sorted(kwargs.items())), leaves, sig, seen)  # (f(x=.., t=..) is f(t=.., x=..))
            key = tuple(sig)
        base = key
        if self._watched:  # modules reached through a closure: one plan per train/eval state
            key = (key, tuple(m.training for m in self._watched))
        plan = self.plans.get(key)
        if plan is None:
            return self._trace(key, leaves, args, kwargs, base)
        self.plans.move_to_end(key)
        if (
            plan is _EAGER
            or _ag._anomaly is not None
            or _ag._hook_count[0]
            or any(_module_hooked(m) for m in plan.called)
        ):  # a plan replays no hooks and checks no anomalies: with either on, run eagerly
            return self.fn(*args, **kwargs)
        if not plan.holds():  # a module's train()/eval() or a parameter's shape or dtype changed
            del self.plans[key]
            return self._trace(key, leaves, args, kwargs, base)
        self._latest = plan
        before = _state.enabled
        _state.enabled = False
        try:
            return plan.run(*leaves)
        finally:
            _state.enabled = before

    def _trace(self, key: Any, leaves: list[Any], args: Any, kwargs: Any, base: Any = None) -> Any:
        if _ag._tracer is not None:
            raise TraceError("mgx.compile: a compiled function was called while another one is tracing")
        if not _FORWARD:
            _FORWARD.update(_forward_table())
            _BACKWARD.update(_backward_table())
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
        gc_was_enabled = gc.isenabled()
        gc.disable()  # (the trace keeps every object it meets: collections would only rescan them)
        try:
            result = self.fn(*args, **kwargs)
        finally:
            _ag._tracer = None
            for owner, name, old in reversed(patches):
                setattr(owner, name, old)
            if gc_was_enabled:
                gc.enable()
        if tr.hooked:  # a module's forward hooks ran Python a plan would skip: this call stays eager
            return result
        for t, arr, before in tr.snaps.values():  # an array from outside changed, by no recorded op
            if id(arr) not in tr.written and (arr.shape != before.shape or arr.tobytes() != before.tobytes()):
                label = f"'{t.name}'" if t.name else f"of shape {fmt_shape(arr.shape)}"
                tr.unsupported(
                    f"the array of a tensor {label} changed with NumPy inside the function (p.data -= ..., "
                    "p.data[...] = ...; a replay would not change it: write `with mgx.no_grad(): p -= ...`, "
                    "or use an optimizer)"
                )
        self.traces += 1
        self._warn_retraces(key)
        ret = _returns(tr, result)  # (may find, with fallback=True, what escapes the plan)
        if tr.escaped is not None:
            warnings.warn(
                f"mgx.compile: the function does what a plan cannot replay (at {tr.escaped}); this signature "
                "runs eagerly (fallback=True)",
                stacklevel=3,
            )
            self._store(key, _EAGER)
            return result
        ns = dict(tr.ns)
        lines = _assemble(tr.lines, ret, ns)
        name = getattr(self.fn, "__name__", "fn")
        name = name if name.isidentifier() else "fn"
        pieces = _source(f"{name}_plan", params, lines, ret)
        source = "\n".join(pieces)
        ns.update(
            np=np,
            sum_to=sum_to,
            _combine=_combine,
            _wrap=_wrap,
            _run_user_forward=_run_user_forward,
            _tensor_backward=_tensor_backward,
            _dropout_scale=_dropout_scale,
            _onehot=_onehot,
        )
        for piece in pieces:
            exec(builtins.compile(piece, f"<mgx.compile {name}>", "exec"), ns)
        plan = _Plan(
            source, ns[f"{name}_plan"], len(lines), tuple(tr.modules.values()), tuple(tr.guards.values())
        )
        plan.called = tuple(m for m, _ in tr.modules.values())
        self._latest = plan
        for m, _ in plan.modes:
            if all(m is not w for w in self._watched):
                self._watched.append(m)
        if self._watched:  # stored under the flags it was traced for (the key of its next call)
            flags = {id(m): flag for m, flag in plan.modes}
            key = (key if base is None else base, tuple(flags.get(id(m), m.training) for m in self._watched))
        self._store(key, plan)
        return result

    def _warn_retraces(self, key: Any) -> None:
        """Once, when traces outnumber the plans kept: say which part of the signature keeps changing."""
        last, self._last_key = self._last_key, key
        if self._warned or self.traces <= self.cache_size:
            return
        self._warned = True
        what = "the signature"
        flat_new, flat_old = _parts(key), _parts(last)
        for a, b in zip(flat_old, flat_new, strict=False):
            if a != b:
                what = f"{_describe(b)} (it was {_describe(a)})"
                break
        warnings.warn(
            f"mgx.compile: {getattr(self.fn, '__name__', 'fn')} has traced {self.traces} times, more than "
            f"the {self.cache_size} plans it keeps; its calls differ in {what}. Every new value of a "
            "number or other non-tensor argument (and every new shape) is a new signature: pass "
            "numbers that change as tensors (mgx.tensor(x, dtype=...)), labels as arrays",
            stacklevel=4,
        )

    def _store(self, key: Any, plan: Any) -> None:
        self.plans[key] = plan
        while len(self.plans) > self.cache_size:
            self.plans.popitem(last=False)


#: A plan longer than this many lines is cut into functions of this size (Python compiles one
#: function of a million lines slowly, and a frame of a million locals is large).
CHUNK = 2000
_LOCAL = None


def _source(name: str, params: list[str], lines: list[str], ret: str) -> list[str]:
    """The plan as Python functions: one, or for a long plan, chunks of ``CHUNK`` lines that the
    plan function (the last) calls in turn, passing on the values a later chunk reads. (Each is
    compiled on its own: the syntax tree of a million lines at once would take gigabytes.)"""
    if len(lines) <= CHUNK:
        body = "\n".join("    " + line for line in lines) or "    pass"
        return [f"def {name}({', '.join(params)}):\n{body}\n    return {ret}\n"]
    import re

    global _LOCAL
    if _LOCAL is None:  # the plan's local names (the tracer's v1, g2, r3, u4, v_a0, a0, _given)
        _LOCAL = re.compile(r"\b(?:[vgrua]\d+|v_a\d+|_given)\b")
    chunks: list[list[str]] = [[]]
    for line in lines:  # (a `with` block's indented lines stay with it)
        if len(chunks[-1]) >= CHUNK and not line.startswith(" "):
            chunks.append([])
        chunks[-1].append(line)
    used = [set(_LOCAL.findall("\n".join(line.split("  # ", 1)[0] for line in c))) for c in chunks]
    last: dict[str, int] = {}  # name -> the last chunk that reads or writes it
    for k, u in enumerate(used):
        for n in u:
            last[n] = k
    for n in _LOCAL.findall(ret):
        last[n] = len(chunks)
    known = set(params)
    out = []
    main = []
    for k, (c, u) in enumerate(zip(chunks, used, strict=True)):
        ins = sorted(u & known)
        outs = sorted(n for n in u - known if last[n] > k)
        body = "\n".join("    " + line for line in c)
        back = f"    return ({', '.join(outs)}{',' if len(outs) == 1 else ''})"
        out.append(f"def {name}_{k}({', '.join(ins)}):\n{body}\n{back}\n")
        main.append(f"    ({', '.join(outs)}{',' if len(outs) == 1 else ''}) = {name}_{k}({', '.join(ins)})")
        known |= set(outs)
    main_body = "\n".join(main)
    return out + [f"def {name}({', '.join(params)}):\n{main_body}\n    return {ret}\n"]


def _returns(tr: _Tracer, obj: Any) -> str:
    """The plan's expression for what fn returned (tensors become detached results)."""
    if isinstance(obj, Tensor):
        k = id(obj)
        if k in tr.args or k in tr.objs:
            return tr.tensor_name(obj)
        name = tr.names.get(id(obj.data))
        if name is None:
            if k in tr.made:  # a result of no recorded op (argmax, a NumPy result): not replayable
                tr.escape(
                    "returning a value computed outside the recorded ops (argmax, any, all, or NumPy on "
                    ".data)",
                    "Compute it outside the compiled function, from what the function returns",
                )
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
