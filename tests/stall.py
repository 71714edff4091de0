"""Measures how long the GUI event loop was blocked: a fast timer records its largest gap."""

from __future__ import annotations

import gc
import time

from PySide6.QtCore import QObject, QTimer


class StallMeter(QObject):
    """Start it, do the work (while the event loop runs), stop it, read `max_stall_ms`."""

    def __init__(self, interval_ms: int = 5):
        super().__init__()
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)
        self._interval = interval_ms / 1000.0
        self._last = 0.0
        self.max_stall_ms = 0.0

    def _tick(self) -> None:
        now = time.perf_counter()
        gap = now - self._last - self._interval
        self.max_stall_ms = max(self.max_stall_ms, gap * 1000.0)
        self._last = now

    def start(self) -> StallMeter:
        # What hundreds of earlier tests left on the heap is not the app's: a full collection
        # walks all of it (100–170 ms seen late in a full run, inside the measured window).
        # Frozen objects are skipped by the collector; what the measured work makes is not.
        gc.collect()
        gc.freeze()
        self._last = time.perf_counter()
        self._timer.start()
        return self

    def stop(self) -> float:
        self._timer.stop()
        gc.unfreeze()
        return self.max_stall_ms

    def __enter__(self) -> StallMeter:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
