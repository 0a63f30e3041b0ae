"""NumPy functions and ufuncs called on Tensors (microgradx/_numpy_interop.py), tolist and __format__.

np.f(t) either runs microgradx's op of the same name (the same values and gradients as
F.f, and as PyTorch where it has the function), or, when the result holds no
floating-point values, NumPy on the data, or raises a TypeError naming the NumPy
function and what to call instead. A gradient is never silently lost, and
``ndarray <op> Tensor`` still calls the Tensor's reflected operator.
"""

import inspect
import re

import numpy as np
import pytest

import microgradx as mgx
import microgradx.functional as F

torch = pytest.importorskip("torch", reason="PyTorch not installed: run TORCH_ORACLE=1 make test")

RNG = np.random.default_rng(0)
X = RNG.uniform(0.1, 0.9, (3, 4))  # inside every domain (log, arcsin, arccos, ...), away from kinks
Y = RNG.uniform(0.1, 0.9, (3, 4)) + 0.05  # distinct from X: no ties for maximum/minimum
V = RNG.uniform(0.1, 0.9, 4)
W = RNG.uniform(0.1, 0.9, 4)


def run(fn, arrays, seed=0):
    """fn on fresh leaves; the value and the gradients for a random upstream gradient."""
    leaves = [mgx.tensor(a.copy(), requires_grad=True) for a in arrays]
    out = fn(*leaves)
    if isinstance(out, (list, tuple)):  # split: one gradient for all the parts
        out = F.concatenate([o.reshape(-1) for o in out])
    g = np.random.default_rng(seed).normal(size=out.shape)
    (out * g).sum().backward()
    return out.data, [leaf.grad.data for leaf in leaves]


def run_torch(fn, arrays, seed=0):
    leaves = [torch.tensor(a.copy(), requires_grad=True) for a in arrays]
    out = fn(*leaves)
    if isinstance(out, (list, tuple)):
        out = torch.cat([o.reshape(-1) for o in out])
    g = torch.from_numpy(np.random.default_rng(seed).normal(size=tuple(out.shape)))
    (out * g).sum().backward()
    return out.detach().numpy(), [leaf.grad.numpy() for leaf in leaves]


def needs(*names):
    missing = [n for n in names if n not in F.__all__]
    if missing:
        pytest.skip(f"microgradx.functional has no {', '.join(missing)} yet")


