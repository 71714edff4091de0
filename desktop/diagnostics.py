"""Diagnostics: the rotating log file, "Copy debug info", and the crash hook.

- The log file lives in the platform's log folder (desktop/core/app_dirs.py) and passes every
  record through the RedactingFilter, like the console handler: no key, no bearer token.
- `debug_info()` is the text behind Help ▸ Copy debug info: versions, platform, Qt plugin, keyring
  backend, the server's host and version. Never a key; the text is redacted once more at the end.
- `CrashHook` replaces sys.excepthook and threading.excepthook. It logs the (redacted) traceback
  and hands the report to the GUI thread through a queued signal, whatever thread crashed.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from PySide6.QtCore import QObject, Qt, Signal, qVersion

from desktop import APP_ID, APP_NAME, __version__
from desktop.core import app_dirs
from desktop.core.private_files import open_private
from desktop.core.redact import RedactingFilter, redact

if TYPE_CHECKING:
    from logging.handlers import RotatingFileHandler

log = logging.getLogger(__name__)

LOG_FILE_NAME = f"{APP_ID}.log"
LOG_MAX_BYTES = 1_000_000
LOG_BACKUPS = 3
_FORMAT = "%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s"


# -- folders and the log file ---------------------------------------------------------------------


def log_file() -> Path:
    return app_dirs.log_dir() / LOG_FILE_NAME


def _private_file_handler(path: Path) -> RotatingFileHandler:
    """A rotating handler whose log and each file it rotates into are owner-only (0600).

    logging.handlers (socket, pickle, queue: ~10 ms) is imported here, after the first frame,
    not with this module, which the main window imports."""
    from logging.handlers import RotatingFileHandler

    class _PrivateRotatingFileHandler(RotatingFileHandler):
        def _open(self):  # type: ignore[override]
            return open_private(self.baseFilename, self.mode, encoding=self.encoding)

    return _PrivateRotatingFileHandler(
        path, maxBytes=LOG_MAX_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8"
    )


def _file_handler() -> RotatingFileHandler | None:
    for handler in logging.getLogger().handlers:
        if getattr(handler, "_letta_desktop", False):
            return handler  # type: ignore[return-value]
    return None


class _EarlyRecords(logging.Handler):
    """Holds what is logged before the log file is opened (after the first frame) for it."""

    CAPACITY = 1000

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if len(self.records) < self.CAPACITY:
            self.records.append(record)


def hold_early_records() -> None:
    """Keep the records logged from now until `setup_file_logging` and write them to the file
    then: the file opens after the first frame, and what start-up logs still reaches it."""
    root = logging.getLogger()
    if not any(isinstance(h, _EarlyRecords) for h in root.handlers):
        root.addHandler(_EarlyRecords())


def _take_early_records() -> list[logging.LogRecord]:
    root = logging.getLogger()
    records: list[logging.LogRecord] = []
    for handler in list(root.handlers):
        if isinstance(handler, _EarlyRecords):
            root.removeHandler(handler)
            records += handler.records
    return records


def setup_file_logging(level: str | None = None) -> Path | None:
    """Log to a rotating, redacted file (once per process; again after `close_file_logging`).
    Returns the file's path, or None when the folder cannot be written (logged to the console).
    Records held by `hold_early_records` are written to the file first."""
    early = _take_early_records()
    handler = _file_handler()
    path = log_file()
    if handler is None or Path(handler.baseFilename) != path:
        close_file_logging()
        try:
            app_dirs.log_dir(create=True)
            for older in path.parent.glob(f"{LOG_FILE_NAME}*"):  # written by an older version
                with contextlib.suppress(OSError):
                    os.chmod(older, 0o600)
            handler = _private_file_handler(path)
        except OSError as exc:
            log.warning("cannot write the log file in %s: %s", path.parent, exc)
            return None
        handler._letta_desktop = True  # type: ignore[attr-defined]
        handler.addFilter(RedactingFilter())
        handler.setFormatter(logging.Formatter(_FORMAT))
        logging.getLogger().addHandler(handler)
    for record in early:
        handler.handle(record)
    if level:
        set_log_level(level)
    return path


def close_file_logging() -> None:
    handler = _file_handler()
    if handler is not None:
        logging.getLogger().removeHandler(handler)
        handler.close()


def set_log_level(level: str) -> None:
    """The root level (Settings ▸ Log level); LETTA_DESKTOP_LOG_LEVEL wins when it is set."""
    chosen = os.environ.get("LETTA_DESKTOP_LOG_LEVEL") or level
    logging.getLogger().setLevel(chosen.upper())


# -- debug info -----------------------------------------------------------------------------------


@dataclass
class DebugContext:
    """What the window knows: never the key."""

    base_url: str | None = None
    keyring_backend: str = "unknown"
    server_version: str | None = None
    server_error: str | None = None


def server_host(base_url: str | None) -> str:
    """Scheme, host and port only: no user info, path or query (which could carry a secret)."""
    if not base_url:
        return "not connected"
    parts = urlsplit(base_url)
    host = parts.hostname or "?"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}"


def debug_info(context: DebugContext) -> str:
    import platform

    from PySide6 import __version__ as pyside_version
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance()
    platform_name = QGuiApplication.platformName() if app is not None else "no application"
    screens = []
    if app is not None:
        for screen in QGuiApplication.screens():
            size = screen.size()
            screens.append(f"{size.width()}×{size.height()} @{screen.devicePixelRatio():g}x")
    style = ""
    scheme = ""
    if app is not None:
        style = getattr(app, "style", lambda: None)()
        style = style.name() if style is not None else ""
        scheme = app.styleHints().colorScheme().name
    if context.server_version:
        server_version = context.server_version
    elif context.server_error:
        server_version = f"unknown ({context.server_error})"
    else:
        server_version = "unknown"
    lines = [
        f"{APP_NAME} {__version__}",
        f"Python {platform.python_version()} ({platform.python_implementation()}, "
        f"{'frozen' if getattr(sys, 'frozen', False) else 'not frozen'})",
        f"Qt {qVersion()}, PySide6 {pyside_version}",
        f"Platform: {platform.platform()} ({platform.machine()})",
        f"Qt platform plugin: {platform_name}",
        f"Style: {style or 'n/a'}, colour scheme: {scheme or 'n/a'}",
        f"Screens: {', '.join(screens) or 'none'}",
        f"Keyring backend: {context.keyring_backend}",
        f"Server: {server_host(context.base_url)}",
        f"Server version: {server_version}",
        f"Log file: {log_file()}",
    ]
    return redact("\n".join(lines))


# -- the crash hook -------------------------------------------------------------------------------


def format_report(
    exc_type: type[BaseException], exc: BaseException | None, tb: TracebackType | None
) -> str:
    import traceback

    return redact("".join(traceback.format_exception(exc_type, exc, tb)))


class CrashHook(QObject):
    """Logs uncaught exceptions (redacted) and reports them on the GUI thread via `crashed`.

    Create it on the GUI thread. `crashed` is connected with a queued connection, so the handler
    always runs later from the event loop, never inside the code that raised or on a worker."""

    crashed = Signal(str)  # the redacted report

    def __init__(self, handler: Callable[[str], None], parent: QObject | None = None):
        super().__init__(parent)
        self.crashed.connect(handler, Qt.ConnectionType.QueuedConnection)
        self._previous_sys = None
        self._previous_thread = None
        self.installed = False

    def install(self) -> CrashHook:
        if not self.installed:
            self._previous_sys, sys.excepthook = sys.excepthook, self._sys_hook
            self._previous_thread, threading.excepthook = threading.excepthook, self._thread_hook
            self.installed = True
        return self

    def uninstall(self) -> None:
        if self.installed:
            if sys.excepthook == self._sys_hook:
                sys.excepthook = self._previous_sys or sys.__excepthook__
            if threading.excepthook == self._thread_hook:
                threading.excepthook = self._previous_thread or threading.__excepthook__
            self.installed = False

    def _sys_hook(self, exc_type, exc, tb) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            (self._previous_sys or sys.__excepthook__)(exc_type, exc, tb)
            return
        self.report(exc_type, exc, tb, threading.current_thread().name)

    def _thread_hook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit:
            return
        name = args.thread.name if args.thread is not None else "a thread"
        self.report(args.exc_type, args.exc_value, args.exc_traceback, name)

    def report(self, exc_type, exc, tb, thread_name: str = "MainThread") -> None:
        try:
            text = format_report(exc_type, exc, tb)
            log.critical("unhandled exception in %s:\n%s", thread_name, text)
            self.crashed.emit(text)
        except Exception:  # the hook itself must never raise: fall back to stderr
            sys.__excepthook__(exc_type, exc, tb)
