"""Hostile input through the window: 200 files at once, symlink loops, files that vanish, odd
Unicode names, a 10,000-frame GIF, and server data the app does not expect."""

from __future__ import annotations

import contextlib
import io
import json
import os
import time

import httpx
from PIL import Image
from PySide6.QtCore import QMimeData, QUrl
from PySide6.QtGui import Qt, QTextDocument

from desktop.core.attachments import State
from desktop.core.images import ImageLimits, prepare_file
from desktop.core.letta.models import Message
from desktop.ui.transcript import KindRole, RowKind, TextRole
from tests.stall import StallMeter

from . import attachments_support as support
from .attachments_support import png_bytes, wait_settled, write
from .test_paste_drop import _drag

server, window = support.server, support.window  # fixtures (workers: tests/qt/conftest.py)


def drop(window, paths) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    assert _drag(window, mime)


def test_200_files_in_one_drop_all_become_chips_and_the_gui_stays_responsive(
    qtbot, window, tmp_path
):
    data = png_bytes(320, 200)
    paths = [write(tmp_path / f"shot {i:03}.png", data) for i in range(200)]
    with StallMeter() as meter:
        drop(window, paths)
        assert len(window.attachments.items) == 200  # all taken at once; chips come in batches
        qtbot.waitUntil(lambda: window.strip.waiting == 0, timeout=10000)
        wait_settled(qtbot, window.attachments, timeout=60000)
    assert len(window.strip.chips_made()) == 200
    items = window.attachments.items
    assert [a.name for a in items] == [f"shot {i:03}.png" for i in range(200)]
    # the model takes 100 images per request: the first 100 are ready, the rest say why not
    assert all(a.state is State.READY for a in items[:100])
    assert all(a.state is State.PROBLEM and "at most 100" in a.problem for a in items[100:])
    # Measured here: ~50 ms (43-66) with other suites sharing the 2 cores; it was ~330 ms when
    # the strip made 200 chip widgets in one go. Chips now come ≤16 per event-loop turn and the
    # vision guard's re-check is coalesced per burst. 200 ms leaves room for a loaded machine.
    assert meter.max_stall_ms < 200, f"GUI stalled {meter.max_stall_ms:.0f} ms"


def test_symlink_loops_and_dangling_links_are_explained_not_hung_on(qtbot, window, tmp_path):
    a, b = tmp_path / "loop-a.png", tmp_path / "loop-b.png"
    os.symlink(b, a)
    os.symlink(a, b)
    dangling = tmp_path / "dangling.png"
    os.symlink(tmp_path / "nowhere.png", dangling)
    good = write(tmp_path / "good.png", png_bytes(100, 80))
    drop(window, [a, dangling, good])
    wait_settled(qtbot, window.attachments)
    states = {x.name: (x.state, x.problem) for x in window.attachments.items}
    assert states["good.png"][0] is State.READY
    for name in ("loop-a.png", "dangling.png"):
        state, problem = states[name]
        assert state is State.PROBLEM and problem.startswith(f"{name}: "), problem


def test_a_file_deleted_after_the_drop_is_still_sent_as_prepared(qtbot, window, server, tmp_path):
    path = write(tmp_path / "fleeting.png", png_bytes(200, 100))
    drop(window, [path])
    wait_settled(qtbot, window.attachments)
    os.unlink(path)  # gone before the user presses Enter
    window.send()
    qtbot.waitUntil(lambda: not window.session.busy and bool(server.posts), timeout=5000)
    parts = server.posts[-1]["messages"][0]["content"]
    assert [p["type"] for p in parts] == ["image"]


def test_a_file_deleted_before_preparation_is_a_clear_problem(qtbot, window, tmp_path):
    path = write(tmp_path / "gone.png", png_bytes(50, 50))
    os.unlink(path)
    drop(window, [path])
    wait_settled(qtbot, window.attachments)
    [att] = window.attachments.items
    assert att.state is State.PROBLEM and att.problem.startswith("gone.png: ")


