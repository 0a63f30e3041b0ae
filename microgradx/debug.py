"""Finding a wrong gradient: which op's backward is wrong, and the user's line that called it.

:func:`locate_wrong_backward` runs ``fn`` once, recording every op together with the
file and line of the user's code that called it, and then checks each op on its
own, in forward order: its ``backward``, given a random cotangent ``v`` (the
gradient of its output), against central differences of ``<forward(x), v>``, the
op's own forward alone, at the very input arrays it saw. Nothing else of the
program is involved, so a mistake cannot hide behind (or be blamed on) the ops
around it. The :class:`BackwardReport` it returns names the first op whose
backward is wrong, where it was called, the shapes of its inputs and its worst
element; :func:`microgradx.gradcheck` adds that report to its error.

An op is skipped, with the reason in the report, when it cannot be checked alone:
an input it read was overwritten in place since (its old values are gone), its
forward is random (two runs at the same inputs differ), its values are not
finite, or the input sits on a kink (``relu`` at 0) where a backward may return
any value between the one-sided derivatives. Integer inputs (labels, indices)
are held constant.

Mismatches are reported in Jacobian terms (:class:`Mismatch`): the random
cotangent only *detects* a mistake; the numbers shown are recomputed exactly, the
gradient itself for a one-element output, the worst Jacobian entry
``d out[j] / d in[i]`` otherwise.
"""

from __future__ import annotations

import contextlib
import copy
import linecache
import os
import sys
import textwrap
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import autograd as _autograd
from .autograd import Function, creator_read_by, enable_grad, no_grad, set_grad_enabled
from .errors import BackwardError, describe, fmt_shape
from .gradcheck import _prepare, numerical_gradient
from .tensor import Tensor

__all__ = ["BackwardReport", "Mismatch", "OpCheck", "locate_wrong_backward"]

#: Frames in files under this folder are microgradx's own; the user's line is the first other one.
_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep
#: At most this many ops are listed one per line in ``str(report)``; the rest are counted.
_MAX_LISTED = 40


# --------------------------------------------------------------------------- #
# The report
# --------------------------------------------------------------------------- #
@dataclass(frozen=True)
class Mismatch:
    """Where a backward disagrees with central differences, and by how much.

    ``input`` is the input's position, ``index`` the element of that input. The
    values depend on ``kind``:

    - ``"gradient"`` (a one-element output): the gradient itself, d out / d in[index].
    - ``"jacobian"``: the worst Jacobian entry of column ``index``,
      d out[output_index] / d in[index], recomputed exactly (one backward per
      output element, two forward evaluations).
    - ``"cotangent"``: with the cotangent 1 (one output element at a time) backward
      is right, with a random one it is not: a backward that does not scale with
      its incoming gradient. The values are those of ``J^T v``.
    - ``"weighted"``: ``J^T v`` for the random weighting ``v`` (an output too large
      to recompute a Jacobian column exactly).
    - ``"projection"``: an input too large to check element by element; the
      values are ``<J^T v, u>`` and ``<v, J u>`` for a random direction ``u``.

    ``off`` of ``size`` elements of the input were off (in ``J^T v``).
    """

    input: int
    index: tuple[int, ...]
    backward: float
    numerical: float
    tolerance: float
    off: int
    size: int
    kind: str
    output_index: tuple[int, ...] | None = None

    def text(self, symbol: str = "in") -> str:
        """The mismatch as the end of a sentence "... is wrong ..." (``symbol`` names the input)."""
        b, n = _pair(self.backward, self.numerical)
        diff = abs(self.backward - self.numerical)
        bound = f"|difference| {diff:.3g} > tolerance {self.tolerance:.3g} = atol + rtol * |numerical|"
        off = f"{self.off} of {self.size} elements are off"
        at = f"at index {self.index}"
        if self.kind == "gradient":
            return f"{at}: backward gives {b}, central differences give {n} ({bound}); {off}"
        if self.kind == "jacobian":
            entry = f"d out{_sub(self.output_index or ())} / d {symbol}{_sub(self.index)}"
            return (
                f"{at}: the worst Jacobian entry there is {entry}: backward gives {b}, central "
                f"differences give {n} ({bound}); {off} (found as J^T v, for a random weighting v "
                "of the output)"
            )
        if self.kind == "cotangent":
            return (
                f"{at} for a random weighting v of the output (J^T v): backward gives {b}, central "
                f"differences give {n} ({bound}); {off}. Yet with the output's gradient 1, one "
                "element at a time, backward is right: a backward does not scale with the gradient "
                "it is given (does it ignore gy?)"
            )
        if self.kind == "projection":
            return (
                "for a random direction u, in the projection check <v, J u> = <J^T v, u>: backward "
                f"gives {b}, central differences give {n} ({bound})"
            )
        return (
            f"{at} for a random weighting v of the output (J^T v): backward gives {b}, central "
            f"differences give {n} ({bound}); {off}"
        )


