"""Crisp at 125 % and 150 %: chips, thumbnails, the lightbox and the capture selection are drawn
on the screen's device pixels, not drawn at 100 % and enlarged, and re-drawn when the window
moves to a screen of another ratio.

Each case runs in a fresh process on Qt's offscreen platform with a screen of that ratio (a
logical DPI of 120 or 144 over the base 96: what the offscreen platform scales windows by) and
prints what it measured on the widgets' own grabs, in device pixels.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from tests.app_process import run_snippet

COMMON = r"""
import io, json, sys, time
from PIL import Image
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor, QImage, QPixmap
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QVBoxLayout, QWidget
app = QApplication([])
from desktop.workers import Workers

def settle(cond, timeout=20):
    end = time.monotonic() + timeout
    while not cond() and time.monotonic() < end:
        app.processEvents()
        time.sleep(0.005)
    for _ in range(5):
        app.processEvents()
    return cond()

def png(im):
    out = io.BytesIO()
    im.save(out, "PNG")
    return out.getvalue()

def row(image, y):
    return [QColor(image.pixel(x, y)).red() for x in range(image.width())]
"""

CHIP = r"""
from desktop.ui.attachments import AttachmentController, AttachmentStrip
workers = Workers()
top = QWidget()
top.resize(300, 120)
controller = AttachmentController(workers)
strip = AttachmentStrip(controller, top)
QVBoxLayout(top).addWidget(strip)
if len(sys.argv) > 1:  # start on the 100 % screen, measure after the move to the other one
    top.setScreen(app.screens()[0])
    top.move(10, 10)
top.show()
# A 3.5:1 panorama, black with a white band: the chip shows the centre square, black at its
# sides and white in its middle half, so two hard edges run down the chip.
pano = Image.new("L", (1400, 400), 0)
pano.paste(255, (600, 0, 800, 400))
att = controller.add_bytes(png(pano), "pano.png")
assert settle(lambda: att.preview is not None and att.ready)
if len(sys.argv) > 1:
    first = att.preview
    top.setScreen(app.screens()[1])
    top.move(app.screens()[1].geometry().topLeft() + QPoint(10, 10))
    assert settle(lambda: att.preview is not first)
