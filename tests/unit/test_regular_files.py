"""Files are opened as files: a FIFO, a device or a huge sparse file is refused in words, at once,
by every reader (preparation, previews, the draft store), and nothing is lost around it. The data
the app keeps (drafts, the log) is readable by its owner only."""

from __future__ import annotations

import contextlib
import errno
import io
import os
import socket
import stat
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from desktop.core.attachments import Attachment, read_file
from desktop.core.drafts import Draft, DraftImage, DraftStore
from desktop.core.images import ImageLimits, ImageRejected, errors, prepare_file
from desktop.core.regular_file import (
    not_a_file,
    open_regular,
    os_error,
    read_capped,
    read_regular_file,
)

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX FIFOs and modes")

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture
def fifo(tmp_path):
    path = tmp_path / "pipe.png"
    os.mkfifo(path)
    yield path
    # Should a reader still be blocked on it (the bug), a writer that closes gives it EOF.
    with contextlib.suppress(OSError):
        os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))


def within(seconds: float, fn: Callable[[], object]) -> object:
    """fn() on a thread; fails (instead of hanging the run) if it has not returned in time."""
    box: dict[str, object] = {}

    def run() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still blocked after {seconds} s"
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box.get("value")


def test_a_fifo_is_refused_by_every_reader_without_blocking(fifo):
    att = Attachment.from_file(fifo)
    readers = [
        lambda: prepare_file(fifo, ImageLimits()),
        lambda: read_file(str(fifo)),  # the lightbox's and the preview's read
        lambda: att.thumbnail_bytes(),
    ]
    for read in readers:
        with pytest.raises(ImageRejected) as caught:
            within(2, read)
        assert "a pipe (FIFO), not a file" in str(caught.value)


def test_a_device_is_refused_not_read_forever():
    with pytest.raises(ImageRejected) as caught:
        within(2, lambda: prepare_file("/dev/zero", ImageLimits()))
    assert str(caught.value) == "zero: This is a device, not a file, so it was not read."


def test_a_5_gb_sparse_file_is_refused_from_its_size(tmp_path):
    path = tmp_path / "huge.png"
    with open(path, "wb") as fh:
        fh.write(PNG)
        fh.truncate(5 * 1024**3)
    for read in (lambda: prepare_file(path), lambda: read_file(str(path))):
        with pytest.raises(ImageRejected) as caught:
            within(2, read)
        assert "too large (5.4 GB" in str(caught.value) or "too large (5 GB" in str(caught.value)


def test_the_draft_store_skips_a_fifo_and_keeps_everything_else(tmp_path, fifo):
    good = tmp_path / "good.png"
    good.write_bytes(PNG)
    store = DraftStore(tmp_path / "drafts")
    draft = Draft(
        "typed before closing",
        [DraftImage("pipe.png", path=str(fifo)), DraftImage("good.png", path=str(good))],
    )
    assert within(2, lambda: store.save("agent-1", draft))
    # The closing window's flush saves once more: that returns at once too.
    again = Draft("typed", [DraftImage("g", path=str(good)), DraftImage("p", path=str(fifo))])
    assert within(2, lambda: store.save("agent-1", again))
    loaded = store.load("agent-1")
    assert loaded is not None and loaded.text == "typed"
    assert [(i.name, i.data) for i in loaded.images] == [("g", PNG)]


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask():
    old = os.umask(0o022)  # the common default: folders 0755, files 0644
    yield
    os.umask(old)


def test_drafts_are_owner_only(tmp_path, open_umask):
    store = DraftStore(tmp_path / "data" / "drafts")
    store.save("agent-1", Draft("secret plans", [DraftImage("p.png", data=PNG)]))
    folder = store.folder("agent-1")
    for path in (tmp_path / "data", store.root, folder, folder / "images"):
        assert mode_of(path) == 0o700, path
    for path in (folder / "draft.json", *(folder / "images").iterdir()):
        assert mode_of(path) == 0o600, path


def test_the_log_file_and_its_folder_are_owner_only(tmp_path, monkeypatch, open_umask):
    from desktop import diagnostics

    monkeypatch.setenv("LETTA_DESKTOP_DATA_DIR", str(tmp_path / "data"))
    old = tmp_path / "data" / "logs"
    old.mkdir(parents=True, mode=0o755)
    (old / diagnostics.LOG_FILE_NAME).write_text("from an older version\n")
    os.chmod(old / diagnostics.LOG_FILE_NAME, 0o644)
    path = diagnostics.setup_file_logging()
    try:
        assert path is not None
        assert mode_of(tmp_path / "data") == 0o700
        assert mode_of(path.parent) == 0o700
        assert mode_of(path) == 0o600
        handler = diagnostics._file_handler()
        handler.doRollover()  # a rotated-into file is created owner-only too
        assert mode_of(path) == 0o600
    finally:
        diagnostics.close_file_logging()