# (id, the F ops it needs, NumPy on Tensors, the same with F, PyTorch or None, inputs)
CASES = [
    ("sum", ["sum"], lambda x: np.sum(x), lambda x: F.sum(x), lambda x: x.sum(), [X]),
    ("sum axis", ["sum"], lambda x: np.sum(x, axis=0), lambda x: F.sum(x, 0), lambda x: x.sum(0), [X]),
    (
        "sum positional keepdims",
        ["sum"],
        lambda x: np.sum(x, 1, None, None, True),
        lambda x: F.sum(x, 1, keepdims=True),
        lambda x: x.sum(1, keepdim=True),
        [X],
    ),
    ("mean axis", ["mean"], lambda x: np.mean(x, axis=1), lambda x: F.mean(x, 1), lambda x: x.mean(1), [X]),
    ("max", ["max"], lambda x: np.max(x, axis=0), lambda x: F.max(x, 0), lambda x: x.amax(0), [X]),
    ("amin", ["min"], lambda x: np.amin(x, 1), lambda x: F.min(x, 1), lambda x: x.amin(1), [X]),
    ("add.reduce", ["sum"], lambda x: np.add.reduce(x), lambda x: F.sum(x, 0), lambda x: x.sum(0), [X]),
    (
        "maximum.reduce",
        ["max"],
        lambda x: np.maximum.reduce(x, axis=1, keepdims=True),
        lambda x: F.max(x, 1, keepdims=True),
        lambda x: x.amax(1, keepdim=True),
        [X],
    ),
    (
        "multiply.outer",
        [],
        lambda a, b: np.multiply.outer(a, b),
        None,
        lambda a, b: torch.outer(a, b),
        [V, W],
    ),
    ("exp", ["exp"], lambda x: np.exp(x), F.exp, torch.exp, [X]),
    ("abs", ["abs"], lambda x: np.abs(x - 0.5), lambda x: F.abs(x - 0.5), lambda x: (x - 0.5).abs(), [X]),
    ("power", [], lambda x: np.power(x, 3), lambda x: x**3, lambda x: x**3, [X]),
    ("divide", [], lambda x, y: np.divide(x, y), lambda x, y: x / y, lambda x, y: x / y, [X, Y]),
    ("negative", [], lambda x: np.negative(x), lambda x: -x, lambda x: -x, [X]),
    ("matmul", [], lambda x, v: np.matmul(x, v), lambda x, v: x @ v, lambda x, v: x @ v, [X, V]),
    (
        "clip",
        ["clip"],
        lambda x: np.clip(x, 0.3, 0.7),
        lambda x: F.clip(x, 0.3, 0.7),
        lambda x: x.clamp(0.3, 0.7),
        [X],
    ),
    (
        "clip a_max only",
        ["clip"],
        lambda x: np.clip(x, a_max=0.6, a_min=None),
        lambda x: F.clip(x, None, 0.6),
        lambda x: x.clamp(max=0.6),
        [X],
    ),
    (
        "where",
        ["where"],
        lambda x, y: np.where(x > 0.5, x, y),
        lambda x, y: F.where(x > 0.5, x, y),
        lambda x, y: torch.where(x > 0.5, x, y),
        [X, Y],
    ),
    (
        "concatenate",
        ["concatenate"],
        lambda x, y: np.concatenate([x, y], axis=1),
        lambda x, y: F.concatenate([x, y], axis=1),
        lambda x, y: torch.cat([x, y], dim=1),
        [X, Y],
    ),
    (
        "stack",
        ["stack"],
        lambda x, y: np.stack((x, y), -1),
        lambda x, y: F.stack((x, y), -1),
        lambda x, y: torch.stack((x, y), -1),
        [X, Y],
    ),
    (
        "transpose",
        ["transpose"],
        lambda x: np.transpose(x),
        lambda x: F.transpose(x),
        lambda x: x.T,
        [X],
    ),
    (
        "reshape",
        ["reshape"],
        lambda x: np.reshape(x, (2, 6)),
        lambda x: F.reshape(x, (2, 6)),
        lambda x: x.reshape(2, 6),
        [X],
    ),
    ("ravel", ["reshape"], lambda x: np.ravel(x), lambda x: F.reshape(x, (-1,)), lambda x: x.ravel(), [X]),
    ("copy", ["clone"], lambda x: np.copy(x) * 2.0, lambda x: F.clone(x) * 2.0, lambda x: x.clone() * 2, [X]),
    (
        "broadcast_to",
        ["broadcast_to"],
        lambda v: np.broadcast_to(v, (3, 4)),
        lambda v: F.broadcast_to(v, (3, 4)),
        lambda v: v.broadcast_to((3, 4)),
        [V],
    ),
    (
        "astype",
        ["astype"],
        lambda x: np.astype(x, np.float32) * 1.0,
        lambda x: F.astype(x, np.float32) * 1.0,
        None,
        [X],
    ),
    # the ops others add to F: run once they are there
    ("prod", ["prod"], lambda x: np.prod(x, axis=1), lambda x: F.prod(x, axis=1), lambda x: x.prod(1), [X]),
    (
        "var ddof",
        ["var"],
        lambda x: np.var(x, axis=0, ddof=1),
        lambda x: F.var(x, axis=0, ddof=1),
        lambda x: x.var(0, correction=1),
        [X],
    ),
    ("std", ["std"], lambda x: np.std(x), lambda x: F.std(x), lambda x: x.std(correction=0), [X]),
    (
        "cumsum (NumPy's default: flattened)",
        ["cumsum"],
        lambda x: np.cumsum(x),
        lambda x: F.cumsum(x, axis=None),
        lambda x: x.reshape(-1).cumsum(0),
        [X],
    ),
    (
        "cumprod axis",
        ["cumprod"],
        lambda x: np.cumprod(x, axis=1),
        lambda x: F.cumprod(x, axis=1),
        lambda x: x.cumprod(1),
        [X],
    ),
    (
        "add.accumulate",
        ["cumsum"],
        lambda x: np.add.accumulate(x),
        lambda x: F.cumsum(x, axis=0),
        lambda x: x.cumsum(0),
        [X],
    ),
    (
        "maximum",
        ["maximum"],
        lambda x, y: np.maximum(x, y),
        lambda x, y: F.maximum(x, y),
        torch.maximum,
        [X, Y],
    ),
    ("sin", ["sin"], lambda x: np.sin(x), lambda x: F.sin(x), torch.sin, [X]),
    (
        "squeeze",
        ["squeeze"],
        lambda x: np.squeeze(x[None]),
        lambda x: F.squeeze(x[None]),
        lambda x: x[None].squeeze(),
        [X],
    ),
    (
        "expand_dims",
        ["expand_dims"],
        lambda x: np.expand_dims(x, 1),
        lambda x: F.expand_dims(x, 1),
        lambda x: x.unsqueeze(1),
        [X],
    ),
    (
        "swapaxes",
        ["swapaxes"],
        lambda x: np.swapaxes(x, 0, 1),
        lambda x: F.swapaxes(x, 0, 1),
        lambda x: x.swapaxes(0, 1),
        [X],
    ),
    ("flip", ["flip"], lambda x: np.flip(x, 1), lambda x: F.flip(x, 1), lambda x: x.flip(1), [X]),
    (
        "roll",
        ["roll"],
        lambda x: np.roll(x, 2, axis=1),
        lambda x: F.roll(x, 2, axis=1),
        lambda x: x.roll(2, 1),
        [X],
    ),
    (
        "repeat (NumPy's default: flattened)",
        ["repeat"],
        lambda x: np.repeat(x, 2),
        lambda x: F.repeat(x, 2, axis=None),
        lambda x: x.reshape(-1).repeat_interleave(2),
        [X],
    ),
    (
        "tile",
        ["tile"],
        lambda x: np.tile(x, (2, 1)),
        lambda x: F.tile(x, (2, 1)),
        lambda x: x.tile(2, 1),
        [X],
    ),
    (
        "pad",
        ["pad"],
        lambda x: np.pad(x, 1, constant_values=2.0),
        lambda x: F.pad(x, 1, constant_values=2.0),
        lambda x: torch.nn.functional.pad(x, (1, 1, 1, 1), value=2.0),
        [X],
    ),
    (
        "split",
        ["split"],
        lambda x: np.split(x, 2, axis=1),
        lambda x: F.split(x, 2, axis=1),
        lambda x: torch.split(x, 2, dim=1),
        [X],
    ),
    ("diag", ["diag"], lambda v: np.diag(v), lambda v: F.diag(v), torch.diag, [V]),
    ("trace", ["trace"], lambda x: np.trace(x), lambda x: F.trace(x), torch.trace, [X]),
    ("tril", ["tril"], lambda x: np.tril(x, -1), lambda x: F.tril(x, -1), lambda x: x.tril(-1), [X]),
    ("triu", ["triu"], lambda x: np.triu(x), lambda x: F.triu(x), lambda x: x.triu(), [X]),
    (
        "take_along_axis",
        ["take_along_axis"],
        lambda x: np.take_along_axis(x, np.array([[0, 3], [1, 1], [2, 0]]), axis=1),
        lambda x: F.take_along_axis(x, np.array([[0, 3], [1, 1], [2, 0]]), axis=1),
        lambda x: torch.take_along_dim(x, torch.tensor([[0, 3], [1, 1], [2, 0]]), dim=1),
        [X],
    ),
    (
        "einsum",
        ["einsum"],
        lambda x, y: np.einsum("ij,kj->ik", x, y, optimize=True),
        lambda x, y: F.einsum("ij,kj->ik", x, y),
        lambda x, y: torch.einsum("ij,kj->ik", x, y),
        [X, Y],
    ),
    (
        "tensordot",
        ["tensordot"],
        lambda x, v: np.tensordot(x, v, axes=1),
        lambda x, v: F.tensordot(x, v, axes=1),
        lambda x, v: torch.tensordot(x, v, dims=1),
        [X, V],
    ),
    ("outer", ["outer"], lambda a, b: np.outer(a, b), lambda a, b: F.outer(a, b), torch.outer, [V, W]),
    ("dot", ["dot"], lambda a, b: np.dot(a, b), lambda a, b: F.dot(a, b), torch.dot, [V, W]),
    (
        "linalg.norm",
        ["norm"],
        lambda x: np.linalg.norm(x),
        lambda x: F.norm(x),
        lambda x: torch.linalg.norm(x),
        [X],
    ),
    (
        "linalg.norm ord=1 axis=1",
        ["norm"],
        lambda x: np.linalg.norm(x, ord=1, axis=1),
        lambda x: F.norm(x, ord=1, axis=1),
        lambda x: torch.linalg.vector_norm(x, ord=1, dim=1),
        [X],
    ),
]


