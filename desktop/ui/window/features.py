"""Every feature of the main window, each built from only the collaborators it uses.

Nothing here connects one feature to another (desktop/ui/window/wiring.py does); the few
constructor arguments that are functions of another feature (the image limits the vision
checks set, the send check) are the only cross-feature links made at build time.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMainWindow, QPushButton, QToolButton

from desktop.core.drafts import DraftStore
from desktop.core.secrets import SecretStore
from desktop.settings import Settings
from desktop.ui.attachments import AttachmentController, AttachmentStrip
from desktop.ui.attachments.capture import ScreenCapture
from desktop.ui.attachments.drop_overlay import DropOverlay, DropTarget
from desktop.ui.attachments.lightbox import LightboxOpener
from desktop.ui.chat.approvals import ApprovalPanel
from desktop.ui.chat.composer import Composer
from desktop.ui.chat.conversation_bar import ConversationBar
from desktop.ui.chat.draft_keeper import DraftKeeper, default_store
from desktop.ui.chat.send_flow import SendFlow
from desktop.ui.chat.sessions import Sessions
from desktop.ui.connection.connection_flow import ClientFactory, ConnectionFlow
from desktop.ui.connection.server_menu import ServerMenu
from desktop.ui.dialogs.help_and_settings import HelpAndSettings
from desktop.ui.plain_text import ElidedLabel
from desktop.ui.transcript import ThumbnailCache, TranscriptModel, TranscriptView
from desktop.ui.vision.vision_guard import VisionGuard
from desktop.ui.window.banner import Banner
from desktop.ui.window.reply_notifier import ReplyNotifier, reply_summary
from desktop.workers import Workers


@dataclass
class Features:
    window: QMainWindow
    workers: Workers
    settings: Settings
    secrets: SecretStore
    connection: ConnectionFlow
    server_menu: ServerMenu
    sessions: Sessions
    transcript_model: TranscriptModel
    transcript: TranscriptView
    thumbnails: ThumbnailCache
    banner: Banner
    composer: Composer
    send_button: QPushButton
    attach_button: QPushButton
    agent_button: QToolButton
    model_label: ElidedLabel
    server_label: ElidedLabel
    attachments: AttachmentController
    strip: AttachmentStrip
    lightbox: LightboxOpener
    drop_overlay: DropOverlay
    drop_target: DropTarget
    capture: ScreenCapture
    capture_button: QToolButton
    vision: VisionGuard
    send_flow: SendFlow
    conversations: ConversationBar
    approval: ApprovalPanel
    drafts: DraftKeeper
    help: HelpAndSettings
    notifier: ReplyNotifier


def build_features(
    window: QMainWindow,
    workers: Workers,
    settings: Settings,
    secrets: SecretStore,
    client_factory: ClientFactory,
    drafts: DraftStore | None,
) -> Features:
    connection = ConnectionFlow(workers, settings, secrets, client_factory, window)
    thumbnails = ThumbnailCache(workers, parent=window)
    transcript_model = TranscriptModel(thumbnails, window)
    transcript_model.reasoning_expanded = settings.reasoning_expanded
    transcript = TranscriptView(transcript_model, workers=workers)
    sessions = Sessions(workers, transcript_model, transcript, window)
    composer = Composer()
    vision: VisionGuard | None = None
    # The limits are the vision checks' (the model's profile; the many-image rule counts the
    # history); they are asked for only once images arrive, after `vision` exists.
    attachments = AttachmentController(
        workers,
        lambda: vision.limits(),  # type: ignore[union-attr]
        sessions.agent_model,
        window,
    )
    vision = VisionGuard(workers, settings, attachments, transcript_model, window)
    send_button = _send_button()
    drop_overlay = DropOverlay(window)
    return Features(
        window=window,
        workers=workers,
        settings=settings,
        secrets=secrets,
        connection=connection,
        server_menu=ServerMenu(connection.profiles, window),
        sessions=sessions,
        transcript_model=transcript_model,
        transcript=transcript,
        thumbnails=thumbnails,
        banner=Banner(),
        composer=composer,
        send_button=send_button,
        attach_button=_attach_button(),
        agent_button=_agent_button(),
        model_label=_quiet_label("Agent model", Qt.TextElideMode.ElideRight),
        server_label=_quiet_label("Server", Qt.TextElideMode.ElideMiddle),
        attachments=attachments,
        strip=AttachmentStrip(attachments),
        lightbox=LightboxOpener(workers, window),
        drop_overlay=drop_overlay,
        drop_target=DropTarget(
            drop_overlay, lambda mime: attachments.handle_mime(mime, drop=True), window
        ),
        capture=ScreenCapture(window, parent=window),
        capture_button=_capture_button(),
        vision=vision,
        send_flow=SendFlow(composer, attachments, send_button, vision.allow_send, window),
        conversations=ConversationBar(settings),
        approval=ApprovalPanel(),
        drafts=DraftKeeper(workers, drafts or default_store(), composer, attachments, window),
        help=HelpAndSettings(workers, settings, secrets, window),
        notifier=ReplyNotifier(
            window, lambda: reply_summary(transcript_model, _agent_name(sessions)), window
        ),
    )


def _agent_name(sessions: Sessions) -> str:
    from desktop import APP_NAME

    agent = sessions.agent
    return agent.name if agent is not None else APP_NAME


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
