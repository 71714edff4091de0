"""Shared test set-up: Qt platform, locale, isolation of settings and keyring.

QT_QPA_PLATFORM must be set before any QApplication exists; offscreen unless the run asks for a
real X server (tests/run_all.sh runs the `x11` tests with xcb under Xvfb).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("LANG", "C.UTF-8")
# The app must never see a developer's real key or server during tests.
for _name in ("LETTA_API_KEY", "LETTA_BASE_URL"):
    os.environ.pop(_name, None)

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path_factory, monkeypatch):
    """Each test gets private QSettings/app-data folders (no leakage between tests)."""
    base = tmp_path_factory.mktemp("appdirs")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(base / "config"))
    monkeypatch.setenv("LETTA_DESKTOP_DATA_DIR", str(base / "data"))
    monkeypatch.setenv("LETTA_DESKTOP_CONFIG_DIR", str(base / "config"))
    yield
    # create_window() registers Qt's SVG rasteriser in the Qt-free pipeline; don't let it leak
    # into tests that check the pipeline without Qt.
    from desktop.core.images import set_svg_rasterizer

    set_svg_rasterizer(None)


def pytest_collection_modifyitems(config, items):
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    skip_x11 = pytest.mark.skip(reason="needs QT_QPA_PLATFORM=xcb and a real X server")
    for item in items:
        if "x11" in item.keywords and (platform != "xcb" or not os.environ.get("DISPLAY")):
            item.add_marker(skip_x11)
    _fastest_first_under_a_mutant(items)


def _fastest_first_under_a_mutant(items) -> None:
    """Under mutmut (tests/mutation.py), run a mutant's tests fastest first.

    mutmut stops at the first failing test (-x) but passes the tests of a mutated function in
    no particular order: a mutant of the image opener, which every image test reaches, then ran
    ~40 s of tests before the one that noticed it. mutmut measured each test's duration in its
    stats run (mutmut-stats.json in its working folder, which is the current one here)."""
    if "__mutmut_" not in os.environ.get("MUTANT_UNDER_TEST", ""):
        return
    import json

    try:
        durations = json.loads(Path("mutmut-stats.json").read_text("utf-8"))["duration_by_test"]
    except (OSError, ValueError, KeyError):
        return
    items.sort(key=lambda item: durations.get(item.nodeid, float("inf")))
