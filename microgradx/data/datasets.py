"""Datasets: a synthetic spiral, scikit-learn's 8x8 digits, and MNIST from local IDX files."""

from __future__ import annotations

import gzip
import os
import struct
from typing import Any

import numpy as np

__all__ = ["load_digits", "load_mnist", "read_idx", "spiral", "train_test_split"]


def spiral(
    n_per_class: int = 100, classes: int = 3, noise: float = 0.2, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Points on ``classes`` interleaved spiral arms (DeZero's and CS231n's toy set).

    Returns ``X`` of shape (n_per_class * classes, 2) and integer labels ``y``.
    """
    rng = np.random.default_rng(seed)
    X = np.zeros((n_per_class * classes, 2))
    y = np.zeros(n_per_class * classes, dtype=np.int64)
    for c in range(classes):
        r = np.linspace(0.0, 1.0, n_per_class)
        theta = c * 2 * np.pi / classes + r * 4.0 + rng.normal(0.0, noise, n_per_class)
        rows = slice(c * n_per_class, (c + 1) * n_per_class)
        X[rows] = np.c_[r * np.sin(theta), r * np.cos(theta)]
        y[rows] = c
    return X, y


def train_test_split(
    X: np.ndarray, y: np.ndarray, test_size: float = 0.2, seed: int = 0
) -> tuple[np.ndarray, ...]:
    """Shuffle and split into ``X_train, X_test, y_train, y_test``."""
    if not 0 < test_size < 1:
        raise ValueError(f"train_test_split: test_size must be in (0, 1), got {test_size}")
    order = np.random.default_rng(seed).permutation(len(X))
    n_test = int(round(len(X) * test_size))
    test, train = order[:n_test], order[n_test:]
    return X[train], X[test], y[train], y[test]


def load_digits(test_size: float = 0.2, seed: int = 0) -> tuple[np.ndarray, ...]:
    """The real 8x8 handwritten digits (1797 images) that ship inside scikit-learn: no download.

    Pixels are scaled to [0, 1] and flattened to 64 features. Returns
    ``X_train, X_test, y_train, y_test``. Needs scikit-learn (the
    ``examples`` extra).
    """
    try:
        from sklearn.datasets import load_digits as _sk_digits
    except ImportError:
        raise ImportError("load_digits needs scikit-learn: pip install 'microgradx[examples]'") from None
    digits: Any = _sk_digits()
    X = (digits.data / 16.0).astype(np.float64)
    y = digits.target.astype(np.int64)
    return train_test_split(X, y, test_size, seed)


_IDX_TYPES: dict[int, Any] = {
    0x08: np.uint8,
    0x09: np.int8,
    0x0B: ">i2",
    0x0C: ">i4",
    0x0D: ">f4",
    0x0E: ">f8",
}


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read one IDX file (the MNIST format), gzipped or not.

    The header is two zero bytes, a type code, the number of dimensions, and
    each dimension as a big-endian 32-bit integer; the data follow.
    """
    opener = gzip.open if os.fspath(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise ValueError(f"read_idx: {os.fspath(path)!r} is not an IDX file (bad magic number {raw[:4]!r})")
    ndim = raw[3]
    dims = struct.unpack(f">{ndim}I", raw[4 : 4 + 4 * ndim])
    dtype = np.dtype(_IDX_TYPES[raw[2]])
    expected = int(np.prod(dims)) * dtype.itemsize
    body = raw[4 + 4 * ndim :]
    if len(body) != expected:
        raise ValueError(
            f"read_idx: {os.fspath(path)!r} declares shape {dims} ({expected} bytes of data) "
            f"but holds {len(body)} bytes"
        )
    return np.frombuffer(body, dtype=dtype).reshape(dims).astype(dtype.newbyteorder("="))


MNIST_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


def load_mnist(directory: str | os.PathLike[str], flatten: bool = True) -> tuple[np.ndarray, ...]:
    """MNIST from the four standard IDX files in ``directory`` (each may end in ``.gz``).

    Returns ``X_train, X_test, y_train, y_test`` with pixels scaled to [0, 1]
    (flattened to 784 features unless ``flatten=False``). Nothing is downloaded:
    a missing file is a ``FileNotFoundError`` that names the files expected.
    """
    found = {}
    for key, name in MNIST_FILES.items():
        for candidate in (name, name + ".gz"):
            path = os.path.join(os.fspath(directory), candidate)
            if os.path.exists(path):
                found[key] = path
                break
        else:
            raise FileNotFoundError(
                f"load_mnist: {name} (or {name}.gz) is missing from {os.fspath(directory)!r}; "
                f"the directory must hold {', '.join(MNIST_FILES.values())} (from the MNIST "
                "distribution, gzipped or not)"
            )
    images = {k: read_idx(found[k]).astype(np.float64) / 255.0 for k in ("train_images", "test_images")}
    labels = {k: read_idx(found[k]).astype(np.int64) for k in ("train_labels", "test_labels")}
    for split in ("train", "test"):
        if len(images[f"{split}_images"]) != len(labels[f"{split}_labels"]):
            raise ValueError(
                f"load_mnist: {len(images[f'{split}_images'])} {split} images but "
                f"{len(labels[f'{split}_labels'])} labels"
            )
    if flatten:
        images = {k: v.reshape(len(v), -1) for k, v in images.items()}
    return images["train_images"], images["test_images"], labels["train_labels"], labels["test_labels"]
