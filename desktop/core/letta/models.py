"""Small typed views of the API's JSON: agents, models, messages and stream events.

Parsing is tolerant on purpose: unknown fields are kept in `raw`, unknown message types become
`Message(kind="unknown")` rows instead of errors, so a newer server never breaks the transcript.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

MessageKind = Literal[
    "user", "assistant", "reasoning", "tool_call", "tool_return", "system", "approval", "unknown"
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
}


@dataclass(frozen=True)
class Agent:
    id: str
    name: str
    model: str | None
    raw: dict[str, Any] = field(repr=False, compare=False, default_factory=dict)

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


@dataclass(frozen=True)
class ImageRef:
    """An image part of a message: inline base64 data or a URL."""

    source_type: str  # "base64", "letta" or "url"
    media_type: str | None = None
    data: str | None = None  # base64 text, never decoded on the GUI thread
    url: str | None = None
    file_id: str | None = None


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
            call = data.get("tool_call") or {}
            calls = data.get("tool_calls")
            if not call and isinstance(calls, list) and calls:
                call = calls[0]
            if isinstance(call, dict):
                msg.tool_name = call.get("name")
                msg.tool_arguments = call.get("arguments")
                msg.tool_call_id = call.get("tool_call_id")
            msg.text = msg.tool_arguments or ""
            if mtype == "approval_response_message":
                msg.text = approval_answer_text(data)
                answers = data.get("approvals")
                if isinstance(answers, list) and answers and isinstance(answers[0], dict):
                    msg.tool_call_id = answers[0].get("tool_call_id")
        elif kind == "tool_return":
            msg.text = str(data.get("tool_return") or "")
            msg.status = data.get("status")
            msg.tool_call_id = data.get("tool_call_id")
        else:
            msg.text = f"({mtype or 'unknown'} message)"
        return msg


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
    raw: dict[str, Any] = field(repr=False, compare=False, default_factory=dict)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Conversation:
        return cls(
            id=str(data["id"]),
            agent_id=data.get("agent_id"),
            summary=data.get("summary") or None,
            created_at=data.get("created_at"),
            last_message_at=data.get("last_message_at"),
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
class StreamUsage:
    data: dict[str, Any]


StreamEvent = StreamChunk | StreamStop | StreamUsage
