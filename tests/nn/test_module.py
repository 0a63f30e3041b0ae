"""Module and Parameter: naming, traversal, modes, state dicts and their errors."""

import numpy as np
import pytest

import microgradx as mgx
from microgradx import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(2, 3)
        self.blocks = [nn.Linear(3, 3), nn.Tanh()]
        self.fc2 = nn.Linear(3, 1, bias=False)
        self.scale = nn.Parameter(np.array(2.0))

    def forward(self, x):
        h = self.fc1(x).sigmoid()
        for block in self.blocks:
            h = block(h)
        return self.fc2(h) * self.scale


def test_named_parameters_are_attribute_paths_and_name_the_tensors():
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["scale", "fc1.weight", "fc1.bias", "blocks.0.weight", "blocks.0.bias", "fc2.weight"]
    assert [p.name for p in net.parameters()] == names  # graph pictures show these names
    assert [n for n, _ in nn.MLP([4, 5, 2]).named_parameters()] == [
        "layers.0.weight",
        "layers.0.bias",
        "layers.2.weight",
        "layers.2.bias",
    ]


def test_a_name_given_by_the_user_is_kept_and_shared_parameters_appear_once():
    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(np.ones(2), name="shared")
            self.a = nn.Linear(2, 2)
            self.b = self.a  # the same layer twice

        def forward(self, x):
            return self.b(self.a(x * self.w))

    t = Tied()
    assert [n for n, _ in t.named_parameters()] == ["w", "a.weight", "a.bias"]
    assert t.w.name == "shared"


def test_parameters_require_grad_and_default_to_float64():
    p = nn.Parameter([1, 2])
    assert p.requires_grad and p.dtype == np.float64 and p.is_leaf
    assert nn.Parameter(np.ones(2, np.float32)).dtype == np.float32


def test_zero_grad_train_and_eval_reach_every_submodule():
    net = Net()
    net(mgx.tensor(np.ones((4, 2)))).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    net.eval()
    assert not net.training and not net.fc1.training and not net.blocks[1].training
    net.train()
    assert net.blocks[0].training


def test_state_dict_round_trip_copies_values_into_the_same_parameters():
    a, b = Net(), Net()
    x = mgx.tensor(np.random.default_rng(0).normal(size=(5, 2)))
    w = b.fc1.weight
    b.load_state_dict(a.state_dict())
    assert b.fc1.weight is w  # loaded in place: an optimizer holding w sees the new values
    np.testing.assert_array_equal(a(x).data, b(x).data)
    sd = a.state_dict()
    sd["fc1.weight"][...] = 0.0  # a copy: the model is untouched
    assert np.any(a.fc1.weight.data != 0)


def test_load_state_dict_errors_name_keys_and_shapes_and_change_nothing():
    net = Net()
    before = net.state_dict()
    sd = net.state_dict()
    del sd["fc2.weight"]
    sd["extra"] = np.ones(1)
    with pytest.raises(KeyError, match=r"missing keys \['fc2.weight'\], unexpected keys \['extra'\]"):
        net.load_state_dict(sd)
    bad = net.state_dict()
    bad["fc1.bias"] = np.ones(4)
    bad["fc1.weight"] = np.zeros((2, 3))  # fits, and must not be written either
    with pytest.raises(
        ValueError, match=r"'fc1.bias' has shape \(4,\) in the state dict but \(3,\) in the model"
    ):
        net.load_state_dict(bad)
    for k, v in net.state_dict().items():
        np.testing.assert_array_equal(v, before[k])
    sd.pop("extra")
    net.load_state_dict(sd, strict=False)  # loads what both have


def test_forgetting_super_init_is_a_clear_error():
    class Bad(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(1, 1)

    with pytest.raises(RuntimeError, match=r"must call super\(\).__init__\(\) first"):
        Bad()
