"""Screenshots for the README: the real window talking to the real Letta server.

Run inside a loopback-only namespace with an X server (tests/run_all.sh sets both up; by hand:
`ip netns exec NS env DISPLAY=:N QT_QPA_PLATFORM=xcb .venv/bin/python -m
tests.peers.make_screenshots docs/`). Starts the peer stack, creates an agent through the API,
drives the window like a user (paste, type, Enter) and saves window grabs.
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


def dashboard_png(width: int = 2880, height: int = 1800, accent=(79, 70, 229)) -> bytes:
    """A screenshot-like picture: a sidebar, cards and a bar chart."""
    image = Image.new("RGB", (width, height), (245, 246, 250))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 420, height), fill=(30, 33, 45))
    for i in range(8):
        draw.rounded_rectangle(
            (40, 160 + i * 110, 380, 230 + i * 110), 18, fill=(52, 56, 72) if i else accent
        )
    for i in range(3):
        x = 500 + i * 780
        draw.rounded_rectangle(
            (x, 80, x + 720, 380), 28, fill=(255, 255, 255), outline=(226, 228, 236), width=4
        )
        draw.rectangle((x + 50, 150, x + 420, 190), fill=(200, 204, 214))
        draw.rectangle((x + 50, 240, x + 300, 320), fill=accent)
    draw.rounded_rectangle(
        (500, 460, width - 80, height - 80),
        28,
        fill=(255, 255, 255),
        outline=(226, 228, 236),
        width=4,
    )
    for i in range(14):
        h = 200 + (i * 137) % 900
        x = 600 + i * 150
        draw.rectangle(
            (x, height - 180 - h, x + 90, height - 180), fill=accent if i % 3 else (14, 165, 233)
        )
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("outdir", type=Path)
    args = parser.parse_args()
    args.outdir.mkdir(parents=True, exist_ok=True)
    config = tempfile.mkdtemp(prefix="shot-config-")
    os.environ["LETTA_DESKTOP_CONFIG_DIR"] = config
    os.environ["LETTA_DESKTOP_DATA_DIR"] = tempfile.mkdtemp(prefix="shot-data-")

    from PySide6.QtCore import QMimeData, Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from desktop.compose import create_window
    from tests.peers import letta_server

    app = QApplication.instance() or QApplication(sys.argv[:1])

    def wait(predicate, timeout=60.0):
        end = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > end:
                raise TimeoutError("screenshot scenario stalled")
            app.processEvents()
            time.sleep(0.01)

    def settle(seconds=0.6):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.01)

    stack = letta_server.start_stack(timeout=120)
    try:
        import httpx

        with httpx.Client(
            base_url=stack.base_url, timeout=120, headers=dict(stack.auth_headers)
        ) as http:
            agent = http.post(
                "/v1/agents/", json={"name": "Design reviewer", "model": "openai-proxy/gpt-4o-mini"}
            ).json()
            http.post(
                f"/v1/agents/{agent['id']}/messages",
                headers={"X-Stainless-Package-Version": "1.0"},
                json={
                    "messages": [
                        {
                            "role": "user",
                            "content": "Hi! I'll paste screenshots of our dashboard today.",
                        }
                    ]
                },
            )
        ns = argparse.Namespace(base_url=stack.base_url, agent=agent["id"], files=[])
        window, base_url, _ = create_window(ns, use_keyring=False)
        window.resize(1080, 860)
        window.show()
        window.start(base_url, "any-key", agent["id"])
        wait(lambda: window.session is not None and window.session.agent is not None)
        settle()

        mime = QMimeData()
        mime.setData("image/png", dashboard_png())
        window.composer.setFocus()
        window.composer.insertFromMimeData(mime)
        wait(lambda: window.attachments.items and not window.attachments.preparing)
        QTest.keyClicks(window.composer, "What stands out on this **dashboard**?")
        settle()
        window.grab().save(str(args.outdir / "screenshot-pending.png"))
        QTest.keyClick(window.composer, Qt.Key.Key_Return)
        wait(lambda: not window.session.busy and not window.attachments.items)
        settle(1.0)

        second = QMimeData()
        second.setData("image/png", dashboard_png(1920, 1200, accent=(16, 185, 129)))
        window.composer.insertFromMimeData(second)
        wait(lambda: window.attachments.items and not window.attachments.preparing)
        QTest.keyClicks(window.composer, "And here is the green theme")
        settle(1.0)
        window.grab().save(str(args.outdir / "screenshot.png"))
        window.close()
        window.workers.shutdown()
    finally:
        stack.stop()
    print(f"saved screenshots to {args.outdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
