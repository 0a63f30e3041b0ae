"""DataLoader: mini-batches of (inputs, labels) as Tensors."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from .. import random as _random
from ..errors import fmt_shape
from ..tensor import Tensor

__all__ = ["DataLoader"]


class DataLoader:
    """Iterate over a dataset in mini-batches.

    Parameters
    ----------
    dataset : tuple of arrays, or a sequence of samples
        ``(X, y)`` (arrays with the same first dimension), or anything with
        ``len`` and ``__getitem__`` that returns a tuple of arrays per sample.
    batch_size : int
    shuffle : bool
        Reshuffle at the start of every epoch.
    seed : int, optional
        Seed of the shuffling (default: the generator ``mgx.manual_seed`` sets).
    drop_last : bool
        Skip a last batch smaller than ``batch_size``.

    Yields
    ------
    tuple of Tensor
        One Tensor per array of the dataset (labels stay integers).

    Examples
    --------
    >>> import numpy as np
    >>> X, y = np.arange(10.0).reshape(5, 2), np.arange(5)
    >>> [b[1].shape for b in DataLoader((X, y), batch_size=2)]
    [(2,), (2,), (1,)]
    """

    def __init__(
        self,
        dataset: Any,
        batch_size: int = 32,
        shuffle: bool = False,
        seed: int | None = None,
        drop_last: bool = False,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be at least 1, got {batch_size}")
        if isinstance(dataset, tuple) and all(isinstance(a, (np.ndarray, Tensor)) for a in dataset):
            arrays = [np.asarray(a.data if isinstance(a, Tensor) else a) for a in dataset]
            n = len(arrays[0])
            for i, a in enumerate(arrays):
                if len(a) != n:
                    raise ValueError(
                        f"DataLoader: array {i} has shape {fmt_shape(a.shape)} but array 0 has {n} samples"
                    )
            self._arrays: list[np.ndarray] | None = arrays
        else:
            self._arrays = None
        self.dataset = dataset
        self.batch_size, self.shuffle, self.drop_last = batch_size, shuffle, drop_last
        self._rng = np.random.default_rng(seed) if seed is not None else None

    def __len__(self) -> int:
        n = len(self._arrays[0]) if self._arrays is not None else len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator[tuple[Tensor, ...]]:
        n = len(self._arrays[0]) if self._arrays is not None else len(self.dataset)
        rng = self._rng if self._rng is not None else _random.default_rng()
        order = rng.permutation(n) if self.shuffle else np.arange(n)
        for start in range(0, n, self.batch_size):
            idx = order[start : start + self.batch_size]
            if self.drop_last and len(idx) < self.batch_size:
                return
            if self._arrays is not None:
                parts: Sequence[np.ndarray] = [a[idx] for a in self._arrays]
            else:
                samples = [self.dataset[int(i)] for i in idx]
                parts = [np.stack(column) for column in zip(*samples, strict=True)]
            yield tuple(Tensor._wrap(np.ascontiguousarray(p)) for p in parts)
