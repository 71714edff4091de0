"""docs/light.png and docs/dark.png: the main window with a short conversation, in both schemes.

Uses the in-memory FakeLetta (no server needed), offscreen or under an X server:
`QT_QPA_PLATFORM=offscreen .venv/bin/python -m tests.peers.theme_screenshots docs/`.
"""

from __future__ import annotations

import argparse
import base64
import io
import os
import sys
import tempfile
from pathlib import Path

from tests.peers.make_screenshots import dashboard_png

HISTORY = [
    ("user_message", "Here is the settings page of our dashboard. Does the layout work?"),
    (
        "reasoning_message",
        "The user wants feedback on a layout. Look at spacing, hierarchy, "
        "and contrast of the cards and the chart.",
    ),
    (
        "assistant_message",
        "Mostly, yes. A few things stand out:\n\n"
        "1. **The sidebar** is heavier than the content — lighten it a step.\n"
        "2. The three cards have equal weight; make the *primary* metric "
        "larger.\n"
        "3. The chart's bars need a baseline and axis labels.\n\n"
        "Want me to sketch the spacing in `rem`?",
    ),
    ("user_message", "Yes please, and check the chart colours for colour-blind users."),
]


def _seed(fake, agent_id: str, image_b64: str) -> None:
    history = fake.messages[agent_id]
    for i, (kind, text) in enumerate(HISTORY):
        item = {
            "id": f"message-{i}",
            "message_type": kind,
            "otid": f"otid-{i}",
            "date": f"2026-01-01T10:00:{i:02d}+00:00",
        }
        if kind == "reasoning_message":
            item["reasoning"] = text
        elif kind == "user_message" and i == 0:
            item["content"] = [
                {"type": "text", "text": text},
                {
                    "type": "image",
                    "source": {"type": "base64", "media_type": "image/png", "data": image_b64},
                },
            ]
        else:
            item["content"] = text
        history.append(item)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("outdir", type=Path)
    args = parser.parse_args()
    args.outdir.mkdir(parents=True, exist_ok=True)
    os.environ["LETTA_DESKTOP_CONFIG_DIR"] = tempfile.mkdtemp(prefix="shot-config-")
    os.environ["LETTA_DESKTOP_DATA_DIR"] = tempfile.mkdtemp(prefix="shot-data-")

    from PIL import Image
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtGui import QIcon, QImage
    from PySide6.QtWidgets import QApplication

    from desktop.core.secrets import SecretStore
    from desktop.paths import resource_path
    from desktop.settings import Settings
    from desktop.ui.style.theme import apply_theme
    from desktop.ui.window.main_window import MainWindow
    from desktop.workers import Workers
    from tests.fake_letta import FakeLetta

    app = QApplication([sys.argv[0]])
    app.setApplicationDisplayName("Letta Desktop")
    app.setWindowIcon(QIcon(str(resource_path("icons/letta-desktop.svg"))))

    def wait(ms: int) -> None:
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    png = dashboard_png(1440, 900)
    small = io.BytesIO()
    Image.open(io.BytesIO(png)).save(small, "PNG")
    fake = FakeLetta()
    agent = fake.add_agent("Design reviewer", model="openai/gpt-4o")
    _seed(fake, agent["id"], base64.b64encode(small.getvalue()).decode())

    workers = Workers()
    window = MainWindow(workers, Settings(), SecretStore(use_keyring=False), fake.factory)
    window.resize(980, 760)
    window.show()
    window.start("https://letta.example.com", "good-key", agent["id"])
    for _ in range(100):
        wait(50)
        if window.session and window.session.agent and window.transcript_model.rowCount() >= 4:
            break
    window.attachments.add_qimage(QImage.fromData(png), "Screen capture 10.42.07.png")
    window.composer.set_text("Here is the chart on its own.")
    wait(1200)
    for scheme in ("light", "dark"):
        apply_theme(scheme)
        wait(400)
        window.transcript.scroll_to_bottom()
        wait(200)
        path = args.outdir / f"{scheme}.png"
        window.grab().save(str(path))
        print(path)
    apply_theme("system")
    window.close()
    workers.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
