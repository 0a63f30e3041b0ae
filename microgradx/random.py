"""The package's default random generator: initialisation and shuffling draw from it.

``mgx.manual_seed(n)`` makes a run reproducible, like ``torch.manual_seed``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["default_rng", "manual_seed"]

_rng = np.random.default_rng()


def manual_seed(seed: int) -> None:
    """Reseed the generator that layer initialisation and data shuffling use."""
    global _rng
    _rng = np.random.default_rng(seed)


def default_rng() -> np.random.Generator:
    """The generator in use (reseeded by :func:`manual_seed`)."""
    return _rng
