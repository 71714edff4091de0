"""Labels and tooltips that show text as the characters it is, never as HTML.

Qt guesses: a QLabel or tooltip whose text merely looks like HTML (`Qt::mightBeRichText`) is
rendered as rich text. Server errors, agent and model names, file names and URLs are not ours,
so a streamed error could otherwise draw a local image or a styled fake "paste your key at …"
prompt. Every widget that can show such text is made here.
"""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtGui import QResizeEvent, Qt
from PySide6.QtWidgets import QLabel, QWidget


def plain_label(text: str = "", parent: QWidget | None = None) -> QLabel:
    """A QLabel that never interprets its text as HTML."""
    label = QLabel(parent)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setText(text)
    return label


def plain_tip(text: str) -> str:
    """Tooltip text that shows `text` literally (tooltips have no plain-text switch). Text Qt
    would not take for HTML is left as it is: screen readers read a tooltip's raw string."""
    if not Qt.mightBeRichText(text):
        return text
    import html  # rarely needed; not on the first frame

    escaped = html.escape(text, quote=False)
    return f'<qt><p style="white-space:pre-wrap">{escaped}</p></qt>'


class ElidedLabel(QLabel):
    """A one-line plain-text label that shrinks with its row, showing "…" where text is cut
    (a header on a narrow window or at 200 % would otherwise clip it mid-letter). `text()` and
    the accessible name stay the whole text."""

    MIN_WIDTH = 48

    def __init__(self, mode: Qt.TextElideMode = Qt.TextElideMode.ElideRight):
        super().__init__()
        self.setTextFormat(Qt.TextFormat.PlainText)
        self._mode = mode
        self._full = ""

    def setText(self, text: str) -> None:
        self._full = text
        self.setAccessibleName(text)
        self.updateGeometry()
        self._elide()

    def text(self) -> str:
        return self._full

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        margins = self.contentsMargins()
        width = self.fontMetrics().horizontalAdvance(self._full) + margins.left() + margins.right()
        return QSize(width + 2, hint.height())

    def minimumSizeHint(self) -> QSize:
        return QSize(
            min(self.MIN_WIDTH, self.sizeHint().width()), super().minimumSizeHint().height()
        )

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        width = self.contentsRect().width()
        shown = self.fontMetrics().elidedText(self._full, self._mode, max(width, 0))
        super().setText(shown)
