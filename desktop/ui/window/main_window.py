"""The main window: where each feature's widgets sit, the menus, the first size, closing.

It is built in two steps. The constructor makes what the first frame shows (the shell:
desktop/ui/window/shell.py), the menus and the first size; `complete()` builds the other
features (features.py) and connects them (wiring.py). The app calls `complete()` right after
the first frame is painted, so their modules load after it; tests and the self-test get a
complete window from the constructor.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, Qt
from PySide6.QtGui import QCloseEvent, QGuiApplication
from PySide6.QtWidgets import QHBoxLayout, QMainWindow, QVBoxLayout, QWidget

from desktop import APP_NAME
from desktop.settings import Settings
from desktop.ui.screen_fit import PREFERRED, first_geometry, fitted
from desktop.ui.style.theme import apply_theme
from desktop.ui.window.actions import SERVER_MENU, Actions
from desktop.ui.window.shell import build_shell
from desktop.workers import Workers

if TYPE_CHECKING:
    from desktop.core.drafts import DraftStore
    from desktop.core.secrets import SecretStore
    from desktop.ui.chat.session import ChatSession
    from desktop.ui.connection.connection_flow import ClientFactory, Connection
    from desktop.ui.window.features import Features


class MainWindow(QMainWindow):
    def __init__(
        self,
        workers: Workers,
        settings: Settings,
        secrets: SecretStore,
        client_factory: ClientFactory,
        drafts: DraftStore | None = None,
        *,
        complete: bool = True,
    ):
        super().__init__()
        self.workers = workers
        self.settings = settings
        self.secrets = secrets
        self._client_factory = client_factory
        self._draft_store = drafts
        self.features: Features | None = None
        self._files_waiting: list[str] = []
        self.setWindowTitle(APP_NAME)
        # Fits a 1600×1000 screen at 200 % (800×500 logical) with a title bar and a panel.
        self.setMinimumSize(520, 400)
        shell = self.shell = build_shell(self, settings)
        # What the composition root, the self-test and the tests use.
        self.composer, self.send_button, self.attach_button = (
            shell.composer,
            shell.send_button,
            shell.attach_button,
        )
        self.banner = shell.banner
        self.agent_button, self.model_label, self.server_label = (
            shell.agent_button,
            shell.model_label,
            shell.server_label,
        )
        self.capture_button, self.server_menu = shell.capture_button, shell.server_menu
        self._lay_out_shell()
        self.commands = Actions(self)
        self.commands.build_menus(self.menuBar(), {SERVER_MENU: shell.server_menu}, self)
        apply_theme(settings.theme)
        self._place(settings.window_geometry())
        if complete:
            self.complete()

    def complete(self) -> None:
        """Build and connect every feature the first frame does not show (once)."""
        if self.features is not None:
            return
        from desktop.ui.accessibility import fill_accessible_names
        from desktop.ui.window.features import build_features
        from desktop.ui.window.wiring import wire

        f = self.features = build_features(
            self,
            self.shell,
            self.workers,
            self.settings,
            self.secrets,
            self._client_factory,
            self._draft_store,
        )
        self.transcript, self.transcript_model = f.transcript, f.transcript_model
        self.attachments, self.strip, self.lightbox = f.attachments, f.strip, f.lightbox
        self.vision, self.drafts = f.vision, f.drafts
        self.capture, self.conversations, self.approval = f.capture, f.conversations, f.approval
        self.help, self.notifier, self.drop_overlay = f.help, f.notifier, f.drop_overlay
        self._lay_out_features()
        wire(f, self.commands)
        self._focus_order()
        fill_accessible_names(self)
        files, self._files_waiting = self._files_waiting, []
        if files:
            self.add_files(files)

    # -- what the rest of the app drives --------------------------------------------------

    def _complete(self) -> Features:
        self.complete()
        assert self.features is not None
        return self.features

    @property
    def session(self) -> ChatSession | None:
        return self.features.sessions.current if self.features else None

    @property
    def connection(self) -> Connection | None:
        return self.features.connection.connection if self.features else None

    def start(self, base_url: str | None, api_key: str | None, agent_id: str | None) -> None:
        """Connect with what we know, or ask. Never blocks (the keyring is read on a worker)."""
        self._complete().connection.start(base_url, api_key, agent_id)

    def connect_to(
        self, base_url: str, api_key: str | None, *, remember: bool, agent_id: str | None = None
    ) -> None:
        self._complete().connection.connect_to(
            base_url, api_key, remember=remember, agent_id=agent_id
        )

    def show_connect_dialog(self, message: str | None = None) -> None:
        self._complete().connection.show_connect_dialog(message)

    def choose_agent(self) -> None:
        from desktop.ui.window.wiring import choose_agent

        choose_agent(self._complete())

    def open_agent(self, agent_id: str) -> None:
        from desktop.ui.window.wiring import open_agent

        open_agent(self._complete(), agent_id)

    def reload_history(self) -> None:
        self._complete().sessions.reload()

    def send(self) -> None:
        self._complete().send_flow.send()

    def stop(self) -> None:
        self._complete().send_flow.stop()

    def add_files(self, paths: list[str]) -> None:
        """Attach image files (the command line, "Open with"); held until `complete()`."""
        if self.features is None:
            self._files_waiting += [str(p) for p in paths]
        else:
            self.features.attachments.add_files([str(p) for p in paths])

    def show_crash(self, report: str) -> None:
        """The crash hook's handler (on the GUI thread, from the event loop)."""
        self._complete().help.show_crash(report)

    # -- layout ---------------------------------------------------------------------------

    def _lay_out_shell(self) -> None:
        """The first frame; `_lay_out_features` fills the places left for the others."""
        shell = self.shell
        self._header = header = QHBoxLayout()
        header.setContentsMargins(12, 8, 12, 4)
        header.addWidget(shell.agent_button)
        header.addWidget(shell.model_label)
        header.addStretch(1)
        header.addWidget(shell.server_label)
        header.addWidget(shell.capture_button)

        self._notices = notices = QVBoxLayout()
        notices.setContentsMargins(12, 0, 12, 0)
        notices.addWidget(shell.banner)

        composer_row = QHBoxLayout()
        composer_row.setContentsMargins(12, 4, 12, 4)
        composer_row.addWidget(shell.composer, 1)
        composer_row.addWidget(shell.attach_button, 0, Qt.AlignmentFlag.AlignBottom)
        composer_row.addWidget(shell.send_button, 0, Qt.AlignmentFlag.AlignBottom)

        self._strip_row = strip_row = QHBoxLayout()
        strip_row.setContentsMargins(12, 0, 12, 10)

        central = QWidget()
        self._column = column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(4)
        column.addLayout(header)
        column.addWidget(shell.transcript_stand_in, 1)
        column.addLayout(notices)
        column.addLayout(composer_row)
        column.addLayout(strip_row)
        self.setCentralWidget(central)

    def _lay_out_features(self) -> None:
        """The real transcript in the stand-in's place. Header: agent, model, badge,
        conversations … server, Capture. Above the composer:
        the vision banner, the notice strip, the approval panel. Under it: the chips and the
        token estimate. All but the badge are hidden until they have something to show."""
        f = self._complete()
        self._column.replaceWidget(f.transcript_stand_in, f.transcript)
        f.transcript_stand_in.hide()
        f.transcript_stand_in.deleteLater()
        self._header.insertWidget(2, f.vision.badge)
        self._header.insertWidget(3, f.conversations)
        self._notices.insertWidget(0, f.vision.banner)
        self._column.insertWidget(self._column.indexOf(self._notices) + 1, f.approval)
        self._strip_row.addWidget(f.strip, 1)
        self._strip_row.addWidget(f.vision.tokens_label)

    def _focus_order(self) -> None:
        """Header (agent, badge, conversation, Capture) → transcript → notices → approvals →
        message → Attach → Send."""
        f = self._complete()
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
        if self.features is not None:
            self.features.drafts.flush()
            self.features.sessions.shutdown()
        super().closeEvent(event)
