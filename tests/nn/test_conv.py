"""Conv2d, MaxPool2d, AvgPool2d and Flatten against their torch.nn twins (weights copied across:
outputs and float64 gradients), their initialisation, reprs and errors, and the book's SimpleConvNet
against the same network in PyTorch."""

import math

import numpy as np
import pytest

import microgradx as mgx
import microgradx.functional as F
from microgradx import nn
from microgradx.nn.conv import AvgPool2d, Conv2d, Flatten, MaxPool2d

torch = pytest.importorskip("torch", reason="PyTorch not installed: run TORCH_ORACLE=1 make test")

rng = np.random.default_rng(0)


def test_the_layers_are_in_nn():
    assert (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d, nn.Flatten) == (Conv2d, MaxPool2d, AvgPool2d, Flatten)


def _copy_to_torch(ours, theirs):
    with torch.no_grad():
        for name, p in ours.named_parameters():
            theirs.get_parameter(name).copy_(torch.tensor(p.data))


@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"stride": 2, "padding": 1},
        {"padding": (1, 2), "dilation": (2, 1), "bias": False},
        {"stride": (1, 2), "dilation": 2},
    ],
)
def test_conv2d_matches_torch_with_the_same_weights(kw):
    ours = Conv2d(3, 4, (3, 2), **kw)
    theirs = torch.nn.Conv2d(3, 4, (3, 2), **kw).double()
    _copy_to_torch(ours, theirs)
    x = rng.standard_normal((2, 3, 9, 8))
    xm, xt = mgx.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, yt = ours(xm), theirs(xt)
    np.testing.assert_allclose(y.data, yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    gy = rng.standard_normal(y.shape)
    y.backward(gy)
    yt.backward(torch.tensor(gy))
    np.testing.assert_allclose(xm.grad.data, xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(
            p.grad.data, theirs.get_parameter(name).grad.numpy(), rtol=1e-10, atol=1e-12
        )
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]


def test_conv2d_reprs_read_as_torchs():
    for args, kw in [
        ((1, 30, 5), {}),
        ((3, 8, 3), {"stride": 2, "padding": 1, "dilation": 2, "bias": False}),
    ]:
        assert repr(Conv2d(*args, **kw)) == repr(torch.nn.Conv2d(*args, **kw))


def test_conv2d_initialisation_is_the_books_he_or_xavier():
    conv = Conv2d(20, 64, 5, rng=np.random.default_rng(1))
    fan_in = 20 * 5 * 5
    assert conv.weight.shape == (64, 20, 5, 5) and conv.bias.shape == (64,)
    assert conv.weight.data.std() == pytest.approx(math.sqrt(2 / fan_in), rel=0.03)  # He normal
    assert abs(conv.weight.data.mean()) < 0.1 * math.sqrt(2 / fan_in)
    np.testing.assert_array_equal(conv.bias.data, 0.0)
    xavier = Conv2d(20, 64, 5, init="xavier", rng=np.random.default_rng(1)).weight.data
    limit = math.sqrt(6 / (fan_in + 64 * 25))  # Glorot uniform, torch.nn.init's fans
    assert np.abs(xavier).max() <= limit and np.abs(xavier).max() > 0.99 * limit
    with pytest.raises(ValueError, match="Conv2d: init must be one of"):
        Conv2d(1, 1, 3, init="zeros")


def test_conv2d_draws_from_the_seeded_generator_and_keeps_its_dtype():
    mgx.manual_seed(5)
    a = Conv2d(2, 3, 3).weight.data.copy()
    mgx.manual_seed(5)
    np.testing.assert_array_equal(Conv2d(2, 3, 3).weight.data, a)
    c32 = Conv2d(2, 3, 3, dtype=np.float32)
    assert c32.weight.dtype == np.float32 and c32.bias.dtype == np.float32
    assert c32(np.zeros((1, 2, 5, 5), np.float32)).dtype == np.float32


def test_conv2d_refuses_bad_arguments():
    with pytest.raises(ValueError, match="Conv2d: in_channels must be a positive int, got 0"):
        Conv2d(0, 3, 3)
    with pytest.raises(ValueError, match="Conv2d: stride must be a positive int"):
        Conv2d(1, 3, 3, stride=0)
    with pytest.raises(ValueError, match=r"conv2d: input of shape \(1, 2, 5, 5\) has 2 channels"):
        Conv2d(3, 4, 3)(np.zeros((1, 2, 5, 5)))


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (MaxPool2d(2), torch.nn.MaxPool2d(2)),
        (MaxPool2d(3, stride=2, padding=1), torch.nn.MaxPool2d(3, stride=2, padding=1)),
        (MaxPool2d((2, 3), stride=1, dilation=2), torch.nn.MaxPool2d((2, 3), stride=1, dilation=2)),
        (AvgPool2d(2), torch.nn.AvgPool2d(2)),
        (AvgPool2d(3, stride=(1, 2), padding=1), torch.nn.AvgPool2d(3, stride=(1, 2), padding=1)),
    ],
)
def test_pools_match_torch(ours, theirs):
    x = rng.permutation(2 * 3 * 7 * 9).reshape(2, 3, 7, 9) / 3.0  # distinct: one arg-max per window
    xm, xt = mgx.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, yt = ours(xm), theirs(xt)
    np.testing.assert_allclose(y.data, yt.detach().numpy(), rtol=1e-12)
    gy = rng.standard_normal(y.shape)
    y.backward(gy)
    yt.backward(torch.tensor(gy))
    np.testing.assert_allclose(xm.grad.data, xt.grad.numpy(), rtol=1e-12)


