"""The transcript's list model: one row per displayed entry, oldest at the top.

Rows come from history (`Message`), from the user's just-sent message (keyed by otid) and from
the reply stream (keyed by `StreamChunk.key`). Streamed text is buffered and flushed to the view
at most every FLUSH_MS with one `dataChanged` per changed row, so a token costs a list append.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
)
from PySide6.QtGui import QImage

from desktop.ui.notice import Tone
from desktop.ui.transcript.history_thumbnails import Thumb, ThumbnailCache
from desktop.ui.transcript.rows import RowKind, RowState
from desktop.ui.transcript.spoken import spoken_text
from desktop.ui.visible_text import tool_label

if TYPE_CHECKING:  # the message types load with the first history page
    from desktop.core.letta.models import ImageRef, Message, StreamChunk, ToolCall


FLUSH_MS = 40

_BASE = Qt.ItemDataRole.UserRole + 1
(
    KindRole,
    TextRole,
    StateRole,
    ImagesRole,
    CollapsedRole,
    MessageIdRole,
    OtidRole,
    DateRole,
    ToolNameRole,
    ErrorRole,
    NoteRole,
    LevelRole,
    RevisionRole,
    ThumbnailsRole,
    MessageTypeRole,
    EntryRole,
) = range(_BASE, _BASE + 16)

#: Kinds shown as a one-line summary until clicked.
COLLAPSIBLE = frozenset(
    {
        RowKind.REASONING,
        RowKind.TOOL_CALL,
        RowKind.TOOL_RETURN,
        RowKind.SYSTEM,
        RowKind.SUMMARY,
        RowKind.UNKNOWN,
    }
)
#: Kinds drawn as a small centred notice (the app's own notices, the server's events).
NOTICE_KINDS = frozenset({RowKind.NOTICE, RowKind.EVENT})
#: Kinds whose text is Markdown.
MARKDOWN_KINDS = frozenset({RowKind.ASSISTANT, RowKind.REASONING, RowKind.SUMMARY})
#: Kinds that hold tool calls (and name the tools of the results that answer them).
CALL_KINDS = frozenset({RowKind.TOOL_CALL, RowKind.APPROVAL})
_STREAM_KINDS = frozenset(
    {RowKind.ASSISTANT, RowKind.REASONING, RowKind.TOOL_CALL, RowKind.TOOL_RETURN, RowKind.APPROVAL}
)
#: Letta stores heartbeats and system alerts as "user" messages holding JSON.
_SYSTEM_JSON_TYPES = frozenset({"heartbeat", "system_alert", "login"})
_WHO = {
    RowKind.USER: "You",
    RowKind.ASSISTANT: "Agent",
    RowKind.REASONING: "Agent thinking",
    RowKind.TOOL_CALL: "Tool call",
    RowKind.TOOL_RETURN: "Tool result",
    RowKind.APPROVAL: "Approval request",
    RowKind.SYSTEM: "System",
    RowKind.SUMMARY: "Summary of earlier conversation",
    RowKind.EVENT: "Event",
    RowKind.NOTICE: "Notice",
}

Index = QModelIndex | QPersistentModelIndex
_uids = itertools.count(1)


@dataclass(eq=False)
class Entry:
    """One displayed row. `revision` changes whenever anything visible changes."""

    kind: RowKind
    text: str = ""
    message_id: str | None = None
    message_type: str = ""
    otid: str | None = None
    date: str | None = None
    tool_name: str | None = None
    tool_call_id: str | None = None
    status: str | None = None
    images: list[ImageRef | QImage] = field(default_factory=list)
    image_keys: list[str] = field(default_factory=list)
    tool_calls: list[ToolCall] = field(default_factory=list)  # set when a row holds several
    state: RowState = RowState.DONE
    error: str | None = None
    note: str | None = None
    level: Tone | None = None  # of a notice or an event
    collapsed: bool = False
    revision: int = 0
    pending: list[str] = field(default_factory=list)  # streamed pieces not yet flushed
    uid: int = field(default_factory=lambda: next(_uids))

    @property
    def dedup_keys(self) -> tuple[tuple[str, ...], ...]:
        """What makes this row the same as another (none: a row of our own).

        Letta gives the reasoning, tool call and reply of one step the same id, so the message
        type is part of the identity; a tool-call row is known by each of its calls, so the
        rows streamed per call and the one history row holding them all are the same."""
        if not self.message_id:
            return ()
        ids = [c.tool_call_id for c in self.tool_calls] or [self.tool_call_id]
        if self.kind is RowKind.TOOL_CALL or self.message_type == "approval_request_message":
            return tuple((self.message_type, self.message_id, i or "") for i in ids)
        return ((self.message_type, self.message_id),)

    @property
    def tool_names(self) -> str | None:
        """The tools of a row with several calls, in words ("a, b and c")."""
        if len(self.tool_calls) < 2:
            return None
        names = [tool_label(c.name) for c in self.tool_calls]
        return ", ".join(names[:-1]) + " and " + names[-1]


def who_label(kind: RowKind) -> str:
    """Who wrote a row of this kind, in words ("Agent", "You", …)."""
    return _WHO.get(kind, "Message")


def calls_text(calls: list[ToolCall], arguments: list[str] | None = None) -> str:
    """The text of a row with several tool calls: each call's tool, then its arguments."""
    count = len(calls)
    args = arguments if arguments is not None else [c.arguments for c in calls]
    return "\n\n".join(
        f"Call {n} of {count}: {tool_label(c.name)}\n{a}"
        for n, (c, a) in enumerate(zip(calls, args, strict=True), 1)
    )


