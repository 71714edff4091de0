"""Small typed views of the API's JSON: agents, models, messages and stream events.

Parsing is tolerant on purpose: unknown fields are kept in `raw`, unknown message types become
`Message(kind="unknown")` rows instead of errors, so a newer server never breaks the transcript.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Any, Literal

MessageKind = Literal[
    "user",
    "assistant",
    "reasoning",
    "tool_call",
    "tool_return",
    "system",
    "approval",
    "summary",
    "event",
    "unknown",
]

_KIND_BY_TYPE: dict[str, MessageKind] = {
    "user_message": "user",
    "assistant_message": "assistant",
    "reasoning_message": "reasoning",
    "hidden_reasoning_message": "reasoning",
    "tool_call_message": "tool_call",
    "tool_return_message": "tool_return",
    "system_message": "system",
    "approval_request_message": "approval",
    "approval_response_message": "approval",
    "summary_message": "summary",
    "event_message": "event",
}


@dataclass(frozen=True)
class ToolCall:
    """One tool call of a `tool_call_message` / `approval_request_message` (there may be several:
    parallel tool calls)."""

    tool_call_id: str
    name: str
    arguments: str = ""


@dataclass(frozen=True)
class ApprovalDecision:
    """The user's answer to one pending tool call; all of them go out in one approval message."""

    tool_call_id: str
    approve: bool
    reason: str | None = None


def raw_tool_calls(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The tool-call objects a message carries: `tool_calls` (a list, or one object while
    streaming), else the deprecated single `tool_call`."""
    calls = data.get("tool_calls")
    if isinstance(calls, dict):
        calls = [calls]
    if not isinstance(calls, list) or not calls:
        single = data.get("tool_call")
        calls = [single] if isinstance(single, dict) else []
    return [c for c in calls if isinstance(c, dict)]


def tool_calls_of(data: dict[str, Any]) -> list[ToolCall]:
    """Every tool call a message carries (several: parallel tool calls)."""
    out: list[ToolCall] = []
    for call in raw_tool_calls(data):
        out.append(
            ToolCall(
                tool_call_id=str(call.get("tool_call_id") or call.get("id") or ""),
                name=str(call.get("name") or ""),
                arguments=str(call.get("arguments") or ""),
            )
        )
    return out


@dataclass(frozen=True)
class Agent:
    id: str
    name: str
    model: str | None
    raw: dict[str, Any] = field(repr=False, compare=False, default_factory=dict)

    @property
    def tool_names(self) -> frozenset[str] | None:
        """The names of the agent's own tools, or None when the server did not list them (an
        empty list too: relationships are left out unless asked for, and a server may ignore
        the asking — taking that for "no tools" would make every call another app's)."""
        tools = self.raw.get("tools")
        if not isinstance(tools, list) or not tools:
            return None
        return frozenset(str(t.get("name")) for t in tools if isinstance(t, dict) and t.get("name"))

    @property
    def tags(self) -> frozenset[str]:
        tags = self.raw.get("tags")
        if not isinstance(tags, list):
            return frozenset()
        return frozenset(t for t in tags if isinstance(t, str))

    @property
    def context_window(self) -> int | None:
        llm = self.raw.get("llm_config")
        value = llm.get("context_window") if isinstance(llm, dict) else None
        return value if isinstance(value, int) else None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Agent:
        llm = data.get("llm_config") or {}
        model = data.get("model") or llm.get("handle")
        if not model and llm.get("model"):
            endpoint = llm.get("model_endpoint_type")
            model = f"{endpoint}/{llm['model']}" if endpoint else llm["model"]
        return cls(
            id=str(data["id"]),
            name=str(data.get("name") or data["id"]),
            model=model or None,
            raw=data,
        )


@dataclass(frozen=True)
class ModelInfo:
    handle: str
    name: str
    display_name: str
    provider: str
    context_window: int | None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ModelInfo:
        handle = data.get("handle") or data.get("model") or data.get("name") or "?"
        return cls(
            handle=str(handle),
            name=str(data.get("name") or data.get("model") or handle),
            display_name=str(data.get("display_name") or data.get("name") or handle),
            provider=str(data.get("provider_name") or data.get("provider_type") or ""),
            context_window=data.get("max_context_window") or data.get("context_window"),
        )


class ImageRef:
    """An image part of a message: inline base64 data or a URL.

    Inline data that is canonical base64 is kept as its decoded bytes (`blob`): 3/4 of the memory
    of the text, which matters for a long history full of screenshots. `data` still gives the
    base64 text (encoded again on access: do not call it on the GUI thread; use `has_data` to
    test and `inline_bytes()` on a worker to decode). Immutable, compared by value.
    """

    __slots__ = ("_blob", "_text", "file_id", "media_type", "source_type", "url")

    source_type: str  # "base64", "letta" or "url"
    media_type: str | None
    url: str | None
    file_id: str | None

    def __init__(
        self,
        source_type: str,
        media_type: str | None = None,
        data: str | None = None,
        url: str | None = None,
        file_id: str | None = None,
    ) -> None:
        blob = _canonical_base64_bytes(data) if data else None
        for name, value in (
            ("source_type", source_type),
            ("media_type", media_type),
            ("url", url),
            ("file_id", file_id),
            ("_text", None if blob is not None else data),
            ("_blob", blob),
        ):
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"ImageRef is immutable (cannot set {name!r})")

    @property
    def data(self) -> str | None:
        """The inline image as base64 text (as the server sent it), or None."""
        if self._blob is not None:
            return base64.b64encode(self._blob).decode("ascii")
        return self._text

    @property
    def has_data(self) -> bool:
        """True when the part carries inline data (cheap: nothing is encoded)."""
        return bool(self._blob) or bool(self._text)

    def inline_bytes(self) -> bytes:
        """The inline image's bytes; raises ValueError when the base64 is damaged."""
        if self._blob is not None:
            return self._blob
        text = (self._text or "").strip()
        if text.startswith("data:"):  # tolerate a data: URL where bare base64 was expected
            text = text.partition(",")[2]
        try:
            return base64.b64decode("".join(text.split()), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError(f"not base64: {exc}") from exc

    def _key(self) -> tuple[Any, ...]:
        return (self.source_type, self.media_type, self._blob, self._text, self.url, self.file_id)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ImageRef):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        size = len(self._blob) if self._blob is not None else len(self._text or "")
        return (
            f"ImageRef(source_type={self.source_type!r}, media_type={self.media_type!r}, "
            f"data=<{size} bytes>, url={self.url!r}, file_id={self.file_id!r})"
        )


