"""The transcript as a user meets it: order, folding, streaming, paging, failures, images."""

from __future__ import annotations

import base64

import pytest
from PySide6.QtCore import QBuffer, QIODevice, QPoint, QRect, Qt, QUrl
from PySide6.QtGui import (
    QColor,
    QDesktopServices,
    QGuiApplication,
    QImage,
    QPainter,
    QTextDocument,
)

from desktop.core.letta.models import ImageRef, Message, StreamChunk
from desktop.ui.notice import Tone
from desktop.ui.transcript import (
    CollapsedRole,
    EntryRole,
    KindRole,
    RowAction,
    RowKind,
    RowState,
    StateRole,
    TextRole,
    ThumbnailCache,
    ThumbnailsRole,
    ToolNameRole,
    TranscriptModel,
    TranscriptView,
)
from desktop.ui.transcript.delegate import folded_summary, header_label
from desktop.ui.transcript.richtext import SafeTextDocument


def msg(mid: str, kind: str, text: str, **kw) -> Message:
    mtype = {"tool_call": "tool_call_message", "tool_return": "tool_return_message"}.get(
        kind, f"{kind}_message"
    )
    return Message(id=mid, kind=kind, message_type=mtype, text=text, **kw)  # type: ignore[arg-type]


def png_base64(w: int = 640, h: int = 400) -> str:
    image = QImage(w, h, QImage.Format.Format_RGB32)
    image.fill(QColor("#3a7bd5"))
    buf = QBuffer()
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buf, "PNG")
    return base64.b64encode(bytes(buf.data())).decode()


def chat(n: int) -> list[Message]:
    out = []
    for i in range(n):
        out.append(msg(f"u{i}", "user", f"question {i}"))
        out.append(msg(f"a{i}", "assistant", f"answer {i}\n\nwith **some** more words " * 3))
    return out


@pytest.fixture
def transcript(qtbot, workers):
    cache = ThumbnailCache(workers)
    model = TranscriptModel(cache)
    view = TranscriptView(model, workers=workers)
    qtbot.addWidget(view)
    view.resize(700, 500)
    view.show()
    qtbot.waitExposed(view)
    yield view, model, cache
    workers.wait()


def row_rect(view: TranscriptView, row: int) -> QRect:
    return view.visualRect(view.model().index(row, 0))


def settle(qtbot, view: TranscriptView) -> None:
    qtbot.wait(20)
    view.doItemsLayout()


def test_history_in_order_newest_at_bottom_with_kinds(qtbot, transcript):
    view, model, _ = transcript
    model.set_history(
        [
            msg("first", "user", "hello"),
            msg("s1", "reasoning", "the user greets me"),
            msg("s1", "tool_call", '{"x": 1}', tool_name="lookup", tool_call_id="c1"),
            msg("t1", "tool_return", "ok", tool_call_id="c1"),
            msg("s1", "assistant", "Hi **there**"),
            *chat(10),
        ]
    )
    settle(qtbot, view)
    kinds = [model.index(r, 0).data(KindRole) for r in range(5)]
    assert kinds == [
        RowKind.USER,
        RowKind.REASONING,
        RowKind.TOOL_CALL,
        RowKind.TOOL_RETURN,
        RowKind.ASSISTANT,
    ]
    # one id shared by reasoning/tool call/reply of one step is not a duplicate
    assert model.rowCount() == 25
    assert model.index(24, 0).data(TextRole).startswith("answer 9")
    assert model.message_ids()[:3] == ["first", "s1", "t1"]
    assert view.is_at_bottom()
    assert row_rect(view, 24).bottom() <= view.viewport().height() + 1
    assert model.index(0, 0).data(Qt.ItemDataRole.AccessibleTextRole) == "You: hello"
    assert model.index(4, 0).data(Qt.ItemDataRole.AccessibleTextRole) == "Agent: Hi there"
    assert view.accessibleName() == "Conversation"


def test_reasoning_collapsed_by_default_and_click_expands(qtbot, transcript):
    view, model, _ = transcript
    long_thought = "Step one.\n\n" + "I consider many things at length. " * 40
    model.set_history([msg("u1", "user", "hi"), msg("r1", "reasoning", long_thought)])
    settle(qtbot, view)
    index = model.index(1, 0)
    assert index.data(CollapsedRole) is True
    before = row_rect(view, 1).height()
    header = row_rect(view, 1).topLeft() + QPoint(view.viewport().width() // 2, 10)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=header)
    assert index.data(CollapsedRole) is False
    qtbot.waitUntil(lambda: row_rect(view, 1).height() > before * 3)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=header)
    qtbot.waitUntil(lambda: row_rect(view, 1).height() == before)


