"""An agent's reply is untrusted text: raw HTML stays text, and no reply can freeze the window.

Each reply below froze the GUI thread for seconds when it was laid out (measured on the 2-core
test machine before the bounds: 400,000 unbroken characters 4.6 s, 20,000 nested <div>s 7.2 s, a
20,000-column table 8.7 s, 50,000 one-line paragraphs ~5 s and ~1 GB). The bound here is loose (a
loaded machine) and far below any of them.
"""

from __future__ import annotations

import pytest
from PySide6.QtGui import QColor

from desktop.ui.transcript import TextRole
from tests.stall import StallMeter

from .test_transcript import _option, msg, settle, transcript  # noqa: F401  (fixture)


def _documents_text(view, row: int) -> str:
    layout = view.itemDelegate().row_layout(_option(view, row), view.model().index(row, 0))
    return "\n".join(doc.toPlainText() for doc, _y, _h in layout.rich._placed())


def _colours(view, row: int) -> set[str]:
    layout = view.itemDelegate().row_layout(_option(view, row), view.model().index(row, 0))
    seen: set[str] = set()
    for doc, _y, _h in layout.rich._placed():
        block = doc.begin()
        while block.isValid():
            it = block.begin()
            while not it.atEnd():
                fmt = it.fragment().charFormat()
                if fmt.hasProperty(fmt.Property.ForegroundBrush):
                    seen.add(QColor(fmt.foreground().color()).name())
                it += 1
            block = block.next()
    return seen


def test_raw_html_in_a_reply_is_shown_as_the_characters_it_is(qtbot, transcript):  # noqa: F811
    view, model, _ = transcript
    text = 'Use the <br> tag. <span style="color:#ffffff">secret</span> <img src="/etc/x.png">'
    model.set_history([msg("a1", "assistant", text)])
    settle(qtbot, view)
    shown = _documents_text(view, 0)
    assert "Use the <br> tag." in shown
    assert '<span style="color:#ffffff">secret</span>' in shown
    assert "#ffffff" not in _colours(view, 0)  # nothing restyled by the reply


HOSTILE = {
    "400,000 unbroken characters": "a" * 400_000,
    "20,000 nested divs": "<div>" * 20_000 + "x" + "</div>" * 20_000,
    "a 20,000-column table": "|" + "a|" * 20_000 + "\n|" + "-|" * 20_000 + "\n|" + "b|" * 20_000,
    "50,000 one-line paragraphs": "\n\n".join(f"p{i}" for i in range(50_000)),
    "5 MB of prose": "All work and no play makes a dull reply. " * 125_000,
    "20,000 list items": "\n".join(f"- item {i}" for i in range(20_000)),
    "20,000 lines of code": "```python\n" + "x = 1  # a line\n" * 20_000 + "```",
}


@pytest.mark.parametrize("case", HOSTILE)
def test_no_reply_freezes_the_window_and_copy_still_gives_all_of_it(
    qtbot,
    transcript,  # noqa: F811
    case,
):
    view, model, _ = transcript
    text = HOSTILE[case]
    with StallMeter() as meter:
        model.set_history([msg("a1", "assistant", text)])
        settle(qtbot, view)
        view.viewport().repaint()
        qtbot.wait(20)
    shown = _documents_text(view, 0)
    assert shown.strip(), "the reply is shown"
    if len(text) > 50_000 or text.count("\n") > 1_000:
        assert "more characters not shown; Copy gives all" in shown
        assert len(shown) < 52_000
    assert model.index(0, 0).data(TextRole) == text
    assert view.copy_text([0]) == text
    if case == "50,000 one-line paragraphs":
        # A document per paragraph cost ~20 KB each (50,000: ~1 GB); paragraphs share them.
        layout = view.itemDelegate().row_layout(_option(view, 0), model.index(0, 0))
        assert len(layout.rich.documents) <= 200
    assert meter.max_stall_ms < 500, f"GUI stalled {meter.max_stall_ms:.0f} ms on {case}"
