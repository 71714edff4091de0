"""An image cropped and redacted in the editor, sent through the real Letta server: what the
(fake) provider receives is the crop, at as much of its resolution as the model keeps, with the
box black, never the rest."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image, ImageDraw
from PySide6.QtCore import QMimeData, Qt

SECRET = (3400, 900, 3900, 1000)  # where the "key" is drawn on the 5K screenshot
SENT = (1195, 768)  # the 1400×900 crop as gpt-4o-mini keeps it


def screenshot_png(width: int = 5120, height: int = 2880) -> bytes:
    image = Image.new("RGB", (width, height), (246, 247, 249))
    draw = ImageDraw.Draw(image)
    for row in range(40):
        draw.text((200, 100 + row * 60), f"line {row}: nothing private here", fill=(20, 20, 20))
    x0, y0, x1, y1 = SECRET
    draw.rectangle((x0, y0, x1 - 1, y1 - 1), fill=(200, 30, 30))  # private: must arrive black
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=1)
    return out.getvalue()


@pytest.fixture
def window(letta_stack, open_window):
    return open_window(letta_stack.create_agent(name="e2e-edits")["id"])


def test_the_provider_receives_the_crop_with_the_box_black(qtbot, letta_stack, window):
    from desktop.core.images.edits import Rect
    from desktop.ui.attachments.image_editor import Mode

    mime = QMimeData()
    mime.setData("image/png", screenshot_png())
    window.composer.setFocus()
    window.composer.insertFromMimeData(mime)
    qtbot.waitUntil(
        lambda: window.attachments.items and not window.attachments.preparing, timeout=30000
    )
    [att] = window.attachments.items
    chip = window.strip.chip_for(att)
    chip.setFocus()
    with qtbot.waitSignal(window.features.editor.opened, timeout=10000) as blocker:
        qtbot.keyClick(chip, Qt.Key.Key_Return)
    editor = blocker.args[0]
    qtbot.waitUntil(editor.isActiveWindow)
    # The crop and the box as a user leaves them (the dialog's own steps are tested offscreen).
    editor.canvas.drawn.emit(Rect(3000, 600, 1400, 900))
    editor.set_mode(Mode.REDACT)
    editor.canvas.drawn.emit(Rect(*SECRET[:2], SECRET[2] - SECRET[0], SECRET[3] - SECRET[1]))
    qtbot.keyClick(editor.canvas, Qt.Key.Key_Return)  # Apply
    qtbot.waitUntil(lambda: not window.attachments.preparing and att.ready, timeout=30000)
    # gpt-4o-mini keeps a short side of 768 px: the 1400×900 crop goes at 1195×768, 85 % of its
    # scale (the whole 5K screen would have gone at 1365×768, 27 % of its scale).
    assert (att.prepared.width, att.prepared.height) == SENT

    qtbot.keyClicks(window.composer, "Only this part, please.")
    qtbot.keyClick(window.composer, Qt.Key.Key_Return)
    qtbot.waitUntil(
        lambda: (
            window.session is not None and not window.session.busy and not window.attachments.items
        ),
        timeout=60000,
    )
    body = letta_stack.chat_requests()[-1]
    last_user = [m for m in body["messages"] if m["role"] == "user"][-1]
    [url] = [p["image_url"]["url"] for p in last_user["content"] if p.get("type") == "image_url"]
    header, data = url.split(",", 1)
    assert header == "data:image/png;base64"
    got = Image.open(io.BytesIO(base64.b64decode(data))).convert("RGB")
    assert got.size == SENT
    scale = SENT[1] / 900
    x0, y0, x1, y1 = (SECRET[0] - 3000, SECRET[1] - 600, SECRET[2] - 3000, SECRET[3] - 600)
    inner = (  # the box in sent pixels, less the 2 px that resampling blends with the page
        round(x0 * scale) + 2,
        round(y0 * scale) + 2,
        round(x1 * scale) - 2,
        round(y1 * scale) - 2,
    )
    area = (inner[2] - inner[0]) * (inner[3] - inner[1])
    assert got.crop(inner).getcolors(1) == [(area, (0, 0, 0))]
    assert not any(c[1] == (200, 30, 30) for c in got.getcolors(1 << 20) or [])
