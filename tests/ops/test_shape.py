"""reshape, transpose, flatten, .T, broadcast_to, sum_to, indexing, setitem, concat,
stack, where, and squeeze ... scatter_add (below): property tests against the oracle and
NumPy, in-place updates through the views against PyTorch, and the error messages."""

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
    spread = axes if axes != [0, 1] else [tuple(axes)]  # transpose(0, 1) on 2-D is refused: see below
    np.testing.assert_array_equal(mgx.tensor(x).transpose(*spread).data, x.transpose(axes))
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


# --------------------------------------------------------------------------- #
# squeeze, unsqueeze, expand_dims, permute, view, swapaxes, concatenate, split, pad,
# repeat, tile, flip, roll, take_along_axis, gather, scatter_add (issue 12)
# --------------------------------------------------------------------------- #
small = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3)


@given(data=st.data())
def test_squeeze_and_expand_dims_match_numpy(data):
    x = data.draw(tensors(hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=2)))
    ones = [k for k, n in enumerate(x.shape) if n == 1]
    axis = data.draw(st.one_of(st.none(), st.sampled_from(ones))) if ones else None
    squeezed = np.squeeze(x, axis)
    np.testing.assert_array_equal(F.squeeze(x, axis).data, squeezed)
    axes = data.draw(hnp.valid_tuple_axes(squeezed.ndim + 2, min_size=2, max_size=2))
    np.testing.assert_array_equal(F.expand_dims(squeezed, axes).data, np.expand_dims(squeezed, axes))
    assert_gradients_match(lambda t: F.expand_dims(F.squeeze(t, axis), axes), x, seed=data.draw(seeds))


@given(data=st.data())
def test_split_matches_numpy_and_each_piece_gets_its_gradient(data):
    x = data.draw(tensors(small))
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    n = x.shape[axis]
    sections = st.sampled_from([d for d in range(1, n + 1) if n % d == 0])
    cuts = data.draw(st.one_of(sections, st.lists(st.integers(-n - 1, n + 1), max_size=3)))  # NumPy's
    # rule for the indices also where they are unsorted, negative or past the end
    pieces = F.split(x, cuts, axis)
    expected = np.split(x, cuts, axis)
    assert len(pieces) == len(expected)
    for p, e in zip(pieces, expected, strict=True):
        np.testing.assert_array_equal(p.data, e)

    def weighted(t):  # each piece times its own factor: a gradient sent to the wrong piece shows
        return F.concatenate([p * (i + 1.0) for i, p in enumerate(F.split(t, cuts, axis))], axis=axis)

    assert_gradients_match(weighted, x, seed=data.draw(seeds))


@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "symmetric", "wrap"])
@given(data=st.data())
def test_pad_matches_numpy_in_every_mode_and_width_form(mode, data):
    # widths up to 5 on sides of 1 to 3: wider than the tensor, where NumPy reflects and wraps again
    x = data.draw(tensors(small))
    form = data.draw(st.sampled_from(["int", "pair", "per axis", "one pair for all", "dict"]))
    w = st.integers(0, 5)
    pad_width = {
        "int": data.draw(w),
        "pair": (data.draw(w), data.draw(w)),
        "per axis": tuple((data.draw(w), data.draw(w)) for _ in x.shape),
        "one pair for all": ((data.draw(w), data.draw(w)),),
        "dict": {-1: (data.draw(w), data.draw(w)), 0: data.draw(w)},
    }[form]
    kwargs = {"constant_values": -1.5} if mode == "constant" else {}
    reference = pad_width
    if isinstance(pad_width, dict):  # NumPy takes a dict only from 2.3: spell it out per axis
        per_axis = (
            {a % x.ndim: (v, v) if isinstance(v, int) else v for a, v in pad_width.items()} if x.ndim else {}
        )
        reference = tuple(per_axis.get(k, (0, 0)) for k in range(x.ndim))
    np.testing.assert_array_equal(
        F.pad(x, pad_width, mode=mode, **kwargs).data, np.pad(x, reference, mode=mode, **kwargs)
    )
    assert_gradients_match(lambda t: F.pad(t, pad_width, mode=mode, **kwargs), x, seed=data.draw(seeds))


