"""Send: text + images in order through a real LettaClient; failures keep attachments; the
controller's preparation (limits, re-preparation, waiting, problems)."""

from __future__ import annotations

import base64
import io

from PIL import Image
from PySide6.QtCore import QMimeData, Qt

from desktop.core.attachments import Attachment, State
from desktop.core.images import ImageLimits
from desktop.ui.attachments import AttachmentController, AttachmentStrip

from . import attachments_support as support
from .attachments_support import jpeg_bytes, png_bytes, wait_settled

server, window = support.server, support.window  # fixtures (workers: tests/qt/conftest.py)


def png_mime(data: bytes) -> QMimeData:
    mime = QMimeData()
    mime.setData("image/png", data)
    return mime


def decoded_size(part: dict) -> tuple[int, int]:
    assert part["type"] == "image" and part["source"]["type"] == "base64"
    return Image.open(io.BytesIO(base64.b64decode(part["source"]["data"]))).size


def test_send_text_and_two_images_in_order(qtbot, window, server, tmp_path):
    window.composer.insertFromMimeData(png_mime(png_bytes(800, 600)))
    window.add_files([support.write(tmp_path / "b.jpg", jpeg_bytes(300, 500))])
    wait_settled(qtbot, window.attachments)
    window.composer.set_text("What is in these?")
    qtbot.keyClick(window.composer, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bool(server.posts) and not window.session.busy, timeout=5000)
    [body] = server.posts
    [message] = body["messages"]
    content = message["content"]
    assert [p["type"] for p in content] == ["text", "image", "image"]
    assert content[0] == {"type": "text", "text": "What is in these?"}
    assert decoded_size(content[1]) == (800, 600)
    assert decoded_size(content[2]) == (300, 500)
    assert content[2]["source"]["media_type"] == "image/jpeg"
    assert window.attachments.items == [] and not window.strip.isVisible()
    assert window.composer.text() == ""
    assert window.session._pending == {}


def test_images_without_text_send_images_only(qtbot, window, server):
    window.composer.insertFromMimeData(png_mime(png_bytes(64, 64)))
    wait_settled(qtbot, window.attachments)
    window.send()
    qtbot.waitUntil(lambda: bool(server.posts) and not window.session.busy, timeout=5000)
    assert [p["type"] for p in server.posts[0]["messages"][0]["content"]] == ["image"]


def test_failed_send_keeps_attachments_and_edit_brings_them_back(qtbot, window, server):
    server.fail_next_send = 400
    window.composer.insertFromMimeData(png_mime(png_bytes(200, 100)))
    window.composer.insertFromMimeData(png_mime(png_bytes(100, 200)))
    wait_settled(qtbot, window.attachments)
    first, second = window.attachments.items
    prepared = [first.prepared, second.prepared]
    window.composer.set_text("look")
    window.send()
    qtbot.waitUntil(lambda: bool(server.posts) and not window.session.busy, timeout=5000)
    [pending] = window.session._pending.values()
    assert pending.error is not None
    assert pending.attachments == [first, second]
    assert [p["type"] for p in pending.content] == ["text", "image", "image"]
    assert window.attachments.items == []
    with qtbot.waitSignal(window.session.attachmentsRestored):
        window.session.edit(pending.otid)
    assert window.composer.text() == "look"
    assert window.attachments.items == [first, second]
    assert [a.prepared for a in window.attachments.items] == prepared  # not re-encoded
    assert all(c.has_thumbnail for c in window.strip.chips())
    # and it sends fine the second time
    window.send()
    qtbot.waitUntil(lambda: len(server.posts) == 2 and not window.session.busy, timeout=5000)
    assert server.posts[1]["messages"][0]["content"] == server.posts[0]["messages"][0]["content"]


def test_enter_while_preparing_waits_then_sends(qtbot, window, server):
    window.composer.insertFromMimeData(png_mime(png_bytes(3000, 2000)))
    window.composer.set_text("quick")
    assert window.attachments.preparing
    window.send()
    # The Send button says it is waiting (no banner: the layout must not jump meanwhile)
    assert server.posts == [] and window.send_button.text() == "Waiting…"
    assert not window.banner.isVisible()
    qtbot.waitUntil(lambda: bool(server.posts) and not window.session.busy, timeout=10000)
    content = server.posts[0]["messages"][0]["content"]
    assert [p["type"] for p in content] == ["text", "image"]
    assert decoded_size(content[1]) == (1312, 875)  # Claude: 1568 px and ≈1.15 MP
    assert window.send_button.text() == "Send"


