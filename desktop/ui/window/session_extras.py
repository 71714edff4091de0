"""Conversations, tool approvals and server profiles in the main window, kept out of
main_window.py.

- the conversation picker in the header (default conversation first, then the agent's others,
  newest first) with “New”; the choice is remembered per server and agent;
- the approval panel above the composer (desktop/ui/chat/approvals.py);
- File ▸ Server: the profiles to switch to, and “Manage servers…”
  (desktop/ui/connection/profiles.py);
- the automatic-retry countdown in the banner.

MainWindow creates one `SessionExtras` after its build and hands it each new client and session
(`watch`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QBoxLayout, QComboBox, QHBoxLayout, QMenu, QToolButton, QWidget

from desktop.core.letta import DEFAULT_CONVERSATION, ApprovalDecision, Conversation
from desktop.ui.chat.approvals import ApprovalPanel
from desktop.ui.connection.profiles import Profiles, ProfilesDialog
from desktop.ui.plain_text import plain_tip
from desktop.ui.transcript.model import format_date

if TYPE_CHECKING:
    from desktop.core.letta import LettaClient
    from desktop.ui.chat.session import ChatSession
    from desktop.ui.window.main_window import MainWindow


def conversation_label(conversation: Conversation) -> str:
    if conversation.summary:
        return conversation.summary
    when = format_date(conversation.created_at)
    return f"Conversation of {when}" if when else f"Conversation {conversation.id[-8:]}"


class ConversationBar(QWidget):
    """A compact drop-down of the agent's conversations and a “New” button."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.combo = QComboBox()
        self.combo.setAccessibleName("Conversation")
        self.combo.view().setAccessibleName("Conversations")
        self.combo.setToolTip("Conversation (thread) of this agent")
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.combo.setMaximumWidth(260)
        self.new_button = QToolButton()
        self.new_button.setText("New")
        self.new_button.setAutoRaise(True)
        self.new_button.setToolTip("Start a new conversation with this agent")
        self.new_button.setAccessibleName("New conversation")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(2)
        row.addWidget(self.combo)
        row.addWidget(self.new_button)
        self.hide()

    def set_conversations(self, conversations: list[Conversation], current: str) -> None:
        self.combo.blockSignals(True)
        self.combo.clear()
        self.combo.addItem("Default conversation", DEFAULT_CONVERSATION)
        for conversation in conversations:
            self.combo.addItem(conversation_label(conversation), conversation.id)
            self.combo.setItemData(
                self.combo.count() - 1, conversation.id, Qt.ItemDataRole.ToolTipRole
            )
        self.combo.blockSignals(False)
        self.select(current)

    def select(self, conversation_id: str) -> None:
        index = self.combo.findData(conversation_id)
        self.combo.blockSignals(True)
        self.combo.setCurrentIndex(max(index, 0))
        self.combo.blockSignals(False)

    def current(self) -> str:
        return str(self.combo.currentData() or DEFAULT_CONVERSATION)


def _file_menu(window: MainWindow) -> QMenu | None:
    for action in window.menuBar().actions():
        if action.text().replace("&", "") == "File" and isinstance(action.menu(), QMenu):
            return action.menu()
    return None


