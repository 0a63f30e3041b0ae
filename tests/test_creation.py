"""Creation functions (microgradx/creation.py): shapes, dtypes, requires_grad, seeded draws, errors.

The deterministic ones are compared with the NumPy function of the same name on the
same arguments (values and dtype); the random ones with NumPy's generator seeded
as mgx.manual_seed seeds the package's."""

import numpy as np
import pytest

import microgradx as mgx
import microgradx.functional as F

SHAPED = [mgx.zeros, mgx.ones, mgx.empty, mgx.rand, mgx.randn]
LIKE = [mgx.zeros_like, mgx.ones_like, mgx.empty_like, mgx.rand_like, mgx.randn_like]
ALL = [
    "arange",
    "empty",
    "empty_like",
    "eye",
    "full",
    "full_like",
    "linspace",
    "ones",
    "ones_like",
    "rand",
    "rand_like",
    "randint",
    "randn",
    "randn_like",
    "zeros",
    "zeros_like",
]


def test_exported_from_the_package_not_from_functional():
    for name in ALL:
        assert name in mgx.__all__ and callable(getattr(mgx, name))
        assert name not in F.__all__  # they make tensors; they are not ops


# ---------------------------------------------------------------------- #
# shapes, dtypes, requires_grad, name
# ---------------------------------------------------------------------- #
@pytest.mark.parametrize("make", SHAPED, ids=lambda f: f.__name__)
@pytest.mark.parametrize(
    "args, shape",
    [
        ((2, 3), (2, 3)),
        (((2, 3),), (2, 3)),
        (([2, 3],), (2, 3)),
        (((),), ()),
        ((0,), (0,)),
        ((np.int64(4),), (4,)),
    ],
)
def test_shape_as_ints_or_one_tuple(make, args, shape):
    t = make(*args)
    assert isinstance(t, mgx.Tensor) and t.shape == shape and t.dtype == np.float64
    assert not t.requires_grad and t.is_leaf


@pytest.mark.parametrize("make", SHAPED, ids=lambda f: f.__name__)
@pytest.mark.parametrize("dtype", [np.float32, "float32", np.float64, np.float16])
def test_float_dtypes(make, dtype):
    assert make(2, 2, dtype=dtype).dtype == np.dtype(dtype)


@pytest.mark.parametrize("make", [mgx.zeros, mgx.ones, mgx.empty], ids=lambda f: f.__name__)
@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.bool_, int, bool])
def test_non_float_dtypes_where_they_make_sense(make, dtype):
    assert make(3, dtype=dtype).dtype == np.dtype(dtype)


@pytest.mark.parametrize("make", [mgx.rand, mgx.randn], ids=lambda f: f.__name__)
def test_random_floats_refuse_integer_dtypes(make):
    with pytest.raises(TypeError, match=f"{make.__name__}: dtype must be floating point, got int64"):
        make(2, dtype=np.int64)


@pytest.mark.parametrize("make", SHAPED, ids=lambda f: f.__name__)
def test_requires_grad_and_name_make_a_named_leaf(make):
    t = make(3, requires_grad=True, name="w")
    assert t.requires_grad and t.is_leaf and t.name == "w" and t.grad is None
    (t * 2.0).sum().backward()
    np.testing.assert_array_equal(t.grad.data, [2.0, 2.0, 2.0])


@pytest.mark.parametrize(
    "call",
    [
        lambda: mgx.zeros(2, dtype=np.int64, requires_grad=True),
        lambda: mgx.arange(3, requires_grad=True),  # integer arguments give int64
        lambda: mgx.full(2, 1, requires_grad=True),  # an int fill value gives int64
        lambda: mgx.randint(0, 3, (2,), requires_grad=True),
        lambda: mgx.ones_like(np.array([1, 2]), requires_grad=True),
    ],
)
def test_requires_grad_on_integer_data_is_a_type_error(call):
    with pytest.raises(TypeError, match="requires_grad=True needs a floating-point dtype"):
        call()


