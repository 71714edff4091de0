"""What an empty transcript shows — one muted line in its middle — and the stand-in widget
the first frame shows in the transcript's place.

The real transcript (view, model, history thumbnails, their styles: ~15 ms of imports and
set-up on the 2-core machine, a tenth of a launch) is built right after the first frame and
swapped in (MainWindow.complete). Until then nothing can fill it: history loads only once a
client exists, after that swap. The stand-in paints what the empty view paints, with the same
font, colour and background, so the swap shows no change.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QWidget

from desktop.ui.style.tones import blend

EMPTY_TEXT = "No messages yet"


def small_font(font: QFont) -> QFont:
    """The transcript's small print: names, dates, notes, this line."""
    small = QFont(font)
    small.setPointSizeF(max(7.0, font.pointSizeF() * 0.9))
    return small


def muted_color(palette: QPalette) -> QColor:
    """Text that should be readable but step back: the text colour part-way to the background."""
    role = QPalette.ColorRole
    return blend(palette.color(role.Text), palette.color(role.Base), 0.45)


def paint_note(painter: QPainter, rect: QRect, palette: QPalette, font: QFont, words: str) -> None:
    """`words` centred in `rect`, small and muted."""
    painter.setFont(small_font(font))
    painter.setPen(muted_color(palette))
    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, words)


class TranscriptPlaceholder(QWidget):
    """The empty transcript of the first frame: its background and its one line, nothing else
    (no focus, no scroll bar: an empty transcript has neither to offer)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setBackgroundRole(QPalette.ColorRole.Base)
        self.setAutoFillBackground(True)
        self.setAccessibleName("Conversation")

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        paint_note(painter, self.rect(), self.palette(), self.font(), EMPTY_TEXT)
        painter.end()
