"""Images through the real window to the real Letta server and on to the (fake) provider."""

from __future__ import annotations

import argparse
import base64
import hashlib
import http.server
import io
import threading
from typing import ClassVar

import pytest
from PIL import Image, ImageDraw
from PySide6.QtCore import QMimeData, Qt

from desktop.compose import create_window
from desktop.ui.transcript import ImagesRole, KindRole, RowKind, TextRole
from tests.memory_keyring import memory_secrets
from tests.stall import StallMeter

API_KEY = "e2e-any-key"


def screenshot_png(width: int = 5120, height: int = 2880) -> bytes:
    """A 5K 'screenshot': flat UI panels, small text, with EXIF-free PNG text chunks that must
    not survive (a tEXt comment stands in for metadata)."""
    image = Image.new("RGB", (width, height), (246, 247, 249))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width, 120), fill=(32, 36, 48))
    draw.rectangle((0, 120, 900, height), fill=(232, 235, 240))
    for row in range(40):
        draw.text(
            (960, 200 + row * 60), f"line {row}: the quick brown fox 0123456789", fill=(20, 20, 20)
        )
    draw.rectangle((3000, 600, 4800, 2200), outline=(79, 70, 229), width=12)
    out = io.BytesIO()
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "secret location: 52.5200 N, 13.4050 E")
    image.save(out, "PNG", pnginfo=info, compress_level=1)
    return out.getvalue()


@pytest.fixture
def window(qtbot, letta_stack):
    agent = letta_stack.create_agent(name="e2e-vision")
    args = argparse.Namespace(base_url=letta_stack.base_url, agent=agent["id"], files=[])
    win, base_url, _ = create_window(args, secrets=memory_secrets())
    qtbot.addWidget(win)
    win.show()
    win.start(base_url, API_KEY, agent["id"])
    qtbot.waitUntil(
        lambda: win.session is not None and win.session.agent is not None, timeout=30000
    )
    win.agent_json = agent
    yield win
    win.close()
    win.workers.shutdown()


def _last_image_parts(letta_stack) -> list[str]:
    body = letta_stack.chat_requests()[-1]
    last_user = [m for m in body["messages"] if m["role"] == "user"][-1]
    content = last_user["content"]
    return [
        p["image_url"]["url"]
        for p in content
        if isinstance(p, dict) and p.get("type") == "image_url"
    ]


def _last_image_details(letta_stack) -> list[str | None]:
    """The `detail` of each image part in the last request (None: absent)."""
    body = letta_stack.chat_requests()[-1]
    last_user = [m for m in body["messages"] if m["role"] == "user"][-1]
    return [
        p["image_url"].get("detail")
        for p in last_user["content"]
        if isinstance(p, dict) and p.get("type") == "image_url"
    ]


def test_a_pasted_5k_screenshot_reaches_the_provider_fitted_and_clean(qtbot, letta_stack, window):
    png = screenshot_png()
    mime = QMimeData()
    mime.setData("image/png", png)
    with StallMeter() as meter:
        window.composer.setFocus()
        window.composer.insertFromMimeData(mime)  # what Ctrl+V does with this clipboard
        qtbot.waitUntil(
            lambda: window.attachments.items and not window.attachments.preparing, timeout=30000
        )
        item = window.attachments.items[0]
        assert item.ready, item.problem
        qtbot.keyClicks(window.composer, "What is on my screen?")
        qtbot.keyClick(window.composer, Qt.Key.Key_Return)
        qtbot.waitUntil(
            lambda: (
                window.session is not None
                and not window.session.busy
                and not window.attachments.items
            ),
            timeout=60000,
        )
    assert meter.max_stall_ms < 250, f"GUI stalled {meter.max_stall_ms:.0f} ms"

    urls = _last_image_parts(letta_stack)
    assert len(urls) == 1
    header, data = urls[0].split(",", 1)
    assert header == "data:image/png;base64"  # a screenshot stays PNG: text stays crisp
    received = base64.b64decode(data)
    got = Image.open(io.BytesIO(received))
    # Fitted to what gpt-4o-mini keeps (fit 2048², then short side 768), aspect kept: no more
    # pixels than OpenAI uses, and history-safe (<= 2000 px) for any later model.
    assert window.session.agent.model == "openai-proxy/gpt-4o-mini"
    expected = (1365, 768)
    assert got.size == expected
    assert got.width <= 1365 and got.height <= 768 and max(got.size) <= 2000
    assert _last_image_details(letta_stack) == ["auto"]  # no detail sent: the server's default
    assert not got.info.get("Comment") and "exif" not in got.info
    assert b"52.5200" not in received
    # The pixels are the screenshot's, scaled: compare against our own reference downscale.
    reference = Image.open(io.BytesIO(png)).convert("RGB").resize(expected, Image.LANCZOS)
    diff = sum(
        abs(a - b) for a, b in zip(got.convert("RGB").tobytes(), reference.tobytes(), strict=True)
    ) / (expected[0] * expected[1] * 3)
    assert diff < 3.0, f"mean channel difference {diff:.2f}"

    # The transcript shows what the model said it saw, and the server stored the image.
    replies = [
        window.transcript_model.index(r, 0).data(TextRole)
        for r in range(window.transcript_model.rowCount())
        if window.transcript_model.index(r, 0).data(KindRole) is RowKind.ASSISTANT
    ]
    assert f"image 1: image/png {expected[0]}x{expected[1]}" in replies[-1]
    assert hashlib.sha256(received).hexdigest() in replies[-1]
    with letta_stack.http() as http:
        history = http.get(
            f"/v1/agents/{window.agent_json['id']}/messages", params={"limit": 10}
        ).json()
    stored = [
        m for m in history if m["message_type"] == "user_message" and isinstance(m["content"], list)
    ]
    parts = [p for p in stored[-1]["content"] if p["type"] == "image"]
    assert parts[0]["source"]["type"] == "letta"
    assert base64.b64decode(parts[0]["source"]["data"]) == received

    # Reopening the agent shows the stored image as a thumbnail in the history.
    window.reload_history()

    def history_image_rows():
        model = window.transcript_model
        return [
            r
            for r in range(model.rowCount())
            if model.index(r, 0).data(KindRole) is RowKind.USER
            and model.index(r, 0).data(ImagesRole)
        ]

    qtbot.waitUntil(lambda: bool(history_image_rows()), timeout=30000)