# The words each refusal shows. The reader is run on real files where Linux can make one (a
# missing path, a folder, a socket, an empty file, a file that grows while it is read); errors
# root or Linux cannot produce on demand (permission, a read that fails) go through `os_error`,
# the translation every reader uses.


def refusal(fn: Callable[[], object]) -> tuple[str, str]:
    with pytest.raises(ImageRejected) as caught:
        within(2, fn)
    return caught.value.reason, str(caught.value)


def test_a_missing_path_a_folder_and_an_empty_file_are_refused_in_words(tmp_path):
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    assert refusal(lambda: read_regular_file(tmp_path / "gone.png", 1000)) == (
        errors.NOT_FOUND,
        "The file doesn't exist (was it moved or deleted?).",
    )
    assert refusal(lambda: read_regular_file(tmp_path, 1000)) == (
        errors.IS_FOLDER,
        "This is a folder, not an image.",
    )
    assert refusal(lambda: read_regular_file(empty, 1000)) == (errors.EMPTY, "The file is empty.")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux's errno for a socket")
def test_a_socket_is_refused_with_the_systems_reason(tmp_path):
    path = tmp_path / "s.png"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))  # Linux refuses to open() a socket file (ENXIO)
        assert refusal(lambda: read_regular_file(path, 1000)) == (
            errors.UNREADABLE,
            f"The file can't be read ({os.strerror(errno.ENXIO)}).",
        )


def test_a_file_of_exactly_the_cap_is_read_and_one_byte_more_is_not(tmp_path):
    path = tmp_path / "edge.png"
    path.write_bytes(b"x" * 999)
    assert read_regular_file(path, 999) == b"x" * 999
    path.write_bytes(b"x" * 1000)
    assert refusal(lambda: read_regular_file(path, 999)) == (
        errors.FILE_TOO_LARGE,
        "The file is too large (1 KB; the limit is 999 B).",
    )


def test_a_file_that_grows_past_the_cap_while_read_is_refused(tmp_path):
    path = tmp_path / "growing.png"
    path.write_bytes(b"x" * 500)
    with open_regular(path) as (fh, st):
        with open(path, "ab") as writer:  # another program appends after the size was taken
            writer.write(b"y" * 5000)
        assert refusal(lambda: read_capped(fh, st, 998)) == (
            errors.FILE_TOO_LARGE,
            "The file is too large (999 B; the limit is 998 B).",  # one byte past the cap is read
        )


class FailingRead(io.BytesIO):
    def __init__(self, exc: OSError) -> None:
        super().__init__(b"never returned")
        self.exc = exc

    def read(self, size: int | None = -1) -> bytes:
        raise self.exc


def test_a_read_that_fails_says_why(tmp_path):
    path = tmp_path / "share.png"
    path.write_bytes(PNG)
    st = path.stat()
    # A file on a network share can vanish between open and read.
    vanished = FailingRead(FileNotFoundError(errno.ENOENT, "No such file or directory"))
    assert refusal(lambda: read_capped(vanished, st, 1000)) == (
        errors.NOT_FOUND,
        "The file disappeared before it could be read.",
    )
    io_error = FailingRead(OSError(errno.EIO, "Input/output error"))
    assert refusal(lambda: read_capped(io_error, st, 1000)) == (
        errors.UNREADABLE,
        "The file can't be read (Input/output error).",
    )


@pytest.mark.parametrize(
    ("exc", "reason", "words"),
    [
        (
            PermissionError(errno.EACCES, "Permission denied"),
            errors.PERMISSION,
            "You don't have permission to read this file.",
        ),
        (
            IsADirectoryError(errno.EISDIR, "Is a directory"),
            errors.IS_FOLDER,
            "This is a folder, not an image.",
        ),
        (IsADirectoryError(), errors.IS_FOLDER, "This is a folder, not an image."),  # no errno
        (OSError("no errno, no text"), errors.UNREADABLE, "The file can't be read (OSError)."),
        (TimeoutError(), errors.UNREADABLE, "The file can't be read (TimeoutError)."),
    ],
)
def test_opening_errors_in_words(exc, reason, words):
    rejected = os_error(exc, reading=False)
    assert (rejected.reason, str(rejected)) == (reason, words)


@pytest.mark.parametrize(
    ("kind", "words"),
    [
        (stat.S_IFIFO, "This is a pipe (FIFO), not a file, so it was not read."),
        (stat.S_IFCHR, "This is a device, not a file, so it was not read."),
        (stat.S_IFBLK, "This is a device, not a file, so it was not read."),  # a disk
        (stat.S_IFSOCK, "This is a socket, not a file, so it was not read."),  # macOS, BSD
        (0, "This is not a regular file, so it was not read."),
    ],
)
def test_what_is_not_a_file_is_named(kind, words):
    rejected = not_a_file(kind | 0o644)
    assert (rejected.reason, str(rejected)) == (errors.NOT_A_FILE, words)