def test_streaming_many_chunks_is_batched(qtbot, transcript):
    view, model, _ = transcript
    model.set_history(chat(3))
    settle(qtbot, view)
    changes: list[int] = []
    model.dataChanged.connect(lambda tl, br, roles: changes.append(tl.row()))
    pieces = [f"w{i} " for i in range(2000)]
    for i, piece in enumerate(pieces):
        model.apply_chunk(
            StreamChunk("assistant_message:r", "assistant", "assistant_message", piece)
        )
        if i % 100 == 99:
            qtbot.wait(10)  # let the event loop run, as it would between network reads
    model.finish_stream()
    assert model.rowCount() == 7
    assert model.index(6, 0).data(TextRole) == "".join(pieces)
    assert model.index(6, 0).data(StateRole) is RowState.DONE
    assert 1 <= len(changes) < len(pieces) / 20
    settle(qtbot, view)
    assert view.is_at_bottom()  # followed the reply down


def test_stream_does_not_pull_the_user_down_when_scrolled_up(qtbot, transcript):
    view, model, _ = transcript
    model.set_history(chat(20))
    settle(qtbot, view)
    view.verticalScrollBar().setValue(view.verticalScrollBar().maximum() // 2)
    value = view.verticalScrollBar().value()
    for i in range(50):
        model.apply_chunk(StreamChunk("k", "assistant", "assistant_message", f"line {i}\n\n"))
    model.finish_stream()
    settle(qtbot, view)
    assert view.verticalScrollBar().value() == value


def test_incomplete_stream_keeps_text_and_shows_note(qtbot, transcript):
    _view, model, _ = transcript
    model.apply_chunk(StreamChunk("k", "assistant", "assistant_message", "half a rep"))
    model.finish_stream(incomplete=True, note="Reply cut off — reload history")
    index = model.index(0, 0)
    assert index.data(TextRole) == "half a rep"
    assert index.data(StateRole) is RowState.INCOMPLETE
    assert "cut off" in index.data(TranscriptModel.NoteRole)


def test_prepend_older_keeps_rows_dedups_and_keeps_position(qtbot, transcript):
    view, model, _ = transcript
    model.set_history(chat(10)[10:])  # u5..a9
    settle(qtbot, view)
    bar = view.verticalScrollBar()
    bar.setValue(bar.maximum() // 3)
    top_row = view.indexAt(QPoint(10, 1)).row()
    top_text = model.index(top_row, 0).data(TextRole)
    offset = row_rect(view, top_row).top()
    model.prepend_older(chat(10)[4:12])  # u2..a5, overlapping u5 and a5
    settle(qtbot, view)
    assert model.rowCount() == 16
    assert [model.index(r, 0).data(TextRole) for r in (0, 6)] == ["question 2", "question 5"]
    assert model.message_ids().count("u5") == 1
    moved = next(r for r in range(model.rowCount()) if model.index(r, 0).data(TextRole) == top_text)
    assert row_rect(view, moved).top() == offset  # the row the user looked at did not move


def _painted_words(monkeypatch, view: TranscriptView) -> list[str]:
    """The strings the delegate draws with QPainter.drawText in one paint of the view."""
    words: list[str] = []
    draw = QPainter.drawText

    def record(painter, *args):
        words.extend(a for a in args if isinstance(a, str))
        return draw(painter, *args)

    monkeypatch.setattr(QPainter, "drawText", record)
    view.viewport().grab()
    monkeypatch.setattr(QPainter, "drawText", draw)
    return words


def test_failed_message_offers_retry_edit_discard(qtbot, transcript, monkeypatch):
    view, model, _ = transcript
    model.set_history(chat(1))
    model.add_local_user("otid-7", "please look", [])
    assert model.index(2, 0).data(StateRole) is RowState.SENDING
    model.set_user_state("otid-7", RowState.FAILED, "The server could not be reached.")
    settle(qtbot, view)
    delegate = view.itemDelegate()
    rect = row_rect(view, 2)
    layout = delegate.row_layout(_option(view, 2), model.index(2, 0))
    assert [action for action, _ in layout.actions] == [
        RowAction.RETRY,
        RowAction.EDIT,
        RowAction.DISCARD,
    ]
    painted = _painted_words(monkeypatch, view)
    assert "Not sent: The server could not be reached." in painted
    assert [w for w in painted if w in ("Retry", "Edit", "Discard")] == ["Retry", "Edit", "Discard"]
    for action, signal in (
        (RowAction.RETRY, view.retryRequested),
        (RowAction.EDIT, view.editRequested),
        (RowAction.DISCARD, view.discardRequested),
    ):
        spot = dict(layout.actions)[action].center().toPoint() + rect.topLeft()
        with qtbot.waitSignal(signal, timeout=1000) as blocker:
            qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=spot)
        assert blocker.args == ["otid-7"]
    model.remove_local_user("otid-7")
    assert model.rowCount() == 2


def _option(view: TranscriptView, row: int):
    from PySide6.QtWidgets import QStyleOptionViewItem

    option = QStyleOptionViewItem()
    view.initViewItemOption(option)
    option.rect = row_rect(view, row)
    return option


def test_history_image_becomes_thumbnail_and_click_activates(qtbot, transcript):
    view, model, cache = transcript
    ref = ImageRef("base64", "image/png", png_base64())
    model.set_history([msg("u1", "user", "look", images=[ref])])
    with qtbot.waitSignal(cache.thumbnailReady, timeout=5000) as blocker:
        model.index(0, 0).data(ThumbnailsRole)  # what painting asks for
    assert blocker.args == ["u1:0"]
    (thumb,) = model.index(0, 0).data(ThumbnailsRole)
    assert thumb.image is not None and max(thumb.image.width(), thumb.image.height()) <= 240
    settle(qtbot, view)
    layout = view.itemDelegate().row_layout(_option(view, 0), model.index(0, 0))
    spot = layout.thumbs[0].center().toPoint() + row_rect(view, 0).topLeft()
    with qtbot.waitSignal(view.imageActivated, timeout=1000) as blocker:
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=spot)
    assert blocker.args == [ref]


