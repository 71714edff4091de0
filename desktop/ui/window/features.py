"""Every feature of the main window, each built from only the collaborators it uses, after
the first frame (the widgets of that frame come from desktop/ui/window/shell.py).

Nothing here connects one feature to another (desktop/ui/window/wiring.py does); the few
constructor arguments that are functions of another feature (the image limits the vision
checks set, the send check) are the only cross-feature links made at build time.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from PySide6.QtWidgets import QMainWindow

from desktop import APP_NAME
from desktop.core.drafts import DraftStore
from desktop.core.secrets import SecretStore
from desktop.settings import Settings
from desktop.ui.attachments import AttachmentController, AttachmentStrip
from desktop.ui.attachments.capture import ScreenCapture
from desktop.ui.attachments.drop_overlay import DropOverlay, DropTarget
from desktop.ui.attachments.image_editor import ImageEditorOpener
from desktop.ui.attachments.lightbox import LightboxOpener
from desktop.ui.chat.approvals import ApprovalPanel
from desktop.ui.chat.conversation_bar import ConversationBar
from desktop.ui.chat.draft_keeper import DraftKeeper, default_store
from desktop.ui.chat.send_flow import SendFlow
from desktop.ui.chat.sessions import Sessions
from desktop.ui.connection.connection_flow import ClientFactory, ConnectionFlow
from desktop.ui.dialogs.help_and_settings import HelpAndSettings
from desktop.ui.transcript import ThumbnailCache, TranscriptModel, TranscriptView
from desktop.ui.vision.vision_guard import VisionGuard
from desktop.ui.window.reply_notifier import ReplyNotifier, reply_summary
from desktop.ui.window.shell import Shell
from desktop.workers import Workers


@dataclass
class Features(Shell):
    window: QMainWindow
    workers: Workers
    transcript_model: TranscriptModel
    transcript: TranscriptView
    thumbnails: ThumbnailCache
    settings: Settings
    secrets: SecretStore
    connection: ConnectionFlow
    sessions: Sessions
    attachments: AttachmentController
    strip: AttachmentStrip
    lightbox: LightboxOpener
    editor: ImageEditorOpener
    drop_overlay: DropOverlay
    drop_target: DropTarget
    capture: ScreenCapture
    vision: VisionGuard
    send_flow: SendFlow
    conversations: ConversationBar
    approval: ApprovalPanel
    drafts: DraftKeeper
    help: HelpAndSettings
    notifier: ReplyNotifier


def build_features(
    window: QMainWindow,
    shell: Shell,
    workers: Workers,
    settings: Settings,
    secrets: SecretStore,
    client_factory: ClientFactory,
    drafts: DraftStore | None,
) -> Features:
    connection = ConnectionFlow(workers, settings, secrets, client_factory, shell.profiles, window)
    thumbnails = ThumbnailCache(workers, parent=window)
    transcript_model = TranscriptModel(thumbnails, window)
    transcript_model.reasoning_expanded = settings.reasoning_expanded
    transcript = TranscriptView(transcript_model, workers=workers)
    # Thumbnails are decoded for the screen's device pixels, and again on a denser screen.
    thumbnails.set_scale(window.devicePixelRatioF())
    transcript.pixelRatioChanged.connect(thumbnails.set_scale)
    composer = shell.composer
    sessions = Sessions(workers, transcript_model, transcript, window)
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
    drop_overlay = DropOverlay(window)
    parts = {f.name: getattr(shell, f.name) for f in fields(shell)}
    return Features(
        **parts,
        window=window,
        workers=workers,
        transcript_model=transcript_model,
        transcript=transcript,
        thumbnails=thumbnails,
        settings=settings,
        secrets=secrets,
        connection=connection,
        sessions=sessions,
        attachments=attachments,
        strip=AttachmentStrip(attachments),
        lightbox=LightboxOpener(workers, window),
        editor=ImageEditorOpener(workers, window),
        drop_overlay=drop_overlay,
        drop_target=DropTarget(
            drop_overlay, lambda mime: attachments.handle_mime(mime, drop=True), window
        ),
        capture=ScreenCapture(window, parent=window),
        vision=vision,
        send_flow=SendFlow(composer, attachments, shell.send_button, vision.allow_send, window),
        conversations=ConversationBar(settings),
        approval=ApprovalPanel(),
        drafts=DraftKeeper(workers, drafts or default_store(), composer, attachments, window),
        help=HelpAndSettings(workers, settings, secrets, window),
        notifier=ReplyNotifier(
            window, lambda: reply_summary(transcript_model, _agent_name(sessions)), window
        ),
    )


def _agent_name(sessions: Sessions) -> str:
    agent = sessions.agent
    return agent.name if agent is not None else APP_NAME
