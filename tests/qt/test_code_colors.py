"""Code blocks in replies, coloured by Pygments: the style's colours, plain when the language is
unknown, off the GUI thread for big blocks, dark style in the dark theme, and stale colours
never landing on a row that changed or went away."""

from __future__ import annotations

import inspect
import time

import pygments.lexers.python as python_lexer_module
import pytest
from pygments.styles import get_style_by_name
from pygments.token import Comment, Keyword, String
from PySide6.QtGui import QColor, QTextCharFormat, QTextDocument, QTextFormat

from desktop.core.letta.models import StreamChunk
from desktop.ui.style.theme import dark_palette
from desktop.ui.transcript import TextRole, TranscriptModel, TranscriptView
from desktop.ui.transcript.code_spans import DARK_STYLE, LIGHT_STYLE, MAX_LEX, lex
from tests.stall import StallMeter

from .test_transcript import _option, msg, settle

CODE_REPLY = (
    'Here is the fix:\n\n```python\ndef greet(name):\n    return "hello " + name  # say hi\n```\n'
)


def style_color(style: str, token) -> QColor:
    return QColor(f"#{get_style_by_name(style).style_for_token(token)['color']}")


def _docs(view: TranscriptView, row: int) -> list[QTextDocument]:
    layout = view.itemDelegate().row_layout(_option(view, row), view.model().index(row, 0))
    return layout.rich.documents


def _doc_with(view: TranscriptView, row: int, words: str) -> QTextDocument:
    return next(d for d in _docs(view, row) if words in d.toPlainText())


def _format_at(doc: QTextDocument, word: str, after: str = "") -> QTextCharFormat:
    """The format of the first character of `word` (the first one after `after`)."""
    start = doc.find(after).selectionStart() if after else 0
    cursor = doc.find(word, start)
    assert not cursor.isNull(), word
    cursor.setPosition(cursor.selectionStart() + 1)  # the format of the character just before
    return cursor.charFormat()


def _foreground(doc: QTextDocument, word: str, after: str = "") -> QColor | None:
    fmt = _format_at(doc, word, after)
    if not fmt.hasProperty(QTextFormat.Property.ForegroundBrush):
        return None  # plain: painted in the row's text colour
    return fmt.foreground().color()


def _coloured(view: TranscriptView, row: int, words: str, word: str) -> QColor | None:
    """The colour of `word` in or after `words` in the row's text (None: plain)."""
    return _foreground(_doc_with(view, row, words), word, words)


@pytest.fixture
def shown(qtbot, workers):
    model = TranscriptModel()
    view = TranscriptView(model, workers=workers)
    qtbot.addWidget(view)
    view.resize(700, 500)
    view.show()
    qtbot.waitExposed(view)
    yield view, model
    workers.wait()


def test_a_python_block_gets_the_pygments_style_colours(qtbot, shown):
    view, model = shown
    model.set_history([msg("a1", "assistant", CODE_REPLY)])
    settle(qtbot, view)
    keyword = style_color(LIGHT_STYLE, Keyword)
    qtbot.waitUntil(lambda: _coloured(view, 0, "def greet", "def") == keyword, timeout=5000)
    doc = _doc_with(view, 0, "def greet")
    assert _foreground(doc, '"hello "') == style_color(LIGHT_STYLE, String)
    assert _foreground(doc, "# say hi") == style_color(LIGHT_STYLE, Comment)
    assert keyword != style_color(LIGHT_STYLE, String)
    assert _foreground(doc, "greet(") is None  # a plain name keeps the text colour
    # colours are added to the code's own format (its font)
    assert _format_at(doc, "def").font() == _format_at(doc, "greet(").font()
    assert "Here is the fix:" in _docs(view, 0)[0].toPlainText()
    assert _foreground(_docs(view, 0)[0], "Here is") is None  # prose is not code
    # positions stay right after an emoji (two UTF-16 units in the document)
    model.set_history([msg("a2", "assistant", '```py\nx = "😀" + "ok"  # done\nreturn 1\n```')])
    settle(qtbot, view)
    qtbot.waitUntil(lambda: _coloured(view, 0, "return", "return") == keyword, timeout=5000)
    assert _coloured(view, 0, "x =", '"ok"') == style_color(LIGHT_STYLE, String)
    assert _coloured(view, 0, "x =", "x") is None


