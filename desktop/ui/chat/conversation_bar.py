"""The header's conversation picker: the default conversation first, then the agent's others,
newest first, and “New”."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QToolButton, QWidget

from desktop.core.letta import DEFAULT_CONVERSATION, Conversation
from desktop.settings import Settings
from desktop.ui.transcript.model import format_date

if TYPE_CHECKING:
    from desktop.ui.chat.session import ChatSession


def conversation_label(conversation: Conversation) -> str:
    if conversation.summary:
        return conversation.summary
    when = format_date(conversation.created_at)
    return f"Conversation of {when}" if when else f"Conversation {conversation.id[-8:]}"


class ConversationBar(QWidget):
    """A compact drop-down of the agent's conversations and a “New” button.

    The choice is remembered per server and agent, and opened again next time."""

    composerWanted = Signal()  # a conversation was picked or started: back to typing
    supportedChanged = Signal(bool)  # the server has conversations (File ▸ New conversation)

    def __init__(self, settings: Settings, parent: QWidget | None = None):
        super().__init__(parent)
        self._settings = settings
        self._session: ChatSession | None = None
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
        self.combo.activated.connect(self._on_picked)
        self.new_button.clicked.connect(self.new_conversation)
        self.hide()

    def set_session(self, session: ChatSession) -> None:
        self._session = session
        self.hide()
        session.remembered_conversation = self._remembered
        session.conversationsChanged.connect(self._on_conversations)
        session.conversationChanged.connect(self._on_conversation)

    def _remembered(self, agent_id: str) -> str | None:
        session = self._session
        if session is None:
            return None
        return self._settings.last_conversation(session.client.base_url, agent_id)

    def _on_conversations(self, conversations: list[Conversation]) -> None:
        session = self._session
        if session is None:
            return
        self.set_conversations(conversations, session.conversation_id)
        self.setVisible(session.conversations_supported)
        self.supportedChanged.emit(session.conversations_supported)

    def _on_conversation(self, conversation_id: str) -> None:
        self.select(conversation_id)
        session = self._session
        if session is not None and session.agent is not None:
            self._settings.set_last_conversation(
                session.client.base_url, session.agent.id, conversation_id
            )

    def _on_picked(self, _index: int) -> None:
        if self._session is not None:
            self._session.open_conversation(self.current())
            self.composerWanted.emit()

    def new_conversation(self) -> None:
        if self._session is not None and self._session.conversations_supported:
            self._session.new_conversation()
            self.composerWanted.emit()

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
