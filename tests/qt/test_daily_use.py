"""What daily users expect: screen capture, shortcuts, light/dark, accessible names, notifications,
debug info, the log file and the crash hook (offscreen, fake API in memory)."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QObject, QPoint, Qt, QTimer
from PySide6.QtGui import QColor, QGuiApplication, QImage, QPainter, QPalette, QPixmap
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from desktop import diagnostics
from desktop.app import build_parser
from desktop.compose import create_window
from desktop.core.images import set_svg_rasterizer
from desktop.core.redact import register_secret
from desktop.settings import Settings
from desktop.ui.accessibility import fill_accessible_names, interactive_widgets
from desktop.ui.attachments.capture import CaptureOverlay, looks_blank
from desktop.ui.connection.agent_picker import AgentPicker
from desktop.ui.connection.connect_dialog import ConnectDialog
from desktop.ui.dialogs.crash import CrashDialog
from desktop.ui.dialogs.settings import SettingsDialog
from desktop.ui.dialogs.shortcuts import ShortcutsDialog, shortcut_rows, window_actions
from desktop.ui.notice import Notice, Tone
from desktop.ui.style.theme import apply_theme
from desktop.ui.window.main_window import MainWindow
from tests.fake_letta import FakeLetta
from tests.memory_keyring import memory_secrets

SECRET = "sk-letta-DISTINCTIVE-0123456789abcdef"


@pytest.fixture
def fake():
    server = FakeLetta(key=SECRET)
    for name in ("Research helper", "Screenshot critic"):
        server.add_agent(name)
    return server


@pytest.fixture
def window(qtbot, workers, fake):
    win = MainWindow(workers, Settings(), memory_secrets(), fake.factory)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.capture.cancel()


def _open(qtbot, window, fake, agent: int = 1) -> None:
    window.start("https://letta.test", SECRET, fake.agents[agent]["id"])
    qtbot.waitUntil(
        lambda: window.session is not None and window.session.agent is not None, timeout=5000
    )


def _activate(qtbot, window) -> None:
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=3000)


def _screen_pixmap(window, dpr: float = 2.0) -> QPixmap:
    """A fake grab of the window's screen at `dpr`: a pattern, never blank."""
    size = QGuiApplication.primaryScreen().geometry().size()
    pixmap = QPixmap(round(size.width() * dpr), round(size.height() * dpr))
    pixmap.fill(QColor("#35608f"))
    painter = QPainter(pixmap)
    painter.fillRect(0, 0, pixmap.width() // 2, pixmap.height() // 2, QColor("#e0b040"))
    painter.end()
    pixmap.setDevicePixelRatio(dpr)
    return pixmap


def _drag(widget, start: QPoint, end: QPoint) -> None:
    QTest.mousePress(widget, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    QTest.mouseMove(widget, (start + end) / 2)
    QTest.mouseMove(widget, end)
    QTest.mouseRelease(widget, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, end)


def _close_modal_later(qtbot, kind, seen: list) -> None:
    def close():
        dialog = QApplication.activeModalWidget() or QApplication.activeWindow()
        if isinstance(dialog, kind):
            seen.append(dialog)
            if isinstance(dialog, AgentPicker):
                seen.append(dialog.focusWidget() is dialog.search)
            dialog.reject()
        else:
            QTimer.singleShot(20, close)

    QTimer.singleShot(20, close)


# -- capture ----------------------------------------------------------------------------------


def test_overlay_drag_gives_the_region_at_device_pixels(qtbot):
    pixmap = QPixmap(1200, 800)
    pixmap.fill(QColor("#204060"))
    pixmap.setDevicePixelRatio(2.0)
    overlay = CaptureOverlay(pixmap)
    qtbot.addWidget(overlay)
    overlay.show()
    qtbot.waitExposed(overlay)
    assert (overlay.width(), overlay.height()) == (600, 400)
    with qtbot.waitSignal(overlay.captured, timeout=2000) as blocker:
        _drag(overlay, QPoint(50, 40), QPoint(250, 190))
    image: QImage = blocker.args[0]
    assert (image.width(), image.height()) == (200 * 2, 150 * 2)
    assert image.pixelColor(10, 10) == QColor("#204060")


def test_capture_attaches_the_region_and_brings_the_window_back(qtbot, window):
    capture = window.capture
    capture.grab = lambda _screen: _screen_pixmap(window, 2.0)
    capture.start()
    assert not window.isVisible()  # hidden while the screen is grabbed
    qtbot.waitUntil(
        lambda: capture.overlay is not None and capture.overlay.isVisible(), timeout=3000
    )
    overlay = capture.overlay
    _drag(overlay, QPoint(10, 20), QPoint(110, 80))
    qtbot.waitUntil(window.isVisible, timeout=2000)
    assert len(window.attachments) == 1
    att = window.attachments.items[0]
    assert att.name.startswith("Screen capture") and att.name.endswith(".png")
    qtbot.waitUntil(lambda: att.data is not None, timeout=5000)
    image = QImage.fromData(att.data)
    assert (image.width(), image.height()) == (100 * 2, 60 * 2)
    assert capture.overlay is None


def test_escape_cancels_the_capture(qtbot, window):
    capture = window.capture
    capture.grab = lambda _screen: _screen_pixmap(window, 1.0)
    capture.start()
    qtbot.waitUntil(
        lambda: capture.overlay is not None and capture.overlay.isVisible(), timeout=3000
    )
    QTest.keyClick(capture.overlay, Qt.Key.Key_Escape)
    qtbot.waitUntil(window.isVisible, timeout=2000)
    assert len(window.attachments) == 0
    assert capture.overlay is None


@pytest.mark.parametrize("kind", ["null", "black"])
def test_a_refused_grab_says_so_in_the_banner(qtbot, window, kind):
    def grab(_screen):
        if kind == "null":
            return QPixmap()
        black = QPixmap(400, 300)
        black.fill(QColor("black"))
        return black

    _activate(qtbot, window)
    window.composer.setFocus()
    window.capture.grab = grab
    window.capture.start()
    qtbot.waitUntil(lambda: window.isVisible() and window.banner.isVisible(), timeout=3000)
    text = window.banner.label.text()
    assert "could not be captured" in text and "paste" in text
    assert len(window.attachments) == 0
    qtbot.waitUntil(lambda: window.focusWidget() is window.composer, timeout=2000)  # typing on
    assert looks_blank(QImage()) and looks_blank(grab(None).toImage())


# -- shortcuts ---------------------------------------------------------------------------------


def test_ctrl_shift_s_starts_capture_which_offscreen_explains(qtbot, window):
    _activate(qtbot, window)
    QTest.keyClick(
        window.composer,
        Qt.Key.Key_S,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    qtbot.waitUntil(window.banner.isVisible, timeout=2000)
    assert "no screen to capture" in window.banner.label.text()
    assert "Ctrl+V" in window.banner.label.text()
    assert window.isVisible()


def test_ctrl_k_opens_the_picker_with_focus_in_its_search(qtbot, window, fake):
    _open(qtbot, window, fake)
    _activate(qtbot, window)
    seen: list = []
    _close_modal_later(qtbot, AgentPicker, seen)
    QTest.keyClick(window.composer, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: len(seen) == 2, timeout=3000)
    assert seen[1] is True  # type-to-filter: the search field has the focus


def test_ctrl_comma_opens_settings(qtbot, window):
    _activate(qtbot, window)
    seen: list = []
    _close_modal_later(qtbot, SettingsDialog, seen)
    QTest.keyClick(window.composer, Qt.Key.Key_Comma, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: len(seen) == 1, timeout=3000)


def test_help_lists_every_shortcut_from_the_actions(qtbot, window):
    _activate(qtbot, window)
    rows = dict(shortcut_rows(window))
    for name in (
        "Attach images",
        "Capture screen region",
        "Switch agent",
        "Settings",
        "Keyboard shortcuts",
        "Stop reply",
        "Paste",
        "Quit",
    ):
        assert rows.get(name), name
    assert rows["Capture screen region"] == "Ctrl+Shift+S"
    assert "Ctrl+K" in rows["Switch agent"] and "Ctrl+," in rows["Settings"]
    for action in window_actions(window):
        assert action.isEnabled() and action.shortcuts()
    seen: list = []
    _close_modal_later(qtbot, ShortcutsDialog, seen)
    QTest.keyClick(window.composer, Qt.Key.Key_Slash, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: len(seen) == 1, timeout=3000)
    dialog = seen[0]
    listed = [dialog.table.item(r, 0).text() for r in range(dialog.table.rowCount())]
    assert "Capture screen region" in listed and "Send the message" in listed
    assert "Select text in the current message" in listed  # the transcript's own keys


def test_up_in_an_empty_composer_brings_back_the_last_message(qtbot, window, fake):
    _open(qtbot, window, fake)
    qtbot.keyClicks(window.composer, "look at this")
    qtbot.keyClick(window.composer, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not window.session.busy and len(fake.posts) == 1, timeout=5000)
    assert window.composer.text() == ""
    qtbot.keyClick(window.composer, Qt.Key.Key_Up)
    assert window.composer.text() == "look at this"
    qtbot.keyClick(window.composer, Qt.Key.Key_Up)  # not empty: Up moves the cursor only
    assert window.composer.text() == "look at this"


def test_picker_filters_as_you_type_and_arrows_move_the_selection(qtbot, workers, fake):
    fake.add_agent("Screen reader")
    picker = AgentPicker(workers, fake.client().list_agents)
    qtbot.addWidget(picker)
    picker.show()
    qtbot.waitExposed(picker)
    qtbot.waitUntil(lambda: picker.model.rowCount() == 3, timeout=5000)
    assert QApplication.focusWidget() is picker.search
    qtbot.keyClick(picker.search, Qt.Key.Key_Down)
    assert picker.list.currentIndex().row() == 1 and picker.search.hasFocus()
    picker.list.setFocus()
    qtbot.keyClicks(picker.list, "scr")
    assert picker.search.text() == "scr" and picker.search.hasFocus()
    qtbot.waitUntil(lambda: picker.model.rowCount() == 2, timeout=5000)


# -- light and dark ----------------------------------------------------------------------------


def test_choosing_dark_makes_the_palette_dark_and_the_transcript_repaints(qtbot, window, fake):
    _open(qtbot, window, fake)
    window.transcript_model.add_notice("A notice to paint", Tone.INFO)
    qtbot.wait(50)

    def background() -> QColor:
        return window.transcript.viewport().grab().toImage().pixelColor(3, 3)

    assert background().lightnessF() > 0.5
    dialog = SettingsDialog(
        window.settings, server="letta.test", open_connection=lambda: None, parent=window
    )
    qtbot.addWidget(dialog)
    try:
        dialog.theme_combo.setCurrentIndex(dialog.theme_combo.findData("dark"))
        assert window.settings.theme == "dark"
        assert QApplication.palette().color(QPalette.ColorRole.Window).lightnessF() < 0.3
        qtbot.waitUntil(lambda: background().lightnessF() < 0.3, timeout=2000)
        delegate = window.transcript.itemDelegate()
        assert delegate._theme is None or delegate._theme.base.lightnessF() < 0.3
        assert window.transcript.palette().color(QPalette.ColorRole.Base).lightnessF() < 0.3
    finally:
        dialog.theme_combo.setCurrentIndex(dialog.theme_combo.findData("system"))
    assert window.settings.theme == "system"
    assert QApplication.palette().color(QPalette.ColorRole.Window).lightnessF() > 0.5
    qtbot.waitUntil(lambda: background().lightnessF() > 0.5, timeout=2000)


def test_banner_colours_follow_the_palette(qtbot, window):
    window.banner.show(Notice("Something to say", Tone.WARNING))
    light = window.banner.grab().toImage().pixelColor(window.banner.width() // 2, 3)
    apply_theme("dark")
    try:
        qtbot.waitUntil(lambda: window.banner.palette().window().color().lightnessF() < 0.3)
        dark = window.banner.grab().toImage().pixelColor(window.banner.width() // 2, 3)
    finally:
        apply_theme("system")
    qtbot.waitUntil(lambda: window.banner.palette().window().color().lightnessF() > 0.5)
    assert light.lightnessF() > 0.7 and dark.lightnessF() < 0.4


# -- accessibility -----------------------------------------------------------------------------


def _unnamed(root) -> list[str]:
    return [
        f"{type(w).__name__} {w.objectName()!r} {getattr(w, 'text', lambda: '')()!r}"
        for w in interactive_widgets(root)
        if not w.accessibleName()
    ]


def test_every_interactive_widget_has_an_accessible_name(qtbot, window, workers, fake):
    _open(qtbot, window, fake)
    window.banner.show(Notice("Hello", Tone.ERROR, "Do it", lambda: None))
    assert not _unnamed(window)
    dialogs = [
        ConnectDialog(workers, fake.factory, base_url=None),
        AgentPicker(workers, fake.client().list_agents),
        SettingsDialog(window.settings, server="x", open_connection=lambda: None),
        ShortcutsDialog(window),
        CrashDialog("Traceback…", lambda done: done("info")),
    ]
    for dialog in dialogs:
        qtbot.addWidget(dialog)
        fill_accessible_names(dialog)  # what the app does when it opens them
        assert not _unnamed(dialog), type(dialog).__name__
    assert window.composer.accessibleDescription()
    assert window.capture_button.accessibleDescription()


def test_focus_order_goes_header_transcript_composer_attach_send(qtbot, window, fake):
    _open(qtbot, window, fake)
    order = [window.agent_button]
    widget = window.agent_button
    for _ in range(100):  # hidden panels (approvals, notices) sit in the chain too
        widget = widget.nextInFocusChain()
        if widget.isVisible() and widget.focusPolicy() & Qt.FocusPolicy.TabFocus:
            order.append(widget)
        if widget is window.send_button:
            break
    index = order.index
    assert (
        index(window.agent_button)
        < index(window.transcript)
        < index(window.composer)
        < index(window.attach_button)
        < index(window.send_button)
    )


# -- notifications -----------------------------------------------------------------------------


def test_a_reply_while_away_notifies_and_asks_for_attention(qtbot, window, fake, monkeypatch):
    _open(qtbot, window, fake)
    alerts: list = []
    monkeypatch.setattr(QApplication, "alert", staticmethod(lambda w, ms=0: alerts.append(w)))
    notifier = window.notifier
    monkeypatch.setattr(notifier, "attended", lambda: False)
    qtbot.keyClicks(window.composer, "are you there?")
    qtbot.keyClick(window.composer, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: notifier.last is not None, timeout=5000)
    assert notifier.last == ("Screenshot critic replied", "Echo: are you there?")
    assert alerts == [window]
    monkeypatch.setattr(notifier, "attended", lambda: True)
    notifier.last = None
    notifier.reply_finished("end_turn")
    assert notifier.last is None and alerts == [window]  # looking at it: no notification


# -- diagnostics -------------------------------------------------------------------------------


def test_copy_debug_info_has_versions_and_no_key(qtbot, window, fake):
    _open(qtbot, window, fake)
    window.help.copy_debug_info()
    qtbot.waitUntil(lambda: bool(window.help.last_debug_info), timeout=5000)
    text = window.help.last_debug_info
    assert QApplication.clipboard().text() == text
    for needle in (
        "Letta Desktop 0.1.0",
        "Python 3.",
        "Qt 6.",
        "PySide6 6.",
        "Qt platform plugin: offscreen",
        "Keyring backend:",
        "Server: https://letta.test",
        "Server version: 0.16.8",
    ):
        assert needle in text, needle
    assert SECRET not in text and "Bearer" not in text


def test_the_log_file_exists_and_never_holds_the_key(tmp_path):
    path = diagnostics.setup_file_logging()
    try:
        data = Path(os.environ["LETTA_DESKTOP_DATA_DIR"])  # tests/conftest.py's folder
        assert path == data / "logs" / "letta-desktop.log"
        register_secret(SECRET)
        logging.getLogger("desktop.test").warning("calling with key %s (Bearer %s)", SECRET, SECRET)
        for handler in logging.getLogger().handlers:
            handler.flush()
        text = path.read_text(encoding="utf-8")
        assert "calling with key" in text and SECRET not in text
    finally:
        diagnostics.close_file_logging()


@pytest.mark.qt_no_exception_capture
def test_the_crash_hook_shows_the_dialog_and_logs_redacted(qtbot, window):
    path = diagnostics.setup_file_logging()
    register_secret(SECRET)
    hook = diagnostics.CrashHook(window.help.show_crash, window).install()
    closed: list = []
    try:

        def explode():
            raise RuntimeError(f"boom with {SECRET}")

        QTimer.singleShot(0, explode)
        qtbot.waitUntil(
            lambda: window.help.crash_dialog is not None and window.help.crash_dialog.isVisible(),
            timeout=3000,
        )
        dialog = window.help.crash_dialog
        details = dialog.details.toPlainText()
        assert "RuntimeError: boom with" in details and SECRET not in details

        worker = threading.Thread(target=lambda: 1 / 0, name="crasher")
        worker.start()
        worker.join()
        qtbot.waitUntil(lambda: "ZeroDivisionError" in dialog.details.toPlainText(), timeout=3000)

        dialog.copy_button.click()
        qtbot.waitUntil(lambda: bool(dialog.copied_text), timeout=3000)
        assert "Letta Desktop 0.1.0" in dialog.copied_text and SECRET not in dialog.copied_text

        QTimer.singleShot(0, lambda: (closed.append(True), dialog.close()))
        qtbot.waitUntil(lambda: bool(closed), timeout=2000)
    finally:
        hook.uninstall()
        for handler in logging.getLogger().handlers:
            handler.flush()
        diagnostics.close_file_logging()
    log_text = path.read_text(encoding="utf-8")
    assert "boom with" in log_text and "ZeroDivisionError" in log_text
    assert SECRET not in log_text


# -- open with ---------------------------------------------------------------------------------


def test_files_on_the_command_line_become_pending_attachments(qtbot, tmp_path):
    files = []
    for name, color in (("one.png", "red"), ("two words.png", "blue")):
        image = QImage(40, 30, QImage.Format.Format_RGB32)
        image.fill(QColor(color))
        image.save(str(tmp_path / name))
        files.append(str(tmp_path / name))
    args = build_parser().parse_args(files)
    win, _base_url, _key = create_window(args, secrets=memory_secrets())
    qtbot.addWidget(win)
    try:
        assert [a.name for a in win.attachments.items] == ["one.png", "two words.png"]
        qtbot.waitUntil(lambda: not win.attachments.preparing, timeout=10000)
        assert all(a.ready for a in win.attachments.items)
    finally:
        win.workers.shutdown()
        set_svg_rasterizer(None)  # create_window registers Qt's; core tests expect none


def test_keys_typed_while_the_picker_appears_land_in_its_search(qtbot, window, fake):
    """Typing goes on while the agent picker opens by itself (connected, no agent yet): the
    keys that reach the main window before the picker is active are not lost."""
    _activate(qtbot, window)
    pickers: list[AgentPicker] = []

    class TypeAsItAppears(QObject):
        def eventFilter(self, obj, event):
            if isinstance(obj, AgentPicker) and event.type() == QEvent.Type.Show:
                pickers.append(obj)
                type_into_main_window()  # shown, not active yet
            return False

    def type_into_main_window():
        for key in (Qt.Key.Key_S, Qt.Key.Key_C):
            QTest.keyClick(window.windowHandle(), key)

    watcher = TypeAsItAppears()
    QApplication.instance().installEventFilter(watcher)
    try:
        window.start("https://letta.test", SECRET, "")
        qtbot.waitUntil(lambda: len(pickers) == 1, timeout=5000)
        picker = pickers[0]
        assert picker.search.text() == "sc"
        assert window.composer.toPlainText() == ""
        qtbot.waitUntil(lambda: picker.model.rowCount() == 1, timeout=5000)  # filtered
        QTest.keyClick(picker.search, Qt.Key.Key_Return)  # opens the one agent left
        qtbot.waitUntil(
            lambda: window.session is not None and window.session.agent is not None, timeout=5000
        )
        assert window.session.agent.name == "Screenshot critic"
    finally:
        QApplication.instance().removeEventFilter(watcher)
