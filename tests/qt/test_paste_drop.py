"""Capture: paste (bytes, files, QImage, text, URL), drag and drop, removal, the lightbox."""

from __future__ import annotations

import base64
import io
import time

import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import (
    QColor,
    QDragEnterEvent,
    QDragLeaveEvent,
    QDropEvent,
    QImage,
    QPainter,
)
from PySide6.QtWidgets import QApplication

from desktop.core.attachments import Kind, State
from desktop.core.images import set_svg_rasterizer
from desktop.core.letta.models import ImageRef
from tests.memory_keyring import memory_secrets

from . import attachments_support as support
from .attachments_support import jpeg_bytes, png_bytes, wait_settled, write

server, window = support.server, support.window  # fixtures (workers: tests/qt/conftest.py)


def paste(window, mime: QMimeData) -> None:
    """What Ctrl+V does: QPlainTextEdit.paste() → insertFromMimeData(clipboard mime)."""
    window.composer.insertFromMimeData(mime)


def png_mime(data: bytes) -> QMimeData:
    mime = QMimeData()
    mime.setData("image/png", data)
    return mime


def test_paste_image_bytes_shows_a_chip_at_once_then_ready(qtbot, window):
    mime = png_mime(png_bytes(2400, 1200))
    assert window.composer.canInsertFromMimeData(mime)
    paste(window, mime)
    chips = window.strip.chips()
    assert len(chips) == 1 and window.strip.isVisible()  # before any worker ran
    att = chips[0].attachment
    assert att.state is State.PREPARING and att.kind is Kind.BYTES
    assert att.name == "Pasted image.png"
    wait_settled(qtbot, window.attachments)
    assert att.ready and chips[0].has_thumbnail and not chips[0].has_problem
    assert (att.prepared.width, att.prepared.height) == (1517, 758)  # Claude: ≈1.15 MP
    tip = chips[0].toolTip()
    assert att.prepared.summary() in tip
    assert tip.startswith("Pasted image.png\n2400×1200 PNG → 1517×758 PNG")
    assert ", ≈ " in tip and tip.endswith(" tokens")  # the agent's model is a Claude
    assert window.composer.text() == ""


def test_paste_file_url_attaches_the_file_not_the_icon(qtbot, window, tmp_path):
    path = write(tmp_path / "photo.png", png_bytes(640, 480))
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(path)])
    icon = QImage(48, 48, QImage.Format.Format_ARGB32)
    icon.fill(QColor("orange"))
    mime.setImageData(icon)
    mime.setData("image/png", png_bytes(48, 48))
    paste(window, mime)
    wait_settled(qtbot, window.attachments)
    [att] = window.attachments.items
    assert att.kind is Kind.FILE and att.path == path and att.name == "photo.png"
    assert (att.prepared.width, att.prepared.height) == (640, 480)


def test_paste_clipboard_qimage_becomes_png(qtbot, window):
    image = QImage(300, 200, QImage.Format.Format_RGB32)
    image.fill(QColor("#3a7bd5"))
    mime = QMimeData()
    mime.setImageData(image)
    paste(window, mime)
    assert len(window.strip.chips()) == 1
    wait_settled(qtbot, window.attachments)
    [att] = window.attachments.items
    assert att.ready and att.prepared.original_media_type == "image/png"
    assert (att.prepared.width, att.prepared.height) == (300, 200)
    sent = Image.open(io.BytesIO(att.prepared.data)).convert("RGB")
    assert sent.getpixel((150, 100)) == (0x3A, 0x7B, 0xD5)  # channels in order, not BGR
    assert att.preview is not None and att.preview.pixelColor(10, 10) == QColor("#3a7bd5")


@pytest.mark.parametrize(
    "fmt",
    [
        QImage.Format.Format_ARGB32,
        QImage.Format.Format_ARGB32_Premultiplied,
        QImage.Format.Format_RGBA8888,
    ],
)
def test_a_qimage_with_transparency_keeps_it_and_its_colours(qtbot, window, fmt):
    image = QImage(120, 80, QImage.Format.Format_ARGB32)
    image.fill(QColor(0, 0, 0, 0))
    painter = QPainter(image)
    painter.fillRect(0, 0, 60, 80, QColor(220, 30, 40))  # opaque red, left half
    painter.end()
    mime = QMimeData()
    mime.setImageData(image.convertToFormat(fmt))
    paste(window, mime)
    wait_settled(qtbot, window.attachments)
    [att] = window.attachments.items
    sent = Image.open(io.BytesIO(att.prepared.data)).convert("RGBA")
    assert sent.getpixel((20, 40)) == (220, 30, 40, 255)
    assert sent.getpixel((100, 40))[3] == 0  # still transparent


