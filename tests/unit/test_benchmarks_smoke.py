"""The benchmarks cannot rot: `python -m benchmarks --quick` runs every one on tiny inputs.

Not a timing test (CI machines are noisy): it checks that the suite runs and that its JSON has
every row, each either measured (a value) or explicitly skipped (the real-server row in quick
mode). The timings and budgets are in README.md ▸ Performance.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quick_benchmarks_write_every_row(tmp_path):
    sys.path.insert(0, str(ROOT))
    from benchmarks.run import ALL_IDS

    out = tmp_path / "bench.json"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--json", str(out)],
        cwd=str(ROOT),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    data = json.loads(out.read_text())
    assert data["quick"] is True
    rows = {r["id"]: r for r in data["rows"]}
    assert list(rows) == ALL_IDS
    for rid, r in rows.items():
        if rid == "send_stall":
            assert r["skipped"], "quick mode must not start the real server"
            continue
        assert not r["skipped"], (rid, r["skipped"])
        assert isinstance(r["value"], (int, float)) and r["value"] > 0, (rid, r)
        if r["limit"] is not None and r["by"] == "ratio":
            assert r["baseline"] and r["ratio"] is not None, (rid, r)
    assert "| launch " in proc.stdout  # the table is printed