@dataclass
class OpCheck:
    """One recorded op, checked alone: what it is, where the user called it, and the verdict.

    ``status`` is ``"ok"``, ``"wrong"`` or ``"skipped"``; ``reason`` says why a
    skipped op could not be checked (or, for a wrong one whose backward raised, what
    it raised); ``mismatch`` is the worst element of a wrong one.
    """

    position: int
    name: str
    cls: type[Function]
    filename: str | None
    lineno: int | None
    function: str | None
    input_shapes: tuple[tuple[int, ...], ...]
    input_dtypes: tuple[str, ...]
    status: str = "ok"
    reason: str = ""
    mismatch: Mismatch | None = None

    @property
    def location(self) -> str:
        """``"file:line"`` of the user's code that called the op (``"<unknown>"`` if none was found)."""
        if self.filename is None:
            return "<unknown>"
        return f"{_short_path(self.filename)}:{self.lineno}"

    @property
    def code(self) -> str:
        """The source line at :attr:`location` (empty when the file cannot be read)."""
        if self.filename is None or self.lineno is None:
            return ""
        return linecache.getline(self.filename, self.lineno).strip()

    @property
    def title(self) -> str:
        """``name (ClassName)``."""
        return f"{self.name} ({self.cls.__qualname__})"

    def inputs_text(self) -> str:
        """The input shapes and dtypes, as ``(3, 4) float64, () float64``."""
        return ", ".join(
            f"{fmt_shape(s)} {d}" for s, d in zip(self.input_shapes, self.input_dtypes, strict=True)
        )


