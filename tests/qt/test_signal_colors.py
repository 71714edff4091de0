"""The app's one error red and warning amber (desktop/ui/style/tones.py): readable as text in the
light and the dark theme, and the transcript uses the same ones."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QColor, QFont, QPalette

from desktop.ui.notice import Tone
from desktop.ui.style.theme import dark_palette, light_palette
from desktop.ui.style.tones import error_color, tone
from desktop.ui.transcript.style import Theme


def _luminance(c: QColor) -> float:
    def channel(v: float) -> float:
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(c.redF()) + 0.7152 * channel(c.greenF()) + 0.0722 * channel(c.blueF())


def contrast(a: QColor, b: QColor) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@pytest.mark.parametrize("make", [light_palette, dark_palette], ids=["light", "dark"])
def test_error_and_warning_text_is_readable_in_both_themes(qapp, make):
    palette: QPalette = make()
    for background in (QPalette.ColorRole.Window, QPalette.ColorRole.Base):
        for color in (error_color(palette), tone(palette, Tone.WARNING)):
            assert contrast(color, palette.color(background)) >= 4.5, (color.name(), background)
    theme = Theme.from_palette(palette, QFont())
    assert theme.error == error_color(palette)
    assert theme.warning == tone(palette, Tone.WARNING)


def test_the_dark_theme_has_its_own_lighter_red(qapp):
    light, dark = error_color(light_palette()), error_color(dark_palette())
    assert dark.lightnessF() > light.lightnessF()
