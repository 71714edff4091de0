"""Which server, which key, which agent: from the command line, the keyring, a profile or a
dialog to a checked connection.

The key is read from the keyring on a worker (never on the GUI thread). `clientChanged` says a
new client exists (a new session starts on it at once); `ready` says the server accepted the
key, with the agent to open ("" when the user should pick one).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QDialog, QWidget

from desktop.core.letta import Agent
from desktop.core.letta.urls import sends_key_in_clear
from desktop.core.secrets import SecretStore
from desktop.settings import Settings
from desktop.ui.connection.profiles import Profiles
from desktop.ui.notice import Notice, Tone
from desktop.ui.user_errors import Action, describe
from desktop.workers import Workers

if TYPE_CHECKING:
    from desktop.core.letta import LettaClient
    from desktop.ui.connection.agent_picker import AgentPicker

ClientFactory = Callable[[str, str | None], "LettaClient"]

KEYRING_NOTICE = "keyring"  # the source of "the key is kept in memory only" notices


@dataclass
class Connection:
    base_url: str
    api_key: str | None
    client: LettaClient


def load_client() -> None:
    """Import the API client and the official SDK under it (~0.4 s of module code and pydantic
    models) on a worker, before the GUI thread builds the first client: imported there, the
    window would freeze that long."""
    from desktop.core.letta.client import load_sdk

    load_sdk()


class ConnectionFlow(QObject):
    clientChanged = Signal(object)  # Connection
    ready = Signal(object, str)  # Connection, the agent to open ("" = let the user pick)
    agentChosen = Signal(str)  # an agent id picked in the agent picker
    notice = Signal(object)  # Notice

    def __init__(
        self,
        workers: Workers,
        settings: Settings,
        secrets: SecretStore,
        client_factory: ClientFactory,
        profiles: Profiles,
        dialog_parent: QWidget,
    ):
        super().__init__(dialog_parent)
        self._workers = workers
        self._settings = settings
        self._secrets = secrets
        self._client_factory = client_factory
        self._parent = dialog_parent
        self.profiles = profiles
        self.connection: Connection | None = None
        self._wanted_agent: str | None = None
        self._picker: AgentPicker | None = None
        # The key check of a server the user has already left must not make it current.
        self._for_connection = workers.epoch(owner=self)

    # -- starting -------------------------------------------------------------------------

    def start(self, base_url: str | None, api_key: str | None, agent_id: str | None) -> None:
        """Connect with what we know, or ask. Never blocks."""
        self._wanted_agent = agent_id
        if self._secrets.problem:
            self.notice.emit(Notice(self._secrets.problem, Tone.WARNING, source=KEYRING_NOTICE))
        url = base_url or self._settings.base_url
        if url is None:
            QTimer.singleShot(0, lambda: self.show_connect_dialog())
            return
        if api_key is not None:
            self._workers.submit(
                load_client,
                on_result=lambda _r, u=url: self.connect_to(u, api_key, remember=False),
                owner=self,
            )
            return
        self._connect_with_stored_key(url)

    def _connect_with_stored_key(self, url: str) -> None:
        """The key the keyring holds for `url` (read on a worker), or none."""
        self._workers.submit(
            lambda: (load_client(), self._secrets.get(url))[1],
            on_result=lambda key: self.connect_to(url, key, remember=False),
            on_error=lambda _e: self.connect_to(url, None, remember=False),
            owner=self,
        )

    def show_connect_dialog(self, message: str | None = None) -> None:
        from desktop.ui.connection.connect_dialog import ConnectDialog  # loads when first opened

        current = self.connection
        dialog = ConnectDialog(
            self._workers,
            self._client_factory,
            base_url=current.base_url if current else self._settings.base_url,
            message=message,
            parent=self._parent,
        )
        accepted = dialog.exec() == QDialog.DialogCode.Accepted
        base_url, api_key = dialog.base_url(), dialog.api_key()
        dialog.deleteLater()  # a hidden dialog would stay in the screen reader's tree
        if accepted:
            self.connect_to(base_url, api_key, remember=True)
        elif self.connection is None:
            self.notice.emit(
                Notice(
                    "Not connected to a Letta server.",
                    Tone.INFO,
                    "Connect…",
                    lambda: self.show_connect_dialog(),
                )
            )

    def connect_to(
        self, base_url: str, api_key: str | None, *, remember: bool, agent_id: str | None = None
    ) -> None:
        """A client for `base_url`; once the server accepts the key, `ready` names `agent_id`
        (or the one asked for at start, or the last one used there)."""
        if agent_id is not None:
            self._wanted_agent = agent_id
        if self.connection is not None:
            self.connection.client.close()
        if self._picker is not None:  # it lists the agents of the server being left
            self._picker.reject()
        client = self._client_factory(base_url, api_key)
        if remember:
            self.profiles.ensure(client.base_url)
        client.set_project(self.profiles.project_for(client.base_url))
        connection = Connection(client.base_url, api_key, client)
        self.connection = connection
        self.clientChanged.emit(connection)
        self._for_connection.renew()
        self._for_connection.submit(
            client.check_key,
            on_result=lambda _r: self._on_key_accepted(connection, remember),
            on_error=self._on_connect_failed,
        )

    def _on_key_accepted(self, connection: Connection, remember: bool) -> None:
        base_url, api_key = connection.base_url, connection.api_key
        self._settings.base_url = base_url
        if api_key and sends_key_in_clear(base_url):
            # However the address came (profile, --base-url, LETTA_BASE_URL, the dialog).
            self.notice.emit(
                Notice(
                    f"{base_url} uses plain http:// over the network: your API key travels"
                    " unencrypted with every request. Use https:// if you can.",
                    Tone.WARNING,
                )
            )
        if remember and api_key:
            self._workers.submit(
                self._secrets.set, base_url, api_key, on_result=self._on_key_stored, owner=self
            )
        agent = self._wanted_agent or self._settings.last_agent(base_url) or ""
        self._wanted_agent = None
        self.ready.emit(connection, agent)

    def _on_key_stored(self, persistent: bool) -> None:
        if not persistent:
            self.notice.emit(
                Notice(
                    self._secrets.problem or "The key is kept for this session only.",
                    Tone.WARNING,
                    source=KEYRING_NOTICE,
                )
            )

    def _on_connect_failed(self, exc: BaseException) -> None:
        error = describe(exc)
        if error.action is Action.REENTER_KEY:
            self.show_connect_dialog(error.text)
        else:
            self.notice.emit(
                Notice(error.text, Tone.ERROR, "Connection…", lambda: self.show_connect_dialog())
            )

    # -- agents ---------------------------------------------------------------------------

    def choose_agent(self, current_id: str | None) -> None:
        """The agent picker; a choice comes back as `agentChosen`."""
        if self.connection is None:
            self.show_connect_dialog()
            return
        if self._picker is not None:  # already open: bring it forward
            self._picker.activateWindow()
            return
        from desktop.ui.connection.agent_picker import AgentPicker  # loads when first opened

        picker = self._picker = AgentPicker(
            self._workers, self.connection.client.list_agents, current_id, self._parent
        )

        def finished(result: int) -> None:
            self._picker = None
            chosen = picker.selected_agent
            picker.deleteLater()
            if result == QDialog.DialogCode.Accepted and chosen is not None:
                self.agentChosen.emit(chosen.id)

        picker.finished.connect(finished)
        picker.open_catching_keys(self._parent)

    def remember_agent(self, agent: Agent) -> None:
        """The agent to open next time on this server."""
        if self.connection is not None:
            self._settings.set_last_agent(self.connection.base_url, agent.id)

    # -- server profiles ------------------------------------------------------------------

    def switch_to(self, name: str) -> None:
        """Connect to a profile: its URL, its key from the keyring, its project."""
        profile = self.profiles.set_current(name)
        if profile is not None:
            self._connect_with_stored_key(profile.base_url)

    def manage_servers(self) -> None:
        from desktop.ui.connection.profiles_dialog import ProfilesDialog

        def store_key(url: str, key: str) -> None:
            self._workers.submit(self._secrets.set, url, key, owner=self)

        dialog = ProfilesDialog(self.profiles, store_key, self._parent)
        accepted = dialog.exec() == QDialog.DialogCode.Accepted
        chosen = dialog.chosen
        dialog.deleteLater()
        if accepted and chosen:
            self.switch_to(chosen)

    def close(self) -> None:
        if self.connection is not None:
            self.connection.client.close()