@pytest.mark.parametrize("name, ops, ours, reference, theirs, arrays", CASES, ids=[c[0] for c in CASES])
def test_numpy_on_tensors_is_the_microgradx_op(name, ops, ours, reference, theirs, arrays):
    needs(*ops)
    leaves = [mgx.tensor(a) for a in arrays]
    result = ours(*leaves)
    parts = result if isinstance(result, list) else [result]
    assert all(isinstance(p, mgx.Tensor) for p in parts), f"np {name} gave {type(result)}"
    value, grads = run(ours, arrays)
    if reference is not None:  # the F op itself: the same numbers exactly
        want_value, want_grads = run(reference, arrays)
        np.testing.assert_array_equal(value, want_value)
        for g, w in zip(grads, want_grads, strict=True):
            np.testing.assert_array_equal(g, w)
    if theirs is not None:
        t_value, t_grads = run_torch(theirs, arrays)
        np.testing.assert_allclose(value, t_value, rtol=1e-12, atol=1e-14)
        for g, w in zip(grads, t_grads, strict=True):
            np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-14)


def _ufuncs(nin):
    """NumPy's ufuncs of nin inputs and one output that microgradx runs (an operator or an op of F)."""
    from microgradx._numpy_interop import ALIASES, OPERATORS

    found = {}
    for name in dir(np):
        u = getattr(np, name)
        if isinstance(u, np.ufunc) and u.nin == nin and u.nout == 1:
            if u in OPERATORS or any(n in F.__all__ for n in ALIASES.get(u.__name__, (u.__name__,))):
                found[u.__name__] = u
    return sorted(found.items())


