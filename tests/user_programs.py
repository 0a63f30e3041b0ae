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
    v5, v6 = F.split(F.unsqueeze(v4, 0), [1], axis=-1)
    v6 *= F.softplus(v5 * 2.0)
    w1 = mgx.tensor([[[[0.5, -1.0]]]], requires_grad=True)
    v7 = F.conv2d(F.expand_dims(v1, (0, 1)), w1, padding=(0, 1))
    v8 = mgx.grad(lambda z: (F.logsumexp(z, axis=0) ** 2 * 0.5).sum())(v1)
    v9 = F.cross_entropy(v7[0], np.array([2]), reduction='sum')

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

- statements: assignments (also ``v1, v2 = F.split(...)``, one name a piece), augmented
  assignments (``+= -= *= /= **=``, also to a subscript), subscript assignment,
  ``x.retain_grad()``, ``mgx.manual_seed(n)`` (before each ``F.dropout``), ``for t in
  range(..)``, ``with mgx.no_grad():`` around statements, and ``def f(z): <statements>;
  return <expr>`` (one argument; its statements update its own names in place; it sees the
  program's names, as Python's globals);
- expressions: names, numbers, strings, ``np.inf``, tuples and lists, ``+ - * / ** @``,
  unary minus, indexing, ``F.<name>(...)`` for every name of :data:`VOCABULARY` (every
  differentiable function of ``microgradx.functional``; PyTorch's spelling of each is in
  :func:`_torch_twins`, with NumPy's meaning where the two differ), the Tensor methods of
  :data:`METHODS` (which mean what the function means) and ``transpose reshape detach
  clone``, ``mgx.tensor``, ``np.zeros``, ``np.array`` (constants: class labels,
  indices, masks, running statistics), ``mgx.grad(lambda z: ...)(x)`` and
  ``mgx.grad(f)(x)`` (with respect to the argument only, as in JAX:
  ``grad(lambda z: (z * x).sum())(x)`` is x), and the user-defined ops
  ``sq(x)`` and ``sq_fast(x)`` (x * x as an ``mgx.Function``, reading ``self.inputs`` on
  Tensors, or ``self.input(0)`` with ``backward_on_arrays``; in PyTorch an
  ``autograd.Function`` with ``save_for_backward``);
- indices: ints and slices (no step), and, first, a list of unique ints (``c[[0, 2]]``)
  or a constant mask (``c[np.array([True, False, True])]``).
"""

from __future__ import annotations

import ast
import contextlib
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
        with lib.session():
            return self._run(lib)

    def _run(self, lib: Any) -> Outcome:
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
            elif isinstance(target, ast.Tuple) and all(isinstance(t, ast.Name) for t in target.elts):
                if len(value) != len(target.elts):  # v1, v2 = F.split(x, 2): one name a piece
                    raise UnsupportedSyntax(f"{ast.unparse(node)}: {len(value)} values")
                for t, v in zip(target.elts, value, strict=True):
                    env[t.id] = v  # type: ignore[attr-defined]
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
        elif top and isinstance(node, ast.Expr) and _is_module_call(node.value, "mgx", "manual_seed"):
            self.lib.manual_seed(self.expr(node.value.args[0], env))  # type: ignore[attr-defined]
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
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, bool, str, type(None))):
            return node.value
        if isinstance(node, ast.Tuple):
            return tuple(self.expr(e, env) for e in node.elts)
        if isinstance(node, ast.List):
            return [self.expr(e, env) for e in node.elts]
        if isinstance(node, ast.Attribute) and ast.unparse(node) == "np.inf":
            return float("inf")
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
            if any(k.arg is None for k in node.keywords):
                raise UnsupportedSyntax(ast.unparse(node))
            kwargs = {str(k.arg): self.expr(k.value, env) for k in node.keywords}
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
            if _is_module_call(node, "np", "array"):  # constants: class labels, indices, masks, statistics
                return lib.array(np.array(args[0]))
            if _is_module_call(node, "F") and isinstance(f, ast.Attribute):
                return lib.function(f.attr, *args, **kwargs)
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

    def session(self) -> Any:
        return contextlib.nullcontext()

    def array(self, a: np.ndarray) -> Any:
        return a

    def manual_seed(self, seed: int) -> None:
        self.mgx.manual_seed(seed)

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
    """PyTorch: the same vocabulary, spelled its way (dim=, keepdim=, permute, amax, autograd.grad).

    ``copy_saved``: every tensor an op saves for backward is saved as a copy (a saved-tensors
    hook), so that backward never sees a later update in place and never refuses one: the
    gradient of the graph as it was recorded, each op with the values it read.
    """

    def __init__(self, copy_saved: bool = False) -> None:
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

        self.torch, self.square, self.copy_saved = torch, Square, copy_saved
        self.rng = [np.random.default_rng(0)]  # reseeded by mgx.manual_seed lines
        self.twins = _torch_twins(torch, self.rng)

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

    def function(self, name: str, *args: Any, **kwargs: Any) -> Any:
        if name not in self.twins:
            raise UnsupportedSyntax(f"F.{name}")
        return self.twins[name](*args, **kwargs)

    def method(self, x: Any, name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "transpose":  # x.transpose(1, 0, 2) or x.transpose((1, 0, 2)): NumPy's axes
            return x.permute(args[0] if len(args) == 1 and not isinstance(args[0], int) else args)
        if name == "retain_grad":  # on a view whose base was updated since, it would hook the stale
            _ = x.grad_fn  # history (.grad stays None) unless grad_fn is read first: see `updating`
        if name in ("reshape", "detach", "clone", "retain_grad"):
            return getattr(x, name)(*args)
        if name in METHODS:  # the methods that mean what the function F.name means
            return self.function(name, x, *args, **kwargs)
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

    def session(self) -> Any:
        if not self.copy_saved:
            return contextlib.nullcontext()
        return self.torch.autograd.graph.saved_tensors_hooks(lambda t: t.clone(), lambda t: t)

    def array(self, a: np.ndarray) -> Any:
        """A constant of the program: float64, int64 (labels, indices) or bool (a mask)."""
        dtype = {"f": self.torch.float64, "i": self.torch.int64, "b": self.torch.bool}[a.dtype.kind]
        return self.torch.tensor(a, dtype=dtype)

    def manual_seed(self, seed: int) -> None:
        """``mgx.manual_seed``: dropout's masks come from NumPy's generator, as microgradx's do."""
        self.rng[0] = np.random.default_rng(seed)

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

        The gradient is made its own memory, as microgradx's always is: PyTorch may return an
        expanded tensor (the gradient of a sum), which refuses updates in place, or a view of a
        tensor of the gradient's graph (through the backward of permute or reshape), whose base
        an update in place would then write into, and whose retained gradient misses the uses of
        views taken of it before the update.
        """
        before = [t.grad for t in retained]
        z = x.clone() if x.requires_grad else x.detach().requires_grad_()
        (g,) = self.torch.autograd.grad(fn(z), z, create_graph=True)
        for t, was in zip(retained, before, strict=True):
            t.grad = was
        expanded = any(step == 0 and n > 1 for step, n in zip(g.stride(), g.shape, strict=True))
        if expanded or g._base is not None:
            g = g.clone()  # microgradx's gradient is its own memory; see the docstring
        return g


MGX = _Mgx()


def torch_lib(copy_saved: bool = False) -> _Torch:
    """The PyTorch adapter (imports torch: call it only where torch is installed); see :class:`_Torch`."""
    return _Torch(copy_saved)


def _dims(axis: Any, ndim: int) -> tuple[int, ...]:
    """NumPy's ``axis`` (None, an int or a tuple) as PyTorch's ``dim``: a tuple of non-negative ints."""
    if axis is None:
        return tuple(range(ndim))
    return tuple(a % ndim for a in ((axis,) if isinstance(axis, int) else axis))


def _torch_twins(torch: Any, rng: list[np.random.Generator]) -> dict[str, Callable[..., Any]]:
    """``F.name`` of microgradx written with PyTorch, with NumPy's meaning where the names differ
    (``repeat`` is ``repeat_interleave``, ``split`` ``tensor_split``, ``dot`` and ``outer`` as NumPy's,
    ``axis=None`` over every axis). ``rng`` holds the generator ``mgx.manual_seed`` reseeds."""
    import warnings

    import torch.nn.functional as TF

    class Reads(torch.autograd.Function):
        """Passes its operands on, saving them: backward refuses, as PyTorch's products do, when
        one was updated in place since. PyTorch's einsum, tensordot and batched matmul work on
        reshaped copies of their operands where the layout asks for one, and then do not notice
        such an update (using the copy), whatever the operation; microgradx's read their operands."""

        @staticmethod
        def forward(ctx: Any, *xs: Any) -> Any:
            ctx.save_for_backward(*xs)
            return tuple(x.clone() for x in xs)

        @staticmethod
        def backward(ctx: Any, *gs: Any) -> Any:
            _ = ctx.saved_tensors  # the check
            return gs

    def reads(fn: Callable[..., Any]) -> Callable[..., Any]:
        """``fn`` of tensor operands, each saved by :class:`Reads` (other arguments passed as they are)."""

        def guarded(*args: Any, **kwargs: Any) -> Any:
            tensors = [i for i, a in enumerate(args) if isinstance(a, torch.Tensor)]
            if len(tensors) < 2:
                return fn(*args, **kwargs)
            copies = iter(Reads.apply(*(args[i] for i in tensors)))
            return fn(*(next(copies) if i in tensors else a for i, a in enumerate(args)), **kwargs)

        return guarded

    def reduction(fn: Callable[..., Any]) -> Callable[..., Any]:
        return lambda x, axis=None, keepdims=False, **kw: fn(x, _dims(axis, x.ndim), keepdims, **kw)

    def prod(x: Any, dims: tuple[int, ...], keep: bool) -> Any:
        """torch.prod reduces one dim: the reduced dims moved to the end and flattened into one
        (a chain of one-dim prods would differ at inf: its second prod's backward divides inf by inf)."""
        if x.ndim == 0:
            return x.prod()
        (x,) = Reads.apply(x)  # prod reads its input (PyTorch's too): not the copy reshape may make
        rest = [i for i in range(x.ndim) if i not in dims]
        out = x.permute(*rest, *dims).reshape(*[x.shape[i] for i in rest], -1).prod(-1)
        return out.reshape([1 if i in dims else n for i, n in enumerate(x.shape)]) if keep else out

    def cumulative(fn: Callable[..., Any]) -> Callable[..., Any]:
        return lambda x, axis=None: fn(x.reshape(-1), 0) if axis is None else fn(x, axis)

    def sum_to(x: Any, shape: tuple[int, ...]) -> Any:
        lead = x.ndim - len(shape)
        x = x.sum(dim=tuple(range(lead))) if lead else x
        axes = tuple(i for i, n in enumerate(shape) if n == 1 and x.shape[i] != 1)
        return x.sum(dim=axes, keepdim=True) if axes else x

    def expand_dims(x: Any, axis: Any) -> Any:
        count = 1 if isinstance(axis, int) else len(axis)
        for a in sorted(_dims(axis, x.ndim + count)):
            x = x.unsqueeze(a)
        return x

    def pad(x: Any, pad_width: Any, mode: str = "constant", constant_values: float = 0.0) -> Any:
        """numpy.pad with torch.cat, one axis after the other (widths up to the axis's length)."""
        widths = np.broadcast_to(np.asarray(pad_width), (x.ndim, 2))
        for k, (b, a) in enumerate(widths.tolist()):
            n = x.shape[k]
            if mode == "constant":
                shape = list(x.shape)
                before = torch.full([*shape[:k], b, *shape[k + 1 :]], constant_values, dtype=x.dtype)
                after = torch.full([*shape[:k], a, *shape[k + 1 :]], constant_values, dtype=x.dtype)
            elif mode == "edge":
                before = x.narrow(k, 0, 1).repeat_interleave(b, dim=k)
                after = x.narrow(k, n - 1, 1).repeat_interleave(a, dim=k)
            elif mode == "reflect":
                before, after = x.narrow(k, 1, b).flip(k), x.narrow(k, n - 1 - a, a).flip(k)
            elif mode == "symmetric":
                before, after = x.narrow(k, 0, b).flip(k), x.narrow(k, n - a, a).flip(k)
            else:  # wrap
                before, after = x.narrow(k, n - b, b), x.narrow(k, 0, a)
            x = torch.cat([before, x, after], dim=k)
        return x

    def dot(a: Any, b: Any) -> Any:
        """numpy.dot: torch.dot of vectors, mm of matrices, matmul of N-D and 1-D; else tensordot."""
        if a.ndim == 0 or b.ndim == 0:
            return a * b
        if a.ndim == b.ndim == 1:
            return torch.dot(a, b)
        if b.ndim == 1 or a.ndim == b.ndim == 2:
            return torch.matmul(a, b)
        return torch.tensordot(a, b, dims=([a.ndim - 1], [b.ndim - 2]))

    class BinaryCrossEntropy(torch.autograd.Function):
        """PyTorch's binary cross-entropy and its first derivatives (each log at least -100, and
        p (1 - p) at least 1e-12 in dL/dp), the backward written with differentiable operations, so
        that a second derivative is the derivative of that formula, as in microgradx. PyTorch's own
        double backward uses p + 1e-12 and 1 - p + 1e-12 instead: a relative error of about
        1e-12 / p, and where the clamp holds (p < 1e-12) a second derivative of another formula."""

        @staticmethod
        def forward(ctx: Any, p: Any, t: Any) -> Any:
            ctx.save_for_backward(p, t)
            return TF.binary_cross_entropy(p, t)

        @staticmethod
        def backward(ctx: Any, g: Any) -> Any:
            p, t = ctx.saved_tensors
            g = g / p.numel()
            gp = (p - t) / torch.clamp(p * (1 - p), min=1e-12) * g
            gt = (torch.clamp(torch.log1p(-p), min=-100) - torch.clamp(torch.log(p), min=-100)) * g
            return gp, gt

    def dropout(x: Any, p: float = 0.5, training: bool = True) -> Any:
        """microgradx's mask (NumPy's generator, seeded by mgx.manual_seed), applied as PyTorch
        applies one; p = 0 and evaluation return the input itself, as torch's dropout does."""
        if not training or p == 0:
            return TF.dropout(x, p, training)
        keep = rng[0].random(tuple(x.shape)) >= p
        scale = np.zeros(keep.shape) if p == 1 else keep / (1 - p)
        return x * torch.from_numpy(np.asarray(scale))

    def cross_entropy_error(y: Any, t: Any) -> Any:
        """The book's: -sum(t * log(y + 1e-7)) / N, t one-hot rows or class labels; 1-D y: one sample."""
        if y.ndim == 1:
            y, t = y.reshape(1, -1), t.reshape(1) if t.ndim == 0 else t.reshape(1, -1)
        n = y.shape[0]
        if t.dtype == torch.int64:
            return -torch.log(y[torch.arange(n), t] + 1e-7).sum() / n
        return -(t * torch.log(y + 1e-7)).sum() / n

    def kl_div(x: Any, t: Any, reduction: str = "mean", log_target: bool = False) -> Any:
        with warnings.catch_warnings():  # "mean" is not the KL divergence: microgradx does not warn
            warnings.simplefilter("ignore")
            return TF.kl_div(x, t, reduction=reduction, log_target=log_target)

    def im2col(x: Any, kernel_size: Any, stride: Any = 1, padding: Any = 0, dilation: Any = 1) -> Any:
        """The book's layout: the windows as rows (N * oh * ow, C * kh * kw); PyTorch's unfold stacks
        them as columns, one matrix per image."""
        cols = TF.unfold(x, kernel_size, dilation=dilation, padding=padding, stride=stride)
        return cols.transpose(1, 2).reshape(-1, cols.shape[1])

    def col2im(
        col: Any, shape: Any, kernel_size: Any, stride: Any = 1, padding: Any = 0, dilation: Any = 1
    ) -> Any:
        cols = col.reshape(shape[0], -1, col.shape[1]).transpose(1, 2)
        return TF.fold(cols, tuple(shape[2:]), kernel_size, dilation=dilation, padding=padding, stride=stride)

    def take_along_axis(x: Any, index: Any, axis: int | None = -1) -> Any:
        if axis is None:  # NumPy counts negative indices from the end; take_along_dim only with a dim
            index = torch.where(index < 0, index + x.numel(), index)
        return torch.take_along_dim(x, index, axis)

    def linear(x: Any, w: Any, b: Any = None) -> Any:  # the book's W (in, out): x @ W + b
        return x @ w if b is None else x @ w + b

    def max_pool2d(x: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1) -> Any:
        return TF.max_pool2d(x, kernel_size, stride, padding, dilation)

    def batch_norm(x: Any, mean: Any = None, var: Any = None, w: Any = None, b: Any = None, **kw: Any) -> Any:
        return TF.batch_norm(x, mean, var, w, b, **kw)

    def layer_norm(x: Any, shape: Any, w: Any = None, b: Any = None, eps: float = 1e-5) -> Any:
        return TF.layer_norm(x, (shape,) if isinstance(shape, int) else tuple(shape), w, b, eps)

    def squeeze(x: Any, axis: Any = None) -> Any:
        return x.squeeze() if axis is None else x.squeeze(_dims(axis, x.ndim))

    def loss(fn: Callable[..., Any]) -> Callable[..., Any]:  # reduction= and delta= / beta= as keywords
        return lambda y, t, reduction="mean", **kw: fn(y, t, reduction=reduction, **kw)

    def outer(a: Any, b: Any) -> Any:
        return torch.outer(a.reshape(-1), b.reshape(-1))

    elementwise = ["abs", "exp", "log", "sqrt", "tanh", "sigmoid", "relu", "sin", "cos", "tan", "arcsin"]
    elementwise += ["arccos", "arctan", "sinh", "cosh", "log1p", "expm1", "log2", "log10", "exp2", "square"]
    elementwise += ["reciprocal", "sign", "floor", "ceil", "maximum", "minimum", "hypot"]
    twins: dict[str, Callable[..., Any]] = {name: getattr(torch, name) for name in elementwise}
    twins |= {
        "arctan2": torch.atan2,
        "astype": lambda x, dtype: x.to(getattr(torch, dtype)),
        "clip": lambda x, lo=None, hi=None: torch.clamp(x, lo, hi),
        "clone": lambda x: x.clone(),
        "elu": lambda x, alpha=1.0: TF.elu(x, alpha),
        "gelu": lambda x, approximate="none": TF.gelu(x, approximate=approximate),
        "leaky_relu": lambda x, slope=0.01: TF.leaky_relu(x, slope),
        "logsigmoid": TF.logsigmoid,
        "power": torch.pow,
        "round": lambda x, decimals=0: torch.round(x, decimals=decimals),
        "silu": TF.silu,
        "softplus": lambda x, beta=1.0, threshold=20.0: TF.softplus(x, beta, threshold),
        "log_softmax": lambda x, axis=-1: torch.log_softmax(x, axis),
        "softmax": lambda x, axis=-1: torch.softmax(x, axis),
        "dropout": dropout,
        # reductions
        "sum": reduction(lambda x, d, k: x.sum(dim=d, keepdim=k)),
        "mean": reduction(lambda x, d, k: x.mean(dim=d, keepdim=k)),
        "max": reduction(lambda x, d, k: torch.amax(x, dim=d, keepdim=k)),  # ties share the gradient
        "min": reduction(lambda x, d, k: torch.amin(x, dim=d, keepdim=k)),
        "prod": reduction(prod),
        "logsumexp": reduction(lambda x, d, k: torch.logsumexp(x, dim=d, keepdim=k)),
        "var": reduction(lambda x, d, k, ddof=0: torch.var(x, dim=d, correction=ddof, keepdim=k)),
        "std": reduction(lambda x, d, k, ddof=0: torch.std(x, dim=d, correction=ddof, keepdim=k)),
        "norm": lambda x, ord=None, axis=None, keepdims=False: torch.linalg.norm(x, ord, axis, keepdims),  # noqa: A006
        "cumsum": cumulative(torch.cumsum),
        "cumprod": cumulative(torch.cumprod),
        # shape and indexing
        "broadcast_to": lambda x, shape: x.broadcast_to(shape),
        "concat": lambda seq, axis=0: torch.cat(seq, dim=axis),
        "concatenate": lambda seq, axis=0: torch.cat(
            [t.reshape(-1) for t in seq] if axis is None else seq, dim=axis or 0
        ),
        "expand_dims": expand_dims,
        "flip": lambda x, axis=None: x.flip(_dims(axis, x.ndim)),
        "gather": lambda x, axis, index: torch.gather(x, axis, index),
        "pad": pad,
        "permute": lambda x, *dims: x.permute(*dims),
        "repeat": lambda x, r, axis=None: torch.repeat_interleave(
            x, torch.tensor(r) if isinstance(r, list) else r, dim=axis
        ),
        "reshape": lambda x, shape: x.reshape(shape),
        "roll": lambda x, shift, axis=None: torch.roll(x, shift, axis),
        "scatter_add": lambda x, axis, index, src: torch.scatter_add(x, axis, index, src),
        # NumPy's split; PyTorch's tensor_split: its pieces are views that may be updated in place
        "split": lambda x, sections, axis=0: list(torch.tensor_split(x, sections, dim=axis)),
        "squeeze": squeeze,
        "stack": lambda seq, axis=0: torch.stack(seq, dim=axis),
        "sum_to": sum_to,
        "swapaxes": torch.swapaxes,
        "take_along_axis": take_along_axis,
        "tile": lambda x, reps: x.tile((reps,) if isinstance(reps, int) else reps),
        "transpose": lambda x, axes=None: x.permute(
            tuple(reversed(range(x.ndim))) if axes is None else tuple(axes)
        ),
        "unsqueeze": lambda x, axis: x.unsqueeze(axis),
        # microgradx's view copies where a view is impossible (its docstring): PyTorch's reshape
        "view": lambda x, *shape: x.reshape(
            shape[0] if len(shape) == 1 and not isinstance(shape[0], int) else shape
        ),
        "where": torch.where,
        # linear algebra
        "diag": lambda x, k=0: torch.diag(x, k),
        "dot": reads(dot),
        "einsum": reads(torch.einsum),  # one operand: PyTorch's own (a permutation is a view)
        "linear": reads(linear),
        "matmul": reads(torch.matmul),
        "outer": outer,
        "tensordot": reads(lambda a, b, axes=2: torch.tensordot(a, b, dims=axes)),
        "trace": lambda x, offset=0, axis1=0, axis2=1: torch.diagonal(x, offset, axis1, axis2).sum(-1),
        "tril": lambda x, k=0: torch.tril(x, k),
        "triu": lambda x, k=0: torch.triu(x, k),
        # losses
        "binary_cross_entropy": BinaryCrossEntropy.apply,
        "cross_entropy": loss(TF.cross_entropy),
        "cross_entropy_error": cross_entropy_error,
        "huber_loss": loss(TF.huber_loss),
        "kl_div": kl_div,
        "l1_loss": loss(TF.l1_loss),
        "mean_squared_error": lambda y, t: 0.5 * ((y - t) ** 2).sum(),
        "mse_loss": loss(TF.mse_loss),
        "nll_loss": loss(TF.nll_loss),
        "smooth_l1_loss": loss(TF.smooth_l1_loss),
        # normalisation, convolution
        "batch_norm": batch_norm,
        "embedding": lambda index, weight: TF.embedding(index, weight),
        "layer_norm": layer_norm,
        "avg_pool2d": lambda x, kernel_size, stride=None, padding=0: TF.avg_pool2d(
            x, kernel_size, stride, padding
        ),
        "col2im": col2im,
        "conv2d": lambda x, w, b=None, stride=1, padding=0, dilation=1: TF.conv2d(
            x, w, b, stride, padding, dilation
        ),
        "im2col": im2col,
        "max_pool2d": max_pool2d,
    }
    return twins


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
    #: never written in place, not even under no_grad or through a detached alias (nor its views):
    #: a broadcast (``F.broadcast_to``), whose elements share memory (microgradx refuses, PyTorch
    #: refuses unless the elements written happen not to overlap), and values of OPEN_ISSUES
    pinned: bool = False

    def __post_init__(self) -> None:
        self.memory = self.memory or self.name
        self.pinned = self.pinned or (self.view_of is not None and self.view_of.pinned)
        self.frozen = self.frozen or self.pinned

    @property
    def ndim(self) -> int:
        return len(self.shape)


@dataclass
class _Expr:
    """A new value as the vocabulary's builders write it: its source and what is known of it."""

    src: str
    shape: tuple[int, ...]
    grad: bool
    layout: str | None = None  # see _Value
    view: bool = False  # shares the operand's memory (an update writes into the operand)
    pinned: bool = False  # see _Value
    frozen: bool = False  # see _Value


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
STEPS += ["zeros", "no_grad", "grad_def", "fn", "fn", "fn"]
UPDATES = ["+=", "-=", "*=", "/=", "**="]
FROM_TARGET += ["F.sin({t})", "F.softplus({t})", "F.square({t})", "F.logsumexp({t})", "F.gelu({t})"]
FROM_TARGET_AXIS += [
    "F.cumsum({t}, axis={a})",
    "F.var({t}, axis={a}, keepdims=True)",
    "F.flip({t}, axis={a})",
]
OPERAND += ["F.gelu({})", "F.cos({})"]

# ---- the op vocabulary (issue 12): every differentiable function of microgradx.functional ----
#: Elementwise functions and activations: (argument, further arguments) forms, ``{x}`` the
#: operand; the argument keeps the input inside the function's domain.
ELEMENTWISE: dict[str, list[tuple[str, str]]] = {
    "abs": [("{x}", "")],
    "arccos": [("F.tanh({x}) * 0.9", "")],  # inside (-1, 1), away from the poles of the derivative
    "arcsin": [("F.tanh({x}) * 0.9", "")],
    "arctan": [("{x}", "")],
    "astype": [("F.astype({x}, 'float32')", "'float64'")],  # rounded to float32 and back
    "ceil": [("{x}", "")],
    "clip": [("{x}", "-1.0, 0.5"), ("{x}", "0.0"), ("{x}", "None, 1.0")],
    "clone": [("{x}", "")],
    "cos": [("{x}", "")],
    "cosh": [("{x}", "")],
    "elu": [("{x}", ""), ("{x}", "0.7")],
    "exp": [("{x}", ""), ("F.tanh({x})", "")],
    "exp2": [("{x}", "")],
    "expm1": [("{x}", "")],
    "floor": [("{x}", "")],
    "gelu": [("{x}", ""), ("{x}", "approximate='tanh'")],
    "leaky_relu": [("{x}", ""), ("{x}", "0.2")],
    "log": [("F.sigmoid({x})", ""), ("{x} * {x} + 1.0", "")],  # positive
    "log10": [("{x} * {x} + 1.0", "")],
    "log1p": [("F.sigmoid({x})", ""), ("{x} * {x}", "")],  # above -1
    "log2": [("F.sigmoid({x}) + 0.5", "")],
    "logsigmoid": [("{x}", "")],
    "reciprocal": [("F.sigmoid({x}) + 0.5", ""), ("{x} * {x} + 1.0", "")],  # safely away from 0
    "relu": [("{x}", "")],
    "round": [("{x}", ""), ("{x}", "1")],
    "sigmoid": [("{x}", "")],
    "sign": [("{x}", "")],
    "silu": [("{x}", "")],
    "sin": [("{x}", "")],
    "sinh": [("{x}", "")],
    "softplus": [("{x}", ""), ("{x}", "2.0, 5.0")],  # beta, threshold: linear above x = 2.5
    "sqrt": [("F.sigmoid({x}) + 0.5", ""), ("{x} * {x} + 0.25", "")],
    "square": [("{x}", "")],
    "tan": [("F.tanh({x})", "")],  # inside (-1, 1), away from the poles at +-pi/2
    "tanh": [("{x}", "")],
}
#: Functions of two values (``{y}`` broadcasts with ``{x}``; ``{m}`` a constant mask of their shape),
#: the second kept away from the origin where the function is singular there.
BINARY: dict[str, list[str]] = {
    "arctan2": [
        "F.arctan2({x}, F.sigmoid({y}) + 0.5)",
        "F.arctan2(F.sigmoid({y}) + 0.5, {x})",
        "{x}.arctan2({y} * {y} + 1.0)",
    ],
    "hypot": ["F.hypot({x}, F.sigmoid({y}) + 0.5)", "({y} * {y} + 1.0).hypot({x})"],
    "maximum": ["F.maximum({x}, {y})", "{x}.maximum({y})"],
    "minimum": ["F.minimum({x}, {y})", "{x}.minimum({y})"],
    # the exponent kept away from 0, where the second derivative differs on purpose (Pow's docstring)
    "power": [
        "F.power({x}, 3)",
        "F.power(F.sigmoid({x}) + 0.5, 1.5)",
        "F.power(F.sigmoid({x}) + 0.5, F.sigmoid({y}))",
    ],
    "where": ["F.where({m}, {x}, {y})", "F.where({m}, {x}, 0.5)"],
}
REDUCTIONS = ["sum", "mean", "max", "min", "prod", "logsumexp", "var", "std"]
#: The functions that return a view of their input in microgradx (and in PyTorch): an in-place
#: update of the result writes into the input. ``split`` returns several.
VIEWS = [
    "squeeze",
    "unsqueeze",
    "expand_dims",
    "view",
    "reshape",
    "permute",
    "swapaxes",
    "transpose",
    "split",
]
LOSSES = ["binary_cross_entropy", "cross_entropy", "cross_entropy_error", "mean_squared_error", "mse_loss"]
LOSSES += ["l1_loss", "huber_loss", "smooth_l1_loss", "nll_loss", "kl_div"]
#: Every function of the vocabulary, and the builder (``_Builder.ex_<family>``) that writes it.
FAMILY: dict[str, str] = {
    **dict.fromkeys(ELEMENTWISE, "elementwise"),
    **dict.fromkeys(BINARY, "binary"),
    **dict.fromkeys(REDUCTIONS, "reduce"),
    **dict.fromkeys(VIEWS, "view"),
    **dict.fromkeys(LOSSES, "loss"),
    **dict.fromkeys(["cumsum", "cumprod"], "cumulative"),
    **dict.fromkeys(["softmax", "log_softmax"], "softmax"),
    **dict.fromkeys(["concatenate", "concat", "stack"], "join"),
    **dict.fromkeys(["take_along_axis", "gather", "scatter_add"], "indices"),
    **dict.fromkeys(["tril", "triu"], "triangle"),
    **dict.fromkeys(["max_pool2d", "avg_pool2d"], "pool"),
}
for _name in ["norm", "dropout", "broadcast_to", "sum_to", "pad", "repeat", "tile", "flip", "roll"]:
    FAMILY[_name] = _name
for _name in ["matmul", "linear", "einsum", "tensordot", "dot", "outer", "trace", "diag"]:
    FAMILY[_name] = _name
for _name in ["batch_norm", "layer_norm", "embedding", "conv2d", "im2col", "col2im"]:
    FAMILY[_name] = _name
VOCABULARY = sorted(FAMILY)
#: Names that are also Tensor methods with the same meaning: written ``x.name(...)`` a quarter of the time.
METHODS = set(ELEMENTWISE) - {"elu", "gelu", "leaky_relu", "logsigmoid", "silu", "softplus"}
METHODS |= {"maximum", "minimum", "arctan2", "hypot", "softmax", "log_softmax", "cumsum", "cumprod", "norm"}
METHODS |= set(REDUCTIONS) | {"trace", "diag", "tril", "triu", "dot", "outer", "matmul", "broadcast_to"}
METHODS |= {"squeeze", "unsqueeze", "permute", "view", "swapaxes", "split", "flip", "roll", "repeat", "tile"}
METHODS |= {"gather", "scatter_add"}
#: Functions whose derivative is 0 everywhere: not in the body of a nested grad, whose gradient
#: would be a constant that does not require grad in PyTorch (see DEF_RETURNS), while the
#: generator counts on a gradient that does
FLAT = {"sign", "floor", "ceil", "round"}
#: Open disagreements with PyTorch, each followed by a strict xfail in tests/test_user_programs.py
#: (OPEN): the generator keeps clear of each until it is fixed (or documented, and then marked as
#: expected); remove the entry together with its xfails (a test checks that they match).
OPEN_ISSUES = {
    "normalize reads its output": "no update of the output of layer_norm, or of batch_norm in training, "
    "without weight and bias (also not under no_grad or through a detached alias)",
    "einsum returns a copy": "no einsum that is a permutation, a diagonal or the identity (views in PyTorch)",
    "second derivative at a kink": "elu, huber_loss, smooth_l1_loss and softplus not in nested grads",
    "grad runs through its argument's history": "no update of the input of cross_entropy, conv2d, "
    "layer_norm or batch_norm in training after it (their backward reads it under create_graph only)",
    "unbatched result is a view": "no update of max_pool2d / avg_pool2d of a 3-D input, nor of "
    "cross_entropy / nll_loss of one sample with reduction='none' (also not under no_grad)",
}


def _kinked() -> set[str]:
    """Functions whose second derivative at a kink differs (see OPEN_ISSUES), while that is open."""
    if "second derivative at a kink" in OPEN_ISSUES:
        return {"elu", "huber_loss", "smooth_l1_loss", "softplus"}
    return set()


def _root(v: _Value) -> _Value:
    """The value whose memory ``v`` is a view of (itself if it is no view)."""
    while v.view_of is not None:
        v = v.view_of
    return v


#: Not drawn, with the reason (the completeness test checks that every other public name is drawn).
NOT_DRAWN = {
    "argmax": "an integer result: not differentiable",
    "argmin": "an integer result: not differentiable",
    "any": "a boolean result: not differentiable",
    "all": "a boolean result: not differentiable",
}
# ---- end of the op vocabulary ----


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
            sides = list(x.shape)
            a = axis % x.ndim
            sides[a : a + 1] = [1] if keep else []
            src = f"{_atom(x.name)}.{fn}(axis={axis}, keepdims={keep})"
            self.new(src, tuple(sides), x.grad, layout=_fresh(x))
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
        else:  # a batch of matrices (3-D, or 4-D as images)
            axes = ", ".join(map(str, [*range(x.ndim - 2), -1, -2]))
            src, shape, grad = f"{a} @ {a}.transpose({axes})", x.shape[:-1] + x.shape[-2:-1], x.grad
        self.new(src, shape, grad, layout=None)

    def step_view(self) -> None:
        """A view: basic indexing, reshape, or a transpose written with negative axes."""
        x = self.pick([v for v in self.values if v.ndim > 0])
        kind = self.choose(["getitem", "reshape", "transpose", "vocabulary"])
        if kind == "vocabulary":  # squeeze, unsqueeze, expand_dims, view, permute, swapaxes, split ...
            return self.step_fn(self.choose(VIEWS))
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
        self.new(
            f"{_atom(x.name)}.detach()",
            x.shape,
            False,
            memory=x.memory,
            layout=x.layout,
            pinned=x.pinned,
        )

    def step_retain(self) -> None:
        xs = [v for v in self.values if v.grad and not v.retained and not v.leaf]
        if not xs:
            return self.step_op()
        x = self.pick(xs)
        x.retained = True
        self.lines.append(f"{x.name}.retain_grad()")

    def step_grad(self, name: str | None = None) -> None:
        """``mgx.grad(lambda z: body(z).sum())(x)``, sometimes a second derivative; a third of the
        time (or with ``name``) the body is a function of the vocabulary of z, squared or in tanh
        (so that its second derivative is not 0)."""
        x = self.pick([v for v in self.values if v.grad])
        if name is not None or self.draw(st.integers(0, 2)) == 0:
            z = _Value("z", x.shape, True, frozen=True, layout=None)  # a copy of x, inside the lambda
            e = self.build(name or self.choose([n for n in VOCABULARY if n not in FLAT | _kinked()]), z)
            body = self.choose(["({} ** 2 * 0.5).sum()", "F.tanh({}).sum()"]).format(_atom(e.src))
            self.new(f"mgx.grad(lambda z: {body})({x.name})", x.shape, True, layout=None)
            return
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
        targets = [v for v in self.values if not v.pinned]
        if not targets:
            return self.step_op()
        t = self.pick(targets)
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

    # the op vocabulary -----------------------------------------------------
    def step_fn(self, name: str | None = None) -> None:
        """One function of the vocabulary (``FAMILY``) of one of the values: a new value, a view of
        it where microgradx makes one, or (``split``) one name per piece."""
        name = name or self.choose(VOCABULARY)
        x = self.pick()
        if name == "split" and self.draw(st.booleans()):
            return self.step_split(x)
        e = self.build(name, x)
        if e.view:
            frozen = (
                x.frozen
                or e.frozen
                or (_root(x).ndim == 0 and "0-d base written through a view" in OPEN_ISSUES)
            )
            flags = dict(memory=x.memory, view_of=x, frozen=frozen, pinned=e.pinned)
            self.new(e.src, e.shape, e.grad, layout=e.layout, **flags)
        else:
            self.new(e.src, e.shape, e.grad, layout=e.layout, frozen=e.frozen, pinned=e.pinned)

    def step_split(self, x: _Value) -> None:
        """``v2, v3 = F.split(x, 2, axis=1)``: each piece a view of x."""
        src, pieces = self.split_call(x)
        first = sum(not v.leaf for v in self.values) + 1
        names = [f"v{first + i}" for i in range(len(pieces))]
        self.lines.append(f"{', '.join(names)}{',' if len(names) == 1 else ''} = {src}")
        frozen = x.frozen or (_root(x).ndim == 0 and "0-d base written through a view" in OPEN_ISSUES)
        for name, shape in zip(names, pieces, strict=True):
            layout = x.layout and "same"
            self.values.append(_Value(name, shape, x.grad, frozen, x.memory, view_of=x, layout=layout))

    def build(self, name: str, x: _Value) -> _Expr:
        """``name`` of ``x`` (and maybe of other values, or of new weights) as an expression."""
        return getattr(self, f"ex_{FAMILY[name]}")(name, x)  # type: ignore[no-any-return]

    def call(self, name: str, operand: str, args: str = "") -> str:
        """``F.name(operand, args)``, or ``operand.name(args)`` (a quarter of the time) for METHODS."""
        if name in METHODS and self.draw(st.integers(0, 3)) == 0:
            return f"{_atom(operand)}.{name}({args})"
        return f"F.{name}({operand}{', ' if args else ''}{args})"

    def partner(self, fits: Callable[[_Value], bool]) -> _Value | None:
        """A value that fits, most of the time when there is one; else None (the caller makes one)."""
        fitting = [v for v in self.values if fits(v)]
        return self.pick(fitting) if fitting and self.draw(st.integers(0, 3)) else None

    def param(self, shape: tuple[int, ...]) -> _Value:
        """A new weight of ``shape``, as users make one: ``w1 = mgx.tensor([...], requires_grad=True)``."""
        name = f"w{sum(v.leaf and v.name.startswith('w') for v in self.values) + 1}"
        size = int(np.prod(shape))
        data = self.draw(st.lists(st.integers(-20, 20), min_size=size, max_size=size))
        arr = (np.array(data, dtype=np.float64) / 10).reshape(shape)
        self.lines.append(f"{name} = mgx.tensor({arr.tolist()!r}, requires_grad=True)")
        v = _Value(name, shape, grad=True, frozen=True, leaf=True)
        self.values.append(v)
        return v

    def pin_input(self, x: _Value) -> None:
        """x (and what shares its memory) is never written again: the input of an op whose backward
        reads it under create_graph only (see OPEN_ISSUES), while that is open."""
        if "grad runs through its argument's history" in OPEN_ISSUES:
            for v in self.values:
                if v.memory == x.memory:
                    v.pinned = v.frozen = True

    def weight(self, shape: tuple[int, ...]) -> _Value:
        """A value of exactly ``shape`` (an intermediate, maybe updated in place since), or a new weight."""
        return self.partner(lambda v: v.shape == shape) or self.param(shape)

    def weights(self, shape: tuple[int, ...], names: str = "wb") -> tuple[list[str], bool]:
        """An optional weight and bias of ``shape`` as trailing arguments (``None`` where only the bias
        is given), and whether one requires grad."""
        picked = [self.weight(shape) if self.draw(st.booleans()) else None for _ in names]
        while picked and picked[-1] is None:
            picked.pop()
        return ["None" if v is None else v.name for v in picked], any(
            v is not None and v.grad for v in picked
        )

    @staticmethod
    def at_least(src: str, shape: tuple[int, ...], ndim: int) -> tuple[str, tuple[int, ...]]:
        """``src`` with leading axes of size 1 (``F.unsqueeze``, ``F.expand_dims``: views in both
        libraries, for any layout) up to ``ndim`` dimensions."""
        k = ndim - len(shape)
        if k <= 0:
            return src, shape
        if k == 1:
            return f"F.unsqueeze({src}, 0)", (1, *shape)
        return f"F.expand_dims({src}, {tuple(range(k))!r})", (1,) * k + shape

    @staticmethod
    def at_most(src: str, shape: tuple[int, ...], ndim: int) -> tuple[str, tuple[int, ...]]:
        """``src`` indexed by 0 on its leading axes (a view) down to ``ndim`` dimensions."""
        while len(shape) > ndim:
            src, shape = f"{_atom(src)}[0]", shape[1:]
        return src, shape

    def exactly(self, x: _Value, ndims: tuple[int, ...]) -> tuple[str, tuple[int, ...]]:
        """x with one of the numbers of dimensions ``ndims`` (its own when it is one of them)."""
        if x.ndim in ndims:
            return x.name, x.shape
        src, shape = self.at_least(x.name, x.shape, min(ndims))
        return self.at_most(src, shape, max(ndims))

    def reduce_axis(self, ndim: int) -> int | tuple[int, ...] | None:
        """A reduction's axis: None, an int or a tuple of axes (maybe negative, in any order)."""
        kind = self.draw(st.integers(0, 2)) if ndim else 0
        if kind == 0:
            return None
        if kind == 1:
            return self.axis(ndim)
        picked = self.draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
        return tuple(a - ndim if self.draw(st.booleans()) else a for a in picked)

    @staticmethod
    def reduced(shape: tuple[int, ...], axis: Any, keep: bool) -> tuple[int, ...]:
        dims = _dims(axis, len(shape))
        return tuple(1 if k in dims else n for k, n in enumerate(shape) if keep or k not in dims)

    def labels(self, shape: tuple[int, ...], n: int) -> str:
        """Constant class labels (or indices) in [0, n) of ``shape``: ``np.array([[0, 2]])``."""
        size = int(np.prod(shape))
        picked = self.draw(st.lists(st.integers(0, n - 1), min_size=size, max_size=size))
        return f"np.array({np.array(picked, dtype=np.int64).reshape(shape).tolist()!r})"

    # elementwise functions and activations
    def ex_elementwise(self, name: str, x: _Value) -> _Expr:
        arg, more = self.draw(st.sampled_from(ELEMENTWISE[name]))
        return _Expr(self.call(name, arg.format(x=_atom(x.name)), more), x.shape, x.grad, _fresh(x))

    def ex_binary(self, name: str, x: _Value) -> _Expr:
        y = self.pick([v for v in self.values if _broadcast(x.shape, v.shape) is not None] or [x])
        form = self.choose(BINARY[name])
        shape = _broadcast(x.shape, y.shape) if "{y}" in form else x.shape
        assert shape is not None
        mask = ""
        if "{m}" in form:
            size = int(np.prod(shape))
            bits = self.draw(st.lists(st.booleans(), min_size=size, max_size=size))
            mask = f"np.array({np.array(bits, dtype=bool).reshape(shape).tolist()!r})"
        src = form.format(x=_atom(x.name), y=_atom(y.name), m=mask)
        if "{y}" in form:
            return _Expr(src, shape, x.grad or y.grad, _fresh(x, y))
        return _Expr(src, shape, x.grad, _fresh(x))

    def ex_softmax(self, name: str, x: _Value) -> _Expr:
        src, shape = self.at_least(x.name, x.shape, 1)
        return _Expr(self.call(name, src, f"axis={self.axis(len(shape))}"), shape, x.grad, _fresh(x))

    def ex_dropout(self, name: str, x: _Value) -> _Expr:
        """``F.dropout`` after ``mgx.manual_seed``, so that both libraries draw the same mask; with
        p = 0 or ``training=False`` it returns its input itself, in both libraries."""
        p = self.draw(st.sampled_from([0.5, 0.25, 0.9, 0.0, 1.0]))
        training = self.draw(st.integers(0, 4)) > 0
        self.lines.append(f"mgx.manual_seed({self.draw(st.integers(0, 2**16))})")
        src = f"F.dropout({x.name}, {p!r}{'' if training else ', training=False'})"
        same = p == 0 or not training
        return _Expr(src, x.shape, x.grad, x.layout if same else _fresh(x), view=same)

    # reductions
    def ex_reduce(self, name: str, x: _Value) -> _Expr:
        src, shape, axis = x.name, x.shape, self.reduce_axis(x.ndim)
        n = int(np.prod([shape[d] for d in _dims(axis, len(shape))]))
        args = [] if axis is None else [f"axis={axis!r}"]
        if name == "std" and n == 1:  # a standard deviation of one value: 0, whose gradient is NaN
            src, shape, axis, n = f"F.stack([{x.name}, {_atom(x.name)} + 1.0])", (2, *shape), 0, 2
            args = ["axis=0"]
        if name in ("var", "std") and (n > 1 or self.draw(st.booleans())):
            args.append(f"ddof={self.draw(st.sampled_from([0, 1])) if n > 1 else 0}")
        keep = axis is not None and self.draw(st.booleans())
        if keep:
            args.append("keepdims=True")
        out = self.reduced(shape, axis, keep)
        return _Expr(self.call(name, src, ", ".join(args)), out, x.grad, "C" if not out else _fresh(x))

    def ex_norm(self, name: str, x: _Value) -> _Expr:
        """Vector norms (ord None, 1, 2, inf, -inf) over an axis or all; matrix norms (None, 'fro',
        +-1, +-inf) over a pair of axes, or all of a matrix."""
        src, shape = self.at_least(x.name, x.shape, 1)
        ndim, axis_src = len(shape), ""
        if ndim >= 2 and self.draw(st.booleans()):
            order = self.choose(["None", "'fro'", "1", "-1", "np.inf", "-np.inf"])
            if ndim == 2 and self.draw(st.booleans()):
                axis: Any = None
            else:
                a, b = self.draw(st.permutations(range(ndim)))[:2]
                axis = (a - ndim if self.draw(st.booleans()) else a, b)
        else:
            order = self.choose(["None", "1", "2", "np.inf", "-np.inf"])
            axis = None if (order == "None" or ndim == 1) and self.draw(st.booleans()) else self.axis(ndim)
        keep = self.draw(st.booleans())
        if axis is not None:
            axis_src = f"axis={axis!r}"
        args = [a for a in (order if order != "None" else "", axis_src) if a]
        if keep:
            args.append("keepdims=True")
        out = self.reduced(shape, axis, keep)
        return _Expr(self.call(name, src, ", ".join(args)), out, x.grad, "C" if not out else None)

    def ex_cumulative(self, name: str, x: _Value) -> _Expr:
        if x.ndim == 0 or self.draw(st.integers(0, 2)) == 0:  # of the flattened tensor
            return _Expr(self.call(name, x.name), (int(np.prod(x.shape)),), x.grad, "C")
        axis = self.axis(x.ndim)
        args = f"axis={axis}" if self.draw(st.booleans()) else str(axis)
        return _Expr(self.call(name, x.name, args), x.shape, x.grad, _fresh(x))

    # views
    def ex_view(self, name: str, x: _Value) -> _Expr:
        """A view of x (``split``: one of its pieces); ``view`` and ``reshape`` of a value whose
        layout may differ between the libraries (a view in one, a copy in the other) reshape a clone."""
        a, shape, layout = _atom(x.name), x.shape, x.layout
        if name == "split":
            src, pieces = self.split_call(x)
            i = self.draw(st.integers(0, len(pieces) - 1))
            return _Expr(f"{src}[{i}]", pieces[i], x.grad, layout and "same", view=True)
        if name == "squeeze":
            ones = [k for k, n in enumerate(shape) if n == 1]
            picked = (
                self.draw(st.lists(st.sampled_from(ones), unique=True, max_size=len(ones))) if ones else []
            )
            if picked and self.draw(st.booleans()):
                axis = [k - x.ndim if self.draw(st.booleans()) else k for k in picked]
                arg = str(axis[0]) if len(axis) == 1 else repr(tuple(axis))
                out = tuple(n for k, n in enumerate(shape) if k not in picked)
                return _Expr(self.call(name, x.name, arg), out, x.grad, layout, view=True)
            return _Expr(
                self.call(name, x.name), tuple(n for n in shape if n != 1), x.grad, layout, view=True
            )
        if name == "unsqueeze":
            k = self.draw(st.integers(-x.ndim - 1, x.ndim))
            sides = list(shape)
            sides.insert(k % (x.ndim + 1), 1)
            return _Expr(self.call(name, x.name, str(k)), tuple(sides), x.grad, layout, view=True)
        if name == "expand_dims":
            count = self.draw(st.integers(1, 2))
            picked = self.draw(
                st.lists(st.integers(0, x.ndim + count - 1), min_size=count, max_size=count, unique=True)
            )
            axes = [k - x.ndim - count if self.draw(st.booleans()) else k for k in picked]
            sizes = iter(shape)
            out = tuple(1 if k in picked else next(sizes) for k in range(x.ndim + count))
            arg = str(axes[0]) if count == 1 and self.draw(st.booleans()) else repr(tuple(axes))
            return _Expr(f"F.expand_dims({x.name}, {arg})", out, x.grad, layout, view=True)
        if name in ("view", "reshape"):
            out = self.draw(st.sampled_from(_reshapes(int(np.prod(shape)))))
            written: list[Any] = list(out)
            if out and self.draw(st.booleans()):
                written[self.draw(st.integers(0, len(out) - 1))] = -1
            src = x.name if layout is not None else f"F.clone({x.name})"
            if name == "view" and self.draw(st.booleans()):  # x.view(2, 3)
                spread = ", ".join(map(str, written)) if written else "()"
                src = f"{_atom(src)}.view({spread})"
            else:
                src = f"F.{name}({src}, {tuple(written)!r})"
            return _Expr(src, out, x.grad, layout, view=layout is not None)
        if name == "swapaxes":
            src, shape = self.at_least(x.name, shape, 1)
            i, j = self.axis(len(shape)), self.axis(len(shape))
            sides = list(shape)
            sides[i], sides[j] = sides[j], sides[i]
            return _Expr(
                self.call(name, src, f"{i}, {j}"), tuple(sides), x.grad, layout and "same", view=True
            )
        perm = tuple(self.draw(st.permutations(range(x.ndim))))
        out = tuple(shape[p] for p in perm)
        if name == "transpose" and (perm == tuple(reversed(range(x.ndim)))) and self.draw(st.booleans()):
            return _Expr(f"F.transpose({x.name})", out, x.grad, layout and "same", view=True)
        if name == "permute" and perm and self.draw(st.booleans()):
            src = f"{a}.permute({', '.join(map(str, perm))})"
        else:
            src = f"F.{name}({x.name}, {perm!r})"
        return _Expr(src, out, x.grad, layout and "same", view=True)

    def split_call(self, x: _Value) -> tuple[str, list[tuple[int, ...]]]:
        """``F.split(x, sections or cuts, axis=k)`` (NumPy's meaning) and the shapes of its pieces,
        none empty; along an axis of length 2 or more when there is one."""
        src, shape = self.at_least(x.name, x.shape, 1)
        long = [k for k, n in enumerate(shape) if n > 1]
        k = self.draw(st.sampled_from(long)) if long else self.draw(st.integers(0, len(shape) - 1))
        n = shape[k]
        if self.draw(st.booleans()) or n < 3:
            sections = self.draw(st.sampled_from([d for d in range(1, n + 1) if n % d == 0][-3:]))
            bounds = [i * (n // sections) for i in range(sections + 1)]
            what = str(sections)
        else:
            cuts = sorted(self.draw(st.lists(st.integers(1, n - 1), min_size=1, max_size=2, unique=True)))
            bounds, what = [0, *cuts, n], repr(cuts)
        axis = k - len(shape) if self.draw(st.booleans()) else k
        args = what if axis == 0 and self.draw(st.booleans()) else f"{what}, axis={axis}"
        pieces = [shape[:k] + (hi - lo,) + shape[k + 1 :] for lo, hi in zip(bounds, bounds[1:], strict=False)]
        return self.call("split", src, args), pieces

    # shape functions that return new memory
    def ex_broadcast_to(self, name: str, x: _Value) -> _Expr:
        """A real broadcast (a size-1 axis grown, or a new leading one): a view whose elements share
        memory, hence never updated in place (PyTorch refuses)."""
        out = [self.draw(st.integers(2, 3)) if n == 1 and self.draw(st.booleans()) else n for n in x.shape]
        lead = [self.draw(st.integers(1, 3)) for _ in range(self.draw(st.integers(0, 2)))]
        out = lead + out
        if tuple(out) == x.shape:
            out = [2, *out]
        if int(np.prod(out)) > 64:
            out = [2, *x.shape]
        return _Expr(
            self.call(name, x.name, repr(tuple(out))), tuple(out), x.grad, None, view=True, pinned=True
        )

    def ex_sum_to(self, name: str, x: _Value) -> _Expr:
        src, shape = self.at_least(x.name, x.shape, 1)
        drop = self.draw(st.integers(0, len(shape)))
        out = tuple(1 if n > 1 and self.draw(st.booleans()) else n for n in shape[drop:])
        if out == shape:
            out = shape[1:]
        return _Expr(f"F.sum_to({src}, {out!r})", out, x.grad, _fresh(x))

    def ex_join(self, name: str, x: _Value) -> _Expr:
        """concatenate / concat / stack of x with values (or functions of x) that fit."""
        parts = [x]
        if name == "concatenate" and self.draw(st.integers(0, 3)) == 0:  # flattened first
            parts += [self.pick() for _ in range(self.draw(st.integers(1, 2)))]
            src = f"F.concatenate([{', '.join(v.name for v in parts)}], axis=None)"
            return _Expr(src, (sum(int(np.prod(v.shape)) for v in parts),), any(v.grad for v in parts), "C")
        src, shape = self.at_least(x.name, x.shape, 1 if name != "stack" else 0)
        ndim = len(shape)
        k = self.draw(st.integers(0, ndim - 1)) if name != "stack" else self.draw(st.integers(0, ndim))
        srcs, sizes = [src], [1 if name == "stack" else shape[k]]
        for _ in range(self.draw(st.integers(1, 2))):
            y = self.partner(
                lambda v: (
                    v.shape == shape
                    if name == "stack"
                    else (v.ndim == ndim and v.shape[:k] + v.shape[k + 1 :] == shape[:k] + shape[k + 1 :])
                )
            )
            if y is None:
                srcs.append(self.choose([src, f"F.tanh({src})", f"{_atom(src)} * 2.0"]))
                sizes.append(sizes[0])
            else:
                srcs.append(y.name)
                sizes.append(1 if name == "stack" else y.shape[k])
                parts.append(y)
        axis = k - ndim - (name == "stack") if self.draw(st.booleans()) else k
        args = "" if axis == 0 and self.draw(st.booleans()) else f", axis={axis}"
        if name == "stack":
            out = shape[:k] + (len(srcs),) + shape[k:]
        else:
            out = shape[:k] + (sum(sizes),) + shape[k + 1 :]
        layout = "C" if all(v.layout == "C" for v in parts) else None
        return _Expr(f"F.{name}([{', '.join(srcs)}]{args})", out, any(v.grad for v in parts), layout)

    def ex_pad(self, name: str, x: _Value) -> _Expr:
        src, shape = self.at_least(x.name, x.shape, 1)
        mode = self.choose(["constant", "constant", "edge", "reflect", "symmetric", "wrap"])
        most = [2 if mode == "constant" else n - 1 if mode == "reflect" else min(n, 2) for n in shape]
        form = self.draw(st.sampled_from(["per axis", "pair", "int"]))
        if form == "per axis":
            widths = [(self.draw(st.integers(0, m)), self.draw(st.integers(0, m))) for m in most]
            arg = repr(tuple(widths))
        elif form == "pair":
            pair = (self.draw(st.integers(0, min(most))), self.draw(st.integers(0, min(most))))
            widths, arg = [pair] * len(shape), repr(pair)
        else:
            w = self.draw(st.integers(0, min(most)))
            widths, arg = [(w, w)] * len(shape), str(w)
        out = tuple(n + b + a for n, (b, a) in zip(shape, widths, strict=True))
        if int(np.prod(out)) > 96:  # no padding at all
            out, arg = shape, "0"
        if mode != "constant":
            arg += f", mode={mode!r}"
        elif self.draw(st.booleans()):
            arg += f", constant_values={self.number()}"
        return _Expr(f"F.pad({src}, {arg})", out, x.grad, "C")

    def ex_repeat(self, name: str, x: _Value) -> _Expr:
        """NumPy's repeat (each element repeated: PyTorch's repeat_interleave), along an axis or
        of the flattened tensor."""
        axis = None if x.ndim == 0 or self.draw(st.integers(0, 2)) == 0 else self.axis(x.ndim)
        n = int(np.prod(x.shape)) if axis is None else x.shape[axis]
        if self.draw(st.booleans()):
            r = self.draw(st.integers(1, 3 if int(np.prod(x.shape)) <= 16 else 1))
            total, arg = n * r, str(r)
        else:
            rs = self.draw(st.lists(st.integers(0, 2), min_size=n, max_size=n).filter(lambda r: sum(r) > 0))
            total, arg = sum(rs), repr(rs)
        out = (total,) if axis is None else x.shape[: axis % x.ndim] + (total,) + x.shape[axis % x.ndim + 1 :]
        args = arg if axis is None else f"{arg}, axis={axis}"
        return _Expr(self.call(name, x.name, args), out, x.grad, None)

    def ex_tile(self, name: str, x: _Value) -> _Expr:
        reps = tuple(self.draw(st.lists(st.integers(1, 2), min_size=1, max_size=x.ndim + 1)))
        d = max(len(reps), x.ndim)
        full = (1,) * (d - len(reps)) + reps
        out = tuple(r * n for r, n in zip(full, (1,) * (d - x.ndim) + x.shape, strict=True))
        if int(np.prod(out)) > 64:
            reps, out = (1,), x.shape if x.ndim else (1,)
        arg = str(reps[0]) if len(reps) == 1 and self.draw(st.booleans()) else repr(reps)
        return _Expr(self.call(name, x.name, arg), out, x.grad, None)

    def ex_flip(self, name: str, x: _Value) -> _Expr:
        src, shape = self.at_least(x.name, x.shape, 1)
        axis = self.reduce_axis(len(shape))
        return _Expr(self.call(name, src, "" if axis is None else repr(axis)), shape, x.grad, None)

    def ex_roll(self, name: str, x: _Value) -> _Expr:
        src, shape = self.at_least(x.name, x.shape, 1)
        kind = self.draw(st.integers(0, 2))
        if kind == 0:  # the flattened tensor, shape restored
            args = str(self.draw(st.integers(-5, 5)))
        elif kind == 1:
            args = f"{self.draw(st.integers(-5, 5))}, {self.axis(len(shape))}"
        else:  # an axis may repeat: its shifts add up
            axes = tuple(self.axis(len(shape)) for _ in range(self.draw(st.integers(1, 3))))
            args = f"{tuple(self.draw(st.integers(-5, 5)) for _ in axes)!r}, {axes!r}"
        return _Expr(self.call(name, src, args), shape, x.grad, None)

    def ex_indices(self, name: str, x: _Value) -> _Expr:
        """take_along_axis (NumPy: broadcasts, negative indices), gather and scatter_add (PyTorch's
        rules: as many dims, no larger off the axis; src of the index's shape)."""
        src, shape = self.at_least(x.name, x.shape, 1)
        ndim = len(shape)
        if name == "take_along_axis" and self.draw(st.integers(0, 3)) == 0:  # the flattened tensor
            size = int(np.prod(shape))
            idx = self.draw(st.lists(st.integers(-size, size - 1), min_size=1, max_size=4))
            return _Expr(f"F.take_along_axis({src}, np.array({idx!r}), axis=None)", (len(idx),), x.grad, "C")
        k = self.axis(ndim)
        a = k % ndim
        if name == "take_along_axis":
            ishape = tuple(
                self.draw(st.integers(1, 4)) if i == a else self.draw(st.sampled_from([1, n]))
                for i, n in enumerate(shape)
            )
            n = shape[a]
            idx = self.draw(
                st.lists(st.integers(-n, n - 1), min_size=int(np.prod(ishape)), max_size=int(np.prod(ishape)))
            )
            arr = f"np.array({np.array(idx, dtype=np.int64).reshape(ishape).tolist()!r})"
            out = tuple(ishape[i] if i == a else n for i, n in enumerate(shape))
            axis = f"axis={k}" if self.draw(st.booleans()) else str(k)
            return _Expr(f"F.take_along_axis({src}, {arr}, {axis})", out, x.grad, "C")
        if name == "gather":
            ishape = tuple(self.draw(st.integers(1, 4 if i == a else n)) for i, n in enumerate(shape))
            return _Expr(self.call(name, src, f"{k}, {self.labels(ishape, shape[a])}"), ishape, x.grad, "C")
        y = self.partner(
            lambda v: (
                v.ndim == ndim
                and all(m <= n or i == a for i, (m, n) in enumerate(zip(v.shape, shape, strict=True)))
            )
        )
        if y is None:
            y = self.param(tuple(self.draw(st.integers(1, 3 if i == a else n)) for i, n in enumerate(shape)))
        args = f"{k}, {self.labels(y.shape, shape[a])}, {y.name}"
        return _Expr(self.call(name, src, args), shape, x.grad or y.grad, _fresh(x, y))

    # linear algebra
    def ex_matmul(self, name: str, x: _Value) -> _Expr:
        src, shape = self.at_least(x.name, x.shape, 1)
        y = self.partner(lambda v: v.ndim in (1, 2) and v.shape[0] == shape[-1])
        if y is not None:
            return _Expr(self.call(name, src, y.name), shape[:-1] + y.shape[1:], x.grad or y.grad, None)
        if len(shape) == 1:
            return _Expr(self.call(name, src, src), (), x.grad, "C")
        other = f"F.swapaxes({src}, -1, -2)"
        return _Expr(self.call(name, src, other), shape[:-1] + shape[-2:-1], x.grad, None)

    def ex_linear(self, name: str, x: _Value) -> _Expr:
        """The book's ``x @ W + b`` (W of shape (in, out))."""
        src, shape = self.at_least(x.name, x.shape, 1)
        w = self.partner(lambda v: v.ndim == 2 and v.shape[0] == shape[-1]) or self.param(
            (shape[-1], self.draw(st.integers(1, 3)))
        )
        out_dim = w.shape[1]
        b = self.weight((out_dim,)) if self.draw(st.booleans()) else None
        args = f"{w.name}" + ("" if b is None else f", {b.name}")
        grad = x.grad or w.grad or (b is not None and b.grad)
        return _Expr(f"F.linear({src}, {args})", shape[:-1] + (out_dim,), grad, None)

    def ex_einsum(self, name: str, x: _Value) -> _Expr:
        """Subscripts that fit x's shape: products with itself or another value, diagonals, traces,
        sums, permutations ('ij->ji' is a view in NumPy and PyTorch)."""
        src, shape = self.at_least(x.name, x.shape, 1)
        options: list[tuple[str, list[_Value | str], tuple[int, ...]]] = []
        if len(shape) == 1:
            (n,) = shape
            options += [("i,i", [src, src], ()), ("i->", [src], ()), ("i,i->i", [src, src], shape)]
            for v in self.values:
                if v.ndim == 1 and n * v.shape[0] <= 64:
                    options.append(("i,j->ij", [src, v], (n, v.shape[0])))
        elif len(shape) == 2:
            p, q = shape
            options += [("ij->ji", [src], (q, p)), ("ij->j", [src], (q,)), ("ij,kj->ik", [src, src], (p, p))]
            options += [("ij,ij->i", [src, src], (p,)), ("ij->", [src], ()), ("ij", [src], (p, q))]
            if p == q:
                options += [("ii->i", [src], (p,)), ("ii", [src], ())]
            for v in self.values:
                if v.ndim == 2 and v.shape[0] == q:
                    options.append(("ij,jk->ik", [src, v], (p, v.shape[1])))
                if v.ndim == 1 and v.shape[0] == q:
                    options.append(("ij,j->i", [src, v], (p,)))
        else:
            a, b, c = shape[-3:]
            lead = shape[:-3]
            options += [("...ij->...ji", [src], lead + (a, c, b)), ("...i,...i->...", [src, src], shape[:-1])]
            if not lead:
                options += [("bij,bkj->bik", [src, src], (a, b, b)), ("ijk->k", [src], (c,))]
        if "einsum returns a copy" in OPEN_ISSUES:  # no permutation, diagonal or identity: views elsewhere
            options = [o for o in options if o[0] not in ("ij->ji", "ij", "ii->i", "...ij->...ji")]
        subscripts, operands, out = self.draw(st.sampled_from(options))
        names = [v if isinstance(v, str) else v.name for v in operands]
        grad = x.grad or any(isinstance(v, _Value) and v.grad for v in operands)
        return _Expr(f"F.einsum({subscripts!r}, {', '.join(names)})", out, grad, None)

    def ex_tensordot(self, name: str, x: _Value) -> _Expr:
        src, shape = self.at_least(x.name, x.shape, 1)
        options: list[tuple[str, str, tuple[int, ...], bool]] = []
        for v in self.values:
            for n in (1, 2):
                if n <= len(shape) and v.shape[:n] == shape[len(shape) - n :]:
                    options.append((v.name, str(n), shape[: len(shape) - n] + v.shape[n:], v.grad))
            if v.ndim and int(np.prod(shape)) * int(np.prod(v.shape)) <= 64:
                options.append((v.name, "0", shape + v.shape, v.grad))
        k = self.draw(st.integers(0, len(shape) - 1))
        rest = shape[:k] + shape[k + 1 :]
        options.append((src, f"([{k}], [{k}])", rest + rest, False))
        other, axes, out, grad = self.draw(st.sampled_from(options))
        return _Expr(f"F.tensordot({src}, {other}, axes={axes})", out, x.grad or grad, None)

    def ex_dot(self, name: str, x: _Value) -> _Expr:
        """NumPy's dot: vector . vector, matrix products, N-D . 1-D, and a 0-d factor."""
        if x.ndim == 0:
            v = self.pick()
            return _Expr(self.call(name, x.name, v.name), v.shape, x.grad or v.grad, None)
        n = x.shape[-1]
        y = self.partner(
            lambda v: (
                (v.ndim == 1 and v.shape[0] == n)
                or (
                    v.ndim >= 2
                    and v.shape[-2] == n
                    and int(np.prod(x.shape[:-1] + v.shape[:-2] + v.shape[-1:])) <= 64
                )
            )
        )
        if y is not None:
            out = x.shape[:-1] + (y.shape[:-2] + y.shape[-1:] if y.ndim >= 2 else ())
            return _Expr(self.call(name, x.name, y.name), out, x.grad or y.grad, None)
        other = x.name if x.ndim == 1 else f"{x.name}[{', '.join(['0'] * (x.ndim - 1))}]"
        return _Expr(self.call(name, x.name, other), x.shape[:-1], x.grad, None)

    def ex_outer(self, name: str, x: _Value) -> _Expr:
        size = int(np.prod(x.shape))
        y = self.pick([v for v in self.values if size * int(np.prod(v.shape)) <= 64] or [x])
        other = y.name if size * int(np.prod(y.shape)) <= 64 else f"{_atom(y.name)}.sum()"
        m = int(np.prod(y.shape)) if other == y.name else 1
        return _Expr(self.call(name, x.name, other), (size, m), x.grad or y.grad, "C")

    def ex_trace(self, name: str, x: _Value) -> _Expr:
        src, shape = self.at_least(x.name, x.shape, 2)
        ndim = len(shape)
        if self.draw(st.booleans()):
            return _Expr(self.call(name, src), shape[2:], x.grad, None)
        i, j = self.draw(st.permutations(range(ndim)))[:2]
        offset = self.draw(st.integers(-2, 2))
        out = tuple(n for k, n in enumerate(shape) if k not in (i, j))
        args = f"{offset}, {i - ndim if self.draw(st.booleans()) else i}, {j}"
        return _Expr(self.call(name, src, args), out, x.grad, None)

    def ex_diag(self, name: str, x: _Value) -> _Expr:
        """The k-th diagonal of a matrix (of at least one element), or a matrix with a vector on it."""
        src, shape = self.exactly(x, (1, 2))
        if len(shape) == 1:
            k = self.draw(st.integers(-2, 2))
            n = shape[0] + abs(k)
            out: tuple[int, ...] = (n, n)
        else:
            p, q = shape
            k = self.draw(st.integers(-(p - 1), q - 1))
            out = (min(p + k, q) if k < 0 else min(p, q - k),)
        return _Expr(self.call(name, src, str(k) if k or self.draw(st.booleans()) else ""), out, x.grad, None)

    def ex_triangle(self, name: str, x: _Value) -> _Expr:
        src, shape = self.at_least(x.name, x.shape, 2)
        k = self.draw(st.integers(-3, 3))
        return _Expr(self.call(name, src, str(k) if k else ""), shape, x.grad, _fresh(x))

    # losses
    def ex_loss(self, name: str, x: _Value) -> _Expr:
        """A loss of x, against labels, a constant or another value of x's shape (or a function of x)."""
        if name in ("cross_entropy", "cross_entropy_error", "nll_loss"):
            return self.classification_loss(name, x)
        src, shape = (self.at_least(x.name, x.shape, 1)) if name == "kl_div" else (x.name, x.shape)
        y = self.partner(lambda v: v.shape == shape)
        other, ygrad = (
            (y.name, y.grad)
            if y is not None
            else (self.choose([f"F.tanh({src})", f"{_atom(src)} * 0.5"]), x.grad)
        )
        reduction = self.choose(["mean", "sum", "none"] + (["batchmean"] if name == "kl_div" else []))
        out = shape if reduction == "none" else ()
        more = "" if reduction == "mean" and self.draw(st.booleans()) else f", reduction={reduction!r}"
        if name == "binary_cross_entropy":  # probabilities, the target too
            if y is None and self.draw(st.booleans()):
                probs = self.draw(
                    st.lists(
                        st.sampled_from([0.0, 0.25, 0.5, 1.0]),
                        min_size=int(np.prod(shape)),
                        max_size=int(np.prod(shape)),
                    )
                )
                other, ygrad = f"mgx.tensor({np.array(probs).reshape(shape).tolist()!r})", False
            else:
                other = f"F.sigmoid({other})"
            return _Expr(f"F.{name}(F.sigmoid({src}), {other})", (), x.grad or ygrad, "C")
        if name == "mean_squared_error":
            return _Expr(f"F.{name}({src}, {other})", (), x.grad or ygrad, "C")
        if name == "kl_div":
            log_target = self.draw(st.booleans())
            target = f"F.log_softmax({other}, axis=-1)" if log_target else f"F.softmax({other}, axis=-1)"
            more += ", log_target=True" if log_target else ""
            return _Expr(
                f"F.kl_div(F.log_softmax({src}, axis=-1), {target}{more})", out, x.grad or ygrad, None
            )
        if name == "huber_loss":
            more += f", delta={self.choose(['1.0', '0.5'])}"
        if name == "smooth_l1_loss":
            more += f", beta={self.choose(['1.0', '0.5'])}"
        return _Expr(f"F.{name}({src}, {other}{more})", out, x.grad or ygrad, "C" if not out else None)

    def classification_loss(self, name: str, x: _Value) -> _Expr:
        """Scores (N, C) or one sample (C,), against class labels or probability rows."""
        src, shape = self.exactly(x, (1, 2))
        n = shape[0] if len(shape) == 2 else None
        c = shape[-1]
        reduction = self.choose(["mean", "sum", "none"])
        more = "" if reduction == "mean" else f", reduction={reduction!r}"
        if name == "cross_entropy_error":
            more = ""
        if name == "nll_loss":
            inputs = self.choose([f"F.log_softmax({src}, axis=-1)", src])
        elif name == "cross_entropy_error":
            inputs = f"F.softmax({src}, axis=-1)"
        else:
            inputs = src
            self.pin_input(x)
        grad = x.grad
        if name == "nll_loss" or self.draw(st.booleans()):
            target = self.labels(() if n is None else (n,), c)
        else:
            y = self.partner(lambda v: v.shape == shape)
            target = f"F.softmax({y.name if y else _atom(src) + ' * 0.5'}, axis=-1)"
            grad = grad or (y is not None and y.grad)
        out = (n,) if reduction == "none" and n is not None and name != "cross_entropy_error" else ()
        one = n is None and reduction == "none" and name != "cross_entropy_error"
        pinned = one and "unbatched result is a view" in OPEN_ISSUES
        return _Expr(
            f"F.{name}({inputs}, {target}{more})", out, grad, "C" if not out else None, pinned=pinned
        )

    # normalisation, dropout, embedding
    def ex_batch_norm(self, name: str, x: _Value) -> _Expr:
        """Training (batch statistics) or evaluation (running statistics), with or without weight and
        bias; x as (N, C, ...)."""
        if x.ndim < 2:
            src, shape = (f"F.unsqueeze({x.name}, -1)", x.shape + (1,)) if x.ndim else (x.name, ())
            src, shape = self.at_least(src, shape, 2)
        else:
            src, shape = x.name, x.shape
        c = shape[1]
        training = int(np.prod(shape)) // c > 1 and self.draw(st.integers(0, 2)) > 0
        ws, grad = self.weights((c,))
        if training:  # running statistics updated here would be constants nobody reads (and mgx.compile,
            stats = "None, None"  # which tests/test_compile.py runs these programs through, refuses them)
        else:
            mean = [self.draw(st.sampled_from([-0.5, 0.0, 0.25, 1.0])) for _ in range(c)]
            var = [self.draw(st.sampled_from([0.5, 1.0, 2.0])) for _ in range(c)]
            stats = f"np.array({mean!r}), np.array({var!r})"
        args = ", ".join([src, stats, *ws])
        src = f"F.batch_norm({args}{', training=True' if training else ''})"
        pinned = training and not ws and "normalize reads its output" in OPEN_ISSUES  # Normalize's output
        if training:
            self.pin_input(x)
        return _Expr(src, shape, x.grad or grad, None, pinned=pinned)

    def ex_layer_norm(self, name: str, x: _Value) -> _Expr:
        src, shape = self.at_least(x.name, x.shape, 1)
        k = self.draw(st.integers(1, len(shape)))
        normalized = shape[len(shape) - k :]
        ws, grad = self.weights(normalized)
        arg = str(normalized[0]) if k == 1 and self.draw(st.booleans()) else repr(normalized)
        pinned = not ws and "normalize reads its output" in OPEN_ISSUES  # Normalize's output itself
        self.pin_input(x)
        return _Expr(
            f"F.layer_norm({', '.join([src, arg, *ws])})", shape, x.grad or grad, None, pinned=pinned
        )

    def ex_embedding(self, name: str, x: _Value) -> _Expr:
        """Rows of x (as a table (n, d)) picked by constant indices."""
        if x.ndim == 1:
            src, shape = (
                (f"F.unsqueeze({x.name}, -1)", x.shape + (1,))
                if self.draw(st.booleans())
                else (f"F.unsqueeze({x.name}, 0)", (1,) + x.shape)
            )
        else:
            src, shape = self.exactly(x, (2,))
        ishape = tuple(self.draw(st.lists(st.integers(1, 3), max_size=2)))
        return _Expr(f"F.embedding({self.labels(ishape, shape[0])}, {src})", ishape + shape[1:], x.grad, "C")

    # convolution and pooling
    def image(self, x: _Value, unbatched: bool = True) -> tuple[str, tuple[int, ...]]:
        """x as a batch of images (N, C, H, W) (leading axes of size 1 added, or indexed away), or
        (``unbatched``, a 3-D x, half the time) one image (C, H, W)."""
        src, shape = self.exactly(x, (3, 4) if unbatched else (4,))
        if len(shape) == 3 and self.draw(st.booleans()):
            return f"F.unsqueeze({src}, 0)", (1, *shape)
        return src, shape

    def window(self, h: int, w: int, pool: str | None = None) -> tuple[Any, dict[str, Any], tuple[int, int]]:
        """A kernel size and the keyword arguments stride / padding / dilation (ints or pairs) that fit
        an (h, w) image, and the output's (oh, ow). ``pool``: 'max' (padding at most half the kernel,
        none with dilation: no window wholly in the padding; the default stride half the time),
        'avg' (the same, no dilation) or None (a convolution: padding 0 or 1)."""
        dims = []
        default_stride = pool is not None and self.draw(st.booleans())
        for n in (h, w):
            d = 1 if pool == "avg" else self.draw(st.integers(1, 2))
            k = self.draw(st.integers(1, 3))
            p = 0 if pool else self.draw(st.integers(0, 1))
            while d * (k - 1) + 1 > n + 2 * p:
                k, d = (k - 1, d) if k > 1 else (k, 1)
            if pool and d == 1:
                p = self.draw(st.integers(0, k // 2))
            s = k if default_stride else self.draw(st.integers(1, 2))
            dims.append((k, s, p, d, (n + 2 * p - d * (k - 1) - 1) // s + 1))

        def pair(i: int) -> Any:
            a, b = dims[0][i], dims[1][i]
            return a if a == b and self.draw(st.integers(0, 3)) else (a, b)

        kw: dict[str, Any] = {}
        if not default_stride and (pool or pair(1) != 1):
            kw["stride"] = pair(1)
        if dims[0][2] or dims[1][2]:
            kw["padding"] = pair(2)
        if dims[0][3] != 1 or dims[1][3] != 1:
            kw["dilation"] = pair(3)
        return pair(0), kw, (dims[0][4], dims[1][4])

    @staticmethod
    def keywords(kw: dict[str, Any]) -> str:
        return "".join(f", {k}={v!r}" for k, v in kw.items())

    def ex_conv2d(self, name: str, x: _Value) -> _Expr:
        src, shape = self.image(x)
        self.pin_input(x)
        c, h, w = shape[-3:]
        kernel, kw, (oh, ow) = self.window(h, w)
        kh, kw_ = (kernel, kernel) if isinstance(kernel, int) else kernel
        o = self.draw(st.integers(1, 2))
        wshape = (o, c, kh, kw_)
        size = int(np.prod(wshape))
        y = self.partner(
            lambda v: v.shape == wshape or (int(np.prod(v.shape)) == size and v.layout is not None)
        )
        if y is None:
            y = self.param(wshape)
        weight = y.name if y.shape == wshape else f"F.reshape({y.name}, {wshape!r})"
        bias = self.weight((o,)) if self.draw(st.booleans()) else None
        args = f"{src}, {weight}" + ("" if bias is None else f", {bias.name}") + self.keywords(kw)
        out = shape[:-3] + (o, oh, ow)
        return _Expr(f"F.conv2d({args})", out, x.grad or y.grad or (bias is not None and bias.grad), None)

    def ex_pool(self, name: str, x: _Value) -> _Expr:
        src, shape = self.image(x)
        kernel, kw, (oh, ow) = self.window(shape[-2], shape[-1], pool=name[:3])
        pinned = len(shape) == 3 and "unbatched result is a view" in OPEN_ISSUES
        src = f"F.{name}({src}, {kernel!r}{self.keywords(kw)})"
        return _Expr(src, shape[:-2] + (oh, ow), x.grad, None, pinned=pinned)

    def ex_im2col(self, name: str, x: _Value) -> _Expr:
        src, shape = self.image(x, unbatched=False)
        n, c, h, w = shape
        kernel, kw, (oh, ow) = self.window(h, w)
        kh, kw_ = (kernel, kernel) if isinstance(kernel, int) else kernel
        return _Expr(
            f"F.im2col({src}, {kernel!r}{self.keywords(kw)})", (n * oh * ow, c * kh * kw_), x.grad, None
        )

    def ex_col2im(self, name: str, x: _Value) -> _Expr:
        """x as the columns (N * oh * ow, C * kh * kw) of one image of one channel: a kernel of kh * kw
        = x's width, and an image tall enough for oh = x's height (ow = 1)."""
        src, shape = self.exactly(x, (2,)) if x.ndim != 1 else (f"F.unsqueeze({x.name}, 0)", (1, x.shape[0]))
        rows, cols = shape
        kh = self.draw(st.sampled_from([d for d in range(1, cols + 1) if cols % d == 0]))
        kw_ = cols // kh
        p = self.draw(st.integers(0, 1)) if min(kh, kw_) > 2 else 0
        image = (1, 1, rows + kh - 1 - 2 * p, kw_ - 2 * p)
        kernel = kh if kh == kw_ else (kh, kw_)
        more = f", padding={p}" if p else ""
        return _Expr(f"F.col2im({src}, {image!r}, {kernel!r}{more})", image, x.grad, None)


@st.composite
def user_programs(draw: Any, max_steps: int = 8, max_leaves: int = 3, op: str | None = None) -> UserProgram:
    """A program of 1..``max_leaves`` leaves (a, b, c) and 1..``max_steps`` steps, a third of the
    time ending with a loss; see the module doc. ``op`` (a name of ``VOCABULARY``): the program
    uses that function at least once, as a step or (a quarter of the time) inside a nested grad."""
    b = _Builder(draw)
    for name in "abc"[: draw(st.integers(1, max_leaves))]:
        b.leaf(name)
    steps = [draw(st.sampled_from(STEPS)) for _ in range(draw(st.integers(1, max_steps)))]
    at = draw(st.integers(0, len(steps))) if op is not None else -1
    for i in range(len(steps) + 1):
        if i == at and op not in FLAT | _kinked() and draw(st.integers(0, 3)) == 0:
            b.step_grad(op)
        elif i == at:
            b.step_fn(op)
        if i < len(steps):
            getattr(b, f"step_{steps[i]}")()
    if draw(st.integers(0, 2)) == 0:
        b.step_fn(draw(st.sampled_from(LOSSES)))
    return UserProgram("\n".join(b.lines), draw(st.integers(0, 2**16)))