def test_broken_and_remote_images_get_placeholders(qtbot, transcript):
    view, model, cache = transcript
    broken = ImageRef("base64", "image/png", "%%% not base64 at all %%%")
    garbage = ImageRef("letta", "image/png", base64.b64encode(b"not an image").decode())
    remote = ImageRef("url", url="https://cdn.example.com/cat.png")
    model.set_history([msg("u1", "user", "", images=[broken, garbage, remote])])
    thumbs = model.index(0, 0).data(ThumbnailsRole)
    assert thumbs[2].image is None and "cdn.example.com" in thumbs[2].label
    qtbot.waitUntil(lambda: cache.peek("u1:0") is not None and cache.peek("u1:1") is not None)
    thumbs = model.index(0, 0).data(ThumbnailsRole)
    assert all(t.image is None and t.failed for t in thumbs[:2])
    view.grab()  # painting placeholders must not warn or raise


def test_thumbnail_cache_is_bounded(qtbot, workers):
    cache = ThumbnailCache(workers, max_items=2)
    data = png_base64(300, 300)
    for i in range(4):
        with qtbot.waitSignal(cache.thumbnailReady, timeout=5000):
            assert cache.get(f"k{i}", ImageRef("base64", "image/png", data)) is None
    assert len(cache) == 2 and cache.peek("k0") is None and cache.peek("k3") is not None


def test_a_thumbnail_decoded_before_clear_is_not_kept(qtbot, workers):
    cache = ThumbnailCache(workers)
    ready: list[str] = []
    cache.thumbnailReady.connect(ready.append)
    ref = ImageRef("base64", "image/png", png_base64(300, 200))
    assert cache.get("m1:0", ref) is None
    assert workers.wait(10000)  # decoded; the result waits for the GUI thread
    cache.clear()  # another conversation opened
    qtbot.waitUntil(lambda: workers.active_count == 0, timeout=5000)
    assert ready == [] and len(cache) == 0 and cache.bytes_used == 0
    with qtbot.waitSignal(cache.thumbnailReady, timeout=5000):
        assert cache.get("m1:0", ref) is None  # asked again: decoded again, not forgotten
    thumb = cache.peek("m1:0")
    assert thumb is not None and thumb.image is not None and thumb.image.width() == 240