def test_a_low_detail_paste_reaches_the_provider_at_512_px_saying_low(qtbot, letta_stack, window):
    mime = QMimeData()
    mime.setData("image/png", screenshot_png())
    window.composer.setFocus()
    window.composer.insertFromMimeData(mime)
    qtbot.waitUntil(
        lambda: window.attachments.items and not window.attachments.preparing, timeout=30000
    )
    [item] = window.attachments.items
    menu = window.strip.chip_for(item).context_menu()
    [low] = [a for a in menu.actions() if a.text() == "Low detail"]
    low.trigger()  # what the chip's right-click menu does
    qtbot.waitUntil(lambda: item.ready and item.low_detail, timeout=30000)
    assert window.vision.tokens_label.text() == "1 image · ≈ 2,833 tokens"
    qtbot.keyClicks(window.composer, "Roughly what is this?")
    qtbot.keyClick(window.composer, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not window.session.busy and not window.attachments.items, timeout=60000)
    urls = _last_image_parts(letta_stack)
    got = Image.open(io.BytesIO(base64.b64decode(urls[-1].split(",", 1)[1])))
    assert got.size == (512, 288)
    assert _last_image_details(letta_stack) == ["low"]  # stored and forwarded by the server
    with letta_stack.http() as http:
        history = http.get(
            f"/v1/agents/{window.agent_json['id']}/messages", params={"limit": 10}
        ).json()
    stored = [
        m for m in history if m["message_type"] == "user_message" and isinstance(m["content"], list)
    ]
    parts = [p for p in stored[-1]["content"] if p["type"] == "image"]
    assert parts[0]["source"]["detail"] == "low"


class _ImageHandler(http.server.BaseHTTPRequestHandler):
    body = b""
    hits: ClassVar[list[str]] = []

    def do_GET(self):
        type(self).hits.append(self.headers.get("User-Agent", ""))
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(self.body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


def test_a_url_image_is_fetched_by_the_server_from_127_0_0_1(qtbot, letta_stack, window):
    image = Image.new("RGB", (320, 200), (200, 30, 30))
    out = io.BytesIO()
    image.save(out, "PNG")
    _ImageHandler.body = out.getvalue()
    _ImageHandler.hits = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _ImageHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/red.png"
        window.attachments.add_url(url)
        qtbot.keyClicks(window.composer, "and this one?")
        qtbot.keyClick(window.composer, Qt.Key.Key_Return)
        qtbot.waitUntil(
            lambda: not window.session.busy and not window.attachments.items, timeout=60000
        )
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
    assert _ImageHandler.hits and _ImageHandler.hits[0].startswith("Letta")
    urls = _last_image_parts(letta_stack)
    assert base64.b64decode(urls[-1].split(",", 1)[1]) == _ImageHandler.body