def _canonical_base64_bytes(text: str) -> bytes | None:
    """The bytes of `text` if it is base64 that encodes back to exactly `text`, else None."""
    if not isinstance(text, str) or not text.isascii():
        return None
    try:
        blob = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    return blob if base64.b64encode(blob) == text.encode("ascii") else None


@dataclass
class Message:
    """One row of the transcript, from history or assembled from a stream."""

    id: str
    kind: MessageKind
    message_type: str
    text: str = ""
    images: list[ImageRef] = field(default_factory=list)
    otid: str | None = None
    date: str | None = None
    tool_name: str | None = None
    tool_arguments: str | None = None
    tool_call_id: str | None = None
    status: str | None = None  # tool return status
    tool_calls: list[ToolCall] = field(default_factory=list)
    """Every call of a tool-call or approval-request row (`tool_name` etc. are the first's)."""
    raw: dict[str, Any] = field(repr=False, default_factory=dict)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Message:
        mtype = str(data.get("message_type") or "")
        kind = _KIND_BY_TYPE.get(mtype, "unknown")
        msg = cls(
            id=str(data.get("id") or data.get("otid") or ""),
            kind=kind,
            message_type=mtype,
            otid=data.get("otid"),
            date=data.get("date"),
            raw=data,
        )
        if kind in ("user", "assistant", "system"):
            msg.text, msg.images = content_text_and_images(data.get("content"))
        elif kind == "reasoning":
            msg.text = str(data.get("reasoning") or data.get("hidden_reasoning") or "")
        elif kind in ("tool_call", "approval"):
            msg.tool_calls = tool_calls_of(data)
            if msg.tool_calls:
                first = msg.tool_calls[0]
                msg.tool_name = first.name or None
                msg.tool_arguments = first.arguments
                msg.tool_call_id = first.tool_call_id or None
            msg.text = "\n\n".join(c.arguments for c in msg.tool_calls)
            if mtype == "approval_response_message":
                msg.text = approval_answer_text(data)
                answers = data.get("approvals")
                if isinstance(answers, list) and answers and isinstance(answers[0], dict):
                    msg.tool_call_id = answers[0].get("tool_call_id")
        elif kind == "tool_return":
            msg.text, msg.images, msg.status = _tool_returns(data)
            msg.tool_call_id = data.get("tool_call_id")
            returns = data.get("tool_returns")
            if not msg.tool_call_id and isinstance(returns, list) and returns:
                first = returns[0]
                msg.tool_call_id = first.get("tool_call_id") if isinstance(first, dict) else None
        elif kind == "summary":
            msg.text = str(data.get("summary") or "")
        elif kind == "event":
            event = str(data.get("event_type") or "event")
            msg.text = "The conversation was compacted." if event == "compaction" else event
        else:
            msg.text = f"({mtype or 'unknown'} message)"
        if any(i.has_data for i in msg.images):
            # The images hold their (decoded) data; `raw` must not keep the base64 text alive.
            msg.raw = {k: v for k, v in data.items() if k not in ("content", "tool_returns")}
        return msg


