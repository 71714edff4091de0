"""Open an agent with a 10,000-message history (200 with images) from a local fake server.

The fake server (benchmarks/fake_history_server.py) runs in its own process on 127.0.0.1, so
its memory is not ours. The real window (create_window, as the app builds it) connects and opens
the agent. Measured:
  open → first paint   `open_agent` → the first paint of the transcript with rows in it,
  page → first paint   the first page's arrival (model reset) → that paint,
  RSS                  after scrolling to the top again and again until every page is loaded
                       (and painted, so the thumbnails of every image were decoded), VmRSS.
"""

from __future__ import annotations

import argparse
import gc
import subprocess
import sys
import time

from benchmarks.common import ROOT, isolate_app_dirs, module_main, row, rss_mb, spin_until
from benchmarks.fake_history_server import AGENT_ID


def start_server(messages: int, images: int, quick: bool) -> tuple[subprocess.Popen, str]:
    cmd = [
        sys.executable,
        "-m",
        "benchmarks.fake_history_server",
        "--messages",
        str(messages),
        "--images",
        str(images),
    ] + (["--quick"] if quick else [])
    proc = subprocess.Popen(cmd, cwd=str(ROOT), stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline() if proc.stdout else ""
    if not line.startswith("port "):
        proc.kill()
        raise RuntimeError(f"fake history server did not start: {line!r}")
    return proc, f"http://127.0.0.1:{int(line.split()[1])}"


def measure(messages: int, images: int, quick: bool) -> dict[str, float]:
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    from desktop.compose import create_window

    proc, base_url = start_server(messages, images, quick)
    marks: dict[str, float] = {}
    try:
        window, _, _ = create_window(
            argparse.Namespace(base_url=base_url, agent=AGENT_ID, files=[]), use_keyring=False
        )
        window.resize(900, 760)
        window.show()
        spin_until(window.isVisible)
        model, view = window.transcript_model, window.transcript

        class FirstPaint(QObject):
            def eventFilter(self, watched, event):
                if (
                    event.type() == QEvent.Type.Paint
                    and "paint_start" not in marks
                    and model.rowCount() > 0
                ):
                    marks["paint_start"] = time.perf_counter()
                    # The paint is over when the loop next runs a timer.
                    QTimer.singleShot(0, lambda: marks.setdefault("paint", time.perf_counter()))
                return False

        probe = FirstPaint()
        view.viewport().installEventFilter(probe)
        model.modelReset.connect(
            lambda: marks.setdefault("page", time.perf_counter()) if model.rowCount() else None
        )

        def timed_open(session) -> None:
            original_open = session.open_agent

            def open_agent(agent_id: str) -> None:
                marks["open"] = time.perf_counter()
                original_open(agent_id)

            session.open_agent = open_agent

        window.features.sessions.sessionChanged.connect(timed_open)
        rss_before = rss_mb()
        window.start(base_url, "bench-key", AGENT_ID)
        spin_until(lambda: "paint" in marks, 60, "first paint")
        session = window.session
        started = time.perf_counter()
        pages = 1
        while True:
            spin_until(lambda: session._history_task is None, 60, "page")
            if not session._has_more:
                break
            before = model.rowCount()
            view.verticalScrollBar().setValue(0)
            view.viewport().repaint()
            spin_until(
                lambda b=before: (
                    model.rowCount() > b
                    or not session._has_more
                    or session._history_task is not None
                ),
                30,
                "older page request",
            )
            spin_until(lambda: session._history_task is None, 60, "older page")
            pages += 1
        view.verticalScrollBar().setValue(0)
        view.viewport().repaint()
        window.workers.wait()
        spin_until(lambda: True)
        loaded_s = time.perf_counter() - started
        rows = model.rowCount()
        gc.collect()
        rss = rss_mb()
        window.close()
        window.workers.shutdown()
    finally:
        proc.terminate()
        proc.wait(10)
    del app
    return {
        "open_paint": (marks["paint"] - marks["open"]) * 1000,
        "page_paint": (marks["paint"] - marks["page"]) * 1000,
        "rss": rss,
        "rss_before": rss_before,
        "rows": rows,
        "pages": pages,
        "loaded_s": loaded_s,
    }


def run(quick: bool) -> list[dict]:
    isolate_app_dirs()
    messages, images = (300, 10) if quick else (10000, 200)
    m = measure(messages, images, quick)
    what = f"agent with {messages:,} messages ({images} with images)"
    note = (
        f"{m['rows']:,} rows in {m['pages']} pages, all loaded in {m['loaded_s']:.1f} s; "
        f"page arrival → first paint {m['page_paint']:.0f} ms"
    )
    return [
        row(
            "history_first_paint",
            f"open an {what}: open → first paint",
            m["open_paint"],
            "ms",
            budget="≤ 300 ms",
            limit=300,
            note=note,
        ),
        row(
            "history_rss",
            f"RSS after scrolling through all of it ({what})",
            m["rss"],
            "MB",
            budget="≤ 250 MB",
            limit=250,
            note=f"RSS with the window open, before connecting: {m['rss_before']:.0f} MB",
        ),
    ]


if __name__ == "__main__":
    sys.exit(module_main(run, __doc__))