def test_float32_requires_grad_gives_float32_gradients():
    t = mgx.ones(2, dtype=np.float32, requires_grad=True)
    (t * 3.0).sum().backward()
    assert t.grad.dtype == np.float32


# ---------------------------------------------------------------------- #
# the deterministic ones match NumPy
# ---------------------------------------------------------------------- #
@pytest.mark.parametrize(
    "ours, theirs",
    [
        (lambda: mgx.zeros(2, 3), lambda: np.zeros((2, 3))),
        (lambda: mgx.ones((4,), dtype=np.int32), lambda: np.ones(4, dtype=np.int32)),
        (lambda: mgx.full((2, 2), 0.5), lambda: np.full((2, 2), 0.5)),
        (lambda: mgx.full(3, 7), lambda: np.full(3, 7)),
        (lambda: mgx.full((2,), True), lambda: np.full((2,), True)),
        (lambda: mgx.full((2,), np.float32(1.5)), lambda: np.full((2,), np.float32(1.5))),
        (lambda: mgx.full((2,), 3, dtype=np.float32), lambda: np.full((2,), 3, dtype=np.float32)),
        (lambda: mgx.eye(3), lambda: np.eye(3)),
        (lambda: mgx.eye(2, 4, k=1), lambda: np.eye(2, 4, k=1)),
        (lambda: mgx.eye(4, 2, k=-1, dtype=np.int64), lambda: np.eye(4, 2, k=-1, dtype=np.int64)),
        (lambda: mgx.eye(0), lambda: np.eye(0)),
        (lambda: mgx.arange(5), lambda: np.arange(5)),
        (lambda: mgx.arange(1, 7, 2), lambda: np.arange(1, 7, 2)),
        (lambda: mgx.arange(5, 0, -1), lambda: np.arange(5, 0, -1)),
        (lambda: mgx.arange(3, 1), lambda: np.arange(3, 1)),
        (lambda: mgx.arange(0, 1, 0.1), lambda: np.arange(0, 1, 0.1)),
        (lambda: mgx.arange(2.5), lambda: np.arange(2.5)),
        (lambda: mgx.arange(4, dtype=np.float32), lambda: np.arange(4, dtype=np.float32)),
        (lambda: mgx.arange(0.0, 4.0, dtype=np.int64), lambda: np.arange(0.0, 4.0, dtype=np.int64)),
        (lambda: mgx.linspace(0, 1, 5), lambda: np.linspace(0, 1, 5)),
        (lambda: mgx.linspace(-2, 3), lambda: np.linspace(-2, 3)),
        (lambda: mgx.linspace(0, 1, 4, endpoint=False), lambda: np.linspace(0, 1, 4, endpoint=False)),
        (lambda: mgx.linspace(2, 3, 1), lambda: np.linspace(2, 3, 1)),
        (lambda: mgx.linspace(2, 3, 0), lambda: np.linspace(2, 3, 0)),
        (lambda: mgx.linspace(0, 1, 3, dtype=np.float32), lambda: np.linspace(0, 1, 3, dtype=np.float32)),
    ],
)
def test_deterministic_ones_match_numpy(ours, theirs):
    t, want = ours(), theirs()
    assert t.dtype == want.dtype and t.shape == want.shape
    np.testing.assert_array_equal(t.data, want)


def test_zeros_and_ones_are_fresh_memory():
    a, b = mgx.zeros(3), mgx.zeros(3)
    a.data[0] = 1.0
    assert b.data[0] == 0.0


# ---------------------------------------------------------------------- #
# random: the package's generator, reproducible with mgx.manual_seed
# ---------------------------------------------------------------------- #
RANDOM = {
    "rand": lambda: mgx.rand(3, 4),
    "randn": lambda: mgx.randn(3, 4),
    "randint": lambda: mgx.randint(-5, 5, (3, 4)),
    "rand_like": lambda: mgx.rand_like(np.zeros((3, 4))),
    "randn_like": lambda: mgx.randn_like(mgx.zeros(3, 4, dtype=np.float32)),
    "rand float32": lambda: mgx.rand(5, dtype=np.float32),
}


