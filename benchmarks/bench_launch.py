"""Launch → main window shown, against a bare PySide6 QMainWindow started the same way.

All are started as `python benchmarks/launch_probe.py bare|widgets|app` (same interpreter,
offscreen, a source checkout); the time is spawn → the first paint of the main window begins.
Runs alternate so machine noise hits all alike. The app gets a saved server URL and a key from
the environment (a returning user: no connect dialog), pointing at a closed loopback port.

The package is byte-compiled first, as `pip install` does for an installed app: a checkout run
with PYTHONDONTWRITEBYTECODE (set on the CI machines) would otherwise compile every module on
every start. A second row shows the `widgets` window — the same kinds of Qt widgets as the app's
first frame, no app code — against the same bare window: how much of the ratio Qt itself needs
to draw text, a list and a text box (the bare QMainWindow draws nothing, not even a font).
"""

from __future__ import annotations

import compileall
import os
import subprocess
import sys
import time

from benchmarks.common import ROOT, isolate_app_dirs, median, module_main, row

PROBE = ROOT / "benchmarks" / "launch_probe.py"


def launch_ms(mode: str, env: dict[str, str]) -> float:
    started = time.time()
    out = subprocess.run(
        [sys.executable, str(PROBE), mode],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=str(ROOT),
    )
    shown = [line for line in out.stdout.splitlines() if line.startswith("shown ")]
    if not shown:
        raise RuntimeError(f"launch probe ({mode}) failed: {out.returncode}\n{out.stderr[-2000:]}")
    return (float(shown[0].split()[1]) - started) * 1000


def run(quick: bool) -> list[dict]:
    isolate_app_dirs()
    env = dict(
        os.environ,
        QT_QPA_PLATFORM="offscreen",
        LETTA_BASE_URL="http://127.0.0.1:9",
        LETTA_API_KEY="bench-key",
    )
    compileall.compile_dir(str(ROOT / "desktop"), quiet=1)  # what `pip install` does
    runs = 1 if quick else 9
    bare: list[float] = []
    widgets: list[float] = []
    app: list[float] = []
    for mode in ("bare", "widgets", "app"):  # warm the page cache for all
        launch_ms(mode, env)
    for _ in range(runs):
        bare.append(launch_ms("bare", env))
        widgets.append(launch_ms("widgets", env))
        app.append(launch_ms("app", env))
    return [
        row(
            "launch",
            "launch → main window shown",
            median(app),
            "ms",
            baseline=median(bare),
            budget="≤ 1.5× bare QMainWindow",
            limit=1.5,
            by="ratio",
            runs=runs,
            samples=app,
            note=f"bare QMainWindow: {', '.join(f'{b:.0f}' for b in bare)} ms",
        ),
        row(
            "launch_floor",
            "launch → a window of the same Qt widgets, no app code (context)",
            median(widgets),
            "ms",
            baseline=median(bare),
            budget="info: Qt's own cost of text, list and text box",
            runs=runs,
            samples=widgets,
        ),
    ]


if __name__ == "__main__":
    sys.exit(module_main(run, __doc__))