def test_history_thumbnails_are_decoded_for_the_screens_device_pixels(qtbot, workers):
    """A 148×112 cell at 200 % covers 296×224 device pixels: a 240-px thumbnail would be
    enlarged (soft). Moved there from a 100 % screen, a shown thumbnail stays on screen while it
    is decoded again at the new size; back on the 100 % screen the bigger one is kept."""
    cache = ThumbnailCache(workers)
    ref = ImageRef("base64", "image/png", png_base64(1200, 800))
    with qtbot.waitSignal(cache.thumbnailReady, timeout=5000):
        assert cache.get("m1:0", ref) is None
    first = cache.peek("m1:0")
    assert first is not None and first.image is not None and first.image.width() == 240
    cache.set_scale(2.0)
    with qtbot.waitSignal(cache.thumbnailReady, timeout=5000):
        assert cache.get("m1:0", ref) is first  # still shown, not "Loading…"
    again = cache.peek("m1:0")
    assert again is not None and again.image is not None and again.image.width() == 480
    qtbot.waitUntil(lambda: workers.active_count == 0, timeout=5000)
    cache.set_scale(1.0)
    assert cache.get("m1:0", ref) is again
    assert workers.active_count == 0  # nothing decoded again for the sparser screen


def test_markdown_remote_image_is_never_loaded(qtbot, transcript):
    view, model, _ = transcript
    model.set_history([msg("a1", "assistant", "Look: ![x](http://example.com/a.png)\n\nDone.")])
    settle(qtbot, view)
    view.grab()
    layout = view.itemDelegate().row_layout(_option(view, 0), model.index(0, 0))
    docs = layout.rich.documents
    assert docs and all(isinstance(d, SafeTextDocument) for d in docs)
    url = QUrl("http://example.com/a.png")
    for doc in docs:
        assert doc.loadResource(QTextDocument.ResourceType.ImageResource, url) is None
        assert doc.resource(QTextDocument.ResourceType.ImageResource, url) is None
    # the image became a link the user may choose to open
    assert "[image: example.com]" in docs[0].toPlainText()


def test_links_open_only_http(qtbot, transcript, monkeypatch):
    view, model, _ = transcript
    opened: list[str] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url.toString()))
    model.set_history(
        [msg("a1", "assistant", "[safe](https://example.org/) [bad](file:///etc/passwd)")]
    )
    settle(qtbot, view)
    layout = view.itemDelegate().row_layout(_option(view, 0), model.index(0, 0))
    doc = layout.rich.documents[0]
    origin = row_rect(view, 0).topLeft() + layout.text_pos.toPoint()
    for word in ("safe", "bad"):
        cursor = doc.find(word)
        rect = doc.documentLayout().blockBoundingRect(cursor.block())
        line = cursor.block().layout().lineAt(0)
        x = line.cursorToX(cursor.selectionStart())[0] + 4
        spot = origin + QPoint(int(x), int(rect.top() + line.height() / 2))
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=spot)
    assert opened == ["https://example.org/"]


def test_scrolling_to_top_asks_for_older_once_per_page(qtbot, transcript):
    view, model, _ = transcript
    model.set_history(chat(20))
    settle(qtbot, view)
    asked: list[bool] = []
    view.olderRequested.connect(lambda: asked.append(True))
    with qtbot.waitSignal(view.olderRequested, timeout=1000):
        view.verticalScrollBar().setValue(0)
    view.set_loading_older(True)
    view.verticalScrollBar().setValue(10)
    view.verticalScrollBar().setValue(0)
    assert len(asked) == 1
    model.prepend_older([msg("old1", "user", "older question")])
    view.set_loading_older(False)
    settle(qtbot, view)
    view.verticalScrollBar().setValue(0)
    assert len(asked) == 2
    view.set_has_more(False)
    view.set_loading_older(False)
    view.verticalScrollBar().setValue(30)
    view.verticalScrollBar().setValue(0)
    assert len(asked) == 2


