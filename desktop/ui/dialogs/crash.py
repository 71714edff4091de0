"""The dialog shown when something inside the app raised and nobody caught it.

It says what happened and what to do, shows the (already redacted) traceback, and offers
"Copy debug info" (versions, platform, server — never the key — plus the traceback). Further
crashes while it is open are appended instead of opening a dialog each.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop import APP_NAME
from desktop.ui.plain_text import plain_label
from desktop.ui.screen_fit import keep_on_screen

#: Calls back with the debug-info text (it may fetch the server's version on a worker first).
DebugInfoSource = Callable[[Callable[[str], None]], None]


class CrashDialog(QDialog):
    def __init__(
        self,
        report: str,
        debug_info: DebugInfoSource,
        log_path: str | None = None,
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        keep_on_screen(self)
        self._debug_info = debug_info
        self.copied_text = ""
        self.setWindowTitle(f"{APP_NAME} hit a problem")
        self.setAccessibleName("Unexpected error")
        self.resize(640, 420)
        where = f" The details are also in the log file:\n{log_path}" if log_path else ""
        intro = QLabel(
            "Something went wrong inside Letta Desktop. It may keep working; if it misbehaves, "
            "restart it. To report the problem, copy the debug info (it never contains your "
            "API key) and attach it to an issue." + where
        )
        intro.setWordWrap(True)
        intro.setAccessibleName("What happened")
        self.details = QPlainTextEdit(report)
        self.details.setReadOnly(True)
        self.details.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.details.setAccessibleName("Error details")
        self.details.setAccessibleDescription("The error's traceback, with secrets removed")
        self.copy_button = QPushButton("Copy debug info")
        self.copy_button.setAccessibleName("Copy debug info")
        self.copy_button.setAccessibleDescription(
            "Copies versions, platform and the error to the clipboard; no API key"
        )
        self.copy_button.clicked.connect(self._copy)
        self.status = plain_label()
        self.status.setAccessibleDescription("Copy status")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        close = buttons.button(QDialogButtonBox.StandardButton.Close)
        close.setAccessibleName("Close")
        close.setDefault(True)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.details, 1)
        layout.addWidget(self.status)
        layout.addWidget(buttons)

    def add_report(self, report: str) -> None:
        self.details.appendPlainText("\n" + report)

    def _copy(self) -> None:
        self.copy_button.setEnabled(False)
        self.status.setText("Collecting…")
        self._debug_info(self._copied)

    def _copied(self, info: str) -> None:
        self.copied_text = f"{info}\n\nError:\n{self.details.toPlainText()}"
        QGuiApplication.clipboard().setText(self.copied_text)
        self.copy_button.setEnabled(True)
        self.status.setText("Copied to the clipboard.")