@pytest.mark.parametrize("draw", RANDOM.values(), ids=RANDOM.keys())
def test_same_seed_same_numbers_and_each_draw_new_numbers(draw):
    mgx.manual_seed(123)
    first, second = draw(), draw()
    mgx.manual_seed(123)
    again = draw()
    np.testing.assert_array_equal(first.data, again.data)
    assert first.dtype == again.dtype
    assert not np.array_equal(first.data, second.data)  # the generator advanced


def test_draws_come_from_the_package_generator():
    """The same numbers as NumPy's Generator seeded alike (what mgx.manual_seed makes)."""
    mgx.manual_seed(7)
    got = [mgx.rand(2, 3), mgx.randn(4), mgx.randint(0, 10, (5,)), mgx.rand(3, dtype=np.float32)]
    rng = np.random.default_rng(7)
    want = [
        rng.random((2, 3)),
        rng.standard_normal(4),
        rng.integers(0, 10, 5),
        rng.random(3, dtype=np.float32),
    ]
    for g, w in zip(got, want, strict=True):
        assert g.dtype == w.dtype
        np.testing.assert_array_equal(g.data, w)


def test_layer_initialisation_and_creation_share_the_generator():
    mgx.manual_seed(0)
    a = mgx.rand(3)
    b = mgx.nn.Linear(2, 2).weight.data.copy()
    mgx.manual_seed(0)
    assert np.array_equal(mgx.rand(3).data, a.data)
    assert np.array_equal(mgx.nn.Linear(2, 2).weight.data, b)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16])
def test_rand_is_in_the_half_open_unit_interval(dtype):
    mgx.manual_seed(0)
    x = mgx.rand(20000, dtype=dtype).data
    assert x.dtype == dtype and x.min() >= 0.0 and x.max() < 1.0
    assert 0.45 < x.mean() < 0.55  # uniform: mean 1/2, standard error 0.002


def test_randn_is_standard_normal():
    mgx.manual_seed(0)
    x = mgx.randn(20000).data
    assert abs(x.mean()) < 0.05 and abs(x.std() - 1.0) < 0.05  # standard errors 0.007 and 0.005
    assert mgx.randn(3, dtype=np.float16).dtype == np.float16


@pytest.mark.parametrize(
    "call, shape, low, high",
    [
        (lambda: mgx.randint(10, size=(50,)), (50,), 0, 10),  # NumPy: one bound, size=
        (lambda: mgx.randint(3, 8, (5, 10)), (5, 10), 3, 8),  # NumPy and PyTorch: low, high, size
        (lambda: mgx.randint(4, (50,)), (50,), 0, 4),  # PyTorch: high, size
        (lambda: mgx.randint(-3, -1, 40), (40,), -3, -1),
        (lambda: mgx.randint(5), (), 0, 5),  # no size: 0-d
    ],
)
def test_randint_forms(call, shape, low, high):
    mgx.manual_seed(1)
    t = call()
    assert t.shape == shape and t.dtype == np.int64
    assert low <= t.data.min() and t.data.max() < high
    if t.size >= 40:
        assert set(np.unique(t.data)) == set(range(low, high))  # every value turns up


def test_randint_dtypes():
    assert mgx.randint(0, 100, (3,), dtype=np.int8).dtype == np.int8
    f = mgx.randint(0, 10, (4,), dtype=np.float32, requires_grad=True)  # whole numbers as floats
    assert f.dtype == np.float32 and f.requires_grad and np.all(f.data == np.round(f.data))
    b = mgx.randint(0, 2, (30,), dtype=bool)
    assert b.dtype == np.bool_
    with pytest.raises(ValueError, match=r"randint: \[0, 300\) does not fit in int8"):
        mgx.randint(0, 300, (3,), dtype=np.int8)
    with pytest.raises(ValueError, match="does not fit in bool"):
        mgx.randint(0, 3, (3,), dtype=bool)