@dataclass
class BackwardReport:
    """What :func:`locate_wrong_backward` found: every op on the output's path, checked alone.

    Attributes
    ----------
    ops : list of OpCheck
        Every recorded op that the output depends on, in forward order.
    failing : OpCheck or None
        The first op (in forward order) whose backward is wrong; ``None`` if none is.
    deterministic : bool
        Whether ``fn`` gave the same output twice for the same inputs. A random ``fn``
        (dropout) fails any gradient check, whatever its ops do.
    note : str
        A remark on the run as a whole ("fn is random", "nothing was recorded").
    """

    ops: list[OpCheck] = field(default_factory=list)
    deterministic: bool = True
    note: str = ""

    @property
    def wrong(self) -> list[OpCheck]:
        """Every op whose backward is wrong, in forward order."""
        return [c for c in self.ops if c.status == "wrong"]

    @property
    def failing(self) -> OpCheck | None:
        """The first op whose backward is wrong (the one the report names), or ``None``."""
        wrong = self.wrong
        return wrong[0] if wrong else None

    @property
    def checked(self) -> list[OpCheck]:
        """The ops whose backward matches their forward."""
        return [c for c in self.ops if c.status == "ok"]

    @property
    def skipped(self) -> list[OpCheck]:
        """The ops that could not be checked alone (each with its ``reason``)."""
        return [c for c in self.ops if c.status == "skipped"]

    @property
    def location(self) -> str | None:
        """``"file:line"`` where the user called the failing op (``None`` if no op is wrong)."""
        failing = self.failing
        return None if failing is None else failing.location

    @property
    def worst(self) -> Mismatch | None:
        """The failing op's worst element (``None`` if no op is wrong)."""
        failing = self.failing
        return None if failing is None else failing.mismatch

    def __str__(self) -> str:
        lines = []
        if self.note:
            lines += [_wrap(self.note), ""]
        failing = self.failing
        n = len(self.ops)
        if failing is not None:
            lines.append(
                f"The first op whose backward is wrong: op {failing.position} of {n}, {failing.title}, "
                f"called at {failing.location}" + (f" in {failing.function}()" if failing.function else "")
            )
            if failing.code:
                lines.append(f"    {failing.code}")
            lines.append(f"  inputs: {failing.inputs_text()}")
            m = failing.mismatch
            if m is None:  # its backward raised
                finding = failing.reason
            else:
                finding = f"Checked alone, its gradient with respect to input {m.input} is wrong {m.text()}"
            lines.append(_wrap(finding, "  "))
            others = self.wrong[1:]
            if others:
                also = ", ".join(f"op {c.position}, {c.title} at {c.location}" for c in others)
                lines.append(_wrap(f"Also wrong, later: {also}", "  "))
        elif n:
            lines.append(_wrap(self._no_culprit()))
        if n:
            lines += [
                "",
                _wrap(
                    "Each op on the output's path, checked alone in forward order (its backward for a "
                    "random cotangent against central differences of its own forward, at the inputs "
                    "it saw):"
                ),
            ]
            lines += self._listing()
        return "\n".join(lines)

    def _no_culprit(self) -> str:
        """What to say when every op that could be checked is right: where else to look."""
        skipped = self.skipped
        text = f"No op's backward is wrong: {len(self.checked)} of {len(self.ops)} ops checked alone"
        text += " match their forward"
        text += f" ({len(skipped)} could not be checked: see below)." if skipped else "."
        kinks = [c for c in skipped if "kink" in c.reason]
        if kinks:
            c = kinks[0]
            text += (
                f" Op {c.position}, {c.title} at {c.location}, sits on a kink at these inputs: there "
                "central differences average two slopes and any value between them is a right "
                "gradient, so a gradient check of the whole fails there. Check at inputs away from it."
            )
        elif skipped:
            text += " One of those may be the wrong one."
        if self.deterministic:
            text += " Otherwise a" if skipped else " If a gradient check of fn fails all the same, a"
            text += (
                " value reached the output without being recorded: .data, .item(), float(), "
                "detach(), mgx.tensor(t.data), a NumPy function on a tensor's values, or an in-place "
                "write under no_grad."
            )
        return text

    def _listing(self) -> list[str]:
        show = self.ops
        hidden: list[OpCheck] = []
        if len(show) > _MAX_LISTED:  # list what matters; count the ops that are right
            show = [c for c in self.ops if c.status != "ok"][:_MAX_LISTED]
            keep = {id(c) for c in show}
            hidden = [c for c in self.ops if id(c) not in keep]
        width = max(len(c.title) for c in show) if show else 0
        mark = {"ok": "ok", "wrong": "WRONG", "skipped": "skipped"}
        out = []
        for c in show:
            line = f"  {c.position:>4}  {mark[c.status]:<7}  {c.title:<{width}}  {c.location}"
            if c.status == "skipped":
                line += f"  ({c.reason})"
            out.append(line)
        if hidden:
            counts: dict[str, int] = {}
            for c in hidden:
                counts[c.name] = counts.get(c.name, 0) + 1
            listed = ", ".join(f"{name} x{k}" for name, k in sorted(counts.items(), key=lambda kv: -kv[1]))
            out.append(f"  ... and {len(hidden)} more ops checked and right: {listed}")
        return out


