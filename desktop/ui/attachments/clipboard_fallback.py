"""Linux fallback when Qt's clipboard yields nothing: ask `wl-paste` or `xclip` for an image.

Some compositors and clipboard managers offer images in ways Qt does not see. The command runs
on a worker (never the GUI thread) with a timeout; its bytes are checked before use.
"""

from __future__ import annotations

import os
import shutil
import sys

from desktop.core.images import sniff_media_type
from desktop.ui.attachments.mime import IMAGE_FORMATS

TIMEOUT_S = 3.0


def _tool() -> str | None:
    if not sys.platform.startswith("linux"):
        return None
    if os.environ.get("WAYLAND_DISPLAY") and shutil.which("wl-paste"):
        return "wl-paste"
    if os.environ.get("DISPLAY") and shutil.which("xclip"):
        return "xclip"
    return None


def available() -> bool:
    """Is there a command-line clipboard tool for this session?"""
    return _tool() is not None


def _run(cmd: list[str], timeout: float) -> bytes:
    import subprocess  # at the first paste that needs the tool: not on the way to the first frame

    try:
        done = subprocess.run(
            cmd, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return b""
    return done.stdout if done.returncode == 0 else b""


def _pick(types: list[str]) -> str | None:
    for fmt in IMAGE_FORMATS:
        if fmt in types:
            return fmt
    return next((t for t in types if t.startswith("image/")), None)


def read_clipboard_image(timeout: float = TIMEOUT_S) -> bytes | None:
    """Image bytes from the system clipboard via the CLI tool, or None. Call on a worker."""
    tool = _tool()
    if tool == "wl-paste":
        listing = ["wl-paste", "--list-types"]
        fetch = ["wl-paste", "--no-newline", "--type"]
    elif tool == "xclip":
        listing = ["xclip", "-selection", "clipboard", "-t", "TARGETS", "-o"]
        fetch = ["xclip", "-selection", "clipboard", "-o", "-t"]
    else:
        return None
    types = _run(listing, timeout).decode("utf-8", "replace").split()
    fmt = _pick(types) or ("image/png" if not types else None)
    if fmt is None:
        return None
    data = _run([*fetch, fmt], timeout)
    return data if data and sniff_media_type(data) is not None else None
