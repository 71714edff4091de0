"""Start-up stays lean: the main window's modules do not import httpx, Pillow, the dialogs, or
what only runs after the first frame (the log file, the transcript's row painter, child
processes, hashes, message ids)."""

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
    "keyring",
    # The log file opens after the first frame (app.main); platform is for "Copy debug info".
    "logging.handlers",
    "platform",
    # The first frame shows a stand-in for the empty transcript (transcript/placeholder.py);
    # the real one is built after it, and its delegate comes with its first row.
    "desktop.ui.transcript.view",
    "desktop.ui.transcript.model",
    "desktop.ui.transcript.style",
    "desktop.ui.transcript.history_thumbnails",
    "desktop.ui.transcript.delegate",
    "desktop.ui.transcript.richtext",
    "desktop.ui.transcript.selection",
    # Errors are told apart when a request fails; the rest where a function needs it.
    "desktop.core.letta.errors",
    "email",
    "hashlib",
    "socket",
    "subprocess",
    "uuid",
    # Every feature the first frame does not show is built after it (MainWindow.complete).
    "desktop.ui.window.features",
    "desktop.ui.window.wiring",
    "desktop.ui.chat.session",
    "desktop.ui.attachments.controller",
    "desktop.ui.vision.vision_guard",
    "desktop.ui.connection.profiles_dialog",
    "desktop.core.letta.parts",
    "desktop.core.letta.models",
    "desktop.core.drafts",
]


def test_building_the_main_window_skips_the_heavy_modules(tmp_path):
    """What runs before the first frame (create_window, as the app calls it) imports none of
    LAZY."""
    code = (
        "import json, sys\n"
        "from PySide6.QtWidgets import QApplication\n"
        "app = QApplication([])\n"
        "import desktop.app\n"
        "import desktop.compose\n"
        "args = desktop.app.build_parser().parse_args([])\n"
        "window, _, _ = desktop.compose.create_window(args, use_keyring=False, complete=False)\n"
        f"print(json.dumps([m for m in {LAZY!r} if m in sys.modules]))\n"
    )
    assert json.loads(run_snippet(code, home=tmp_path)) == []


def test_lazy_names_still_resolve():
    from desktop.core import images, letta
    from desktop.ui import transcript

    assert letta.LettaClient.__name__ == "LettaClient"
    assert letta.MessageStream.__name__ == "MessageStream"
    assert letta.AuthError.__module__ == "desktop.core.letta.errors"
    assert letta.Agent.__module__ == "desktop.core.letta.models"
    assert letta.normalize_base_url("api.letta.com/v1") == "https://api.letta.com"
    assert set(letta.__all__) <= set(dir(letta))
    assert transcript.TranscriptDelegate.__name__ == "TranscriptDelegate"
    assert callable(images.prepare_image) and callable(images.make_thumbnail)