def test_plain_text_still_pastes_as_text(qtbot, window):
    for text in ("hello there", "https://example.com/page.html", "http://192.168.1.5/cat.png"):
        mime = QMimeData()
        mime.setText(text)
        window.composer.clear()
        paste(window, mime)
        assert window.composer.text() == text
    assert window.attachments.items == []
    assert not window.strip.isVisible()


def test_paste_https_image_url_becomes_a_url_attachment(qtbot, window):
    mime = QMimeData()
    mime.setText("https://images.example.org/cats/tabby.jpg?size=large")
    paste(window, mime)
    [att] = window.attachments.items
    assert att.kind is Kind.URL and att.ready and att.name == "tabby.jpg"
    assert att.content_part() == {
        "type": "image",
        "source": {"type": "url", "url": "https://images.example.org/cats/tabby.jpg?size=large"},
    }
    assert window.composer.text() == ""
    # the user is told the server fetches it (chip tooltip and the caption under the strip)
    assert "Letta server will download" in window.strip.chips()[0].toolTip()
    assert "images.example.org" in window.strip.caption_text()


def _drag(window, mime: QMimeData, target=None) -> bool:
    target = target or window
    pos = QPointF(target.width() / 2, target.height() / 2)
    enter = QDragEnterEvent(
        pos.toPoint(),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(target, enter)
    accepted = enter.isAccepted()
    overlay = window.drop_overlay.isVisible()
    drop = QDropEvent(
        pos,
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(target, drop)
    assert not window.drop_overlay.isVisible()
    return accepted and overlay


def test_drop_several_files_good_ones_attach_bad_ones_explained(qtbot, window, tmp_path):
    good1 = write(tmp_path / "one.png", png_bytes(400, 300))
    corrupt = write(tmp_path / "broken.png", png_bytes(400, 300)[:200])
    folder = tmp_path / "Holiday"
    folder.mkdir()
    good2 = write(tmp_path / "two.jpg", jpeg_bytes(500, 500))
    notes = write(tmp_path / "notes.txt", b"just some text, not an image")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(p) for p in (good1, corrupt, str(folder), good2, notes)])
    assert _drag(window, mime)
    assert len(window.strip.chips()) == 5  # at once, in the user's order
    wait_settled(qtbot, window.attachments)
    items = window.attachments.items
    assert [a.name for a in items] == ["one.png", "broken.png", "Holiday", "two.jpg", "notes.txt"]
    assert [a.state for a in items] == [
        State.READY,
        State.PROBLEM,
        State.PROBLEM,
        State.READY,
        State.PROBLEM,
    ]
    assert items[1].problem.startswith("broken.png: ")
    assert items[2].problem == "Holiday: This is a folder, not an image."
    assert items[4].problem.startswith("notes.txt: ")
    caption = window.strip.caption_text()
    assert all(items[i].problem in caption for i in (1, 2, 4))
    chips = window.strip.chips()
    assert [c.has_problem for c in chips] == [False, True, True, False, True]
    assert chips[2].toolTip() == "Holiday\nHoliday: This is a folder, not an image."


def test_drop_on_the_composer_attaches_instead_of_inserting_the_path(qtbot, window, tmp_path):
    path = write(tmp_path / "shot.png", png_bytes(120, 80))
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(path)])
    assert _drag(window, mime, window.composer.viewport())
    assert window.composer.text() == ""
    wait_settled(qtbot, window.attachments)
    assert [a.name for a in window.attachments.items] == ["shot.png"]


