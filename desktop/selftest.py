"""`letta-desktop --self-test`: does this installation carry everything the app needs at run time?

Built for packaged apps (a PyInstaller bundle, the .deb), where a missing Qt plugin, codec, CA
bundle or keyring entry point only shows up on a user's machine. It starts the real app — a
QApplication and the real MainWindow, shown (offscreen when there is no display) — then checks
the platform plugin, Qt's image plugins and QtSvg, the TLS certificates httpx will use, every
Pillow codec the image pipeline relies on (HEIC through pillow-heif), the keyring backends, the
Pygments lexer and styles of code blocks, and the bundled resources. One line per check
(`ok   …` / `FAIL …`); exit status 0 when all pass.

It never connects to a server and never reads or writes keyring contents: it only resolves
which backend the app would use. It does not call MainWindow.start() and does not close the
window through closeEvent, so the user's settings are left untouched.
"""

from __future__ import annotations

import io
import os
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass

# The keyring backend modules keyring registers as entry points (keyring's own metadata); a
# frozen app that lost the metadata or the modules finds none of them.
KEYRING_BACKENDS = ("SecretService", "libsecret", "kwallet", "macOS", "Windows", "chainer")
PILLOW_FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP", "TIFF")
QT_IMAGE_FORMATS = ("svg", "jpeg", "png", "gif", "ico")  # webp is checked when the plugin exists


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'} {self.name}: {self.detail}"


def prepare_environment() -> None:
    """Before any QApplication exists: offscreen when a Unix desktop has no display at all."""
    if sys.platform in ("win32", "darwin"):
        return
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"


# -- the checks: each returns (ok, detail) or raises ------------------------------------------


def _check_main_window() -> tuple[bool, str]:
    import argparse

    from PySide6.QtCore import QDeadlineTimer
    from PySide6.QtWidgets import QApplication

    from desktop.compose import create_window

    args = argparse.Namespace(base_url=None, agent=None, files=[])
    window, _base_url, _key = create_window(args, use_keyring=False)
    try:
        window.show()
        deadline = QDeadlineTimer(5000)
        handle = window.windowHandle()
        while not (handle is not None and handle.isExposed()) and not deadline.hasExpired():
            QApplication.processEvents()
            time.sleep(0.005)
            handle = window.windowHandle()
        exposed = handle is not None and handle.isExposed()
        size = f"{window.width()}×{window.height()}"
        if not window.isVisible() or not exposed:
            return False, f"MainWindow did not become visible/exposed within 5 s ({size})"
        return True, f"MainWindow shown and exposed ({size})"
    finally:
        window.hide()  # not close(): closeEvent would save the geometry into the user's settings
        window.workers.shutdown()
        window.deleteLater()
        QApplication.processEvents()


def _check_platform() -> tuple[bool, str]:
    from PySide6.QtGui import QGuiApplication

    name = QGuiApplication.platformName()
    screen = QGuiApplication.primaryScreen()
    if not name or screen is None:
        return False, f"platform {name or 'none'}, screen {screen}"
    return True, name


def _qt_roundtrip(fmt: str) -> None:
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice
    from PySide6.QtGui import QColor, QImage

    image = QImage(8, 6, QImage.Format.Format_RGB32)
    image.fill(QColor(200, 40, 90))
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, fmt.upper()):
        raise ValueError(f"Qt could not encode {fmt}")
    buffer.close()
    back = QImage()
    if not back.loadFromData(data, fmt.upper()) or back.size() != image.size():
        raise ValueError(f"Qt could not decode {fmt}")


_TINY_SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="8">'
    b'<rect width="10" height="8" fill="#4f46e5"/></svg>'
)


def _check_qt_images() -> tuple[bool, str]:
    from PySide6.QtGui import QImage, QImageReader

    supported = {bytes(f.data()).decode() for f in QImageReader.supportedImageFormats()}
    wanted = list(QT_IMAGE_FORMATS) + (["webp"] if "webp" in supported else [])
    missing = [f for f in wanted if f not in supported]
    if missing:
        return False, f"no Qt image plugin for {', '.join(missing)} (have {sorted(supported)})"
    for fmt in ("jpeg", "png", "ico") + (("webp",) if "webp" in supported else ()):
        _qt_roundtrip(fmt)
    gif = io.BytesIO()  # Qt's gif plugin only reads: decode one Pillow wrote
    from PIL import Image

    Image.new("RGB", (8, 6), (200, 40, 90)).save(gif, "GIF")
    if QImage.fromData(gif.getvalue(), "GIF").size().width() != 8:
        return False, "the gif image plugin did not decode a tiny GIF"
    svg = QImage()
    if not svg.loadFromData(_TINY_SVG, "SVG") or svg.width() != 10:
        return False, "the svg image plugin did not decode a tiny SVG"
    return True, ", ".join(wanted)


def _check_qtsvg() -> tuple[bool, str]:
    from PySide6.QtGui import QIcon
    from PySide6.QtSvg import QSvgRenderer  # noqa: F401  (the import itself is a check)

    from desktop.paths import resource_path
    from desktop.ui.imaging.svg_process import (
        rasterize_svg,  # the child process, as the app runs it
    )

    png = rasterize_svg(_TINY_SVG, 40)
    if not png.startswith(b"\x89PNG"):
        return False, "QSvgRenderer did not produce a PNG"
    icon = QIcon(str(resource_path("icons/letta-desktop.svg")))
    if icon.isNull() or icon.pixmap(32, 32).isNull():
        return False, "the svg icon engine could not draw the app icon"
    return True, "QSvgRenderer raster + svg icon engine"


