"""matmul (1-D, 2-D and batched, with broadcast batch axes) and linear, against the oracle; einsum
(every form of subscripts NumPy accepts) against NumPy and PyTorch, to the second order;
tensordot, dot, outer, trace, diag, tril and triu against NumPy; the error messages."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import microgradx as mgx
import microgradx.functional as F
from microgradx.testing import assert_gradients_match, tensors
from tests.strategies import matmul_shapes, seeds

try:  # the second oracle, where it is installed
    import torch
except ImportError:  # pragma: no cover - depends on the environment
    torch = None

side = st.integers(1, 4)


@given(data=st.data())
def test_matmul_matches_oracle_and_numpy(data):
    sa, sb = data.draw(matmul_shapes())
    a, b = data.draw(tensors(sa)), data.draw(tensors(sb))
    np.testing.assert_allclose((mgx.tensor(a) @ mgx.tensor(b)).data, a @ b, rtol=1e-12, atol=1e-12)
    assert_gradients_match(lambda x, y: x @ y, a, b, seed=data.draw(seeds))
    assert_gradients_match(F.matmul, a, b, seed=data.draw(seeds))


@given(data=st.data())
def test_linear_matches_oracle(data):
    n, i, o = data.draw(side), data.draw(side), data.draw(side)
    x, W, b = data.draw(tensors((n, i))), data.draw(tensors((i, o))), data.draw(tensors((o,)))
    np.testing.assert_allclose(F.linear(x, W, b).data, x @ W + b)
    assert_gradients_match(F.linear, x, W, b, seed=data.draw(seeds))


def test_matmul_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"matmul: shapes \(2, 3\) and \(4, 5\) are not aligned: 3 .* != 4"):
        mgx.tensor(np.ones((2, 3))) @ mgx.tensor(np.ones((4, 5)))
    with pytest.raises(ValueError, match=r"at least one dimension, got shapes \(\) and \(3,\)"):
        mgx.tensor(2.0) @ mgx.tensor(np.ones(3))
    with pytest.raises(ValueError, match=r"batch dimensions of shapes \(2, 1, 3\) and \(3, 3, 1\)"):
        mgx.tensor(np.ones((2, 1, 3))) @ mgx.tensor(np.ones((3, 3, 1)))


# --------------------------------------------------------------------------- #
# einsum
# --------------------------------------------------------------------------- #
#: (subscripts, operand shapes): explicit and implicit output, '...', repeated indices,
#: broadcasting of size-1 dimensions, up to four operands
EINSUM_CASES = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ij,jk", [(2, 3), (3, 4)]),
    ("ba,ac", [(2, 3), (3, 4)]),  # implicit output 'bc'
    ("bA", [(2, 3)]),  # implicit output 'Ab': uppercase sorts first, as in NumPy
    ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]),
    ("iii->", [(2, 2, 2)]),
    ("iji->ji", [(2, 3, 2)]),
    ("iij->ji", [(2, 2, 3)]),
    ("ii,i->i", [(3, 3), (3,)]),
    ("ij->", [(2, 3)]),
    ("ij->ji", [(2, 3)]),
    ("ij->j", [(2, 3)]),
    ("i,i", [(3,), (3,)]),
    ("i,i->i", [(1,), (3,)]),  # a size-1 index broadcasts, as in NumPy
    ("i,j->ij", [(2,), (3,)]),
    (",i->i", [(), (3,)]),
    ("", [()]),
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]),
    ("ij,jk,kl->il", [(2, 3), (3, 2), (2, 4)]),
    ("ij,jk,kl,lm->mi", [(2, 3), (3, 2), (2, 2), (2, 3)]),
    ("...ij,...jk->...ik", [(2, 1, 2, 3), (4, 3, 2)]),  # '...' broadcasts (2, 1) with (4,)
    ("...i,...i->...", [(2, 3), (3,)]),
    ("...,...->...", [(2, 1), (3,)]),
    ("i...->...", [(2, 3, 1)]),
    ("...ii->...i", [(2, 3, 3)]),
    ("i...i", [(3, 2, 3)]),  # implicit output with '...' first
    ("ab...,b...->a...", [(2, 3, 4), (3, 1)]),
    (" i j , j k -> i k ", [(2, 3), (3, 4)]),  # spaces are ignored
]


def _arrays(shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.uniform(-2, 2, s) for s in shapes]


@pytest.mark.parametrize(
    "subscripts, shapes", EINSUM_CASES, ids=[c[0].strip() or "scalar" for c in EINSUM_CASES]
)
def test_einsum_matches_numpy_and_the_oracle_to_second_order(subscripts, shapes):
    arrays = _arrays(shapes)
    np.testing.assert_allclose(
        F.einsum(subscripts, *arrays).data, np.einsum(subscripts, *arrays), rtol=1e-13, atol=1e-13
    )
    assert_gradients_match(lambda *ts: F.einsum(subscripts, *ts), *arrays)
    assert mgx.gradcheck(lambda *ts: F.einsum(subscripts, *ts), *arrays, order=2)


@pytest.mark.skipif(torch is None, reason="PyTorch not installed: run TORCH_ORACLE=1 make test")
@pytest.mark.parametrize(
    "subscripts, shapes", EINSUM_CASES, ids=[c[0].strip() or "scalar" for c in EINSUM_CASES]
)
def test_einsum_gradients_match_torch(subscripts, shapes):
    arrays = _arrays(shapes, seed=1)
    ours = [mgx.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.from_numpy(a).requires_grad_() for a in arrays]
    out, ref = F.einsum(subscripts, *ours), torch.einsum(subscripts, *theirs)
    g = np.random.default_rng(2).uniform(-2, 2, out.shape)
    out.backward(g)
    ref.backward(torch.from_numpy(g))
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a.grad.data, b.grad.numpy(), rtol=1e-12, atol=1e-13)


def test_einsum_repeated_index_puts_the_gradient_on_the_diagonal():
    x = mgx.tensor(np.arange(9.0).reshape(3, 3), requires_grad=True)
    F.einsum("ii->i", x).backward(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(x.grad.data, np.diag([1.0, 2.0, 3.0]))  # by hand


def test_einsum_sublist_form_and_one_tensor_twice():
    a, b = _arrays([(2, 3), (3, 4)])
    np.testing.assert_allclose(F.einsum(a, [0, 1], b, [1, 2], [0, 2]).data, a @ b, rtol=1e-13)
    np.testing.assert_allclose(F.einsum(a, [Ellipsis, 1], b, [1, 2]).data, np.einsum(a, [..., 1], b, [1, 2]))
    x = mgx.tensor(a, requires_grad=True)
    F.einsum("ij,ij->", x, x).backward()
    np.testing.assert_allclose(x.grad.data, 2 * a, rtol=1e-14)  # d sum(x * x) = 2x


def test_einsum_keeps_float32():
    a, b = (mgx.tensor(v.astype(np.float32), requires_grad=True) for v in _arrays([(2, 3), (3,)]))
    y = F.einsum("ij,j->i", a, b)
    y.sum().backward()
    assert y.dtype == a.grad.dtype == b.grad.dtype == np.float32


@pytest.mark.parametrize(
    "subscripts, shapes, message",
    [
        ("ij,jk->ik", [(2, 3)], r"subscripts 'ij,jk->ik' name 2 operand\(s\) but 1 were given"),
        ("ij", [(2, 3, 4)], r"operand 0 has 3 dimension\(s\) \(shape \(2, 3, 4\)\) but .* 'ij' name 2"),
        ("ij...", [(2,)], r"operand 0 has 1 dimension\(s\) .* name 2 or more"),
        ("i2", [(2, 3)], r"invalid character '2' in subscripts 'i2'"),
        ("i.j", [(2, 3)], r"has a '.' that is not part of '...'"),
        ("...i...", [(2, 3)], r"has '...' more than once"),
        ("ij->ii", [(2, 2)], r"the output names index 'i' more than once"),
        ("ij->k", [(2, 2)], r"the output index 'k' appears in no operand"),
        ("ij,jk->ik", [(2, 3), (4, 5)], r"index 'j' has size 3 .* 4 in operand 1 .*\(2, 3\), \(4, 5\)"),
        ("ii->i", [(2, 3)], r"operand 0 repeats index 'i' over dimensions of sizes 2 and 3"),
        ("...i->i", [(2, 3)], r"1 dimension\(s\) under '...' but the output has no '...'"),
        ("...i,...i->...", [(2, 3), (4, 3)], r"under '...' \(\(2,\), \(4,\)\) do not broadcast"),
        ("i->i->i", [(2,)], r"more than one '->'"),
    ],
)  # fmt: skip
def test_einsum_errors_name_the_subscripts_and_shapes(subscripts, shapes, message):
    with pytest.raises(ValueError, match="einsum: .*" + message):
        F.einsum(subscripts, *[np.ones(s) for s in shapes])
    with pytest.raises(ValueError):  # NumPy refuses them too
        np.einsum(subscripts, *[np.ones(s) for s in shapes])


# --------------------------------------------------------------------------- #
# tensordot, dot, outer, trace, diag, tril, triu
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize(
    "sa, sb, axes",
    [((2, 3, 4), (3, 4, 2), 2), ((2, 3), (3, 2), 1), ((2, 3), (4,), 0),
     ((2, 3, 4), (4, 2, 3), ([1, 2], [2, 0])), ((2, 3), (2, 3), ([0, 1], [0, 1])), ((3, 2), (3,), (0, 0)),
     ((2, 3), (3, 2), ([-1], [-2]))],
)  # fmt: skip
def test_tensordot_matches_numpy(sa, sb, axes):
    a, b = _arrays([sa, sb])
    np.testing.assert_allclose(F.tensordot(a, b, axes).data, np.tensordot(a, b, axes), rtol=1e-13, atol=1e-14)
    assert_gradients_match(lambda x, y: F.tensordot(x, y, axes), a, b)


def test_tensordot_errors():
    a, b = np.ones((2, 3)), np.ones((4, 3))
    with pytest.raises(
        ValueError, match=r"tensordot: axis 1 of a \(size 3\) and axis 0 of b \(size 4\) differ"
    ):
        F.tensordot(a, b, 1)
    with pytest.raises(ValueError, match=r"tensordot: axes=3 must be between 0 and .* \(2\)"):
        F.tensordot(a, b, 3)
    with pytest.raises(ValueError, match=r"tensordot: axes .* pair 2 axes of a with 1 of b"):
        F.tensordot(a, b, ([0, 1], [1]))
    with pytest.raises(TypeError, match=r"tensordot: axes must be an int or a pair of sequences"):
        F.tensordot(a, b, 1.5)
    with pytest.raises(np.exceptions.AxisError, match=r"tensordot \(axes of b\): axis 2 is out of range"):
        F.tensordot(a, b, ([1], [2]))


@pytest.mark.parametrize(
    "sa, sb",
    [((3,), (3,)), ((2, 3), (3, 4)), ((2, 2, 3), (3,)), ((2, 3), (4, 3, 2)), ((), (3,)), ((2, 3), ())],
)
def test_dot_has_numpys_meaning(sa, sb):
    a, b = _arrays([sa, sb])
    np.testing.assert_allclose(F.dot(a, b).data, np.dot(a, b), rtol=1e-13)
    np.testing.assert_allclose(mgx.tensor(a).dot(b).data, np.dot(a, b), rtol=1e-13)
    assert_gradients_match(F.dot, a, b)
    with pytest.raises(
        ValueError, match=r"dot: shapes \(2, 3\) and \(4,\) are not aligned: 3 .* != 4 \(dim 0 of b\)"
    ):
        F.dot(np.ones((2, 3)), np.ones(4))


def test_outer_flattens_as_numpy():
    a, b = _arrays([(2, 2), (3,)])
    np.testing.assert_allclose(F.outer(a, b).data, np.outer(a, b), rtol=1e-14)
    assert_gradients_match(lambda x, y: x.outer(y), a, b)


@pytest.mark.parametrize(
    "shape, offset, axis1, axis2",
    [((3, 3), 0, 0, 1), ((3, 4), 1, 0, 1), ((4, 3), -2, 0, 1), ((3, 3), 5, 0, 1), ((2, 3, 4), 1, 2, 0),
     ((2, 3, 3), 0, -1, -2)],
)  # fmt: skip
def test_trace_matches_numpy(shape, offset, axis1, axis2):
    (x,) = _arrays([shape])
    np.testing.assert_allclose(
        F.trace(x, offset, axis1, axis2).data, np.trace(x, offset, axis1, axis2), rtol=1e-13, atol=1e-15
    )
    assert_gradients_match(lambda t: t.trace(offset, axis1, axis2), x)


def test_trace_errors():
    with pytest.raises(ValueError, match=r"trace: needs at least 2 dimensions, got shape \(3,\)"):
        F.trace(np.ones(3))
    with pytest.raises(ValueError, match=r"trace: axis1=0 and axis2=-2 are the same axis"):
        F.trace(np.ones((2, 2)), axis1=0, axis2=-2)


@pytest.mark.parametrize("shape", [(3,), (3, 3), (2, 4), (4, 2)])
@pytest.mark.parametrize("k", [-3, -1, 0, 1, 2])
def test_diag_matches_numpy_both_ways(shape, k):
    (x,) = _arrays([shape])
    np.testing.assert_array_equal(F.diag(x, k).data, np.diag(x, k))
    assert_gradients_match(lambda t: t.diag(k), x)
    assert mgx.gradcheck(lambda t: F.diag(t, k), x, order=2)


def test_diag_refuses_other_ranks():
    with pytest.raises(ValueError, match=r"diag: needs a 1-D tensor .* got shape \(2, 2, 2\)"):
        F.diag(np.ones((2, 2, 2)))
    with pytest.raises(TypeError, match=r"diag: the diagonal offset must be an int, got 1.0"):
        F.diag(np.ones(2), 1.0)


@pytest.mark.parametrize("name", ["tril", "triu"])
@pytest.mark.parametrize("k", [-2, 0, 1])
def test_triangles_match_numpy_on_stacks(name, k):
    (x,) = _arrays([(2, 3, 4)])
    x[0, 0, 3] = np.inf  # a masked inf gives 0, not nan (no multiplication by a mask)
    np.testing.assert_array_equal(getattr(F, name)(x, k).data, getattr(np, name)(x, k))
    (x,) = _arrays([(2, 3, 4)])
    assert_gradients_match(lambda t: getattr(t, name)(k), x)
    with pytest.raises(ValueError, match=rf"{name}: needs at least 2 dimensions, got shape \(3,\)"):
        getattr(F, name)(np.ones(3))
