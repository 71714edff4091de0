"""A 20,000-token reply streamed in small deltas vs rendering the final text once.

A real MainWindow (offscreen) gets the reply as `StreamChunk`s, PER_TICK tokens per turn of the
event loop (a zero-interval timer: deltas arrive as fast as the GUI takes them, the way a fast
model's queued signals pile up), so the model's batched flushes (every 40 ms) and the view's
repaints run in between as in real use. The cost is the GUI thread's CPU time (`time.thread_time`)
from the first delta until the finished message is painted. The baseline, in the same process and
window: set the final text as one history message and paint it once.
"""

from __future__ import annotations

import random
import sys
import time

from benchmarks.common import isolate_app_dirs, median, module_main, row, spin_until

PER_TICK = 4  # tokens per delivery (a Letta token chunk is one to a few tokens)


def tokens(n: int) -> list[str]:
    rng = random.Random(7)
    words = ["the", "agent", "streams", "**bold**", "and", "`code`", "while", "a", "list"]
    out = []
    for i in range(n):
        tok = rng.choice(words) + " "
        if i % 60 == 59:
            tok += "\n\n"
        if i % 900 == 0:
            tok += "\n\n```python\nx = 1\nprint(x)\n```\n\n- item a\n- item b\n\n"
        out.append(tok)
    return out


def _window():
    from desktop.core.secrets import SecretStore
    from desktop.settings import Settings
    from desktop.ui.window.main_window import MainWindow
    from desktop.workers import Workers

    workers = Workers()
    window = MainWindow(workers, Settings(), SecretStore(use_keyring=False), lambda *a: None)
    window.resize(900, 760)
    window.show()
    spin_until(lambda: window.isVisible())
    return window


def _paint(window) -> None:
    view = window.transcript
    view.doItemsLayout()
    view.viewport().repaint()


def render_once(window, text: str) -> float:
    from desktop.core.letta.models import Message

    model = window.transcript_model
    model.clear()
    _paint(window)
    start = time.thread_time()
    model.set_history([Message("m-final", "assistant", "assistant_message", text=text)])
    _paint(window)
    return (time.thread_time() - start) * 1000


def streamed(window, toks: list[str]) -> float:
    from PySide6.QtCore import QEventLoop, QTimer

    from desktop.core.letta.models import StreamChunk

    model = window.transcript_model
    model.clear()
    _paint(window)
    state = {"i": 0}
    timer = QTimer()
    timer.setInterval(0)

    def feed() -> None:
        due = min(len(toks), state["i"] + PER_TICK)
        while state["i"] < due:
            model.apply_chunk(
                StreamChunk("k", "assistant", "assistant_message", toks[state["i"]], id="m-stream")
            )
            state["i"] += 1
        if state["i"] >= len(toks):
            timer.stop()
            loop.quit()

    loop = QEventLoop()  # one loop, no polling: the GUI thread only runs the feed and Qt
    timer.timeout.connect(feed)
    cpu0 = time.thread_time()
    timer.start()
    loop.exec()
    model.finish_stream()
    _paint(window)
    cpu = (time.thread_time() - cpu0) * 1000
    text = model.index(model.rowCount() - 1, 0).data(model.TextRole)
    assert text == "".join(toks), "streamed text differs"
    return cpu


def run(quick: bool) -> list[dict]:
    isolate_app_dirs()
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    n = 2000 if quick else 20000
    toks = tokens(n)
    final = "".join(toks)
    window = _window()
    runs = 1 if quick else 3
    once, stream = [], []
    render_once(window, final)  # warm up fonts and caches
    for _ in range(runs):
        once.append(render_once(window, final))
        stream.append(streamed(window, toks))
    window.close()
    window.workers.shutdown()
    del app
    return [
        row(
            "stream",
            f"render a {n:,}-token reply streamed {PER_TICK} tokens a delta (GUI CPU time)",
            median(stream),
            "ms",
            baseline=median(once),
            budget="≤ 2× rendering the final text once",
            limit=2.0,
            by="ratio",
            runs=runs,
            samples=stream,
            note=f"{len(final):,} characters; render once: "
            + ", ".join(f"{o:.0f}" for o in once)
            + " ms",
        )
    ]


if __name__ == "__main__":
    sys.exit(module_main(run, __doc__))