def entry_from_message(msg: Message) -> Entry:
    kind, text = RowKind.of(msg.kind), msg.text
    if kind is RowKind.USER:
        kind, text = _unwrap_system_json(text)
    calls = msg.tool_calls if kind in CALL_KINDS else []
    if len(calls) > 1:
        text = calls_text(calls)
    entry = Entry(
        kind=kind,
        text=text,
        message_id=msg.id or None,
        message_type=msg.message_type,
        otid=msg.otid,
        date=msg.date,
        tool_name=msg.tool_name,
        tool_call_id=msg.tool_call_id,
        status=msg.status,
        images=list(msg.images),
        tool_calls=list(calls) if len(calls) > 1 else [],
        collapsed=kind in COLLAPSIBLE,
        level=Tone.INFO if kind is RowKind.EVENT else None,
    )
    entry.image_keys = [f"{msg.id or entry.uid}:{i}" for i in range(len(msg.images))]
    return entry


def _unwrap_system_json(text: str) -> tuple[RowKind, str]:
    if not text.startswith("{") or len(text) > 20000:
        return RowKind.USER, text
    try:
        data = json.loads(text)
    except ValueError:
        return RowKind.USER, text
    if isinstance(data, dict) and data.get("type") in _SYSTEM_JSON_TYPES:
        return RowKind.SYSTEM, str(data.get("message") or data.get("reason") or data["type"])
    return RowKind.USER, text


def format_date(date: str | None) -> str | None:
    if not date:
        return None
    try:
        when = datetime.fromisoformat(date.replace("Z", "+00:00"))
    except ValueError:
        return date
    if when.tzinfo is not None:
        when = when.astimezone()
    return when.strftime("%a %d %b %Y, %H:%M")


