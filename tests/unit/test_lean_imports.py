"""Start-up stays lean: the main window's modules do not import httpx, Pillow or the dialogs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

LAZY = [
    "httpx",
    "httpx_sse",
    "PIL",
    "desktop.core.letta.client",
    "desktop.core.images.pipeline",
    "desktop.ui.agent_picker",
    "desktop.ui.connect_dialog",
    "desktop.ui.settings_dialog",
    "desktop.ui.shortcuts_dialog",
    "desktop.ui.crash_dialog",
    "desktop.ui.model_switcher",
]


def test_building_the_main_window_skips_the_heavy_modules(tmp_path):
    """What runs before the first frame (create_window) imports none of LAZY."""
    code = (
        "import json, sys\n"
        "from PySide6.QtWidgets import QApplication\n"
        "app = QApplication([])\n"
        "import desktop.app\n"
        "args = desktop.app.build_parser().parse_args([])\n"
        "window, _, _ = desktop.app.create_window(args, use_keyring=False)\n"
        f"print(json.dumps([m for m in {LAZY!r} if m in sys.modules]))\n"
    )
    env = dict(
        os.environ,
        QT_QPA_PLATFORM="offscreen",
        HOME=str(tmp_path),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_DATA_HOME=str(tmp_path / "data"),
        XDG_CACHE_HOME=str(tmp_path / "cache"),
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=str(ROOT),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_lazy_names_still_resolve():
    from desktop.core import images, letta

    assert letta.LettaClient.__name__ == "LettaClient"
    assert letta.MessageStream.__name__ == "MessageStream"
    assert callable(images.prepare_image) and callable(images.make_thumbnail)