# --------------------------------------------------------------------------- #
# locate_wrong_backward
# --------------------------------------------------------------------------- #
def locate_wrong_backward(
    fn: Callable[..., Tensor],
    *inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    max_full_size: int = 1000,
    seed: int = 0,
) -> BackwardReport:
    """Check every op that ``fn`` records on its own, and report the first whose backward is wrong.

    ``fn`` runs once on ``inputs`` (float ones become leaves that require grad,
    integer ones constants, as in :func:`microgradx.gradcheck`), and every op it
    records is kept with the file and line of the user's code that called it. Each
    op on the output's path is then checked alone: ``backward(v)`` for a random
    cotangent ``v`` against central differences of ``sum(forward(x) * v)``, its
    own forward re-run at copies of the very arrays it read. An element passes
    when ``|backward - numerical| <= atol + rtol * |numerical|`` (gradcheck's
    rule); an input with more than ``max_full_size`` elements is checked by three
    random projections instead.

    Parameters
    ----------
    fn : callable
        Maps Tensors (one per input) to a Tensor of any shape.
    *inputs : array_like or Tensor
        The values to run ``fn`` at.
    eps, atol, rtol, max_full_size, seed
        As in :func:`microgradx.gradcheck`.

    Returns
    -------
    BackwardReport
        ``report.failing`` is the first wrong op (or ``None``), with its
        ``location`` ("file:line"), ``input_shapes`` and ``mismatch``;
        ``report.checked`` the ops found right, ``report.skipped`` those that
        could not be checked alone and why; ``str(report)`` says it all in words.

    Examples
    --------
    >>> import numpy as np
    >>> import microgradx as mgx
    >>> class Cube(mgx.Function):
    ...     def forward(self, x):
    ...         return x ** 3
    ...     def backward(self, gy):
    ...         (x,) = self.inputs
    ...         return gy * 3 * x          # a planted mistake: 3 x**2 is right
    >>> report = locate_wrong_backward(lambda x: Cube.apply(x.tanh()).sum(), np.array([0.5, -2.0]))
    >>> report.failing.name, [c.name for c in report.checked]
    ('cube', ['tanh', 'sum'])
    """
    arrays, _ = _prepare(inputs)
    return _locate(fn, arrays, eps, atol, rtol, max_full_size, seed)


def _locate(
    fn: Callable[..., Tensor],
    arrays: Sequence[np.ndarray],
    eps: float,
    atol: float,
    rtol: float,
    max_full_size: int,
    seed: int,
) -> BackwardReport:
    """:func:`locate_wrong_backward` on prepared arrays (gradcheck's, after a failure)."""
    leaves = [Tensor(a.copy(), requires_grad=a.dtype.kind == "f") for a in arrays]
    with _recording() as records:
        with enable_grad():
            out = fn(*leaves)
            if isinstance(out, Tensor) and out._vc is not None:  # a view changed in place since
                _autograd._inplace.refresh(out)
    if not isinstance(out, Tensor):
        raise TypeError(f"locate_wrong_backward: fn must return a Tensor, got {describe(out)}")
    report = BackwardReport()
    report.deterministic, report.note = _same_output_again(fn, arrays, out)
    if out.creator is None:
        report.note = (report.note + " " if report.note else "") + (
            "fn's output has no recorded history: no op between the inputs and the output was "
            "recorded (was the graph cut by .data, .item(), float(), detach() or a NumPy function?)"
        )
        return report
    reached = _on_path(out.creator)
    rng = np.random.default_rng(seed)
    records = [r for r in records if id(r.fn) in reached]
    for position, record in enumerate(records, start=1):
        report.ops.append(_check_op(record, position, rng, eps, atol, rtol, max_full_size))
    return report


@dataclass
class _Record:
    fn: Function
    out: Tensor
    frame: tuple[str, int, str] | None


class _Listening(threading.local):
    """Per thread: the list the ops recorded in this thread go to (None: not listening)."""

    records: list[_Record] | None = None


_listening = _Listening()
_listeners = [0]  # how many recordings are running, in all threads
_listeners_lock = threading.Lock()


def _on_record(fn: Function, out: Tensor) -> None:
    """The engine's hook while a recording runs: keep ``fn``, if this thread is recording."""
    records = _listening.records
    if records is not None:
        records.append(_Record(fn, out, _user_frame()))


