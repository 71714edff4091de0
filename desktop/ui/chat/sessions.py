"""The open chat session, and the one signal that tells every feature it changed.

A new connection means a new `ChatSession`. Features that keep per-session state take it from
`sessionChanged`; the session's own signals are relayed here, so a feature connects once to
`Sessions` instead of again to every new session.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from desktop.ui.chat.session import ChatSession
from desktop.ui.transcript import TranscriptModel, TranscriptView
from desktop.workers import Workers

if TYPE_CHECKING:
    from desktop.core.letta import Agent, LettaClient


class Sessions(QObject):
    sessionChanged = Signal(object)  # ChatSession
    agentLoaded = Signal(object)  # Agent
    modelChanged = Signal()
    busyChanged = Signal(bool)
    failed = Signal(object)  # UserError
    replyFinished = Signal(str)  # stop reason
    retryCountdown = Signal(str)
    editRequested = Signal(str)
    attachmentsRestored = Signal(list)

    _RELAYED = (
        "agentLoaded",
        "modelChanged",
        "busyChanged",
        "failed",
        "replyFinished",
        "retryCountdown",
        "editRequested",
        "attachmentsRestored",
    )

    def __init__(
        self,
        workers: Workers,
        transcript_model: TranscriptModel,
        transcript_view: TranscriptView,
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self._workers = workers
        self._model = transcript_model
        self._view = transcript_view
        self.current: ChatSession | None = None

    def open(self, client: LettaClient) -> ChatSession:
        """A session on a new client; the previous one stops and goes away."""
        self.close()
        session = ChatSession(self._workers, client, self._model, self._view, self)
        for name in self._RELAYED:
            getattr(session, name).connect(getattr(self, name))
        self.current = session
        self.sessionChanged.emit(session)
        return session

    def close(self) -> None:
        session, self.current = self.current, None
        if session is not None:
            for name in self._RELAYED:
                getattr(session, name).disconnect(getattr(self, name))
            session.shutdown()
            session.deleteLater()

    @property
    def agent(self) -> Agent | None:
        return self.current.agent if self.current is not None else None

    def agent_id(self) -> str | None:
        agent = self.agent
        return agent.id if agent is not None else None

    def agent_model(self) -> str | None:
        """The agent's own model handle (what pending images are prepared for)."""
        agent = self.agent
        return agent.model if agent is not None else None

    def open_agent(self, agent_id: str) -> None:
        if self.current is not None:
            self.current.open_agent(agent_id)

    def reload(self) -> None:
        if self.current is not None:
            self.current.reload()

    def retry_later(self) -> None:
        if self.current is not None:
            self.current.retry_later()

    def cancel_auto_retry(self) -> None:
        if self.current is not None:
            self.current.cancel_auto_retry()

    def shutdown(self) -> None:
        if self.current is not None:
            self.current.shutdown()
