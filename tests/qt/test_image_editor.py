"""The crop and redact editor, driven the way a user does: from the chip (double-click, Enter),
by mouse and by keyboard only; what the agent would receive is decoded and looked at."""

from __future__ import annotations

import io

import shiboken6
from PIL import Image, ImageChops, ImageDraw, ImageStat
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from desktop.core.capabilities import estimate_tokens
from desktop.core.images.edits import Edit, Rect
from desktop.ui.attachments.image_editor import ImageEditor, Mode

from . import attachments_support as support
from .attachments_support import VISION_MODEL, wait_settled

server, window = support.server, support.window  # fixtures (workers: tests/qt/conftest.py)


def page_png(size: tuple[int, int] = (1200, 800)) -> bytes:
    """A light page with dark "text" everywhere (no region is one colour) and a green block at
    (600, 400)–(900, 600)."""
    w, h = size
    im = Image.new("RGB", size, (245, 245, 245))
    d = ImageDraw.Draw(im)
    for y in range(6, h, 16):
        for x in range(6, w, 11):
            d.rectangle((x, y, x + 5, y + 8), fill=(40, 40, (x + y) % 200))
    d.rectangle((600, 400, 899, 599), fill=(20, 160, 60))
    out = io.BytesIO()
    im.save(out, "PNG")
    return out.getvalue()


def sent_image(att) -> Image.Image:
    return Image.open(io.BytesIO(att.prepared.data)).convert("RGBA")


def attach(qtbot, window, data: bytes, name: str = "secret.png"):
    att = window.attachments.add_bytes(data, name)
    wait_settled(qtbot, window.attachments)
    assert att.ready
    return att


def open_by_double_click(qtbot, window, att) -> ImageEditor:
    chip = window.strip.chip_for(att)
    # Through the window, as the platform delivers it: press, release, double-click, release
    # (QTest's widget overload sends the double-click event alone).
    handle, pos = chip.window().windowHandle(), chip.mapTo(chip.window(), QPoint(20, 50))
    with qtbot.waitSignal(window.features.editor.opened, timeout=5000) as blocker:
        QTest.mouseDClick(handle, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pos)
    editor = blocker.args[0]
    qtbot.waitUntil(editor.isActiveWindow)  # the keys go to it from now on
    return editor


def open_by_enter(qtbot, window, att) -> ImageEditor:
    chip = window.strip.chip_for(att)
    chip.setFocus()
    with qtbot.waitSignal(window.features.editor.opened, timeout=5000) as blocker:
        qtbot.keyClick(chip, Qt.Key.Key_Return)
    editor = blocker.args[0]
    qtbot.waitUntil(editor.isActiveWindow)  # the keys go to it from now on
    return editor


def view_point(editor: ImageEditor, x: int, y: int) -> QPointF:
    """Where source pixel boundary (x, y) is on the canvas."""
    r = editor.canvas.image_rect()
    s = editor.canvas.scale()
    return QPointF(r.x() + x * s, r.y() + y * s)


def drag(canvas, start: QPointF, end: QPointF) -> None:
    """Press, move with the button held (QTest's mouseMove carries no buttons), release."""
    left, none = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier

    def send(kind, pos, button, buttons):
        event = QMouseEvent(kind, pos, canvas.mapToGlobal(pos), button, buttons, none)
        QApplication.sendEvent(canvas, event)

    send(QEvent.Type.MouseButtonPress, start, left, left)
    middle = (start + end) / 2
    send(QEvent.Type.MouseMove, middle, Qt.MouseButton.NoButton, left)
    send(QEvent.Type.MouseMove, end, Qt.MouseButton.NoButton, left)
    send(QEvent.Type.MouseButtonRelease, end, left, Qt.MouseButton.NoButton)


def wait_deleted(qtbot, editor: ImageEditor) -> None:
    """Closed and deleted (WA_DeleteOnClose), not just hidden."""
    qtbot.waitUntil(lambda: not shiboken6.isValid(editor), timeout=3000)