class TranscriptModel(QAbstractListModel):
    """Display entries for one conversation. See the package docstring for the API."""

    KindRole = KindRole
    TextRole = TextRole
    StateRole = StateRole
    ImagesRole = ImagesRole
    CollapsedRole = CollapsedRole
    MessageIdRole = MessageIdRole
    OtidRole = OtidRole
    DateRole = DateRole
    ToolNameRole = ToolNameRole
    ErrorRole = ErrorRole
    NoteRole = NoteRole
    LevelRole = LevelRole
    RevisionRole = RevisionRole
    ThumbnailsRole = ThumbnailsRole
    MessageTypeRole = MessageTypeRole
    EntryRole = EntryRole

    def __init__(self, thumbnails: ThumbnailCache | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self._entries: list[Entry] = []
        self._keys: set[tuple[str, str]] = set()
        self._tool_names: dict[str, str] = {}
        self._stream: dict[str, Entry] = {}
        self._dirty: dict[int, Entry] = {}
        self._flush_timer = QTimer(self)
        self._flush_timer.setSingleShot(True)
        self._flush_timer.setInterval(FLUSH_MS)
        self._flush_timer.timeout.connect(self.flush)
        self._thumbnails = thumbnails
        self.reasoning_expanded = False
        """New reasoning rows start expanded (Settings ▸ Show reasoning expanded)."""
        if thumbnails is not None:
            thumbnails.thumbnailReady.connect(self._thumbnail_ready)

    # -- Qt model API ----------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt signature)
        return 0 if parent.isValid() else len(self._entries)

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._entries):
            return None
        e = self._entries[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, TextRole):
            return e.text
        if role == EntryRole:
            return e
        if role == KindRole:
            return e.kind
        if role == StateRole:
            return e.state
        if role == CollapsedRole:
            return e.collapsed
        if role == RevisionRole:
            return e.revision
        if role == ImagesRole:
            return list(e.images)
        if role == ThumbnailsRole:
            return self._thumbs(e)
        if role == MessageIdRole:
            return e.message_id
        if role == OtidRole:
            return e.otid
        if role == DateRole:
            return e.date
        if role == ToolNameRole:
            return e.tool_names or e.tool_name or self._tool_names.get(e.tool_call_id or "")
        if role == ErrorRole:
            return e.error
        if role == NoteRole:
            return e.note
        if role == LevelRole:
            return e.level
        if role == MessageTypeRole:
            return e.message_type
        if role == Qt.ItemDataRole.ToolTipRole:
            return format_date(e.date)
        if role == Qt.ItemDataRole.AccessibleTextRole:
            pictures = f"{len(e.images)} image(s)" if e.images else ""
            words = spoken_text(e.text, markdown=e.kind in MARKDOWN_KINDS)
            text = f"{words} ({pictures})" if words and pictures else words or pictures
            return f"{who_label(e.kind)}: {text}"
        return None

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != CollapsedRole or not index.isValid():
            return False
        e = self._entries[index.row()]
        if e.collapsed != bool(value):
            e.collapsed = bool(value)
            self._changed(e, [CollapsedRole])
        return True

    def roleNames(self) -> dict[int, bytes]:
        names = super().roleNames()
        names.update(
            {
                KindRole: b"kind",
                TextRole: b"text",
                StateRole: b"state",
                ImagesRole: b"images",
                CollapsedRole: b"collapsed",
                MessageIdRole: b"messageId",
                OtidRole: b"otid",
            }
        )
        return names

    # -- history -----------------------------------------------------------------------------

    def set_history(self, messages: list[Message]) -> None:
        """Replace everything with `messages` (oldest first).

        Rows the server may not have yet — the user's unconfirmed messages and a reply still
        streaming — survive at the bottom: a history page can arrive after the user already
        sent (they type fast), and losing their message from view would look like data loss.
        """
        streaming = dict(self._stream)
        live = [
            e
            for e in self._entries
            if (e.kind is RowKind.USER and e.state in (RowState.SENDING, RowState.FAILED))
            or any(e is s for s in streaming.values())
        ]
        self.beginResetModel()
        self._reset_state()
        self._entries = self._new_entries(messages)
        stored = {e.otid for e in self._entries if e.kind is RowKind.USER and e.otid}
        for entry in live:
            sending = entry.kind is RowKind.USER and entry.state is RowState.SENDING
            if sending and entry.otid in stored:
                continue  # the page already holds it
            if any(key in self._keys for key in entry.dedup_keys):
                continue
            self._entries.append(entry)
        self._stream = {k: e for k, e in streaming.items() if any(e is x for x in self._entries)}
        self.endResetModel()

    def prepend_older(self, messages: list[Message]) -> None:
        """Insert an older page (oldest first) above the current rows, skipping known ids."""
        entries = self._new_entries(messages)
        if not entries:
            return
        self.beginInsertRows(QModelIndex(), 0, len(entries) - 1)
        self._entries[0:0] = entries
        self.endInsertRows()

    def clear(self) -> None:
        self.beginResetModel()
        self._reset_state()
        self.endResetModel()

    def message_ids(self) -> list[str]:
        """Server ids of the rows, top to bottom, each once."""
        return list(dict.fromkeys(e.message_id for e in self._entries if e.message_id))

    def _reset_state(self) -> None:
        self._flush_timer.stop()
        self._entries = []
        self._keys.clear()
        self._tool_names.clear()
        self._stream.clear()
        self._dirty.clear()

    def _new_entries(self, messages: list[Message]) -> list[Entry]:
        out = []
        for msg in messages:
            entry = entry_from_message(msg)
            if entry.kind is RowKind.REASONING and self.reasoning_expanded:
                entry.collapsed = False
            keys = entry.dedup_keys
            if keys and all(key in self._keys for key in keys):
                continue
            self._keys.update(keys)
            if entry.kind in CALL_KINDS:
                self._remember_tool_names(entry)
            out.append(entry)
        return out

    # -- the user's own messages ----------------------------------------------------------------

    def add_local_user(self, otid: str, text: str, thumbnails: list[QImage]) -> None:
        entry = Entry(
            kind=RowKind.USER,
            text=text,
            otid=otid,
            state=RowState.SENDING,
            images=list(thumbnails),
        )
        entry.image_keys = [f"local:{otid}:{i}" for i in range(len(thumbnails))]
        entry.date = datetime.now().astimezone().isoformat()
        self._append(entry)

    def set_user_state(self, otid: str, state: RowState, error: str | None = None) -> None:
        entry = self._find_user(otid)
        if entry is None:
            return
        entry.state, entry.error = state, error if state is RowState.FAILED else None
        self._changed(entry, [StateRole, ErrorRole])

    def remove_local_user(self, otid: str) -> None:
        """Drop a local message (after the user chose Discard)."""
        entry = self._find_user(otid)
        if entry is not None:
            row = self._entries.index(entry)
            self.beginRemoveRows(QModelIndex(), row, row)
            del self._entries[row]
            self.endRemoveRows()

    def _find_user(self, otid: str) -> Entry | None:
        for entry in reversed(self._entries):
            if entry.kind is RowKind.USER and entry.otid == otid:
                return entry
        return None

    # -- the reply stream --------------------------------------------------------------------------

    def apply_chunk(self, chunk: StreamChunk) -> None:
        """Append a streamed piece to its row; the view hears about it at the next flush."""
        if chunk.kind == "user":  # the server echoing our message: it arrived
            local = self._find_user(chunk.otid or "")
            if local is not None and local.state is RowState.SENDING:
                self.set_user_state(local.otid or "", RowState.SENT)
            return
        entry = self._stream.get(chunk.key)
        if entry is None:
            kind = RowKind.of(chunk.kind)
            kind = kind if kind in _STREAM_KINDS else RowKind.UNKNOWN
            entry = Entry(
                kind=kind,
                message_id=chunk.id,
                message_type=chunk.message_type,
                otid=chunk.otid,
                tool_name=chunk.tool_name,
                tool_call_id=chunk.tool_call_id,
                state=RowState.STREAMING,
                collapsed=kind in COLLAPSIBLE
                and not (kind is RowKind.REASONING and self.reasoning_expanded),
                date=datetime.now().astimezone().isoformat(),
            )
            self._stream[chunk.key] = entry
            self._keys.update(entry.dedup_keys)
            self._append(entry)
        elif chunk.tool_name and not entry.tool_name:
            entry.tool_name = chunk.tool_name
            self._changed(entry, [ToolNameRole])
        if entry.kind in CALL_KINDS:
            self._remember_tool_names(entry)
        if chunk.text:
            entry.pending.append(chunk.text)
            self._dirty[entry.uid] = entry
            if not self._flush_timer.isActive():
                self._flush_timer.start()

    def flush(self) -> None:
        """Move buffered pieces into the rows and tell the view, one signal per changed row."""
        self._flush_timer.stop()
        dirty, self._dirty = self._dirty, {}
        for entry in dirty.values():
            if entry.pending:
                entry.text += "".join(entry.pending)  # once per flush, not once per token
                entry.pending.clear()
                self._changed(entry, [TextRole])

    def finish_stream(self, incomplete: bool = False, note: str | None = None) -> None:
        self.flush()
        if incomplete and not note:
            note = "Reply cut off — reload history"
        for entry in self._stream.values():
            entry.state = RowState.INCOMPLETE if incomplete else RowState.DONE
            entry.note = note if incomplete else None
            self._changed(entry, [StateRole, NoteRole])
        if incomplete and not self._stream:
            self.add_notice(note, Tone.WARNING)
        self._stream.clear()

    # -- notices -----------------------------------------------------------------------------------

    def add_notice(self, text: str, level: Tone = Tone.INFO) -> None:
        self._append(Entry(kind=RowKind.NOTICE, text=text, level=level))

    # -- helpers -----------------------------------------------------------------------------------

    def _remember_tool_names(self, entry: Entry) -> None:
        """Tool results name their tool through the call they answer."""
        for call in entry.tool_calls:
            if call.tool_call_id and call.name:
                self._tool_names[call.tool_call_id] = call.name
        if entry.tool_call_id and entry.tool_name:
            self._tool_names.setdefault(entry.tool_call_id, entry.tool_name)

    def _append(self, entry: Entry) -> None:
        row = len(self._entries)
        self.beginInsertRows(QModelIndex(), row, row)
        self._entries.append(entry)
        self.endInsertRows()

    def _changed(self, entry: Entry, roles: list[int]) -> None:
        entry.revision += 1
        try:
            row = self._row_of(entry)
        except ValueError:
            return  # removed meanwhile
        idx = self.index(row, 0)
        self.dataChanged.emit(idx, idx, [*roles, RevisionRole])

    def _row_of(self, entry: Entry) -> int:
        # Changes nearly always concern the newest rows: search from the bottom.
        for row in range(len(self._entries) - 1, -1, -1):
            if self._entries[row] is entry:
                return row
        raise ValueError("entry not in model")

    def _thumbs(self, e: Entry) -> list[Thumb | None]:
        out: list[Thumb | None] = []
        for image, key in zip(e.images, e.image_keys, strict=True):
            if isinstance(image, QImage):
                out.append(Thumb(image))
            elif self._thumbnails is not None:
                out.append(self._thumbnails.get(key, image))
            else:
                out.append(Thumb(None, "Image"))
        return out

    def _thumbnail_ready(self, key: str) -> None:
        for row, e in enumerate(self._entries):
            if key in e.image_keys:
                idx = self.index(row, 0)
                self.dataChanged.emit(idx, idx, [ThumbnailsRole])
