"""Turns the SSE events of a streamed send into typed stream events.

Kept apart from HTTP so it can be fed any (event, data) sequence in tests. With
`stream_tokens` one message arrives as many chunks sharing an id/otid, each carrying the next
piece of text; the UI appends them to the row keyed by `StreamChunk.key`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from .errors import StreamCut, StreamFailed
from .models import _KIND_BY_TYPE, StreamChunk, StreamEvent, StreamStop, StreamUsage

#: stop reasons after which the reply is complete and fine.
OK_STOP_REASONS = frozenset(
    {
        "end_turn",
        "cancelled",
        "requires_approval",
        "max_steps",
        "no_tool_call",
        "tool_rule",
        "max_tokens_exceeded",
    }
)
FAILED_STOP_REASONS = frozenset(
    {
        "error",
        "llm_api_error",
        "invalid_llm_response",
        "invalid_tool_call",
        "context_window_overflow_in_system_prompt",
    }
)

_STOP_WORDS = {
    "llm_api_error": "The agent's model provider returned an error.",
    "invalid_llm_response": "The agent's model returned a response Letta could not use.",
    "invalid_tool_call": "The agent's model made an invalid tool call.",
    "error": "The server hit an error while the agent was replying.",
}


def _tool_call_id(data: dict[str, Any]) -> str | None:
    call = data.get("tool_call") or data.get("tool_calls")
    if isinstance(call, list):
        call = call[0] if call else None
    value = call.get("tool_call_id") if isinstance(call, dict) else None
    return value or data.get("tool_call_id") or None


def _chunk_text(message_type: str, data: dict[str, Any]) -> tuple[str, str | None]:
    """The text piece a chunk carries, and the tool name when it is a tool call."""
    if message_type == "assistant_message":
        content = data.get("content")
        if isinstance(content, list):
            return "".join(str(p.get("text") or "") for p in content if isinstance(p, dict)), None
        return str(content or ""), None
    if message_type == "reasoning_message":
        return str(data.get("reasoning") or ""), None
    if message_type == "hidden_reasoning_message":
        return str(data.get("hidden_reasoning") or ""), None
    if message_type in ("tool_call_message", "approval_request_message"):
        call = data.get("tool_call") or {}
        if not call and isinstance(data.get("tool_calls"), list) and data["tool_calls"]:
            call = data["tool_calls"][0]
        if isinstance(call, dict):
            return str(call.get("arguments") or ""), call.get("name")
        return "", None
    if message_type == "tool_return_message":
        return str(data.get("tool_return") or ""), None
    return "", None


def parse_stream(events: Iterable[tuple[str, str]]) -> Iterator[StreamEvent]:
    """Yield stream events; raise StreamFailed/StreamCut once the stream ends badly.

    `events` yields (sse event name, data text) pairs as they arrive.
    """
    stop_reason: str | None = None
    error: dict[str, Any] | None = None
    done = False
    for event_name, raw in events:
        if raw.strip() == "[DONE]":
            done = True
            break
        try:
            data = json.loads(raw)
        except ValueError:
            if event_name == "error":
                error = {"message": raw}
            continue  # garbage lines are not worth killing a reply for
        if not isinstance(data, dict):
            continue
        mtype = str(data.get("message_type") or "")
        if event_name == "error" or mtype == "error_message":
            error = data
            continue
        if mtype == "ping":
            continue
        if mtype == "stop_reason":
            stop_reason = str(data.get("stop_reason") or "")
            yield StreamStop(stop_reason)
            continue
        if mtype == "usage_statistics":
            yield StreamUsage(data)
            continue
        kind = _KIND_BY_TYPE.get(mtype)
        if kind is None:
            continue  # unknown types appear over time: ignore
        text, tool_name = _chunk_text(mtype, data)
        ident = data.get("otid") or data.get("id") or ""
        yield StreamChunk(
            key=f"{mtype}:{ident}",
            kind=kind,
            message_type=mtype,
            text=text,
            id=data.get("id"),
            otid=data.get("otid"),
            tool_name=tool_name,
            tool_call_id=_tool_call_id(data),
        )

    if error is not None:
        message = str(error.get("message") or "The server reported an error.")
        detail = error.get("detail")
        raise StreamFailed(
            _STOP_WORDS.get(stop_reason or "", "")
            + (" " if stop_reason in _STOP_WORDS else "")
            + message,
            error_type=error.get("error_type"),
            detail=str(detail) if detail else None,
            stop_reason=stop_reason,
        )
    if stop_reason in FAILED_STOP_REASONS:
        raise StreamFailed(
            _STOP_WORDS.get(stop_reason, "The agent stopped with an error."),
            stop_reason=stop_reason,
        )
    if stop_reason is None:
        raise StreamCut(
            "The reply was cut off before it finished"
            + (" (the server closed the stream early)." if done else ".")
        )