def apply_and_wait(qtbot, window, editor: ImageEditor) -> None:
    qtbot.mouseClick(editor.apply_button, Qt.MouseButton.LeftButton)
    wait_deleted(qtbot, editor)
    wait_settled(qtbot, window.attachments)


def test_double_click_opens_the_editor_and_not_the_lightbox(qtbot, window):
    att = attach(qtbot, window, page_png())
    editor = open_by_double_click(qtbot, window, att)
    assert editor.windowTitle() == "Edit secret.png"
    assert editor.canvas.source == (1200, 800)
    qtbot.wait(QApplication.doubleClickInterval() + 100)
    assert window.lightbox.current is None  # the click of the double-click opened nothing
    editor.reject()


def test_a_mouse_drag_crops_and_the_chip_follows(qtbot, window):
    data = page_png((3000, 2000))
    att = attach(qtbot, window, data)
    chip = window.strip.chip_for(att)
    assert chip.toolTip().startswith("secret.png\n3000×2000 PNG → 1312×875 PNG, ")  # ≈1.15 MP
    before_preview = att.preview

    editor = open_by_double_click(qtbot, window, att)
    assert editor.mode is Mode.CROP  # what a drag does first
    drag(editor.canvas, view_point(editor, 600, 400), view_point(editor, 1800, 1200))
    crop = editor.edit.crop
    assert crop is not None
    tolerance = 1 / editor.canvas.scale() + 1  # a screen pixel, in source pixels
    assert abs(crop.x - 600) <= tolerance and abs(crop.right - 1800) <= tolerance
    assert abs(crop.y - 400) <= tolerance and abs(crop.bottom - 1200) <= tolerance
    # the part that matters is sent at full resolution, not shrunk with the whole screen
    assert editor.status.text() == f"{crop.w}×{crop.h} of 3000×2000 · sent as {crop.w}×{crop.h}"
    apply_and_wait(qtbot, window, editor)

    # the part at full resolution (no shrinking: it is within the limits), cropped exactly
    assert (att.prepared.width, att.prepared.height) == (crop.w, crop.h)
    tokens = estimate_tokens(VISION_MODEL, crop.w, crop.h)
    tip = chip.toolTip()
    assert tip.startswith(f"secret.png\n3000×2000 PNG, cropped → {crop.w}×{crop.h} PNG, ")
    assert tip.endswith(f", ≈ {tokens:,} tokens")
    assert att.preview is not before_preview
    assert att.preview.width() == 240 and abs(att.preview.height() - 160) <= 1  # the crop's shape
    source = Image.open(io.BytesIO(data)).convert("RGBA")
    expected = source.crop((crop.x, crop.y, crop.right, crop.bottom))
    assert max(ImageStat.Stat(ImageChops.difference(sent_image(att), expected)).mean) < 1


