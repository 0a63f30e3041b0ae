"""BatchNorm1d/2d, LayerNorm, Dropout and Embedding modules against PyTorch's; buffers in state_dict."""

import numpy as np
import pytest

import microgradx as mgx
from microgradx import nn, optim

torch = pytest.importorskip("torch", reason="PyTorch not installed: run TORCH_ORACLE=1 make test")


@pytest.mark.parametrize(
    "ours, theirs, shape",
    [
        (lambda: nn.BatchNorm1d(3, momentum=0.2), lambda: torch.nn.BatchNorm1d(3, momentum=0.2), (6, 3)),
        (lambda: nn.BatchNorm1d(3), lambda: torch.nn.BatchNorm1d(3), (6, 3, 4)),
        (lambda: nn.BatchNorm2d(3, eps=1e-3), lambda: torch.nn.BatchNorm2d(3, eps=1e-3), (4, 3, 5, 5)),
        (lambda: nn.LayerNorm(5), lambda: torch.nn.LayerNorm(5), (4, 3, 5)),
        (lambda: nn.LayerNorm((3, 5)), lambda: torch.nn.LayerNorm((3, 5)), (4, 3, 5)),
    ],
)
def test_a_training_run_follows_torch(ours, theirs, shape):
    """Five SGD steps in training mode, then eval: outputs, gradients, parameters and running
    statistics agree with PyTorch's module in float64."""
    rng = np.random.default_rng(0)
    m, tm = ours(), theirs().double()
    opt, topt = optim.SGD(m.parameters(), lr=0.1), torch.optim.SGD(tm.parameters(), lr=0.1)
    for _ in range(5):
        x, g = rng.normal(size=shape) * 3 + 1, rng.normal(size=shape)
        y, ty = m(mgx.tensor(x)), tm(torch.tensor(x))
        np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-10, atol=1e-12)
        opt.zero_grad()
        topt.zero_grad()
        (y * mgx.tensor(g)).sum().backward()
        (ty * torch.tensor(g)).sum().backward()
        opt.step()
        topt.step()
    ours_sd, theirs_sd = m.state_dict(), tm.state_dict()
    assert list(ours_sd) == list(theirs_sd)
    for k in ours_sd:
        np.testing.assert_allclose(ours_sd[k], theirs_sd[k].numpy(), rtol=1e-10, err_msg=k)
    m.eval()
    tm.eval()
    x = rng.normal(size=shape)
    np.testing.assert_allclose(m(mgx.tensor(x)).data, tm(torch.tensor(x)).detach().numpy(), rtol=1e-10)


def test_buffers_are_saved_and_loaded_with_the_parameters(tmp_path):
    mgx.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.ReLU(), nn.Dropout(0.2), nn.Linear(3, 2))
    for _ in range(3):
        model(mgx.tensor(np.random.default_rng(1).normal(size=(8, 4))))
    sd = model.state_dict()
    assert [k for k in sd if k.startswith("1.")] == [
        "1.weight",
        "1.bias",
        "1.running_mean",
        "1.running_var",
        "1.num_batches_tracked",
    ]
    assert int(sd["1.num_batches_tracked"]) == 3 and sd["1.num_batches_tracked"].dtype == np.int64
    fresh = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.ReLU(), nn.Dropout(0.2), nn.Linear(3, 2))
    fresh.load_state_dict(mgx.load(mgx.save(sd, tmp_path / "m.npz")))
    model.eval()
    fresh.eval()
    x = mgx.tensor(np.ones((2, 4)))
    np.testing.assert_array_equal(fresh(x).data, model(x).data)
    with pytest.raises(KeyError, match=r"missing keys \['1.running_var'\]"):
        fresh.load_state_dict({k: v for k, v in sd.items() if k != "1.running_var"})


def test_dropout_is_the_identity_in_eval_and_seeded_in_training():
    d = nn.Dropout(0.5)
    x = mgx.tensor(np.ones((10, 10)))
    mgx.manual_seed(5)
    a = d(x)
    mgx.manual_seed(5)
    np.testing.assert_array_equal(d(x).data, a.data)
    assert 0 < (a.data == 0).sum() < 100
    assert d.eval()(x) is x
    assert repr(d) == "Dropout(p=0.5)"
    with pytest.raises(ValueError, match="p must be a probability"):
        nn.Dropout(2)


def test_embedding_and_errors():
    mgx.manual_seed(0)
    e = nn.Embedding(5, 2)
    assert e.weight.shape == (5, 2) and repr(e) == "Embedding(5, 2)"
    out = e([[0, 4], [4, 4]])
    out.sum().backward()
    np.testing.assert_array_equal(e.weight.grad.data[:, 0], [1, 0, 0, 0, 3])
    with pytest.raises(ValueError, match=r"BatchNorm2d: expected input \(N, C, H, W\), got shape \(2, 3\)"):
        nn.BatchNorm2d(3)(mgx.tensor(np.ones((2, 3))))
    with pytest.raises(ValueError, match=r"expected 4 channels \(axis 1\), got input of shape \(2, 3\)"):
        nn.BatchNorm1d(4)(mgx.tensor(np.ones((2, 3))))
    with pytest.raises(ValueError, match="num_features must be a positive int, got 0"):
        nn.BatchNorm1d(0)