ODD_NAMES = [
    "\u202eevil\u202dgnp.exe.png",  # right-to-left override
    "cafe\u0301 \u2014 n\u0303o.png",  # combining marks
    "\U0001f468\u200d\U0001f469\u200d\U0001f467 family.png",  # ZWJ emoji sequence
    "\u0645\u0631\u062d\u0628\u0627.png",  # Arabic
    "tab\there & <b>bold<\\b>.png",  # markup and control characters
    ("very long " * 24).strip() + ".png",
]


def shown_tip(tip: str) -> str:
    """A tooltip as it reads on screen (Qt renders text that looks like HTML as HTML)."""
    if not Qt.mightBeRichText(tip):
        return tip
    doc = QTextDocument()
    doc.setHtml(tip)
    return doc.toPlainText()


def test_odd_unicode_names_attach_prepare_and_show(qtbot, window, tmp_path):
    paths = [write(tmp_path / name, png_bytes(60, 40)) for name in ODD_NAMES]
    drop(window, paths)
    wait_settled(qtbot, window.attachments)
    items = window.attachments.items
    assert [a.name for a in items] == ODD_NAMES
    assert all(a.state is State.READY for a in items)
    chips = window.strip.chips()
    assert [shown_tip(c.toolTip()).split("\n")[0] for c in chips] == ODD_NAMES
    window.grab()  # painting them must not warn


def test_a_gif_with_10000_frames_takes_its_first_frame_in_bounded_time(tmp_path):
    frames = [Image.new("P", (8, 8), i % 256) for i in range(10_000)]
    path = tmp_path / "endless.gif"
    frames[0].save(path, "GIF", save_all=True, append_images=frames[1:], duration=10)
    start = time.perf_counter()
    prepared = prepare_file(str(path), ImageLimits())
    elapsed = time.perf_counter() - start
    assert elapsed < 3.0, f"{elapsed:.1f} s"
    out = Image.open(io.BytesIO(prepared.data))
    assert getattr(out, "n_frames", 1) == 1 and out.size == (8, 8)


# -- server data ----------------------------------------------------------------------------------


def test_history_with_unexpected_shapes_shows_what_it_can(qtbot, window, server):
    raw = [
        {"id": "m1", "message_type": "user_message", "content": "plain", "brand_new_field": {}},
        {"id": "m2", "message_type": "hologram_message", "hologram": [1, 2, 3]},
        {"id": "m3", "message_type": "assistant_message", "content": 42},
        {
            "id": "m4",
            "message_type": "assistant_message",
            "content": [{"type": "text", "text": "part one"}, {"type": "mystery"}, "stray"],
        },
        {"id": "m5", "message_type": "tool_call_message", "tool_call": "not an object"},
        {
            "id": "m6",
            "message_type": "user_message",
            "content": [
                {
                    "type": "image",
                    "source": {
                        "type": "base64",
                        "media_type": "image/png",
                        "data": "!!! broken base64 !!!",
                    },
                },
                {"type": "image"},
                {"type": "image", "source": {"type": "letta"}},
            ],
        },
        {"id": "m7", "message_type": None, "content": None},
    ]
    messages = [Message.from_json(m) for m in raw]
    window.transcript_model.set_history(messages)
    model = window.transcript_model
    rows = [
        (model.index(r, 0).data(KindRole), model.index(r, 0).data(TextRole) or "")
        for r in range(model.rowCount())
    ]
    assert (RowKind.USER, "plain") in rows
    assert (RowKind.UNKNOWN, "(hologram_message message)") in rows  # says what it cannot show
    assert any(k is RowKind.ASSISTANT and "part one" in t for k, t in rows)
    window.transcript.viewport().grab()
    qtbot.wait(50)  # thumbnails of the broken images fail on workers: placeholders, no warnings
    window.transcript.viewport().grab()