@contextlib.contextmanager
def _recording() -> Iterator[list[_Record]]:
    """Within the block, every op this thread records is kept (with the user's line) in the list."""
    previous = _listening.records  # (a recording inside another: the outer one resumes after)
    records: list[_Record] = []
    _listening.records = records
    with _listeners_lock:
        _listeners[0] += 1
        _autograd._on_record = _on_record
    try:
        yield records
    finally:
        _listening.records = previous
        with _listeners_lock:
            _listeners[0] -= 1
            if not _listeners[0]:  # the engine's hook is off again: no cost
                _autograd._on_record = None


def _user_frame() -> tuple[str, int, str] | None:
    """File, line and function of the innermost caller outside microgradx (the user's code)."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not os.path.abspath(filename).startswith(_PACKAGE):
            return filename, frame.f_lineno, frame.f_code.co_name
        frame = frame.f_back  # type: ignore[assignment]
    return None


def _on_path(head: Function) -> set[int]:
    """The ids of every Function the output depends on (through the versions each op read)."""
    seen: set[int] = set()
    stack = [head]
    while stack:
        fn = stack.pop()
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        for x in fn.inputs or ():
            creator = creator_read_by(x, fn._recorded_at)
            if creator is not None:
                stack.append(creator)
    return seen


def _same_output_again(
    fn: Callable[..., Tensor], arrays: Sequence[np.ndarray], out: Tensor
) -> tuple[bool, str]:
    """Run ``fn`` again at the same inputs: is the output the same? (A random fn fails any check.)"""
    try:
        with no_grad():
            again = fn(*[Tensor(a.copy()) for a in arrays])
    except Exception:  # noqa: BLE001 (fn ran once; the first run's result is what we check)
        return True, ""
    if not isinstance(again, Tensor) or again.shape != out.shape:
        return True, ""
    if np.array_equal(again.data, out.data, equal_nan=True):
        return True, ""
    worst = float(np.nanmax(np.abs(again.data.astype(np.float64) - out.data)))
    return False, (
        f"fn is random: called twice at the same inputs it gives different outputs (by up to "
        f"{worst:.3g}), so central differences of fn mean nothing and any gradient check of it "
        "fails. Dropout draws a new mask at each call: switch it off (model.eval(), "
        "training=False) or seed it inside fn (mgx.manual_seed(0) as its first line)."
    )


# --------------------------------------------------------------------------- #
# Checking one op alone
# --------------------------------------------------------------------------- #
def _check_op(
    record: _Record,
    position: int,
    rng: np.random.Generator,
    eps: float,
    atol: float,
    rtol: float,
    max_full_size: int,
) -> OpCheck:
    fn, out = record.fn, record.out
    filename, lineno, function = record.frame if record.frame is not None else (None, None, None)
    inputs = fn.inputs or ()
    check = OpCheck(
        position=position,
        name=fn.name,
        cls=type(fn),
        filename=filename,
        lineno=lineno,
        function=function,
        input_shapes=tuple(tuple(int(s) for s in t.shape) for t in inputs),
        input_dtypes=tuple(str(t.data.dtype) for t in inputs),
    )

    def skip(reason: str) -> OpCheck:
        check.status, check.reason = "skipped", reason
        return check

    if fn.inputs is None:
        return skip("its graph was freed by a backward() inside fn (pass retain_graph=True there)")
    # the arrays the op read, as they were when it read them
    seen = []
    for i, t in enumerate(inputs):
        try:
            seen.append(fn._unmodified_input(i).data.copy())
        except BackwardError:
            when = (
                "by this very in-place op"
                if fn._written_at and t._version == fn._written_at
                else "in place after this op read it"
            )
            return skip(
                f"input {i} was overwritten {when}, so the values it read are gone and its forward "
                "cannot be re-run at them"
            )
    wrt = [i for i, a in enumerate(seen) if fn.needs_input_grad[i] and a.dtype.kind == "f"]
    if not all(np.all(np.isfinite(a)) for a in seen if a.dtype.kind == "f"):
        return skip("an input holds inf or NaN, where central differences mean nothing")
    try:
        first = _forward(fn, seen)
        second = _forward(fn, seen)
    except Exception as e:  # noqa: BLE001
        return skip(f"re-running its forward raised {type(e).__name__}: {e}")
    if not np.array_equal(first, second, equal_nan=True):
        return skip(
            "its forward is random: two runs at the same inputs differ (draw the randomness outside "
            "forward and pass it in, as F.dropout passes its mask, to make it checkable)"
        )
    unchanged = fn._recorded_at == _autograd._clock[0] or out._version <= max(fn._recorded_at, fn._written_at)
    if unchanged and (first.shape != out.shape or not np.array_equal(first, out.data, equal_nan=True)):
        return skip("re-run at the inputs it saw, its forward gives another result than it gave then")
    if not np.all(np.isfinite(first)):
        return skip("its output holds inf or NaN, where central differences mean nothing")

    v = rng.uniform(-1.0, 1.0, size=first.shape)
    try:
        grads = _op_vjp(fn, out, v)
    except BackwardError as e:
        if not unchanged:  # its backward read its output, overwritten in place since
            return skip(f"its backward needs its output, overwritten in place since: {e}")
        check.status, check.reason = "wrong", f"its backward raised BackwardError: {e}"
        return check
    except Exception as e:  # noqa: BLE001 (a user's backward may raise anything: that is the finding)
        check.status, check.reason = "wrong", f"its backward raised {type(e).__name__}: {e}"
        return check

    x64 = [a.astype(np.float64) if a.dtype.kind == "f" else a for a in seen]

    def forward(args: list[np.ndarray]) -> np.ndarray:
        return _forward(fn, args)

    kinks: dict[int, list[tuple[int, ...]]] = {}
    for k in wrt:

        def backward(cot: np.ndarray, k: int = k) -> np.ndarray:
            return _op_vjp(fn, out, cot)[k]

        kinks[k] = []
        mismatch = _find_mismatch(
            forward, backward, x64, k, v, grads[k], eps, atol, rtol, max_full_size, rng, kinks[k]
        )
        if mismatch is not None:
            check.status, check.mismatch = "wrong", mismatch
            return check
    for k, where in kinks.items():
        if where:
            more = f" (and {len(where) - 1} more elements)" if len(where) > 1 else ""
            return skip(
                f"input {k} at index {where[0]}{more} sits on a kink of its forward, where the slopes on "
                "either side differ; backward gives a value between them there, as right as any"
            )
    return check


def _forward(fn: Function, args: Sequence[np.ndarray]) -> np.ndarray:
    """``fn``'s forward at copies of ``args``, on a copy of ``fn`` (whose saved state stays as it was)."""
    return np.asarray(copy.copy(fn).forward(*[a.copy() for a in args]))