def test_keyboard_only_redaction(qtbot, window):
    att = attach(qtbot, window, page_png())
    editor = open_by_enter(qtbot, window, att)
    canvas = editor.canvas
    assert canvas.hasFocus()
    qtbot.keyClick(canvas, Qt.Key.Key_R)
    assert editor.mode is Mode.REDACT and editor.redact_button.isChecked()
    qtbot.keyClick(canvas, Qt.Key.Key_Right)  # starts a box in the middle
    assert canvas.draft == Rect(450, 350, 300, 100)
    step = canvas.step(fine=False)
    for _ in range(3):
        qtbot.keyClick(canvas, Qt.Key.Key_Right)
    qtbot.keyClick(canvas, Qt.Key.Key_Down, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClick(canvas, Qt.Key.Key_Left, Qt.KeyboardModifier.ControlModifier)  # one pixel
    box = Rect(450 + 3 * step - 1, 350, 300, 100 + step)
    assert canvas.draft == box
    assert editor.hint.text() == (
        f"New box {box.w}×{box.h} at {box.x}, {box.y}: arrows move it, Shift+arrows resize "
        "it, Enter keeps it, Esc drops it."
    )
    qtbot.keyClick(canvas, Qt.Key.Key_Return)  # keeps the box
    assert editor.edit.boxes == (box,) and canvas.draft is None and editor.isVisible()
    assert editor.status.text() == "1200×800, whole image · 1 area blacked out · sent as 1200×800"
    qtbot.keyClick(canvas, Qt.Key.Key_Return)  # applies
    wait_deleted(qtbot, editor)
    wait_settled(qtbot, window.attachments)

    sent = sent_image(att)
    assert sent.size == (1200, 800)
    colours = sent.crop((box.x, box.y, box.right, box.bottom)).getcolors(1)
    assert colours == [(box.w * box.h, (0, 0, 0, 255))]  # uniformly black, every pixel of it
    assert att.edit == Edit((1200, 800), None, (box,))
    assert "1200×800 PNG, 1 area blacked out → 1200×800 PNG" in window.strip.chip_for(att).toolTip()


def test_undo_redo_and_reset(qtbot, window):
    att = attach(qtbot, window, page_png())
    editor = open_by_enter(qtbot, window, att)
    canvas = editor.canvas
    qtbot.keyClick(canvas, Qt.Key.Key_R)
    drag(canvas, view_point(editor, 100, 100), view_point(editor, 300, 200))
    drag(canvas, view_point(editor, 500, 500), view_point(editor, 700, 600))
    assert len(editor.edit.boxes) == 2
    assert editor.status.text() == "1200×800, whole image · 2 areas blacked out · sent as 1200×800"
    first, second = editor.edit.boxes

    qtbot.keyClick(canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert editor.edit.boxes == (first,)
    assert editor.status.text() == "1200×800, whole image · 1 area blacked out · sent as 1200×800"
    ctrl_shift = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    qtbot.keyClick(canvas, Qt.Key.Key_Z, ctrl_shift)
    assert editor.edit.boxes == (first, second)
    qtbot.keyClick(canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(canvas, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert editor.edit.boxes == (first, second) and not editor.redo_button.isEnabled()

    qtbot.mouseClick(editor.reset_button, Qt.MouseButton.LeftButton)
    assert (
        editor.edit.identity and editor.status.text() == "1200×800, whole image · sent as 1200×800"
    )
    assert not editor.reset_button.isEnabled()
    qtbot.mouseClick(editor.undo_button, Qt.MouseButton.LeftButton)
    assert editor.edit.boxes == (first, second)
    qtbot.mouseClick(editor.redo_button, Qt.MouseButton.LeftButton)
    apply_and_wait(qtbot, window, editor)
    assert att.edit is None  # applied after Reset: sent as it came
    assert window.strip.chip_for(att).toolTip().startswith("secret.png\n1200×800 PNG, ")


def test_escape_cancels_with_nothing_changed(qtbot, window):
    att = attach(qtbot, window, page_png())
    prepared, preview = att.prepared, att.preview
    editor = open_by_enter(qtbot, window, att)
    canvas = editor.canvas
    qtbot.keyClick(canvas, Qt.Key.Key_R)
    drag(canvas, view_point(editor, 100, 100), view_point(editor, 300, 200))
    qtbot.keyClick(canvas, Qt.Key.Key_Down)  # a second box, being made
    assert canvas.draft is not None
    qtbot.keyClick(canvas, Qt.Key.Key_Escape)  # drops the box being made only
    assert canvas.draft is None and editor.isVisible() and len(editor.edit.boxes) == 1
    qtbot.keyClick(canvas, Qt.Key.Key_Escape)
    wait_deleted(qtbot, editor)
    qtbot.wait(50)
    assert att.edit is None and att.ready
    assert att.prepared is prepared and att.preview is preview  # not even prepared again
    assert window.features.editor.current is None


def test_the_lightbox_of_a_pending_image_offers_edit(qtbot, window):
    att = attach(qtbot, window, page_png())
    with qtbot.waitSignal(window.lightbox.opened, timeout=5000) as blocker:
        window.strip.previewRequested.emit(att)  # a click, without the double-click wait
    box = blocker.args[0]
    assert box.edit_button is not None and box.edit_button.accessibleName() == "Edit image"
    with qtbot.waitSignal(window.features.editor.opened, timeout=5000) as opened:
        qtbot.mouseClick(box.edit_button, Qt.MouseButton.LeftButton)
    assert opened.args[0].attachment is att
    assert not shiboken6.isValid(box) or not box.isVisible()
    opened.args[0].reject()


def test_every_control_has_a_name_and_the_dialog_fits_its_screen(qtbot, window):
    from desktop.ui.accessibility import interactive_widgets

    att = attach(qtbot, window, page_png((7680, 4320)))  # 8K
    editor = open_by_enter(qtbot, window, att)
    # at once, on the chip's preview (decoding the 8K PNG takes ~0.7 s), then sharpened
    assert editor.canvas.image.width() == 240 and editor.canvas.source == (7680, 4320)
    qtbot.waitUntil(lambda: editor.canvas.image.width() == 2048, timeout=10000)  # not 8K
    for widget in [*interactive_widgets(editor), editor.canvas]:
        assert widget.accessibleName(), widget
    screen = editor.screen().availableGeometry()
    assert screen.contains(editor.frameGeometry()) or screen.contains(editor.geometry())
    # a source pixel boundary maps to the screen and back exactly, even at 8K
    canvas = editor.canvas
    for x, y in ((0, 0), (7680, 4320), (1234, 987)):
        back = canvas.to_source(view_point(editor, x, y))
        assert abs(back[0] - x) <= 1 / canvas.scale() and abs(back[1] - y) <= 1 / canvas.scale()
    editor.reject()


def test_an_edit_survives_a_draft_save_and_restore(qtbot, window, workers, server):
    att = attach(qtbot, window, page_png())
    edit = Edit((1200, 800)).with_crop(Rect(100, 100, 600, 400)).with_box(Rect(150, 150, 50, 50))
    with qtbot.waitSignal(window.drafts.saved, timeout=5000):
        window.attachments.apply_edit(att, edit)
    wait_settled(qtbot, window.attachments)
    window.close()
    workers.wait()

    again = support.make_window(qtbot, workers, server)
    qtbot.waitUntil(lambda: len(again.attachments) == 1, timeout=5000)
    wait_settled(qtbot, again.attachments)
    [back] = again.attachments.items
    assert back.edit == edit
    assert (back.prepared.width, back.prepared.height) == (600, 400)
    sent = sent_image(back)
    assert sent.crop((50, 50, 100, 100)).getcolors(1) == [(2500, (0, 0, 0, 255))]
    again.close()
    workers.wait()


def test_a_send_right_after_an_edit_never_shows_the_unedited_preview(qtbot, workers, tmp_path):
    from desktop.ui.attachments import AttachmentController

    path = tmp_path / "shot.png"
    path.write_bytes(page_png())
    controller = AttachmentController(workers)
    att = controller.add_file(str(path))  # a file: its new preview comes after the preparation
    wait_settled(qtbot, controller)
    unedited = att.preview
    seen = []
    controller.settled.connect(lambda: seen.append(controller.outgoing()))
    controller.apply_edit(att, Edit((1200, 800)).with_box(Rect(0, 0, 600, 400)))
    qtbot.waitUntil(lambda: bool(seen), timeout=5000)
    assert seen[0].attachments == [att] and seen[0].thumbnails == []  # ready, old preview held
    qtbot.waitUntil(lambda: att.preview is not unedited, timeout=5000)
    assert controller.outgoing().thumbnails == [att.preview]
    workers.wait()


def test_the_chip_menu_opens_the_editor(qtbot, window):
    att = attach(qtbot, window, page_png())
    menu = window.strip.chip_for(att).context_menu()
    [crop] = [a for a in menu.actions() if a.text() == "Crop and redact…"]
    with qtbot.waitSignal(window.features.editor.opened, timeout=5000) as blocker:
        crop.trigger()
    editor = blocker.args[0]
    assert editor.windowTitle() == "Edit secret.png"
    editor.reject()
    wait_deleted(qtbot, editor)
