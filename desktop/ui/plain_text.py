"""Labels and tooltips that show text as the characters it is, never as HTML.

Qt guesses: a QLabel or tooltip whose text merely looks like HTML (`Qt::mightBeRichText`) is
rendered as rich text. Server errors, agent and model names, file names and URLs are not ours,
so a streamed error could otherwise draw a local image or a styled fake "paste your key at …"
prompt. Every widget that can show such text is made here.
"""

from __future__ import annotations

import html

from PySide6.QtGui import Qt
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
    escaped = html.escape(text, quote=False)
    return f'<qt><p style="white-space:pre-wrap">{escaped}</p></qt>'
