"""Helpers for the attachment tests: images on disk, a FakeLetta with one vision agent, a connected
window."""

from __future__ import annotations

import io
import json
from pathlib import Path

from PIL import Image

from tests.fake_letta import FakeLetta

VISION_MODEL = "anthropic/claude-sonnet-4-5-20250929"


def png_bytes(w: int, h: int, color=(40, 120, 220)) -> bytes:
    out = io.BytesIO()
    im = Image.new("RGB", (w, h), color)
    # some structure so it isn't a flat colour (the fit step treats it as a graphic either way)
    for x in range(0, w, max(1, w // 8)):
        im.paste((250, 250, 250), (x, 0, min(w, x + 2), h))
    im.save(out, "PNG")
    return out.getvalue()


def jpeg_bytes(w: int, h: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (w, h), (200, 90, 30)).save(out, "JPEG", quality=90)
    return out.getvalue()


def write(path: Path, data: bytes) -> str:
    path.write_bytes(data)
    return str(path)


def sse(*events: dict | str) -> bytes:
    out = []
    for ev in events:
        out.append(f"data: {json.dumps(ev) if isinstance(ev, dict) else ev}\n\n")
    return "".join(out).encode()


# -- fixtures (imported by the test modules) ------------------------------------------------------

import pytest  # noqa: E402

from desktop.settings import Settings  # noqa: E402
from tests.memory_keyring import memory_secrets  # noqa: E402


@pytest.fixture
def server() -> FakeLetta:
    """Agent "agent-1" on a vision model; any key is accepted."""
    fake = FakeLetta(key=None)
    fake.add_agent("Vision", VISION_MODEL, agent_id="agent-1")
    return fake


def make_window(qtbot, workers, server, *, connect: bool = True):
    from desktop.ui.window.main_window import MainWindow

    window = MainWindow(workers, Settings(), memory_secrets(), server.factory)
    qtbot.addWidget(window)
    window.resize(900, 700)
    window.show()
    if connect:
        window.start("https://letta.example.test", "sk-test-key-123456", "agent-1")
        qtbot.waitUntil(
            lambda: window.session is not None and window.session.agent is not None, timeout=5000
        )
        workers.wait()
        qtbot.wait(10)
    return window


@pytest.fixture
def window(qtbot, workers, server):
    win = make_window(qtbot, workers, server)
    yield win
    win.close()
    workers.wait()
    if win.connection is not None:
        win.connection.client.close()


def wait_settled(qtbot, controller, timeout: int = 10000) -> None:
    qtbot.waitUntil(lambda: not controller.preparing, timeout=timeout)
    qtbot.waitUntil(
        lambda: (
            all(a.preview is not None for a in controller.items if a.kind.value != "url")
            or any(a.problem for a in controller.items)
        ),
        timeout=timeout,
    )
