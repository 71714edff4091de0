"""One open agent: its history pages, sends with streaming replies, stop, retry.

The controller between the API client (run on workers) and the transcript model. It keeps every
message the server has not confirmed, with its otid, so Retry never duplicates what the server
already stored.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QImage

from desktop.core import letta
from desktop.core.attachments import Attachment
from desktop.core.letta import (
    DEFAULT_CONVERSATION,
    Agent,
    ApprovalDecision,
    Conversation,
    Message,
    StreamChunk,
    StreamReconnecting,
    StreamStop,
)
from desktop.core.letta.parts import user_content
from desktop.ui.chat.approvals import Approval, StreamedApproval, answer_notice, pending_in
from desktop.ui.notice import Tone
from desktop.ui.transcript import RowState, TranscriptModel, TranscriptView
from desktop.ui.user_errors import Action, UserError, describe
from desktop.workers import Task, Workers

if TYPE_CHECKING:
    from desktop.core.letta import LettaClient, MessageStream

log = logging.getLogger(__name__)

HISTORY_PAGE = 30
AUTO_RETRY_ATTEMPTS = 3
"""Automatic resends of one message, at most (only where nothing reached the server, or the
server said 429/503 with when to come back)."""
AUTO_RETRY_MAX_WAIT = 60.0
"""A Retry-After longer than this is left to the user (the banner says how long)."""
_BACKOFF = (1.0, 2.0, 4.0)
BUSY_WAIT_SECONDS = 10
# After an error in the stream, the history is asked whether the turn kept the user's message.
# The turn can still be committing when its stream reports the error (a background run writes
# its rows apart from the stream it feeds; the e2e fault test, which injects an error into a
# real 0.16.8 stream mid-turn, once found nothing on the first look), so a miss is asked again
# after these pauses before the message is called not sent.
VERIFY_AGAIN_MS = (1000, 3000)
CONVERSATION_PAGE = 50
MAX_CONVERSATIONS = 200
"""“Wait and retry” after a 409 (the agent is busy, or waits for a tool approval)."""


@dataclass
class PendingSend:
    otid: str
    text: str
    content: list[dict[str, Any]]
    thumbnails: list[QImage] = field(default_factory=list)
    error: BaseException | None = None
    attachments: list[Attachment] = field(default_factory=list)
    """The composer's attachments behind `content`'s image parts (Edit puts them back)."""
    auto_attempts: int = 0
    error_text: str = ""
    sent_at: float | None = None
    """When it was first sent (epoch s): Retry's history check looks back to there, no further."""
    conversation_id: str | None = None
    """Where it was last sent (None: not known, e.g. restored from an older draft)."""
    checks_left: int = 0
    """History checks still to make after one that did not find it (see VERIFY_AGAIN_MS)."""


def _image_names(pending: PendingSend) -> list[str]:
    return [a.name for a in pending.attachments]


