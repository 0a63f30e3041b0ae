"""Saving and loading state dicts as ``.npz`` files: atomic writes, no pickle on load."""

from __future__ import annotations

import os
import zipfile
from collections import OrderedDict
from collections.abc import Mapping
from typing import IO, Any

import numpy as np

from ._files import atomic_write
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
    return atomic_write(path, lambda f: _write_npz(f, arrays))


def _write_npz(f: IO[bytes], arrays: dict[str, np.ndarray]) -> None:
    """The .npz format (a zip of .npy files), written member by member as np.savez does;
    unlike np.savez(f, **arrays), a key named 'file' or 'allow_pickle' is just a key."""
    with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for key, arr in arrays.items():
            with zf.open(key + ".npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, arr, allow_pickle=False)


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
