"""Tests of microgradx.testing: the strategies and the check users run on their own ops."""

import re

import numpy as np
import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import microgradx as mgx
from microgradx.testing import assert_gradients_match, distinct_tensors
from tests.op_table import shapes as op_table_shapes


# --------------------------------------------------------------------------- #
# distinct_tensors
# --------------------------------------------------------------------------- #
def check_distinct(a, shape=None, gap=1e-3, lo=-10.0, hi=10.0):
    """The promise of distinct_tensors, on one drawn array."""
    assert isinstance(a, np.ndarray)
    assert a.dtype == np.float64
    if shape is not None:
        assert a.shape == shape
    assert np.all(np.isfinite(a))
    assert np.all((lo <= a) & (a <= hi)), (a.min(), a.max())
    if a.size > 1:
        d = np.abs(a.reshape(-1, 1) - a.reshape(1, -1))  # every pair, not only sorted neighbours
        d[np.diag_indices_from(d)] = np.inf
        assert d.min() >= gap, f"two values only {d.min()} apart (gap {gap})"


ALL_SHAPES = [(), (1,), (2,), (7,), (3, 4), (4, 4), (5, 5), (1, 1), (2, 3, 4), (4, 4, 4)]


@pytest.mark.parametrize("shape", ALL_SHAPES)
@given(data=st.data())
def test_distinct_tensors_keeps_its_promise(shape, data):
    check_distinct(data.draw(distinct_tensors(shape)), shape)


@pytest.mark.parametrize("shape", [(3, 4), (4, 4), (5, 5)])
@settings(max_examples=200)
@given(data=st.data())
def test_distinct_tensors_2d_passes_health_checks_at_200_examples(shape, data):
    # The filtering version failed here: "... 50 inputs were filtered out".
    check_distinct(data.draw(distinct_tensors(shape)), shape)


@pytest.mark.parametrize(
    ("gap", "lo", "hi"),
    [(1e-3, -10.0, 10.0), (0.5, 0.0, 10.0), (0.0, -1.0, 1.0), (1e-6, 1e6, 1e6 + 1.0), (0.3, -1.0, 1.0)],
)
@given(data=st.data())
def test_distinct_tensors_other_gaps_and_ranges(gap, lo, hi, data):
    # (0.3, -1, 1) with up to 6 elements: slots of width 1/3, just over the gap.
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=(2 if gap == 0.3 else 4)))
    a = data.draw(distinct_tensors(shape, gap=gap, lo=lo, hi=hi))
    check_distinct(a, shape, gap=gap, lo=lo, hi=hi)


@given(data=st.data())
def test_distinct_tensors_default_shapes(data):
    a = data.draw(distinct_tensors())
    assert 0 <= a.ndim <= 3 and all(1 <= s <= 4 for s in a.shape)
    check_distinct(a)


@given(a=distinct_tensors(op_table_shapes))
def test_distinct_tensors_with_the_op_tables_strategy_of_shapes(a):
    # tests/op_table.py draws max / min inputs as distinct_tensors(shapes).
    check_distinct(a)


@settings(max_examples=200)
@given(a=distinct_tensors(hnp.array_shapes(min_dims=2, max_dims=2, min_side=3, max_side=5)))
def test_distinct_tensors_2d_strategy_of_shapes_at_200_examples(a):
    check_distinct(a)


def test_distinct_tensors_empty_shape():
    a = find(distinct_tensors((0, 3)), lambda a: True)
    assert a.shape == (0, 3) and a.dtype == np.float64


def test_distinct_tensors_shrinks_to_evenly_spaced_values_in_order():
    a = find(distinct_tensors((3, 4)), lambda a: True)
    np.testing.assert_allclose(a, (-10.0 + 20.0 / 12 * np.arange(12)).reshape(3, 4), rtol=0, atol=1e-12)


def test_distinct_tensors_shrinks_a_failing_property():
    # A property that fails only when the first element is not the smallest:
    # the minimal counterexample swaps two slots and has no jitter.
    a = find(distinct_tensors((5, 5)), lambda a: a.flat[0] > a.flat[1])
    assert np.sum(np.sort(a, axis=None) != a.ravel()) == 2
    np.testing.assert_allclose(np.sort(a, axis=None), -10.0 + 0.8 * np.arange(25), atol=1e-12)


@pytest.mark.parametrize(
    ("shape", "gap", "lo", "hi", "n"),
    [((3, 4), 2.0, -10.0, 10.0, 12), ((5,), 1.0, 0.0, 4.0, 5), ((2, 2), 0.3, -0.5, 0.5, 4)],
)
def test_distinct_tensors_too_large_a_gap_is_a_clear_error(shape, gap, lo, hi, n):
    with pytest.raises(ValueError) as info:
        distinct_tensors(shape, gap=gap, lo=lo, hi=hi)
    msg = str(info.value)
    for part in (str(shape), f"n={n}", f"gap={gap}", f"[{lo}, {hi}]"):
        assert part in msg, (part, msg)


