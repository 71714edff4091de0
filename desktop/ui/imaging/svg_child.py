"""The SVG rasteriser's child process: caps itself, draws one sanitised SVG, exits.

Protocol (desktop/ui/imaging/svg_process.py is the other end): the long edge in argv, the SVG
on stdin, the PNG on stdout; exit 0, or BAD_SVG with the reason on stderr. Anything else (killed
by the memory or CPU cap, a crash inside Qt) means the drawing ran away.
"""

from __future__ import annotations

import contextlib
import os
import sys

BAD_SVG = 3
MEMORY_HEADROOM = 512 * 1024 * 1024
"""Address space allowed on top of Python + Qt once loaded (~100 MB of mappings here): the
largest raster is 2000×2000×4 = 16 MB and the sanitiser caps embedded images at 32 MP in all
(128 MB decoded), so only a runaway reaches this."""
MAX_INPUT = 64 * 1024 * 1024


def _mapped_bytes() -> int | None:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def cap_resources(cpu_seconds: int) -> None:
    """CPU seconds (so an orphan still dies) and, where the OS enforces it, address space."""
    try:
        import resource
    except ImportError:  # Windows: the parent's time limit is the bound
        return
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    mapped = _mapped_bytes()  # Linux; macOS does not enforce RLIMIT_AS anyway
    if mapped is not None:
        limit = mapped + MEMORY_HEADROOM
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def main(argv: list[str]) -> int:
    long_edge, cpu_seconds = int(argv[0]), int(argv[1])
    data = sys.stdin.buffer.read(MAX_INPUT)
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtGui import QGuiApplication  # text in an SVG needs the font database

    from desktop.ui.imaging.svg_raster import render_png

    app = QGuiApplication(["letta-desktop-svg"])  # noqa: F841  (kept alive while drawing)
    cap_resources(cpu_seconds)
    try:
        png = render_png(data, long_edge)
    except ValueError as exc:
        sys.stderr.write(str(exc))
        return BAD_SVG
    sys.stdout.buffer.write(png)
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
