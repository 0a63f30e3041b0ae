"""DataLoader, the spiral, the digits, and MNIST parsed from IDX files the test writes."""

import gzip
import struct

import numpy as np
import pytest

from microgradx.data import DataLoader, load_digits, load_mnist, read_idx, spiral


def test_batches_cover_every_sample_once_per_epoch():
    X, y = np.arange(20.0).reshape(10, 2), np.arange(10)
    loader = DataLoader((X, y), batch_size=3, shuffle=True, seed=0)
    assert len(loader) == 4
    epochs = [np.concatenate([b[1].data for b in loader]) for _ in range(2)]
    for labels in epochs:
        assert sorted(labels.tolist()) == list(range(10))
    assert epochs[0].tolist() != epochs[1].tolist()  # reshuffled
    xb, yb = next(iter(loader))
    np.testing.assert_array_equal(xb.data[:, 0] / 2, yb.data)  # rows stay paired
    assert yb.dtype.kind == "i"


def test_seed_reproduces_and_drop_last_drops():
    X = np.arange(10.0)
    a = [b[0].data.tolist() for b in DataLoader((X,), batch_size=4, shuffle=True, seed=5)]
    b = [b[0].data.tolist() for b in DataLoader((X,), batch_size=4, shuffle=True, seed=5)]
    assert a == b
    assert [len(b[0]) for b in DataLoader((X,), batch_size=4, drop_last=True)] == [4, 4]


def test_a_sequence_of_samples_and_mismatched_arrays():
    samples = [(np.array([i, i]), i) for i in range(5)]
    batches = list(DataLoader(samples, batch_size=2))
    assert [b[1].data.tolist() for b in batches] == [[0, 1], [2, 3], [4]]
    with pytest.raises(ValueError, match=r"array 1 has shape \(3,\) but array 0 has 4 samples"):
        DataLoader((np.ones((4, 2)), np.ones(3)))


def test_spiral():
    X, y = spiral(n_per_class=50, classes=3)
    assert X.shape == (150, 2) and np.bincount(y).tolist() == [50, 50, 50]
    assert np.abs(X).max() <= 1.0 + 1e-12


def test_digits_are_real_scaled_and_split():
    X_train, X_test, y_train, y_test = load_digits(test_size=0.25, seed=1)
    assert X_train.shape[1] == 64 and len(X_train) + len(X_test) == 1797
    assert len(X_test) == round(1797 * 0.25)
    assert X_train.min() == 0.0 and X_train.max() == 1.0
    assert set(np.unique(y_train)) == set(range(10))


def write_idx(path, array, gz=False):
    code = {np.dtype(np.uint8): 0x08}[array.dtype]
    header = struct.pack(">BBBB", 0, 0, code, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    data = header + array.tobytes()
    # closed here: from Python 3.12 an unclosed GzipFile is written out only when the garbage
    # collector frees it, so load_mnist would read an empty file
    with (gzip.open if gz else open)(path, "wb") as f:
        f.write(data)


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_from_idx_files(tmp_path, gz):
    rng = np.random.default_rng(0)
    imgs = {s: rng.integers(0, 256, (n, 28, 28), dtype=np.uint8) for s, n in (("train", 6), ("t10k", 4))}
    labels = {s: rng.integers(0, 10, n, dtype=np.uint8) for s, n in (("train", 6), ("t10k", 4))}
    suffix = ".gz" if gz else ""
    for s in ("train", "t10k"):
        write_idx(tmp_path / f"{s}-images-idx3-ubyte{suffix}", imgs[s], gz)
        write_idx(tmp_path / f"{s}-labels-idx1-ubyte{suffix}", labels[s], gz)
    X_train, X_test, y_train, y_test = load_mnist(tmp_path)
    assert X_train.shape == (6, 784) and X_test.shape == (4, 784)
    np.testing.assert_allclose(X_train, imgs["train"].reshape(6, -1) / 255.0)
    np.testing.assert_array_equal(y_test, labels["t10k"])
    assert load_mnist(tmp_path, flatten=False)[0].shape == (6, 28, 28)


def test_mnist_errors_name_the_expected_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte .*t10k-labels-idx1-ubyte"):
        load_mnist(tmp_path)
    (tmp_path / "bad").write_bytes(b"\x08\x03\x00\x00")
    with pytest.raises(ValueError, match="not an IDX file"):
        read_idx(tmp_path / "bad")
    write_idx(tmp_path / "short", np.zeros((2, 2), np.uint8))
    (tmp_path / "short").write_bytes((tmp_path / "short").read_bytes()[:-1])
    with pytest.raises(ValueError, match=r"declares shape \(2, 2\) \(4 bytes of data\) but holds 3"):
        read_idx(tmp_path / "short")