@given(data=st.data())
def test_repeat_tile_flip_and_roll_match_numpy(data):
    x = data.draw(tensors(small))
    axis = data.draw(st.one_of(st.none(), st.integers(-x.ndim, x.ndim - 1)))
    n = x.size if axis is None else x.shape[axis]
    repeats = data.draw(st.one_of(st.integers(0, 3), st.lists(st.integers(0, 3), min_size=n, max_size=n)))
    reps = data.draw(st.one_of(st.integers(0, 3), st.lists(st.integers(0, 2), max_size=4).map(tuple)))
    flip_axes = data.draw(st.one_of(st.none(), hnp.valid_tuple_axes(x.ndim)))
    shift = data.draw(st.integers(-7, 7))
    cases = [
        (lambda t: F.repeat(t, repeats, axis), np.repeat(x, repeats, axis)),
        (lambda t: F.tile(t, reps), np.tile(x, reps)),
        (lambda t: F.flip(t, flip_axes), np.flip(x, flip_axes)),
        (lambda t: F.roll(t, shift, axis), np.roll(x, shift, axis)),
        (lambda t: F.roll(t, (shift, 1, -2), (0, -1, 0)), np.roll(x, (shift, 1, -2), (0, -1, 0))),
    ]
    for fn, expected in cases:
        np.testing.assert_array_equal(fn(mgx.tensor(x)).data, expected)
        assert_gradients_match(fn, x, seed=data.draw(seeds))


@given(data=st.data())
def test_take_along_axis_matches_numpy(data):
    x = data.draw(tensors(small))
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    n = x.shape[axis]
    shape = tuple(
        data.draw(st.integers(1, 4)) if k == axis % x.ndim else data.draw(st.sampled_from([1, s]))
        for k, s in enumerate(x.shape)
    )
    # negative indices count from the end, as in NumPy
    idx = data.draw(hnp.arrays(np.int64, shape, elements=st.integers(-n, n - 1)))
    np.testing.assert_array_equal(F.take_along_axis(x, idx, axis).data, np.take_along_axis(x, idx, axis))
    assert_gradients_match(lambda t: F.take_along_axis(t, idx, axis), x, seed=data.draw(seeds))
    flat = data.draw(hnp.arrays(np.int64, (3,), elements=st.integers(0, x.size - 1)))
    np.testing.assert_array_equal(F.take_along_axis(x, flat, None).data, np.take_along_axis(x, flat, None))


def test_gather_and_scatter_add_by_hand():
    x = mgx.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    index = np.array([[2, 0], [1, 1]])
    out = x.gather(1, index)  # out[i][j] = x[i][index[i][j]]
    np.testing.assert_array_equal(out.data, [[3.0, 1.0], [5.0, 5.0]])
    (out * np.array([[1.0, 10.0], [100.0, 1000.0]])).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[10.0, 0.0, 1.0], [0.0, 1100.0, 0.0]])  # 5 taken twice

    base = mgx.tensor(np.zeros((2, 3)), requires_grad=True)
    src = mgx.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    out = base.scatter_add(1, index, src)  # out[i][index[i][j]] += src[i][j]
    np.testing.assert_array_equal(out.data, [[2.0, 0.0, 1.0], [0.0, 7.0, 0.0]])  # 3 + 4 accumulate
    w = np.array([[1.0, 10.0, 100.0], [1000.0, 10000.0, 100000.0]])
    (out * w).sum().backward()
    np.testing.assert_array_equal(base.grad.data, w)
    np.testing.assert_array_equal(src.grad.data, [[100.0, 1.0], [10000.0, 10000.0]])  # w gathered at index


