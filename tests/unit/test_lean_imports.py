"""Start-up stays lean: the main window's modules do not import httpx, Pillow or the dialogs."""

from __future__ import annotations

import json
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


def test_importing_the_app_and_main_window_skips_the_heavy_modules():
    code = (
        "import json, sys\n"
        "import desktop.app\n"
        "from desktop.ui.main_window import MainWindow\n"
        f"print(json.dumps([m for m in {LAZY!r} if m in sys.modules]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=str(ROOT), capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_lazy_names_still_resolve():
    from desktop.core import images, letta

    assert letta.LettaClient.__name__ == "LettaClient"
    assert letta.MessageStream.__name__ == "MessageStream"
    assert callable(images.prepare_image) and callable(images.make_thumbnail)
