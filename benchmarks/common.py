"""Shared helpers for the benchmark modules: rows, medians, isolation, event-loop spinning, RSS.

Every benchmark module has `run(quick: bool) -> list[dict]` and a `main()` that writes those
rows as JSON (`--json OUT`); benchmarks/run.py runs each module in its own process.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def row(
    rid: str,
    what: str,
    value: float | None,
    unit: str,
    *,
    baseline: float | None = None,
    budget: str = "",
    limit: float | None = None,
    by: str = "value",
    runs: int = 1,
    samples: list[float] | None = None,
    note: str = "",
    skipped: str = "",
) -> dict[str, Any]:
    """One line of the table. `by` says what `limit` bounds: the value or the ratio."""
    ratio = (value / baseline) if value is not None and baseline else None
    checked = ratio if by == "ratio" else value
    met = None if limit is None or checked is None else checked <= limit
    return {
        "id": rid,
        "what": what,
        "value": _round(value),
        "unit": unit,
        "baseline": _round(baseline),
        "ratio": _round(ratio, 3),
        "budget": budget,
        "limit": limit,
        "by": by,
        "met": met,
        "runs": runs,
        "samples": [_round(s) for s in samples or []],
        "note": note,
        "skipped": skipped,
    }


def _round(v: float | None, nd: int = 1) -> float | None:
    return None if v is None else round(float(v), nd)


def isolate_app_dirs() -> Path:
    """Private settings/data folders, offscreen Qt, no developer key or server."""
    tmp = Path(tempfile.mkdtemp(prefix="letta-bench-"))
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    for var in ("XDG_CONFIG_HOME", "LETTA_DESKTOP_CONFIG_DIR"):
        os.environ[var] = str(tmp / "config")
    os.environ["LETTA_DESKTOP_DATA_DIR"] = str(tmp / "data")
    for var in ("LETTA_API_KEY", "LETTA_BASE_URL"):
        os.environ.pop(var, None)
    return tmp


def spin_until(predicate: Callable[[], bool], timeout_s: float = 60.0, what: str = "") -> None:
    """Run the Qt event loop (1 ms slices) until `predicate()`; TimeoutError after timeout_s."""
    from PySide6.QtCore import QEventLoop, QTimer

    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"benchmark step timed out: {what or predicate}")
        loop = QEventLoop()
        QTimer.singleShot(1, loop.quit)
        loop.exec()


def rss_mb() -> float:
    """This process's resident set size (VmRSS), in MB."""
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def module_main(run: Callable[[bool], list[dict[str, Any]]], doc: str | None) -> int:
    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0] if doc else None)
    parser.add_argument("--quick", action="store_true", help="tiny inputs, one run (CI smoke)")
    parser.add_argument("--json", type=Path, help="write the rows as JSON here")
    args = parser.parse_args()
    rows = run(args.quick)
    for r in rows:
        print(json.dumps(r, ensure_ascii=False))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2, ensure_ascii=False) + "\n")
    return 0
