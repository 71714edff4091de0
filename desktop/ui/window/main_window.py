"""The main window: a thin composition of header, transcript, notices and composer.

Connection and agent flow live here only as far as choosing which dialog to show; the work
(history, sends, streaming) is in ChatSession, the wiring of services in desktop/app.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QMainWindow,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop import APP_NAME
from desktop.core.drafts import DraftStore
from desktop.core.images import ImageLimits
from desktop.core.letta import Agent
from desktop.core.letta.urls import sends_key_in_clear
from desktop.core.secrets import SecretStore
from desktop.settings import Settings
from desktop.ui.attachments import AttachmentController, AttachmentStrip
from desktop.ui.attachments.drop_overlay import DropOverlay, DropTarget
from desktop.ui.attachments.lightbox import LightboxOpener
from desktop.ui.chat.composer import Composer
from desktop.ui.chat.draft_keeper import DraftKeeper, default_store
from desktop.ui.chat.session import ChatSession
from desktop.ui.plain_text import ElidedLabel, plain_tip
from desktop.ui.transcript import ThumbnailCache, TranscriptModel, TranscriptView
from desktop.ui.user_errors import Action, UserError, describe
from desktop.ui.vision.vision_guard import VisionGuard
from desktop.ui.window.notices import Banner
from desktop.ui.window.screen_fit import PREFERRED, first_geometry, fitted
from desktop.ui.window.session_extras import SessionExtras
from desktop.ui.window.window_extras import WindowExtras
from desktop.workers import Workers

ClientFactory = Callable[[str, str | None], "LettaClient"]
IMAGE_FILTER = (
    "Images (*.png *.jpg *.jpeg *.gif *.webp *.bmp *.tif *.tiff *.heic *.heif *.avif "
    "*.svg);;All files (*)"
)

if TYPE_CHECKING:
    from desktop.core.letta import LettaClient


@dataclass
class Connection:
    base_url: str
    api_key: str | None
    client: LettaClient


def load_client() -> None:
    """Import the API client and the official SDK under it (~0.4 s of module code and pydantic
    models) on a worker, before the GUI thread builds the first client: imported there, the
    window would freeze that long."""
    import letta_client  # noqa: F401

    from desktop.core.letta import client  # noqa: F401


class MainWindow(QMainWindow):
    def __init__(
        self,
        workers: Workers,
        settings: Settings,
        secrets: SecretStore,
        client_factory: ClientFactory,
        drafts: DraftStore | None = None,
    ):
        super().__init__()
        self.workers = workers
        self.settings = settings
        self.secrets = secrets
        self._client_factory = client_factory
        self.connection: Connection | None = None
        self.session: ChatSession | None = None
        self._wanted_agent: str | None = None
        self.setWindowTitle(APP_NAME)
        # Fits a 1600×1000 screen at 200 % (800×500 logical) with a title bar and a panel.
        self.setMinimumSize(520, 400)
        self._build()
        self.drafts = DraftKeeper(
            workers, drafts or default_store(), self.composer, self.attachments, self
        )
        self._place(settings.window_geometry())

    def _place(self, saved: QByteArray | None) -> None:
        """A saved geometry if it is still on a screen that exists, else one that fits."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        screens = [s.availableGeometry() for s in QGuiApplication.screens()]
        if saved is not None and self.restoreGeometry(saved):
            if self.isMaximized() or self.isFullScreen():
                return  # the window system places those
            rect = fitted(self.geometry(), screens)
            if rect != self.geometry():
                self.setGeometry(rect)
            return
        if screen is not None:
            self.setGeometry(first_geometry(screen.availableGeometry(), self.minimumSize()))
        else:
            self.resize(PREFERRED)

    # -- layout ---------------------------------------------------------------------------

    def _build(self) -> None:
        self.agent_button = QToolButton()
        self.agent_button.setText("Choose an agent…")
        self.agent_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.agent_button.setAccessibleName("Agent: none chosen")
        self.agent_button.setAccessibleDescription("Switch to another agent")
        self.agent_button.setStyleSheet(
            "QToolButton { font-size: 15px; font-weight: 600; padding: 4px 8px; border: none; }"
        )
        self.agent_button.clicked.connect(self.choose_agent)
        self.model_label = ElidedLabel()
        self.model_label.setAccessibleDescription("Agent model")
        self.model_label.setStyleSheet("color: palette(placeholder-text);")
        self.server_label = ElidedLabel(Qt.TextElideMode.ElideMiddle)
        self.server_label.setAccessibleDescription("Server")
        self.server_label.setStyleSheet("color: palette(placeholder-text);")
        header = QHBoxLayout()
        header.setContentsMargins(12, 8, 12, 4)
        header.addWidget(self.agent_button)
        header.addWidget(self.model_label)
        self.vision = VisionGuard(self)  # the ✓/✗/? badge, the vision banner, the send checks
        header.addWidget(self.vision.badge)
        header.addStretch(1)
        header.addWidget(self.server_label)

        self.thumbnails = ThumbnailCache(self.workers, parent=self)
        self.transcript_model = TranscriptModel(self.thumbnails, self)
        self.transcript = TranscriptView(self.transcript_model)
        self.banner = Banner()
        self.composer = Composer()
        self.send_button = QPushButton("Send")
        self.send_button.setDefault(True)
        self.send_button.setAccessibleName("Send message")
        self.send_button.setMinimumWidth(80)
        self.send_button.clicked.connect(self._send_or_stop)
        self.composer.sendRequested.connect(self.send)
        self.composer.stopRequested.connect(self.stop)
        self._build_attachments()
        composer_row = QHBoxLayout()
        composer_row.setContentsMargins(12, 4, 12, 4)
        composer_row.addWidget(self.composer, 1)
        composer_row.addWidget(self.attach_button, 0, Qt.AlignmentFlag.AlignBottom)
        composer_row.addWidget(self.send_button, 0, Qt.AlignmentFlag.AlignBottom)
        strip_row = QHBoxLayout()
        strip_row.setContentsMargins(12, 0, 12, 10)
        strip_row.addWidget(self.strip, 1)
        strip_row.addWidget(self.vision.tokens_label)

        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(4)
        column.addLayout(header)
        column.addWidget(self.transcript, 1)
        banner_row = QVBoxLayout()
        banner_row.setContentsMargins(12, 0, 12, 0)
        banner_row.addWidget(self.vision.banner)
        banner_row.addWidget(self.banner)
        column.addLayout(banner_row)
        column.addLayout(composer_row)
        column.addLayout(strip_row)
        self.setCentralWidget(central)
        self.drop_overlay = DropOverlay(self)
        self.drop_target = DropTarget(
            self.drop_overlay, lambda mime: self.attachments.handle_mime(mime, drop=True), self
        )
        self.drop_target.watch(self, self.composer.viewport())
        self.vision.connect_sources()
        self._build_menus()
        self.extras = WindowExtras(self, header)  # capture, settings, help, notifications, a11y
        self.more = SessionExtras(self, header, column)  # conversations, approvals, servers
        self._set_busy(False)

    def _build_attachments(self) -> None:
        """The pending strip, its controller, the Attach button, paste routing, the lightbox."""
        self.attachments = AttachmentController(
            self.workers, self._image_limits, self._model_handle, self
        )
        self.attachments.message.connect(lambda text: self.banner.show_message(text, "warning"))
        self.strip = AttachmentStrip(self.attachments)
        self.lightbox = LightboxOpener(self.workers, self)
        self.lightbox.message.connect(lambda text: self.banner.show_message(text, "info"))
        self.strip.previewRequested.connect(self.lightbox.open_attachment)
        self.transcript.imageActivated.connect(self.lightbox.open_image)
        self.composer.mime_handler = self.attachments.handle_paste
        self.composer.mime_probe = self.attachments.can_paste
        self.composer.backspaceOnEmpty.connect(self.attachments.remove_last)
        self.attach_button = QPushButton("Attach…")
        self.attach_button.setAccessibleName("Attach images")
        self.attach_button.setToolTip("Attach images (Ctrl+O) — or paste or drop them")
        self.attach_button.clicked.connect(self.attach_files)
        self._waiting_to_send = False

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        switch = QAction("Switch &agent…", self, shortcut=QKeySequence("Ctrl+K"))
        switch.triggered.connect(self.choose_agent)
        connect = QAction("&Connection…", self)
        connect.triggered.connect(lambda: self.show_connect_dialog())
        reload_ = QAction("&Reload history", self, shortcut=QKeySequence.StandardKey.Refresh)
        reload_.triggered.connect(self.reload_history)
        quit_ = QAction("&Quit", self, shortcut=QKeySequence.StandardKey.Quit)
        quit_.triggered.connect(self.close)
        attach = QAction("&Attach images…", self, shortcut=QKeySequence.StandardKey.Open)
        attach.triggered.connect(self.attach_files)
        for action in (attach, switch, connect, reload_):
            file_menu.addAction(action)
        file_menu.addSeparator()
        file_menu.addAction(quit_)
        stop = QAction("Stop reply", self, shortcut=QKeySequence(Qt.Key.Key_Escape))
        stop.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        stop.triggered.connect(self.stop)
        self.addAction(stop)
        paste = QAction("&Paste", self, shortcut=QKeySequence.StandardKey.Paste)
        paste.triggered.connect(lambda: (self.composer.setFocus(), self.composer.paste()))
        self.menuBar().addMenu("&Edit").addAction(paste)
        self.menuBar().addMenu("&Help")  # filled by WindowExtras

    # -- connection -----------------------------------------------------------------------

    def start(self, base_url: str | None, api_key: str | None, agent_id: str | None) -> None:
        """Begin: connect with what we know, or ask. Never blocks (the keyring is read on a
        worker)."""
        self._wanted_agent = agent_id
        if self.secrets.problem:
            self.banner.show_message(self.secrets.problem, "warning")
        url = base_url or self.settings.base_url
        if url is None:
            QTimer.singleShot(0, lambda: self.show_connect_dialog())
            return
        if api_key is not None:
            self.workers.submit(
                load_client,
                on_result=lambda _r, u=url: self.connect_to(u, api_key, remember=False),
                owner=self,
            )
            return
        self.workers.submit(
            lambda u: (load_client(), self.secrets.get(u))[1],
            url,
            on_result=lambda key, u=url: self.connect_to(u, key, remember=False),
            on_error=lambda _e, u=url: self.connect_to(u, None, remember=False),
            owner=self,
        )

    def show_connect_dialog(self, message: str | None = None) -> None:
        from desktop.ui.connection.connect_dialog import (
            ConnectDialog,  # imported when first opened: a lean start
        )

        current = self.connection
        dialog = ConnectDialog(
            self.workers,
            self._client_factory,
            base_url=current.base_url if current else self.settings.base_url,
            message=message,
            parent=self,
        )
        accepted = dialog.exec() == QDialog.DialogCode.Accepted
        base_url, api_key = dialog.base_url(), dialog.api_key()
        dialog.deleteLater()  # a hidden dialog would stay in the screen reader's tree
        if accepted:
            self.connect_to(base_url, api_key, remember=True)
        elif self.connection is None:
            self.banner.show_message(
                "Not connected to a Letta server.",
                "info",
                "Connect…",
                lambda: self.show_connect_dialog(),
            )

    def connect_to(self, base_url: str, api_key: str | None, *, remember: bool) -> None:
        if self.session is not None:
            self.session.shutdown()
            self.session.deleteLater()
            self.session = None
        if self.connection is not None:
            self.connection.client.close()
        client = self._client_factory(base_url, api_key)
        self.connection = Connection(client.base_url, api_key, client)
        self.server_label.setText(client.base_url.split("://", 1)[-1])
        self.server_label.setToolTip(plain_tip(client.base_url))
        session = ChatSession(self.workers, client, self.transcript_model, self.transcript, self)
        session.agentLoaded.connect(self._on_agent_loaded)
        session.modelChanged.connect(self._on_model_changed)
        session.busyChanged.connect(self._set_busy)
        session.failed.connect(self.show_error)
        session.editRequested.connect(self.composer.set_text)
        session.attachmentsRestored.connect(self.attachments.restore)
        self.more.watch(session, client, remember)
        self.vision.watch(session)
        self.extras.watch(session)
        self.drafts.watch(session)
        self.session = session
        self.banner.hide()
        self.workers.submit(
            client.check_key,
            on_result=lambda _r: self._on_connected(client.base_url, api_key, remember),
            on_error=self._on_connect_failed,
            owner=self,
        )

    def _on_connected(self, base_url: str, api_key: str | None, remember: bool) -> None:
        self.settings.base_url = base_url
        if api_key and sends_key_in_clear(base_url):
            # However the address came (profile, --base-url, LETTA_BASE_URL, the dialog).
            self.banner.show_message(
                f"{base_url} uses plain http:// over the network: your API key travels"
                " unencrypted with every request. Use https:// if you can.",
                "warning",
            )
        if remember and api_key:
            self.workers.submit(
                self.secrets.set, base_url, api_key, on_result=self._on_key_stored, owner=self
            )
        agent = self._wanted_agent or self.settings.last_agent(base_url)
        self._wanted_agent = None
        if agent:
            self.open_agent(agent)
        else:
            self.choose_agent()

    def _on_key_stored(self, persistent: bool) -> None:
        if not persistent:
            self.banner.show_message(
                self.secrets.problem or "The key is kept for this session only.", "warning"
            )

    def _on_connect_failed(self, exc: BaseException) -> None:
        error = describe(exc)
        if error.action is Action.REENTER_KEY:
            self.show_connect_dialog(error.text)
        else:
            self.show_error(UserError(error.text, Action.NONE))
            self.banner.show_message(
                error.text, "error", "Connection…", lambda: self.show_connect_dialog()
            )

    # -- agents ---------------------------------------------------------------------------

    def choose_agent(self) -> None:
        if self.connection is None:
            self.show_connect_dialog()
            return
        current = self.session.agent.id if self.session and self.session.agent else None
        from desktop.ui.connection.agent_picker import (
            AgentPicker,  # imported when first opened: a lean start
        )

        picker = AgentPicker(self.workers, self.connection.client.list_agents, current, self)
        accepted = picker.exec() == QDialog.DialogCode.Accepted
        chosen = picker.selected_agent
        picker.deleteLater()
        if accepted and chosen is not None:
            self.open_agent(chosen.id)
        self.composer.setFocus()

    def open_agent(self, agent_id: str) -> None:
        if self.session is not None:
            self.session.open_agent(agent_id)
            self.composer.setFocus()

    def _on_agent_loaded(self, agent: Agent) -> None:
        self.setWindowTitle(f"{agent.name} — {APP_NAME}")
        self.agent_button.setText(f"{agent.name}  ▾")
        self.agent_button.setAccessibleName(f"Agent: {agent.name}")
        self._on_model_changed()
        if self.connection is not None:
            self.settings.set_last_agent(self.connection.base_url, agent.id)
        self.composer.setFocus()

    def _on_model_changed(self) -> None:
        session = self.session
        if session is None or session.agent is None:
            return
        model = session.model or "model unknown"
        own = session.model_is_conversations
        self.model_label.setText(f"{model} (this conversation)" if own else model)
        self.model_label.setToolTip(
            "This conversation has a model of its own; the agent's is "
            f"{session.agent.model or 'unknown'}."
            if own
            else ""
        )
        self.attachments.reprepare_all()  # the new model may take other sizes or formats

    def reload_history(self) -> None:
        if self.session is not None:
            self.session.reload()

    # -- sending --------------------------------------------------------------------------

    def send(self) -> None:
        if self.session is None or self.session.agent is None:
            self.banner.show_message("Choose an agent first.", "info", "Choose…", self.choose_agent)
            return
        if self.session.busy:
            return
        if self.attachments.preparing:  # Enter right after a paste: send once they are ready
            self._queue_send(True)
            return
        self._queue_send(False)
        text = self.composer.text()
        if not self.vision.allow_send():  # the banner / chip badges say why
            return
        out = self.attachments.outgoing()
        if not text.strip() and not out.parts:
            if out.skipped:
                self.banner.show_message(out.skipped_text, "error")
            return
        if self.session.send(text, out.parts, out.thumbnails, out.attachments):
            self.composer.clear_after_send()
            self.attachments.clear()
            if out.skipped:
                self.banner.show_message(out.skipped_text, "warning")

    def _queue_send(self, waiting: bool) -> None:
        """Send once the images are prepared, or stop waiting. The Send button says so (and a
        click cancels): a label, not a banner, so the layout does not jump under the pointer
        and the whole window is not re-laid out while images are being prepared."""
        if waiting == self._waiting_to_send:
            return
        self._waiting_to_send = waiting
        self.attachments.call_when_settled(self.send if waiting else None)
        if not waiting:
            self._set_busy(self.session is not None and self.session.busy)
            return
        self.send_button.setText("Waiting…")
        self.send_button.setAccessibleName("Cancel sending")
        self.send_button.setToolTip("Sends when the images are ready — click (or Esc) to cancel")

    def attach_files(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Attach images", "", IMAGE_FILTER)
        self.add_files(paths)

    def add_files(self, paths: list[str]) -> None:
        """Attach image files (the Attach dialog, the command line)."""
        self.attachments.add_files([str(p) for p in paths])

    def _image_limits(self) -> ImageLimits:
        return self.vision.limits()  # the model's profile; the many-image rule counts history

    def _model_handle(self) -> str | None:
        agent = self.session.agent if self.session is not None else None
        return agent.model if agent is not None else None

    def stop(self) -> None:
        self._queue_send(False)
        if self.session is not None:
            self.session.stop()

    def _send_or_stop(self) -> None:
        if self._waiting_to_send:
            self._queue_send(False)
        elif self.session is not None and self.session.busy:
            self.stop()
        else:
            self.send()

    def _set_busy(self, busy: bool) -> None:
        self.send_button.setText("Stop" if busy else "Send")
        self.send_button.setAccessibleName("Stop reply" if busy else "Send message")
        self.send_button.setToolTip("Stop the reply (Esc)" if busy else "Send (Enter)")

    def show_error(self, error: UserError) -> None:
        actions = {
            Action.REENTER_KEY: ("Enter key…", lambda: self.show_connect_dialog(error.text)),
            Action.PICK_AGENT: ("Choose agent…", self.choose_agent),
            Action.RELOAD: ("Reload history", self.reload_history),
            Action.WAIT: ("Wait and retry", lambda: self.session and self.session.retry_later()),
        }
        label, callback = actions.get(error.action, (None, None))
        self.banner.show_message(error.text, "error", label, callback)

    # -- lifecycle ------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
        self.settings.set_window_geometry(self.saveGeometry())
        self.settings.sync()
        self.drafts.flush()
        if self.session is not None:
            self.session.shutdown()
        super().closeEvent(event)