# ---------------------------------------------------------------------- #
# *_like
# ---------------------------------------------------------------------- #
@pytest.mark.parametrize("make", LIKE, ids=lambda f: f.__name__)
@pytest.mark.parametrize(
    "source",
    [
        np.zeros((2, 3), dtype=np.float32),
        mgx.tensor(np.ones((4,)), requires_grad=True),
        [[1.0, 2.0]],
        np.float64(3.0),
    ],
    ids=["float32 array", "tensor requiring grad", "list", "scalar"],
)
def test_like_takes_shape_and_dtype(make, source):
    want = np.asarray(source.data if isinstance(source, mgx.Tensor) else source)
    t = make(source)
    assert t.shape == want.shape and t.dtype == want.dtype
    assert not t.requires_grad  # as in PyTorch: requires_grad is not copied


@pytest.mark.parametrize("make", LIKE, ids=lambda f: f.__name__)
def test_like_dtype_override_and_requires_grad(make):
    t = make(np.zeros((2, 2), dtype=np.float64), dtype=np.float32, requires_grad=True, name="z")
    assert t.dtype == np.float32 and t.requires_grad and t.name == "z"


def test_like_values():
    x = mgx.tensor([[1, 2], [3, 4]])
    np.testing.assert_array_equal(mgx.zeros_like(x).data, np.zeros_like(x.data))
    np.testing.assert_array_equal(mgx.ones_like(x).data, np.ones_like(x.data))
    np.testing.assert_array_equal(mgx.full_like(x, 7).data, np.full_like(x.data, 7))
    assert mgx.full_like(x, 7).dtype == np.int64
    assert mgx.full_like(x, 2.5, dtype=np.float64).data.tolist() == [[2.5, 2.5], [2.5, 2.5]]


@pytest.mark.parametrize("make", [mgx.rand_like, mgx.randn_like], ids=lambda f: f.__name__)
def test_random_like_of_integer_data_needs_a_float_dtype(make):
    with pytest.raises(TypeError, match=f"{make.__name__}: x has dtype int64.*pass dtype=np.float64"):
        make(mgx.tensor([1, 2]))
    assert make(mgx.tensor([1, 2]), dtype=np.float64).dtype == np.float64


# ---------------------------------------------------------------------- #
# errors that name the function and the bad value
# ---------------------------------------------------------------------- #
@pytest.mark.parametrize("make", SHAPED, ids=lambda f: f.__name__)
def test_bad_shapes(make):
    name = make.__name__
    with pytest.raises(ValueError, match=rf"{name}: negative size in shape \(2, -1\)"):
        make(2, -1)
    with pytest.raises(ValueError, match=rf"{name}: negative size in shape \(-3,\)"):
        make((-3,))
    with pytest.raises(TypeError, match=f"{name}: the shape must be ints or a tuple of ints"):
        make(2.0, 3)
    with pytest.raises(TypeError, match=f"{name}: the shape must be ints or a tuple of ints"):
        make(True)
    with pytest.raises(TypeError, match=f"{name}: the shape must be ints or a tuple of ints"):
        make("23")
    with pytest.raises(TypeError, match=rf"{name}: missing the shape.*{name}\(\(\)\)"):
        make()


@pytest.mark.parametrize("make", [mgx.zeros, mgx.ones, mgx.empty], ids=lambda f: f.__name__)
@pytest.mark.parametrize("dtype", [np.complex128, object, "U3", "no such type"])
def test_bad_dtypes(make, dtype):
    with pytest.raises(TypeError, match=f"{make.__name__}: .*(not supported|is not a dtype)"):
        make(2, dtype=dtype)