def test_distinct_tensors_too_large_a_gap_for_a_drawn_shape_raises_when_drawn():
    strategy = distinct_tensors(st.just((3, 4)), gap=5.0)
    with pytest.raises(ValueError, match=re.escape("shape (3, 4) has n=12 elements")):
        find(strategy, lambda a: True)


@pytest.mark.parametrize(("gap", "lo", "hi"), [(-1.0, 0.0, 1.0), (0.1, 1.0, 1.0), (0.1, 0.0, np.inf)])
def test_distinct_tensors_rejects_a_bad_gap_or_range(gap, lo, hi):
    with pytest.raises(ValueError, match="distinct_tensors"):
        distinct_tensors((2,), gap=gap, lo=lo, hi=hi)


# --------------------------------------------------------------------------- #
# assert_gradients_match: the input-mutation check
# --------------------------------------------------------------------------- #
class Double(mgx.Function):
    """Forward: y = 2 x.   Backward: dL/dx = 2 dL/dy"""

    def forward(self, x):
        return x * 2

    def backward(self, gy):
        return gy * 2


class Zeroing(mgx.Function):
    """Double, but forward zeroes its input first (so its gradient is wrong too)."""

    def forward(self, x):
        x[...] = 0.0
        return x * 2

    def backward(self, gy):
        return gy * 2


class ZeroingAfter(mgx.Function):
    """Double, but forward zeroes its input after using it: the gradient is right."""

    def forward(self, x):
        y = x * 2
        x[...] = 0.0
        return y

    def backward(self, gy):
        return gy * 2


class ScaleSecondInPlace(mgx.Function):
    """y = a + b with a correct gradient, but forward doubles b in place after using it."""

    def forward(self, a, b):
        y = a + b
        b *= 2
        return y

    def backward(self, gy):
        return gy, gy


class CubeBackwardScribbles(mgx.Function):
    """y = x**3; backward computes the right gradient, then scribbles on its saved input."""

    def forward(self, x):
        return x**3

    def backward(self, gy):
        (x,) = self.inputs
        gx = gy * 3 * x * x
        x.data *= 2  # the planted mutation: the leaf the user passed in
        return gx


class CubeBackwardOnArraysScribbles(mgx.Function):
    """The same, on the fast path: backward gets the saved input as an ndarray."""

    backward_on_arrays = True

    def forward(self, x):
        return x**3

    def backward(self, gy):
        (x,) = self.saved
        gx = gy * 3 * x * x
        x[...] = 0.0
        return gx


def test_a_correct_op_passes():
    assert_gradients_match(Double.apply, np.array([1.0, -2.0, 0.5]))
    assert_gradients_match(lambda a, b: a * b, np.arange(6.0).reshape(2, 3), np.array([1.5, -2.0, 0.25]))


@given(x=distinct_tensors((3, 4)))
def test_a_correct_op_passes_on_drawn_inputs(x):
    assert_gradients_match(lambda t: t.max(axis=1), x)


def test_a_mutating_forward_is_caught():
    with pytest.raises(AssertionError, match=r"fn mutated input 0 .*during the forward pass"):
        assert_gradients_match(Zeroing.apply, np.array([1.0, -2.0, 0.5]))


def test_a_mutating_forward_with_a_correct_gradient_is_caught():
    # The old check compared two copies fn never saw, and this op passed.
    with pytest.raises(AssertionError, match=r"fn mutated input 0 .*during the forward pass"):
        assert_gradients_match(ZeroingAfter.apply, np.array([1.0, -2.0, 0.5]))


def test_the_message_names_the_mutated_input():
    a, b = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    with pytest.raises(AssertionError) as info:
        assert_gradients_match(ScaleSecondInPlace.apply, a, b)
    msg = str(info.value)
    assert "fn mutated input 1 (shape (2,))" in msg
    assert "input 0" not in msg
    assert "[3., 4.]" in msg and "[6., 8.]" in msg  # was, now
    np.testing.assert_array_equal(b, [3.0, 4.0])  # the caller's arrays are never handed to fn


def test_a_mutating_backward_is_caught():
    with pytest.raises(AssertionError, match=r"fn mutated input 0 .*during the backward pass"):
        assert_gradients_match(CubeBackwardScribbles.apply, np.array([1.0, -2.0, 0.5]))


def test_a_mutating_backward_on_arrays_is_caught():
    with pytest.raises(AssertionError, match=r"fn mutated input 0 .*during the backward pass"):
        assert_gradients_match(CubeBackwardOnArraysScribbles.apply, np.array([1.0, -2.0, 0.5]))


def test_a_wrong_gradient_is_still_reported_as_such():
    class WrongDouble(Double):
        def backward(self, gy):
            return gy * 3

    with pytest.raises(AssertionError, match="gradient of input 0"):
        assert_gradients_match(WrongDouble.apply, np.array([1.0, -2.0, 0.5]))
