"""Atomic file writes: a crash never leaves a half-written file behind, nor a temporary file forever.

``atomic_write(path, write)`` writes to a temporary file beside ``path`` and
renames it over ``path`` at the end. The temporary file is named
``.<name>.<random>.mgx-tmp`` (recognisably ours, and hidden) and is removed on
every error path. A process killed mid-write (``SIGKILL``, a power cut) cannot
remove it, so each write first removes the stale temporary files of earlier
writes to the same path: those whose writer has gone. A writer holds an
exclusive lock (``flock``) on its temporary file for as long as it writes, and
the kernel drops the lock when the process dies; a temporary file that can be
locked is stale. (Where ``flock`` is missing, on Windows, an open file cannot
be deleted, so removing one that is being written simply fails.)
"""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Callable
from typing import IO

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

#: the temporary files of ``path`` are ``.<basename>.<TOKEN>.mgx-tmp``
TMP_SUFFIX = ".mgx-tmp"


def temp_files(path: str | os.PathLike[str]) -> list[str]:
    """The temporary files that writes to ``path`` may have left beside it (live or stale)."""
    directory, base = os.path.split(os.path.abspath(os.fspath(path)))
    prefix = f".{base}."
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    return [
        os.path.join(directory, n)
        for n in names
        if n.startswith(prefix) and n.endswith(TMP_SUFFIX) and len(n) == len(prefix) + 16 + len(TMP_SUFFIX)
    ]


def _lock(fd: int) -> bool:
    """Take the exclusive lock of ``fd`` without waiting; False if another writer holds it."""
    if fcntl is None:  # pragma: no cover - Windows
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _remove_stale(path: str) -> None:
    """Remove the temporary files of earlier writes to ``path`` whose writer has gone."""
    for tmp in temp_files(path):
        try:
            fd = os.open(tmp, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            continue
        try:
            if _lock(fd) and os.path.samestat(os.fstat(fd), os.lstat(tmp)):
                os.unlink(tmp)  # nobody writes it: a leftover of a killed write
        except OSError:
            pass
        finally:
            os.close(fd)


def _create_temp(path: str) -> tuple[int, str]:
    """A new, locked temporary file for ``path``: its descriptor and name."""
    directory, base = os.path.split(path)
    while True:
        tmp = os.path.join(directory, f".{base}.{secrets.token_hex(8)}{TMP_SUFFIX}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
        _lock(fd)
        try:  # another writer's clean-up may have removed it between open and lock: start again
            if os.path.samestat(os.fstat(fd), os.lstat(tmp)):
                return fd, tmp
        except FileNotFoundError:
            pass
        os.close(fd)


def _mode_for(target: str) -> int:
    """The permissions the written file gets: those of the file it replaces, else what a plain
    ``open(target, "wb")`` would give (0666 less the umask). Refuses, with the error ``open``
    would raise, where ``open(target, "wb")`` would be refused."""
    try:
        st = os.stat(target)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
    with open(target, "ab"):  # the check open(target, "wb") makes, without truncating the file
        pass
    return stat.S_IMODE(st.st_mode)


def _fsync_directory(directory: str) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - Windows cannot open a directory
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - some file systems refuse
        pass
    finally:
        os.close(fd)


def atomic_write(path: str | os.PathLike[str], write: Callable[[IO[bytes]], object]) -> str:
    """Call ``write(file)`` on a temporary file next to ``path``, then rename it over ``path``.

    The result keeps the permissions of the file it replaces (a new file gets
    what ``open(path, "wb")`` would give), and a file that ``open(path, "wb")``
    could not write (read-only, a directory) is refused before anything is
    written. A symbolic link is written through, as ``open`` would. Returns ``path``.
    """
    given = os.fspath(path)
    target = os.path.realpath(given)  # write through a symbolic link, as open() would
    directory = os.path.dirname(target)
    os.makedirs(directory, exist_ok=True)
    mode = _mode_for(target)
    _remove_stale(target)
    fd, tmp = _create_temp(target)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
            os.chmod(tmp, mode)
            if fcntl is not None:
                os.replace(tmp, target)  # while still holding the lock: nobody takes it for stale
        if fcntl is None:  # pragma: no cover - Windows cannot rename an open file
            os.replace(tmp, target)
        _fsync_directory(directory)  # the rename itself survives a power cut
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return given
