"""The README's picture of the crop and redact editor, over the real main window.

Offscreen, against the in-process fake Letta server (the editor never talks to a server):
`QT_QPA_PLATFORM=offscreen .venv/bin/python -m tests.peers.make_editor_screenshot docs/screenshots`.
A retina-size settings page with an API key and an e-mail address is pasted, the editor is
opened from its chip with Enter, the card that matters is cropped with a mouse drag and the key
is blacked out from the keyboard; the window and the dialog over it are saved as one PNG
(`editor.png`, and `editor-dark.png` in the dark theme).
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image, ImageDraw


def settings_page_png(width: int = 2880, height: int = 1800) -> bytes:
    """A 2× screenshot of a settings page: a sidebar, a profile card with an e-mail address
    and an API key, and a chart nobody needs to see."""
    image = Image.new("RGB", (width, height), (244, 245, 249))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 440, height), fill=(28, 31, 43))
    for i, label in enumerate(["Overview", "Projects", "Billing", "Settings", "Team", "Logs"]):
        y = 180 + i * 110
        if label == "Settings":
            draw.rounded_rectangle((36, y - 20, 404, y + 60), 16, fill=(79, 70, 229))
        draw.text((80, y), label, fill=(235, 236, 242), font_size=38)
    draw.text((520, 70), "Settings › API access", fill=(28, 31, 43), font_size=56)
    card = (520, 190, 1900, 1010)
    draw.rounded_rectangle(card, 30, fill=(255, 255, 255), outline=(222, 224, 232), width=4)
    rows = [
        ("Account", "Dana Whitfield"),
        ("E-mail", "dana.whitfield@example.com"),
        ("API key", "sk-live-7f3a9c21e4b8d05f61a2c9e7b3d4"),
        ("Created", "3 March 2026, 09:41"),
    ]
    for i, (label, value) in enumerate(rows):
        y = 270 + i * 170
        draw.text((600, y), label, fill=(120, 124, 140), font_size=34)
        draw.text((600, y + 52), value, fill=(22, 24, 33), font_size=48)
    draw.rounded_rectangle((1480, 900, 1840, 980), 18, fill=(79, 70, 229))
    draw.text((1530, 915), "Rotate key", fill=(255, 255, 255), font_size=38)
    draw.rounded_rectangle((1980, 190, width - 80, height - 90), 30, fill=(255, 255, 255))
    for i in range(9):
        h = 180 + (i * 173) % 700
        x = 2060 + i * 78
        draw.rectangle((x, height - 200 - h, x + 48, height - 200), fill=(14, 165, 233))
    draw.rounded_rectangle((520, 1090, 1900, height - 90), 30, fill=(255, 255, 255))
    for i in range(5):
        y = 1160 + i * 110
        draw.text((600, y), f"Request log line {i + 1}: 200 OK", fill=(90, 94, 110), font_size=36)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("outdir", type=Path)
    args = parser.parse_args()
    args.outdir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["LETTA_DESKTOP_CONFIG_DIR"] = tempfile.mkdtemp(prefix="shot-config-")

    from PySide6.QtCore import QEvent, QMimeData, QPoint, QPointF, Qt
    from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from desktop.compose import create_window
    from desktop.core.images.edits import Rect
    from desktop.settings import Settings
    from tests.fake_letta import FakeLetta

    app = QApplication.instance() or QApplication(sys.argv[:1])

    def wait(predicate, timeout=30.0):
        end = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > end:
                raise TimeoutError("screenshot scenario stalled")
            app.processEvents()
            time.sleep(0.01)

    def settle(seconds=0.4):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.01)

    def drag(canvas, start: QPointF, end: QPointF) -> None:
        left, none = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
        for kind, pos, button, buttons in (
            (QEvent.Type.MouseButtonPress, start, left, left),
            (QEvent.Type.MouseMove, end, Qt.MouseButton.NoButton, left),
            (QEvent.Type.MouseButtonRelease, end, left, Qt.MouseButton.NoButton),
        ):
            event = QMouseEvent(kind, pos, canvas.mapToGlobal(pos), button, buttons, none)
            QApplication.sendEvent(canvas, event)

    def at(editor, x: int, y: int) -> QPointF:
        r, s = editor.canvas.image_rect(), editor.canvas.scale()
        return QPointF(r.x() + x * s, r.y() + y * s)

    fake = FakeLetta(key=None)
    agent = fake.add_agent("Support triage", "anthropic/claude-sonnet-4-5-20250929")
    fake.messages[agent["id"]] += [
        {
            "id": "message-1",
            "message_type": "user_message",
            "otid": "otid-1",
            "date": "2026-12-05T09:40:00Z",
            "content": [{"type": "text", "text": "The key rotation page looks wrong to me."}],
        },
        {
            "id": "message-2",
            "message_type": "assistant_message",
            "otid": "otid-2",
            "date": "2026-12-05T09:40:05Z",
            "content": "Can you paste a screenshot of the card? Black out the key itself.",
        },
    ]

    for theme, name in (("light", "editor.png"), ("dark", "editor-dark.png")):
        os.environ["LETTA_DESKTOP_DATA_DIR"] = tempfile.mkdtemp(prefix="shot-data-")  # no draft
        Settings().theme = theme  # what the window applies when it is made
        ns = argparse.Namespace(base_url="https://letta.example.test", agent=None, files=[])
        window, base_url, _ = create_window(ns, use_keyring=False, client_factory=fake.factory)
        window.resize(1080, 820)
        window.show()
        window.start(base_url, "any-key", agent["id"])
        wait(lambda w=window: w.session is not None and w.session.agent is not None)
        settle()
        mime = QMimeData()
        mime.setData("image/png", settings_page_png())
        window.composer.setFocus()
        window.composer.insertFromMimeData(mime)
        wait(lambda w=window: w.attachments.items and not w.attachments.preparing)
        QTest.keyClicks(window.composer, "Here is the card, key blacked out.")
        settle()

        [att] = window.attachments.items
        chip = window.strip.chip_for(att)
        chip.setFocus()
        opened = []
        window.features.editor.opened.connect(opened.append)
        QTest.keyClick(chip, Qt.Key.Key_Return)
        wait(lambda o=opened: o)
        editor = opened[0]
        wait(lambda e=editor: e.canvas.image.width() > 240)  # sharpened: the decode is done
        editor.resize(900, 640)
        editor.move(window.geometry().center() - editor.rect().center() + QPoint(0, 20))
        settle()
        drag(editor.canvas, at(editor, 500, 170), at(editor, 1930, 1040))  # the card
        QTest.keyClick(editor.canvas, Qt.Key.Key_R)
        drag(editor.canvas, at(editor, 588, 655), at(editor, 1640, 735))  # the key
        # … and a box being placed over the e-mail address (as the arrow keys leave one)
        editor.canvas.set_draft(Rect(588, 485, 700, 78))
        settle()

        # The offscreen platform has no window manager: the dialog is drawn over the window
        # where it sits, with a shadow and an edge so that it reads as a dialog.
        shot = window.grab().toImage().convertToFormat(QImage.Format.Format_ARGB32)
        dialog = editor.grab()
        offset = editor.geometry().topLeft() - window.geometry().topLeft()
        p = QPainter(shot)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        for spread in range(14, 0, -2):
            shadow = QColor(0, 0, 0, 10)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(shadow)
            rect = (
                dialog.rect().translated(offset).adjusted(-spread, -spread + 4, spread, spread + 4)
            )
            p.drawRoundedRect(rect, 10, 10)
        p.drawPixmap(offset, dialog)
        p.setPen(QColor(0, 0, 0, 90))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRect(dialog.rect().translated(offset).adjusted(0, 0, -1, -1))
        p.end()
        shot.save(str(args.outdir / name))
        editor.reject()
        settle(0.2)
        window.close()
        window.workers.shutdown()
        window.workers.wait()
    print(f"saved the editor screenshots to {args.outdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