def _tool_returns(data: dict[str, Any]) -> tuple[str, list[ImageRef], str | None]:
    """Text, images and status of a tool_return_message: every `tool_returns[]` entry (each a
    string or a list of text/image parts), else the deprecated single `tool_return`."""
    returns = data.get("tool_returns")
    if not isinstance(returns, list) or not returns:
        return str(data.get("tool_return") or ""), [], data.get("status")
    texts: list[str] = []
    images: list[ImageRef] = []
    statuses: list[str] = []
    for entry in returns:
        if not isinstance(entry, dict):
            continue
        text, pics = content_text_and_images(entry.get("tool_return", entry.get("content")))
        texts.append(text)
        images.extend(pics)
        if isinstance(entry.get("status"), str):
            statuses.append(entry["status"])
    status = "error" if "error" in statuses else (statuses[0] if statuses else data.get("status"))
    return "\n\n".join(t for t in texts if t), images, status


def approval_answer_text(data: dict[str, Any]) -> str:
    """“Approved” / “Denied: reason” for an approval_response_message."""
    answers = data.get("approvals")
    first = answers[0] if isinstance(answers, list) and answers else data
    if not isinstance(first, dict):
        return "Answered"
    approve = first.get("approve")
    reason = first.get("reason")
    word = "Approved" if approve else "Denied" if approve is False else "Answered"
    return f"{word}: {reason}" if reason else word


@dataclass(frozen=True)
class Conversation:
    """A thread inside one agent. The agent's default conversation has the id "default"."""

    id: str
    agent_id: str | None = None
    summary: str | None = None
    created_at: str | None = None
    last_message_at: str | None = None
    model: str | None = None
    """The conversation's own model, overriding the agent's (None: the agent's applies)."""
    raw: dict[str, Any] = field(repr=False, compare=False, default_factory=dict)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Conversation:
        model = data.get("model")
        return cls(
            id=str(data["id"]),
            agent_id=data.get("agent_id"),
            # Cloud fills `description` where 0.16.8 has only `summary`.
            summary=data.get("summary") or data.get("description") or None,
            created_at=data.get("created_at"),
            last_message_at=data.get("last_message_at"),
            model=model if isinstance(model, str) and model else None,
            raw=data,
        )


def content_text_and_images(content: Any) -> tuple[str, list[ImageRef]]:
    """Text and image parts of a `content` value, which is a string or a list of parts."""
    if content is None:
        return "", []
    if isinstance(content, str):
        return content, []
    texts: list[str] = []
    images: list[ImageRef] = []
    if isinstance(content, list):
        for part in content:
            if not isinstance(part, dict):
                continue
            ptype = part.get("type")
            if ptype == "text":
                texts.append(str(part.get("text") or ""))
            elif ptype == "image":
                src = part.get("source") or {}
                if isinstance(src, dict):
                    images.append(
                        ImageRef(
                            source_type=str(src.get("type") or "unknown"),
                            media_type=src.get("media_type"),
                            data=src.get("data"),
                            url=src.get("url"),
                            file_id=src.get("file_id"),
                        )
                    )
    return "\n".join(t for t in texts if t), images


# -- stream events ---------------------------------------------------------------------------


@dataclass(frozen=True)
class StreamChunk:
    """A piece of a message: text to append to the message keyed by `key`."""

    key: str
    kind: MessageKind
    message_type: str
    text: str
    id: str | None = None
    otid: str | None = None
    tool_name: str | None = None
    tool_call_id: str | None = None


@dataclass(frozen=True)
class StreamStop:
    reason: str


@dataclass(frozen=True)
class StreamReconnecting:
    """The connection dropped mid-reply; the client is reattaching to the run (`attempt` 1..)."""

    attempt: int


@dataclass(frozen=True)
class StreamUsage:
    data: dict[str, Any]


StreamEvent = StreamChunk | StreamStop | StreamUsage | StreamReconnecting
