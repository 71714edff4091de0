"""Folders and files only their owner can read: the log, drafts (typed text, pasted images).

On a shared machine the platform's defaults (0755 folders, 0644 files under a 022 umask) let
every other account read what the user typed and pasted. On Windows, chmod only sets the
read-only flag; the profile folder's ACL already keeps others out there.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: str | os.PathLike[str]) -> Path:
    """Create `path` (and any missing parents) owner-only; make an existing `path` so too."""
    path = Path(path)
    missing = []
    for folder in (path, *path.parents):
        if folder.is_dir():
            break
        missing.append(folder)
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):
            folder.mkdir(mode=DIR_MODE)  # the mode is masked by the umask: chmod below
    for folder in (*missing, path):
        with contextlib.suppress(OSError):
            os.chmod(folder, DIR_MODE)
    return path


def open_private(path: str | os.PathLike[str], mode: str = "a", encoding: str | None = None):
    """`open()` that creates the file owner-only and makes an existing one owner-only."""
    # os.open makes the descriptor non-inheritable itself (PEP 446: O_CLOEXEC, O_NOINHERIT), so
    # a process the app starts does not hold the log open.
    flags = os.O_WRONLY | os.O_CREAT
    flags |= os.O_APPEND if mode.startswith("a") else os.O_TRUNC
    fd = os.open(path, flags, FILE_MODE)
    with contextlib.suppress(OSError):
        os.chmod(path, FILE_MODE)
    return os.fdopen(fd, mode, encoding=encoding)
