"""Linear, Sequential, the activation modules and MLP."""

import numpy as np
import pytest

import microgradx as mgx
import microgradx.functional as F
from microgradx import nn


def test_linear_computes_x_at_w_plus_b_with_the_books_layout():
    layer = nn.Linear(3, 2, rng=np.random.default_rng(0))
    assert layer.weight.shape == (3, 2) and layer.bias.shape == (2,)
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(layer(mgx.tensor(x)).data, x @ layer.weight.data + layer.bias.data)
    assert nn.Linear(3, 2, bias=False).bias is None


def test_initialisations_have_their_textbook_scale():
    rng = np.random.default_rng(1)
    xavier = nn.Linear(400, 600, rng=rng).weight.data
    limit = np.sqrt(6 / (400 + 600))  # Glorot uniform bound
    assert np.abs(xavier).max() <= limit and np.abs(xavier).max() > 0.99 * limit
    he = nn.Linear(500, 500, init="he", rng=rng).weight.data
    assert he.std() == pytest.approx(np.sqrt(2 / 500), rel=0.02)  # He normal std
    with pytest.raises(ValueError, match="init must be one of"):
        nn.Linear(2, 2, init="zeros")


def test_manual_seed_makes_initialisation_reproducible():
    mgx.manual_seed(3)
    a = nn.MLP([3, 4, 2]).state_dict()
    mgx.manual_seed(3)
    b = nn.MLP([3, 4, 2]).state_dict()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])


@pytest.mark.parametrize(
    ("module", "fn"),
    [
        (nn.Sigmoid(), F.sigmoid),
        (nn.ReLU(), F.relu),
        (nn.Tanh(), F.tanh),
        (nn.Softmax(axis=0), lambda t: F.softmax(t, 0)),
    ],
)
def test_activation_modules_apply_their_function(module, fn):
    x = mgx.tensor([[-1.0, 0.5], [2.0, -3.0]])
    np.testing.assert_array_equal(module(x).data, fn(x).data)


def test_mlp_structure_and_gradients():
    mlp = nn.MLP([4, 8, 8, 3], activation="relu", rng=np.random.default_rng(0))
    kinds = [type(m).__name__ for _, m in mlp.layers.named_children()]
    assert kinds == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]  # nothing after the last layer
    x = np.random.default_rng(1).normal(size=(5, 4))
    out = mlp(mgx.tensor(x))
    assert out.shape == (5, 3)
    loss = F.cross_entropy(out, np.array([0, 1, 2, 1, 0]))
    loss.backward()
    W = mlp.layers[0].weight

    def f(w):
        saved = W.data.copy()
        W.data[...] = w
        try:
            with mgx.no_grad():
                return F.cross_entropy(mlp(mgx.tensor(x)), np.array([0, 1, 2, 1, 0])).item()
        finally:
            W.data[...] = saved

    np.testing.assert_allclose(W.grad.data, mgx.numerical_gradient(f, W.data.copy()), rtol=1e-5, atol=1e-8)


def test_mlp_and_sequential_errors():
    with pytest.raises(ValueError, match="activation must be one of"):
        nn.MLP([2, 2], activation="gelu")
    with pytest.raises(ValueError, match="at least an input and an output size"):
        nn.MLP([2])
    with pytest.raises(TypeError, match="item 1 is a function, not a Module"):
        nn.Sequential(nn.ReLU(), F.relu)
    seq = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
    assert len(seq) == 2 and isinstance(seq[1], nn.ReLU)
