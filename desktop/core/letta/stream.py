"""Turns the messages of a streamed send into typed stream events.

Kept apart from HTTP so it can be fed any sequence of decoded SSE messages in tests. With
`stream_tokens` one message arrives as many chunks sharing an id/otid, each carrying the next
piece of text; the UI appends them to the row keyed by `StreamChunk.key`. A tool-call message
with parallel calls yields one chunk per call, keyed by its `tool_call_id`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from desktop.core.letta.errors import StreamCut, StreamFailed
from desktop.core.letta.models import (
    _KIND_BY_TYPE,
    StreamChunk,
    StreamEvent,
    StreamStop,
    StreamUsage,
    raw_tool_calls,
)

#: Stop reasons after which the reply is complete and fine. Anything else — the failures below,
#: and reasons a newer server invents — fails the turn with its own sentence.
OK_STOP_REASONS = frozenset(
    {"end_turn", "cancelled", "requires_approval", "max_steps", "tool_rule"}
)

_STOP_WORDS = {
    "llm_api_error": "The agent's model provider returned an error.",
    "invalid_llm_response": "The agent's model returned a response Letta could not use.",
    "invalid_tool_call": "The agent's model made an invalid tool call.",
    "error": "The server hit an error while the agent was replying.",
    "insufficient_credits": (
        "Your Letta account has run out of credits, so the agent stopped. Add credits on the"
        " Letta platform, then retry."
    ),
    "max_tokens_exceeded": (
        "The agent's reply hit the model's output token limit and was cut short."
    ),
    "no_tool_call": "The agent's model ended its turn without calling a tool it had to call.",
    "context_window_overflow_in_system_prompt": (
        "The agent's system prompt and memory no longer fit in the model's context window."
    ),
}
FAILED_STOP_REASONS = frozenset(_STOP_WORDS)


def stop_reason_words(reason: str) -> str:
    """The sentence for a stop reason that fails a turn (unknown ones are named as they are)."""
    if not reason:  # a stop_reason message that names none: no empty "()" in the sentence
        return "The agent stopped unexpectedly."
    return _STOP_WORDS.get(reason) or f"The agent stopped unexpectedly ({reason})."


def _text_of(message_type: str, data: dict[str, Any]) -> str:
    if message_type == "assistant_message":
        content = data.get("content")
        if isinstance(content, list):
            return "".join(str(p.get("text") or "") for p in content if isinstance(p, dict))
        return str(content or "")
    if message_type == "reasoning_message":
        return str(data.get("reasoning") or "")
    if message_type == "hidden_reasoning_message":
        return str(data.get("hidden_reasoning") or "")
    if message_type == "tool_return_message":
        returns = data.get("tool_returns")
        if isinstance(returns, list) and returns:
            parts = []
            for entry in returns:
                value = entry.get("tool_return") if isinstance(entry, dict) else None
                if isinstance(value, list):  # text and image parts: the text streams
                    value = "".join(
                        str(p.get("text") or "")
                        for p in value
                        if isinstance(p, dict) and p.get("type") == "text"
                    )
                parts.append(str(value or ""))
            return "\n\n".join(p for p in parts if p)
        return str(data.get("tool_return") or "")
    return ""


class StreamParser:
    """Feed decoded stream messages one at a time; `finish()` says how the stream ended.

    It also keeps the run's `run_id` and the last `seq_id` seen (background runs), which a
    resume needs.
    """

    def __init__(self) -> None:
        self.stop_reason: str | None = None
        self.error: dict[str, Any] | None = None
        self.run_id: str | None = None
        self.seq_id: int | None = None
        self.chunks = 0  # reply pieces yielded (a resume without a run id must start before any)
        # Parallel tool-call deltas may name their call only by position after the first piece.
        self._call_ids: dict[tuple[str, int], str] = {}
        self._last_call: dict[str, str] = {}

    def feed(self, data: Any) -> Iterator[StreamEvent]:
        if not isinstance(data, dict):
            return
        run_id = data.get("run_id")
        if isinstance(run_id, str) and run_id:
            self.run_id = run_id
        seq = data.get("seq_id")
        if isinstance(seq, int) and (self.seq_id is None or seq > self.seq_id):
            self.seq_id = seq
        mtype = str(data.get("message_type") or "")
        if mtype == "error_message" or ("error" in data and not mtype):
            self.error = data if mtype else _error_dict(data.get("error"))
            return
        if mtype == "ping":
            return
        if mtype == "stop_reason":
            self.stop_reason = str(data.get("stop_reason") or "")
            yield StreamStop(self.stop_reason)
            return
        if mtype == "usage_statistics":
            yield StreamUsage(data)
            return
        kind = _KIND_BY_TYPE.get(mtype)
        if kind is None:
            return  # unknown types appear over time: ignore
        self.chunks += 1
        ident = str(data.get("otid") or data.get("id") or "")
        base = {
            "kind": kind,
            "message_type": mtype,
            "id": data.get("id"),
            "otid": data.get("otid"),
        }
        if mtype in ("tool_call_message", "approval_request_message"):
            yield from self._tool_call_chunks(data, mtype, ident, base)
            return
        call_id = data.get("tool_call_id") if mtype == "tool_return_message" else None
        if call_id is None and mtype == "tool_return_message":
            returns = data.get("tool_returns")
            if isinstance(returns, list) and returns and isinstance(returns[0], dict):
                call_id = returns[0].get("tool_call_id")
        yield StreamChunk(
            key=f"{mtype}:{ident}", text=_text_of(mtype, data), tool_call_id=call_id, **base
        )

    def _tool_call_chunks(
        self, data: dict[str, Any], mtype: str, ident: str, base: dict[str, Any]
    ) -> Iterator[StreamChunk]:
        for position, call in enumerate(raw_tool_calls(data)):
            index = call.get("index") if isinstance(call.get("index"), int) else position
            call_id = call.get("tool_call_id") or call.get("id")
            if call_id:
                self._call_ids[(ident, index)] = str(call_id)
            else:
                call_id = self._call_ids.get((ident, index)) or self._last_call.get(ident) or ""
            self._last_call[ident] = str(call_id)
            yield StreamChunk(
                key=f"{mtype}:{ident}:{call_id}",
                text=str(call.get("arguments") or ""),
                tool_name=call.get("name") or None,
                tool_call_id=str(call_id) or None,
                **base,
            )

    def finish(self, *, done: bool = False) -> None:
        """Raise StreamFailed / StreamCut when the stream did not end as a finished reply."""
        stop_reason = self.stop_reason
        if self.error is not None:
            error = self.error
            message = str(error.get("message") or error.get("error") or "")
            message = message or "The server reported an error."
            detail = error.get("detail")
            prefix = stop_reason_words(stop_reason) + " " if stop_reason in _STOP_WORDS else ""
            raise StreamFailed(
                prefix + message,
                error_type=error.get("error_type"),
                detail=str(detail) if detail else None,
                stop_reason=stop_reason,
            )
        if stop_reason is not None and stop_reason not in OK_STOP_REASONS:
            raise StreamFailed(stop_reason_words(stop_reason), stop_reason=stop_reason)
        if stop_reason is None:
            raise StreamCut(
                "The reply was cut off before it finished"
                + (" (the server closed the stream early)." if done else ".")
            )


def _error_dict(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    return {"message": str(value) if value else "The server reported an error."}


def parse_stream(events: Iterable[tuple[str, str]]) -> Iterator[StreamEvent]:
    """Yield stream events from (SSE event name, data text) pairs; raise StreamFailed/StreamCut
    once the stream ends badly. (The SDK parses the SSE of real streams; this reads text.)"""
    parser = StreamParser()
    done = False
    for event_name, raw in events:
        if raw.strip() == "[DONE]":
            done = True
            break
        try:
            data = json.loads(raw)
        except ValueError:
            if event_name == "error":
                parser.error = {"message": raw}
            continue  # garbage lines are not worth killing a reply for
        if event_name == "error" and isinstance(data, dict):
            parser.error = data
            continue
        yield from parser.feed(data)
    parser.finish(done=done)
