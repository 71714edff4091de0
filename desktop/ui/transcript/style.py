"""Colours, fonts and spacing of the transcript, all derived from the palette (light/dark aware)."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QColor, QFont, QFontDatabase, QPalette

from desktop.ui.notice import Tone
from desktop.ui.style.tones import blend, error_color, tone
from desktop.ui.transcript.code_spans import style_name
from desktop.ui.transcript.placeholder import muted_color, small_font

SIDE = 16  # margin left and right of the message column
COLUMN_MAX = 820  # wider lines are hard to read: the column stays centred
BUBBLE_PAD_X, BUBBLE_PAD_Y, BUBBLE_RADIUS = 14, 9, 16
BUBBLE_MAX_FRACTION = 0.8
THUMB_W, THUMB_H, THUMB_GAP = 148, 112, 6
PANEL_PAD = 10


@dataclass(frozen=True)
class Theme:
    text: QColor
    muted: QColor
    base: QColor
    accent: QColor
    bubble: QColor
    panel: QColor
    code: QColor
    error: QColor
    warning: QColor
    link: QColor
    selection: QColor
    code_style: str  # the Pygments style of code blocks
    font: QFont
    small: QFont
    mono: QFont

    @classmethod
    def from_palette(cls, palette: QPalette, font: QFont) -> Theme:
        role = QPalette.ColorRole
        text, base = palette.color(role.Text), palette.color(role.Base)
        dark = base.lightnessF() < 0.5
        accent = palette.color(role.Accent)
        small = small_font(font)
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        mono.setPointSizeF(small.pointSizeF())
        selection = QColor(palette.color(role.Highlight))
        selection.setAlphaF(0.14)
        return cls(
            text=text,
            muted=muted_color(palette),
            base=base,
            accent=accent,
            bubble=blend(base, accent, 0.30 if dark else 0.16),
            panel=blend(base, text, 0.05),
            code=blend(base, text, 0.08 if dark else 0.06),
            error=error_color(palette),
            warning=tone(palette, Tone.WARNING),
            link=palette.color(role.Link),
            selection=selection,
            code_style=style_name(dark),
            font=QFont(font),
            small=small,
            mono=mono,
        )