@pytest.mark.parametrize("name, ufunc", _ufuncs(1), ids=[n for n, _ in _ufuncs(1)])
def test_every_unary_ufunc_with_an_op_runs_it(name, ufunc):
    from microgradx._numpy_interop import ALIASES, OPERATORS

    if ufunc in OPERATORS:
        reference = getattr(mgx.Tensor, OPERATORS[ufunc][0])
    else:
        reference = getattr(F, next(n for n in ALIASES.get(name, (name,)) if n in F.__all__))
    value, grads = run(lambda x: ufunc(x), [X])
    want_value, want_grads = run(reference, [X])
    np.testing.assert_array_equal(value, want_value)
    np.testing.assert_array_equal(grads[0], want_grads[0])
    np.testing.assert_allclose(value, ufunc(X), rtol=1e-12)  # NumPy's own numbers


@pytest.mark.parametrize("name, ufunc", _ufuncs(2), ids=[n for n, _ in _ufuncs(2)])
def test_every_binary_ufunc_with_an_op_runs_it(name, ufunc):
    from microgradx._numpy_interop import ALIASES, OPERATORS

    if ufunc in OPERATORS:
        reference = getattr(mgx.Tensor, OPERATORS[ufunc][0])
    else:
        reference = getattr(F, next(n for n in ALIASES.get(name, (name,)) if n in F.__all__))
    if ufunc is np.matmul:
        arrays = [X, Y.T]
    else:
        arrays = [X, Y]
    leaves = [mgx.tensor(a) for a in arrays]
    out = ufunc(*leaves)
    assert isinstance(out, mgx.Tensor)
    np.testing.assert_allclose(out.data, ufunc(*arrays), rtol=1e-12)
    if out.dtype.kind != "f":  # comparisons: bool tensors, no gradient
        return
    value, grads = run(lambda a, b: ufunc(a, b), arrays)
    want_value, want_grads = run(reference, arrays)
    np.testing.assert_array_equal(value, want_value)
    for g, w in zip(grads, want_grads, strict=True):
        np.testing.assert_array_equal(g, w)


