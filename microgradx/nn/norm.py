"""Normalisation, dropout and embedding layers: BatchNorm1d/2d, LayerNorm, Dropout, Embedding.

Each follows the PyTorch module of the same name (arguments, parameters,
buffers, train/eval behaviour); the tests compare them on random inputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import random as _random
from ..ops import _is_int
from ..ops.norm import batch_norm, dropout, embedding, layer_norm
from ..tensor import Tensor
from .module import Module, Parameter

__all__ = ["BatchNorm1d", "BatchNorm2d", "Dropout", "Embedding", "LayerNorm"]


def _positive(cls: str, name: str, v: Any) -> int:
    if not _is_int(v) or v < 1:
        raise ValueError(f"{cls}: {name} must be a positive int, got {v!r}")
    return int(v)


class _BatchNorm(Module):
    """Batch normalisation with learnable scale ``weight`` (ones) and shift ``bias`` (zeros), and
    running statistics (buffers ``running_mean``, ``running_var``, ``num_batches_tracked``) that
    ``state_dict`` saves. Training normalises with the batch's statistics and updates the running
    ones (``momentum``); ``eval()`` normalises with the running ones. See ``F.batch_norm``."""

    NDIMS: tuple[int, ...] = ()
    LAYOUT = ""
    running_mean: Tensor
    running_var: Tensor
    num_batches_tracked: Tensor

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        dtype: Any = np.float64,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        self.num_features = _positive(name, "num_features", num_features)
        if not eps > 0:
            raise ValueError(f"{name}: eps must be positive, got {eps!r}")
        if not 0 <= momentum <= 1:
            raise ValueError(f"{name}: momentum must be in [0, 1], got {momentum!r}")
        self.eps, self.momentum = float(eps), float(momentum)
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        if affine:
            self.weight = Parameter(np.ones(num_features), dtype=dtype)
            self.bias = Parameter(np.zeros(num_features), dtype=dtype)
        if track_running_stats:
            self.register_buffer("running_mean", np.zeros(num_features, dtype=dtype))
            self.register_buffer("running_var", np.ones(num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", np.zeros((), dtype=np.int64))

    def forward(self, x: Any) -> Tensor:
        x = x if isinstance(x, Tensor) else Tensor(x)
        if x.ndim not in self.NDIMS:
            raise ValueError(f"{type(self).__name__}: expected input {self.LAYOUT}, got shape {x.shape}")
        if x.shape[1] != self.num_features:
            raise ValueError(
                f"{type(self).__name__}: expected {self.num_features} channels (axis 1), "
                f"got input of shape {x.shape}"
            )
        use_batch = self.training or not self.track_running_stats
        running_mean = running_var = None
        if self.track_running_stats:
            running_mean, running_var = self.running_mean, self.running_var
            if self.training:
                self.num_batches_tracked.data[...] += 1
        return batch_norm(
            x,
            running_mean,
            running_var,
            weight=self.weight if self.affine else None,
            bias=self.bias if self.affine else None,
            training=use_batch,
            momentum=self.momentum,
            eps=self.eps,
        )

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}"


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) inputs per channel C (the book's BatchNormalization)."""

    NDIMS = (2, 3)
    LAYOUT = "(N, C) or (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of images (N, C, H, W), per channel C."""

    NDIMS = (4,)
    LAYOUT = "(N, C, H, W)"


class LayerNorm(Module):
    """Layer normalisation over the last dimensions (``normalized_shape``), with learnable
    ``weight`` (ones) and ``bias`` (zeros) of that shape; see ``F.layer_norm``."""

    def __init__(
        self,
        normalized_shape: int | Sequence[int],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        dtype: Any = np.float64,
    ) -> None:
        super().__init__()
        shape: tuple[int, ...] = (
            (int(normalized_shape),) if _is_int(normalized_shape) else tuple(normalized_shape)  # type: ignore[arg-type]
        )
        for n in shape:
            _positive("LayerNorm", "normalized_shape", n)
        self.normalized_shape, self.eps = shape, float(eps)
        self.elementwise_affine = bool(elementwise_affine)
        if elementwise_affine:
            self.weight = Parameter(np.ones(shape), dtype=dtype)
            self.bias = Parameter(np.zeros(shape), dtype=dtype)

    def forward(self, x: Any) -> Tensor:
        if self.elementwise_affine:
            return layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return layer_norm(x, self.normalized_shape, eps=self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"


class Dropout(Module):
    """Inverted dropout in training (zero with probability ``p``, scale the rest by ``1 / (1 - p)``);
    the identity in ``eval()``. See ``F.dropout``."""

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        if isinstance(p, bool) or not 0 <= p <= 1:
            raise ValueError(f"Dropout: p must be a probability in [0, 1], got {p!r}")
        self.p = float(p)

    def forward(self, x: Any) -> Tensor:
        return dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class Embedding(Module):
    """A lookup table: ``weight[indices]`` with ``weight`` of shape (num_embeddings, embedding_dim),
    drawn from N(0, 1) as PyTorch's; see ``F.embedding``."""

    def __init__(self, num_embeddings: int, embedding_dim: int, dtype: Any = np.float64) -> None:
        super().__init__()
        self.num_embeddings = _positive("Embedding", "num_embeddings", num_embeddings)
        self.embedding_dim = _positive("Embedding", "embedding_dim", embedding_dim)
        self.weight = Parameter(
            _random.default_rng().normal(size=(num_embeddings, embedding_dim)), dtype=dtype
        )

    def forward(self, indices: Any) -> Tensor:
        return embedding(indices, self.weight)

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}"
