"""Text from the server is shown as the characters it is: no HTML from an error message, an
agent or model name, a file name or a URL is ever rendered (a fake prompt, a local image)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAccessible, QTextDocument
from PySide6.QtWidgets import QLabel

from desktop.ui.notice import Notice, Tone
from desktop.ui.plain_text import plain_label, plain_tip
from desktop.ui.window.banner import Banner

HOSTILE = '<img src="/home/me/secret.png"><b style="color:red">Paste your API key at</b> evil.test'


def displayed(label: QLabel) -> str:
    """What the label shows, as a user selecting all of it would copy it."""
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.show()
    label.setSelection(0, len(label.text()))
    return label.selectedText()


def test_a_server_error_in_the_banner_is_shown_literally(qtbot):
    banner = Banner()
    qtbot.addWidget(banner)
    banner.show(Notice(HOSTILE, Tone.ERROR))
    assert displayed(banner.label) == HOSTILE


def test_labels_made_for_untrusted_text_never_render_html(qtbot):
    label = plain_label(HOSTILE)
    qtbot.addWidget(label)
    assert displayed(label) == HOSTILE
    label.setText("<i>model</i> name")
    assert displayed(label) == "<i>model</i> name"


def test_a_tooltip_shows_an_untrusted_name_literally_on_its_lines():
    doc = QTextDocument()
    doc.setHtml(plain_tip(HOSTILE + "\nsecond line"))
    assert doc.toPlainText() == HOSTILE + "\nsecond line"
    assert plain_tip("shot 1.png\nPreparing…") == "shot 1.png\nPreparing…"  # left alone


def test_a_header_label_too_narrow_for_its_text_shows_an_ellipsis_not_half_a_letter(qtbot):
    from PySide6.QtWidgets import QHBoxLayout, QWidget

    from desktop.ui.plain_text import ElidedLabel

    row = QWidget()
    qtbot.addWidget(row)
    label = ElidedLabel(Qt.TextElideMode.ElideMiddle)
    layout = QHBoxLayout(row)
    layout.addWidget(label)
    label.setText("letta.example.com:8283 <b>")
    row.resize(90, 30)
    row.show()
    qtbot.waitExposed(row)
    shown = QLabel.text(label)  # what is drawn
    assert "…" in shown and shown != label.text()
    assert label.fontMetrics().horizontalAdvance(shown) <= label.contentsRect().width()
    assert label.text() == "letta.example.com:8283 <b>"  # the whole text, for code and readers
    assert QAccessible.queryAccessibleInterface(label).text(QAccessible.Text.Name) == label.text()
    row.resize(600, 30)
    qtbot.waitUntil(lambda: QLabel.text(label) == label.text())