def _op_vjp(fn: Function, out: Tensor, cot: np.ndarray) -> list[np.ndarray]:
    """``fn``'s own backward for the cotangent ``cot``: one float64 array per input (zeros for None)."""
    inputs = fn.inputs
    assert inputs is not None
    gy = np.array(cot, dtype=out.data.dtype)
    with set_grad_enabled(False):
        if fn._recorded_at != _autograd._clock[0] and not fn._reads_checked:
            fn._check_inputs()
        fn._out = out
        try:
            if fn.backward_on_arrays:
                gxs = fn.backward(gy)
                if type(gxs) is not tuple:
                    gxs = (gxs,)
            else:
                gxs = _autograd._tensor_backward(fn, gy)
        finally:
            fn._out = None
    if len(gxs) != len(inputs):
        raise BackwardError(f"{fn.name}: backward returned {len(gxs)} gradients for {len(inputs)} inputs")
    grads = []
    for i, (x, gx) in enumerate(zip(inputs, gxs, strict=True)):
        if gx is None or not fn.needs_input_grad[i]:
            grads.append(np.zeros(x.shape))
        else:
            grads.append(np.asarray(_autograd._fit(gx, x, fn, i, False), dtype=np.float64))
    return grads


def _at_kink(
    weighted: Callable[[np.ndarray], float],
    x: np.ndarray,
    index: tuple[int, ...],
    backward_value: float,
    eps: float,
    atol: float,
    rtol: float,
) -> bool:
    """Whether element ``index`` of ``x`` sits on a kink of ``weighted`` where backward is right.

    On a kink (relu at 0) the one-sided differences disagree, and any value between
    them (a subgradient: relu's 0 at 0) is as right as central differences' average.
    """

    def f(delta: float) -> float:
        xk = x.copy()
        xk[index] = x[index] + delta
        return weighted(xk)

    f0 = f(0.0)
    right = (f(eps) - f0) / eps
    left = (f0 - f(-eps)) / eps
    tol = atol + rtol * max(abs(left), abs(right))
    lo, hi = min(left, right), max(left, right)
    return hi - lo > tol and lo - tol <= backward_value <= hi + tol


