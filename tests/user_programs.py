"""Random programs as users write them: in-place updates, views, reuse, detach, nested grad.

A program is Python source in microgradx's own syntax, one statement a line::

    a = mgx.tensor([1.0, 2.0, 3.0], requires_grad=True)
    v1 = a * 2
    v1[0] = v1[1] * 5
    v1[[0, -1]] = sq(a[1])
    v2 = v1[0:2]
    v1 *= F.sigmoid(v2[np.array([True, False])]) + 0.5
    with mgx.no_grad():
        v2 -= 0.5
    v3 = mgx.grad(lambda z: F.tanh(z).sum())(v1)
    def f1(z):
        h = z * 2.0
        h[1:] = sq_fast(z[:2])
        return (h * z).sum()
    v4 = mgx.grad(f1)(v1)

:func:`user_programs` draws such programs (Hypothesis), tracking every value's shape
so that every line is valid; :func:`user_program` makes one from source (for
``@example``). :meth:`UserProgram.run` interprets the source with one library's
adapter (:data:`MGX`, or :func:`torch_lib` for PyTorch), then backpropagates
``loss = sum over every tensor v the program named of (v * w_v).sum()`` (fixed random
weights ``w_v``, so every value carries gradient), and returns an :class:`Outcome`: the
values, the loss and the gradients of the leaves and of the retained intermediates,
or the exception raised (in any line, in the loss or in backward).

The grammar the interpreter accepts is exactly what the generator writes (and the
examples use):

- statements: assignments, augmented assignments (``+= -= *= /= **=``, also to a
  subscript), subscript assignment, ``x.retain_grad()``, ``for t in range(..)``,
  ``with mgx.no_grad():`` around statements, and ``def f(z): <statements>; return
  <expr>`` (one argument; its statements update its own names in place; it sees the
  program's names, as Python's globals);
- expressions: names, numbers, ``+ - * / ** @``, unary minus, indexing, ``F.tanh /
  sigmoid / relu / softmax / log_softmax``, the methods ``sum mean max`` (``axis=``,
  ``keepdims=``) ``exp transpose reshape detach clone``, ``mgx.tensor``, ``np.zeros``,
  ``mgx.grad(lambda z: ...)(x)`` and ``mgx.grad(f)(x)`` (with respect to the argument
  only, as in JAX: ``grad(lambda z: (z * x).sum())(x)`` is x), and the user-defined ops
  ``sq(x)`` and ``sq_fast(x)`` (x * x as an ``mgx.Function``, reading ``self.inputs`` on
  Tensors, or ``self.input(0)`` with ``backward_on_arrays``; in PyTorch an
  ``autograd.Function`` with ``save_for_backward``);
- indices: ints and slices (no step), and, first, a list of unique ints (``c[[0, 2]]``)
  or a constant mask (``c[np.array([True, False, True])]``).
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import strategies as st

__all__ = ["MGX", "Outcome", "UserProgram", "torch_lib", "user_program", "user_programs"]


# --------------------------------------------------------------------------- #
# The program and what running it gives
# --------------------------------------------------------------------------- #
@dataclass
class Outcome:
    """What one library made of a program: values and gradients, or the exception."""

    error: str | None = None  # "TypeName: message" when something raised
    where: str = ""  # the line (or "loss", "backward") that raised
    loss: float = 0.0
    values: dict[str, np.ndarray] = field(default_factory=dict)  # every named tensor, after the program
    grads: dict[str, np.ndarray] = field(default_factory=dict)  # leaves and retained intermediates

    @property
    def raised(self) -> bool:
        return self.error is not None

    def __str__(self) -> str:
        if self.raised:
            return f"raised at {self.where}: {self.error}"
        grads = ", ".join(f"{k}={v.tolist()}" for k, v in self.grads.items())
        return f"loss {self.loss!r}; grads {grads}"


class UnsupportedSyntax(Exception):
    """The program uses syntax the interpreter does not know: a bug of the harness, never caught."""


@dataclass(frozen=True)
class UserProgram:
    """A program (microgradx source) and the seed of its loss weights."""

    source: str
    seed: int = 0

    def __repr__(self) -> str:  # pasteable into @example(program=...)
        body = "\n".join("    " + line for line in self.source.splitlines())
        return f'user_program(\n    """\n{body}\n    """,\n    seed={self.seed},\n)'

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        """Hypothesis prints a falsifying example with this (else it spells out the dataclass)."""
        p.text(repr(self))

    def run(self, lib: Any) -> Outcome:
        """Run the program with ``lib`` (an adapter), compute the loss, backpropagate."""
        tree = ast.parse(self.source)
        run = _Interpreter(lib)
        out = Outcome()
        where = "?"
        try:
            for stmt in tree.body:
                where = f"line {stmt.lineno}: {ast.unparse(stmt).splitlines()[0]}"
                run.statement(stmt)
            where = "loss"
            named = [(k, v) for k, v in run.env.items() if lib.is_tensor(v)]
            loss = None
            for i, (name, v) in enumerate(named):
                w = np.random.default_rng([self.seed, i]).uniform(-1, 1, tuple(v.shape))
                term = (v * lib.const(w)).sum()
                loss = term if loss is None else loss + term
                out.values[name] = lib.numpy(v)
            if loss is None:
                raise UnsupportedSyntax("a program must name at least one tensor")
            out.loss = float(lib.numpy(loss))
            where = "backward"
            loss.backward()
            for name in run.leaves + run.retained:
                g = lib.grad_of(run.env[name])
                out.grads[name] = np.zeros(tuple(run.env[name].shape)) if g is None else g
        except UnsupportedSyntax:
            raise
        except Exception as e:  # any exception is the library's answer
            out.error, out.where = f"{type(e).__name__}: {e}", where
        return out


def user_program(source: str, seed: int = 0) -> UserProgram:
    """A program from source (dedented), for ``@example``; see the module docstring for the grammar."""
    lines = [line for line in source.splitlines() if line.strip()]
    indent = min(len(line) - len(line.lstrip()) for line in lines)
    return UserProgram("\n".join(line[indent:] for line in lines), seed)


# --------------------------------------------------------------------------- #
# The interpreter: one AST walk, the library behind an adapter
# --------------------------------------------------------------------------- #
_BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.MatMult: operator.matmul,
    ast.Pow: operator.pow,
}
_INPLACE: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.iadd,
    ast.Sub: operator.isub,
    ast.Mult: operator.imul,
    ast.Div: operator.itruediv,
    ast.Pow: operator.ipow,
}


class _Interpreter:
    """Runs a program's statements with ``lib``'s tensors; ``env`` holds the names it binds."""

    def __init__(self, lib: Any) -> None:
        self.lib = lib
        self.env: dict[str, Any] = {}
        self.leaves: list[str] = []  # names made by mgx.tensor(..., requires_grad=True)
        self.retained: list[str] = []  # names given .retain_grad()

    # statements ------------------------------------------------------------
    def statement(self, node: ast.stmt, env: dict[str, Any] | None = None) -> None:
        """Run one statement; ``env`` is the program's names, or a function's own scope."""
        env = self.env if env is None else env
        top = env is self.env
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], self.expr(node.value, env)
            if isinstance(target, ast.Name):
                env[target.id] = value
                if top and _is_leaf(node.value):
                    self.leaves.append(target.id)
            elif isinstance(target, ast.Subscript):
                base = self.lib.updating(self.expr(target.value, env))
                base[self.index(target.slice, env)] = value
            else:
                raise UnsupportedSyntax(ast.unparse(node))
        elif isinstance(node, ast.AugAssign) and type(node.op) in _INPLACE:
            update, value = _INPLACE[type(node.op)], self.expr(node.value, env)
            if isinstance(node.target, ast.Name):
                name = node.target.id
                env[name] = update(self.lib.updating(env[name]), value)
            elif isinstance(node.target, ast.Subscript):  # Python's own steps for c[i] += v
                base = self.expr(node.target.value, env)
                idx = self.index(node.target.slice, env)
                new = update(self.lib.updating(base[idx]), value)
                self.lib.updating(base)[idx] = new
            else:
                raise UnsupportedSyntax(ast.unparse(node))
        elif top and isinstance(node, ast.Expr) and _is_method(node.value, "retain_grad"):
            self.expr(node.value, env)
            self.retained.append(ast.unparse(node.value.func.value))  # type: ignore[attr-defined]
        elif top and isinstance(node, ast.For) and isinstance(node.target, ast.Name) and not node.orelse:
            for i in self.expr(node.iter, env):
                env[node.target.id] = i
                for stmt in node.body:
                    self.statement(stmt)
        elif isinstance(node, ast.With) and _is_no_grad(node):
            with self.lib.no_grad():
                for stmt in node.body:
                    self.statement(stmt, env)
        elif top and isinstance(node, ast.FunctionDef):
            env[node.name] = self.function(node)
        else:
            raise UnsupportedSyntax(ast.unparse(node))

    def function(self, node: ast.FunctionDef) -> Callable[[Any], Any]:
        """``def f(z): <statements>; return <expr>``: each call runs in its own scope, which
        sees the program's names as they are at the call (Python's globals)."""
        args, (*body, ret) = node.args, node.body
        simple = len(args.args) == 1 and not (args.posonlyargs or args.kwonlyargs or args.vararg)
        if not simple or node.decorator_list or not isinstance(ret, ast.Return) or ret.value is None:
            raise UnsupportedSyntax(f"def {node.name}: one argument, statements, then return <expr>")
        arg, result = args.args[0].arg, ret.value

        def call(x: Any) -> Any:
            scope = {**self.env, arg: x}
            for stmt in body:
                self.statement(stmt, scope)
            return self.expr(result, scope)

        return call

    # expressions -----------------------------------------------------------
    def expr(self, node: ast.expr, env: dict[str, Any]) -> Any:
        lib = self.lib
        if isinstance(node, ast.Name):
            return env[node.id]
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, bool, type(None))):
            return node.value
        if isinstance(node, (ast.Tuple, ast.List)):
            return [self.expr(e, env) for e in node.elts]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -self.expr(node.operand, env)
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            return _BINARY[type(node.op)](self.expr(node.left, env), self.expr(node.right, env))
        if isinstance(node, ast.Subscript):
            return self.expr(node.value, env)[self.index(node.slice, env)]
        if isinstance(node, ast.Lambda) and len(node.args.args) == 1:
            name = node.args.args[0].arg
            return lambda x: self.expr(node.body, {**env, name: x})
        if isinstance(node, ast.Call):
            args = [self.expr(a, env) for a in node.args]
            kwargs = {k.arg: self.expr(k.value, env) for k in node.keywords}
            f = node.func
            if isinstance(f, ast.Call) and _is_module_call(f, "mgx", "grad"):  # mgx.grad(fn)(x)
                (fn,) = [self.expr(a, env) for a in f.args]
                return lib.grad(fn, *args, retained=[self.env[n] for n in self.retained])
            if isinstance(f, ast.Name) and f.id == "range":
                return range(*args)
            if isinstance(f, ast.Name) and f.id in ("sq", "sq_fast"):  # the user-defined ops
                return lib.user_op(f.id, *args)
            if _is_module_call(node, "mgx", "tensor"):
                return lib.tensor(np.array(args[0], dtype=np.float64), **kwargs)
            if _is_module_call(node, "np", "zeros"):
                return np.zeros(tuple(args[0]))
            if _is_module_call(node, "F"):
                return lib.function(f.attr, *args, **kwargs)  # type: ignore[union-attr]
            if isinstance(f, ast.Attribute):
                return lib.method(self.expr(f.value, env), f.attr, *args, **kwargs)
        raise UnsupportedSyntax(ast.unparse(node))

    def index(self, node: ast.expr, env: dict[str, Any]) -> Any:
        """Ints and slices; a list of ints; a constant mask ``np.array([True, False])``."""
        if isinstance(node, ast.Tuple):
            return tuple(self.index(e, env) for e in node.elts)
        if isinstance(node, ast.Slice):
            if node.step is not None:
                raise UnsupportedSyntax(ast.unparse(node))
            lo = None if node.lower is None else self.expr(node.lower, env)
            hi = None if node.upper is None else self.expr(node.upper, env)
            return slice(lo, hi)
        if _is_module_call(node, "np", "array") and len(node.args) == 1:  # type: ignore[attr-defined]
            mask = np.array(self.expr(node.args[0], env))  # type: ignore[attr-defined]
            if mask.dtype != np.bool_:
                raise UnsupportedSyntax(f"index {ast.unparse(node)}: only boolean arrays")
            return self.lib.mask(mask)
        i = self.expr(node, env)
        if isinstance(i, list) and i and all(type(k) is int for k in i):
            return i
        if type(i) is not int:
            raise UnsupportedSyntax(f"index {ast.unparse(node)}: only ints, slices, lists and masks")
        return i


def _is_module_call(node: ast.expr, module: str, name: str | None = None) -> bool:
    f = node.func if isinstance(node, ast.Call) else None
    return (
        isinstance(f, ast.Attribute)
        and isinstance(f.value, ast.Name)
        and f.value.id == module
        and (name is None or f.attr == name)
    )


def _is_no_grad(node: ast.With) -> bool:
    """``with mgx.no_grad():`` (nothing bound by ``as``)."""
    (item, *more) = node.items
    return not more and item.optional_vars is None and _is_module_call(item.context_expr, "mgx", "no_grad")


def _is_method(node: ast.expr, name: str) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == name


def _is_leaf(node: ast.expr) -> bool:
    """``mgx.tensor(..., requires_grad=True)``."""
    return _is_module_call(node, "mgx", "tensor") and any(
        k.arg == "requires_grad" and isinstance(k.value, ast.Constant) and k.value.value is True
        for k in node.keywords  # type: ignore[attr-defined]
    )


# --------------------------------------------------------------------------- #
# The adapters: the program's vocabulary, once per library
# --------------------------------------------------------------------------- #
class _Mgx:
    """microgradx: the source is its own syntax, so every call goes straight through."""

    def __init__(self) -> None:
        import microgradx as mgx
        import microgradx.functional as F

        self.mgx, self.F = mgx, F
        self.user_ops = _mgx_user_ops(mgx)

    def tensor(self, data: np.ndarray, requires_grad: bool = False) -> Any:
        return self.mgx.tensor(data, requires_grad=requires_grad)

    def const(self, w: np.ndarray) -> Any:
        return self.mgx.tensor(w)

    def is_tensor(self, x: Any) -> bool:
        return isinstance(x, self.mgx.Tensor)

    def numpy(self, x: Any) -> np.ndarray:
        return np.array(x.data, dtype=np.float64)

    def grad_of(self, x: Any) -> np.ndarray | None:
        return None if x.grad is None else np.array(x.grad.data, dtype=np.float64)

    def function(self, name: str, *args: Any, **kwargs: Any) -> Any:
        return getattr(self.F, name)(*args, **kwargs)

    def method(self, x: Any, name: str, *args: Any, **kwargs: Any) -> Any:
        return getattr(x, name)(*args, **kwargs)

    def user_op(self, name: str, x: Any) -> Any:
        return self.user_ops[name].apply(x)

    def mask(self, mask: np.ndarray) -> Any:
        return mask

    def no_grad(self) -> Any:
        return self.mgx.no_grad()

    def updating(self, x: Any) -> Any:
        return x

    def grad(self, fn: Callable[[Any], Any], x: Any, retained: list[Any]) -> Any:
        return self.mgx.grad(fn)(x)


def _mgx_user_ops(mgx: Any) -> dict[str, Any]:
    """``sq`` and ``sq_fast``: x ** 2 as a user writes an op, in the two ways microgradx offers."""

    class Square(mgx.Function):  # type: ignore[name-defined,misc]
        """Forward: y = x * x.   Backward: dL/dx = dL/dy * 2 x, on Tensors (reads ``self.inputs``)."""

        def forward(self, x: np.ndarray) -> np.ndarray:
            return x * x

        def backward(self, gy: Any) -> Any:
            return gy * 2 * self.inputs[0]

    class SquareFast(mgx.Function):  # type: ignore[name-defined,misc]
        """The same, ``backward_on_arrays``: arrays in a plain backward, reading ``self.input(0)``."""

        backward_on_arrays = True

        def forward(self, x: np.ndarray) -> np.ndarray:
            return x * x

        def backward(self, gy: Any) -> Any:
            return gy * 2 * self.input(0)

    return {"sq": Square, "sq_fast": SquareFast}


class _Torch:
    """PyTorch: the same vocabulary, spelled its way (dim=, keepdim=, permute, amax, autograd.grad)."""

    def __init__(self) -> None:
        import torch

        class Square(torch.autograd.Function):
            """Both ``sq`` and ``sq_fast``: x ** 2 as a PyTorch user writes an op."""

            @staticmethod
            def forward(ctx: Any, x: Any) -> Any:
                ctx.save_for_backward(x)
                return x * x

            @staticmethod
            def backward(ctx: Any, gy: Any) -> Any:
                (x,) = ctx.saved_tensors
                return gy * 2 * x

        self.torch, self.square = torch, Square

    def tensor(self, data: np.ndarray, requires_grad: bool = False) -> Any:
        return self.torch.tensor(data, dtype=self.torch.float64, requires_grad=requires_grad)

    def const(self, w: np.ndarray) -> Any:
        return self.torch.tensor(w, dtype=self.torch.float64)

    def is_tensor(self, x: Any) -> bool:
        return isinstance(x, self.torch.Tensor)

    def numpy(self, x: Any) -> np.ndarray:
        return x.detach().numpy().astype(np.float64)

    def grad_of(self, x: Any) -> np.ndarray | None:
        return None if x.grad is None else x.grad.detach().numpy().astype(np.float64)

    def function(self, name: str, x: Any, *args: Any, axis: int | None = None) -> Any:
        torch = self.torch
        if name in ("tanh", "sigmoid", "relu", "exp"):
            return getattr(torch, name)(x)
        if name in ("softmax", "log_softmax"):
            return getattr(torch, name)(x, dim=-1 if axis is None else axis)
        if name == "transpose":
            return x.permute(*args[0])
        raise UnsupportedSyntax(f"F.{name}")

    def method(self, x: Any, name: str, *args: Any, axis: int | None = None, keepdims: bool = False) -> Any:
        torch = self.torch
        if name in ("sum", "mean", "max"):
            if axis is None:
                assert not keepdims, "the generator writes keepdims only with an axis"
                return getattr(x, name)()  # max(): the gradient is shared among ties, like amax
            if name == "max":
                return torch.amax(x, dim=axis, keepdim=keepdims)
            return getattr(x, name)(dim=axis, keepdim=keepdims)
        if name == "transpose":
            return x.permute(*args)
        if name == "retain_grad":  # on a view whose base was updated since, it would hook the stale
            _ = x.grad_fn  # history (.grad stays None) unless grad_fn is read first: see `updating`
        if name in ("exp", "tanh", "sigmoid", "relu", "reshape", "detach", "clone", "retain_grad"):
            return getattr(x, name)(*args)
        raise UnsupportedSyntax(f".{name}()")

    def updating(self, x: Any) -> Any:
        """``x``, about to be updated in place, with its ``grad_fn`` brought up to date first.

        A view made while its base did not require grad, whose base then began to (``v = h[0]``;
        ``h += w``), is refused by ``v *= 2`` ("a leaf Variable that requires grad is being used
        in an in-place operation") unless something read ``v.grad_fn`` in between (printing
        ``v`` does): PyTorch's check sees a stale history. Reading it makes the answer not
        depend on whether the program printed its tensors.
        """
        _ = x.grad_fn
        return x

    def user_op(self, name: str, x: Any) -> Any:
        return self.square.apply(x)

    def mask(self, mask: np.ndarray) -> Any:
        return self.torch.tensor(mask)

    def no_grad(self) -> Any:
        return self.torch.no_grad()

    def grad(self, fn: Callable[[Any], Any], x: Any, retained: list[Any]) -> Any:
        """``mgx.grad(fn)(x)`` as ``torch.func.grad`` means it: with respect to a fresh ``z``.

        ``fn`` is differentiated with respect to its argument only: ``z`` is a copy of ``x``
        (``x.clone()``, so that the gradient stays in ``x``'s graph), and the uses of ``x``
        that ``fn`` closes over are constants here (``grad(lambda z: (z * x).sum())(x)`` is
        ``x``, not ``2 x``). ``autograd.grad`` also accumulates into ``.grad`` of every tensor
        that ``retain_grad()`` was called on and that the gradient passes (microgradx's
        ``grad`` does not): they are put back, as the programs compare ``.grad`` after
        ``loss.backward()`` alone.
        """
        before = [t.grad for t in retained]
        z = x.clone() if x.requires_grad else x.detach().requires_grad_()
        (g,) = self.torch.autograd.grad(fn(z), z, create_graph=True)
        for t, was in zip(retained, before, strict=True):
            t.grad = was
        return g


MGX = _Mgx()


def torch_lib() -> _Torch:
    """The PyTorch adapter (imports torch: call it only where torch is installed)."""
    return _Torch()


# --------------------------------------------------------------------------- #
# The generator
# --------------------------------------------------------------------------- #
@dataclass
class _Value:
    """What the generator knows about a named value."""

    name: str
    shape: tuple[int, ...]
    grad: bool  # certainly requires grad (retain_grad and nested grad need that)
    frozen: bool = False  # a leaf that requires grad, or a view of one: no in-place update
    memory: str = ""  # the value whose memory this one uses (itself, unless a view or a detach)
    view_of: _Value | None = None  # the value this is a view of (a detach is no view: no history)
    #: "C": C-contiguous in both libraries; "same": the same strides in both; None: they may
    #: differ (NumPy and PyTorch lay out some results differently, e.g. x.T / y), and then
    #: reshape may be a view in one library and a copy in the other: no reshape of it.
    layout: str | None = "C"
    leaf: bool = False
    retained: bool = False

    def __post_init__(self) -> None:
        self.memory = self.memory or self.name

    @property
    def ndim(self) -> int:
        return len(self.shape)


def _atom(src: str) -> str:
    """``src`` in parentheses unless it is a name, number, call or subscript (no top-level space)."""
    depth = 0
    for ch in src:
        depth += ch in "([{"
        depth -= ch in ")]}"
        if ch == " " and depth == 0:
            return f"({src})"
    return f"({src})" if src.startswith("-") else src


def _fits(small: tuple[int, ...], big: tuple[int, ...], extra_ones: bool = False) -> bool:
    """An operand of shape ``small`` broadcasts into ``big`` without growing it (in-place safe).

    ``extra_ones``: for ``c[idx] = w``, where ``w`` may also have extra leading size-1 dims
    (``c[1] = w`` with ``w`` of shape (1,)): both libraries drop them.
    """
    if extra_ones and len(small) > len(big) and set(small[: len(small) - len(big)]) == {1}:
        small = small[len(small) - len(big) :]
    pairs = zip(small[::-1], big[::-1], strict=False)
    return len(small) <= len(big) and all(s in (1, b) for s, b in pairs)


def _broadcast(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...] | None:
    try:
        return tuple(np.broadcast_shapes(a, b))
    except ValueError:
        return None


def _fresh(*operands: _Value) -> str | None:
    """The layout of a new result: C in both libraries when every operand is C, else unknown."""
    return "C" if all(v.layout == "C" for v in operands) else None


def _sides(parts: list[Any], shape: tuple[int, ...]) -> list[int]:
    """The side of the axis each index part starts at (a mask spans as many axes as it has dims)."""
    sides, axis = [], 0
    for p in parts:
        sides.append(shape[axis])
        axis += p.ndim if isinstance(p, np.ndarray) else 1
    return sides


def _is_number(src: str) -> bool:
    try:
        float(src)
    except ValueError:
        return False
    return True


def _reshapes(size: int) -> list[tuple[int, ...]]:
    """Every shape of 0-3 dims (sides up to 8) with ``size`` elements."""
    sides = [s for s in range(1, 9) if size % s == 0]
    out: list[tuple[int, ...]] = [()] if size == 1 else []
    out += [(size,)]
    out += [(p, size // p) for p in sides]
    out += [(p, q, size // p // q) for p in sides for q in sides if size % (p * q) == 0]
    return [shape for shape in out if max(shape, default=1) <= 8]


#: The vocabulary. ``{}`` is a value; ``{k}`` a number; ``{a}`` an axis; ``{t}`` the target of
#: an in-place update; ``{z}`` / ``{u}`` the variable and another value in a nested grad.
NUMBERS = [0.5, 2.0, -1.5, 1.0, 0.25]
UNARY = ["F.tanh({})", "F.sigmoid({})", "F.relu({})", "F.tanh({}).exp()", "-{}", "{} ** 2", "{}.clone()"]
UNARY += ["sq({})", "sq_fast({})"]  # user-defined ops (mgx.Function): x * x
DENOMINATORS = ["F.sigmoid({}) + 0.5", "F.tanh({}).exp()", "{} * {} + 1.0"]  # safely away from 0
OPERAND = ["{}", "F.tanh({})", "{} * {k}", "F.sigmoid({})", "{}.max()"]  # of another value
FROM_TARGET = ["{t}", "{t} * {k}", "{t} + {k}", "F.tanh({t})", "{t}.exp()", "{t}.max()", "F.sigmoid({t})"]
FROM_TARGET += ["sq({t})", "sq_fast({t})"]
FROM_TARGET_AXIS = ["{t}.sum(axis={a}, keepdims=True)", "{t}.mean(axis={a}, keepdims=True)"]
FROM_TARGET_AXIS += ["{t}.max(axis={a}, keepdims=True)"]
FROM_SLICE = ["{} * {k}", "F.tanh({})", "{} + {k}", "F.sigmoid({}) * {k}"]  # c[0:1] = c[1:2] * 2
GRAD_BODIES = ["{z} * {z}", "F.tanh({z})", "F.sigmoid({z}) * {u}", "F.tanh({z} * {u})", "{z} ** 3 * 0.25"]
GRAD_BODIES += ["sq({z}) * {u}", "sq_fast({z} * {u})"]
#: A ``def`` differentiated by ``mgx.grad``: its first line (``h``, of z's shape), then updates of h
DEF_STARTS = ["{z} * {k}", "F.tanh({z}) * {k}", "{z}.clone()", "sq({z})", "{z} + {k}"]
#: ... and what it returns: always a product with z. Not ``h.sum()`` (of ``h = z * 2``), nor only
#: through h (``h[:] = 1.0`` cuts it from z): PyTorch's gradient is then a constant that does not
#: require grad, and microgradx's stays in the graph (retain_grad, saved for backward)
DEF_RETURNS = ["(h * z).sum()", "(F.tanh(h) * z).sum()", "(h * F.sigmoid(z)).sum()"]
OPS = ["unary", "binary", "div", "reduce", "softmax", "matmul", "unary", "binary"]
STEPS = ["op", "update", "setitem", "view", "op", "update", "slice_update", "detach", "retain", "grad"]
STEPS += ["zeros", "no_grad", "grad_def"]
UPDATES = ["+=", "-=", "*=", "/=", "**="]


class _Builder:
    """Draws one program line by line, keeping every value's shape and flags."""

    def __init__(self, draw: Any) -> None:
        self.draw = draw
        self.values: list[_Value] = []
        self.lines: list[str] = []

    # helpers ---------------------------------------------------------------
    def pick(self, values: list[_Value] | None = None) -> _Value:
        """One of ``values`` (default: all), half the time one of the last three: users mostly
        work on what they just computed, and chains of steps are where steps interact."""
        values = self.values if values is None else values
        if len(values) > 3 and self.draw(st.booleans()):
            values = values[-3:]
        return self.draw(st.sampled_from(values))

    def choose(self, options: list[str]) -> str:
        return self.draw(st.sampled_from(options))

    def new(self, src: str, shape: tuple[int, ...], grad: bool, **flags: Any) -> _Value:
        v = _Value(f"v{sum(not v.leaf for v in self.values) + 1}", shape, grad, **flags)
        self.lines.append(f"{v.name} = {src}")
        self.values.append(v)
        return v

    def number(self) -> str:
        return repr(self.draw(st.sampled_from(NUMBERS)))

    def axis(self, ndim: int) -> int:
        return self.draw(st.integers(-ndim, ndim - 1))

    def index(self, shape: tuple[int, ...], advanced: bool = False) -> tuple[list[Any], tuple[int, ...]]:
        """An index for a prefix of the axes and the shape it selects: ints and slices, and with
        ``advanced`` maybe first a list of unique ints or a constant boolean mask (``c[[0, 2]]``,
        ``c[np.array([True, False])]``: one advanced index, in front, so that the selected axes
        stay where they are in NumPy's and PyTorch's rules)."""
        parts: list[Any] = []
        out: list[int] = []
        k = self.draw(st.integers(1, len(shape)))
        axis = 0
        if advanced and self.draw(st.integers(0, 2)) == 0:
            if self.draw(st.booleans()):  # unique: microgradx refuses repeats while recording
                side = shape[0]
                picked = self.draw(st.lists(st.integers(0, side - 1), min_size=1, max_size=side, unique=True))
                parts.append([i - side if self.draw(st.booleans()) else i for i in picked])
                out.append(len(picked))
                axis = 1
            else:
                axis = self.draw(st.integers(1, len(shape)))
                size = int(np.prod(shape[:axis]))
                bits = self.draw(st.lists(st.booleans(), min_size=size, max_size=size))
                bits[self.draw(st.integers(0, size - 1))] = True  # no empty selection (c[mask].mean())
                parts.append(np.array(bits, dtype=bool).reshape(shape[:axis]))
                out.append(sum(bits))
            k = max(k, axis)
        for side in shape[axis:k]:
            if self.draw(st.booleans()):
                parts.append(self.draw(st.integers(-side, side - 1)))
            else:
                start = self.draw(st.integers(0, side - 1))
                stop = self.draw(st.integers(start + 1, side))
                parts.append(slice(start, stop))
                out.append(stop - start)
        return parts, tuple(out) + shape[k:]

    def index_like(self, parts: list[Any], shape: tuple[int, ...]) -> list[Any]:
        """Another index of the same kind that selects the same shape (maybe elsewhere)."""
        other: list[Any] = []
        for p, side in zip(parts, _sides(parts, shape), strict=True):
            if isinstance(p, slice):
                start = self.draw(st.integers(0, side - (p.stop - p.start)))
                other.append(slice(start, start + p.stop - p.start))
            elif isinstance(p, list):  # as many other unique ints
                picked = self.draw(st.permutations(range(side)))[: len(p)]
                other.append([i - side if self.draw(st.booleans()) else i for i in picked])
            elif isinstance(p, np.ndarray):  # a mask with as many True
                other.append(np.array(self.draw(st.permutations(p.ravel().tolist()))).reshape(p.shape))
            else:
                other.append(self.draw(st.integers(-side, side - 1)))
        return other

    @staticmethod
    def index_src(parts: list[Any], shape: tuple[int, ...]) -> str:
        def one(p: Any, side: int) -> str:
            if isinstance(p, np.ndarray):
                return f"np.array({p.tolist()!r})"
            if not isinstance(p, slice):
                return str(p)
            return f"{p.start or ''}:{'' if p.stop == side else p.stop}"

        return ", ".join(one(p, s) for p, s in zip(parts, _sides(parts, shape), strict=True))

    def operand(self, shape: tuple[int, ...], target: _Value, extra_ones: bool = False) -> tuple[str, bool]:
        """An expression whose shape fits into ``shape``: a number, a value, or a function of one
        (``extra_ones``: maybe with extra leading size-1 dims, for ``c[idx] = ...``).

        A bare value that shares memory with the target is wrapped in an op: PyTorch refuses
        in-place operands that partly overlap the memory updated (``c[1:] = c[:-1]``).
        """
        fitting = [v for v in self.values if _fits(v.shape, shape, extra_ones)]
        if not fitting or self.draw(st.integers(0, 3)) == 0:
            return self.number(), False
        v = self.pick(fitting)
        if (
            extra_ones
            and v.ndim <= len(shape)
            and v.memory != target.memory
            and self.draw(st.integers(0, 2)) == 0
        ):
            return f"{_atom(v.name)}.reshape({(1, *v.shape)!r})", v.grad  # c[1] = w, w of shape (1,)
        form = self.choose(OPERAND)
        if form == "{}" and v.memory == target.memory:
            form = "{} * {k}"
        return form.format(_atom(v.name), k=self.number()), v.grad

    def rhs(self, target: str, t: _Value, shape: tuple[int, ...], op: str) -> tuple[str, bool]:
        """The right-hand side of ``target op= ...`` (``target``: ``t`` or a slice of it, of
        ``shape``); half the time it reads the target itself (``c *= c``, ``c -= c.exp()``)."""
        if self.draw(st.booleans()):
            form = self.choose(FROM_TARGET + (FROM_TARGET_AXIS if shape else []))
            axis = self.axis(len(shape)) if shape else 0
            src, grad = form.format(t=_atom(target), k=self.number(), a=axis), t.grad
        else:
            src, grad = self.operand(shape, t)
        if op == "**=":  # an integer power: defined for any base
            return self.choose(["2", "3"]), False
        if op == "/=" and not _is_number(src):
            src = self.choose(DENOMINATORS).format(_atom(src), _atom(src))
        return src, grad

    @staticmethod
    def mark_updated(target: _Value, grad: bool) -> None:
        """After an in-place update: the target, and the values it is a view of, may now require grad."""
        v: _Value | None = target
        while v is not None and grad:
            v.grad = True
            v = v.view_of

    # steps -----------------------------------------------------------------
    def leaf(self, name: str) -> None:
        shape = tuple(self.draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
        size = int(np.prod(shape))
        data = self.draw(st.lists(st.integers(-20, 20), min_size=size, max_size=size))
        arr = (np.array(data, dtype=np.float64) / 10).reshape(shape)
        self.lines.append(f"{name} = mgx.tensor({arr.tolist()!r}, requires_grad=True)")
        self.values.append(_Value(name, shape, grad=True, frozen=True, leaf=True))

    def step_op(self) -> None:
        """An out-of-place op: elementwise, a reduction, softmax or a matrix product."""
        kind = self.choose(OPS)
        x = self.pick()
        if x.ndim == 0 and kind in ("softmax", "matmul"):
            kind = "unary"
        if kind == "unary":
            self.new(self.choose(UNARY).format(_atom(x.name)), x.shape, x.grad, layout=_fresh(x))
        elif kind in ("binary", "div"):
            y = self.pick([v for v in self.values if _broadcast(x.shape, v.shape) is not None])
            shape, grad, layout = _broadcast(x.shape, y.shape), x.grad or y.grad, _fresh(x, y)
            assert shape is not None
            if kind == "div":
                den = self.choose(DENOMINATORS).format(_atom(y.name), _atom(y.name))
                self.new(f"{_atom(x.name)} / {_atom(den)}", shape, grad, layout=layout)
            elif self.draw(st.integers(0, 3)) == 0:
                src = f"{_atom(x.name)} {self.choose(['+', '-', '*'])} {self.number()}"
                self.new(src, x.shape, x.grad, layout=_fresh(x))
            else:
                src = f"{_atom(x.name)} {self.choose(['+', '-', '*'])} {_atom(y.name)}"
                self.new(src, shape, grad, layout=layout)
        elif kind == "reduce":
            fn = self.choose(["sum", "mean", "max"])
            if x.ndim == 0 or self.draw(st.integers(0, 3)) == 0:
                self.new(f"{_atom(x.name)}.{fn}()", (), x.grad)
                return
            axis, keep = self.axis(x.ndim), self.draw(st.booleans())
            shape = list(x.shape)
            a = axis % x.ndim
            shape[a : a + 1] = [1] if keep else []
            src = f"{_atom(x.name)}.{fn}(axis={axis}, keepdims={keep})"
            self.new(src, tuple(shape), x.grad, layout=_fresh(x))
        elif kind == "softmax":
            fn, axis = self.choose(["softmax", "log_softmax"]), self.draw(st.integers(-x.ndim, -1))
            self.new(f"F.{fn}({x.name}, axis={axis})", x.shape, x.grad, layout=_fresh(x))
        else:
            self.step_matmul(x)

    def step_matmul(self, x: _Value) -> None:
        """``x @ y`` with y a vector or matrix that fits, else x with its own transpose."""
        partners = [v for v in self.values if v.ndim in (1, 2) and v.shape[0] == x.shape[-1]]
        a = _atom(x.name)
        if partners and self.draw(st.booleans()):
            y = self.pick(partners)
            src, shape, grad = f"{a} @ {_atom(y.name)}", x.shape[:-1] + y.shape[1:], x.grad or y.grad
        elif x.ndim == 1:
            src, shape, grad = f"{a} @ {a}", (), x.grad
        elif x.ndim == 2:
            src, shape, grad = f"{a} @ {a}.transpose(-1, -2)", x.shape[:1] * 2, x.grad
        else:
            src, shape, grad = f"{a} @ {a}.transpose(0, -1, -2)", x.shape[:2] + x.shape[1:2], x.grad
        self.new(src, shape, grad, layout=None)

    def step_view(self) -> None:
        """A view: basic indexing, reshape, or a transpose written with negative axes."""
        x = self.pick([v for v in self.values if v.ndim > 0])
        kind = self.choose(["getitem", "reshape", "transpose"])
        if kind == "reshape" and x.layout is None:
            kind = "transpose"
        flags = dict(frozen=x.frozen, memory=x.memory, view_of=x, layout=x.layout and "same")
        if kind == "getitem":
            parts, shape = self.index(x.shape)
            src = f"{_atom(x.name)}[{self.index_src(parts, x.shape)}]"
        elif kind == "reshape":
            shape = self.draw(st.sampled_from(_reshapes(int(np.prod(x.shape)))))
            src = f"{_atom(x.name)}.reshape({shape!r})"
            flags["layout"] = x.layout  # a view of C is C; a copy is C in both libraries
        else:
            perm = self.draw(st.permutations(range(x.ndim)))
            written = [p - x.ndim if self.draw(st.booleans()) else p for p in perm]
            shape = tuple(x.shape[p] for p in perm)
            axes = ", ".join(map(str, written))
            if x.ndim == 2 and list(perm) == [0, 1]:  # t.transpose(0, 1) is ambiguous, hence refused
                axes = f"({axes})"
            src = f"{_atom(x.name)}.transpose({axes})"
        self.new(src, shape, x.grad, **flags)

    def step_update(self) -> None:
        """``c op= rhs``, the right-hand side maybe reading c."""
        targets = [v for v in self.values if not v.frozen]
        if not targets:
            return self.step_op()
        t = self.pick(targets)
        op = self.choose(UPDATES)
        src, grad = self.rhs(t.name, t, t.shape, op)
        self.lines.append(f"{t.name} {op} {src}")
        self.mark_updated(t, grad)

    def step_setitem(self, augmented: bool = False) -> None:
        """``c[idx] = rhs`` (rhs maybe from elsewhere in c), or ``c[idx] op= rhs``."""
        targets = [v for v in self.values if not v.frozen and v.ndim > 0]
        if not targets:
            return self.step_op()
        t = self.pick(targets)
        parts, shape = self.index(t.shape, advanced=True)
        idx = self.index_src(parts, t.shape)
        if augmented:
            op = self.choose(UPDATES)
            src, grad = self.rhs(f"{t.name}[{idx}]", t, shape, op)
            self.lines.append(f"{t.name}[{idx}] {op} {src}")
        else:
            if self.draw(st.integers(0, 2)) == 0:
                other = self.index_src(self.index_like(parts, t.shape), t.shape)
                src, grad = self.choose(FROM_SLICE).format(f"{t.name}[{other}]", k=self.number()), t.grad
            else:
                src, grad = self.operand(shape, t, extra_ones=True)
            self.lines.append(f"{t.name}[{idx}] = {src}")
        self.mark_updated(t, grad)

    def step_slice_update(self) -> None:
        self.step_setitem(augmented=True)

    def step_detach(self) -> None:
        x = self.pick()
        self.new(f"{_atom(x.name)}.detach()", x.shape, False, memory=x.memory, layout=x.layout)

    def step_retain(self) -> None:
        xs = [v for v in self.values if v.grad and not v.retained and not v.leaf]
        if not xs:
            return self.step_op()
        x = self.pick(xs)
        x.retained = True
        self.lines.append(f"{x.name}.retain_grad()")

    def step_grad(self) -> None:
        """``mgx.grad(lambda z: body(z).sum())(x)``, sometimes a second derivative."""
        x = self.pick([v for v in self.values if v.grad])
        others = [v for v in self.values if v is not x and _broadcast(x.shape, v.shape) is not None]
        u = self.pick(others).name if others and self.draw(st.booleans()) else self.number()
        body = self.choose(GRAD_BODIES)
        if self.draw(st.integers(0, 3)) == 0:
            inner = _atom(body.format(z="y", u=_atom(u)))
            src = f"mgx.grad(lambda z: (mgx.grad(lambda y: {inner}.sum())(z) * z).sum())({x.name})"
        else:
            src = f"mgx.grad(lambda z: {_atom(body.format(z='z', u=_atom(u)))}.sum())({x.name})"
        self.new(src, x.shape, True, layout=None)

    def step_zeros(self) -> None:
        """A constant that does not require grad (``h = zeros``), to be filled in place."""
        shape = self.pick().shape
        self.new(f"mgx.tensor(np.zeros({shape!r}))", shape, False)

    def step_no_grad(self) -> None:
        """An update that is not recorded (``with mgx.no_grad():``), of any value: a leaf (as an
        optimizer's step), an intermediate, a view, a detached alias. Its history stays."""
        t = self.pick()
        if t.ndim > 0 and self.draw(st.integers(0, 2)) == 0:
            parts, shape = self.index(t.shape, advanced=True)
            src, _ = self.operand(shape, t, extra_ones=True)
            line = f"{t.name}[{self.index_src(parts, t.shape)}] = {src}"
        else:
            op = self.choose(UPDATES)
            src, _ = self.rhs(t.name, t, t.shape, op)
            line = f"{t.name} {op} {src}"
        self.lines += ["with mgx.no_grad():", f"    {line}"]

    def step_grad_def(self) -> None:
        """``mgx.grad(f)(x)`` of a ``def f(z)`` that updates its own intermediate ``h`` in place
        (a lambda cannot), reading z, h and the program's values."""
        x = self.pick([v for v in self.values if v.grad])
        name = f"f{sum(line.startswith('def ') for line in self.lines) + 1}"
        z = _Value("z", x.shape, True, frozen=True)  # a leaf (or a copy) in both: never updated
        h = _Value("h", x.shape, True)
        body = [f"h = {self.choose(DEF_STARTS).format(z='z', k=self.number())}"]
        program, self.values = self.values, [*self.values, z, h]
        for _ in range(self.draw(st.integers(1, 2))):
            if h.ndim > 0 and self.draw(st.integers(0, 2)) == 0:
                parts, shape = self.index(h.shape, advanced=True)
                src, _ = self.operand(shape, h, extra_ones=True)
                body.append(f"h[{self.index_src(parts, h.shape)}] = {src}")
            else:
                op = self.choose(UPDATES)
                src, _ = self.rhs("h", h, h.shape, op)
                body.append(f"h {op} {src}")
        self.values = program
        body.append(f"return {self.choose(DEF_RETURNS)}")
        self.lines += [f"def {name}(z):", *(f"    {line}" for line in body)]
        self.new(f"mgx.grad({name})({x.name})", x.shape, True, layout=None)


@st.composite
def user_programs(draw: Any, max_steps: int = 8, max_leaves: int = 3) -> UserProgram:
    """A program of 1..``max_leaves`` leaves (a, b, c) and 1..``max_steps`` steps; see the module doc."""
    b = _Builder(draw)
    for name in "abc"[: draw(st.integers(1, max_leaves))]:
        b.leaf(name)
    for _ in range(draw(st.integers(1, max_steps))):
        getattr(b, f"step_{draw(st.sampled_from(STEPS))}")()
    return UserProgram("\n".join(b.lines), draw(st.integers(0, 2**16)))
