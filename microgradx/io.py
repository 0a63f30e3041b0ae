"""Saving and loading state dicts as ``.npz`` files.

What :func:`save` guarantees:

* **atomic**: the file is written beside ``path`` under a temporary name and
  renamed over ``path`` at the end, so a crash or a kill mid-save leaves the
  previous checkpoint intact; temporary files are removed on every error path,
  and those of killed saves by the next save to the same path;
* **exact round trip**: ``load(save(sd, path))`` has the same keys, in the same
  order, and arrays equal bit for bit with the same dtypes and shapes. Keys
  must be strings; any string is stored exactly (see below). Anything that
  cannot be stored exactly is refused before anything is written;
* **never runs code**: no pickle is written or read;
* **keeps permissions**: an existing file keeps its mode (a private 0600
  checkpoint stays private); a new file gets what ``open(path, "wb")`` gives;
  where ``open(path, "wb")`` would be refused (a read-only file), so is ``save``.

The file is a plain ``.npz`` archive (a zip of ``.npy`` files) that
``np.load`` also reads. Each key is the name of one member, ``<key>.npy``,
with every character other than ASCII letters, digits, ``_``, ``-``, ``.`` and ``~``
percent-encoded (``layers.0.weight`` stays as it is; ``../x`` becomes
``..%2Fx``), so that no unzip tool can turn a key into a path outside the
archive, and every key, even one with control characters, comes back exactly.

What :func:`load` refuses, each with its own message: a file that is not a
zip archive (empty, text, a pickle such as ``torch.save`` writes, a single
``.npy`` array), members that are not ``.npy`` arrays, arrays that are not
bool, integer or float (object arrays would need pickle; strings, complex
numbers and dates are not parameters), and two members with the same key.
"""

from __future__ import annotations

import os
import zipfile
from collections import OrderedDict
from collections.abc import Mapping
from typing import IO, Any
from urllib.parse import quote, unquote

import numpy as np

from ._files import atomic_write
from .tensor import Tensor

__all__ = ["load", "save"]

#: the dtype kinds a state dict holds: bool, signed and unsigned integers, floats
NUMERIC_KINDS = "biuf"
_KIND_NAMES = {"b": "bool", "i": "integer", "u": "unsigned integer", "f": "float"}
_SAFE = "_-."  # besides ASCII letters and digits, the characters a key keeps in its member name


def _member_name(key: str) -> str:
    return quote(key, safe=_SAFE, encoding="utf-8", errors="surrogatepass") + ".npy"


def _key_of(member: str) -> str:
    return unquote(member[: -len(".npy")], encoding="utf-8", errors="surrogatepass")


def save(state_dict: Mapping[str, Any], path: str | os.PathLike[str]) -> str:
    """Write ``state_dict`` (name -> array or Tensor) to the ``.npz`` file ``path``; returns the path.

    Atomic, exact, never pickled, and keeps the file's permissions: see
    :mod:`microgradx.io`. Every key and value is checked before anything is
    written: keys must be strings, values bool, integer or float arrays (or
    Tensors, or anything ``np.asarray`` turns into one).
    """
    if not isinstance(state_dict, Mapping):
        hint = ""
        if hasattr(state_dict, "state_dict"):
            hint = "; save its state_dict(): mgx.save(model.state_dict(), path)"
        elif isinstance(state_dict, (str, os.PathLike)):
            hint = "; the state dict comes first: mgx.save(model.state_dict(), path)"
        raise TypeError(
            f"save: expected a dict of arrays (a state dict), got {type(state_dict).__name__}{hint}"
        )
    arrays: dict[str, np.ndarray] = {}
    for key, value in state_dict.items():
        if not isinstance(key, str):
            raise TypeError(
                f"save: the key {key!r} is a {type(key).__name__}; keys must be strings "
                "(they are loaded back as strings, so 1 and '1' would collide)"
            )
        try:
            arr = np.asarray(value.data if isinstance(value, Tensor) else value)
        except ValueError as e:
            raise ValueError(f"save: {key!r} is not an array ({e})") from None
        if arr.dtype.kind not in NUMERIC_KINDS:
            raise TypeError(
                f"save: {key!r} has dtype {arr.dtype}; only bool, integer and float arrays can be saved"
            )
        arrays[key] = arr
    return atomic_write(path, lambda f: _write_npz(f, arrays))