# ---------------------------------------------------------------------- #
# ndarray <op> Tensor: the Tensor's reflected operator, as before
# ---------------------------------------------------------------------- #
BINARY = {
    "+": (lambda a, t: a + t, "__radd__"),
    "-": (lambda a, t: a - t, "__rsub__"),
    "*": (lambda a, t: a * t, "__rmul__"),
    "/": (lambda a, t: a / t, "__rtruediv__"),
    "**": (lambda a, t: a**t, "__rpow__"),
    "@": (lambda a, t: a @ t, "__rmatmul__"),
    "<": (lambda a, t: a < t, "__gt__"),
    "<=": (lambda a, t: a <= t, "__ge__"),
    ">": (lambda a, t: a > t, "__lt__"),
    ">=": (lambda a, t: a >= t, "__le__"),
    "==": (lambda a, t: a == t, "__eq__"),
    "!=": (lambda a, t: a != t, "__ne__"),
}


@pytest.mark.parametrize("sym", BINARY)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_ndarray_op_tensor_is_the_reflected_operator(sym, dtype):
    op, reflected = BINARY[sym]
    a = X[0].copy() if sym != "@" else X.T.copy()  # (4,) with (4,); (4, 3) @ (3,)
    v = V if sym != "@" else X[:, 0].copy()
    t1, t2 = mgx.tensor(v.astype(dtype), requires_grad=True), mgx.tensor(v.astype(dtype), requires_grad=True)
    got, want = op(a, t1), getattr(t2, reflected)(a)
    assert type(got) is mgx.Tensor and got.dtype == want.dtype
    np.testing.assert_array_equal(got.data, want.data)
    if got.dtype.kind == "f":
        got.sum().backward()
        want.sum().backward()
        np.testing.assert_array_equal(t1.grad.data, t2.grad.data)


def test_numpy_scalars_on_the_left_are_the_reflected_operator():
    t = mgx.tensor([1.0, 2.0], dtype=np.float32)
    for scalar in (np.float64(2.0), np.int64(3), np.float32(0.5)):
        for sym in ("+", "-", "*", "/", "**"):
            op, reflected = BINARY[sym]
            got, want = op(scalar, t), getattr(t, reflected)(scalar)
            assert type(got) is mgx.Tensor and got.dtype == want.dtype
            np.testing.assert_array_equal(got.data, want.data)
    assert (np.float64(2.0) * t).dtype == np.float32  # a float scalar adopts the tensor's dtype, as 2.0 * t


def test_numpy_asarray_and_testing_still_see_the_data():
    t = mgx.tensor([[1.0, 2.0]], requires_grad=True)
    assert np.asarray(t) is t.data
    np.testing.assert_array_equal(np.array(t), [[1.0, 2.0]])
    np.testing.assert_allclose(t, [[1.0, 2.0]])
    assert np.asarray(t, dtype=np.float32).dtype == np.float32
    np.testing.assert_array_equal(np.array([mgx.tensor(1.0), mgx.tensor(2.0)]), [1.0, 2.0])


def test_inplace_ndarray_update_by_a_tensor_is_a_clear_error():
    a, t = np.ones(2), mgx.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match=re.escape("write `array = array + tensor` for a Tensor")):
        a += t
    with pytest.raises(TypeError, match=re.escape("`array *= tensor.numpy()` for the values alone")):
        a *= t
    np.testing.assert_array_equal(a, [1.0, 1.0])  # untouched


# ---------------------------------------------------------------------- #
# results without gradient: NumPy on the data
# ---------------------------------------------------------------------- #
def test_functions_of_no_gradient_run_on_the_data():
    t = mgx.tensor(X, requires_grad=True)
    assert np.shape(t) == (3, 4) and np.ndim(t) == 2 and np.size(t) == 12
    assert np.allclose(t, X) is True and np.array_equal(t, X) is True
    assert np.result_type(t) == np.float64
    for got, want in [
        (np.isnan(t), np.isnan(X)),
        (np.isfinite(t), np.isfinite(X)),
        (np.isclose(t, X), np.isclose(X, X)),
        (np.argsort(t, axis=1), np.argsort(X, axis=1)),
        (np.signbit(t), np.signbit(X)),
        (np.logical_and(t > 0.5, t < 0.8), np.logical_and(X > 0.5, X < 0.8)),
    ]:
        assert type(got) is mgx.Tensor and not got.requires_grad
        np.testing.assert_array_equal(got.data, want)
    (rows, cols) = np.nonzero(t > 0.5)
    np.testing.assert_array_equal(rows.data, np.nonzero(X > 0.5)[0])
    assert np.count_nonzero(t > 0.5) == np.count_nonzero(X > 0.5)


