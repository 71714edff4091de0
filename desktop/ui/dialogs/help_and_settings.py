"""Settings (Ctrl+,), Help ▸ Keyboard shortcuts, Copy debug info, About, and the crash dialog."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMessageBox, QWidget

from desktop import APP_NAME, __version__, diagnostics
from desktop.core.secrets import SecretStore
from desktop.settings import Settings
from desktop.ui.accessibility import fill_accessible_names
from desktop.ui.notice import Notice, Tone
from desktop.workers import Workers

if TYPE_CHECKING:
    from desktop.ui.connection.connection_flow import Connection
    from desktop.ui.dialogs.crash import CrashDialog
    from desktop.ui.dialogs.settings import SettingsDialog


class HelpAndSettings(QObject):
    notice = Signal(object)  # Notice
    connectionRequested = Signal()  # Settings ▸ Connection…
    reasoningExpandedChanged = Signal(bool)

    def __init__(self, workers: Workers, settings: Settings, secrets: SecretStore, window: QWidget):
        super().__init__(window)
        self._workers = workers
        self._settings = settings
        self._secrets = secrets
        self._window = window
        self._connection: Connection | None = None
        self.settings_dialog: SettingsDialog | None = None
        self.crash_dialog: CrashDialog | None = None
        self.last_debug_info = ""

    def set_connection(self, connection: Connection) -> None:
        self._connection = connection

    def open_settings(self) -> None:
        conn = self._connection
        server = diagnostics.server_host(conn.base_url) if conn else "Not connected"
        from desktop.ui.dialogs.settings import SettingsDialog  # dialogs load when first opened

        dialog = SettingsDialog(
            self._settings,
            server=server,
            open_connection=self.connectionRequested.emit,
            reasoning_changed=self.reasoningExpandedChanged.emit,
            parent=self._window,
            base_url=conn.base_url if conn else None,
            list_models=conn.client.list_models if conn else None,
            workers=self._workers,
        )
        fill_accessible_names(dialog)
        self.settings_dialog = dialog
        dialog.exec()
        self.settings_dialog = None
        dialog.deleteLater()

    def open_shortcuts(self) -> None:
        from desktop.ui.dialogs.shortcuts import ShortcutsDialog

        dialog = ShortcutsDialog(self._window)
        fill_accessible_names(dialog)
        dialog.exec()
        dialog.deleteLater()

    def about(self) -> None:
        QMessageBox.about(
            self._window,
            APP_NAME,
            f"{APP_NAME} {__version__}\nA desktop client that lets Letta agents see.",
        )

    # -- debug info and crashes ----------------------------------------------------------

    def debug_info(self, done: Callable[[str], None]) -> None:
        """Calls `done(text)`, after asking the server for its version on a worker."""
        conn = self._connection
        context = diagnostics.DebugContext(
            base_url=conn.base_url if conn else None,
            keyring_backend=self._secrets.backend_name,
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

        self._workers.submit(conn.client.health, on_result=on_result, on_error=on_error, owner=self)

    def copy_debug_info(self) -> None:
        def copied(text: str) -> None:
            QGuiApplication.clipboard().setText(text)
            self.last_debug_info = text
            self.notice.emit(
                Notice("Debug info copied to the clipboard (it contains no API key).", Tone.INFO)
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
