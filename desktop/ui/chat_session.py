"""One open agent: its history pages, sends with streaming replies, stop, retry.

The controller between the API client (run on workers) and the transcript model. It keeps every
message the server has not confirmed, with its otid, so Retry never duplicates what the server
already stored.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from desktop.core import letta
from desktop.core.attachments import Attachment
from desktop.core.letta import Agent, LettaClient, Message, MessageStream, StreamChunk, StreamStop
from desktop.workers import Task, Workers

from .errors import Action, UserError, describe
from .transcript import TranscriptModel, TranscriptView

log = logging.getLogger(__name__)

HISTORY_PAGE = 30


@dataclass
class PendingSend:
    otid: str
    text: str
    content: list[dict[str, Any]]
    thumbnails: list[QImage] = field(default_factory=list)
    error: BaseException | None = None
    attachments: list[Attachment] = field(default_factory=list)
    """The composer's attachments behind `content`'s image parts (Edit puts them back)."""


def _already_stored(client: LettaClient, agent_id: str, otid: str) -> bool:
    return client.find_user_message(agent_id, otid) is not None


class ChatSession(QObject):
    agentLoaded = Signal(object)  # Agent
    busyChanged = Signal(bool)
    failed = Signal(object)  # UserError
    editRequested = Signal(str)  # text to put back in the composer
    attachmentsRestored = Signal(list)  # Attachments to put back (emitted before editRequested)
    replyFinished = Signal(str)  # stop reason

    def __init__(self, workers: Workers, client: LettaClient, model: TranscriptModel,
                 view: TranscriptView, parent: QObject | None = None):
        super().__init__(parent)
        self._workers = workers
        self._client = client
        self._model = model
        self._view = view
        self.agent: Agent | None = None
        self._pending: dict[str, PendingSend] = {}
        self._stream: MessageStream | None = None
        self._stream_task: Task | None = None
        self._history_task: Task | None = None
        self._oldest_id: str | None = None
        self._has_more = False
        self._stop_reason: str | None = None
        view.olderRequested.connect(self.load_older)
        view.retryRequested.connect(self.retry)
        view.editRequested.connect(self.edit)
        view.discardRequested.connect(self.discard)

    @property
    def busy(self) -> bool:
        return self._stream_task is not None

    # -- opening and history --------------------------------------------------------------

    def open_agent(self, agent_id: str) -> None:
        self.stop()
        self._model.clear()
        self._pending.clear()
        self._oldest_id = None
        self._has_more = False
        self._workers.submit(self._client.get_agent, agent_id, on_result=self._on_agent,
                             on_error=self._on_load_error, owner=self)

    def _on_agent(self, agent: Agent) -> None:
        self.agent = agent
        self.agentLoaded.emit(agent)
        self._load_page(None)

    def _on_load_error(self, exc: BaseException) -> None:
        self.failed.emit(describe(exc))

    def reload(self) -> None:
        if self.agent is not None:
            self.open_agent(self.agent.id)

    def load_older(self) -> None:
        if self.agent is not None and self._has_more and self._history_task is None:
            self._load_page(self._oldest_id)

    def _load_page(self, before: str | None) -> None:
        assert self.agent is not None
        self._view.set_loading_older(before is not None)
        self._history_task = self._workers.submit(
            self._client.list_messages, self.agent.id, limit=HISTORY_PAGE, before=before,
            on_result=lambda page, first=before is None: self._on_page(page, first),
            on_error=self._on_page_error, owner=self)

    def _on_page(self, page: list[Message], first: bool) -> None:
        self._history_task = None
        self._view.set_loading_older(False)
        self._has_more = len(page) >= HISTORY_PAGE
        self._view.set_has_more(self._has_more)
        if page:
            self._oldest_id = page[-1].id
        oldest_first = list(reversed(page))
        if first:
            self._model.set_history(oldest_first)
        else:
            self._model.prepend_older(oldest_first)

    def _on_page_error(self, exc: BaseException) -> None:
        self._history_task = None
        self._view.set_loading_older(False)
        self.failed.emit(describe(exc))

    # -- sending --------------------------------------------------------------------------

    def send(self, text: str, image_parts: list[dict[str, Any]] | None = None,
             thumbnails: list[QImage] | None = None,
             attachments: list[Attachment] | None = None) -> bool:
        """Start sending; returns False (and changes nothing) when it cannot start now."""
        if self.agent is None or self.busy:
            return False
        content: list[dict[str, Any]] = []
        if text.strip():
            content.append({"type": "text", "text": text})
        content.extend(image_parts or [])
        if not content:
            return False
        pending = PendingSend(letta.new_otid(), text, content, list(thumbnails or []),
                              attachments=list(attachments or []))
        self._pending[pending.otid] = pending
        self._model.add_local_user(pending.otid, text, pending.thumbnails)
        self._start_stream(pending)
        return True

    def _start_stream(self, pending: PendingSend) -> None:
        assert self.agent is not None
        self._stop_reason = None
        stream = self._client.stream_message(self.agent.id, pending.content, pending.otid)
        self._stream = stream
        self._stream_task = self._workers.submit_iter(
            iter, stream, on_item=self._on_event,
            on_result=lambda _r, o=pending.otid: self._on_stream_done(o),
            on_error=lambda exc, o=pending.otid: self._on_stream_error(o, exc),
            on_finished=self._on_stream_finished, owner=self)
        self.busyChanged.emit(True)

    def _on_event(self, event: object) -> None:
        if isinstance(event, StreamChunk):
            self._model.apply_chunk(event)
        elif isinstance(event, StreamStop):
            self._stop_reason = event.reason

    def _on_stream_done(self, otid: str) -> None:
        self._pending.pop(otid, None)
        self._model.set_user_state(otid, "sent")
        cancelled = self._stop_reason == "cancelled"
        self._model.finish_stream(incomplete=cancelled,
                                  note="Stopped." if cancelled else None)
        if self._stop_reason == "requires_approval":
            self._model.add_notice("The agent is waiting for you to approve a tool call.",
                                   "warning")
        self.replyFinished.emit(self._stop_reason or "")

    def _on_stream_error(self, otid: str, exc: BaseException) -> None:
        pending = self._pending.get(otid)
        user_error = describe(exc)
        if isinstance(exc, letta.StreamFailed | letta.StreamCut):
            # The server accepted the message; the reply is what failed.
            self._pending.pop(otid, None)
            self._model.set_user_state(otid, "sent")
            self._model.finish_stream(incomplete=isinstance(exc, letta.StreamCut),
                                      note=user_error.text)
            if isinstance(exc, letta.StreamFailed):
                self._model.add_notice(user_error.text, "error")
        else:
            if pending is not None:
                pending.error = exc
            self._model.finish_stream(incomplete=True, note=None)
            self._model.set_user_state(otid, "failed", user_error.text)
        self.failed.emit(user_error)

    def _on_stream_finished(self) -> None:
        self._stream = None
        self._stream_task = None
        self.busyChanged.emit(False)

    def stop(self) -> None:
        """Esc / Stop: close the stream at once, and ask the server to cancel the run."""
        stream = self._stream
        if stream is None:
            return
        stream.close()
        self._workers.submit(stream.cancel, owner=self)

    # -- failed messages ------------------------------------------------------------------

    def retry(self, otid: str) -> None:
        pending = self._pending.get(otid)
        if pending is None or self.agent is None or self.busy:
            return
        self._model.set_user_state(otid, "sending")
        if pending.error is not None and not getattr(pending.error, "may_have_reached_server",
                                                     True):
            self._start_stream(pending)
            return
        # The first attempt may have reached the server: look before sending again.
        self._workers.submit(
            _already_stored, self._client, self.agent.id, otid,
            on_result=lambda stored, p=pending: self._retry_checked(p, stored),
            on_error=lambda exc, o=otid: self._model.set_user_state(o, "failed",
                                                                    describe(exc).text),
            owner=self)

    def _retry_checked(self, pending: PendingSend, stored: bool) -> None:
        if stored:
            self._pending.pop(pending.otid, None)
            self._model.set_user_state(pending.otid, "sent")
            self._model.add_notice("The server already had this message, so it was not sent "
                                   "again. Reload to see the agent's reply.", "info")
            return
        self._start_stream(pending)

    def edit(self, otid: str) -> None:
        pending = self._pending.pop(otid, None)
        if pending is not None:
            self._model.remove_local_user(otid)
            if pending.attachments:
                self.attachmentsRestored.emit(list(pending.attachments))
            self.editRequested.emit(pending.text)

    def discard(self, otid: str) -> None:
        if self._pending.pop(otid, None) is not None:
            self._model.remove_local_user(otid)

    def shutdown(self) -> None:
        self.stop()


__all__ = ["Action", "ChatSession", "PendingSend", "UserError"]
