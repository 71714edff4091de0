"""The first frame shows a stand-in for the empty transcript; the real one replaces it after
that frame (MainWindow.complete) without a visible change."""

from __future__ import annotations

from PySide6.QtGui import QImage

from desktop.core.secrets import SecretStore
from desktop.settings import Settings
from desktop.ui.transcript.placeholder import TranscriptPlaceholder
from desktop.ui.window.main_window import MainWindow
from tests.fake_letta import FakeLetta


def _grab(widget) -> QImage:
    return widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)


def test_the_real_transcript_takes_the_stand_ins_place_and_looks_the_same(qtbot, workers):
    window = MainWindow(
        workers, Settings(), SecretStore(use_keyring=False), FakeLetta().factory, complete=False
    )
    qtbot.addWidget(window)
    window.resize(900, 700)
    window.show()
    qtbot.waitExposed(window)
    stand_in = window.shell.transcript_stand_in
    assert stand_in.isVisible() and stand_in.accessibleName() == "Conversation"
    before, where = _grab(stand_in), stand_in.geometry()
    assert not hasattr(window, "transcript")  # nothing of the real one is built yet

    window.complete()
    qtbot.waitUntil(lambda: window.transcript.isVisible())
    assert not window.findChildren(TranscriptPlaceholder)  # gone, not hidden behind
    assert window.transcript.geometry().width() == where.width()
    after = _grab(window.transcript)
    # Same size, same background, the same "No messages yet" in the same place. (The real one
    # may be a few pixels shorter once the header holds the vision badge: compare the centre.)
    h = min(before.height(), after.height())
    top_a, top_b = (before.height() - h) // 2, (after.height() - h) // 2
    assert before.copy(0, top_a, before.width(), h) == after.copy(0, top_b, after.width(), h)
    window.close()
    workers.wait()