chip = strip.chips()[0]
chip.repaint()
shot = chip.grab().toImage()
face = chip._face
print(json.dumps({
    "dpr": chip.devicePixelRatioF(),
    "preview": [att.preview.width(), att.preview.height()],
    "face": [face.width(), face.height(), face.devicePixelRatio()],
    "chip": [chip.width(), chip.height()],
    "row": row(shot, shot.height() // 2),
}))
workers.shutdown()
workers.wait()
"""

OVERLAY = r"""
from desktop.ui.attachments.capture import CaptureOverlay
dpr = app.primaryScreen().devicePixelRatio()
grab = QImage(round(300 * dpr), round(200 * dpr), QImage.Format.Format_RGB32)
for y in range(grab.height()):  # every device pixel says where it is
    for x in range(grab.width()):
        grab.setPixel(x, y, QColor(x % 256, y % 256, 200).rgb())
pixmap = QPixmap.fromImage(grab)
pixmap.setDevicePixelRatio(dpr)
overlay = CaptureOverlay(pixmap)
overlay.show()
settle(overlay.isVisible)
start, end = QPoint(31, 23), QPoint(151, 97)  # corners between device pixels at 125 %, 150 %
QTest.mousePress(overlay, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
QTest.mouseMove(overlay, end)
settle(lambda: False, 0.1)
shown = overlay.grab().toImage()
captured = []
overlay.captured.connect(captured.append)
QTest.mouseRelease(overlay, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, end)
accent = overlay.palette().color(overlay.palette().ColorRole.Accent).rgb() & 0xFFFFFF

def kind(x, y):
    seen = shown.pixel(x, y) & 0xFFFFFF
    source = grab.pixel(x, y) & 0xFFFFFF
    if seen == source:
        return "S"  # the grab's own pixel, undimmed
    if seen == accent:
        return "A"
    dim = [round(c * 135 / 255) for c in QColor(source).getRgb()[:3]]
    if all(abs(a - b) <= 2 for a, b in zip(QColor(seen).getRgb()[:3], dim)):
        return "D"  # dimmed
    return "X"

mx, my = round(145 * dpr), round(60 * dpr)  # right of the size label under the box
print(json.dumps({
    "dpr": dpr,
    "captured": [captured[0].width(), captured[0].height()],
    "across": "".join(kind(x, my) for x in range(shown.width())),
    "down": "".join(kind(mx, y) for y in range(shown.height())),
}))
"""

LIGHTBOX = r"""
from desktop.ui.attachments.lightbox import ImageCanvas
dpr = app.primaryScreen().devicePixelRatio()
stripes = QImage(300, 40, QImage.Format.Format_RGB32)
for x in range(300):  # one-pixel black and white columns
    for y in range(40):
        stripes.setPixel(x, y, 0xFF000000 if x % 2 else 0xFFFFFFFF)
canvas = ImageCanvas(stripes)
canvas.set_zoom(1 / dpr)  # fitted so that one image pixel is one device pixel
canvas.show()
settle(canvas.isVisible)
shot = canvas.grab().toImage()
print(json.dumps({"row": row(shot, shot.height() // 2), "size": [shot.width(), shot.height()]}))
"""


def _screens(tmp_path: Path, *dpis: int) -> str:
    screens = [
        {
            "name": f"s{i}",
            "x": 2000 * i,
            "y": 0,
            "width": 1600,
            "height": 900,
            "logicalDpi": dpi,
            "logicalBaseDpi": 96,
        }
        for i, dpi in enumerate(dpis)
    ]
    config = tmp_path / "screens.json"
    config.write_text(json.dumps({"screens": screens}))
    return f"offscreen:configfile={config}"


def _run(tmp_path: Path, script: str, *dpis: int, args: tuple[str, ...] = ()) -> dict:
    out = run_snippet(COMMON + script, *args, home=tmp_path, platform=_screens(tmp_path, *dpis))
    return json.loads(out)


def _soft_pixels(values: list[int]) -> int:
    """Pixels that are neither black nor white across black|white edges: how wide they are."""
    return sum(1 for v in values if 0 < v < 255)


def _assert_crisp(row: list[int]) -> None:
    """A row across the chip: its light border, black, a white band, black, the border."""
    for side in (row, row[::-1]):  # the image starts right at the border: no seam pixel
        first_dark = next(v for v in side if v < 150)
        assert first_dark == 0, row
    # The band's two hard edges stay hard: a downscale leaves two in-between pixels at each;
    # a preview enlarged for the denser screen smears them wider.
    middle = row[6:-6]  # the border and the rounded corners are at the ends
    assert _soft_pixels(middle) <= 4, row


@pytest.mark.parametrize("dpi", [120, 144])
def test_a_chip_shows_its_preview_at_the_screens_device_pixels(tmp_path, dpi):
    shown = _run(tmp_path, CHIP, dpi)
    dpr = dpi / 96
    assert shown["dpr"] == dpr
    # The preview was asked for at the device pixels (240 logical × the ratio) …
    assert max(shown["preview"]) == math.ceil(240 * dpr)
    # … and the chip is drawn into a pixmap of its device size, not one at 100 % enlarged.
    assert shown["face"] == [round(shown["chip"][0] * dpr), round(shown["chip"][1] * dpr), dpr]
    _assert_crisp(shown["row"])


def test_a_chip_is_drawn_again_for_the_denser_screen_the_window_moves_to(tmp_path):
    shown = _run(tmp_path, CHIP, 96, 144, args=("move",))
    assert shown["dpr"] == 1.5
    assert max(shown["preview"]) == 360  # asked for again at 150 %
    assert shown["face"] == [102, 102, 1.5]
    _assert_crisp(shown["row"])


def _runs(line: str) -> list[tuple[str, int]]:
    """ "DDAASSS" → [("D", 2), ("A", 2), ("S", 3)]."""
    out: list[tuple[str, int]] = []
    for c in line:
        if out and out[-1][0] == c:
            out[-1] = (c, out[-1][1] + 1)
        else:
            out.append((c, 1))
    return out


@pytest.mark.parametrize("dpi", [120, 144])
def test_the_capture_selection_shows_exactly_what_is_captured_in_an_even_outline(tmp_path, dpi):
    shown = _run(tmp_path, OVERLAY, dpi)
    outline = math.floor(2 * dpi / 96 + 0.5)  # 2 logical px, whole device px on every side
    width, height = shown["captured"]
    for line, size in ((shown["across"], width), (shown["down"], height)):
        # Dimmed screen, the outline, the selected pixels 1:1 (as many as are captured), the
        # outline again, dimmed screen: no gap, no doubled or blended pixel, no other colour.
        kinds = _runs(line)
        assert [k for k, _ in kinds] == ["D", "A", "S", "A", "D"], kinds
        assert [n for _, n in kinds[1:4]] == [outline, size, outline], kinds


@pytest.mark.parametrize("dpi", [120, 144])
def test_the_lightbox_draws_a_fitted_image_from_the_device_pixels_it_covers(tmp_path, dpi):
    shown = _run(tmp_path, LIGHTBOX, dpi)
    # Every one-pixel stripe survives: drawn at the logical size and enlarged, they turn grey.
    assert shown["size"][0] == 300
    assert set(shown["row"]) == {0, 255}, shown["row"][:20]
