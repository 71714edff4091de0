"""Selecting part of a message's text, as a user does it: drag, double-click, F2/Enter, copy."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, QRect, Qt
from PySide6.QtGui import (
    QAction,
    QColor,
    QContextMenuEvent,
    QDesktopServices,
    QFocusEvent,
    QFont,
    QFontMetricsF,
    QGuiApplication,
    QImage,
    QKeySequence,
    QTextCursor,
    QTextDocument,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QLineEdit,
    QMenu,
    QVBoxLayout,
    QWidget,
)

from desktop.core.letta.models import StreamChunk
from desktop.ui.notice import Tone
from desktop.ui.transcript import CollapsedRole, RowState, TranscriptModel, TranscriptView
from desktop.ui.transcript import view as view_module
from desktop.ui.transcript.richtext import DocStyle, RichText
from desktop.ui.transcript.selection import ACCESSIBLE_NAME, MirrorDocument, SelectableText
from desktop.ui.transcript.view import TRANSCRIPT_KEYS

from .test_transcript import CODE_REPLY, _option, chat, msg, row_rect, settle

REPLY = "The answer is **forty two**, give or take.\n\nA second paragraph with more words."


@pytest.fixture
def view(qtbot):
    model = TranscriptModel()
    view = TranscriptView(model)
    qtbot.addWidget(view)
    view.resize(700, 500)
    view.show()
    qtbot.waitExposed(view)
    yield view
    view.close_text_selection()
    qtbot.wait(1)  # the closed editor is deleted later


def model_of(view: TranscriptView) -> TranscriptModel:
    model = view.transcript_model()
    assert model is not None
    return model


def editors(view: TranscriptView) -> list[SelectableText]:
    return [w for w in view.viewport().findChildren(SelectableText) if w.isVisible()]


def word_point(view: TranscriptView, row: int, word: str, end: bool = False) -> QPoint:
    """Where the row paints the first (end=False) or last character of `word`, viewport
    coordinates, a pixel inside it."""
    index = model_of(view).index(row, 0)
    layout = view.itemDelegate().row_layout(_option(view, row), index)
    for doc, y, _h in layout.rich._placed():
        found = doc.find(word)
        if found.isNull():
            continue
        pos = found.selectionEnd() if end else found.selectionStart()
        block = doc.findBlock(pos)
        line = block.layout().lineForTextPosition(pos - block.position())
        x = line.cursorToX(pos - block.position())[0] + (-1.5 if end else 1.5)
        box = doc.documentLayout().blockBoundingRect(block)
        point = layout.text_pos + QPointF(box.left() + x, y + box.top() + line.y() + 3)
        return row_rect(view, row).topLeft() + point.toPoint()
    raise AssertionError(f"{word!r} not in row {row}")


def select_in(editor: SelectableText, text: str) -> None:
    cursor = editor.document().find(text)
    assert not cursor.isNull()
    editor.setTextCursor(cursor)


def history(view: TranscriptView, qtbot, *messages) -> TranscriptModel:
    model = model_of(view)
    model.set_history(list(messages))
    settle(qtbot, view)
    return model


def test_f2_opens_one_read_only_selectable_editor_over_the_row_text(qtbot, view):
    model = history(view, qtbot, msg("u1", "user", "hello"), msg("a1", "assistant", REPLY))
    view.setFocus()
    view.setCurrentIndex(model.index(1, 0))
    qtbot.keyClick(view, Qt.Key.Key_F2)
    (editor,) = editors(view)
    assert editor.hasFocus()
    assert editor.isReadOnly()
    flags = editor.textInteractionFlags()
    assert flags & Qt.TextInteractionFlag.TextSelectableByMouse
    assert flags & Qt.TextInteractionFlag.TextSelectableByKeyboard
    assert not flags & Qt.TextInteractionFlag.TextEditable
    # the text as shown (Markdown rendered), laid out where the row paints it
    assert editor.toPlainText() == (
        "The answer is forty two, give or take.\nA second paragraph with more words."
    )
    row = row_rect(view, 1)
    assert row.contains(editor.geometry())
    text = view.itemDelegate().text_rect(_option(view, 1), model.index(1, 0))
    assert editor.geometry().topLeft() == text.topLeft().toPoint()
    assert abs(editor.width() - text.width()) < 1
    assert abs(editor.document().size().height() - text.height()) < 1
    assert editor.verticalScrollBar().maximum() == 0  # never scrolls inside itself
    assert editor.accessibleName() == ACCESSIBLE_NAME == "Message text, selectable"
    assert "Agent" in editor.accessibleDescription()
    assert "Esc" in editor.accessibleDescription()
    # typing changes nothing
    qtbot.keyClicks(editor, "xyz")
    assert "xyz" not in editor.toPlainText()
    assert model.index(1, 0).data(TranscriptModel.TextRole) == REPLY
    # F2 again on the other row: still only one editor
    view.setCurrentIndex(model.index(0, 0))
    assert editors(view) == []
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_F2)
    (other,) = editors(view)
    assert other.toPlainText() == "hello"
    assert len(view.viewport().findChildren(SelectableText)) <= 2  # the old one is deleted later
    qtbot.wait(1)
    assert view.viewport().findChildren(SelectableText) == [other]


def test_selecting_part_and_copying_gives_exactly_that_text(qtbot, view):
    model = history(view, qtbot, msg("a1", "assistant", REPLY))
    editor = view.open_text_selection(model.index(0, 0))
    assert editor is not None
    QGuiApplication.clipboard().setText("before")
    select_in(editor, "forty tw")
    qtbot.keyClick(editor, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QGuiApplication.clipboard().text() == "forty tw"
    mime = QGuiApplication.clipboard().mimeData()
    assert mime.hasHtml() and "forty tw" in mime.html() and "font-weight" in mime.html()
    # across the two paragraphs: a blank line between them, as they are shown apart
    cursor = editor.document().find("take.")
    end = editor.document().find("A second")
    cursor.setPosition(end.selectionEnd(), QTextCursor.MoveMode.KeepAnchor)
    editor.setTextCursor(cursor)
    qtbot.keyClick(editor, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QGuiApplication.clipboard().text() == "take.\n\nA second"
    # Ctrl+A selects this message only
    qtbot.keyClick(editor, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(editor, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QGuiApplication.clipboard().text() == (
        "The answer is forty two, give or take.\n\nA second paragraph with more words."
    )
    # nothing selected: Ctrl+C copies the whole message, as on the list
    editor.setTextCursor(QTextCursor(editor.document()))
    qtbot.keyClick(editor, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QGuiApplication.clipboard().text() == REPLY


def test_shift_arrows_select_from_the_keyboard(qtbot, view):
    model = history(view, qtbot, msg("u1", "user", "pick these words please"))
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Up)
    qtbot.keyClick(view, Qt.Key.Key_Return)  # Enter on a message that does not fold
    (editor,) = editors(view)
    assert editor.hasFocus() and view.currentIndex() == model.index(0, 0)
    qtbot.keyClick(editor, Qt.Key.Key_Right, Qt.KeyboardModifier.ControlModifier)
    for _ in range(len("these words")):
        qtbot.keyClick(editor, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClick(editor, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QGuiApplication.clipboard().text() == "these words"


def test_esc_closes_and_gives_focus_back_to_the_same_row(qtbot, view):
    model = history(view, qtbot, *chat(3))
    # the window's own Esc (Stop reply) must not fire while Esc leaves the selection
    stopped: list[bool] = []
    stop = QAction("Stop reply", view, shortcut=QKeySequence(Qt.Key.Key_Escape))
    stop.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    stop.triggered.connect(lambda: stopped.append(True))
    view.addAction(stop)
    view.setFocus()
    view.setCurrentIndex(model.index(3, 0))
    qtbot.keyClick(view, Qt.Key.Key_F2)
    (editor,) = editors(view)
    select_in(editor, "answer")
    qtbot.keyClick(editor, Qt.Key.Key_Escape)
    assert editors(view) == []
    assert view.hasFocus()
    assert view.currentIndex() == model.index(3, 0)
    assert stopped == []
    qtbot.wait(1)
    assert view.viewport().findChildren(SelectableText) == []
    # back on the list, the keys work as before
    qtbot.keyClick(view, Qt.Key.Key_Up)
    assert view.currentIndex().row() == 2
    qtbot.keyClick(view, Qt.Key.Key_Escape)  # now it is the window's
    assert stopped == [True]


def test_focus_leaving_closes_it(qtbot):
    window = QWidget()
    qtbot.addWidget(window)
    view = TranscriptView(TranscriptModel())
    other = QLineEdit()
    box = QVBoxLayout(window)
    box.addWidget(view)
    box.addWidget(other)
    window.resize(600, 500)
    window.show()
    qtbot.waitExposed(window)
    model = history(view, qtbot, msg("a1", "assistant", REPLY))
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Up)
    qtbot.keyClick(view, Qt.Key.Key_F2)
    (editor,) = editors(view)
    assert editor.hasFocus()
    qtbot.keyClick(editor, Qt.Key.Key_Tab)  # Tab moves on, as everywhere
    assert editors(view) == []
    assert view.currentIndex() == model.index(0, 0)
    view.open_text_selection(model.index(0, 0))
    other.setFocus()
    assert editors(view) == []
    assert other.hasFocus()
    qtbot.wait(1)


def test_mouse_drag_over_text_selects_it(qtbot, view):
    model = history(view, qtbot, msg("u1", "user", "hello"), msg("a1", "assistant", REPLY))
    start = word_point(view, 1, "forty")
    end = word_point(view, 1, "two", end=True)
    vp = view.viewport()
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(vp, start + QPoint(4, 0))
    qtbot.mouseMove(vp, end)
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=end)
    (editor,) = editors(view)
    assert editor.textCursor().selectedText() == "forty two"
    assert editor.hasFocus()
    assert view.currentIndex() == model.index(1, 0)
    assert view.selectionModel().selectedRows() == [model.index(1, 0)]  # no row drag-select
    qtbot.keyClick(editor, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QGuiApplication.clipboard().text() == "forty two"
    # a plain click elsewhere in the list closes it; a click on another row moves there
    qtbot.mouseClick(vp, Qt.MouseButton.LeftButton, pos=row_rect(view, 0).center())
    assert editors(view) == []
    assert view.currentIndex() == model.index(0, 0)


def test_drag_into_the_next_row_keeps_selecting_in_the_first(qtbot, view):
    model = history(view, qtbot, msg("a1", "assistant", REPLY), msg("u1", "user", "hello"))
    start = word_point(view, 0, "more")
    below = row_rect(view, 1).center()
    vp = view.viewport()
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(vp, start + QPoint(10, 0))
    qtbot.mouseMove(vp, below)
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=below)
    (editor,) = editors(view)
    assert editor.textCursor().selectedText().startswith("more words")
    assert view.currentIndex() == model.index(0, 0)


def test_a_click_on_text_is_still_a_click(qtbot, view):
    model = history(view, qtbot, msg("u1", "user", "hello"), msg("a1", "assistant", REPLY))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=word_point(view, 1, "answer"))
    assert editors(view) == []
    assert view.currentIndex() == model.index(1, 0)


def test_double_click_selects_a_word(qtbot, view):
    history(view, qtbot, msg("a1", "assistant", REPLY))
    spot = word_point(view, 0, "paragraph") + QPoint(6, 0)
    vp = view.viewport()
    qtbot.mouseClick(vp, Qt.MouseButton.LeftButton, pos=spot)
    qtbot.mouseDClick(vp, Qt.MouseButton.LeftButton, pos=spot)
    (editor,) = editors(view)
    assert editor.textCursor().selectedText() == "paragraph"
    qtbot.keyClick(editor, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QGuiApplication.clipboard().text() == "paragraph"


def _channel_diff(a: QImage, b: QImage, x: int, y: int) -> int:
    pa, pb = a.pixelColor(x, y), b.pixelColor(x, y)
    return max(abs(pa.red() - pb.red()), abs(pa.green() - pb.green()), abs(pa.blue() - pb.blue()))


def test_the_editor_paints_the_text_exactly_where_the_row_did(qtbot, view):
    reply = (
        CODE_REPLY + "\n\nWith a [link](https://example.com), *more* and a list:\n\n- one\n- two"
    )
    model = history(
        view,
        qtbot,
        msg("u1", "user", "a question that is long enough to wrap in its bubble " * 3),
        msg("r1", "reasoning", "thinking hard\n\nabout it"),
        msg("a1", "assistant", reply),
    )
    model.setData(model.index(1, 0), False, CollapsedRole)
    settle(qtbot, view)
    for row in range(3):
        view.setCurrentIndex(model.index(row, 0))
        qtbot.wait(1)
        before = view.viewport().grab().toImage()
        editor = view.open_text_selection(model.index(row, 0), focus=False)
        assert editor is not None
        qtbot.wait(1)
        after = view.viewport().grab().toImage()
        rect = editor.geometry()
        assert row_rect(view, row).contains(rect)
        diffs = [
            _channel_diff(before, after, x, y)
            for y in range(rect.top(), rect.bottom() + 1)
            for x in range(rect.left(), rect.right() + 1)
        ]
        if row < 2:  # plain text: the very same pixels
            assert max(diffs) == 0, row
        else:
            # Markdown: one document instead of stacked ones puts boxes and bullets a few
            # hundredths of a pixel apart (faint edge shading); any glyph moved by even one
            # pixel would change hundreds of pixels a lot
            assert sum(d > 24 for d in diffs) <= 40
            assert sum(d > 8 for d in diffs) <= 120
        view.close_text_selection()


def test_code_copy_buttons_and_links_still_work_over_the_editor(qtbot, view, monkeypatch):
    opened: list[str] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url.toString()))
    text = CODE_REPLY + "\n\nSee [the docs](https://example.org/docs)."
    model = history(view, qtbot, msg("a1", "assistant", text))
    editor = view.open_text_selection(model.index(0, 0))
    assert editor is not None
    layout = view.itemDelegate().row_layout(_option(view, 0), model.index(0, 0))
    button = layout.code_buttons[1][0].center().toPoint() + row_rect(view, 0).topLeft()
    assert editor.geometry().contains(button)  # the button is drawn over the editor's area
    editor.grab()  # it paints the buttons above the text without warnings
    QGuiApplication.clipboard().setText("before")
    qtbot.mouseClick(editor.viewport(), Qt.MouseButton.LeftButton, pos=button - editor.pos())
    assert QGuiApplication.clipboard().text() == "echo 42"
    assert editors(view) == [editor]  # still selecting
    link = word_point(view, 0, "docs") - editor.pos()
    qtbot.mouseClick(editor.viewport(), Qt.MouseButton.LeftButton, pos=link)
    assert opened == ["https://example.org/docs"]


def test_the_editor_never_loads_resources(qtbot, view):
    model = history(view, qtbot, msg("a1", "assistant", "![x](https://example.com/x.png) hi"))
    editor = view.open_text_selection(model.index(0, 0))
    assert editor is not None
    url = "https://example.com/x.png"
    from PySide6.QtCore import QUrl

    for kind in (QTextDocument.ResourceType.ImageResource, QTextDocument.ResourceType.HtmlResource):
        assert editor.loadResource(int(kind.value), QUrl(url)) is None
        assert editor.document().loadResource(int(kind.value), QUrl(url)) is None
    assert "[image: example.com]" in editor.toPlainText()


def test_f2_on_a_folded_row_unfolds_it_and_space_still_folds(qtbot, view):
    model = history(
        view,
        qtbot,
        msg("r1", "reasoning", "the user greets me"),
        msg("s1", "tool_call", '{"x": 1}', tool_name="lookup", tool_call_id="c1"),
    )
    view.setFocus()
    view.setCurrentIndex(model.index(0, 0))
    qtbot.keyClick(view, Qt.Key.Key_Space)  # unchanged: Space folds
    assert model.index(0, 0).data(CollapsedRole) is False
    qtbot.keyClick(view, Qt.Key.Key_Return)
    assert model.index(0, 0).data(CollapsedRole) is True  # Enter folds a foldable row
    assert editors(view) == []
    qtbot.keyClick(view, Qt.Key.Key_F2)
    assert model.index(0, 0).data(CollapsedRole) is False
    (editor,) = editors(view)
    assert editor.toPlainText() == "the user greets me"
    settle(qtbot, view)
    assert row_rect(view, 0).contains(editor.geometry())
    qtbot.keyClick(editor, Qt.Key.Key_Escape)
    # folding the row from elsewhere closes the editor
    view.open_text_selection(model.index(0, 0))
    model.setData(model.index(0, 0), True, CollapsedRole)
    assert editors(view) == []
    # a pretty-printed tool call: its shown text is what is selected
    view.setCurrentIndex(model.index(1, 0))
    qtbot.keyClick(view, Qt.Key.Key_F2)
    (editor,) = editors(view)
    assert editor.toPlainText() == '{\n  "x": 1\n}'


def test_rows_without_text_have_no_editor(qtbot, view):
    model = model_of(view)
    model.add_notice("Connected", Tone.INFO)
    model.apply_chunk(StreamChunk("k", "assistant", "assistant_message", ""))
    settle(qtbot, view)
    view.setFocus()
    for row in range(model.rowCount()):
        view.setCurrentIndex(model.index(row, 0))
        qtbot.keyClick(view, Qt.Key.Key_F2)
        assert editors(view) == []
    model.finish_stream()


def test_a_streaming_reply_updates_the_open_editor_and_keeps_the_selection(qtbot, view):
    model = history(view, qtbot, msg("u1", "user", "tell me"))
    key = "assistant_message:r"
    model.apply_chunk(StreamChunk(key, "assistant", "assistant_message", "First words arrive"))
    model.flush()
    settle(qtbot, view)
    editor = view.open_text_selection(model.index(1, 0))
    assert editor is not None
    select_in(editor, "words")
    height = editor.height()
    for i in range(30):
        model.apply_chunk(
            StreamChunk(key, "assistant", "assistant_message", f"\n\nparagraph {i} **bold**")
        )
        model.flush()
    # no forced layout: the list re-lays out the growing row by itself, editor and all
    qtbot.waitUntil(lambda: editor.height() > height * 10, timeout=2000)
    assert editors(view) == [editor]
    assert editor.toPlainText().endswith("paragraph 29 bold")
    assert editor.textCursor().selectedText() == "words"
    qtbot.waitUntil(lambda: row_rect(view, 1).contains(editor.geometry()), timeout=2000)
    text = view.itemDelegate().text_rect(_option(view, 1), model.index(1, 0))
    assert abs(editor.document().size().height() - text.height()) < 1
    model.finish_stream()
    settle(qtbot, view)
    assert editors(view) == [editor]
    # the history reloads: the editor goes, nothing breaks
    model.set_history([msg("u1", "user", "tell me")])
    assert editors(view) == []
    settle(qtbot, view)
    view.grab()


def test_removing_the_row_closes_the_editor(qtbot, view):
    model = history(view, qtbot, *chat(1))
    model.add_local_user("otid-1", "unsent words", [])
    model.set_user_state("otid-1", RowState.FAILED, "offline")
    settle(qtbot, view)
    assert view.open_text_selection(model.index(2, 0)) is not None
    model.remove_local_user("otid-1")
    assert editors(view) == []
    view.grab()


def test_wheel_over_the_editor_scrolls_the_list(qtbot, view):
    model = history(view, qtbot, *chat(20))
    bar = view.verticalScrollBar()
    row = next(
        r
        for r in range(model.rowCount() - 1, 0, -1)
        if view.viewport().rect().contains(row_rect(view, r))
    )
    editor = view.open_text_selection(model.index(row, 0))
    assert editor is not None
    value = bar.value()
    pos = QPointF(editor.viewport().rect().center())
    event = QWheelEvent(
        pos,
        QPointF(editor.viewport().mapToGlobal(pos.toPoint())),
        QPoint(0, 0),
        QPoint(0, 120),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(editor.viewport(), event)
    assert bar.value() < value
    assert row_rect(view, row).contains(editor.geometry())  # it moved with its row


def test_hover_timestamp_and_the_keys_table(qtbot, view):
    model = history(view, qtbot, msg("a1", "assistant", "hi", date="2024-05-01T10:00:00Z"))
    editor = view.open_text_selection(model.index(0, 0))
    assert editor is not None
    assert editor.toolTip() == model.index(0, 0).data(Qt.ItemDataRole.ToolTipRole)
    keys = dict(TRANSCRIPT_KEYS)
    assert keys["Select text in the current message"].startswith("F2")
    assert all(what and how for what, how in TRANSCRIPT_KEYS)


def test_editor_rect_is_inside_the_row_at_any_width(qtbot, view):
    model = history(view, qtbot, msg("u1", "user", "short"), msg("a1", "assistant", REPLY))
    for width in (300, 451, 700, 1001):
        view.resize(width, 500)
        settle(qtbot, view)
        for row in (0, 1):
            editor = view.open_text_selection(model.index(row, 0))
            assert editor is not None
            settle(qtbot, view)
            rect: QRect = editor.geometry()
            assert row_rect(view, row).contains(rect), (width, row)
            assert editor.verticalScrollBar().maximum() == 0
            view.close_text_selection()


LONG = "\n\n".join(f"Paragraph {i} of a long reply." for i in range(60))


def test_dragging_past_the_bottom_scrolls_the_list_and_keeps_selecting(qtbot, view):
    model = history(view, qtbot, msg("u1", "user", "go on"), msg("a1", "assistant", LONG))
    view.scrollTo(model.index(1, 0), QAbstractItemView.ScrollHint.PositionAtTop)
    bar = view.verticalScrollBar()
    value = bar.value()
    vp = view.viewport()
    start = word_point(view, 1, "Paragraph 1 ")
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(vp, start + QPoint(10, 0))
    below = QPoint(start.x(), vp.height() + 40)
    qtbot.mouseMove(vp, below)
    qtbot.waitUntil(lambda: bar.value() > value + 300, timeout=3000)
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=below)
    assert not view._drag_scroll.isActive()
    (editor,) = editors(view)
    selected = editor.textCursor().selectedText()
    assert selected.startswith("Paragraph 1 of")
    assert "Paragraph 12 of" in selected
    scrolled = bar.value()
    qtbot.wait(3 * 30)
    assert bar.value() == scrolled  # stopped with the mouse button


def test_keyboard_selection_scrolls_a_tall_message_into_view(qtbot, view):
    model = history(view, qtbot, msg("u1", "user", "go on"), msg("a1", "assistant", LONG))
    view.scrollTo(model.index(1, 0), QAbstractItemView.ScrollHint.PositionAtTop)
    bar = view.verticalScrollBar()
    value = bar.value()
    view.setFocus()
    view.setCurrentIndex(model.index(1, 0))
    qtbot.keyClick(view, Qt.Key.Key_F2)
    (editor,) = editors(view)
    mods = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    qtbot.keyClick(editor, Qt.Key.Key_End, mods)
    assert bar.value() > value
    caret = editor.viewport().mapTo(view.viewport(), editor.cursorRect().center())
    assert view.viewport().rect().contains(caret)
    qtbot.keyClick(editor, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    copied = QGuiApplication.clipboard().text()
    assert copied.startswith("Paragraph 0 of") and copied.endswith("Paragraph 59 of a long reply.")
    assert "reply.\n\nParagraph 1 of" in copied


def test_switching_windows_keeps_the_selection(qtbot, view):
    model = history(view, qtbot, msg("a1", "assistant", REPLY))
    view.activateWindow()
    qtbot.waitActive(view)
    editor = view.open_text_selection(model.index(0, 0))
    assert editor is not None and editor.hasFocus()
    select_in(editor, "forty")
    other = QWidget()
    qtbot.addWidget(other)
    other.show()
    other.activateWindow()
    qtbot.waitActive(other)
    assert editors(view) == [editor]
    view.activateWindow()
    qtbot.waitActive(view)
    assert editor.hasFocus()
    assert editor.textCursor().selectedText() == "forty"
    # a context menu opening over it does not end it either
    QApplication.sendEvent(
        editor, QFocusEvent(QEvent.Type.FocusOut, Qt.FocusReason.PopupFocusReason)
    )
    assert editors(view) == [editor]


def test_context_menu_offers_select_text(qtbot, view, monkeypatch):
    model = history(view, qtbot, msg("u1", "user", "hello"), msg("a1", "assistant", REPLY))
    offered: list[list[str]] = []

    class ChoosingMenu(QMenu):
        def exec(self, *_args):  # instead of showing it: the user picks "Select text"
            actions = {a.text(): a for a in self.actions()}
            offered.append(list(actions))
            actions["Select text"].trigger()

    monkeypatch.setattr(view_module, "QMenu", ChoosingMenu)
    pos = word_point(view, 1, "answer")
    event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos, view.viewport().mapToGlobal(pos))
    QApplication.sendEvent(view.viewport(), event)
    assert offered == [["Copy text", "Select text"]]
    (editor,) = editors(view)
    assert editor.hasFocus()
    assert view.currentIndex() == model.index(1, 0)


def test_mouse_pointer_shows_what_a_press_would_do(qtbot, view):
    history(view, qtbot, msg("a1", "assistant", CODE_REPLY))
    vp = view.viewport()
    qtbot.mouseMove(vp, word_point(view, 0, "fix"))
    assert vp.cursor().shape() == Qt.CursorShape.IBeamCursor
    layout = view.itemDelegate().row_layout(_option(view, 0), view.model().index(0, 0))
    button = layout.code_buttons[0][0].center().toPoint() + row_rect(view, 0).topLeft()
    qtbot.mouseMove(vp, button)
    assert vp.cursor().shape() == Qt.CursorShape.PointingHandCursor
    qtbot.mouseMove(vp, QPoint(2, row_rect(view, 0).bottom() - 1))
    assert vp.cursor().shape() == Qt.CursorShape.ArrowCursor
    # the same over the open editor
    editor = view.open_text_selection(view.model().index(0, 0))
    assert editor is not None
    for spot, shape in (
        (word_point(view, 0, "fix"), Qt.CursorShape.IBeamCursor),
        (button, Qt.CursorShape.PointingHandCursor),
        (word_point(view, 0, "shell"), Qt.CursorShape.IBeamCursor),
    ):
        qtbot.mouseMove(editor.viewport(), spot - editor.pos())
        assert editor.viewport().cursor().shape() == shape


def _shape(doc: QTextDocument) -> list[tuple]:
    out = []
    block = doc.begin()
    while block.isValid():
        fmt = block.blockFormat()
        top = doc.documentLayout().blockBoundingRect(block).top()
        listed = block.textList() is not None
        out.append((block.text(), fmt.topMargin(), fmt.bottomMargin(), listed, round(top, 1)))
        block = block.next()
    return out


def test_the_copy_of_a_streaming_reply_matches_a_fresh_one(qtbot):
    font = QFont()
    style = DocStyle(font, QColor("#eee"), QColor("#22e"), True)
    gap = QFontMetricsF(font).height() * 0.6
    text = CODE_REPLY + "\n\n> quoted\n\n1. one\n2. two\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\nend"
    streamed, fresh = RichText(style, gap), RichText(style, gap)
    streamed.set_width(400)
    fresh.set_width(400)
    grown = MirrorDocument()
    for n in range(1, len(text) + 1, 5):
        streamed.set_text(text[:n])
        grown.sync(streamed)
    streamed.set_text(text)
    grown.sync(streamed)
    fresh.set_text(text)
    copy = MirrorDocument()
    copy.sync(fresh)
    for doc in (grown, copy):
        doc.setTextWidth(400)
    assert _shape(grown) == _shape(copy)
    assert abs(grown.size().height() - fresh.height()) < 0.5
    cursor = QTextCursor(copy)
    cursor.select(QTextCursor.SelectionType.Document)
    assert copy.plain_text(cursor) == (
        "Here is the fix:\n\n"
        'def greet(name):\n    return "hello " + name  # say hi\n\n'
        "And in the shell:\n\necho 42\n\nquoted\n\none\ntwo\n\na\tb\n1\t2\n\nend"
    )


_COPY_THEN_QUIT = """
import sys
from PySide6.QtWidgets import QApplication
from PySide6.QtGui import QGuiApplication
from desktop.core.letta.models import Message
from desktop.ui.transcript import TranscriptModel, TranscriptView

app = QApplication(sys.argv)
model = TranscriptModel()
view = TranscriptView(model)
view.show()
model.set_history([Message(id="a", kind="assistant", message_type="assistant_message",
                           text="hello **there** friend")])
app.processEvents()
editor = view.open_text_selection(model.index(0, 0))
editor.setTextCursor(editor.document().find("there"))
editor.copy()
app.processEvents()
print(QGuiApplication.clipboard().text())
"""


def test_quitting_with_copied_text_on_the_clipboard_does_not_crash():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    out = subprocess.run(
        [sys.executable, "-c", _COPY_THEN_QUIT],
        capture_output=True,
        text=True,
        cwd=root,
        env=env,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "there"