def test_copy_selected_message(qtbot, transcript):
    view, model, _ = transcript
    model.set_history([msg("u1", "user", "first"), msg("a1", "assistant", "the *answer*")])
    settle(qtbot, view)
    view.setFocus()
    view.setCurrentIndex(model.index(1, 0))
    qtbot.keyClick(view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QGuiApplication.clipboard().text() == "the *answer*"


def test_notice_and_clear(qtbot, transcript):
    view, model, _ = transcript
    model.add_notice("Connection lost", Tone.ERROR)
    assert model.index(0, 0).data(KindRole) is RowKind.NOTICE
    assert model.index(0, 0).data(TranscriptModel.LevelRole) == Tone.ERROR
    view.grab()
    model.clear()
    assert model.rowCount() == 0 and model.message_ids() == []


def _pixels_near(image: QImage, rect: QRect, color: QColor) -> int:
    """Pixels in `rect` within a small distance of `color` (antialiased text has some)."""
    near = 0
    for y in range(rect.top(), rect.bottom() + 1):
        for x in range(rect.left(), rect.right() + 1):
            c = image.pixelColor(x, y)
            if abs(c.red() - color.red()) + abs(c.green() - color.green()) < 40 and (
                abs(c.blue() - color.blue()) < 30
            ):
                near += 1
    return near


def test_notices_are_written_in_the_colour_of_their_tone(qtbot, transcript):
    view, model, _ = transcript
    model.add_notice("The reply was cut off by the network", Tone.ERROR)
    model.add_notice("The reply was cut off by the network", Tone.WARNING)
    model.add_notice("The reply was cut off by the network", Tone.INFO)
    settle(qtbot, view)
    theme = view.itemDelegate().theme(_option(view, 0))
    image = view.viewport().grab().toImage()
    red = [_pixels_near(image, row_rect(view, r), theme.error) for r in range(3)]
    amber = [_pixels_near(image, row_rect(view, r), theme.warning) for r in range(3)]
    assert red[0] > 20 and red[1] == red[2] == 0, red
    assert amber[1] > 20 and amber[0] == amber[2] == 0, amber


CODE_REPLY = (
    "Here is the fix:\n\n"
    "```python\n"
    "def greet(name):\n"
    '    return "hello " + name  # say hi\n'
    "```\n\n"
    "And in the shell:\n\n"
    "```sh\n"
    "echo 42\n"
    "```\n"
)


def test_code_block_copy_button_copies_that_block(qtbot, transcript):
    view, model, _ = transcript
    model.set_history([msg("u1", "user", "how?"), msg("a1", "assistant", CODE_REPLY)])
    settle(qtbot, view)
    QGuiApplication.clipboard().setText("before")
    layout = view.itemDelegate().row_layout(_option(view, 1), model.index(1, 0))
    assert [code for _, code in layout.code_buttons] == [
        'def greet(name):\n    return "hello " + name  # say hi',
        "echo 42",
    ]
    view.grab()  # painting the buttons must not warn
    for number, expected in ((1, "echo 42"), (0, layout.code_buttons[0][1])):
        rect = layout.code_buttons[number][0]
        spot = rect.center().toPoint() + row_rect(view, 1).topLeft()
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=spot)
        assert QGuiApplication.clipboard().text() == expected
        assert view.itemDelegate()._copied == (model.index(1, 0).data(EntryRole).uid, number)
    view.grab()  # "Copied" painted
    qtbot.waitUntil(lambda: view.itemDelegate()._copied is None, timeout=3000)


def test_keyboard_up_down_move_the_current_row(qtbot, transcript):
    view, model, _ = transcript
    model.set_history(chat(3))
    settle(qtbot, view)
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Up)  # nothing current yet: the newest row
    assert view.currentIndex().row() == 5
    qtbot.keyClick(view, Qt.Key.Key_Up)
    qtbot.keyClick(view, Qt.Key.Key_Up)
    assert view.currentIndex().row() == 3
    qtbot.keyClick(view, Qt.Key.Key_Down)
    assert view.currentIndex().row() == 4
    view.setCurrentIndex(model.index(0, 0))
    qtbot.keyClick(view, Qt.Key.Key_Up)  # stays on the first row
    assert view.currentIndex().row() == 0
    view.setCurrentIndex(model.index(5, 0))
    qtbot.keyClick(view, Qt.Key.Key_Down)  # and on the last
    assert view.currentIndex().row() == 5


