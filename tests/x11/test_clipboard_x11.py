"""A real X clipboard (Xvfb): a PNG owned by `xclip` is pasted into a real MainWindow.

Run by tests/run_all.sh with QT_QPA_PLATFORM=xcb; skipped elsewhere (tests/conftest.py)."""

from __future__ import annotations

import io
import shutil
import subprocess
import time

import pytest
from PIL import Image
from PySide6.QtGui import QGuiApplication

from desktop.core.attachments import State
from desktop.core.secrets import SecretStore
from desktop.settings import Settings
from desktop.workers import Workers

pytestmark = pytest.mark.x11


def _png(w: int, h: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (w, h), (30, 140, 90)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def xclip_png(tmp_path):
    if shutil.which("xclip") is None:
        pytest.skip("xclip is not installed")
    path = tmp_path / "clip.png"
    path.write_bytes(_png(1234, 567))
    # xclip forks into the background by default; -quiet keeps it in the foreground so the PID
    # we hold is the selection owner itself (stopped by PID below).
    proc = subprocess.Popen(
        ["xclip", "-quiet", "-selection", "clipboard", "-t", "image/png", "-i", str(path)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    yield proc
    proc.terminate()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def test_paste_png_from_the_x_clipboard(qtbot, xclip_png):
    from desktop.ui.window.main_window import MainWindow

    workers = Workers()
    window = MainWindow(workers, Settings(), SecretStore(use_keyring=False), lambda *a: None)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    try:
        clipboard = QGuiApplication.clipboard()
        deadline = time.monotonic() + 5
        while "image/png" not in clipboard.mimeData().formats():
            assert time.monotonic() < deadline, "xclip never took the clipboard"
            qtbot.wait(50)
        window.composer.setFocus()
        window.composer.paste()  # what Ctrl+V does
        assert len(window.strip.chips()) == 1
        qtbot.waitUntil(lambda: not window.attachments.preparing, timeout=10000)
        [att] = window.attachments.items
        assert att.state is State.READY, att.problem
        assert (att.prepared.original_width, att.prepared.original_height) == (1234, 567)
        assert (att.prepared.width, att.prepared.height) == (1234, 567)
        qtbot.waitUntil(lambda: window.strip.chips()[0].has_thumbnail, timeout=5000)
    finally:
        window.close()
        workers.shutdown()
        workers.wait()


def test_cli_fallback_reads_the_png_from_xclip(qtbot, xclip_png):
    """The wl-paste/xclip fallback (used when Qt's clipboard yields nothing) on a real X server."""
    from PySide6.QtCore import QMimeData

    from desktop.ui.attachments import AttachmentController, clipboard_fallback

    assert clipboard_fallback.available()
    data = clipboard_fallback.read_clipboard_image()
    assert data is not None and data.startswith(b"\x89PNG")
    workers = Workers()
    controller = AttachmentController(workers)
    try:
        assert controller.handle_paste(QMimeData())  # an empty clipboard: ask the CLI tool
        qtbot.waitUntil(lambda: len(controller.items) == 1, timeout=10000)
        qtbot.waitUntil(lambda: not controller.preparing, timeout=10000)
        [att] = controller.items
        assert (att.prepared.width, att.prepared.height) == (1234, 567)
    finally:
        workers.shutdown()
        workers.wait()
