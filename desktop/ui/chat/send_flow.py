"""Send and Stop: from the composer's text and the pending images to the session's send.

Enter right after a paste waits for the images to be prepared (the Send button says so, and a
click cancels); the vision checks are asked before anything leaves; the composer and the chips
are cleared only once the session took the message. The automatic retry's countdown is shown
as a notice with Cancel.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QPushButton

from desktop.ui.attachments import AttachmentController
from desktop.ui.chat.composer import Composer
from desktop.ui.notice import Notice, Tone

if TYPE_CHECKING:
    from desktop.ui.chat.session import ChatSession

RETRY_NOTICE = "auto-retry"


class SendFlow(QObject):
    notice = Signal(object)  # Notice
    noticeWithdrawn = Signal(str)  # a source whose notice is over
    agentWanted = Signal()  # Send with no agent open: the user should pick one

    def __init__(
        self,
        composer: Composer,
        attachments: AttachmentController,
        send_button: QPushButton,
        allow_send: Callable[[], bool],
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self._composer = composer
        self._attachments = attachments
        self._button = send_button
        self._allow_send = allow_send
        self._session: ChatSession | None = None
        self.waiting = False
        composer.sendRequested.connect(self.send)
        composer.stopRequested.connect(self.stop)
        send_button.clicked.connect(self.send_or_stop)
        self.show_busy(False)

    def set_session(self, session: ChatSession) -> None:
        self._session = session
        session.busyChanged.connect(self.show_busy)
        session.retryCountdown.connect(self._on_retry_countdown)

    def send(self) -> None:
        session = self._session
        if session is None or session.agent is None:
            self.notice.emit(
                Notice("Choose an agent first.", Tone.INFO, "Choose…", self.agentWanted.emit)
            )
            return
        if session.busy:
            return
        if self._attachments.preparing:  # Enter right after a paste: send once they are ready
            self._wait(True)
            return
        self._wait(False)
        text = self._composer.text()
        if not self._allow_send():  # the vision banner / chip badges say why
            return
        out = self._attachments.outgoing()
        if not text.strip() and not out.parts:
            if out.skipped:
                self.notice.emit(Notice(out.skipped_text, Tone.ERROR))
            return
        if session.send(text, out.parts, out.thumbnails, out.attachments):
            self._composer.clear_after_send()
            self._attachments.clear()
            if out.skipped:
                self.notice.emit(Notice(out.skipped_text, Tone.WARNING))

    def _wait(self, waiting: bool) -> None:
        """Send once the images are prepared, or stop waiting. The Send button says so: a
        label, not a notice, so the layout does not jump under the pointer and the window is
        not laid out again while images are being prepared."""
        if waiting == self.waiting:
            return
        self.waiting = waiting
        self._attachments.call_when_settled(self.send if waiting else None)
        if not waiting:
            self.show_busy(self._session is not None and self._session.busy)
            return
        self._button.setText("Waiting…")
        self._button.setAccessibleName("Cancel sending")
        self._button.setToolTip("Sends when the images are ready — click (or Esc) to cancel")

    def stop(self) -> None:
        self._wait(False)
        if self._session is not None:
            self._session.stop()

    def send_or_stop(self) -> None:
        if self.waiting:
            self._wait(False)
        elif self._session is not None and self._session.busy:
            self.stop()
        else:
            self.send()

    def show_busy(self, busy: bool) -> None:
        self._button.setText("Stop" if busy else "Send")
        self._button.setAccessibleName("Stop reply" if busy else "Send message")
        self._button.setToolTip("Stop the reply (Esc)" if busy else "Send (Enter)")

    def _on_retry_countdown(self, text: str) -> None:
        session = self._session
        if text and session is not None:
            self.notice.emit(
                Notice(text, Tone.WARNING, "Cancel", session.cancel_auto_retry, RETRY_NOTICE)
            )
        elif not text:
            self.noticeWithdrawn.emit(RETRY_NOTICE)