def test_drop_overlay_hides_on_leave_and_ignores_plain_text(qtbot, window):
    text = QMimeData()
    text.setText("just words")
    enter = QDragEnterEvent(
        QPoint(10, 10),
        Qt.DropAction.CopyAction,
        text,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(window, enter)
    assert not window.drop_overlay.isVisible()
    mime = png_mime(png_bytes(10, 10))
    enter = QDragEnterEvent(
        QPoint(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(window, enter)
    assert window.drop_overlay.isVisible()
    assert window.drop_overlay.geometry() == window.rect()
    QApplication.sendEvent(window, QDragLeaveEvent())
    assert not window.drop_overlay.isVisible()


def test_drop_url_only(qtbot, window):
    mime = QMimeData()
    mime.setUrls([QUrl("https://cdn.example.net/pictures/view?id=7")])
    assert _drag(window, mime)
    [att] = window.attachments.items
    assert att.kind is Kind.URL and att.url == "https://cdn.example.net/pictures/view?id=7"

    private = QMimeData()
    private.setUrls([QUrl("http://localhost:8080/secret.png")])
    _drag(window, private)
    assert len(window.attachments.items) == 1
    assert window.banner.isVisible()
    assert "local or private address" in window.banner.label.text()


def test_drop_browser_image_uses_the_bytes(qtbot, window):
    mime = QMimeData()
    mime.setUrls([QUrl("https://example.org/img/sunset.png")])
    mime.setData("image/png", png_bytes(64, 32))
    assert _drag(window, mime)
    wait_settled(qtbot, window.attachments)
    [att] = window.attachments.items
    assert att.kind is Kind.BYTES and att.name == "sunset.png" and att.ready


def test_remove_with_the_x_and_with_backspace_on_empty_composer(qtbot, window):
    for n in range(3):
        paste(window, png_mime(png_bytes(50 + n, 40)))
    wait_settled(qtbot, window.attachments)
    first, second, third = window.attachments.items
    chip = window.strip.chip_for(second)
    qtbot.mouseClick(chip.remove_button, Qt.MouseButton.LeftButton)
    assert window.attachments.items == [first, third]
    window.composer.setFocus()
    window.composer.set_text("a")
    qtbot.keyClick(window.composer, Qt.Key.Key_Backspace)  # deletes the "a" only
    assert window.composer.text() == "" and window.attachments.items == [first, third]
    qtbot.keyClick(window.composer, Qt.Key.Key_Backspace)
    assert window.attachments.items == [first]
    qtbot.keyClick(window.composer, Qt.Key.Key_Backspace)
    assert window.attachments.items == []
    assert not window.strip.isVisible()


def test_click_opens_the_lightbox_with_the_full_image(qtbot, window):
    paste(window, png_mime(png_bytes(3000, 2000)))
    wait_settled(qtbot, window.attachments)
    [att] = window.attachments.items
    chip = window.strip.chip_for(att)
    with qtbot.waitSignal(window.lightbox.opened, timeout=5000) as blocker:
        qtbot.mouseClick(chip, Qt.MouseButton.LeftButton, pos=QPoint(20, 50))
    box = blocker.args[0]
    assert (box.image.width(), box.image.height()) == (1312, 875)  # what the agent receives
    assert box.fit and box.canvas.zoom <= 1.0
    box.set_zoom(1.0)
    assert box.canvas.size().width() == 1312 and not box.fit_button.isChecked()
    box.copy_image()
    assert QApplication.clipboard().image().size() == box.image.size()
    box.close()


def test_lightbox_save_as_writes_the_bytes(qtbot, window, workers, tmp_path):
    data = png_bytes(64, 64)
    ref = ImageRef("base64", "image/png", base64.b64encode(data).decode())
    with qtbot.waitSignal(window.lightbox.opened, timeout=5000) as blocker:
        window.transcript.imageActivated.emit(ref)
    box = blocker.args[0]
    assert box.image.size().width() == 64
    out = tmp_path / "saved.png"
    box.save_as(str(out))
    workers.wait()
    assert out.read_bytes() == data
    box.close()


def test_transcript_local_qimage_opens_directly(qtbot, window):
    image = QImage(30, 20, QImage.Format.Format_RGB32)
    image.fill(QColor("red"))
    with qtbot.waitSignal(window.lightbox.opened, timeout=1000) as blocker:
        window.transcript.imageActivated.emit(image)
    assert blocker.args[0].image.size() == image.size()
    blocker.args[0].close()


def test_edit_menu_paste_reaches_the_composer(qtbot, window):
    QApplication.clipboard().setMimeData(png_mime(png_bytes(20, 20)))
    deadline = time.monotonic() + 2
    while not QApplication.clipboard().mimeData().formats() and time.monotonic() < deadline:
        qtbot.wait(10)
    paste_action = next(
        a for m in window.menuBar().actions() if m.text() == "&Edit" for a in m.menu().actions()
    )
    paste_action.trigger()
    assert len(window.attachments.items) == 1
    wait_settled(qtbot, window.attachments)
    QApplication.clipboard().clear()


def test_command_line_files_become_pending_attachments(qtbot, tmp_path):
    from desktop.app import build_parser
    from desktop.compose import create_window

    a = write(tmp_path / "a.png", png_bytes(30, 30))
    b = write(tmp_path / "b.jpg", jpeg_bytes(40, 20))
    args = build_parser().parse_args([a, b])
    win, _, _ = create_window(args, secrets=memory_secrets())
    qtbot.addWidget(win)
    try:
        from desktop.core.images import svg

        assert svg._rasterizer is not None  # the composition root registered Qt's
        assert [x.name for x in win.attachments.items] == ["a.png", "b.jpg"]
        wait_settled(qtbot, win.attachments)
        assert all(x.ready for x in win.attachments.items)
    finally:
        win.workers.shutdown()
        win.workers.wait()
        set_svg_rasterizer(None)  # global state: leave the process as it was