def _write_npz(f: IO[bytes], arrays: dict[str, np.ndarray]) -> None:
    """The .npz format (a zip of .npy files), written member by member as np.savez does;
    unlike np.savez(f, **arrays), a key named 'file' or 'allow_pickle' is just a key."""
    with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for key, arr in arrays.items():
            with zf.open(_member_name(key), "w", force_zip64=True) as member:
                np.lib.format.write_array(member, arr, allow_pickle=False)


def _not_a_checkpoint(name: str, head: bytes) -> str:
    """Why a file that is not a zip archive cannot be a checkpoint, from its first bytes."""
    if not head:
        return f"load: {name} is empty (0 bytes), not a checkpoint written by mgx.save"
    if head.startswith(b"\x93NUMPY"):
        return (
            f"load: {name} is a single NumPy array (.npy), not a state dict; mgx.save writes a "
            ".npz archive of named arrays (read a .npy file with np.load)"
        )
    if head[:1] == b"\x80" or head.startswith((b"(dp", b"(lp", b"}q", b"]q")):
        return (
            f"load: {name} looks like a pickle (torch.save and pickle.dump write those), not a "
            "checkpoint written by mgx.save; refusing to unpickle it (that runs code from the file)"
        )
    return (
        f"load: {name} is not a checkpoint written by mgx.save (an .npz zip archive of .npy "
        f"arrays); it starts with {head[:16]!r}"
    )


def load(path: str | os.PathLike[str]) -> OrderedDict[str, np.ndarray]:
    """Read a file written by :func:`save` into an ordered dict of arrays.

    Returns only bool, integer and float arrays, and never runs code from the
    file; everything else is refused with an error that says what the file or
    member is and what was expected (see :mod:`microgradx.io`).
    """
    name = repr(os.fspath(path))
    with open(path, "rb") as f:
        head = f.read(64)
        if not zipfile.is_zipfile(f):
            raise ValueError(_not_a_checkpoint(name, head))
        f.seek(0)
        try:
            zf = zipfile.ZipFile(f)
        except zipfile.BadZipFile as e:
            raise ValueError(f"load: {name} is a damaged zip archive ({e})") from None
        out: OrderedDict[str, np.ndarray] = OrderedDict()
        with zf:
            for info in zf.infolist():
                _read_member(zf, info, name, out)
    return out


def _read_member(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, out: OrderedDict[str, np.ndarray]
) -> None:
    """Read one member of the archive into ``out``, checked."""
    member = info.filename
    if info.is_dir():
        raise ValueError(f"load: {name} holds a folder {member!r}; a checkpoint holds only .npy arrays")
    if not member.endswith(".npy"):
        raise ValueError(
            f"load: {name} holds {member!r}, which is not a .npy array; a checkpoint written by "
            "mgx.save holds only .npy arrays"
        )
    key = _key_of(member)
    if key in out:
        raise ValueError(f"load: {name} holds the key {key!r} twice")
    try:
        with zf.open(info) as fp:
            arr = np.lib.format.read_array(fp, allow_pickle=False)
    except ValueError as e:
        if "allow_pickle" in str(e) or "Object arrays" in str(e):
            raise ValueError(
                f"load: {name} contains object arrays ({member!r}), which can only be read by "
                "unpickling (running code from the file); refusing to load it"
            ) from None
        raise ValueError(f"load: {member!r} in {name} is not a valid .npy array ({e})") from None
    except (OSError, EOFError, zipfile.BadZipFile) as e:
        raise ValueError(f"load: {member!r} in {name} is damaged ({e})") from None
    if arr.dtype.kind not in NUMERIC_KINDS:
        raise ValueError(
            f"load: {key!r} in {name} has dtype {arr.dtype}; a checkpoint holds only bool, "
            "integer and float arrays"
        )
    out[key] = arr
