"""reshape, transpose, flatten, .T, broadcast_to, sum_to, indexing, setitem, concat,
stack, where: property tests against the oracle and NumPy."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import microgradx as mgx
import microgradx.functional as F
from microgradx.testing import assert_gradients_match, broadcastable_shapes, tensors
from tests.strategies import seeds

shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)


@given(data=st.data())
def test_reshape_flatten_and_T_match_oracle(data):
    x = data.draw(tensors(shapes))
    new_shape = data.draw(st.sampled_from([(-1,), (x.size, 1), (1, -1), x.shape[::-1]]))
    assert F.reshape(x, new_shape).shape == x.reshape(new_shape).shape
    assert_gradients_match(
        lambda t: t.reshape(new_shape) * np.arange(x.size).reshape(new_shape), x, seed=data.draw(seeds)
    )
    assert_gradients_match(lambda t: t.flatten(), x, seed=data.draw(seeds))
    assert_gradients_match(lambda t: t.T, x, seed=data.draw(seeds))


@given(data=st.data())
def test_transpose_matches_oracle(data):
    x = data.draw(tensors(shapes))
    axes = data.draw(st.permutations(range(x.ndim)))
    np.testing.assert_array_equal(mgx.tensor(x).transpose(*axes).data, x.transpose(axes))
    assert_gradients_match(lambda t: t.transpose(axes), x, seed=data.draw(seeds))


@given(data=st.data())
def test_broadcast_to_and_sum_to_match_oracle(data):
    small, big = data.draw(broadcastable_shapes())
    target = np.broadcast_shapes(small, big)
    x = data.draw(tensors(small))
    assert_gradients_match(lambda t: F.broadcast_to(t, target), x, seed=data.draw(seeds))
    y = data.draw(tensors(target))
    np.testing.assert_allclose(F.sum_to(y, small).data.sum(), y.sum())
    assert_gradients_match(lambda t: F.sum_to(t, small), y, seed=data.draw(seeds))


@given(data=st.data())
def test_basic_indexing_matches_oracle(data):
    x = data.draw(tensors(shapes))
    index = data.draw(hnp.basic_indices(x.shape, allow_newaxis=True, allow_ellipsis=True))
    np.testing.assert_array_equal(mgx.tensor(x)[index].data, x[index])
    assert_gradients_match(lambda t: t[index], x, seed=data.draw(seeds))


@given(data=st.data())
def test_integer_array_indexing_accumulates_repeats(data):
    x = data.draw(tensors(shapes))
    index = data.draw(hnp.integer_array_indices(x.shape, result_shape=hnp.array_shapes(max_dims=2)))
    np.testing.assert_array_equal(mgx.tensor(x)[index].data, x[index])
    assert_gradients_match(lambda t: t[index], x, seed=data.draw(seeds))


@given(data=st.data())
def test_boolean_mask_indexing_matches_oracle(data):
    x = data.draw(tensors(shapes))
    mask = data.draw(hnp.arrays(np.bool_, x.shape))
    assert_gradients_match(lambda t: t[mask], x, seed=data.draw(seeds))
    assert_gradients_match(lambda t: t[mgx.tensor(mask)], x, seed=data.draw(seeds))


def test_repeated_index_gradient_by_hand():
    x = mgx.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[[0, 0, 2, 0]].sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 0.0, 1.0])  # element 0 picked 3 times


@given(data=st.data())
def test_setitem_records_both_operands(data):
    x = data.draw(tensors(shapes))
    index = data.draw(hnp.basic_indices(x.shape, min_dims=0))
    v_shape = x[index].shape
    v = data.draw(tensors(v_shape))

    def assign(a, b):
        out = a * 1.0  # a non-leaf copy: assigning into a leaf that requires grad is an error
        out[index] = b * 2.0
        return out

    assert_gradients_match(assign, x, v, seed=data.draw(seeds))


@given(data=st.data())
def test_concat_and_stack_match_oracle(data):
    base = data.draw(shapes)
    axis = data.draw(st.integers(-len(base), len(base) - 1))
    sizes = data.draw(st.lists(st.integers(1, 3), min_size=1, max_size=3))
    parts = []
    for s in sizes:
        shape = list(base)
        shape[axis] = s
        parts.append(data.draw(tensors(tuple(shape))))
    np.testing.assert_array_equal(F.concat(parts, axis=axis).data, np.concatenate(parts, axis=axis))
    assert_gradients_match(lambda *ts: F.concat(ts, axis=axis), *parts, seed=data.draw(seeds))
    same = [data.draw(tensors(base)) for _ in sizes]
    saxis = data.draw(st.integers(-len(base) - 1, len(base)))
    np.testing.assert_array_equal(F.stack(same, axis=saxis).data, np.stack(same, axis=saxis))
    assert_gradients_match(lambda *ts: F.stack(ts, axis=saxis), *same, seed=data.draw(seeds))


@given(data=st.data())
def test_where_matches_oracle(data):
    sc, sa, sb = data.draw(broadcastable_shapes(num_shapes=3))
    cond = data.draw(hnp.arrays(np.bool_, sc))
    a, b = data.draw(tensors(sa)), data.draw(tensors(sb))
    np.testing.assert_array_equal(F.where(cond, a, b).data, np.where(cond, a, b))
    assert_gradients_match(lambda s, t: F.where(cond, s, t), a, b, seed=data.draw(seeds))


def test_shape_errors_name_the_shapes():
    x = mgx.tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"shape \(2, 3\) \(6 elements\) into shape \(4,\)"):
        x.reshape(4)
    with pytest.raises(ValueError, match=r"\(2, 3\) cannot be broadcast to shape \(3, 3\)"):
        F.broadcast_to(x, (3, 3))
    with pytest.raises(TypeError, match="boolean"):
        F.where(np.array([1, 0]), [1.0, 2.0], [3.0, 4.0])
    with pytest.raises(IndexError):
        x[5]


@pytest.mark.parametrize("shape", [(2, 2, 2), (2, 3, 4)])
@pytest.mark.parametrize("axes", [(-1, 0, 1), (2, -3, -2), (-2, -1, -3)])
def test_transpose_with_negative_axes(shape, axes):
    # Regression: the backward used argsort of the raw (negative) axes: a wrong gradient on
    # (2, 2, 2) and a shape error on (2, 3, 4). Expected: NumPy transposes w back.
    x = mgx.tensor(np.arange(np.prod(shape), dtype=float).reshape(shape), requires_grad=True)
    y = F.transpose(x, axes)
    np.testing.assert_array_equal(y.data, np.transpose(x.data, axes))
    w = np.arange(y.size, dtype=float).reshape(y.shape)
    (y * w).sum().backward()
    positive = tuple(a % len(shape) for a in axes)
    np.testing.assert_array_equal(x.grad.data, np.transpose(w, np.argsort(positive)))
    assert_gradients_match(lambda t: t.transpose(*axes), x.data)


def test_transpose_of_the_issue_matches_pytorch_permute():
    x = mgx.tensor(np.zeros((2, 2, 2)), requires_grad=True)
    (F.transpose(x, (-1, 0, 1)) * np.arange(8.0).reshape(2, 2, 2)).sum().backward()
    # torch.permute(x, (-1, 0, 1)) gives this gradient (PyTorch 2.13, float64)
    np.testing.assert_array_equal(x.grad.data.ravel(), [0, 4, 1, 5, 2, 6, 3, 7])


def test_bad_axes_name_the_problem():
    x = mgx.tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"transpose: axes \(0, 0\) are not a permutation of 2 axes"):
        F.transpose(x, (0, 0))
    with pytest.raises(
        np.exceptions.AxisError, match="transpose: axis 2 is out of range for a tensor with 2"
    ):
        F.transpose(x, (2, 0))
    with pytest.raises(ValueError, match=r"transpose: axes \(1,\) are not a permutation of 2 axes"):
        x.transpose(1)
    with pytest.raises(np.exceptions.AxisError, match="concat: axis 2 is out of range"):
        F.concat([x, x], axis=2)
    with pytest.raises(np.exceptions.AxisError, match="stack: axis -4 is out of range"):
        F.stack([x, x], axis=-4)
