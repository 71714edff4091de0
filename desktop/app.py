"""Composition root: parse the command line and environment, build the services, show the window.

Precedence for the connection (the official SDKs' convention): --base-url, then LETTA_BASE_URL,
then the stored setting; LETTA_API_KEY, then the keyring entry for that server.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
from collections.abc import Callable, Sequence

from desktop import APP_ID, APP_NAME, ORG_NAME, __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="letta-desktop",
        description=f"{APP_NAME}: chat with your Letta agents and show them images.",
        epilog="Environment: LETTA_BASE_URL (server URL) and LETTA_API_KEY (API key) override "
        "the stored settings for this run; LETTA_CA_BUNDLE names a custom CA bundle (PEM).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--base-url",
        metavar="URL",
        help="Letta server URL for this run (default: the saved one, or Letta "
        "Cloud https://api.letta.com)",
    )
    parser.add_argument("--agent", metavar="AGENT_ID", help="open this agent straight away")
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="check this installation (Qt plugins, codecs, TLS, keyring) with "
        "the real window, offscreen when there is no display; never connects",
    )
    parser.add_argument(
        "files", nargs="*", metavar="FILE", help="image files to attach to the composer"
    )
    return parser


def _setup_logging() -> None:
    from desktop.core.redact import RedactingFilter

    handler = logging.StreamHandler()
    handler.addFilter(RedactingFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(os.environ.get("LETTA_DESKTOP_LOG_LEVEL", "WARNING").upper())
    # httpx logs request lines at INFO; never let a lower level leak headers from its debug logs.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _setup_logging()
    if args.self_test:
        from desktop import selftest

        return selftest.main()
    gc.disable()  # until the first frame: see _until_first_frame
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from desktop.paths import resource_path

    normal_start = _until_first_frame()

    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setApplicationName(APP_ID)
    app.setApplicationDisplayName(APP_NAME)
    app.setOrganizationName(ORG_NAME)
    app.setApplicationVersion(__version__)
    app.setDesktopFileName(APP_ID)
    app.setWindowIcon(QIcon(str(resource_path("icons/letta-desktop.svg"))))
    from desktop import diagnostics

    # The log file opens after the first frame (logging.handlers alone is ~10 ms); what is
    # logged until then is held for it. `finally`: the held records reach the file even when
    # the first frame never comes.
    diagnostics.hold_early_records()
    try:
        return _run(app, args, normal_start)
    finally:
        normal_start()
        diagnostics.setup_file_logging()


def _until_first_frame() -> Callable[[], None]:
    """Skip two costs of Python start-up that the first frame does not need; returns the
    function that restores both (called after the first frame, and on any way out).

    - The cyclic garbage collector: the imports and the enum classes PySide creates allocate
      enough to trigger many collections that find nothing to free (~5 ms). What survives
      start-up is frozen afterwards, so later full collections (the GUI-stall tests measured
      them) do not walk it again.
    - PySide's scan for `from __feature__ import …`: it reads the source of every module
      imported after PySide to see whether it mentions "PySide6" (~10 ms for the first frame's
      ~150 modules). The app uses no PySide feature (snake_case, true_property), so until the
      first frame every module is recorded as not using them; a frozen app has no sources and
      skips the scan anyway. Launch benchmark, 2 cores, 7 alternating runs: 174 → 160 ms with
      both, against a bare QMainWindow's 98 ms.
    """
    feature = sys.modules.get("shibokensupport.feature")
    scan = getattr(feature, "_mod_uses_pyside", None)
    if scan is not None:
        feature._mod_uses_pyside = lambda _module: False  # type: ignore[union-attr]
    state = {"restored": False}

    def restore() -> None:
        if state["restored"]:
            return
        state["restored"] = True
        if scan is not None:
            feature._mod_uses_pyside = scan  # type: ignore[union-attr]
        gc.freeze()
        gc.enable()

    return restore


def _run(app, args: argparse.Namespace, normal_start: Callable[[], None]) -> int:
    """Build and show the window, connect after its first frame, run the event loop."""
    from desktop import diagnostics
    from desktop.compose import create_window, finish_window

    window, base_url, env_key = create_window(args, complete=False)
    diagnostics.set_log_level(window.settings.log_level)
    crash_hook = diagnostics.CrashHook(window.show_crash, window).install()
    if os.environ.get("LETTA_DESKTOP_EXIT_AFTER_SHOWN") == "1":
        return _exit_after_shown(app, window)
    window.show()
    # Ask for keyboard focus explicitly: without a window manager (kiosks, Xvfb, some tiling
    # setups) a new window is not focused, and typing would go nowhere.
    window.raise_()
    window.activateWindow()

    # Connect (HTTP client, keyring, history) once the first frame is on screen: the window
    # shows sooner, and none of that work needs to happen before it is visible.
    def after_first_frame() -> None:
        normal_start()
        diagnostics.setup_file_logging()
        finish_window(window)  # the features the first frame does not show
        window.start(base_url, env_key, args.agent)
        # Pillow (the image pipeline) is imported lazily so start-up skips it; load it now on a
        # worker so the first paste does not pay for it.
        window.workers.submit(_warm_image_pipeline, owner=window)

    _after_first_frame(window, after_first_frame)
    code = app.exec()
    crash_hook.uninstall()
    window.workers.shutdown()
    return code


def _warm_image_pipeline() -> None:
    import importlib

    for name in ("desktop.core.images.pipeline", "desktop.core.images.thumbnails"):
        importlib.import_module(name)


def _after_first_frame(window, fn) -> None:
    """Run `fn` once the window's first frame has been painted (after 1 s at the latest).

    A zero timer is not enough: it can fire before the platform exposes the window, and the
    connection's work (HTTP client, keyring backend, ~0.1 s) would then delay the first frame."""
    from PySide6.QtCore import QEvent, QObject, QTimer

    state = {"done": False}

    def run() -> None:
        if not state["done"]:
            state["done"] = True
            window.removeEventFilter(watcher)
            fn()

    class _FirstFrame(QObject):
        def eventFilter(self, _obj, event) -> bool:
            if event.type() == QEvent.Type.UpdateRequest:  # the paint happens while it runs
                QTimer.singleShot(0, run)
            return False

    watcher = _FirstFrame(window)
    window.installEventFilter(watcher)
    QTimer.singleShot(1000, run)


def _exit_after_shown(app, window) -> int:
    """Startup benchmark hook (benchmarks/bench_bundle.py): show the window, print
    `LETTA_DESKTOP_SHOWN <time.time()>` on its first paint, quit. Connects to nothing."""
    import time

    from PySide6.QtCore import QEvent, QObject, QTimer

    class FirstPaint(QObject):
        def eventFilter(self, obj, event):
            if event.type() == QEvent.Type.Paint and obj is window:
                window.removeEventFilter(self)
                print(f"LETTA_DESKTOP_SHOWN {time.time():.6f}", flush=True)
                QTimer.singleShot(0, app.quit)
            return False

    watcher = FirstPaint(window)
    window.installEventFilter(watcher)
    window.show()
    code = app.exec()
    window.workers.shutdown()
    return code


if __name__ == "__main__":
    sys.exit(main())
