"""Read a file the user named only if it is a regular file, and only up to a size cap (Qt-free).

The check is made on the open descriptor, not the path: the file is opened with O_NONBLOCK
(opening a FIFO no one writes to would otherwise block for ever) and `fstat` says what it is, so
nothing can be swapped in between the check and the read. A FIFO, a device (`/dev/zero`), a
socket or a folder is refused with words the user understands; so is a file over the cap, from
its size alone (a 5 GB sparse file is never read).
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterator
from typing import BinaryIO

from desktop.core.images import errors
from desktop.core.images.errors import ImageRejected
from desktop.core.images.prepared import format_size

_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_FLAGS = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NOCTTY", 0) | _NONBLOCK


def os_error(exc: OSError, *, reading: bool) -> ImageRejected:
    """An OSError from opening or reading a file, in words."""
    if isinstance(exc, FileNotFoundError):
        if reading:
            return ImageRejected(errors.NOT_FOUND, "The file disappeared before it could be read.")
        return ImageRejected(errors.NOT_FOUND, "The file doesn't exist (was it moved or deleted?).")
    if isinstance(exc, PermissionError):
        return ImageRejected(errors.PERMISSION, "You don't have permission to read this file.")
    if isinstance(exc, IsADirectoryError) or exc.errno == errno.EISDIR:
        return ImageRejected(errors.IS_FOLDER, "This is a folder, not an image.")
    reason = exc.strerror or type(exc).__name__
    return ImageRejected(errors.UNREADABLE, f"The file can't be read ({reason}).")


def not_a_file(mode: int) -> ImageRejected:
    if stat.S_ISDIR(mode):
        return ImageRejected(errors.IS_FOLDER, "This is a folder, not an image.")
    if stat.S_ISFIFO(mode):
        what = "a pipe (FIFO)"
    elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        what = "a device"
    elif stat.S_ISSOCK(mode):
        what = "a socket"
    else:  # a door, an event port… (Solaris): nothing with a name the user would know
        return ImageRejected(errors.NOT_A_FILE, "This is not a regular file, so it was not read.")
    return ImageRejected(errors.NOT_A_FILE, f"This is {what}, not a file, so it was not read.")


def too_large(size: int, cap: int) -> ImageRejected:
    return ImageRejected(
        errors.FILE_TOO_LARGE,
        f"The file is too large ({format_size(size)}; the limit is {format_size(cap)}).",
    )


@contextlib.contextmanager
def open_regular(path: str | os.PathLike[str]) -> Iterator[tuple[BinaryIO, os.stat_result]]:
    """The open file and its fstat, or ImageRejected when it is not a regular file."""
    try:
        fd = os.open(path, _FLAGS)
    except OSError as exc:
        raise os_error(exc, reading=False) from None
    try:
        st = os.fstat(fd)
    except OSError as exc:
        os.close(fd)
        raise os_error(exc, reading=False) from None
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise not_a_file(st.st_mode)
    with os.fdopen(fd, "rb") as fh:
        yield fh, st


def read_capped(fh: BinaryIO, st: os.stat_result, cap: int) -> bytes:
    """At most `cap` bytes of an open regular file; refused from its size when larger."""
    if st.st_size > cap:
        raise too_large(st.st_size, cap)
    try:
        data = fh.read(cap + 1)  # it may have grown since fstat: never more than the cap
    except OSError as exc:
        raise os_error(exc, reading=True) from None
    if len(data) > cap:
        raise too_large(len(data), cap)
    if not data:
        raise ImageRejected(errors.EMPTY, "The file is empty.")
    return data


def read_regular_file(path: str | os.PathLike[str], cap: int) -> bytes:
    """The bytes of a regular, non-empty file no larger than `cap`; ImageRejected otherwise."""
    with open_regular(path) as (fh, st):
        return read_capped(fh, st, cap)
