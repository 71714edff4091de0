"""Run a snippet of app code in a fresh Python process with its own HOME and XDG folders.

For what must happen before a QApplication exists (the platform, the screen, Qt's accessibility
bridge) or must not leak into the test process (imports at start-up). Returns the last line the
snippet printed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_snippet(
    code: str, *args: str, home: Path, platform: str = "offscreen", timeout: float = 120, **env: str
) -> str:
    environ = dict(
        os.environ,
        QT_QPA_PLATFORM=platform,
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_DATA_HOME=str(home / "data"),
        XDG_CACHE_HOME=str(home / "cache"),
        XDG_STATE_HOME=str(home / "state"),
        **env,
    )
    environ.pop("LETTA_API_KEY", None)  # the snippet says what key it uses
    out = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=str(ROOT),
        env=environ,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.strip().splitlines()
    return lines[-1] if lines else ""
