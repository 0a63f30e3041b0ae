"""Saving and loading state dicts as ``.npz`` files: atomic writes, no pickle on load."""

from __future__ import annotations

import os
import tempfile
import zipfile
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import numpy as np

from .tensor import Tensor

__all__ = ["load", "save"]


def save(state_dict: Mapping[str, Any], path: str | os.PathLike[str]) -> str:
    """Write ``state_dict`` (name -> array or Tensor) to the ``.npz`` file ``path``; returns the path.

    The file is written to a temporary name in the same folder and renamed
    over ``path`` at the end, so a crash never leaves a half-written checkpoint.
    """
    arrays = {}
    for key, value in state_dict.items():
        arr = np.asarray(value.data if isinstance(value, Tensor) else value)
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"save: '{key}' has dtype {arr.dtype}; only numeric arrays can be saved")
        arrays[str(key)] = arr
    target = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(target))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".npz")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)  # type: ignore[arg-type]
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return target


def load(path: str | os.PathLike[str]) -> OrderedDict[str, np.ndarray]:
    """Read a file written by :func:`save` into an ordered dict of arrays.

    Loading never runs code: the file is read with ``allow_pickle=False``, and a
    file holding object arrays (which would need pickle) is refused.
    """
    try:
        with np.load(os.fspath(path), allow_pickle=False) as npz:
            if not isinstance(npz, np.lib.npyio.NpzFile):
                raise ValueError(f"load: {os.fspath(path)!r} holds a single array, not a saved state dict")
            return OrderedDict((key, npz[key]) for key in npz.files)
    except ValueError as e:
        if "allow_pickle" in str(e) or "Object arrays" in str(e):
            raise ValueError(
                f"load: {os.fspath(path)!r} contains object arrays, which can only be read by "
                "unpickling (running code from the file); refusing to load it"
            ) from e
        raise
    except zipfile.BadZipFile as e:
        raise ValueError(f"load: {os.fspath(path)!r} is not an .npz file ({e})") from e
