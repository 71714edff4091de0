"""The main window: where each feature's widgets sit, the menus, the first size, closing.

The features are built in desktop/ui/window/features.py and connected in wiring.py; this
module only lays them out and exposes them to the composition root and the tests.
"""

from __future__ import annotations

import itertools

from PySide6.QtCore import QByteArray, Qt
from PySide6.QtGui import QCloseEvent, QGuiApplication
from PySide6.QtWidgets import QHBoxLayout, QMainWindow, QVBoxLayout, QWidget

from desktop import APP_NAME
from desktop.core.drafts import DraftStore
from desktop.core.secrets import SecretStore
from desktop.settings import Settings
from desktop.ui.accessibility import fill_accessible_names
from desktop.ui.chat.session import ChatSession
from desktop.ui.connection.connection_flow import ClientFactory, Connection
from desktop.ui.screen_fit import PREFERRED, first_geometry, fitted
from desktop.ui.style.theme import apply_theme
from desktop.ui.window.actions import SERVER_MENU, Actions
from desktop.ui.window.features import build_features
from desktop.ui.window.wiring import attach_files, choose_agent, open_agent, wire
from desktop.workers import Workers


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
        self.setWindowTitle(APP_NAME)
        # Fits a 1600×1000 screen at 200 % (800×500 logical) with a title bar and a panel.
        self.setMinimumSize(520, 400)
        f = self.features = build_features(self, workers, settings, secrets, client_factory, drafts)
        # What the composition root, the self-test and the tests use.
        self.composer, self.send_button, self.attach_button = (
            f.composer,
            f.send_button,
            f.attach_button,
        )
        self.attachments, self.strip, self.lightbox = f.attachments, f.strip, f.lightbox
        self.transcript, self.transcript_model = f.transcript, f.transcript_model
        self.banner, self.vision, self.drafts = f.banner, f.vision, f.drafts
        self.agent_button, self.model_label, self.server_label = (
            f.agent_button,
            f.model_label,
            f.server_label,
        )
        self.capture, self.capture_button = f.capture, f.capture_button
        self.conversations, self.approval = f.conversations, f.approval
        self.server_menu, self.help, self.notifier = f.server_menu, f.help, f.notifier
        self.drop_overlay = f.drop_overlay
        self._lay_out()
        self.commands = Actions(self)
        self.commands.build_menus(self.menuBar(), {SERVER_MENU: f.server_menu}, self)
        wire(f, self.commands)
        self._focus_order()
        apply_theme(settings.theme)
        fill_accessible_names(self)
        self._place(settings.window_geometry())

    # -- what the rest of the app drives --------------------------------------------------

    @property
    def session(self) -> ChatSession | None:
        return self.features.sessions.current

    @property
    def connection(self) -> Connection | None:
        return self.features.connection.connection

    def start(self, base_url: str | None, api_key: str | None, agent_id: str | None) -> None:
        """Connect with what we know, or ask. Never blocks (the keyring is read on a worker)."""
        self.features.connection.start(base_url, api_key, agent_id)

    def connect_to(
        self, base_url: str, api_key: str | None, *, remember: bool, agent_id: str | None = None
    ) -> None:
        self.features.connection.connect_to(base_url, api_key, remember=remember, agent_id=agent_id)

    def show_connect_dialog(self, message: str | None = None) -> None:
        self.features.connection.show_connect_dialog(message)

    def choose_agent(self) -> None:
        choose_agent(self.features)

    def open_agent(self, agent_id: str) -> None:
        open_agent(self.features, agent_id)

    def reload_history(self) -> None:
        self.features.sessions.reload()

    def send(self) -> None:
        self.features.send_flow.send()

    def stop(self) -> None:
        self.features.send_flow.stop()

    def attach_files(self) -> None:
        attach_files(self.features)

    def add_files(self, paths: list[str]) -> None:
        """Attach image files (the Attach dialog, the command line)."""
        self.attachments.add_files([str(p) for p in paths])

    # -- layout ---------------------------------------------------------------------------

    def _lay_out(self) -> None:
        f = self.features
        header = QHBoxLayout()
        header.setContentsMargins(12, 8, 12, 4)
        for widget in (f.agent_button, f.model_label, f.vision.badge, f.conversations):
            header.addWidget(widget)
        header.addStretch(1)
        header.addWidget(f.server_label)
        header.addWidget(f.capture_button)

        notices = QVBoxLayout()
        notices.setContentsMargins(12, 0, 12, 0)
        notices.addWidget(f.vision.banner)
        notices.addWidget(f.banner)

        composer_row = QHBoxLayout()
        composer_row.setContentsMargins(12, 4, 12, 4)
        composer_row.addWidget(f.composer, 1)
        composer_row.addWidget(f.attach_button, 0, Qt.AlignmentFlag.AlignBottom)
        composer_row.addWidget(f.send_button, 0, Qt.AlignmentFlag.AlignBottom)

        strip_row = QHBoxLayout()
        strip_row.setContentsMargins(12, 0, 12, 10)
        strip_row.addWidget(f.strip, 1)
        strip_row.addWidget(f.vision.tokens_label)

        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(4)
        column.addLayout(header)
        column.addWidget(f.transcript, 1)
        column.addLayout(notices)
        column.addWidget(f.approval)
        column.addLayout(composer_row)
        column.addLayout(strip_row)
        self.setCentralWidget(central)

    def _focus_order(self) -> None:
        """Header (agent, badge, conversation, Capture) → transcript → notices → approvals →
        message → Attach → Send."""
        f = self.features
        chain: list[QWidget] = [
            f.agent_button,
            f.vision.badge,
            f.conversations,
            f.capture_button,
            f.transcript,
            f.vision.banner,
            f.banner,
            f.approval,
            f.composer,
            f.attach_button,
            f.send_button,
            f.strip,
        ]
        for first, second in itertools.pairwise(chain):
            QWidget.setTabOrder(first, second)

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

    # -- lifecycle ------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
        self.settings.set_window_geometry(self.saveGeometry())
        self.settings.sync()
        self.drafts.flush()
        self.features.sessions.shutdown()
        super().closeEvent(event)