# --------------------------------------------------------------------------- #
# A mismatch, in Jacobian terms (shared with gradcheck)
# --------------------------------------------------------------------------- #
def _find_mismatch(
    forward: Callable[[list[np.ndarray]], np.ndarray],
    backward: Callable[[np.ndarray], np.ndarray],
    args: list[np.ndarray],
    k: int,
    v: np.ndarray,
    analytic: np.ndarray,
    eps: float,
    atol: float,
    rtol: float,
    max_full_size: int,
    rng: np.random.Generator,
    kinks: list[tuple[int, ...]] | None = None,
) -> Mismatch | None:
    """Compare ``analytic`` (backward's ``J^T v`` for input ``k``) with central differences.

    ``forward(args)`` gives the output array, ``backward(cot)`` the gradient of input
    ``k`` for a cotangent. Returns ``None`` when they agree, else the
    :class:`Mismatch` (its values recomputed exactly by :func:`_explain`). With a
    list ``kinks``, an element that sits on a kink of ``forward`` (:func:`_at_kink`)
    is not a mismatch: its index goes to the list instead.
    """
    x = args[k]

    def weighted(xk: np.ndarray) -> float:
        return float(np.sum(forward(args[:k] + [xk] + args[k + 1 :]) * v))

    if x.size > max_full_size:
        for _ in range(3):
            u = rng.standard_normal(x.shape)
            num_dir = (weighted(x + eps * u) - weighted(x - eps * u)) / (2 * eps)
            ana_dir = float(np.sum(analytic * u))
            tol = atol + rtol * abs(num_dir)
            if not abs(ana_dir - num_dir) <= tol:
                return Mismatch(k, (), ana_dir, num_dir, tol, 0, x.size, "projection")
        return None
    numerical = numerical_gradient(weighted, x.copy(), h=eps)
    found = _worst_element(analytic, numerical, atol, rtol)
    if found is not None and kinks is not None:
        analytic = analytic.copy()
        while found is not None and _at_kink(
            weighted, x, found[0], float(analytic[found[0]]), eps, atol, rtol
        ):
            kinks.append(found[0])
            analytic[found[0]] = numerical[found[0]]  # right there (any value between the slopes is)
            found = _worst_element(analytic, numerical, atol, rtol)
    if found is None:
        return None
    return _explain(forward, backward, args, k, v, analytic, numerical, eps, atol, rtol, max_full_size, kinks)


def _worst_element(
    analytic: np.ndarray, numerical: np.ndarray, atol: float, rtol: float
) -> tuple[tuple[int, ...], int] | None:
    """The index where ``analytic`` exceeds the tolerance most, and how many elements do; None if none."""
    diff = np.abs(analytic - numerical)
    tol = atol + rtol * np.abs(numerical)
    bad = ~(diff <= tol)  # NaN counts as bad
    if not bad.any():
        return None
    excess = np.where(np.isnan(diff), np.inf, diff - tol)
    worst = np.unravel_index(int(np.argmax(excess)), analytic.shape) if analytic.ndim else ()
    return tuple(int(j) for j in worst), int(bad.sum())