def test_integer_tensors_keep_numpy_functions():
    t = mgx.tensor([3, 1, 2])
    np.testing.assert_array_equal(np.sort(t).data, [1, 2, 3])  # no float: nothing to lose
    np.testing.assert_array_equal(np.bincount(t).data, [0, 1, 1, 1])
    assert np.sum(t).item() == 6 and np.sum(t).dtype == np.int64


# ---------------------------------------------------------------------- #
# errors: what to call instead, never 'unexpected keyword argument out'
# ---------------------------------------------------------------------- #
def test_unsupported_functions_name_the_replacement():
    t = mgx.tensor(X, requires_grad=True)
    with pytest.raises(TypeError, match=r"numpy\.vstack\(\) is not supported on a Tensor.*F\.concatenate"):
        np.vstack([t, t])
    with pytest.raises(TypeError, match=r"numpy\.diff\(\) .*call x\[1:\] - x\[:-1\] instead"):
        np.diff(t)
    with pytest.raises(
        TypeError,
        match=r"numpy\.median\(\) is not supported on a Tensor: microgradx has no differentiable counterpart"
        r".*numpy\.median\(t\.numpy\(\), \.\.\.\)",
    ):
        np.median(t)
    with pytest.raises(TypeError, match=r"numpy\.linalg\.det\(\) is not supported on a Tensor"):
        np.linalg.det(mgx.tensor(np.eye(2), requires_grad=True))
    with pytest.raises(TypeError, match=r"numpy\.floor_divide\(\) is not supported on a Tensor"):
        np.ones(4) // mgx.tensor(V)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda t: np.sum(t, out=np.zeros(())), r"numpy\.sum\(\.\.\., out=\.\.\.\) on a Tensor"),
        (lambda t: np.exp(t, out=np.zeros((3, 4))), r"numpy\.exp\(\.\.\., out=\.\.\.\) on a Tensor"),
        (lambda t: np.add(t, 1.0, out=np.zeros((3, 4))), r"numpy\.add\(\.\.\., out=\.\.\.\)"),
        (lambda t: np.cumsum(t, out=np.zeros(12)), r"numpy\.cumsum\(\.\.\., out=\.\.\.\)"),
        (lambda t: np.median(t, out=np.zeros(())), r"numpy\.median\(\.\.\., out=\.\.\.\)"),
        (lambda t: np.add.reduce(t, out=np.zeros(4)), r"numpy\.add\.reduce\(\.\.\., out=\.\.\.\)"),
        (lambda t: np.sum(t, dtype=np.float32), r"numpy\.sum\(\) was called on a Tensor with dtype=.*astype"),
        (lambda t: np.sum(t, initial=1.0), r"with initial=, which microgradx\.functional\.sum\(x, axis=None"),
        (lambda t: np.mean(t, where=X > 0.5), r"numpy\.mean\(\) was called on a Tensor with where="),
        (lambda t: np.exp(t, where=X > 0.5), r"numpy\.exp\(\) was called on a Tensor with where="),
        (lambda t: np.exp(t, dtype=np.float32), r"numpy\.exp\(\) was called on a Tensor with dtype="),
        (lambda t: np.add(t, t, where=X > 0.5), r"numpy\.add\(\) was called on a Tensor with where="),
        (lambda t: np.put(t, [0], 1.0), r"numpy\.put\(\) writes into an argument in place"),
        (lambda t: np.copyto(np.zeros((3, 4)), t), r"numpy\.copyto\(\) writes into an argument in place"),
        (lambda t: np.add.at(t, [0], 1.0), r"numpy\.add\.at\(\) writes into its first argument in place"),
        (lambda t: np.clip(t, min=0.2), r"numpy\.clip\(\) was called on a Tensor with min="),
    ],
)
def test_clear_errors(call, message):
    t = mgx.tensor(X, requires_grad=True)
    with pytest.raises(TypeError, match=message) as info:
        call(t)
    assert "unexpected keyword" not in str(info.value)


