"""batch_norm, layer_norm, dropout and embedding against PyTorch, plus their error messages."""

import numpy as np
import pytest

import microgradx as mgx
import microgradx.functional as F

torch = pytest.importorskip("torch", reason="PyTorch not installed: run TORCH_ORACLE=1 make test")
TF = torch.nn.functional


def both(a, requires_grad=True):
    return mgx.tensor(a, requires_grad=requires_grad), torch.tensor(a, requires_grad=requires_grad)


@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 6), (4, 3, 2, 5)])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_matches_torch_with_running_statistics(shape, training):
    rng = np.random.default_rng(0)
    x, w, b = rng.normal(size=shape), rng.uniform(0.5, 2, shape[1]), rng.normal(size=shape[1])
    g = rng.normal(size=shape)
    rm, rv = rng.normal(size=shape[1]), rng.uniform(0.5, 2, shape[1])
    (X, TX), (W, TW), (B, TB) = both(x), both(w), both(b)
    ours_rm, ours_rv = rm.copy(), mgx.tensor(rv.copy())  # an array and a Tensor: both are updated in place
    theirs_rm, theirs_rv = torch.tensor(rm), torch.tensor(rv)
    y = F.batch_norm(X, ours_rm, ours_rv, W, B, training=training, momentum=0.3, eps=1e-3)
    ty = TF.batch_norm(TX, theirs_rm, theirs_rv, TW, TB, training=training, momentum=0.3, eps=1e-3)
    (y * mgx.tensor(g)).sum().backward()
    (ty * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-12, atol=1e-12)
    for ours, theirs in [(X, TX), (W, TW), (B, TB)]:
        np.testing.assert_allclose(ours.grad.data, theirs.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours_rm, theirs_rm.numpy(), rtol=1e-13)  # unbiased variance, as PyTorch
    np.testing.assert_allclose(ours_rv.data, theirs_rv.numpy(), rtol=1e-13)


def test_normalisation_is_twice_differentiable_like_torch():
    rng = np.random.default_rng(1)
    x, w = rng.normal(size=(4, 3)), rng.uniform(0.5, 2, 3)
    X, TX = both(x)
    gx = mgx.grad(lambda t: (F.layer_norm(t, 3, mgx.tensor(w)) ** 3).sum())(X)
    (tgx,) = torch.autograd.grad((TF.layer_norm(TX, (3,), torch.tensor(w)) ** 3).sum(), TX, create_graph=True)
    np.testing.assert_allclose(gx.data, tgx.detach().numpy(), rtol=1e-10)
    (gx * gx).sum().backward()
    (tgx * tgx).sum().backward()
    np.testing.assert_allclose(X.grad.data, TX.grad.numpy(), rtol=1e-9)
    hb = mgx.grad(lambda t: mgx.grad(lambda u: (F.batch_norm(u, training=True) ** 3).sum())(t)[0, 0])(
        X.detach()
    )
    bx = torch.tensor(x, requires_grad=True)
    (tg,) = torch.autograd.grad(
        (TF.batch_norm(bx, None, None, training=True) ** 3).sum(), bx, create_graph=True
    )
    (th,) = torch.autograd.grad(tg[0, 0], bx)
    np.testing.assert_allclose(hb, th.numpy(), rtol=1e-9, atol=1e-12)


def test_a_huge_value_is_standardised_not_zeroed():
    """(x - mean)**2 overflows for |x| > 1e154; before, that turned every output into a silent 0.
    Dividing x by 1e299 first gives the expected values: the standardisation does not change."""
    x = np.array([[3.0, 1.0, 2.0], [1e300, 1.0, 2.0]])
    y = F.layer_norm(mgx.tensor(x), 3)
    expected = TF.layer_norm(torch.tensor(x / np.abs(x).max(axis=1, keepdims=True)), (3,), eps=0.0)
    np.testing.assert_allclose(y.data[1], expected[1].numpy(), rtol=1e-12)
    np.testing.assert_allclose(y.data[1], [np.sqrt(2), -1 / np.sqrt(2), -1 / np.sqrt(2)], rtol=1e-12)
    z = F.batch_norm(mgx.tensor(x.T.copy()), training=True)
    np.testing.assert_allclose(z.data[:, 1], y.data[1], rtol=1e-12)


