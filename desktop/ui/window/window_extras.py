"""What daily users expect of the main window, kept out of main_window.py:

screen-region capture (Capture button, Ctrl+Shift+S), Settings (Ctrl+,), Help ▸ Keyboard
shortcuts and Copy debug info, reply notifications, the crash dialog, the light/dark theme,
the focus order and accessible names. MainWindow creates one `WindowExtras` at the end of its
build and hands it each new ChatSession (`watch`).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QGuiApplication, QImage, QKeySequence
from PySide6.QtWidgets import QBoxLayout, QMenu, QMessageBox, QToolButton, QWidget

from desktop import APP_NAME, __version__, diagnostics
from desktop.ui.accessibility import fill_accessible_names
from desktop.ui.attachments.capture import ScreenCapture, capture_name
from desktop.ui.style.theme import apply_theme
from desktop.ui.transcript import KindRole, TextRole
from desktop.ui.window.reply_notifier import ReplyNotifier

if TYPE_CHECKING:
    from desktop.ui.chat.session import ChatSession
    from desktop.ui.dialogs.crash import CrashDialog
    from desktop.ui.dialogs.settings import SettingsDialog
    from desktop.ui.window.main_window import MainWindow


def _shortcuts(*keys: QKeySequence.StandardKey | str) -> list[QKeySequence]:
    """The given keys (standard keys expand to the platform's bindings), without duplicates."""
    out: list[QKeySequence] = []
    for key in keys:
        if isinstance(key, QKeySequence.StandardKey):
            seqs = QKeySequence.keyBindings(key)
        else:
            seqs = [QKeySequence(key)]
        out += [s for s in seqs if not s.isEmpty() and s not in out]
    return out


def _menu(window: MainWindow, title: str) -> QMenu | None:
    for action in window.menuBar().actions():
        if action.text().replace("&", "") == title and isinstance(action.menu(), QMenu):
            return action.menu()
    return None


class WindowExtras(QObject):
    def __init__(self, window: MainWindow, header: QBoxLayout):
        super().__init__(window)
        self._window = window
        self.settings_dialog: SettingsDialog | None = None
        self.crash_dialog: CrashDialog | None = None
        self.last_debug_info = ""

        self.capture = ScreenCapture(window, parent=self)
        self.capture.captured.connect(self._attach_capture)
        self.capture.captured_file.connect(self._attach_capture_file)  # the Wayland portal's PNG
        self.capture.message.connect(lambda text: window.banner.show_message(text, "info"))
        self.capture_action = QAction("Capture screen &region…", window)
        self.capture_action.setShortcuts(_shortcuts("Ctrl+Shift+S"))
        self.capture_action.triggered.connect(self.capture.start)
        self.capture_button = QToolButton()
        self.capture_button.setText("Capture")
        self.capture_button.setAutoRaise(True)
        self.capture_button.setToolTip(
            "Capture a region of the screen and attach it (Ctrl+Shift+S)"
        )
        self.capture_button.setAccessibleName("Capture screen region")
        self.capture_button.setAccessibleDescription(self.capture_button.toolTip())
        self.capture_button.clicked.connect(self.capture.start)
        header.addWidget(self.capture_button)

        self.settings_action = QAction("&Settings…", window)
        self.settings_action.setShortcuts(
            _shortcuts("Ctrl+,", QKeySequence.StandardKey.Preferences)
        )
        self.settings_action.setMenuRole(QAction.MenuRole.PreferencesRole)
        self.settings_action.triggered.connect(self.open_settings)
        self.shortcuts_action = QAction("&Keyboard shortcuts", window)
        self.shortcuts_action.setShortcuts(
            _shortcuts("Ctrl+/", QKeySequence.StandardKey.HelpContents)
        )
        self.shortcuts_action.triggered.connect(self.open_shortcuts)
        self.debug_action = QAction("Copy &debug info", window)
        self.debug_action.triggered.connect(self.copy_debug_info)
        self.about_action = QAction(f"&About {APP_NAME}", window)
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)
        self.about_action.triggered.connect(self._about)
        self._install_menus()

        self.notifier = ReplyNotifier(window, self._reply_summary, self)
        window.transcript_model.reasoning_expanded = window.settings.reasoning_expanded
        apply_theme(window.settings.theme)
        self._focus_order()
        fill_accessible_names(window)

    # -- wiring ---------------------------------------------------------------------------

    def _install_menus(self) -> None:
        window = self._window
        file_menu = _menu(window, "File")
        if file_menu is not None:
            actions = file_menu.actions()
            # Capture right after Attach; Settings before the separator above Quit.
            after_attach = actions[1] if len(actions) > 1 else None
            file_menu.insertAction(after_attach, self.capture_action)
            separator = next((a for a in file_menu.actions() if a.isSeparator()), None)
            file_menu.insertAction(separator, self.settings_action)
            for action in file_menu.actions():  # Quit has no standard key on Windows
                if action.text() == "&Quit" and not action.shortcuts():
                    action.setShortcuts(_shortcuts(QKeySequence.StandardKey.Quit, "Ctrl+Q"))
        else:
            window.addAction(self.capture_action)
            window.addAction(self.settings_action)
        help_menu = _menu(window, "Help") or window.menuBar().addMenu("&Help")
        first = help_menu.actions()[0] if help_menu.actions() else None
        for action in (self.shortcuts_action, self.debug_action):
            help_menu.insertAction(first, action)
        help_menu.insertSeparator(first)
        help_menu.addAction(self.about_action)

    def _focus_order(self) -> None:
        """Header (agent, badge, Capture) → conversation → notices → message → Attach → Send."""
        w = self._window
        chain: list[QWidget] = [
            w.agent_button,
            w.vision.badge,
            self.capture_button,
            w.transcript,
            w.vision.banner,
            w.banner,
            w.composer,
            w.attach_button,
            w.send_button,
            w.strip,
        ]
        for first, second in itertools.pairwise(chain):
            QWidget.setTabOrder(first, second)
        w.agent_button.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    def watch(self, session: ChatSession) -> None:
        session.replyFinished.connect(self.notifier.reply_finished)

    # -- capture --------------------------------------------------------------------------

    def _attach_capture(self, image: QImage) -> None:
        self._window.attachments.add_qimage(image, capture_name())
        self._window.composer.setFocus()

    def _attach_capture_file(self, path: str) -> None:
        self._window.attachments.add_file(path)  # read and prepared on a worker
        self._window.composer.setFocus()

    # -- dialogs --------------------------------------------------------------------------

    def open_settings(self) -> None:
        window = self._window
        server = (
            diagnostics.server_host(window.connection.base_url)
            if window.connection
            else "Not connected"
        )
        from desktop.ui.dialogs.settings import SettingsDialog  # dialogs load when first opened

        dialog = SettingsDialog(
            window.settings,
            server=server,
            open_connection=lambda: window.show_connect_dialog(),
            reasoning_changed=self._set_reasoning_expanded,
            parent=window,
        )
        fill_accessible_names(dialog)
        self.settings_dialog = dialog
        dialog.exec()
        self.settings_dialog = None
        dialog.deleteLater()

    def _set_reasoning_expanded(self, on: bool) -> None:
        self._window.transcript_model.reasoning_expanded = on

    def open_shortcuts(self) -> None:
        from desktop.ui.dialogs.shortcuts import ShortcutsDialog

        dialog = ShortcutsDialog(self._window)
        fill_accessible_names(dialog)
        dialog.exec()
        dialog.deleteLater()

    def _about(self) -> None:
        QMessageBox.about(
            self._window,
            APP_NAME,
            f"{APP_NAME} {__version__}\nA desktop client that lets Letta agents see.",
        )

    # -- debug info and crashes ----------------------------------------------------------

    def debug_info(self, done: Callable[[str], None]) -> None:
        """Calls `done(text)`, after asking the server for its version on a worker."""
        window = self._window
        conn = window.connection
        context = diagnostics.DebugContext(
            base_url=conn.base_url if conn else None,
            keyring_backend=window.secrets.backend_name,
        )
        if conn is None:
            done(diagnostics.debug_info(context))
            return

        def on_result(data: object) -> None:
            version = data.get("version") if isinstance(data, dict) else None
            context.server_version = str(version) if version else None
            done(diagnostics.debug_info(context))

        def on_error(exc: BaseException) -> None:
            context.server_error = type(exc).__name__
            done(diagnostics.debug_info(context))

        window.workers.submit(
            conn.client.health, on_result=on_result, on_error=on_error, owner=self
        )

    def copy_debug_info(self) -> None:
        def copied(text: str) -> None:
            QGuiApplication.clipboard().setText(text)
            self.last_debug_info = text
            self._window.banner.show_message(
                "Debug info copied to the clipboard (it contains no API key).", "info"
            )

        self.debug_info(copied)

    def show_crash(self, report: str) -> None:
        """The crash hook's handler (always on the GUI thread, from the event loop)."""
        dialog = self.crash_dialog
        if dialog is not None and shiboken6.isValid(dialog) and dialog.isVisible():
            dialog.add_report(report)
            return
        path = diagnostics.log_file()
        from desktop.ui.dialogs.crash import CrashDialog

        dialog = CrashDialog(
            report,
            self._guarded_debug_info,
            str(path) if path.exists() else None,
            parent=self._window,
        )
        fill_accessible_names(dialog)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.crash_dialog = dialog
        dialog.open()

    def _guarded_debug_info(self, done: Callable[[str], None]) -> None:
        dialog = self.crash_dialog

        def deliver(text: str) -> None:
            if dialog is not None and shiboken6.isValid(dialog):
                done(text)

        self.debug_info(deliver)

    # -- notifications --------------------------------------------------------------------

    def _reply_summary(self) -> tuple[str, str]:
        window = self._window
        session = window.session
        name = session.agent.name if session and session.agent else APP_NAME
        model = window.transcript_model
        for row in range(model.rowCount() - 1, -1, -1):
            index = model.index(row, 0)
            if index.data(KindRole) == "assistant":
                text = " ".join(str(index.data(TextRole) or "").split())
                return f"{name} replied", (text[:157] + "…") if len(text) > 160 else text
        return f"{name} replied", "The reply is ready."