@pytest.mark.parametrize("key", [Qt.Key.Key_Space, Qt.Key.Key_Return, Qt.Key.Key_Enter])
def test_keyboard_space_and_enter_fold_thinking_and_tool_rows(qtbot, transcript, key):
    view, model, _ = transcript
    model.set_history(
        [
            msg("u1", "user", "hi"),
            msg("r1", "reasoning", "a thought"),
            msg("s1", "tool_call", '{"x": 1}', tool_name="lookup", tool_call_id="c1"),
            msg("a1", "assistant", "hello"),
        ]
    )
    settle(qtbot, view)
    view.setFocus()
    for row in (1, 2):
        view.setCurrentIndex(model.index(row, 0))
        assert model.index(row, 0).data(CollapsedRole) is True
        qtbot.keyClick(view, key)
        assert model.index(row, 0).data(CollapsedRole) is False
        qtbot.keyClick(view, key)
        assert model.index(row, 0).data(CollapsedRole) is True
    view.setCurrentIndex(model.index(3, 0))
    qtbot.keyClick(view, key)  # a reply does not fold; nothing breaks
    assert model.index(3, 0).data(CollapsedRole) is False


def test_keyboard_retry_edit_discard_on_a_failed_message(qtbot, transcript):
    view, model, _ = transcript
    model.set_history(chat(1))
    model.add_local_user("otid-9", "please look", [])
    model.set_user_state("otid-9", RowState.FAILED, "offline")
    settle(qtbot, view)
    view.setFocus()
    emitted: list[tuple[str, str]] = []
    view.retryRequested.connect(lambda otid: emitted.append(("retry", otid)))
    view.editRequested.connect(lambda otid: emitted.append(("edit", otid)))
    view.discardRequested.connect(lambda otid: emitted.append(("discard", otid)))
    view.setCurrentIndex(model.index(0, 0))  # a sent message: the keys do nothing
    for key in (Qt.Key.Key_R, Qt.Key.Key_E, Qt.Key.Key_Delete):
        qtbot.keyClick(view, key)
    assert emitted == []
    view.setCurrentIndex(model.index(2, 0))
    qtbot.keyClick(view, Qt.Key.Key_R)
    qtbot.keyClick(view, Qt.Key.Key_E)
    qtbot.keyClick(view, Qt.Key.Key_Delete)
    assert emitted == [("retry", "otid-9"), ("edit", "otid-9"), ("discard", "otid-9")]
    qtbot.keyClick(view, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)  # not plain R
    assert len(emitted) == 3


