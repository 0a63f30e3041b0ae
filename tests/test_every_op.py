"""The every-op guarantee: each entry of tests/op_table.py against the oracle and gradcheck,
and completeness checks that make an untested op impossible to land."""

import inspect

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import microgradx as mgx
import microgradx.functional as F
from microgradx import Function, Tensor
from microgradx.autograd import creator_read_by
from microgradx.testing import assert_gradients_match
from tests.op_table import NOT_DIFFERENTIABLE, TABLE
from tests.strategies import seeds


@pytest.mark.parametrize("name", sorted(TABLE))
@given(data=st.data())
def test_every_op_matches_the_oracle(name, data):
    ex = data.draw(TABLE[name])
    assert_gradients_match(ex.fn, *ex.arrays, seed=data.draw(seeds), atol=ex.atol)


@pytest.mark.parametrize("name", sorted(TABLE))
@settings(max_examples=8)
@given(data=st.data())
def test_every_op_passes_gradcheck(name, data):
    ex = data.draw(TABLE[name])
    assert mgx.gradcheck(ex.fn, *ex.arrays, seed=data.draw(seeds))


def public_ops():
    """Every name a user can differentiate through: F.*, Tensor methods, properties and operators."""
    names = {f"F.{n}" for n in F.__all__}
    for n, attr in vars(Tensor).items():
        is_dunder = n.startswith("__") and n.endswith("__")
        if is_dunder and inspect.isfunction(attr):
            names.add(f"Tensor.{n}")
        elif not n.startswith("_") and (inspect.isfunction(attr) or isinstance(attr, property)):
            names.add(f"Tensor.{n}")
    return names


#: Tensor properties that are attributes, not ops.
ATTRIBUTES = {
    f"Tensor.{n}" for n in ("requires_grad", "shape", "ndim", "size", "dtype", "is_leaf", "grad_fn", "grad")
}


def test_every_public_op_is_in_the_table():
    missing = public_ops() - TABLE.keys() - NOT_DIFFERENTIABLE - ATTRIBUTES
    assert not missing, f"add these ops to tests/op_table.py (or to NOT_DIFFERENTIABLE): {sorted(missing)}"
    stale = (TABLE.keys() | NOT_DIFFERENTIABLE | ATTRIBUTES) - public_ops()
    assert not stale, f"these table entries name nothing public: {sorted(stale)}"


def _op_classes():
    """Every concrete Function subclass defined in microgradx.ops."""
    found, stack = set(), [Function]
    while stack:
        for sub in stack.pop().__subclasses__():
            stack.append(sub)
            if sub.__module__.startswith("microgradx.ops") and not sub.__name__.startswith("_"):
                found.add(sub)
    return found


def _graph_classes(root, into):
    stack = [root.creator] if root is not None and root.creator is not None else []
    seen = set()
    while stack:
        fn = stack.pop()
        if fn in seen:
            continue
        seen.add(fn)
        into.add(type(fn))
        stack.extend(c for c in (creator_read_by(x, fn._recorded_at) for x in fn.inputs) if c is not None)


def test_every_op_states_its_forward_and_backward_formulas():
    undocumented = sorted(
        c.__name__
        for c in _op_classes()
        if "Forward:" not in (c.__doc__ or "") or "Backward:" not in (c.__doc__ or "")
    )
    assert not undocumented, f"these ops need Forward:/Backward: in their docstring: {undocumented}"


SEEN: set = set()


@pytest.mark.parametrize("name", sorted(TABLE))
@settings(max_examples=1, database=None)
@given(data=st.data())
def test_collect_the_functions_each_entry_exercises(name, data):
    """Record the Function classes in each entry's forward graph and create_graph gradient graph."""
    ex = data.draw(TABLE[name])
    leaves = [Tensor(a, requires_grad=a.dtype.kind == "f") for a in ex.arrays]
    out = ex.fn(*leaves)
    # a seed that requires grad records every op of the backward pass (even those that only
    # transform the incoming gradient, like getitem's scatter-add)
    out.backward(Tensor(np.ones(out.shape, dtype=out.dtype), requires_grad=True), create_graph=True)
    _graph_classes(out, SEEN)
    for leaf in leaves:
        _graph_classes(leaf.grad, SEEN)


def test_every_function_subclass_is_exercised_by_the_table():
    if len(SEEN) == 0:
        pytest.skip("run together with test_collect_the_functions_each_entry_exercises")
    unexercised = {c.__name__ for c in _op_classes()} - {c.__name__ for c in SEEN}
    assert not unexercised, f"no entry of tests/op_table.py exercises: {sorted(unexercised)}"
