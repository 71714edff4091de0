"""Region capture on a real X server (Xvfb, no window manager): the window hides for the grab
and comes back with the keyboard where it was.

Run by tests/run_all.sh with QT_QPA_PLATFORM=xcb; skipped elsewhere (tests/conftest.py)."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QColor, QPixmap

from desktop.core.secrets import SecretStore
from desktop.settings import Settings
from desktop.workers import Workers

pytestmark = pytest.mark.x11


def test_after_a_refused_capture_the_keyboard_is_back_in_the_message_box(qtbot):
    from desktop.ui.window.main_window import MainWindow

    workers = Workers()
    window = MainWindow(workers, Settings(), SecretStore(use_keyring=False), lambda *a: None)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    try:
        window.composer.setFocus()
        qtbot.waitUntil(lambda: window.focusWidget() is window.composer, timeout=3000)

        def black(_screen) -> QPixmap:  # what Xvfb's bare root window gives once we hide
            pixmap = QPixmap(400, 300)
            pixmap.fill(QColor("black"))
            return pixmap

        window.capture.grab = black
        window.capture.start()
        qtbot.waitUntil(lambda: window.isVisible() and window.banner.isVisible(), timeout=5000)
        assert "could not be captured" in window.banner.label.text()
        qtbot.waitUntil(lambda: window.focusWidget() is window.composer, timeout=3000)
    finally:
        window.close()
        workers.shutdown()
        workers.wait()
