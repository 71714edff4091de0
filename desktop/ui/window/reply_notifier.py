"""Tell the user a reply finished while they were elsewhere: a system notification (through a
tray icon created on first need and hidden again once the window is back) and the taskbar's
attention hint (QApplication.alert)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QAbstractItemModel, QEvent, QObject, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QSystemTrayIcon, QWidget

from desktop import APP_NAME
from desktop.ui.attachments.capture import bring_to_front
from desktop.ui.transcript import KindRole, RowKind, TextRole

TRAY_LINGER_MS = 15000  # the tray icon goes away this long after a notification


class ReplyNotifier(QObject):
    def __init__(
        self, window: QWidget, summary: Callable[[], tuple[str, str]], parent: QObject | None = None
    ):
        """`summary()` returns (title, body) for the notification (agent name, reply start)."""
        super().__init__(parent or window)
        self._window = window
        self._summary = summary
        self.tray: QSystemTrayIcon | None = None
        self.last: tuple[str, str] | None = None
        """The last notification (title, body), for tests and the log."""
        self._hide_timer = QTimer(self)
        self._hide_timer.setSingleShot(True)
        self._hide_timer.setInterval(TRAY_LINGER_MS)
        self._hide_timer.timeout.connect(self._hide_tray)
        window.installEventFilter(self)

    def attended(self) -> bool:
        """Is the user looking at the window (active and not minimised)?"""
        window = self._window
        return window.isVisible() and window.isActiveWindow() and not window.isMinimized()

    def reply_finished(self, reason: str) -> None:
        if reason == "cancelled" or self.attended():
            return
        title, body = self._summary()
        if reason == "requires_approval":
            body = "The agent is waiting for you to approve a tool call."
        self.last = (title, body)
        QApplication.alert(self._window)  # taskbar / dock attention until the window is active
        if QSystemTrayIcon.isSystemTrayAvailable():
            tray = self._tray()
            tray.show()
            tray.showMessage(title, body, self._window.windowIcon(), 8000)
            self._hide_timer.start()

    def _tray(self) -> QSystemTrayIcon:
        if self.tray is None:
            icon = self._window.windowIcon()
            if icon.isNull():
                icon = QApplication.windowIcon() or QIcon()
            self.tray = QSystemTrayIcon(icon, self)
            self.tray.setToolTip(APP_NAME)
            self.tray.messageClicked.connect(self._bring_back)
            self.tray.activated.connect(lambda _reason: self._bring_back())
        return self.tray

    def _bring_back(self) -> None:
        window = self._window
        if window.isMinimized():
            window.showNormal()
        window.show()
        bring_to_front(window)
        self._hide_tray()

    def _hide_tray(self) -> None:
        self._hide_timer.stop()
        if self.tray is not None:
            self.tray.hide()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if (
            obj is self._window
            and event.type() == QEvent.Type.ActivationChange
            and self._window.isActiveWindow()
        ):
            self._hide_tray()
        return False


def reply_summary(model: QAbstractItemModel, agent_name: str) -> tuple[str, str]:
    """(title, body) of the notification: who replied, and the start of the last reply."""
    for row in range(model.rowCount() - 1, -1, -1):
        index = model.index(row, 0)
        if index.data(KindRole) is RowKind.ASSISTANT:
            text = " ".join(str(index.data(TextRole) or "").split())
            return f"{agent_name} replied", (text[:157] + "…") if len(text) > 160 else text
    return f"{agent_name} replied", "The reply is ready."
