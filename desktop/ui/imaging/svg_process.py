"""The SVG rasteriser the app registers: Qt draws in a child process with a time and memory cap.

Qt's renderer holds the GIL while it draws and has no limits of its own. The sanitiser
(core/images/svg_sanitize.py) bounds what it knows about; this bounds everything else (a dash
pattern of a million segments, a huge blur): a runaway is killed after TIME_LIMIT_S, or by the
child's own address-space cap, and the app says so. Starting the child costs ~0.15 s.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from desktop.core.images import ImageRejected
from desktop.core.images.errors import UNSAFE_SVG
from desktop.ui.imaging.svg_child import BAD_SVG

TIME_LIMIT_S = 5.0
"""Wall clock for one SVG, start-up included. Ordinary SVGs take 0.2–0.5 s here; shutdown waits
for workers up to 5 s, so a runaway cannot hold the app open longer than that either."""
CHILD_FLAG = "--svg-raster-child"
"""argv[1] of a frozen app started as the child (desktop/__main__.py dispatches on it)."""

_ROOT = str(Path(__file__).resolve().parents[2])


def _command(long_edge: int) -> list[str]:
    args = [str(long_edge), str(int(TIME_LIMIT_S) + 1)]
    if getattr(sys, "frozen", False):
        return [sys.executable, CHILD_FLAG, *args]
    code = (
        f"import sys; sys.path.insert(0, {_ROOT!r}); "
        "from desktop.ui.imaging.svg_child import main; sys.exit(main(sys.argv[1:]))"
    )
    return [sys.executable, "-I", "-c", code, *args]


def rasterize_svg(data: bytes, long_edge: int) -> bytes:
    """PNG bytes for (sanitised) SVG bytes, drawn in a capped child; raises like the core wants:
    ValueError for an SVG Qt cannot parse, ImageRejected for one that ran away."""
    import subprocess  # on a worker, at the first SVG: not on the way to the first frame

    if long_edge < 1:
        raise ValueError("long_edge must be positive")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    # An empty working folder: nothing relative can resolve to a user's file, should anything
    # ever get past the sanitiser.
    with tempfile.TemporaryDirectory(prefix="letta-svg-") as cwd:
        child = subprocess.Popen(
            _command(long_edge),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
            env=env,
            creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0),
        )
        try:
            png, err = child.communicate(data, timeout=TIME_LIMIT_S)
        except subprocess.TimeoutExpired:
            child.kill()
            child.communicate()
            raise ImageRejected(
                UNSAFE_SVG,
                f"The SVG image took too long to draw (over {TIME_LIMIT_S:.0f} s), so it was "
                "stopped.",
            ) from None
    if child.returncode == 0 and png:
        return png
    if child.returncode == BAD_SVG:
        raise ValueError(err.decode("utf-8", "replace")[:200] or "not a valid SVG document")
    raise ImageRejected(
        UNSAFE_SVG, "The SVG image needs too much memory or time to draw, so it was stopped."
    )