def test_arguments_at_numpy_defaults_are_accepted():
    t = mgx.tensor(X, requires_grad=True)
    np.testing.assert_array_equal(np.sum(t, dtype=None, out=None).data, X.sum())
    np.testing.assert_array_equal(np.exp(t, where=True, casting="same_kind").data, np.exp(X))
    np.testing.assert_array_equal(np.reshape(t, (12,), order="C").data, X.reshape(12))


def test_numpy_defaults_are_kept_where_microgradx_defaults_differ(monkeypatch):
    """np.f(t) means what NumPy means: a NumPy default the op does not share is passed explicitly."""
    seen = {}

    def cumsum(x, axis=-1):  # an op whose default axis is not NumPy's (None: flattened)
        seen["axis"] = axis
        return F.sum(x)

    monkeypatch.setattr(F, "cumsum", cumsum)
    if "cumsum" not in F.__all__:
        monkeypatch.setattr(F, "__all__", [*F.__all__, "cumsum"])
    np.cumsum(mgx.tensor(X))
    assert seen["axis"] is None
    np.cumsum(mgx.tensor(X), 1)
    assert seen["axis"] == 1


def test_ops_added_to_functional_later_are_found_at_call_time(monkeypatch):
    calls = []

    def median(x, axis=None):
        calls.append(axis)
        return F.sum(x)

    monkeypatch.setattr(F, "median", median, raising=False)
    monkeypatch.setattr(F, "__all__", [*F.__all__, "median"])
    assert isinstance(np.median(mgx.tensor(X), axis=0), mgx.Tensor) and calls == [0]


# functions and ufuncs a user may reach for: each must keep the gradient or say so
REACHED_FOR = [
    "sum", "mean", "median", "average", "std", "var", "prod", "cumsum", "cumprod", "max", "min", "ptp",
    "argmax", "argmin", "sort", "argsort", "diff", "gradient", "trapezoid", "dot", "vdot", "inner", "outer",
    "cross", "kron", "tensordot", "trace", "diagonal", "diag", "tril", "triu", "flip", "fliplr", "roll",
    "rot90", "squeeze", "ravel", "transpose", "swapaxes", "moveaxis", "atleast_2d", "copy", "round",
    "around", "nansum", "nanmean", "nanmax", "percentile", "quantile", "unique", "clip", "linalg.norm",
    "linalg.det", "linalg.inv", "linalg.svd", "linalg.eigh", "fft.fft", "angle", "real", "imag",
    "conj", "sinc", "i0", "interp", "histogram", "convolve", "correlate", "cov", "corrcoef", "vstack",
    "hstack", "column_stack", "append", "tile", "repeat", "pad", "zeros_like", "ones_like", "full_like",
    "empty_like", "nan_to_num", "isclose", "allclose", "logaddexp",
]  # fmt: skip


@pytest.mark.parametrize("name", REACHED_FOR)
def test_a_gradient_is_never_silently_lost_by_a_function(name):
    func = np
    for part in name.split("."):
        func = getattr(func, part)
    t = mgx.tensor(np.array([[0.3, 0.5], [0.2, 0.9]]), requires_grad=True)
    args = {
        **dict.fromkeys(["kron", "dot", "vdot", "inner", "outer", "tensordot", "append"], (t, t)),
        **dict.fromkeys(["isclose", "allclose", "logaddexp"], (t, t)),
        **dict.fromkeys(["vstack", "hstack", "column_stack"], ([t, t],)),
        **dict.fromkeys(["convolve", "correlate"], (t[0], t[1])),
        "full_like": (t, 1.0),
        "interp": (t, X[0], Y[0]),
        "tile": (t, 2),
        "repeat": (t, 2),
        "pad": (t, 1),
        "percentile": (t, 50),
        "quantile": (t, 0.5),
        "clip": (t, 0.25, 0.6),
        "roll": (t, 1),
        "cross": (mgx.tensor(V[:3], requires_grad=True), mgx.tensor(W[:3], requires_grad=True)),
        **dict.fromkeys(["swapaxes", "moveaxis"], (t, 0, 1)),
    }.get(name, (t,))
    _never_silently_detached(f"numpy.{name}", lambda: func(*args))