def test_a_send_waiting_for_images_can_be_cancelled(qtbot, window, server):
    window.composer.insertFromMimeData(png_mime(png_bytes(3000, 2000)))
    window.composer.set_text("not yet")
    window.send()
    assert window.send_button.text() == "Waiting…"
    window.send_button.click()  # the button cancels the queued send (so does Esc)
    assert window.send_button.text() == "Send"
    wait_settled(qtbot, window.attachments)
    qtbot.wait(100)
    assert server.posts == [] and window.composer.text() == "not yet"
    assert len(window.attachments.items) == 1
    window.send()  # the images are ready now: it goes at once
    qtbot.waitUntil(lambda: bool(server.posts) and not window.session.busy, timeout=5000)


def test_attachments_with_problems_are_never_sent(qtbot, window, server, tmp_path):
    folder = tmp_path / "folder"
    folder.mkdir()
    window.composer.insertFromMimeData(png_mime(png_bytes(40, 40)))
    window.add_files([str(folder)])
    wait_settled(qtbot, window.attachments)
    window.composer.set_text("hi")
    window.send()
    qtbot.waitUntil(lambda: bool(server.posts) and not window.session.busy, timeout=5000)
    assert [p["type"] for p in server.posts[0]["messages"][0]["content"]] == ["text", "image"]
    assert "not sent" in window.banner.label.text() and "folder" in window.banner.label.text()


def test_only_problem_attachments_and_no_text_sends_nothing(qtbot, window, server, tmp_path):
    window.add_files([str(tmp_path / "gone.png")])
    wait_settled(qtbot, window.attachments)
    window.send()
    assert server.posts == []
    assert "gone.png" in window.banner.label.text()
    assert len(window.attachments.items) == 1  # still there to read and remove


# -- the controller on its own ---------------------------------------------------------------


def test_reprepare_all_refits_for_new_limits(qtbot, workers):
    limits = {"now": ImageLimits()}
    ctl = AttachmentController(workers, lambda: limits["now"])
    strip = AttachmentStrip(ctl)
    qtbot.addWidget(strip)
    att = ctl.add_bytes(png_bytes(2000, 1000))
    url = ctl.add_url("https://example.com/a.png")
    wait_settled(qtbot, ctl)
    assert att.prepared.width == 1568
    ctl.reprepare_all()  # same limits: nothing to do
    assert att.ready and not ctl.preparing
    limits["now"] = ImageLimits(max_long_edge=500)
    ctl.reprepare_all()
    assert att.preparing and url.ready
    wait_settled(qtbot, ctl)
    assert (att.prepared.width, att.prepared.height) == (500, 250)
    workers.wait()


def test_a_result_for_the_old_limits_is_dropped_after_a_reprepare(qtbot, workers):
    limits = {"now": ImageLimits()}
    ctl = AttachmentController(workers, lambda: limits["now"])
    widths_when_settled: list[int] = []
    ctl.settled.connect(lambda: widths_when_settled.append(att.prepared.width))
    att = ctl.add_bytes(png_bytes(2000, 1000))
    assert workers.wait()  # prepared for 1568 px; the result waits for the GUI thread
    limits["now"] = ImageLimits(max_long_edge=500)  # the agent's model changed
    ctl.reprepare_all()
    qtbot.waitUntil(lambda: workers.active_count == 0, timeout=10000)
    assert widths_when_settled == [500]  # a send never takes the 1568 px one
    assert att.ready and att.limits == limits["now"] and att.prepared.width == 500


def test_removed_while_preparing_shows_nothing_of_late_results(qtbot, workers):
    ctl = AttachmentController(workers)
    changed, settled = [], []
    ctl.changed.connect(changed.append)
    ctl.settled.connect(lambda: settled.append(1))
    att = ctl.add_bytes(png_bytes(3000, 3000))
    ctl.remove(att)
    assert settled == [1]
    workers.wait()
    qtbot.waitUntil(lambda: workers.active_count == 0, timeout=5000)
    assert changed == [] and settled == [1] and ctl.items == []
    assert att.ready and att.prepared is not None  # kept on it quietly, for a restore (Edit)


def test_tokens_in_tooltip_need_a_known_model(qtbot, workers):
    handle = {"model": None}
    ctl = AttachmentController(workers, model_provider=lambda: handle["model"])
    att = ctl.add_bytes(png_bytes(1092, 1092))
    wait_settled(qtbot, ctl)
    assert "tokens" not in ctl.describe(att)
    handle["model"] = "anthropic/claude-sonnet-4-5-20250929"
    assert ctl.describe(att).endswith("tokens")
    assert ctl.tokens(att) > 1000
    workers.wait()


def test_attachment_core_is_qt_free_and_reports_problems():
    att = Attachment.from_bytes(b"not an image at all", "x.bin")
    try:
        att.prepare(ImageLimits())
    except Exception as exc:
        assert str(exc).startswith("x.bin: ")
    else:
        raise AssertionError("expected a rejection")
    url = Attachment.from_url(" https://h.example/p/q.webp ")
    assert url.state is State.READY and url.name == "q.webp" and url.host == "h.example"