def test_scatter_add_with_a_larger_src_adds_only_the_part_index_covers():
    # PyTorch 2.13 computes this forward but its backward raises ("ScatterAddBackward0 returned an
    # invalid gradient at index 1"); the uncovered part of src had no effect, so its gradient is 0.
    src = mgx.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    out = F.scatter_add(np.zeros((1, 3)), 1, [[2, 2]], src)  # index covers src[0, :2] only
    np.testing.assert_array_equal(out.data, [[0.0, 0.0, 3.0]])  # src[0, 0] and src[0, 1] both go to 2
    (out * np.array([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_array_equal(src.grad.data, [[3.0, 3.0, 0.0], [0.0, 0.0, 0.0]])


@given(data=st.data())
def test_gather_and_scatter_add_match_the_oracle_with_repeated_indices(data):
    x = data.draw(tensors(small))
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    shape = tuple(
        data.draw(st.integers(1, 4)) if k == axis % x.ndim else data.draw(st.integers(1, s))
        for k, s in enumerate(x.shape)
    )
    idx = data.draw(hnp.arrays(np.int64, shape, elements=st.integers(0, x.shape[axis] - 1)))
    src = data.draw(tensors(tuple(s + data.draw(st.integers(0, 1)) for s in shape)))  # may be larger
    assert_gradients_match(lambda t: F.gather(t, axis, idx), x, seed=data.draw(seeds))
    assert_gradients_match(lambda t, s: F.scatter_add(t, axis, idx, s), x, src, seed=data.draw(seeds))


def test_float32_stays_float32():
    x = mgx.tensor(np.ones((2, 3), dtype=np.float32), requires_grad=True)
    outs = [
        x.squeeze(),
        x.unsqueeze(0),
        x.permute(1, 0),
        x.view(-1),
        x.swapaxes(0, 1),
        x.split(3, axis=1)[0],
        F.pad(x, 1, constant_values=2.0),
        F.pad(x, 1, mode="reflect"),
        x.repeat(2),
        x.tile(2),
        x.flip(),
        x.roll(1),
        F.take_along_axis(x, np.zeros((1, 3), int), 0),
        x.gather(0, np.zeros((1, 3), int)),
        x.scatter_add(0, np.zeros((1, 3), int), np.ones((1, 3))),
        F.concatenate([x, x], None),
    ]
    for out in outs:
        assert out.dtype == np.float32
        out.sum().backward()
        assert x.grad.dtype == np.float32


# in-place updates through the views (compared with PyTorch) and of the copies
def _update_through_views(lib):
    """A program that updates a tensor through each view-making op, then differentiates."""
    is_torch = lib.__name__ == "torch"
    a = lib.tensor(np.arange(24.0).reshape(2, 3, 4) / 10, requires_grad=True)
    w = lib.tensor(np.linspace(-1.0, 1.0, 24).reshape(2, 3, 4), requires_grad=True)
    c = a * 1
    v = c[:, :1].squeeze(1)  # (2, 4)
    v *= 3
    u = c.unsqueeze(0)
    u += w.unsqueeze(0)
    p = c.permute(2, 0, 1)
    p[0] = p[1] * 2
    s = c.swapaxes(0, 2)
    s -= 0.5
    r = c.view(6, 4)
    r[1:3] += r[0]
    first, rest = lib.tensor_split(c, [1], 2) if is_torch else c.split([1], axis=2)
    rest += first
    if not is_torch:
        e = F.expand_dims(c, (0, 2))
        e /= 2
    else:
        e = c.unsqueeze(0).unsqueeze(2)
        e /= 2
    ((c * c).sum() + (v * w[:, 0]).sum()).backward()
    as_np = (lambda t: t.detach().numpy()) if is_torch else (lambda t: t.data)
    return as_np(c), as_np(a.grad), as_np(w.grad)


def test_updates_through_squeeze_unsqueeze_permute_swapaxes_view_and_split_write_back_as_in_pytorch():
    torch = pytest.importorskip("torch")
    for ours, theirs in zip(_update_through_views(mgx), _update_through_views(torch), strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_flip_roll_repeat_tile_pad_gather_give_new_memory_as_in_pytorch():
    for make in [
        lambda t: t.flip(0),
        lambda t: t.roll(1, 0),
        lambda t: t.repeat(1, axis=0),
        lambda t: t.tile(1),
        lambda t: F.pad(t, 0),
        lambda t: F.pad(t, 0, mode="edge"),
        lambda t: t.gather(0, np.array([0, 1])),
        lambda t: F.take_along_axis(t, np.array([0, 1]), 0),
        lambda t: t.scatter_add(0, np.array([0]), np.array([0.0])),
    ]:
        c = mgx.tensor([1.0, 2.0]) * 1
        out = make(c)
        out += 10
        np.testing.assert_array_equal(c.data, [1.0, 2.0])


def test_errors_name_the_op_and_the_problem():
    x = mgx.tensor(np.ones((2, 1, 3)))
    with pytest.raises(ValueError, match=r"squeeze: axis 0 of a tensor of shape \(2, 1, 3\) has size 2"):
        x.squeeze(0)
    with pytest.raises(ValueError, match="squeeze: repeated axis"):
        F.squeeze(x, (1, -2))
    with pytest.raises(np.exceptions.AxisError, match="unsqueeze: axis 4 is out of range"):
        x.unsqueeze(4)
    with pytest.raises(TypeError, match="unsqueeze: axis must be an int"):
        x.unsqueeze((0, 1))
    with pytest.raises(ValueError, match="expand_dims: repeated axis"):
        F.expand_dims(x, (0, -5))
    with pytest.raises(ValueError, match=r"permute: axes \(0, 1\) are not a permutation of 3 axes"):
        x.permute(0, 1)
    with pytest.raises(TypeError, match="view: the shape must be ints"):
        x.view(np.float32)
    with pytest.raises(ValueError, match=r"cannot reshape a tensor of shape \(2, 1, 3\) \(6 elements\)"):
        x.view(4, -1)
    with pytest.raises(np.exceptions.AxisError, match="swapaxes: axis 3 is out of range"):
        x.swapaxes(0, 3)
    with pytest.raises(ValueError, match="concatenate: needs at least one tensor"):
        F.concatenate([])
    with pytest.raises(
        ValueError, match=r"split: axis 2 .* \(length 3\) cannot be split into 2 equal sections"
    ):
        x.split(2, axis=2)
    with pytest.raises(ValueError, match="split: the number of sections must be positive, got 0"):
        x.split(0)
    with pytest.raises(TypeError, match="split: indices_or_sections must be an int"):
        x.split([0.5])
    with pytest.raises(ValueError, match="pad: pad_width must not be negative"):
        F.pad(x, -1)
    with pytest.raises(
        ValueError, match=r"pad: pad_width \(1, 2, 3\) does not fit a tensor of shape \(2, 1, 3\)"
    ):
        F.pad(x, (1, 2, 3))
    with pytest.raises(TypeError, match="pad: pad_width must be ints"):
        F.pad(x, 1.5)
    with pytest.raises(TypeError, match="pad: constant_values is a constant, and this tensor requires grad"):
        F.pad(x, 1, constant_values=mgx.tensor(2.0, requires_grad=True))
    with pytest.raises(ValueError, match="pad: mode 'mean' is not supported"):
        F.pad(x, 1, mode="mean")
    with pytest.raises(ValueError, match="pad: constant_values is for mode='constant', not for mode='edge'"):
        F.pad(x, 1, mode="edge", constant_values=2.0)
    with pytest.raises(ValueError, match="pad: cannot pad a tensor of shape .* in mode 'edge'"):
        F.pad(np.ones((0, 2)), 1, mode="edge")
    with pytest.raises(ValueError, match="repeat: repeats must not be negative"):
        x.repeat(-1)
    with pytest.raises(ValueError, match=r"repeat: 2 repeats for an axis of length 3"):
        x.repeat([1, 2], axis=2)
    with pytest.raises(TypeError, match="repeat: repeats must be an int or a sequence of ints"):
        x.repeat(1.5)
    with pytest.raises(ValueError, match="tile: reps must be non-negative ints"):
        x.tile((2, -1))
    with pytest.raises(ValueError, match="tile: reps must be non-negative ints, got 1.5"):
        x.tile(1.5)
    with pytest.raises(ValueError, match="flip: repeated axis"):
        x.flip((0, 0))
    with pytest.raises(
        ValueError, match="roll: shift .* and axis .* must be ints or sequences of the same length"
    ):
        x.roll((1, 2), (0, 1, 2))
    with pytest.raises(TypeError, match="roll: shift and axis must be ints"):
        x.roll(1.5, 0)
    with pytest.raises(
        ValueError, match=r"take_along_axis: indices of shape \(2,\) must have as many dimensions"
    ):
        F.take_along_axis(x, np.array([0, 1]), 0)
    with pytest.raises(IndexError, match=r"take_along_axis: index 3 is out of range \[-3, 3\) for axis 2"):
        F.take_along_axis(x, np.array([[[3]]]), 2)
    with pytest.raises(TypeError, match="gather: the indices must be integers, got dtype float64"):
        x.gather(0, np.zeros((1, 1, 1)))
    with pytest.raises(IndexError, match=r"gather: index -1 is out of range \[0, 2\) for axis 0"):
        x.gather(0, np.array([[[-1]]]))
    with pytest.raises(ValueError, match=r"gather: index of shape \(1, 2, 1\) must have as many dimensions"):
        x.gather(0, np.zeros((1, 2, 1), int))
    with pytest.raises(TypeError, match="scatter_add: src has dtype float32 and the tensor float64"):
        x.scatter_add(0, np.zeros((1, 1, 1), int), mgx.tensor(np.ones((1, 1, 1), np.float32)))
    with pytest.raises(
        ValueError, match=r"scatter_add: index of shape \(1, 1, 2\) must have as many dimensions as src"
    ):
        x.scatter_add(0, np.zeros((1, 1, 2), int), np.ones((1, 1, 1)))


def test_transpose_with_two_axes_that_numpy_and_pytorch_read_differently_is_refused():
    """t.transpose(0, 1) keeps a 2-D tensor as it is in NumPy and swaps its axes in PyTorch: before,
    a PyTorch user silently got the unswapped tensor."""
    t = mgx.tensor(np.arange(6.0).reshape(2, 3))
    for axes in [(0, 1), (-2, -1), (0, -1)]:
        with pytest.raises(
            ValueError, match=rf"transpose\({axes[0]}, {axes[1]}\) on a 2-D tensor is ambiguous"
        ):
            t.transpose(*axes)
    with pytest.raises(ValueError, match=r"on a 3-D tensor is ambiguous.*t.swapaxes\(0, 2\)"):
        mgx.tensor(np.zeros((2, 3, 4))).transpose(0, 2)
    # the readings that agree, or that say which they mean, still work
    np.testing.assert_array_equal(t.transpose(1, 0).data, t.data.T)
    np.testing.assert_array_equal(t.transpose().data, t.data.T)
    np.testing.assert_array_equal(t.transpose((0, 1)).data, t.data)
    np.testing.assert_array_equal(t.swapaxes(0, 1).data, t.data.T)
