"""The message composer: multi-line, Enter sends, Shift+Enter makes a new line."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QPlainTextEdit, QWidget

_MIN_LINES, _MAX_LINES = 2, 10


class Composer(QPlainTextEdit):
    sendRequested = Signal()
    stopRequested = Signal()
    #: Backspace in an empty composer (removes the last pending attachment).
    backspaceOnEmpty = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setPlaceholderText("Message the agent — Enter to send, Shift+Enter for a new line")
        self.setAccessibleName("Message")
        self.setAccessibleDescription(
            "Type a message; Enter sends it, Shift+Enter adds a line, "
            "Up in an empty box brings back the last message"
        )
        self.setTabChangesFocus(True)
        #: Pasted/dropped images go elsewhere (the attachment strip): `mime_handler(mime)` returns
        #: True when it took the data; `mime_probe(mime)` says whether it would.
        self.mime_handler: Callable[[QMimeData], bool] | None = None
        self.mime_probe: Callable[[QMimeData], bool] | None = None
        #: The last text sent from here: Up in an empty composer brings it back for editing.
        self.last_sent = ""
        self.document().contentsChanged.connect(self._fit_height)
        self._fit_height()

    def text(self) -> str:
        return self.toPlainText()

    def set_text(self, text: str) -> None:
        self.setPlainText(text)
        cursor = self.textCursor()
        cursor.movePosition(cursor.MoveOperation.End)
        self.setTextCursor(cursor)

    def add_block(self, text: str) -> None:
        """Add `text` after what is typed (a blank line between), for the user to review and
        edit before sending; the cursor goes to its end. One undo step takes it out again."""
        current = self.toPlainText()
        cursor = self.textCursor()
        cursor.movePosition(cursor.MoveOperation.End)
        cursor.beginEditBlock()
        if current.strip():
            newlines = len(current) - len(current.rstrip("\n"))
            cursor.insertText("\n" * max(0, 2 - newlines))
        cursor.insertText(text)
        cursor.endEditBlock()
        self.setTextCursor(cursor)
        self.setFocus()

    def clear_after_send(self) -> None:
        """Empty the composer after a send, keeping the text for Up."""
        if self.toPlainText().strip():
            self.last_sent = self.toPlainText()
        self.clear()

    def canInsertFromMimeData(self, source: QMimeData) -> bool:
        if self.mime_probe is not None and self.mime_probe(source):
            return True
        return super().canInsertFromMimeData(source)

    def insertFromMimeData(self, source: QMimeData) -> None:
        if self.mime_handler is not None and self.mime_handler(source):
            return
        super().insertFromMimeData(source)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        mods = event.modifiers()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            if mods & (Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.AltModifier):
                self.insertPlainText("\n")
            else:
                self.sendRequested.emit()
            event.accept()
            return
        if key == Qt.Key.Key_Escape:
            self.stopRequested.emit()
            event.accept()
            return
        if key == Qt.Key.Key_Up and not self.toPlainText() and self.last_sent and not mods:
            self.set_text(self.last_sent)  # like a shell: Up recalls the last message
            event.accept()
            return
        if key == Qt.Key.Key_Backspace and not self.toPlainText():
            self.backspaceOnEmpty.emit()
        super().keyPressEvent(event)

    def _fit_height(self) -> None:
        """Grow with the text between a few lines and a cap, then scroll."""
        lines = max(_MIN_LINES, min(_MAX_LINES, int(self.document().size().height()) or 1))
        line_h = self.fontMetrics().lineSpacing()
        margins = self.contentsMargins()
        frame = int(self.document().documentMargin() * 2) + margins.top() + margins.bottom()
        self.setFixedHeight(lines * line_h + frame + 4)