class SessionExtras(QObject):
    def __init__(self, window: MainWindow, header: QBoxLayout, column: QBoxLayout):
        super().__init__(window)
        self._window = window
        self._session: ChatSession | None = None
        self.profiles = Profiles(window.settings)

        self.conversations = ConversationBar()
        header.insertWidget(header.indexOf(window.vision.badge) + 1, self.conversations)
        self.conversations.combo.activated.connect(self._on_picked)
        self.conversations.new_button.clicked.connect(self.new_conversation)
        self.new_action = QAction("&New conversation", window)
        self.new_action.setShortcut("Ctrl+Shift+N")
        self.new_action.triggered.connect(self.new_conversation)

        self.approval = ApprovalPanel()
        column.insertWidget(column.count() - 2, self.approval)  # above the composer row
        self.approval.answered.connect(self._on_answered)

        self.server_menu = QMenu("Ser&ver", window)
        self.server_menu.aboutToShow.connect(self._fill_server_menu)
        menu = _file_menu(window)
        if menu is not None:
            menu.insertMenu(self._after(menu, "&Connection…"), self.server_menu)
            menu.insertAction(self._after(menu, "Switch &agent…"), self.new_action)
        else:
            window.addAction(self.new_action)
        self.profiles_dialog: ProfilesDialog | None = None

    @staticmethod
    def _after(menu: QMenu, text: str) -> QAction | None:
        actions = menu.actions()
        index = next((i for i, a in enumerate(actions) if a.text() == text), len(actions) - 1)
        return actions[index + 1] if index + 1 < len(actions) else None

    # -- a new connection / session -------------------------------------------------------

    def watch(self, session: ChatSession, client: LettaClient, remember: bool) -> None:
        """A new connection: its project header, its profile (when the user chose it in the
        connect dialog), and the session's conversations, approvals and retry countdown."""
        if remember:
            self.profiles.ensure(client.base_url)
        client.set_project(self.profiles.project_for(client.base_url))
        self._session = session
        self.conversations.hide()
        self.approval.show_approval(None)
        session.remembered_conversation = self._remembered
        session.conversationsChanged.connect(self._on_conversations)
        session.conversationChanged.connect(self._on_conversation)
        session.approvalPending.connect(self.approval.show_approval)
        session.busyChanged.connect(lambda busy: self.approval.set_enabled(not busy))
        session.retryCountdown.connect(self._on_retry_countdown)

    def _base_url(self) -> str:
        conn = self._window.connection
        return conn.base_url if conn is not None else ""

    def _remembered(self, agent_id: str) -> str | None:
        return self._window.settings.last_conversation(self._base_url(), agent_id)

    # -- conversations --------------------------------------------------------------------

    def _on_conversations(self, conversations: list[Conversation]) -> None:
        session = self._session
        if session is None:
            return
        self.conversations.set_conversations(conversations, session.conversation_id)
        self.conversations.setVisible(session.conversations_supported)
        self.new_action.setEnabled(session.conversations_supported)

    def _on_conversation(self, conversation_id: str) -> None:
        self.conversations.select(conversation_id)
        session = self._session
        if session is not None and session.agent is not None:
            self._window.settings.set_last_conversation(
                self._base_url(), session.agent.id, conversation_id
            )

    def _on_picked(self, _index: int) -> None:
        if self._session is not None:
            self._session.open_conversation(self.conversations.current())
            self._window.composer.setFocus()

    def new_conversation(self) -> None:
        if self._session is not None and self._session.conversations_supported:
            self._session.new_conversation()
            self._window.composer.setFocus()

    # -- approvals ------------------------------------------------------------------------

    def _on_answered(self, decisions: list[ApprovalDecision]) -> None:
        """One decision per pending call; when the session cannot send now (busy, no agent)
        the panel takes answers again."""
        session = self._session
        if session is None or not session.answer_approvals(decisions):
            self.approval.set_enabled(True)

    # -- retry countdown ------------------------------------------------------------------

    def _on_retry_countdown(self, text: str) -> None:
        window = self._window
        if text:
            window.banner.show_message(text, "warning", "Cancel", self._cancel_auto_retry)
        elif window.banner.action_button.text() == "Cancel":  # our countdown, now over
            window.banner.hide()

    def _cancel_auto_retry(self) -> None:
        if self._window.session is not None:
            self._window.session.cancel_auto_retry()

    # -- server profiles ------------------------------------------------------------------

    def _fill_server_menu(self) -> None:
        menu = self.server_menu
        menu.clear()
        group = QActionGroup(menu)
        current = self.profiles.current()
        connected = self._base_url()
        for profile in self.profiles.all():
            action = menu.addAction(profile.name)
            action.setCheckable(True)
            action.setChecked(
                current is not None
                and profile.name == current.name
                and profile.base_url == connected
            )
            action.setToolTip(plain_tip(profile.base_url))
            group.addAction(action)
            action.triggered.connect(lambda _c=False, n=profile.name: self.switch_to(n))
        if self.profiles.all():
            menu.addSeparator()
        manage = menu.addAction("&Manage servers…")
        manage.triggered.connect(self.manage_servers)

    def switch_to(self, name: str) -> None:
        """Connect to a profile: its URL, its key from the keyring (on a worker), its project."""
        profile = self.profiles.set_current(name)
        if profile is None:
            return
        window = self._window
        window.workers.submit(
            window.secrets.get,
            profile.base_url,
            on_result=lambda key, u=profile.base_url: window.connect_to(u, key, remember=False),
            on_error=lambda _e, u=profile.base_url: window.connect_to(u, None, remember=False),
            owner=self,
        )

    def manage_servers(self) -> None:
        window = self._window

        def store_key(url: str, key: str) -> None:
            window.workers.submit(window.secrets.set, url, key, owner=self)

        dialog = ProfilesDialog(self.profiles, store_key, window)
        self.profiles_dialog = dialog
        accepted = dialog.exec() == ProfilesDialog.DialogCode.Accepted
        self.profiles_dialog = None
        chosen = dialog.chosen
        dialog.deleteLater()
        if accepted and chosen:
            self.switch_to(chosen)
