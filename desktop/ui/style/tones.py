"""The app's signal colours (one per `Tone`) and the one colour blend, derived from the palette
so they suit light and dark schemes alike. Banners, the capability badge, the transcript and the
attachment chips all take their error red (and the rest) from here."""

from __future__ import annotations

from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QPainter, QPalette
from PySide6.QtWidgets import QWidget

from desktop.ui.notice import Tone

# The signal colour of each tone, for a light and for a dark background (INFO: the accent).
_TONES = {
    Tone.ERROR: ("#c62828", "#ef6b6b"),
    Tone.WARNING: ("#9a5b00", "#e5a54b"),  # 4.7:1 on the light window: readable as small text
    Tone.OK: ("#2e7d32", "#6cc070"),
}


def is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Window).lightnessF() < 0.5


def blend(a: QColor, b: QColor, t: float) -> QColor:
    """`a` moved a fraction `t` towards `b`."""
    return QColor.fromRgbF(
        a.redF() + (b.redF() - a.redF()) * t,
        a.greenF() + (b.greenF() - a.greenF()) * t,
        a.blueF() + (b.blueF() - a.blueF()) * t,
    )


def tone(palette: QPalette, level: Tone) -> QColor:
    """The level's signal colour for this palette's scheme; INFO is the palette's accent."""
    if level in _TONES:
        return QColor(_TONES[level][1 if is_dark(palette) else 0])
    return QColor(palette.color(QPalette.ColorRole.Accent))


def error_color(palette: QPalette) -> QColor:
    """The red of errors and problems, readable on this palette (light or dark)."""
    return tone(palette, Tone.ERROR)


def surface(palette: QPalette, level: Tone) -> tuple[QColor, QColor, QColor]:
    """(background, text, border) of a notice of `level` on this palette."""
    base = palette.color(QPalette.ColorRole.Window)
    signal = tone(palette, level)
    dark = is_dark(palette)
    background = blend(base, signal, 0.22 if dark else 0.12)
    border = blend(base, signal, 0.55 if dark else 0.40)
    text = palette.color(QPalette.ColorRole.WindowText)
    return background, text, border


def paint_surface(widget: QWidget, level: Tone, radius: float = 8.0) -> None:
    """Paint a rounded notice background for `level` over the whole widget."""
    background, _text, border = surface(widget.palette(), level)
    painter = QPainter(widget)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(border)
    painter.setBrush(background)
    painter.drawRoundedRect(QRectF(widget.rect()).adjusted(0.5, 0.5, -0.5, -0.5), radius, radius)
    painter.end()