def _name_the_image(pending: PendingSend, exc: BaseException, error: UserError) -> UserError:
    """A size failure (413, or a provider's “image too large”) says which image it was."""
    size_words = ("too large", "too big", "exceeds", "maximum", "dimensions", "size")
    is_size = isinstance(exc, letta.PayloadTooLarge) or (
        isinstance(exc, letta.StreamFailed | letta.BadRequest)
        and "image" in f"{exc} {exc.detail or ''}".lower()
        and any(w in f"{exc} {exc.detail or ''}".lower() for w in size_words)
    )
    if not is_size or not pending.attachments:
        return error
    sized = [
        (len(p.get("source", {}).get("data", "")) * 3 // 4, a.name)
        for p, a in zip(
            [c for c in pending.content if c.get("type") == "image"],
            pending.attachments,
            strict=False,
        )
    ]
    size, name = max(sized) if sized else (0, pending.attachments[0].name)
    what = f"“{name}”" + (f" ({size / 1_000_000:.1f} MB)" if size >= 100_000 else "")
    if len(pending.attachments) > 1:
        hint = f" The largest image is {what}: remove it or attach a smaller one."
    else:
        hint = f" The image {what} is likely too big: remove it or attach a smaller one."
    return UserError(error.text + hint, error.action)


def _ignore(_error: BaseException) -> None:
    """For a request whose failure changes nothing the user sees."""


def _already_stored(client: LettaClient, agent_id: str, pending: PendingSend) -> bool:
    # The conversation it went to; without one (an older draft) the agent route, which lists
    # the messages of every conversation of the agent.
    found = client.find_user_message(
        agent_id, pending.otid, sent_at=pending.sent_at, conversation_id=pending.conversation_id
    )
    return found is not None


def _conversations(client: LettaClient, agent_id: str) -> list[Conversation] | None:
    """The agent's conversations, most recently active first (up to MAX_CONVERSATIONS), or None
    when the server has no conversations route (404/405). Other failures raise."""
    found: list[Conversation] = []
    after: str | None = None
    try:
        while len(found) < MAX_CONVERSATIONS:
            page = client.list_conversations(agent_id, limit=CONVERSATION_PAGE, after=after)
            found.extend(page)
            if len(page) < CONVERSATION_PAGE:
                break
            after = page[-1].id
    except (letta.NotFound, letta.BadRequest) as exc:
        if found or not (isinstance(exc, letta.NotFound) or exc.status == 405):
            raise
        return None
    return found


class ChatSession(QObject):
    agentLoaded = Signal(object)  # Agent
    busyChanged = Signal(bool)
    failed = Signal(object)  # UserError
    editRequested = Signal(str)  # text to put back in the composer
    attachmentsRestored = Signal(list)  # Attachments to put back (emitted before editRequested)
    replyFinished = Signal(str)  # stop reason
    #: A message was added to or left the unconfirmed set (the draft store follows it).
    pendingChanged = Signal()
    #: Another agent is about to replace this one (argument: the old agent's id).
    agentClosing = Signal(str)
    #: The automatic retry's countdown text for the banner; "" when it is over or cancelled.
    retryCountdown = Signal(str)
    #: The agent's conversations were listed (list of Conversation; [] when the server has none
    #: or does not support them) — the default conversation is implied, never in the list.
    conversationsChanged = Signal(list)
    #: The shown conversation changed (its id, "default" for the agent's default one).
    conversationChanged = Signal(str)
    #: The agent waits for a tool approval (Approval), or no longer does (None).
    approvalPending = Signal(object)
    #: The model that answers here changed: the agent's, or the shown conversation's own.
    modelChanged = Signal()

    def __init__(
        self,
        workers: Workers,
        client: LettaClient,
        model: TranscriptModel,
        view: TranscriptView,
        parent: QObject | None = None,
    ):
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
        self._loading_newest = False  # the history task asks for the newest page
        #: The shown conversation's newest page has arrived (or failed) since it was opened.
        self.history_loaded = False
        # Work for the open agent, and for the shown conversation's history: renewed when the
        # user leaves them, so a late page or stream chunk never lands in the next one.
        self._for_agent = workers.epoch(owner=self)
        self._for_conversation = workers.epoch(owner=self)
        self._oldest_id: str | None = None
        self._has_more = False
        self._stop_reason: str | None = None
        self.conversation_id = DEFAULT_CONVERSATION
        self.conversations: list[Conversation] = []
        self.conversations_supported = False
        #: Which conversation to open for an agent (set by the window: the remembered one).
        self.remembered_conversation: Callable[[str], str | None] | None = None
        self.pending_approval: Approval | None = None
        self._streamed_approval = StreamedApproval()
        self._resuming = False  # the current stream reattaches to a run (Retry after a cut)
        # A retry whose reattach found no run: looked up in the history once that stream's
        # task has finished (until then the session is busy, and the lookup would take its
        # own stream for another send and give up).
        self._check_when_finished: PendingSend | None = None
        self._reconnect_noticed = False
        self._reload_when_idle = False
        self._conversations_failed = False
        # One automatic retry at a time: (otid, seconds left, text to show).
        self._auto: tuple[str, int, str] | None = None
        self._tick = QTimer(self)
        self._tick.setInterval(1000)
        self._tick.timeout.connect(self._on_tick)
        view.olderRequested.connect(self.load_older)
        view.retryRequested.connect(self.retry)
        view.editRequested.connect(self.edit)
        view.discardRequested.connect(self.discard)

    @property
    def busy(self) -> bool:
        return self._stream_task is not None

    @property
    def conversation(self) -> Conversation | None:
        """The shown conversation, when it is one of the listed ones (not the default)."""
        return next((c for c in self.conversations if c.id == self.conversation_id), None)

    @property
    def model_is_conversations(self) -> bool:
        """True when the shown conversation has a model of its own (it overrides the agent's)."""
        conversation = self.conversation
        return conversation is not None and conversation.model is not None

    @property
    def model(self) -> str | None:
        """The handle of the model that answers in the shown conversation."""
        conversation = self.conversation
        if conversation is not None and conversation.model:
            return conversation.model
        return self.agent.model if self.agent is not None else None

    def set_conversation(self, conversation: Conversation) -> None:
        """A conversation changed on the server (its model was switched): keep the new one."""
        self.conversations = [
            conversation if c.id == conversation.id else c for c in self.conversations
        ]
        self.conversationsChanged.emit(list(self.conversations))
        if conversation.id == self.conversation_id:
            self.modelChanged.emit()

    def adopt_agent(self, agent: Agent) -> None:
        """The agent changed on the server (its model was switched): keep the new one."""
        if self.agent is None or self.agent.id != agent.id:
            return
        self.agent = agent
        self.agentLoaded.emit(agent)

    @property
    def client(self) -> LettaClient:
        return self._client

    # -- opening and history --------------------------------------------------------------

    def open_agent(self, agent_id: str) -> None:
        if self.agent is not None and self.agent.id != agent_id:
            self.agentClosing.emit(self.agent.id)  # its unsent messages live on in its draft
        self.stop()
        self._for_agent.renew()
        self._for_conversation.renew()
        self._history_task = None
        self._check_when_finished = None
        self.history_loaded = False
        self.cancel_auto_retry()
        self._model.clear()
        had_pending = bool(self._pending)
        self._pending.clear()
        if had_pending:
            self.pendingChanged.emit()
        self._oldest_id = None
        self._has_more = False
        self.conversation_id = DEFAULT_CONVERSATION
        self.conversations = []
        self._set_approval(None)
        self._for_agent.submit(
            self._client.get_agent, agent_id, on_result=self._on_agent, on_error=self._on_load_error
        )

    def _on_agent(self, agent: Agent) -> None:
        self.agent = agent
        self.agentLoaded.emit(agent)
        # Which conversation to show depends on what the agent has: ask first, then load.
        self._list_conversations(self._on_conversations, self._on_conversations_failed)

    def _list_conversations(
        self,
        on_result: Callable[[list[Conversation] | None], None],
        on_error: Callable[[BaseException], None],
    ) -> None:
        assert self.agent is not None
        self._for_agent.submit(
            _conversations, self._client, self.agent.id, on_result=on_result, on_error=on_error
        )

    def _on_conversations_failed(self, exc: BaseException) -> None:
        """The list failed (not "unsupported": that is a 404/405): say so, show the default
        conversation, and let the user try again."""
        self._on_conversations([])
        self._conversations_failed = True  # "Reload history" lists them again
        self.failed.emit(
            UserError(
                "Could not load this agent's conversations: " + describe(exc).text,
                Action.RELOAD,
            )
        )

    def _on_list_reloaded(self, found: list[Conversation] | None) -> None:
        self.conversations_supported = found is not None or self.conversations_supported
        self.conversations = list(found or [])
        self.conversationsChanged.emit(list(self.conversations))

    def _on_conversations(self, found: list[Conversation] | None) -> None:
        assert self.agent is not None  # set in this epoch, before the list was asked for
        agent_id = self.agent.id
        # No conversations route (older servers): the agent route is the only history there is.
        self.conversations_supported = found is not None
        self.conversations = list(found or [])
        wanted = self.remembered_conversation(agent_id) if self.remembered_conversation else None
        known = {c.id for c in self.conversations}
        self.conversation_id = wanted if wanted in known else DEFAULT_CONVERSATION
        self.conversationsChanged.emit(list(self.conversations))
        self.conversationChanged.emit(self.conversation_id)
        self.modelChanged.emit()
        self._load_page(None)
        if wanted and wanted != DEFAULT_CONVERSATION and wanted not in known and found:
            # Remembered, but older than the pages listed: fetch it by id, then show it.
            self._for_agent.submit(
                self._client.get_conversation,
                wanted,
                on_result=self._on_remembered,
                on_error=_ignore,  # deleted meanwhile: the default one stays
            )

    def _on_remembered(self, conversation: Conversation) -> None:
        if self.agent is None:
            return
        if conversation.agent_id not in (None, self.agent.id):
            return
        if conversation.id not in {c.id for c in self.conversations}:
            self.conversations.append(conversation)
            self.conversationsChanged.emit(list(self.conversations))
        self.open_conversation(conversation.id)

    def _conversation_gone(self, exc: BaseException) -> bool:
        """A 404 naming the shown conversation (deleted or archived elsewhere): drop it and
        go back to the default conversation. True when that is what happened."""
        if not (
            isinstance(exc, letta.NotFound)
            and exc.what == "conversation"
            and self.conversation_id != DEFAULT_CONVERSATION
        ):
            return False
        gone = self.conversation_id
        self.conversations = [c for c in self.conversations if c.id != gone]
        self.conversationsChanged.emit(list(self.conversations))
        self.open_conversation(DEFAULT_CONVERSATION)
        self.failed.emit(
            UserError(
                "That conversation no longer exists on the server (deleted or archived"
                " elsewhere); this is the agent's default conversation."
            )
        )
        return True

    def _history_conversation(self) -> str | None:
        # The agent route lists every conversation's messages (0.16.8): the default one's own
        # history comes from /v1/conversations/default/messages where that route exists.
        return self.conversation_id if self.conversations_supported else None

    def open_conversation(self, conversation_id: str) -> None:
        """Show another conversation of this agent; sends go there from now on."""
        if self.agent is None or conversation_id == self.conversation_id:
            return
        self.stop()
        self.cancel_auto_retry()
        self.conversation_id = conversation_id
        self._for_conversation.renew()  # a page of the one left must not land here
        self._model.clear()
        for pending in self._pending.values():  # unsent messages stay visible (and retryable)
            self._model.add_local_user(pending.otid, pending.text, pending.thumbnails)
            self._model.set_user_state(pending.otid, RowState.FAILED, pending.error_text or None)
        self._history_task = None
        self.history_loaded = False
        self._oldest_id = None
        self._has_more = False
        self._set_approval(None)
        self.conversationChanged.emit(conversation_id)
        self.modelChanged.emit()
        self._load_page(None)

    def new_conversation(self) -> None:
        """Create a conversation on the server and switch to it."""
        if self.agent is None:
            return
        self._for_agent.submit(
            self._client.create_conversation,
            self.agent.id,
            on_result=self._on_created,
            on_error=self._on_load_error,
        )

    def _on_created(self, conversation: Conversation) -> None:
        if self.agent is None or conversation.agent_id not in (None, self.agent.id):
            return
        self.conversations.insert(0, conversation)
        self.conversations_supported = True
        self.conversationsChanged.emit(list(self.conversations))
        self.open_conversation(conversation.id)

    def _on_load_error(self, exc: BaseException) -> None:
        self.failed.emit(describe(exc))

    def reload(self) -> None:
        """Fetch the newest history again; unconfirmed messages stay (failed rows survive).
        A conversation list that failed is asked for again too."""
        if self.agent is not None and self._conversations_failed:
            self._conversations_failed = False
            self._list_conversations(self._on_list_reloaded, self._on_load_error)
        if self.agent is not None and self._history_task is None:
            self._oldest_id = None
            self._has_more = False
            self._load_page(None)

    def load_older(self) -> None:
        if self.agent is not None and self._has_more and self._history_task is None:
            self._load_page(self._oldest_id)

    def _drop_history_task(self) -> None:
        assert self._history_task is not None
        self._history_task.cancel()
        self._history_task = None
        self._view.set_loading_older(False)

    def _load_page(self, before: str | None) -> None:
        assert self.agent is not None
        if before is None and self.busy:
            # The newest page holds the reply being streamed: landing now, it would replace
            # the transcript under it. It is asked for when the reply ends.
            self._reload_when_idle = True
            return
        self._loading_newest = before is None
        self._view.set_loading_older(before is not None)
        self._history_task = self._for_conversation.submit(
            self._client.list_messages,
            self.agent.id,
            limit=HISTORY_PAGE,
            before=before,
            conversation_id=self._history_conversation(),
            on_result=partial(self._on_page, first=before is None),
            on_error=self._on_page_error,
        )

    def _on_page(self, page: list[Message], first: bool) -> None:
        self._history_task = None
        self.history_loaded = self.history_loaded or first
        if first and not self.busy:
            self._set_approval(pending_in(page, self._agent_tools()))
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
        self.history_loaded = True
        self._view.set_loading_older(False)
        if self._conversation_gone(exc):
            return
        self.failed.emit(describe(exc))

    # -- sending --------------------------------------------------------------------------

    def send(
        self,
        text: str,
        image_parts: list[dict[str, Any]] | None = None,
        thumbnails: list[QImage] | None = None,
        attachments: list[Attachment] | None = None,
    ) -> bool:
        """Start sending; returns False (and changes nothing) when it cannot start now."""
        if self.agent is None or self.busy:
            return False
        content = user_content(text, image_parts or [])
        if not content:
            return False
        pending = PendingSend(
            letta.new_otid(),
            text,
            content,
            list(thumbnails or []),
            attachments=list(attachments or []),
            sent_at=time.time(),
        )
        self._pending[pending.otid] = pending
        self._model.add_local_user(pending.otid, text, pending.thumbnails)
        self.pendingChanged.emit()
        self._start_stream(pending)
        return True

    def pending_messages(self) -> list[PendingSend]:
        """The messages the server has not confirmed, oldest first."""
        return list(self._pending.values())

    def restore_pending(self, pending: PendingSend, note: str) -> None:
        """Show a message left unconfirmed by an earlier run as failed; Retry checks the history
        for its otid before sending."""
        if pending.otid in self._pending:
            return
        pending.error, pending.error_text = None, note
        self._pending[pending.otid] = pending
        self._model.add_local_user(pending.otid, pending.text, pending.thumbnails)
        self._model.set_user_state(pending.otid, RowState.FAILED, note)

    def _agent_tools(self) -> frozenset[str] | None:
        return self.agent.tool_names if self.agent is not None else None

    def _start_stream(self, pending: PendingSend) -> None:
        assert self.agent is not None
        # Where Retry's history check looks (None: the agent route, every conversation).
        pending.conversation_id = self._history_conversation()
        stream = self._client.stream_message(
            self.agent.id, pending.content, pending.otid, self.conversation_id
        )
        self._run_stream(stream, pending.otid)

    def _run_stream(self, stream: MessageStream, otid: str, *, resuming: bool = False) -> None:
        if self._history_task is not None and self._loading_newest:
            # That page was asked for before this message and reply existed: arriving after
            # them, it would replace the transcript without them. Ask again when the reply ends.
            self._drop_history_task()
            self._reload_when_idle = True
        self._stop_reason = None
        self._streamed_approval = StreamedApproval()
        self._resuming = resuming
        self._reconnect_noticed = False
        self._stream = stream
        self._stream_task = self._for_agent.submit_iter(
            iter,
            stream,
            on_item=self._on_event,
            on_result=lambda _r, o=otid: self._on_stream_done(o),
            on_error=partial(self._on_stream_error, otid),
            on_finished=self._on_stream_finished,
        )
        self.busyChanged.emit(True)

    def _on_event(self, event: object) -> None:
        if isinstance(event, StreamChunk):
            self._model.apply_chunk(event)
            if event.message_type == "approval_request_message":
                self._streamed_approval.add(event)
        elif isinstance(event, StreamStop):
            self._stop_reason = event.reason
        elif isinstance(event, StreamReconnecting) and not self._reconnect_noticed:
            # The run goes on on the server; the stream picks up where it broke.
            self._reconnect_noticed = True
            self._model.add_notice(
                "The connection dropped mid-reply; picking the reply up again from the server.",
                Tone.INFO,
            )

    def _confirmed(self, otid: str) -> None:
        """The server has the message: it leaves the unconfirmed set (and the draft store)."""
        if self._pending.pop(otid, None) is not None:
            self.pendingChanged.emit()
        self._model.set_user_state(otid, RowState.SENT)

    def _on_stream_done(self, otid: str) -> None:
        self._confirmed(otid)
        cancelled = self._stop_reason == "cancelled"
        self._model.finish_stream(incomplete=cancelled, note="Stopped." if cancelled else None)
        if self._stop_reason == "requires_approval":
            # Shown at once from the stream; the history then says which calls the server
            # really waits for (0.16.8 keeps only the first of parallel calls unless the agent
            # allows parallel tool calls) — the answer must name exactly those.
            self._set_approval(self._streamed_approval.result(self._agent_tools()))
            self._reload_when_idle = True
        self.replyFinished.emit(self._stop_reason or "")

    def _on_stream_error(self, otid: str, exc: BaseException) -> None:
        pending = self._pending.get(otid)
        stream = self._stream
        accepted = stream is not None and stream.accepted
        if self._resuming and not accepted and pending is not None:
            # No run to reattach to (finished long ago, or a server without background
            # runs): look in the history before sending again, as before.
            self._resuming = False
            self._stream = None
            self._check_when_finished = pending
            return
        if not accepted and pending is not None and self._conversation_gone(exc):
            # Nothing was stored; the message stays, failed, to Retry here or Edit.
            pending.error = exc
            pending.error_text = "Not sent: its conversation no longer exists."
            pending.conversation_id = self._history_conversation()  # Retry goes here now
            self._model.set_user_state(otid, RowState.FAILED, pending.error_text)
            return
        if accepted and isinstance(exc, letta.NetworkError):
            # The server answered the send with a stream, then the connection broke or went
            # silent: the reply was cut, the message arrived.
            exc = letta.StreamCut(
                "The connection broke while the reply was streaming; the reply may be incomplete."
            )
        user_error = describe(exc)
        if pending is not None:
            user_error = _name_the_image(pending, exc, user_error)
        if isinstance(exc, letta.Conflict) and exc.pending_approval:
            self._reload_when_idle = True  # the pending request ends the history: show it
        if isinstance(exc, letta.StreamCut):
            # The server accepted the message; the reply is what was cut.
            self._confirmed(otid)
            self._model.finish_stream(incomplete=True, note=user_error.text)
        elif isinstance(exc, letta.StreamFailed):
            # The server reported an error for this turn. Whether it kept the user's message
            # depends on where it failed (a provider error drops the whole turn): ask it.
            self._model.finish_stream(incomplete=False, note=None)
            self._model.add_notice(user_error.text, Tone.ERROR)
            if pending is not None:
                pending.error, pending.error_text = exc, user_error.text
                self._verify_stored(pending)
        else:
            if pending is not None:
                pending.error, pending.error_text = exc, user_error.text
            # Nothing streamed when the send itself failed: no "reply cut off" notice then.
            self._model.finish_stream(incomplete=accepted, note=None)
            self._model.set_user_state(otid, RowState.FAILED, user_error.text)
            if pending is not None and self._schedule_auto_retry(pending, exc, user_error):
                return  # the countdown banner speaks instead
        self.failed.emit(user_error)

    def _look_for(
        self,
        pending: PendingSend,
        on_result: Callable[[PendingSend, bool], None],
        on_error: Callable[[PendingSend, BaseException], None],
    ) -> None:
        """Ask the history whether the server stored `pending` (its otid), on a worker."""
        assert self.agent is not None
        self._for_agent.submit(
            _already_stored,
            self._client,
            self.agent.id,
            pending,
            on_result=partial(on_result, pending),
            on_error=partial(on_error, pending),
        )

    def _verify_stored(self, pending: PendingSend) -> None:
        pending.checks_left = len(VERIFY_AGAIN_MS)
        self._look_for(pending, self._on_verified, self._still_failed)

    def _verify_again(self, pending: PendingSend) -> None:
        if self._pending.get(pending.otid) is pending and self.agent is not None:
            self._look_for(pending, self._on_verified, self._still_failed)

    def _still_failed(self, pending: PendingSend, _exc: BaseException) -> None:
        self._model.set_user_state(pending.otid, RowState.FAILED, pending.error_text)

    def _on_verified(self, pending: PendingSend, stored: bool) -> None:
        if pending.otid not in self._pending:
            return  # discarded or edited meanwhile
        if stored:
            self._confirmed(pending.otid)
        elif pending.checks_left:
            pause = VERIFY_AGAIN_MS[len(VERIFY_AGAIN_MS) - pending.checks_left]
            pending.checks_left -= 1
            QTimer.singleShot(pause, self, partial(self._verify_again, pending))
        else:
            self._model.set_user_state(pending.otid, RowState.FAILED, pending.error_text)

    # -- automatic retry (only where it cannot duplicate) ---------------------------------

    @staticmethod
    def _auto_delay(pending: PendingSend, exc: BaseException) -> float | None:
        if pending.auto_attempts >= AUTO_RETRY_ATTEMPTS:
            return None
        backoff = _BACKOFF[min(pending.auto_attempts, len(_BACKOFF) - 1)]
        if isinstance(exc, letta.ConnectionFailed) and not exc.may_have_reached_server:
            return backoff  # nothing was sent
        if isinstance(exc, letta.RateLimited | letta.ServiceUnavailable) and exc.retryable:
            wait = exc.retry_after if exc.retry_after is not None else backoff
            return wait if wait <= AUTO_RETRY_MAX_WAIT else None
        return None

    def _schedule_auto_retry(
        self, pending: PendingSend, exc: BaseException, error: UserError
    ) -> bool:
        delay = self._auto_delay(pending, exc)
        if delay is None or (self._auto is not None and self._auto[0] != pending.otid):
            return False
        pending.auto_attempts += 1
        text = re.sub(r"\s*Try again in \d+ s\.", "", error.text)  # the countdown says it
        self._auto = (pending.otid, max(1, int(delay + 0.999)), text)
        self._show_countdown()
        self._tick.start()
        return True

    def _show_countdown(self) -> None:
        if self._auto is None:
            return
        otid, left, text = self._auto
        pending = self._pending.get(otid)
        attempt = pending.auto_attempts if pending else 1
        self.retryCountdown.emit(
            f"{text} Retrying in {left} s (attempt {attempt} of {AUTO_RETRY_ATTEMPTS})."
        )

    def _on_tick(self) -> None:
        if self._auto is None:
            self._tick.stop()
            return
        otid, left, text = self._auto
        if left > 1 or self.busy:
            self._auto = (otid, max(1, left - 1), text)
            self._show_countdown()
            return
        self._tick.stop()
        self._auto = None
        self.retryCountdown.emit("")
        self.retry(otid, automatic=True)

    @property
    def auto_retry_pending(self) -> bool:
        return self._auto is not None

    def cancel_auto_retry(self) -> None:
        """Stop the countdown; the message stays failed with Retry / Edit / Discard."""
        if self._auto is None:
            return
        otid = self._auto[0]
        self._tick.stop()
        self._auto = None
        self.retryCountdown.emit("")
        pending = self._pending.get(otid)
        if pending is not None:
            self._model.set_user_state(otid, RowState.FAILED, pending.error_text)

    def retry_later(self, seconds: int | None = None) -> None:
        """“Wait and retry” (a busy agent): retry the newest failed message after a countdown;
        the retry looks at the history first."""
        failed = [p for p in self._pending.values() if p.error is not None]
        if not failed or self._auto is not None:
            return
        pending = failed[-1]
        self._auto = (pending.otid, seconds or BUSY_WAIT_SECONDS, "Waiting for the agent.")
        self._show_countdown()
        self._tick.start()

    def _on_stream_finished(self) -> None:
        self._stream = None
        self._stream_task = None
        self.busyChanged.emit(False)
        if self._check_when_finished is not None:
            pending, self._check_when_finished = self._check_when_finished, None
            self._check_then_send(pending)
        if self._reload_when_idle:
            # After the stream is over: a page that came back while it still counted as busy
            # would not look for a pending approval.
            self._reload_when_idle = False
            self.reload()

    def stop(self) -> None:
        """Esc / Stop: close the stream at once, and ask the server to cancel the run."""
        stream = self._stream
        if stream is None:
            return
        stream.close()
        self._workers.submit(stream.cancel, owner=self)

    # -- failed messages ------------------------------------------------------------------

    def retry(self, otid: str, *, automatic: bool = False) -> None:
        pending = self._pending.get(otid)
        if pending is None or self.agent is None or self.busy:
            return
        if not automatic:
            if self._auto is not None and self._auto[0] == otid:
                self.cancel_auto_retry()
            pending.auto_attempts = 0  # the user's Retry may go through the automatic ones again
        self._model.set_user_state(otid, RowState.SENDING)
        if pending.error is not None and not getattr(
            pending.error, "may_have_reached_server", True
        ):
            self._start_stream(pending)
            return
        # The first attempt may have reached the server. If its run is still known there,
        # reattach and show the reply; else look in the history before sending again.
        stream = self._client.resume_message(
            self.agent.id, otid, pending.conversation_id or self.conversation_id
        )
        self._run_stream(stream, otid, resuming=True)

    def _check_then_send(self, pending: PendingSend) -> None:
        self._look_for(pending, self._retry_checked, self._check_failed)

    def _check_failed(self, pending: PendingSend, exc: BaseException) -> None:
        self._model.set_user_state(pending.otid, RowState.FAILED, describe(exc).text)

    def _retry_checked(self, pending: PendingSend, stored: bool) -> None:
        if pending.otid not in self._pending:
            return
        if stored:
            self._confirmed(pending.otid)
            self._model.add_notice(
                "The server already had this message, so it was not sent "
                "again. Reload to see the agent's reply.",
                Tone.INFO,
            )
            return
        if self.busy:  # another send started meanwhile: leave this one for the user
            self._model.set_user_state(pending.otid, RowState.FAILED, pending.error_text)
            return
        self._start_stream(pending)

    def edit(self, otid: str) -> None:
        if self._auto is not None and self._auto[0] == otid:
            self.cancel_auto_retry()
        pending = self._pending.pop(otid, None)
        if pending is not None:
            self.pendingChanged.emit()
            self._model.remove_local_user(otid)
            if pending.attachments:
                self.attachmentsRestored.emit(list(pending.attachments))
            self.editRequested.emit(pending.text)

    def discard(self, otid: str) -> None:
        if self._auto is not None and self._auto[0] == otid:
            self.cancel_auto_retry()
        if self._pending.pop(otid, None) is not None:
            self.pendingChanged.emit()
            self._model.remove_local_user(otid)

    # -- tool approvals ---------------------------------------------------------------------

    def _set_approval(self, approval: Approval | None) -> None:
        if approval != self.pending_approval:
            self.pending_approval = approval
            self.approvalPending.emit(approval)

    def answer_approvals(self, decisions: list[ApprovalDecision]) -> bool:
        """Answer every pending tool call in one message and stream what the agent does next."""
        if self.agent is None or self.busy or not decisions:
            return False
        if self._history_task is not None:
            # A reload still on its way would replace the transcript under the answer.
            self._drop_history_task()
        approval = self.pending_approval
        self._set_approval(None)
        self._model.add_notice(answer_notice(approval, decisions), Tone.INFO)
        stream = self._client.stream_approval(self.agent.id, decisions, self.conversation_id)
        self._run_stream(stream, "")
        return True

    def shutdown(self) -> None:
        self._tick.stop()
        self._auto = None
        self.stop()


__all__ = ["Action", "ChatSession", "PendingSend", "UserError"]
