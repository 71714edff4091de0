"""The packaged app: bundle and .deb size; launch → window shown vs a bare QMainWindow bundle.

    python benchmarks/bench_bundle.py [--quick] [--json OUT]

Builds, in this run and through the same app.spec (same Qt trimming, same bootloader, one-dir):
  - the app bundle (build/out/bench/dist/letta-desktop),
  - a bare bundle: a PySide6 QMainWindow and nothing else (build/out/bench/dist/bare-qmainwindow),
  - the .deb from the app bundle (build/linux/build_deb.sh, xz as released; skipped by --quick).
Then starts each bundle offscreen, alternating bare/app after one warm-up each, and times spawn →
the first paint of the main window (the app: LETTA_DESKTOP_EXIT_AFTER_SHOWN=1 prints a line on
the main window's first Paint and quits, without connecting; the bare window does the same).
Reports medians: the ratio app/bare (the app's own start-up work, info) and the ratio
bundle/source for the same app (what packaging adds; budget ≤ 1.1×). Needs PyInstaller in the venv
(`pip install 'pyinstaller>=6.10'`); serialised with build/ci_package.sh by the same flock.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `python benchmarks/…` works
from benchmarks.common import ROOT, median, module_main, row

OUT = ROOT / "build" / "out" / "bench"
MARK = "LETTA_DESKTOP_SHOWN"
BARE = f'''\
import sys, time
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow

app = QApplication(sys.argv[:1])
window = QMainWindow()
window.setWindowTitle("bare")
window.resize(900, 760)

class FirstPaint(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and obj is window:
            window.removeEventFilter(self)
            print(f"{MARK} {{time.time():.6f}}", flush=True)
            QTimer.singleShot(0, app.quit)
        return False

probe = FirstPaint(window)
window.installEventFilter(probe)
window.show()
sys.exit(app.exec())
'''


def _build(name: str, script: Path | None) -> Path:
    env = dict(os.environ, LETTA_SPEC_NAME=name)
    if script is not None:
        env["LETTA_SPEC_SCRIPT"] = str(script)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "PyInstaller",
            "--noconfirm",
            "--clean",
            "--log-level",
            "ERROR",
            "--distpath",
            str(OUT / "dist"),
            "--workpath",
            str(OUT / "work" / name),
            str(ROOT / "app.spec"),
        ],
        env=env,
        check=True,
        cwd=str(ROOT),
        stdout=subprocess.DEVNULL,
    )
    return OUT / "dist" / name


def _size_mb(path: Path) -> float:
    if path.is_file():
        return path.stat().st_size / 1e6
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() or p.is_symlink()) / 1e6


def _launch_ms(cmd: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    proc = subprocess.Popen(
        cmd, env=env, cwd=str(ROOT), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith(MARK):
                elapsed = (time.perf_counter() - started) * 1000
                break
        else:
            raise RuntimeError(f"{cmd} never showed its window: {proc.stderr.read()[-2000:]}")
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return elapsed


def run(quick: bool) -> list[dict]:
    OUT.mkdir(parents=True, exist_ok=True)
    lock = open(Path(tempfile.gettempdir()) / "letta-desktop-packaging.lock", "w")  # noqa: SIM115
    fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        return _run(quick)
    finally:
        lock.close()


def _run(quick: bool) -> list[dict]:
    scratch = Path(tempfile.mkdtemp(prefix="letta-bench-bundle-"))
    try:
        bare_script = scratch / "bare_qmainwindow.py"
        bare_script.write_text(BARE)
        t0 = time.perf_counter()
        app_dir = _build("letta-desktop", None)
        bare_dir = _build("bare-qmainwindow", bare_script)
        build_s = time.perf_counter() - t0

        deb_mb = None
        if not quick:
            deb = subprocess.run(
                ["bash", str(ROOT / "build" / "linux" / "build_deb.sh"), str(app_dir)],
                env=dict(os.environ, DEB_OUT=str(OUT)),
                check=True,
                capture_output=True,
                text=True,
            ).stdout.split()[-1]
            deb_mb = _size_mb(Path(deb))

        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("DISPLAY", "WAYLAND_DISPLAY", "LETTA_API_KEY", "LETTA_BASE_URL")
        }
        env.update(
            QT_QPA_PLATFORM="offscreen",
            LETTA_DESKTOP_EXIT_AFTER_SHOWN="1",
            LETTA_DESKTOP_CONFIG_DIR=str(scratch / "config"),
            LETTA_DESKTOP_DATA_DIR=str(scratch / "data"),
            XDG_CONFIG_HOME=str(scratch / "config"),
            XDG_RUNTIME_DIR=str(scratch),
        )
        runs = 3 if quick else 9
        app_cmd = [str(app_dir / "letta-desktop")]
        bare_cmd = [str(bare_dir / "bare-qmainwindow")]
        source_cmd = [sys.executable, "-m", "desktop"]  # the same app, not frozen
        for cmd in (bare_cmd, app_cmd, source_cmd):
            _launch_ms(cmd, env)  # warm the page cache
        bare: list[float] = []
        app: list[float] = []
        source: list[float] = []
        for _ in range(runs):
            bare.append(_launch_ms(bare_cmd, env))
            app.append(_launch_ms(app_cmd, env))
            source.append(_launch_ms(source_cmd, env))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    bundle_mb, bare_mb = _size_mb(app_dir), _size_mb(bare_dir)
    return [
        row(
            "bundle_size",
            "one-dir bundle on disk (Linux x86-64, stripped)",
            bundle_mb,
            "MB",
            baseline=bare_mb,
            note=f"bare QMainWindow bundle {bare_mb:.0f} MB; both bundles built in {build_s:.0f} s",
        ),
        row(
            "deb_size",
            "the .deb (xz)",
            deb_mb,
            "MB",
            skipped="--quick: the .deb is not built" if deb_mb is None else "",
        ),
        row(
            "bundle_launch",
            "bundle launch → main window painted, vs a bare QMainWindow "
            "bundle (info: the app's own start-up work)",
            median(app),
            "ms",
            baseline=median(bare),
            runs=runs,
            samples=app,
            note=f"bare QMainWindow bundle: {', '.join(f'{b:.0f}' for b in bare)} ms",
        ),
        row(
            "bundle_overhead",
            "bundle launch vs the same app started from source (python -m desktop)",
            median(app),
            "ms",
            baseline=median(source),
            budget="≤ 1.1× from source",
            limit=1.1,
            by="ratio",
            runs=runs,
            samples=app,
            note=f"from source: {', '.join(f'{b:.0f}' for b in source)} ms",
        ),
    ]


if __name__ == "__main__":
    sys.exit(module_main(run, __doc__))
