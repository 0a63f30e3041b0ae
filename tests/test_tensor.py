"""Tensor construction, dtype policy, attributes, repr, comparisons, and numerical_gradient."""

import numpy as np
import pytest
from hypothesis import given

import microgradx as mgx
from microgradx.testing import tensors


@pytest.mark.parametrize(
    ("data", "dtype"),
    [
        (3.0, np.float64),
        ([1.0, 2.0], np.float64),
        ([[1, 2], [3, 4]], np.int64),
        (np.ones(3, dtype=np.float32), np.float32),
        (np.array([True, False]), np.bool_),
        (mgx.tensor([1.0], dtype=np.float32), np.float32),
    ],
)
def test_construction_keeps_the_dtype_of_the_data(data, dtype):
    t = mgx.Tensor(data)
    assert t.dtype == dtype and isinstance(t.data, np.ndarray)


def test_construction_copies_the_data():
    a = np.array([1.0, 2.0])
    t = mgx.tensor(a)
    t.data[0] = 9.0
    assert a[0] == 1.0  # never aliases (and never mutates) the caller's array


def test_dtype_argument_and_name():
    t = mgx.tensor([1, 2], dtype=np.float32, requires_grad=True, name="w")
    assert t.dtype == np.float32 and t.requires_grad and t.name == "w"


def test_requires_grad_needs_float_data():
    with pytest.raises(TypeError, match="requires_grad=True needs floating-point data; .* int64"):
        mgx.tensor([1, 2], requires_grad=True)
    t = mgx.tensor([1, 2])
    with pytest.raises(TypeError, match="floating-point"):
        t.requires_grad_()
    with pytest.raises(TypeError, match="floating-point"):
        t.requires_grad = True
    assert mgx.tensor([1.0]).requires_grad_().requires_grad


@pytest.mark.parametrize("bad", ["abc", None, [1.0, "a"], {"a": 1}, object()])
def test_non_numeric_data_is_a_type_error(bad):
    with pytest.raises(TypeError, match="numeric|cannot make"):
        mgx.tensor(bad)


def test_ragged_data_is_a_value_error():
    with pytest.raises(ValueError, match="cannot make an array"):
        mgx.tensor([[1.0, 2.0], [3.0]])


@given(x=tensors(min_dims=1))
def test_attributes_mirror_numpy(x):
    t = mgx.tensor(x)
    assert t.shape == x.shape and t.ndim == x.ndim and t.size == x.size and t.dtype == x.dtype
    assert len(t) == len(x)
    np.testing.assert_array_equal(t.T.data, x.T)
    np.testing.assert_array_equal(np.asarray(t), x)
    assert t.numpy() is t.data
    assert [r.shape for r in t] == [r.shape for r in x]


def test_item_and_scalars():
    t = mgx.tensor([[2.5]])
    assert t.item() == 2.5 and float(t) == 2.5 and int(mgx.tensor(3)) == 3
    with pytest.raises(ValueError, match=r"shape is \(2,\)"):
        mgx.tensor([1.0, 2.0]).item()
    with pytest.raises(TypeError, match="0-d"):
        len(mgx.tensor(1.0))


def test_repr_is_readable():
    assert repr(mgx.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(mgx.tensor(1.0, requires_grad=True)) == "tensor(1., requires_grad=True)"
    assert repr(mgx.tensor([1.0], dtype=np.float32, name="b")) == "tensor([1.], dtype=float32, name='b')"
    assert repr(mgx.tensor([1.0], requires_grad=True) * 2) == "tensor([2.], grad_fn=<mul>)"


def test_comparisons_return_non_differentiable_bool_tensors():
    x = mgx.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for got, want in [
        (x < 2, [True, False, False]),
        (x <= 2, [True, True, False]),
        (x > 2, [False, False, True]),
        (x >= 2, [False, True, True]),
        (x == 2, [False, True, False]),
        (x != 2, [True, False, True]),
        (x == mgx.tensor([1.0, 0.0, 3.0]), [True, False, True]),
    ]:
        assert got.dtype == np.bool_ and not got.requires_grad
        np.testing.assert_array_equal(got.data, want)
    with pytest.raises(ValueError, match=r"<: shapes \(3,\) and \(2,\)"):
        _ = x < mgx.tensor([1.0, 2.0])
    assert len({x, x}) == 1  # tensors stay hashable (by identity)


def test_numerical_gradient_of_the_book():
    # x0^2 + x1^2 at (3, 4), (0, 2), (3, 0): the book prints [6, 8], [0, 4], [6, 0]
    f = lambda x: np.sum(x**2)  # noqa: E731
    for point, want in [([3.0, 4.0], [6.0, 8.0]), ([0.0, 2.0], [0.0, 4.0]), ([3.0, 0.0], [6.0, 0.0])]:
        np.testing.assert_allclose(mgx.numerical_gradient(f, np.array(point)), want, atol=1e-9)


@given(x=tensors(min_dims=0, max_dims=3))
def test_numerical_gradient_any_shape_restores_x(x):
    before = x.copy()
    g = mgx.numerical_gradient(lambda a: np.sum(np.sin(a)), x)
    np.testing.assert_array_equal(x, before)
    np.testing.assert_allclose(g, np.cos(x), atol=1e-7)  # analytic derivative of sin
    assert g.shape == x.shape


def test_numerical_gradient_restores_x_when_f_raises_and_checks_its_arguments():
    x = np.array([1.0, 2.0])

    def boom(a):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        mgx.numerical_gradient(boom, x)
    np.testing.assert_array_equal(x, [1.0, 2.0])
    with pytest.raises(TypeError, match="float numpy.ndarray"):
        mgx.numerical_gradient(lambda a: a.sum(), np.array([1, 2]))
    with pytest.raises(ValueError, match="must return a scalar"):
        mgx.numerical_gradient(lambda a: a, x)


def test_assigning_a_gradient_checks_shape_and_dtype():
    x = mgx.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"grad of shape \(1,\) .* tensor of shape \(2,\)"):
        x.grad = mgx.tensor([1.0])  # would have broadcast silently
    with pytest.raises(ValueError, match=r"grad of shape \(3,\) .* tensor of shape \(2,\)"):
        x.grad = mgx.tensor([1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="grad of dtype float32 .* tensor of dtype float64"):
        x.grad = mgx.tensor([1.0, 2.0], dtype=np.float32)
    with pytest.raises(TypeError, match="grad must be a Tensor or None"):
        x.grad = [1.0, 2.0]
    assert x.grad is None  # nothing was assigned
    x.grad = mgx.tensor([0.5, 0.5])
    (x * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [2.5, 2.5])
    x.grad = None
    assert x.grad is None