def test_keyboard_ctrl_c_copies_the_current_row(qtbot, transcript):
    view, model, _ = transcript
    model.set_history([msg("u1", "user", "first"), msg("a1", "assistant", "second")])
    settle(qtbot, view)
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Up)
    qtbot.keyClick(view, Qt.Key.Key_Up)
    assert view.currentIndex().row() == 0
    qtbot.keyClick(view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QGuiApplication.clipboard().text() == "first"
    qtbot.keyClick(view, Qt.Key.Key_Down)
    qtbot.keyClick(view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QGuiApplication.clipboard().text() == "second"


def test_the_current_message_is_marked_only_while_the_focus_is_in_the_list(qtbot, workers):
    from PySide6.QtWidgets import QLineEdit, QVBoxLayout, QWidget

    model = TranscriptModel(ThumbnailCache(workers))
    host = QWidget()
    view = TranscriptView(model)
    box = QLineEdit()
    column = QVBoxLayout(host)
    column.addWidget(view)
    column.addWidget(box)
    qtbot.addWidget(host)
    host.resize(700, 500)
    host.show()
    qtbot.waitExposed(host)
    host.activateWindow()
    model.set_history(chat(2))
    settle(qtbot, view)
    rect = row_rect(view, 1)

    def row_pixels():
        qtbot.wait(10)
        return view.viewport().grab(rect).toImage()

    box.setFocus()
    plain = row_pixels()
    view.setFocus()
    view.setCurrentIndex(model.index(1, 0))
    assert row_pixels() != plain  # marked while the list has the focus
    box.setFocus()  # the user moved on to typing
    assert row_pixels() == plain
    workers.wait()


# -- summaries, events, parallel tool calls, images from tools ----------------------------------


def _shown_text(view: TranscriptView, row: int) -> str:
    """The text the row draws: its header (and, folded, the first line after it), its body and
    its small lines."""
    index = view.model().index(row, 0)
    layout = view.itemDelegate().row_layout(_option(view, row), index)
    entry = index.data(EntryRole)
    parts = []
    if layout.header is not None:
        parts.append(header_label(entry, index.data(ToolNameRole)))
        if entry.collapsed and folded_summary(entry):
            parts.append(folded_summary(entry))
    if layout.rich is not None and not entry.collapsed:
        parts += [doc.toPlainText() for doc in layout.rich.documents]
    parts += [text for _rect, text, _tone, _flags in layout.lines]
    return "\n".join(parts)


def test_a_summary_row_folds_under_its_title(qtbot, transcript):
    view, model, _ = transcript
    summary = Message.from_json(
        {
            "id": "sum1",
            "message_type": "summary_message",
            "summary": "The user asked about **ferns**; the agent watered them twice.",
            "compaction_stats": {"messages_before": 80, "messages_after": 12},
        }
    )
    model.set_history([summary, msg("u1", "user", "and now?")])
    settle(qtbot, view)
    index = model.index(0, 0)
    assert index.data(KindRole) is RowKind.SUMMARY and index.data(CollapsedRole) is True
    assert _shown_text(view, 0) == (
        "Summary of earlier conversation\nThe user asked about ferns; the agent watered them twice."
    )
    folded = row_rect(view, 0).height()
    header = row_rect(view, 0).topLeft() + QPoint(view.viewport().width() // 2, 10)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=header)
    qtbot.waitUntil(lambda: row_rect(view, 0).height() > folded)
    shown = _shown_text(view, 0)
    assert "The user asked about ferns; the agent watered them twice." in shown  # Markdown
    assert index.data(Qt.ItemDataRole.AccessibleTextRole).startswith(
        "Summary of earlier conversation: The user asked"
    )
    view.grab()


def test_an_event_row_is_a_small_notice(qtbot, transcript):
    view, model, _ = transcript
    event = Message.from_json(
        {"id": "ev1", "message_type": "event_message", "event_type": "compaction"}
    )
    model.set_history([msg("u1", "user", "hi"), event, msg("a1", "assistant", "hello")])
    settle(qtbot, view)
    assert model.index(1, 0).data(KindRole) is RowKind.EVENT
    assert _shown_text(view, 1) == "The conversation was compacted."
    assert row_rect(view, 1).height() < 60  # one small line, not a message
    assert (
        model.index(1, 0).data(Qt.ItemDataRole.AccessibleTextRole)
        == "Event: The conversation was compacted."
    )
    view.grab()


def test_a_tool_result_image_becomes_a_thumbnail_decoded_off_the_gui_thread(
    qtbot, transcript, monkeypatch
):
    view, model, cache = transcript
    from PySide6.QtCore import QThread

    from desktop.ui.transcript import history_thumbnails as thumbnails

    threads = []
    real = thumbnails.decode_thumbnail

    def recording(*args):
        threads.append(QThread.currentThread())
        return real(*args)

    monkeypatch.setattr(thumbnails, "decode_thumbnail", recording)
    data = png_base64(320, 200)
    ret = Message.from_json(
        {
            "id": "ret1",
            "message_type": "tool_return_message",
            "tool_returns": [
                {
                    "tool_call_id": "call_shot",
                    "status": "success",
                    "tool_return": [
                        {"type": "text", "text": "Took a screenshot."},
                        {
                            "type": "image",
                            "source": {"type": "base64", "media_type": "image/png", "data": data},
                        },
                    ],
                }
            ],
        }
    )
    call = Message.from_json(
        {
            "id": "step1",
            "message_type": "tool_call_message",
            "tool_calls": [{"tool_call_id": "call_shot", "name": "screenshot", "arguments": "{}"}],
        }
    )
    model.set_history([call, ret])
    settle(qtbot, view)
    index = model.index(1, 0)
    assert _shown_text(view, 1) == "Result: screenshot\nTook a screenshot."  # folded
    qtbot.waitUntil(lambda: cache.peek("ret1:0") is not None, timeout=5000)  # painting asked
    (thumb,) = index.data(ThumbnailsRole)
    assert thumb.image is not None and thumb.image.width() == 240
    assert threads and all(t is not QThread.currentThread() for t in threads)
    assert index.data(Qt.ItemDataRole.AccessibleTextRole) == (
        "Tool result: Took a screenshot. (1 image(s))"
    )
    settle(qtbot, view)
    layout = view.itemDelegate().row_layout(_option(view, 1), index)
    assert len(layout.thumbs) == 1  # shown while the row is folded
    spot = layout.thumbs[0].center().toPoint() + row_rect(view, 1).topLeft()
    with qtbot.waitSignal(view.imageActivated, timeout=1000) as blocker:
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=spot)
    assert blocker.args[0].inline_bytes() == base64.b64decode(data)
    assert index.data(CollapsedRole) is True  # the click opened the image, it did not unfold
    view.grab()


def test_a_history_row_with_several_tool_calls_shows_each_call(qtbot, transcript):
    view, model, _ = transcript
    row = Message.from_json(
        {
            "id": "step1",
            "message_type": "approval_request_message",
            "tool_calls": [
                {"tool_call_id": "c1", "name": "water_plants", "arguments": '{"plant": "fern"}'},
                {"tool_call_id": "c2", "name": "invoice\u202efdp.sh", "arguments": '{"n": 1}'},
            ],
        }
    )
    model.set_history([row])
    settle(qtbot, view)
    shown = _shown_text(view, 0)
    assert shown.splitlines()[0] == ("Approval requested: water_plants and invoice⟨U+202E⟩fdp.sh")
    assert 'Call 1 of 2: water_plants\n{\n  "plant": "fern"\n}' in shown
    assert 'Call 2 of 2: invoice⟨U+202E⟩fdp.sh\n{\n  "n": 1\n}' in shown
    assert "\u202e" not in shown
    # a folded single call shows its arguments as they are, `_` and all, bidi marked
    single = Message.from_json(
        {
            "id": "step2",
            "message_type": "tool_call_message",
            "tool_calls": [
                {
                    "tool_call_id": "c3",
                    "name": "read_file",
                    "arguments": '{"file_path": "a\u202eb"}',
                }
            ],
        }
    )
    model.prepend_older([single])
    settle(qtbot, view)
    assert _shown_text(view, 0) == 'Tool: read_file\n{"file_path": "a⟨U+202E⟩b"}'
    view.grab()


def _call_piece(call_id: str, text: str, name: str | None = None) -> StreamChunk:
    return StreamChunk(
        key=f"tool_call_message:step9:{call_id}",
        kind="tool_call",
        message_type="tool_call_message",
        text=text,
        id="step9",
        tool_name=name,
        tool_call_id=call_id,
    )


def test_streamed_calls_of_one_message_are_rows_of_their_own(qtbot, transcript):
    view, model, _ = transcript
    model.set_history([msg("u1", "user", "water and light")])
    for chunk in (
        _call_piece("c1", "", "water_plants"),
        _call_piece("c2", '{"room"', "set_lights"),
        _call_piece("c1", '{"plant": "fern"}'),
        _call_piece("c2", ': "hall"}'),
    ):
        model.apply_chunk(chunk)
    model.flush()
    settle(qtbot, view)
    assert model.rowCount() == 3
    assert [_shown_text(view, r) for r in (1, 2)] == [
        'Tool: water_plants…\n{"plant": "fern"}',
        'Tool: set_lights…\n{"room": "hall"}',
    ]
    assert [model.index(r, 0).data(TextRole) for r in (1, 2)] == [
        '{"plant": "fern"}',
        '{"room": "hall"}',
    ]
    # a streamed result names the tool of the call it answers
    model.apply_chunk(
        StreamChunk(
            "tool_return_message:r2",
            "tool_return",
            "tool_return_message",
            "lights on",
            id="r2",
            tool_call_id="c2",
        )
    )
    model.flush()
    settle(qtbot, view)
    assert _shown_text(view, 3) == "Result: set_lights\nlights on"

    # the history page holding the whole step replaces the streamed rows: no duplicates
    step = Message.from_json(
        {
            "id": "step9",
            "message_type": "tool_call_message",
            "tool_calls": [
                {"tool_call_id": "c1", "name": "water_plants", "arguments": '{"plant": "fern"}'},
                {"tool_call_id": "c2", "name": "set_lights", "arguments": '{"room": "hall"}'},
            ],
        }
    )
    model.set_history([msg("u1", "user", "water and light"), step])
    settle(qtbot, view)
    kinds = [model.index(r, 0).data(KindRole) for r in range(model.rowCount())]
    # the result still streams
    assert kinds == [RowKind.USER, RowKind.TOOL_CALL, RowKind.TOOL_RETURN]
    assert _shown_text(view, 1) == "Tools: water_plants and set_lights"  # folded: names only
    model.finish_stream()