def test_an_unknown_language_or_no_tag_stays_plain(qtbot, shown, workers):
    view, model = shown
    text = (
        "```nosuchlanguage\ndef plain(): return 'x'  # no\n```\n\n"
        "Untagged:\n\n```\ndef untagged(): return 'y'\n```\n\n"
        "```python\ndef known(): return 'z'\n```\n"
    )
    model.set_history([msg("a1", "assistant", text)])
    settle(qtbot, view)
    keyword = style_color(LIGHT_STYLE, Keyword)
    qtbot.waitUntil(lambda: _coloured(view, 0, "def known", "def") == keyword, timeout=5000)
    workers.wait()
    settle(qtbot, view)
    for words in ("def plain", "def untagged"):
        doc = _doc_with(view, 0, words)
        for word in ("def", "return", "'"):
            assert _foreground(doc, word, words) is None, (words, word)
    # the text is all there, as sent
    shown_text = "\n".join(d.toPlainText() for d in _docs(view, 0))
    assert "def plain(): return 'x'  # no" in shown_text
    assert "def untagged(): return 'y'" in shown_text


def _big_python(chars: int) -> str:
    source = inspect.getsource(python_lexer_module)
    return (source * (chars // len(source) + 1))[:chars].rsplit("\n", 1)[0]


def test_a_big_block_is_coloured_without_stalling_the_gui(qtbot, shown):
    view, model = shown
    code = _big_python(30_000)
    assert len(code.splitlines()) < 1000  # all of it is shown (delegate.py's limits)
    model.set_history([msg("u1", "user", "show me")])
    settle(qtbot, view)
    keyword = style_color(LIGHT_STYLE, Keyword)
    last_line = code.rsplit("\n", 1)[1]
    with StallMeter() as meter:
        model.set_history([msg("a1", "assistant", f"```python\n{code}\n```\n")])
        view.doItemsLayout()
        # shown at once, plain: the colours are worked out elsewhere
        assert _coloured(view, 0, "import keyword", "import") is None
        qtbot.waitUntil(
            lambda: _coloured(view, 0, "import keyword", "import") == keyword, timeout=10_000
        )
    # Lexing 30,000 characters on the GUI thread took 65–112 ms; the row's own layout is
    # ~30 ms, and applying the colours ~15 ms: the bound is generous for a loaded machine.
    assert meter.max_stall_ms < 100, meter.max_stall_ms
    doc = _doc_with(view, 0, "import keyword")
    assert doc.toPlainText().strip() == code  # no text lost
    # coloured to the end, not only at the start
    block = doc.findBlock(doc.find(last_line.strip()).selectionStart())
    assert block.text() == last_line
    brush = QTextFormat.Property.ForegroundBrush
    assert any(part.format.hasProperty(brush) for part in block.textFormats())


def test_a_huge_block_is_lexed_only_up_to_the_cap():
    code = "x = 1  # one\n" * 160_000  # ~2 MB
    started = time.monotonic()
    spans = lex(code, "python", LIGHT_STYLE)
    assert time.monotonic() - started < 5
    assert spans.runs and max(e for _, e, _ in spans.runs) <= MAX_LEX
    assert lex("anything", "nosuchlanguage", LIGHT_STYLE).runs == ()


def test_a_huge_reply_shows_its_text_and_never_stalls(qtbot, shown):
    view, model = shown
    code = "value = compute(1, 'two')  # three\n" * 60_000  # 2 MB: the row shows the start
    keyword_less = style_color(LIGHT_STYLE, String)
    with StallMeter() as meter:
        model.set_history([msg("a1", "assistant", f"```python\n{code}```\n")])
        qtbot.waitUntil(
            lambda: _coloured(view, 0, "value", "'two'") == keyword_less, timeout=10_000
        )
    assert meter.max_stall_ms < 100, meter.max_stall_ms
    assert model.index(0, 0).data(TextRole) == f"```python\n{code}```\n"  # Copy gives all


def test_the_dark_theme_uses_the_dark_style(qtbot, shown):
    view, model = shown
    model.set_history([msg("a1", "assistant", CODE_REPLY)])
    settle(qtbot, view)
    light = style_color(LIGHT_STYLE, Keyword)
    qtbot.waitUntil(lambda: _coloured(view, 0, "def greet", "def") == light, timeout=5000)
    view.setPalette(dark_palette())
    settle(qtbot, view)
    dark = style_color(DARK_STYLE, Keyword)
    assert dark != light
    qtbot.waitUntil(lambda: _coloured(view, 0, "def greet", "def") == dark, timeout=5000)
    assert _coloured(view, 0, "def greet", '"hello "') == style_color(DARK_STYLE, String)


class HeldWorkers:
    """Workers that run each job only when the test says so (to change the row meanwhile)."""

    def __init__(self) -> None:
        self.jobs: list = []

    def submit(self, fn, *args, on_result=None, on_error=None, on_finished=None, owner=None):
        self.jobs.append((fn, args, on_result, on_finished))

    def run_next(self) -> str:
        fn, args, on_result, on_finished = self.jobs.pop(0)
        on_result(fn(*args))
        on_finished()
        return args[0]  # the code that was lexed


def test_colours_for_a_row_that_changed_or_went_away_are_dropped(qtbot):
    held = HeldWorkers()
    model = TranscriptModel()
    view = TranscriptView(model, workers=held)
    qtbot.addWidget(view)
    view.resize(700, 500)
    view.show()
    qtbot.waitExposed(view)
    recolored: list[int] = []
    view.itemDelegate().rowRecolored.connect(lambda i: recolored.append(i.row()))
    first = _big_python(3_000)  # past the size lexed at once on the GUI thread
    model.apply_chunk(StreamChunk("k", "assistant", "assistant_message", f"```python\n{first}"))
    model.flush()
    settle(qtbot, view)
    qtbot.waitUntil(lambda: len(held.jobs) == 1)
    # More of the block streams in before its colours come: they are for other text now.
    more = "\nclass Other:\n    pass\n"
    model.apply_chunk(StreamChunk("k", "assistant", "assistant_message", more + "```\n"))
    model.flush()
    settle(qtbot, view)
    assert held.run_next() == first
    qtbot.wait(10)
    assert recolored == []
    assert _coloured(view, 0, "class Other", "class") is None  # plain, not wrongly coloured
    qtbot.waitUntil(lambda: len(held.jobs) == 1)
    assert held.run_next() == first + more.rstrip("\n")
    qtbot.waitUntil(lambda: recolored == [0])
    keyword = style_color(LIGHT_STYLE, Keyword)
    assert _coloured(view, 0, "class Other", "class") == keyword
    # A row that goes away before its colours come: nothing is re-rendered.
    third = "class Gone:\n    pass\n" + first
    model.set_history([msg("a2", "assistant", f"```python\n{third}\n```\n")])
    settle(qtbot, view)
    qtbot.waitUntil(lambda: len(held.jobs) == 1)
    model.clear()
    held.run_next()
    qtbot.wait(10)
    assert recolored == [0] and model.rowCount() == 0


def test_a_streamed_block_keeps_its_colours_as_it_grows(qtbot, shown):
    view, model = shown
    code = _big_python(6_000)
    half = code[: len(code) // 2].rsplit("\n", 1)[0]
    keyword = style_color(LIGHT_STYLE, Keyword)

    def stream(text: str) -> None:
        model.apply_chunk(StreamChunk("k", "assistant", "assistant_message", text))
        model.flush()
        view.doItemsLayout()

    stream(f"Here:\n\n```python\n{half}")
    qtbot.waitUntil(lambda: _coloured(view, 0, "import keyword", "import") == keyword)
    # More arrives: what was coloured stays coloured at once (no flash of plain) …
    stream(code[len(half) :] + "\n\nclass Last:\n    pass\n")
    assert _coloured(view, 0, "import keyword", "import") == keyword
    # … and the new part is coloured when its colours come.
    qtbot.waitUntil(lambda: _coloured(view, 0, "class Last", "class") == keyword)
    stream("```\n\nDone.")
    model.finish_stream()
    settle(qtbot, view)
    assert _coloured(view, 0, "class Last", "class") == keyword
    assert _coloured(view, 0, "import keyword", "import") == keyword


def test_colours_that_arrive_while_selecting_show_in_the_selection(qtbot):
    held = HeldWorkers()
    model = TranscriptModel()
    view = TranscriptView(model, workers=held)
    qtbot.addWidget(view)
    view.resize(700, 500)
    view.show()
    qtbot.waitExposed(view)
    code = "class Chosen:\n    pass\n" + _big_python(3_000)
    model.set_history([msg("a1", "assistant", f"Look:\n\n```python\n{code}\n```\n")])
    settle(qtbot, view)
    qtbot.waitUntil(lambda: len(held.jobs) == 1)
    editor = view.open_text_selection(model.index(0, 0))
    assert editor is not None
    editor.selectAll()
    assert _foreground(editor.document(), "class", "class Chosen") is None  # plain so far
    held.run_next()
    keyword = style_color(LIGHT_STYLE, Keyword)
    qtbot.waitUntil(lambda: _foreground(editor.document(), "class", "class Chosen") == keyword)
    assert editor.textCursor().selectedText().startswith("Look:")  # the selection stays