@pytest.mark.parametrize("normalized_shape", [4, (4,), (3, 4), [2, 3, 4]])
def test_layer_norm_matches_torch(normalized_shape):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, 3, 4))
    ns = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    w, b = rng.normal(size=ns), rng.normal(size=ns)
    (X, TX), (W, TW), (B, TB) = both(x), both(w), both(b)
    g = rng.normal(size=x.shape)
    y = F.layer_norm(X, normalized_shape, W, B)
    ty = TF.layer_norm(TX, ns, TW, TB)
    (y * mgx.tensor(g)).sum().backward()
    (ty * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-12, atol=1e-12)
    for ours, theirs in [(X, TX), (W, TW), (B, TB)]:
        np.testing.assert_allclose(ours.grad.data, theirs.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_dropout_keeps_a_fraction_scales_it_and_is_seeded():
    x = mgx.tensor(np.ones((200, 500)), requires_grad=True)
    mgx.manual_seed(3)
    y = F.dropout(x, p=0.3)
    kept = y.data != 0
    assert abs(kept.mean() - 0.7) < 0.01  # 100 000 draws: the standard error is 0.0014
    np.testing.assert_allclose(y.data[kept], 1 / 0.7)
    y.backward(np.full(x.shape, 2.0))
    np.testing.assert_array_equal(x.grad.data, np.where(kept, 2 / 0.7, 0.0))
    mgx.manual_seed(3)
    np.testing.assert_array_equal(F.dropout(x, p=0.3).data, y.data)
    assert F.dropout(x, 0.3, training=False) is x and F.dropout(x, 0.0) is x
    assert not F.dropout(x, 1.0).data.any()
    for p in (-0.1, 1.5, True):
        with pytest.raises(ValueError, match=f"dropout: p must be a probability in \\[0, 1\\], got {p!r}"):
            F.dropout(x, p)


def test_embedding_adds_the_gradients_of_repeated_rows():
    w = np.arange(12.0).reshape(4, 3)
    W, TW = both(w)
    idx = np.array([[0, 2], [2, 3]])
    F.embedding(idx, W).sum().backward()
    TF.embedding(torch.tensor(idx), TW).sum().backward()
    np.testing.assert_array_equal(W.grad.data, TW.grad.numpy())  # row 2 twice: gradient 2
    with pytest.raises(IndexError, match=r"index 4 is out of range for 4 embeddings"):
        F.embedding([1, 4], W)
    with pytest.raises(TypeError, match="indices must be integers, got dtype float64"):
        F.embedding([1.0], W)


def test_errors_name_the_shapes():
    x = mgx.tensor(np.ones((4, 3)))
    with pytest.raises(
        ValueError, match=r"running_mean must have shape \(3,\) for 3 channels, got shape \(2,\)"
    ):
        F.batch_norm(x, np.zeros(2), np.ones(2))
    with pytest.raises(ValueError, match="needs running_mean and running_var"):
        F.batch_norm(x)
    with pytest.raises(ValueError, match=r"more than 1 value per channel, got input of shape \(1, 3\)"):
        F.batch_norm(mgx.tensor(np.ones((1, 3))), training=True)
    with pytest.raises(ValueError, match=r"normalized_shape \(4,\) must be the last dimensions.*\(4, 3\)"):
        F.layer_norm(x, 4)
    with pytest.raises(ValueError, match=r"layer_norm: weight must have shape \(3,\), got shape \(4,\)"):
        F.layer_norm(x, 3, np.ones(4))