@pytest.mark.parametrize("name", sorted(n for n in dir(np) if isinstance(getattr(np, n), np.ufunc)))
def test_a_gradient_is_never_silently_lost_by_a_ufunc(name):
    ufunc = getattr(np, name)
    t = mgx.tensor(np.array([[0.3, 0.5], [0.2, 0.9]]), requires_grad=True)
    _never_silently_detached(f"numpy.{ufunc.__name__}", lambda: ufunc(*[t] * ufunc.nin))


def _never_silently_detached(shown, call):
    """The result keeps the gradient (a Tensor in the graph), or holds no float values, or the
    call raises; a microgradx TypeError names the NumPy function."""
    try:
        result = call()
    except TypeError as e:
        if str(e).startswith("ufunc '"):
            return  # NumPy refuses float input (bitwise ops, gcd, isnat, ...), as it does for arrays
        assert shown in str(e), f"the error does not name {shown}: {e}"
        assert "unexpected keyword" not in str(e)
        return
    except (ValueError, np.linalg.LinAlgError):
        return  # NumPy's own complaint about the input
    if shown.endswith("_like"):
        assert isinstance(result, mgx.Tensor) and not result.requires_grad  # a new tensor, as in PyTorch
        return
    for r in result if isinstance(result, (list, tuple)) else [result]:
        if isinstance(r, mgx.Tensor):
            assert r.dtype.kind != "f" or r.requires_grad, f"{shown} returned a detached float Tensor"
        else:
            kind = np.asarray(r).dtype.kind
            assert kind in "biuUSO" and not isinstance(r, float), f"{shown} returned {type(r)} {kind}"


# ---------------------------------------------------------------------- #
# tolist and __format__
# ---------------------------------------------------------------------- #
def test_tolist_matches_numpy_and_pytorch():
    for a in [np.array([[1.5, 2.0], [3.0, 4.0]]), np.array(2.5), np.array([1, 2]), np.array([True])]:
        t = mgx.tensor(a)
        assert t.tolist() == a.tolist() == torch.from_numpy(a).tolist()
        assert type(t.tolist()) is type(a.tolist())
    assert mgx.tensor([1.0], dtype=np.float32).tolist() == [1.0]


def test_format_of_one_element_tensors():
    for value in (3.14159, -2.0):
        t0, t1, t2 = mgx.tensor(value), mgx.tensor([value]), mgx.tensor([[value]])
        for spec in (".3f", "+.2e", "8.2f", "g"):
            assert format(t0, spec) == format(value, spec) == format(torch.tensor(value), spec)
            assert format(t1, spec) == format(t2, spec) == format(value, spec)
    assert f"{mgx.tensor(1.5)}" == "1.5" == f"{torch.tensor(1.5, dtype=torch.float64)}"  # 0-d: the value
    assert f"{mgx.tensor(7):03d}" == "007" and f"{mgx.tensor(True)}" == "True"
    t = mgx.tensor(0.5, requires_grad=True)
    assert f"{t * 2:.2f}" == "1.00"


def test_format_of_other_tensors():
    t = mgx.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    assert f"{t}" == str(t) == repr(t)
    assert f"{mgx.tensor([1.5])}" == str(mgx.tensor([1.5]))  # one element, not 0-d: like print
    needs_one = "format spec '.3f' needs a one-element tensor; this one has shape (2, 2)"
    with pytest.raises(TypeError, match=re.escape(needs_one)):
        f"{t:.3f}"
    with pytest.raises(TypeError, match=re.escape("has shape (0,)")):
        format(mgx.tensor(np.zeros(0)), ".1f")


def test_protocol_methods_are_listed_as_not_differentiable():
    from tests.op_table import NOT_DIFFERENTIABLE

    for name in ("tolist", "__format__", "__array_function__", "__array_ufunc__"):
        assert f"Tensor.{name}" in NOT_DIFFERENTIABLE
        assert inspect.isfunction(vars(mgx.Tensor)[name])
