"""README screenshots of Describe with ‹vision model›: the real window and the real Letta server.

An agent on the text-only model gets a pasted screenshot: the warning offers Describe with
gpt-4o-mini and its token estimate (`describer.png`); after the click the description is in the
message box and the image is gone from the message (`describer-result.png`). The description
is the fake LLM's account of what it received (tests/peers/fake_llm.py), not a real model's.

Run inside a loopback-only namespace with an X server, like make_screenshots.py:
`ip netns exec NS env DISPLAY=:N QT_QPA_PLATFORM=xcb .venv/bin/python -m
tests.peers.describer_screenshot docs/screenshots/`.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("outdir", type=Path)
    args = parser.parse_args()
    args.outdir.mkdir(parents=True, exist_ok=True)
    os.environ["LETTA_DESKTOP_CONFIG_DIR"] = tempfile.mkdtemp(prefix="shot-config-")
    os.environ["LETTA_DESKTOP_DATA_DIR"] = tempfile.mkdtemp(prefix="shot-data-")

    from PySide6.QtCore import QMimeData
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from desktop.compose import create_window
    from tests.peers import letta_server
    from tests.peers.make_screenshots import dashboard_png

    app = QApplication.instance() or QApplication(sys.argv[:1])

    def wait(predicate, timeout: float = 60.0) -> None:
        end = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > end:
                raise TimeoutError("screenshot scenario stalled")
            app.processEvents()
            time.sleep(0.01)

    def settle(seconds: float = 0.6) -> None:
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
                "/v1/agents/",
                json={"name": "Support triage", "model": "openai-proxy/gpt-3.5-turbo"},
            ).json()
            http.post(
                f"/v1/agents/{agent['id']}/messages",
                headers={"X-Stainless-Package-Version": "1.0"},
                json={
                    "messages": [{"role": "user", "content": "Morning! Dashboard issues today."}]
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
        mime.setData("image/png", dashboard_png(1920, 1200))
        window.composer.setFocus()
        window.composer.insertFromMimeData(mime)
        wait(lambda: window.attachments.items and not window.attachments.preparing)
        QTest.keyClicks(window.composer, "Why is the third bar so high?")
        banner = window.vision.banner
        wait(banner.describe_button.isVisible)
        settle(1.0)
        window.grab().save(str(args.outdir / "describer.png"))

        banner.describe_button.click()
        wait(lambda: not window.attachments.items)
        settle(1.0)
        window.grab().save(str(args.outdir / "describer-result.png"))
        window.close()
        window.workers.shutdown()
    finally:
        stack.stop()
    print(f"saved screenshots to {args.outdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