def _check_tls() -> tuple[bool, str]:
    import ssl

    import certifi
    import httpx

    where = certifi.where()
    if not os.path.isfile(where) or os.path.getsize(where) < 1000:
        return False, f"certifi CA bundle missing or empty: {where}"
    context = httpx.create_ssl_context()
    cas = context.cert_store_stats().get("x509_ca", 0)
    if cas < 10:
        return False, f"httpx's SSL context holds only {cas} CA certificates"
    paths = ssl.get_default_verify_paths()
    system = paths.cafile or paths.capath or "none"
    return (
        True,
        f"httpx SSL context with {cas} CAs (certifi {certifi.__version__}); "
        f"system default {system}",
    )


def _pillow_roundtrip(fmt: str) -> None:
    from PIL import Image

    image = Image.new("RGB", (8, 6), (200, 40, 90))
    out = io.BytesIO()
    image.save(out, fmt)
    with Image.open(io.BytesIO(out.getvalue())) as back:
        back.load()
        if back.size != (8, 6):
            raise ValueError(f"{fmt} decoded as {back.size}")


def _check_pillow() -> tuple[bool, str]:
    import PIL

    failed = []
    for fmt in PILLOW_FORMATS:
        try:
            _pillow_roundtrip(fmt)
        except Exception as exc:
            failed.append(f"{fmt} ({type(exc).__name__}: {exc})")
    if failed:
        return False, "cannot encode/decode " + "; ".join(failed)
    return True, f"Pillow {PIL.__version__}: {', '.join(PILLOW_FORMATS)}"


def _check_heic() -> tuple[bool, str]:
    import pillow_heif

    pillow_heif.register_heif_opener()
    _pillow_roundtrip("HEIF")
    return True, f"pillow-heif {pillow_heif.__version__} (libheif {pillow_heif.libheif_version()})"


def _check_keyring() -> tuple[bool, str]:
    import importlib
    from importlib.metadata import entry_points

    from desktop.core.secrets import _usable_backend

    discovered = sorted(ep.name for ep in entry_points(group="keyring.backends"))
    importable = []
    for name in KEYRING_BACKENDS:
        try:
            importlib.import_module(f"keyring.backends.{name}")
            importable.append(name)
        except Exception:
            pass
    backend = _usable_backend()  # resolves the backend; reads no secrets
    active = (
        "none usable in this session (the app keeps the key in memory)"
        if backend is None
        else f"{getattr(backend, 'name', type(backend).__name__)}"
    )
    detail = (
        f"active: {active}; entry points: {', '.join(discovered) or 'none'}; "
        f"importable: {', '.join(importable) or 'none'}"
    )
    ok = bool(importable) and bool(discovered)
    return ok, detail


def _check_code_colors() -> tuple[bool, str]:
    import pygments

    from desktop.ui.transcript.code_spans import DARK_STYLE, LIGHT_STYLE, lex

    snippet = 'def greet(name):\n    return "hi " + name  # say hi\n'
    for style in (LIGHT_STYLE, DARK_STYLE):
        spans = lex(snippet, "python", style)
        if len({look for _s, _e, look in spans.runs}) < 3:  # keyword, string, comment
            return False, f"Pygments did not colour a Python snippet in {style}"
    return True, f"Pygments {pygments.__version__}: python in {LIGHT_STYLE} and {DARK_STYLE}"


def _check_resources() -> tuple[bool, str]:
    from desktop.paths import resource_path, resources_dir

    for name in ("capabilities.json", "icons/letta-desktop.svg"):
        if not resource_path(name).is_file():
            return False, f"{name} missing under {resources_dir()}"
    return True, str(resources_dir())


CHECKS: tuple[tuple[str, Callable[[], tuple[bool, str]]], ...] = (
    ("main window", _check_main_window),
    ("platform plugin", _check_platform),
    ("qt image plugins", _check_qt_images),
    ("qtsvg", _check_qtsvg),
    ("tls certificates", _check_tls),
    ("pillow codecs", _check_pillow),
    ("heic (pillow-heif)", _check_heic),
    ("keyring", _check_keyring),
    ("code colours (pygments)", _check_code_colors),
    ("resources", _check_resources),
)


def run_checks() -> list[CheckResult]:
    """Run every check (a QApplication is created when none exists); never raises."""
    from PySide6.QtWidgets import QApplication

    from desktop import APP_ID, ORG_NAME

    if QApplication.instance() is None:
        prepare_environment()
        app = QApplication([sys.argv[0] if sys.argv else APP_ID])
        app.setApplicationName(APP_ID)
        app.setOrganizationName(ORG_NAME)
    results = []
    for name, check in CHECKS:
        try:
            ok, detail = check()
        except Exception as exc:
            frame = traceback.extract_tb(exc.__traceback__)[-1]
            ok, detail = (
                False,
                (
                    f"{type(exc).__name__}: {exc} "
                    f"({os.path.basename(frame.filename)}:{frame.lineno})"
                ),
            )
        results.append(CheckResult(name, ok, detail))
    return results


def main() -> int:
    prepare_environment()
    results = run_checks()
    out = sys.stdout if sys.stdout is not None else None  # None in a windowed Windows app
    if out is not None:
        from desktop import __version__

        frozen = "frozen" if getattr(sys, "frozen", False) else "from source"
        print(f"letta-desktop {__version__} self-test ({frozen}, {sys.executable})", file=out)
        for result in results:
            print(result.line(), file=out)
        failed = sum(not r.ok for r in results)
        print(f"{len(results) - failed} ok, {failed} failed", file=out)
        out.flush()
    return 0 if all(r.ok for r in results) else 1
