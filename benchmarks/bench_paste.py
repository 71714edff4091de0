"""Paste → thumbnail: how fast a pasted 5120×2880 PNG shows up, and how long the GUI stalls.

    python benchmarks/bench_paste.py [--runs N]
    (in the suite: python -m benchmarks, which calls `run(quick)`)

A real MainWindow (offscreen, not connected: default limits) gets the PNG as QMimeData
image/png bytes through the composer's paste path. Per run it records:
  chip   — paste call → the chip exists (synchronous; the placeholder),
  thumb  — paste call → the chip's first paint with its thumbnail,
  ready  — paste call → the full preparation is done (1568×882, encoded, base64-able),
  stall  — the largest gap in the GUI event loop (tests/stall.py StallMeter, 5 ms timer) from
           the paste until ready,
  floor  — the same PNG bytes through bare Pillow, alternating with the pastes: open, decode,
           thumbnail to the chip's edge (what no paste can go below; the thumb row's baseline).
Prints the median over the runs.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QEvent, QEventLoop, QMimeData, QObject, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402


class PaintProbe(QObject):
    """Notes the time of the first paint of a chip that has its thumbnail."""

    def __init__(self, chip):
        super().__init__()
        self.chip = chip
        self.when: float | None = None

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.Paint and self.when is None and self.chip.has_thumbnail:
            self.when = time.perf_counter()
        return False


def spin_until(predicate, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("benchmark step timed out")
        loop = QEventLoop()
        QTimer.singleShot(1, loop.quit)
        loop.exec()


def pillow_floor_ms(png: bytes) -> float:
    """Bare Pillow: open the bytes, decode, thumbnail to the chip's edge."""
    from PIL import Image

    from desktop.core.attachments import THUMBNAIL_EDGE

    t0 = time.perf_counter()
    with Image.open(io.BytesIO(png)) as im:
        im.thumbnail((THUMBNAIL_EDGE, THUMBNAIL_EDGE))
    return (time.perf_counter() - t0) * 1000


def measure(runs: int, size: tuple[int, int] = (5120, 2880)) -> dict[str, list[float]]:
    """Paste a generated screenshot PNG `runs` times into a real window; per-run timings."""
    from benchmarks.common import isolate_app_dirs

    isolate_app_dirs()
    app = QApplication.instance() or QApplication([])
    from desktop.core.images import ImageLimits
    from desktop.core.images.fit import target_size
    from desktop.core.secrets import SecretStore
    from desktop.settings import Settings
    from desktop.ui.window.main_window import MainWindow
    from desktop.workers import Workers
    from tests.stall import StallMeter
    from tests.unit.image_corpus import screenshot

    buf = io.BytesIO()
    screenshot(size).save(buf, "PNG")
    png = buf.getvalue()
    expected = target_size(size[0], size[1], ImageLimits())
    workers = Workers()
    window = MainWindow(workers, Settings(), SecretStore(use_keyring=False), lambda *a: None)
    window.resize(900, 700)
    window.show()
    spin_until(lambda: window.isVisible())
    rows: dict[str, list[float]] = {"chip": [], "thumb": [], "ready": [], "stall": [], "floor": []}
    print(f"input: {size[0]}×{size[1]} PNG, {len(png) / 1e6:.1f} MB; {runs} runs", flush=True)
    for _ in range(runs):
        mime = QMimeData()
        mime.setData("image/png", png)
        meter = StallMeter().start()
        spin_until(lambda: True)
        t0 = time.perf_counter()
        window.composer.insertFromMimeData(mime)
        [chip] = window.strip.chips()
        t_chip = time.perf_counter()
        probe = PaintProbe(chip)
        chip.installEventFilter(probe)
        spin_until(lambda p=probe: p.when is not None)
        spin_until(lambda: not window.attachments.preparing)
        t_ready = time.perf_counter()
        stall = meter.stop()
        rows["chip"].append((t_chip - t0) * 1000)
        rows["thumb"].append((probe.when - t0) * 1000)
        rows["ready"].append((t_ready - t0) * 1000)
        rows["stall"].append(stall)
        [att] = window.attachments.items
        assert (att.prepared.width, att.prepared.height) == expected, att.prepared
        chip.removeEventFilter(probe)
        window.attachments.clear()
        workers.wait()
        spin_until(lambda: True)
        rows["floor"].append(pillow_floor_ms(png))
    window.close()
    workers.shutdown()
    workers.wait()
    del app
    return rows


def run(quick: bool) -> list[dict]:
    from benchmarks.common import median, row

    runs = 1 if quick else 9
    size = (1280, 720) if quick else (5120, 2880)
    m = measure(runs, size)
    label = f"{size[0]}×{size[1]} PNG"
    return [
        row(
            "paste_thumb",
            f"paste a {label} → thumbnail painted",
            median(m["thumb"]),
            "ms",
            baseline=median(m["floor"]),
            budget="≤ 1.15× bare Pillow open+decode+thumbnail",
            limit=1.15,
            by="ratio",
            runs=runs,
            samples=m["thumb"],
            note="baseline: the same PNG through bare Pillow in the same run: "
            + ", ".join(f"{v:.0f}" for v in m["floor"])
            + " ms",
        ),
        row(
            "paste_ready",
            f"paste a {label} → prepared (info)",
            median(m["ready"]),
            "ms",
            runs=runs,
            samples=m["ready"],
        ),
        row(
            "paste_stall",
            f"max GUI stall while a {label} is pasted (info)",
            median(m["stall"]),
            "ms",
            runs=runs,
            samples=m["stall"],
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    rows = measure(args.runs)
    for name, values in rows.items():
        label = {"stall": "max GUI stall", "floor": "bare Pillow"}.get(name, f"paste → {name}")
        print(
            f"{label:>18}: median {statistics.median(values):7.1f} ms   "
            f"(min {min(values):.1f}, max {max(values):.1f})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
