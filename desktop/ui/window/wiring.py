"""Every connection between the window's features, in one place: the app's table of contents.

Read top to bottom: the commands (menus and keys), connecting to a server, the session that
follows a connection, what a session's events do to the other features, attachments, vision
checks, notices. Features never reach into each other; they meet here.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QImage
from PySide6.QtWidgets import QFileDialog

from desktop import APP_NAME
from desktop.core.letta import Agent
from desktop.ui.attachments.capture import capture_name
from desktop.ui.chat.session import ChatSession
from desktop.ui.connection.connection_flow import KEYRING_NOTICE, Connection
from desktop.ui.notice import Notice, Tone
from desktop.ui.plain_text import plain_tip
from desktop.ui.user_errors import Action, UserError
from desktop.ui.window.actions import ActionId, Actions
from desktop.ui.window.features import Features

IMAGE_FILTER = (
    "Images (*.png *.jpg *.jpeg *.gif *.webp *.bmp *.tif *.tiff *.heic *.heif *.avif "
    "*.svg);;All files (*)"
)


def wire(f: Features, actions: Actions) -> None:
    _commands(f, actions)
    _connection(f)
    _session_events(f)
    _attachments(f)
    _notices(f)


def _commands(f: Features, actions: Actions) -> None:
    on = actions.connect
    on(ActionId.ATTACH, lambda: attach_files(f))
    on(ActionId.CAPTURE, f.capture.start)
    on(ActionId.SWITCH_AGENT, lambda: choose_agent(f))
    on(ActionId.NEW_CONVERSATION, f.conversations.new_conversation)
    on(ActionId.CONNECTION, f.connection.show_connect_dialog)
    on(ActionId.RELOAD, f.sessions.reload)
    on(ActionId.SETTINGS, f.help.open_settings)
    on(ActionId.QUIT, f.window.close)
    on(ActionId.PASTE, lambda: (f.composer.setFocus(), f.composer.paste()))
    on(ActionId.STOP, f.send_flow.stop)
    on(ActionId.SHORTCUTS, f.help.open_shortcuts)
    on(ActionId.DEBUG_INFO, f.help.copy_debug_info)
    on(ActionId.ABOUT, f.help.about)
    f.agent_button.clicked.connect(lambda: choose_agent(f))
    f.capture_button.clicked.connect(f.capture.start)
    f.attach_button.clicked.connect(lambda: attach_files(f))
    f.conversations.supportedChanged.connect(actions[ActionId.NEW_CONVERSATION].setEnabled)
    f.server_menu.switchRequested.connect(f.connection.switch_to)
    f.server_menu.manageRequested.connect(f.connection.manage_servers)
    f.help.connectionRequested.connect(f.connection.show_connect_dialog)
    f.help.reasoningExpandedChanged.connect(
        lambda on_: setattr(f.transcript_model, "reasoning_expanded", on_)
    )


def _connection(f: Features) -> None:
    """A new client → a new session on it; the key accepted → open the agent (or pick one)."""

    def on_client(connection: Connection) -> None:
        # The keyring warning stays until it is dismissed: it is true of every connection.
        f.banner.withdraw_all_but(KEYRING_NOTICE)
        f.server_label.setText(connection.base_url.split("://", 1)[-1])
        f.server_label.setToolTip(plain_tip(connection.base_url))
        f.server_menu.set_connected(connection.base_url)
        f.help.set_connection(connection)
        f.sessions.open(connection.client)

    def on_ready(_connection: Connection, agent_id: str) -> None:
        if agent_id:
            open_agent(f, agent_id)
        else:
            choose_agent(f)

    f.connection.clientChanged.connect(on_client)
    f.connection.ready.connect(on_ready)
    f.connection.agentChosen.connect(lambda agent_id: open_agent(f, agent_id))


def _session_events(f: Features) -> None:
    """Each feature that keeps per-session state follows the new session; the session's events
    (relayed by `Sessions`) update the header, the pending images and the notices."""

    def on_session(session: ChatSession) -> None:
        f.conversations.set_session(session)
        f.approval.show_approval(None)
        session.approvalPending.connect(f.approval.show_approval)
        f.vision.set_session(session)
        f.send_flow.set_session(session)
        f.drafts.watch(session)

    def on_agent(agent: Agent) -> None:
        f.window.setWindowTitle(f"{agent.name} — {APP_NAME}")
        f.agent_button.setText(f"{agent.name}  ▾")
        f.agent_button.setAccessibleName(f"Agent: {agent.name}")
        on_model()
        f.connection.remember_agent(agent)
        f.composer.setFocus()

    def on_model() -> None:
        session = f.sessions.current
        if session is None or session.agent is None:
            return
        model = session.model or "model unknown"
        own = session.model_is_conversations
        f.model_label.setText(f"{model} (this conversation)" if own else model)
        f.model_label.setToolTip(
            "This conversation has a model of its own; the agent's is "
            f"{session.agent.model or 'unknown'}."
            if own
            else ""
        )
        f.attachments.reprepare_all()  # the new model may take other sizes or formats

    def on_answered(decisions: list) -> None:
        """When the session cannot send now (busy, no agent) the panel takes answers again."""
        session = f.sessions.current
        if session is None or not session.answer_approvals(decisions):
            f.approval.set_enabled(True)

    f.sessions.sessionChanged.connect(on_session)
    f.sessions.agentLoaded.connect(on_agent)
    f.sessions.modelChanged.connect(on_model)
    f.sessions.busyChanged.connect(lambda busy: f.approval.set_enabled(not busy))
    f.sessions.editRequested.connect(f.composer.set_text)
    f.sessions.attachmentsRestored.connect(f.attachments.restore)
    f.sessions.replyFinished.connect(f.notifier.reply_finished)
    f.approval.answered.connect(on_answered)


def _attachments(f: Features) -> None:
    f.composer.mime_handler = f.attachments.handle_paste
    f.composer.mime_probe = f.attachments.can_paste
    f.composer.backspaceOnEmpty.connect(f.attachments.remove_last)
    f.strip.previewRequested.connect(f.lightbox.open_attachment)
    f.strip.editRequested.connect(f.editor.open_attachment)
    f.lightbox.editRequested.connect(f.editor.open_attachment)
    f.editor.editApplied.connect(f.attachments.apply_edit)
    f.transcript.imageActivated.connect(f.lightbox.open_image)
    f.drop_target.watch(f.window, f.composer.viewport())

    def captured(image: QImage) -> None:
        f.attachments.add_qimage(image, capture_name())
        f.composer.setFocus()

    def captured_file(path: str) -> None:  # the Wayland portal's PNG
        f.attachments.add_file(path)  # read and prepared on a worker
        f.composer.setFocus()

    f.capture.captured.connect(captured)
    f.capture.captured_file.connect(captured_file)
    f.vision.sendRequested.connect(f.send_flow.send)
    f.vision.composerWanted.connect(f.composer.setFocus)
    f.vision.descriptionReady.connect(f.composer.add_block)
    f.conversations.composerWanted.connect(f.composer.setFocus)
    f.send_flow.agentWanted.connect(lambda: choose_agent(f))


def _notices(f: Features) -> None:
    """Everything the features say goes to the one banner."""
    show = f.banner.show
    for source in (f.connection, f.vision, f.send_flow, f.help):
        source.notice.connect(show)
    f.send_flow.noticeWithdrawn.connect(f.banner.withdraw)
    f.attachments.message.connect(lambda text: show(Notice(text, Tone.WARNING)))
    f.lightbox.message.connect(lambda text: show(Notice(text, Tone.INFO)))
    f.editor.message.connect(lambda text: show(Notice(text, Tone.INFO)))
    f.capture.message.connect(lambda text: show(Notice(text, Tone.INFO)))
    f.sessions.failed.connect(lambda error: show(error_notice(f, error)))


def error_notice(f: Features, error: UserError) -> Notice:
    """A failure in words, with the one thing that helps as its button."""
    actions: dict[Action, tuple[str, Callable[[], None]]] = {
        Action.REENTER_KEY: (
            "Enter key…",
            lambda: f.connection.show_connect_dialog(error.text),
        ),
        Action.PICK_AGENT: ("Choose agent…", lambda: choose_agent(f)),
        Action.RELOAD: ("Reload history", f.sessions.reload),
        Action.WAIT: ("Wait and retry", f.sessions.retry_later),
        Action.SWITCH_MODEL: ("Switch model…", f.vision.switch_model),
    }
    label, callback = actions.get(error.action, (None, None))
    return Notice(error.text, Tone.ERROR, label, callback)


# -- commands that span features ------------------------------------------------------------


def choose_agent(f: Features) -> None:
    f.connection.choose_agent(f.sessions.agent_id())
    f.composer.setFocus()


def open_agent(f: Features, agent_id: str) -> None:
    if f.sessions.current is not None:
        f.sessions.open_agent(agent_id)
        f.composer.setFocus()


def attach_files(f: Features) -> None:
    paths, _ = QFileDialog.getOpenFileNames(f.window, "Attach images", "", IMAGE_FILTER)
    f.attachments.add_files([str(p) for p in paths])
