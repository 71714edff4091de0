"""The window opens on the screen people have: small laptops, scaling, a monitor that is gone.

Each case starts the app's window in a fresh process on Qt's offscreen platform configured as
that screen (logical size and device pixel ratio), shows it, and checks what a user would check:
the whole window, the message box and Send are on the screen, and so is a dialog.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.app_process import run_snippet

SCRIPT = r"""
import json, sys
from PySide6.QtCore import QRect
from PySide6.QtWidgets import QApplication, QWidget
app = QApplication([])
import desktop.app
import desktop.compose
from desktop.settings import Settings
saved = json.loads(sys.argv[1])
if saved:  # a geometry saved on a screen that is not there now
    probe = QWidget()
    probe.setGeometry(QRect(*saved))
    Settings().set_window_geometry(probe.saveGeometry())
window, _, _ = desktop.compose.create_window(desktop.app.build_parser().parse_args([]),
                                         use_keyring=False)
window.show()
from desktop.ui.notice import Notice, Tone
window.banner.show(Notice("Could not reach the server: the connection was refused. "
                          "Check the address, or that the server is running.",
                          Tone.ERROR, "Retry", lambda: None))
for _ in range(20):
    app.processEvents()
if len(sys.argv) > 2:  # a screenshot of what this screen shows
    window.grab().save(sys.argv[2])

def rect(widget):
    top_left = widget.mapToGlobal(widget.rect().topLeft())
    return [top_left.x(), top_left.y(), widget.width(), widget.height()]

from desktop.ui.connection.agent_picker import AgentPicker
picker = AgentPicker(window.workers, lambda **kw: [], None, window)
picker.show()
for _ in range(20):
    app.processEvents()
frame = picker.frameGeometry()

avail = window.screen().availableGeometry()
print(json.dumps({
    "picker": [frame.x(), frame.y(), frame.width(), frame.height()],
    "screen": [avail.x(), avail.y(), avail.width(), avail.height()],
    "window": [window.frameGeometry().x(), window.frameGeometry().y(),
               window.frameGeometry().width(), window.frameGeometry().height()],
    "composer": rect(window.composer),
    "send": rect(window.send_button),
    "banner": rect(window.banner),
    "banner_shown": window.banner.isVisible(),
}))
"""


def _inside(inner: list[int], outer: list[int]) -> bool:
    x, y, w, h = inner
    ox, oy, ow, oh = outer
    return x >= ox and y >= oy and x + w <= ox + ow and y + h <= oy + oh


def _run(
    tmp_path: Path, screens: list[dict], saved: list[int] | None = None, shot: str = ""
) -> dict:
    config = tmp_path / "screens.json"
    config.write_text(json.dumps({"screens": screens}))
    platform = f"offscreen:configfile={config}"
    args = [json.dumps(saved)] + ([shot] if shot else [])
    return json.loads(run_snippet(SCRIPT, *args, home=tmp_path, platform=platform))


def _screen(name: str, width: int, height: int, dpr: float, x: int = 0) -> dict:
    return {"name": name, "x": x, "y": 0, "width": width, "height": height, "dpr": dpr}


SIZES = {"1366×768": (1366, 768), "1280×720": (1280, 720), "2560×1600": (2560, 1600)}


@pytest.mark.parametrize("dpr", [1.0, 1.25, 1.5, 2.0])
@pytest.mark.parametrize("size", list(SIZES))
def test_the_first_window_fits_the_screen_with_the_message_box_send_and_banner_on_it(
    tmp_path, size, dpr
):
    """A screen of `size` logical pixels at `dpr` (1280×720 is 1920×1080 at 150 %), first start."""
    width, height = SIZES[size]
    shown = _run(tmp_path, [_screen("screen", width, height, dpr)])
    case = f"{size} at {dpr:.0%}"
    assert _inside(shown["window"], shown["screen"]), (case, shown)
    assert _inside(shown["composer"], shown["screen"]), (case, shown)
    assert _inside(shown["send"], shown["screen"]), (case, shown)
    assert shown["banner_shown"] and _inside(shown["banner"], shown["screen"]), (case, shown)
    assert _inside(shown["picker"], shown["screen"]), (case, shown)  # a dialog, too


@pytest.mark.parametrize(
    ("case", "screen"),
    [
        ("1366×768 at 125 %", _screen("laptop", 1093, 614, 1.25)),
        ("1600×1000 at 200 %", _screen("hidpi", 800, 500, 2.0)),
    ],
)
def test_a_scaled_laptop_screen_shows_the_whole_window(tmp_path, case, screen):
    """What those screens' users have: 1366×768 device pixels at 125 % is 1093×614 logical."""
    shown = _run(tmp_path, [screen])
    for part in ("window", "composer", "send", "banner", "picker"):
        assert _inside(shown[part], shown["screen"]), (case, part, shown)


def test_a_window_saved_on_a_monitor_that_is_gone_comes_back_onto_the_screen(tmp_path):
    shown = _run(tmp_path, [_screen("laptop", 1280, 720, 1.0)], saved=[2200, 300, 1000, 900])
    assert _inside(shown["window"], shown["screen"]), shown
    assert _inside(shown["send"], shown["screen"]), shown
