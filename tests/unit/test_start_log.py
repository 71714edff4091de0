"""The log file opens after the first frame, and what start-up logged before it is in the file."""

from __future__ import annotations

import json
import logging

from desktop.core.redact import register_secret
from tests.app_process import run_snippet

SECRET = "sk-held-0123456789abcdef"


def test_records_held_before_the_file_opens_are_written_to_it_redacted(tmp_path, monkeypatch):
    from desktop import diagnostics

    monkeypatch.setenv("LETTA_DESKTOP_DATA_DIR", str(tmp_path / "data"))
    register_secret(SECRET)
    diagnostics.hold_early_records()
    try:
        logging.getLogger("desktop.start").warning("early warning with key %s", SECRET)
        path = diagnostics.setup_file_logging()
        assert path is not None
        logging.getLogger("desktop.start").warning("after the file opened")
        for handler in logging.getLogger().handlers:
            handler.flush()
        lines = path.read_text(encoding="utf-8").splitlines()
    finally:
        diagnostics.close_file_logging()
    assert [line.split(": ", 1)[1] for line in lines] == [
        "early warning with key «redacted»",
        "after the file opened",
    ]


def test_a_warning_from_before_the_first_frame_is_in_the_log_while_the_app_runs(tmp_path):
    """LETTA_CA_BUNDLE naming no file is reported while the window is being built; one second
    after the start (the first frame is long painted) the running app's log file has it."""
    code = (
        "import json, sys\n"
        "from PySide6.QtCore import QTimer\n"
        "from PySide6.QtWidgets import QApplication\n"
        "app = QApplication([])\n"
        "import desktop.app, desktop.diagnostics\n"
        "def read():\n"
        "    path = desktop.diagnostics.log_file()\n"
        "    print(json.dumps(path.read_text(encoding='utf-8') if path.exists() else ''))\n"
        "    app.quit()\n"
        "QTimer.singleShot(1500, read)\n"
        "desktop.app.main([])\n"
    )
    text = json.loads(
        run_snippet(
            code,
            home=tmp_path,
            LETTA_DESKTOP_DATA_DIR=str(tmp_path / "data"),
            LETTA_DESKTOP_CONFIG_DIR=str(tmp_path / "config"),
            LETTA_BASE_URL="http://127.0.0.1:9",
            LETTA_API_KEY="bench-key",
            LETTA_CA_BUNDLE=str(tmp_path / "missing.pem"),
        )
    )
    assert f"LETTA_CA_BUNDLE={tmp_path / 'missing.pem'} is not a file" in text
