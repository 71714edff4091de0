"""Max GUI event-loop stall while 10 pasted 5K screenshots are prepared and sent to a real server.

The real Letta server (0.16.8, tests/peers/letta_server.py: PostgreSQL + the fake LLM), started
here — run this inside a loopback-only network namespace (benchmarks/run.py does). The real
window (create_window) opens a vision agent; ten different 5120×2880 PNGs are pasted one after the
other the way Ctrl+V does, Enter sends as soon as they are prepared, and the reply streams back.
tests/stall.py's StallMeter (a 5 ms timer in the window's event loop) records the longest gap
from the first paste until the reply is finished; five such sends in one session, the median.
"""

from __future__ import annotations

import argparse
import io
import sys
import time

from benchmarks.common import isolate_app_dirs, median, module_main, row, spin_until

VISION_MODEL = "openai-proxy/gpt-4o-mini"
SDK_HEADERS = {"X-Stainless-Package-Version": "1.12.1"}


def screenshots(n: int, size: tuple[int, int]) -> list[bytes]:
    from PIL import ImageDraw

    from tests.unit.image_corpus import screenshot

    out = []
    base = screenshot(size)
    for i in range(n):
        im = base.copy()
        ImageDraw.Draw(im).rectangle((100 + 40 * i, 100, 400 + 40 * i, 300), fill=(i * 20, 90, 30))
        buf = io.BytesIO()
        im.save(buf, "PNG")
        out.append(buf.getvalue())
    return out


def create_agent(stack) -> str:
    import httpx

    with httpx.Client(base_url=stack.base_url, timeout=120) as http:
        handles = [m.get("handle") for m in http.get("/v1/models/embedding").json()]
        body = {"name": "bench-send", "model": VISION_MODEL}
        if "openai/text-embedding-3-small" in handles:
            body["embedding"] = "openai/text-embedding-3-small"
        r = http.post("/v1/agents/", json=body)
        r.raise_for_status()
        return r.json()["id"]


def measure(n: int, size: tuple[int, int], rounds: int = 1) -> dict:
    from PySide6.QtCore import QMimeData, Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from desktop.compose import create_window
    from tests.peers import letta_server
    from tests.stall import StallMeter

    app = QApplication.instance() or QApplication([])
    pngs = screenshots(n, size)
    stack = letta_server.start_stack(timeout=180)
    try:
        agent = create_agent(stack)
        window, base_url, _ = create_window(
            argparse.Namespace(base_url=stack.base_url, agent=agent, files=[]), use_keyring=False
        )
        window.resize(900, 760)
        window.show()
        window.start(base_url, "bench-key", agent)
        spin_until(
            lambda: window.session is not None and window.session.agent is not None,
            60,
            "agent opened",
        )
        spin_until(lambda: window.session._history_task is None, 60, "history")
        stalls, sent, done = [], [], []
        for _ in range(rounds):
            meter = StallMeter().start()
            t0 = time.perf_counter()
            window.composer.setFocus()
            for png in pngs:
                mime = QMimeData()
                mime.setData("image/png", png)
                window.composer.insertFromMimeData(mime)
                spin_until(lambda: True)
            QTest.keyClicks(window.composer, "What is on these screens?")
            QTest.keyClick(window.composer, Qt.Key.Key_Return)
            spin_until(lambda: window.session.busy or not window.attachments.items, 120, "send")
            t_sent = time.perf_counter()
            spin_until(
                lambda: not window.session.busy and not window.attachments.items, 300, "reply"
            )
            t_done = time.perf_counter()
            stalls.append(meter.stop())
            sent.append(t_sent - t0)
            done.append(t_done - t0)
            spin_until(lambda: window.session._history_task is None, 60, "settle")
        images = 0
        for body in (r["body"] for r in stack.requests("/chat/completions")):
            users = [m for m in body.get("messages", []) if m.get("role") == "user"]
            if users and isinstance(users[-1].get("content"), list):
                images = max(
                    images,
                    sum(
                        1
                        for p in users[-1]["content"]
                        if isinstance(p, dict) and p.get("type") == "image_url"
                    ),
                )
        window.close()
        window.workers.shutdown()
        window.workers.wait()
    finally:
        stack.stop()
    del app
    return {"stalls": stalls, "sent_s": median(sent), "done_s": median(done), "images": images}


def run(quick: bool) -> list[dict]:
    isolate_app_dirs()
    n, size = (2, (1280, 720)) if quick else (10, (5120, 2880))
    rounds = 1 if quick else 5
    m = measure(n, size, rounds)
    return [
        row(
            "send_stall",
            f"max GUI stall: prepare + send {n} pasted {size[0]}×{size[1]} PNGs to the real server",
            median(m["stalls"]),
            "ms",
            budget="≤ 30 ms",
            limit=30,
            runs=rounds,
            samples=m["stalls"],
            note=f"median of {rounds} sends in one session (the first includes first-use "
            f"costs); {m['images']} images reached the (fake) provider; sending began after "
            f"{m['sent_s']:.1f} s, reply done after {m['done_s']:.1f} s",
        )
    ]


if __name__ == "__main__":
    sys.exit(module_main(run, __doc__))
