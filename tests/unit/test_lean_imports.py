"""Start-up stays lean: the main window's modules do not import httpx, Pillow or the dialogs."""

from __future__ import annotations

import json

from tests.app_process import run_snippet

LAZY = [
    "httpx",
    "httpx_sse",
    "PIL",
    "pygments",  # imported by the first code block with a language tag (code_spans.py)
    "desktop.core.letta.client",
    "desktop.core.images.pipeline",
    "desktop.ui.connection.agent_picker",
    "desktop.ui.connection.connect_dialog",
    "desktop.ui.dialogs.settings",
    "desktop.ui.dialogs.shortcuts",
    "desktop.ui.dialogs.crash",
    "desktop.ui.vision.model_switcher",
]


def test_building_the_main_window_skips_the_heavy_modules(tmp_path):
    """What runs before the first frame (create_window) imports none of LAZY."""
    code = (
        "import json, sys\n"
        "from PySide6.QtWidgets import QApplication\n"
        "app = QApplication([])\n"
        "import desktop.app\n"
        "import desktop.compose\n"
        "args = desktop.app.build_parser().parse_args([])\n"
        "window, _, _ = desktop.compose.create_window(args, use_keyring=False)\n"
        f"print(json.dumps([m for m in {LAZY!r} if m in sys.modules]))\n"
    )
    assert json.loads(run_snippet(code, home=tmp_path)) == []


def test_lazy_names_still_resolve():
    from desktop.core import images, letta

    assert letta.LettaClient.__name__ == "LettaClient"
    assert letta.MessageStream.__name__ == "MessageStream"
    assert callable(images.prepare_image) and callable(images.make_thumbnail)