def test_full_refuses_values_its_dtype_cannot_hold():
    with pytest.raises(ValueError, match="full: fill_value 2.5 cannot be stored exactly as int64"):
        mgx.full((2,), 2.5, dtype=np.int64)
    with pytest.raises(ValueError, match="full_like: fill_value 2.5 cannot be stored exactly as int64"):
        mgx.full_like(mgx.tensor([1, 2]), 2.5)  # NumPy and PyTorch give 2 silently
    with pytest.raises(ValueError, match="full: fill_value nan cannot be stored exactly as int32"):
        mgx.full(2, float("nan"), dtype=np.int32)
    with pytest.raises(ValueError, match=r"full: fill_value 1e\+40 overflows float32"):
        mgx.full(2, 1e40, dtype=np.float32)
    with pytest.raises(ValueError, match="full: fill_value 2 cannot be stored exactly as bool"):
        mgx.full(2, 2, dtype=bool)
    assert np.isinf(mgx.full(2, np.inf, dtype=np.float32).data).all()  # inf itself is a value
    with pytest.raises(TypeError, match=r"full: fill_value must be a single number, got \[1, 2\]"):
        mgx.full(2, [1, 2])
    with pytest.raises(TypeError, match="full: fill_value is a Tensor that requires grad"):
        mgx.full(2, mgx.tensor(1.0, requires_grad=True))
    assert mgx.full(2, mgx.tensor(1.5)).data.tolist() == [1.5, 1.5]


def test_eye_errors():
    with pytest.raises(ValueError, match="eye: sizes must be >= 0, got n=-1"):
        mgx.eye(-1)
    with pytest.raises(ValueError, match="eye: sizes must be >= 0, got n=2, m=-2"):
        mgx.eye(2, -2)
    with pytest.raises(TypeError, match="eye: n must be an int, got 2.0"):
        mgx.eye(2.0)


def test_arange_errors():
    with pytest.raises(ValueError, match="arange: step must not be zero"):
        mgx.arange(0, 5, 0)
    with pytest.raises(ValueError, match="arange: stop must be finite, got inf"):
        mgx.arange(0, float("inf"))
    with pytest.raises(TypeError, match="arange: stop must be a number, got True"):
        mgx.arange(True)
    with pytest.raises(TypeError, match="arange: start must be a number"):
        mgx.arange(mgx.tensor(1.0), 3)
    # NumPy gives [0, 0, 0, 0] here and PyTorch refuses (the step truncates to 0): never a silent 0
    with pytest.raises(ValueError, match=r"arange\(0, 1, 0.3\): dtype int64 cannot hold these values"):
        mgx.arange(0, 1, 0.3, dtype=np.int64)


def test_linspace_integer_dtype_needs_whole_numbers():
    np.testing.assert_array_equal(mgx.linspace(0, 10, 6, dtype=np.int64).data, [0, 2, 4, 6, 8, 10])
    with pytest.raises(ValueError, match=r"linspace: dtype int64 cannot hold these values exactly"):
        mgx.linspace(-1, 0, 3, dtype=np.int64)  # NumPy floors -0.5 to -1 silently


def test_linspace_errors():
    with pytest.raises(ValueError, match="linspace: num must be >= 0, got -1"):
        mgx.linspace(0, 1, -1)
    with pytest.raises(TypeError, match="linspace: num must be an int, got 2.5"):
        mgx.linspace(0, 1, 2.5)
    with pytest.raises(ValueError, match="linspace: start must be finite, got nan"):
        mgx.linspace(float("nan"), 1)


def test_randint_errors():
    with pytest.raises(ValueError, match="randint: low must be less than high, got low=5, high=3"):
        mgx.randint(5, 3, (2,))
    with pytest.raises(ValueError, match="randint: low must be less than high, got low=2, high=2"):
        mgx.randint(2, 2)
    with pytest.raises(ValueError, match="randint: low must be less than high, got low=0, high=0"):
        mgx.randint(0, size=(3,))  # one bound: [0, 0) is empty
    with pytest.raises(TypeError, match="randint: high must be an int, got 2.5"):
        mgx.randint(0, 2.5, (2,))
    with pytest.raises(ValueError, match=r"randint: negative size in shape \(-2,\)"):
        mgx.randint(0, 2, (-2,))


def test_like_errors():
    with pytest.raises(TypeError, match="zeros_like: .* has dtype <U1"):
        mgx.zeros_like(["a"])
