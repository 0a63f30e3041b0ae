"""save / load: round trips, atomic writes, and refusing files that would need pickle."""

import os

import numpy as np
import pytest

import microgradx as mgx
from microgradx import nn


def test_round_trip_keeps_names_order_values_and_dtypes(tmp_path):
    model = nn.MLP([3, 4, 2])
    path = mgx.save(model.state_dict(), tmp_path / "model.npz")
    loaded = mgx.load(path)
    assert list(loaded) == [n for n, _ in model.named_parameters()]
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(loaded[k], v)
        assert loaded[k].dtype == v.dtype
    fresh = nn.MLP([3, 4, 2])
    fresh.load_state_dict(loaded)
    x = mgx.tensor(np.ones((2, 3)))
    np.testing.assert_array_equal(fresh(x).data, model(x).data)


def test_keys_that_are_also_savez_arguments_are_plain_keys(tmp_path):
    sd = {"file": np.ones(2), "allow_pickle": np.zeros(1), "layers.0.weight": np.eye(2)}
    loaded = mgx.load(mgx.save(sd, tmp_path / "k.npz"))
    assert list(loaded) == list(sd)
    for k in sd:
        np.testing.assert_array_equal(loaded[k], sd[k])
    np.testing.assert_array_equal(np.load(tmp_path / "k.npz")["layers.0.weight"], np.eye(2))  # plain .npz


def test_tensors_and_arrays_are_both_accepted(tmp_path):
    mgx.save({"a": mgx.tensor([1.0, 2.0]), "b": np.arange(3)}, tmp_path / "x.npz")
    loaded = mgx.load(tmp_path / "x.npz")
    assert loaded["a"].tolist() == [1.0, 2.0] and loaded["b"].tolist() == [0, 1, 2]


def test_a_crash_while_writing_leaves_the_old_checkpoint_intact(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    mgx.save({"w": np.ones(3)}, path)

    def crash(file, array, allow_pickle=False):
        file.write(b"\x93NUMPY half an array")
        raise KeyboardInterrupt("power cut")

    monkeypatch.setattr(np.lib.format, "write_array", crash)
    with pytest.raises(KeyboardInterrupt):
        mgx.save({"w": np.zeros(3)}, path)
    monkeypatch.undo()
    np.testing.assert_array_equal(mgx.load(path)["w"], np.ones(3))
    assert os.listdir(tmp_path) == ["ckpt.npz"]  # no temporary file left behind


def test_a_file_with_object_arrays_is_refused_not_unpickled(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, w=np.array([{"__reduce__": "os.system"}], dtype=object))
    with pytest.raises(ValueError, match="object arrays.*refusing to load it"):
        mgx.load(path)


def test_bad_inputs(tmp_path):
    with pytest.raises(TypeError, match="'s' has dtype <U3"):
        mgx.save({"s": np.array(["abc"])}, tmp_path / "s.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip at all")
    with pytest.raises(ValueError):
        mgx.load(tmp_path / "junk.npz")


def test_a_saved_file_gets_the_usual_permissions(tmp_path):
    umask = os.umask(0)
    os.umask(umask)
    path = mgx.save({"w": np.ones(2)}, tmp_path / "w.npz")
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's private 0600
