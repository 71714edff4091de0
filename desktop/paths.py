"""Where the app's bundled resources live, whichever way it was started.

Three layouts exist: a source checkout (`resources/` beside `desktop/`), an installed wheel (the
same folder shipped as the `desktop/resources` package data), and a PyInstaller bundle
(`sys._MEIPASS/resources`). Everything that reads a resource goes through `resource_path`.
"""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path


@cache
def resources_dir() -> Path:
    candidates = []
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        candidates.append(Path(bundle) / "resources")
    here = Path(__file__).resolve().parent
    candidates += [here / "resources", here.parent / "resources"]
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("the app's resources folder is missing; reinstall Letta Desktop")


def resource_path(name: str) -> Path:
    return resources_dir() / name
