"""What the first frame shows, and nothing else: header, an empty transcript, notice strip,
composer.

Built before the window is shown; every other feature (desktop/ui/window/features.py) is built
right after the first frame, so their modules load then (launch benchmark: docs in README). The
transcript of the first frame is a stand-in that looks like an empty one (placeholder.py); the
real one is a feature.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMainWindow, QPushButton, QToolButton

from desktop.settings import Settings
from desktop.ui.chat.composer import Composer
from desktop.ui.connection.profiles import Profiles
from desktop.ui.connection.server_menu import ServerMenu
from desktop.ui.plain_text import ElidedLabel
from desktop.ui.transcript.placeholder import TranscriptPlaceholder
from desktop.ui.window.banner import Banner


@dataclass
class Shell:
    transcript_stand_in: TranscriptPlaceholder
    banner: Banner
    composer: Composer
    send_button: QPushButton
    attach_button: QPushButton
    agent_button: QToolButton
    model_label: ElidedLabel
    server_label: ElidedLabel
    capture_button: QToolButton
    profiles: Profiles
    server_menu: ServerMenu


def build_shell(window: QMainWindow, settings: Settings) -> Shell:
    profiles = Profiles(settings)
    return Shell(
        transcript_stand_in=TranscriptPlaceholder(),
        banner=Banner(),
        composer=Composer(),
        send_button=_send_button(),
        attach_button=_attach_button(),
        agent_button=_agent_button(),
        model_label=_quiet_label("Agent model", Qt.TextElideMode.ElideRight),
        server_label=_quiet_label("Server", Qt.TextElideMode.ElideMiddle),
        capture_button=_capture_button(),
        profiles=profiles,
        server_menu=ServerMenu(profiles, window),
    )


def _agent_button() -> QToolButton:
    button = QToolButton()
    button.setText("Choose an agent…")
    button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    button.setAccessibleName("Agent: none chosen")
    button.setAccessibleDescription("Switch to another agent")
    button.setStyleSheet(
        "QToolButton { font-size: 15px; font-weight: 600; padding: 4px 8px; border: none; }"
    )
    button.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
    return button


def _quiet_label(description: str, elide: Qt.TextElideMode) -> ElidedLabel:
    label = ElidedLabel(elide)
    label.setAccessibleDescription(description)
    label.setStyleSheet("color: palette(placeholder-text);")
    return label


def _send_button() -> QPushButton:
    button = QPushButton("Send")
    button.setDefault(True)
    button.setMinimumWidth(80)
    button.setAccessibleName("Send message")
    button.setToolTip("Send (Enter)")
    return button


def _attach_button() -> QPushButton:
    button = QPushButton("Attach…")
    button.setAccessibleName("Attach images")
    button.setToolTip("Attach images (Ctrl+O) — or paste or drop them")
    return button


def _capture_button() -> QToolButton:
    button = QToolButton()
    button.setText("Capture")
    button.setAutoRaise(True)
    button.setToolTip("Capture a region of the screen and attach it (Ctrl+Shift+S)")
    button.setAccessibleName("Capture screen region")
    button.setAccessibleDescription(button.toolTip())
    return button