def test_pool_reprs_and_errors():
    assert repr(MaxPool2d(2)) == "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1)"
    assert repr(AvgPool2d(3, stride=1, padding=1)) == "AvgPool2d(kernel_size=3, stride=1, padding=1)"
    with pytest.raises(ValueError, match="MaxPool2d: kernel_size must be a positive int"):
        MaxPool2d(0)
    with pytest.raises(ValueError, match="AvgPool2d: padding must be a non-negative int"):
        AvgPool2d(2, padding=-1)


@pytest.mark.parametrize(("start", "end"), [(1, -1), (0, -1), (1, 2), (2, 3), (-3, -2), (0, 0)])
def test_flatten_matches_torch(start, end):
    x = rng.standard_normal((2, 3, 4, 5))
    ours = Flatten(start, end)(mgx.tensor(x))
    theirs = torch.nn.Flatten(start, end)(torch.tensor(x))
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_array_equal(ours.data, theirs.numpy())
    assert repr(Flatten(start, end)) == repr(torch.nn.Flatten(start, end))


def test_flatten_errors():
    with pytest.raises(IndexError, match=r"Flatten: start_dim=4 and end_dim=-1 must be in \[-4, 3\]"):
        Flatten(4)(np.zeros((1, 2, 3, 4)))
    with pytest.raises(ValueError, match="Flatten: start_dim=2 comes after end_dim=1"):
        Flatten(2, 1)(np.zeros((1, 2, 3, 4)))


def test_the_books_simple_convnet_trains_as_in_pytorch():
    """conv(30 filters 5x5) - relu - max pool 2x2 - affine 100 - relu - affine 10 - cross-entropy,
    on a batch of 1x28x28 images: the loss and every gradient, and two SGD steps, as in PyTorch."""
    mgx.manual_seed(0)
    net = nn.Sequential(
        Conv2d(1, 30, 5),
        nn.ReLU(),
        MaxPool2d(2),
        Flatten(),
        nn.Linear(4320, 100, init="he"),
        nn.ReLU(),
        nn.Linear(100, 10),
    )
    ref = torch.nn.Sequential(
        torch.nn.Conv2d(1, 30, 5),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(4320, 100),
        torch.nn.ReLU(),
        torch.nn.Linear(100, 10),
    ).double()
    with torch.no_grad():
        for name, p in net.named_parameters():
            value = torch.tensor(p.data)
            ref.get_parameter(name).copy_(value.T if p.ndim == 2 else value)  # Linear is x @ W here
    x, t = rng.random((8, 1, 28, 28)), rng.integers(0, 10, 8)
    opt, ref_opt = mgx.optim.SGD(net.parameters(), lr=0.1), torch.optim.SGD(ref.parameters(), lr=0.1)
    for _ in range(2):
        opt.zero_grad()
        ref_opt.zero_grad()
        loss = F.cross_entropy(net(x), t)
        ref_loss = torch.nn.functional.cross_entropy(ref(torch.tensor(x)), torch.tensor(t))
        loss.backward()
        ref_loss.backward()
        assert loss.item() == pytest.approx(ref_loss.item(), rel=1e-10)
        for name, p in net.named_parameters():
            want = ref.get_parameter(name).grad.numpy()
            np.testing.assert_allclose(p.grad.data, want.T if p.ndim == 2 else want, rtol=1e-8, atol=1e-12)
        opt.step()
        ref_opt.step()