def _explain(
    forward: Callable[[list[np.ndarray]], np.ndarray],
    backward: Callable[[np.ndarray], np.ndarray],
    args: list[np.ndarray],
    k: int,
    v: np.ndarray,
    analytic: np.ndarray,
    numerical: np.ndarray,
    eps: float,
    atol: float,
    rtol: float,
    max_out: int,
    kinks: Sequence[tuple[int, ...]] | None = None,
) -> Mismatch:
    """A detected mismatch of ``J^T v`` for input ``k``, restated in Jacobian terms.

    The random weighting ``v`` detects; the numbers reported are recomputed exactly:
    for a one-element output the gradient itself (cotangent 1, and central
    differences of the output itself); otherwise the column of the Jacobian at the
    worst element ``i``, ``d out[j] / d in[i]`` for every ``j``, by one backward per
    output element (cotangent ``e_j``) and two forward evaluations, and its worst
    entry. If the exact numbers agree, the backward is right for the cotangent 1 but
    not for ``v``: it does not scale with its incoming gradient (kind ``"cotangent"``).
    """
    x = args[k]
    found = _worst_element(analytic, numerical, atol, rtol)
    assert found is not None
    index, off = found

    def mismatch(kind: str, idx: tuple[int, ...], b: float, n: float, count: int, j: Any = None) -> Mismatch:
        return Mismatch(k, idx, float(b), float(n), atol + rtol * abs(float(n)), count, x.size, kind, j)

    weighted = mismatch("weighted", index, analytic[index], numerical[index], off)
    if v.size == 1:
        exact_b = np.array(backward(np.ones(v.shape)), dtype=np.float64)  # (a copy: changed below)

        def plain(xk: np.ndarray) -> float:
            return float(np.sum(forward(args[:k] + [xk] + args[k + 1 :])))

        exact_n = numerical_gradient(plain, x.copy(), h=eps)
        for idx in kinks or ():  # (elements on a kink are right whatever they are)
            exact_b[idx] = exact_n[idx]
        exact = _worst_element(exact_b, exact_n, atol, rtol)
        if exact is None:
            return mismatch("cotangent", index, analytic[index], numerical[index], off)
        (idx, count) = exact
        return mismatch("gradient", idx, exact_b[idx], exact_n[idx], count, ())
    if v.size > max_out:
        return weighted
    plus, minus = x.copy(), x.copy()
    plus[index] = x[index] + eps
    minus[index] = x[index] - eps
    column_n = (forward(args[:k] + [plus] + args[k + 1 :]) - forward(args[:k] + [minus] + args[k + 1 :])) / (
        2 * eps
    )
    column_b = np.empty(v.shape)
    for j in np.ndindex(v.shape):
        e = np.zeros(v.shape)
        e[j] = 1.0
        column_b[j] = backward(e)[index]
    entry = _worst_element(column_b, column_n, atol, rtol)
    if entry is None:
        return mismatch("cotangent", index, analytic[index], numerical[index], off)
    j = entry[0]
    return mismatch("jacobian", index, column_b[j], column_n[j], off, j)


# --------------------------------------------------------------------------- #
# wording
# --------------------------------------------------------------------------- #
def _wrap(text: str, indent: str = "") -> str:
    """``text`` as lines of at most 100 characters, each after ``indent`` (the later ones two more)."""
    return textwrap.fill(
        text,
        width=100,
        initial_indent=indent,
        subsequent_indent=indent + "  ",
        break_long_words=False,
        break_on_hyphens=False,
    )


def _sub(index: tuple[int, ...]) -> str:
    """``[1, 0]`` for an element's index, nothing for a 0-d array's."""
    return f"[{', '.join(str(i) for i in index)}]" if index else ""


def _pair(a: float, b: float) -> tuple[str, str]:
    """Two numbers with 6 significant digits, or as many more as it takes to tell them apart."""
    for digits in range(6, 18):
        sa, sb = f"{a:.{digits}g}", f"{b:.{digits}g}"
        if sa != sb or a == b:
            return sa, sb
    return repr(a), repr(b)


def _short_path(filename: str) -> str:
    """``filename`` relative to the working directory when it lies under it."""
    try:
        rel = os.path.relpath(filename)
    except ValueError:  # another drive (Windows)
        return filename
    return filename if rel.startswith("..") else rel
