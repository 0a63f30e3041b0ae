"""Random differentiable programs: small DAGs of ops over broadcast-compatible shapes.

A program is a list of steps; each step applies an op to earlier nodes (the
leaves first). Every node's shape stays broadcast-compatible with every other
(elementwise ops keep shapes, reductions keep their axes), so any two nodes can
be combined. The same program runs on microgradx and on PyTorch, and its output
weights every node, so every edge of the DAG carries gradient.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st

from microgradx.testing import broadcastable_shapes, reals, tensors

UNARY = [
    "tanh",
    "sigmoid",
    "neg",
    "square",
    "exp_tanh",
    "scale",
    "sum_keep",
    "mean_keep",
    "softmax",
    "log_softmax",
]
BINARY = ["add", "sub", "mul", "safe_div"]


@st.composite
def programs(draw, max_leaves: int = 3, max_steps: int = 8):
    """(leaf arrays, steps, output weights seed): steps are (op, operand indices, axis choice)."""
    k = draw(st.integers(1, max_leaves))
    shapes = draw(broadcastable_shapes(num_shapes=k, max_dims=3, max_side=3))
    leaves = tuple(draw(tensors(s, elements=reals(-2, 2))) for s in shapes)
    steps = []
    for _ in range(draw(st.integers(1, max_steps))):
        n = k + len(steps)
        if draw(st.booleans()):
            steps.append(
                (draw(st.sampled_from(UNARY)), (draw(st.integers(0, n - 1)),), draw(st.integers(0, 2)))
            )
        else:
            ops = (draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1)))
            steps.append((draw(st.sampled_from(BINARY)), ops, 0))
    return leaves, steps, draw(st.integers(0, 2**32 - 1))


def run(steps: list, leaves: list, lib: Any, weights: list[np.ndarray] | None = None):
    """Evaluate ``steps`` with ``lib`` (MGX or TORCH); return (output, node shapes)."""
    nodes = list(leaves)
    for op, args, axis in steps:
        xs = [nodes[i] for i in args]
        nodes.append(getattr(lib, op)(*xs, axis=axis))
    computed = nodes[len(leaves) :]
    shapes = [tuple(c.shape) for c in computed]
    if weights is None:
        return None, shapes
    total = None
    for c, w in zip(computed, weights, strict=True):
        term = (c * lib.const(w, like=c)).sum()
        total = term if total is None else total + term
    return total, shapes


class _Lib:
    """The op vocabulary, written once with Tensor-style methods both libraries share."""

    @staticmethod
    def _axis(x, axis):
        return None if x.ndim == 0 else axis % x.ndim

    def neg(self, x, axis):
        return -x

    def square(self, x, axis):
        return x * x

    def scale(self, x, axis):
        return x * 0.7 + 0.3

    def add(self, a, b, axis):
        return a + b

    def sub(self, a, b, axis):
        return a - b

    def mul(self, a, b, axis):
        return a * b

    def safe_div(self, a, b, axis):
        return a / (self.sigmoid(b, axis) + 1.5)

    def exp_tanh(self, x, axis):
        return self.exp(self.tanh(x, axis))


class _Mgx(_Lib):
    def __init__(self):
        import microgradx.functional as F

        self.F = F

    def const(self, w, like):
        import microgradx as mgx

        return mgx.tensor(w)

    def tanh(self, x, axis):
        return self.F.tanh(x)

    def sigmoid(self, x, axis):
        return self.F.sigmoid(x)

    def exp(self, x):
        return self.F.exp(x)

    def sum_keep(self, x, axis):
        a = self._axis(x, axis)
        return x if a is None else x.sum(axis=a, keepdims=True)

    def mean_keep(self, x, axis):
        a = self._axis(x, axis)
        return x if a is None else x.mean(axis=a, keepdims=True)

    def softmax(self, x, axis):
        return x if x.ndim == 0 else self.F.softmax(x, axis=-1)

    def log_softmax(self, x, axis):
        return x if x.ndim == 0 else self.F.log_softmax(x, axis=-1)


class _Torch(_Lib):
    def __init__(self):
        import torch

        self.torch = torch

    def const(self, w, like):
        return self.torch.from_numpy(np.asarray(w, dtype=np.float64))

    def tanh(self, x, axis):
        return self.torch.tanh(x)

    def sigmoid(self, x, axis):
        return self.torch.sigmoid(x)

    def exp(self, x):
        return self.torch.exp(x)

    def sum_keep(self, x, axis):
        a = self._axis(x, axis)
        return x if a is None else x.sum(dim=a, keepdim=True)

    def mean_keep(self, x, axis):
        a = self._axis(x, axis)
        return x if a is None else x.mean(dim=a, keepdim=True)

    def softmax(self, x, axis):
        return x if x.ndim == 0 else self.torch.softmax(x, dim=-1)

    def log_softmax(self, x, axis):
        return x if x.ndim == 0 else self.torch.log_softmax(x, dim=-1)


MGX = _Mgx()


def torch_lib() -> _Torch:
    return _Torch()


def weights_for(steps: list, leaves: tuple, seed: int) -> list[np.ndarray]:
    """Random output weights, one array per computed node (shapes found by a dry run)."""
    import microgradx as mgx

    with mgx.no_grad():
        _, shapes = run(steps, [mgx.tensor(a) for a in leaves], MGX)
    rng = np.random.default_rng(seed)
    return [rng.uniform(-1, 1, s) for s in shapes]