def test_a_history_page_that_is_not_json_is_explained(qtbot, workers, server, monkeypatch):
    original = server.handle

    def broken(request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and request.url.path.endswith("/messages"):
            return httpx.Response(
                200,
                headers={"content-type": "application/json"},
                content=b'[{"id": "m1", "message_type": "user_mess',
            )
        return original(request)

    monkeypatch.setattr(server, "handle", broken)
    win = support.make_window(qtbot, workers, server)
    try:
        qtbot.waitUntil(lambda: win.banner.isVisible(), timeout=5000)
        assert "not JSON" in win.banner.label.text() or "could not read" in win.banner.label.text()
        assert "{" not in win.banner.label.text()
    finally:
        win.close()
        workers.wait()
        win.connection.client.close()


def test_a_stream_of_unknown_events_and_fields_still_gives_the_reply(qtbot, window, server):
    from .attachments_support import sse

    server.reply_sse = sse(
        {"message_type": "ping"},
        {"message_type": "telepathy_message", "id": "x", "thought": "?"},
        {
            "message_type": "assistant_message",
            "id": "r1",
            "otid": "o1",
            "content": "Hel",
            "brand_new": {"nested": [1]},
        },
        "{malformed json",
        {"message_type": "assistant_message", "id": "r1", "otid": "o1", "content": "lo"},
        json.dumps([1, 2, 3]),
        {"message_type": "stop_reason", "stop_reason": "end_turn", "extra": True},
        "[DONE]",
    )
    window.composer.set_text("hi")
    window.send()
    qtbot.waitUntil(lambda: not window.session.busy, timeout=5000)
    model = window.transcript_model
    texts = [
        model.index(r, 0).data(TextRole)
        for r in range(model.rowCount())
        if model.index(r, 0).data(KindRole) is RowKind.ASSISTANT
    ]
    assert texts[-1] == "Hello"
    assert not window.banner.isVisible()


# -- files that are not images, or not files --------------------------------------------------


def test_a_fifo_an_svg_bomb_and_an_ico_bomb_are_refused_and_the_window_still_closes(
    qtbot, workers, server, tmp_path
):
    from desktop.core.images import set_svg_rasterizer
    from desktop.ui.imaging.svg_process import rasterize_svg
    from tests.unit.test_images_decoders import ico_around, png_of_zeros
    from tests.unit.test_images_svg import use_bomb

    set_svg_rasterizer(rasterize_svg)  # as create_window does (conftest unsets it after)
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    bomb = write(tmp_path / "bomb.svg", use_bomb(7))
    ico = write(tmp_path / "bomb.ico", ico_around(png_of_zeros(12000, 12000)))
    good = write(tmp_path / "good.png", png_bytes(120, 80))
    win = support.make_window(qtbot, workers, server)
    try:
        win.composer.set_text("my long message, typed before the drop")
        with StallMeter() as meter:
            drop(win, [fifo, bomb, ico, good])
            wait_settled(qtbot, win.attachments, timeout=10000)
        problems = {a.name: a.problem for a in win.attachments.items if a.problem}
        assert "a pipe (FIFO), not a file" in problems["pipe.png"]
        assert "repeats its shapes too often" in problems["bomb.svg"]
        assert "too large to open safely (12000×12000" in problems["bomb.ico"]
        assert [a.name for a in win.attachments.items if a.state is State.READY] == ["good.png"]
        assert win.composer.text() == "my long message, typed before the drop"
        # Measured 8-9 ms here, closing in 6-7 ms. Before: the FIFO's preview blocked a worker
        # for good, and closing (the draft flush) never returned.
        assert meter.max_stall_ms < 200, f"GUI stalled {meter.max_stall_ms:.0f} ms"
        start = time.perf_counter()
        win.close()
        closed_in = time.perf_counter() - start
        assert closed_in < 2.0, f"closing took {closed_in:.1f} s"
        assert workers.wait(5000), "a worker is still blocked"
        draft = win.drafts.store.load("agent-1")
        assert draft is not None and draft.text == "my long message, typed before the drop"
        assert "good.png" in [i.name for i in draft.images]
    finally:
        win.close()
        with contextlib.suppress(OSError):  # unblock a reader stuck on the FIFO (the bug)
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        workers.wait()
        win.connection.client.close()
