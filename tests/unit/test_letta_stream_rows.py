"""The rows a reply stream builds, piece by piece, and the sentence when it fails.

The streams are real SSE bytes (`data: ...` plus its blank line, `[DONE]` included) read by the
client over httpx.MockTransport; `parse_stream` (the text-only reader) is checked on its own.
"""

from __future__ import annotations

import json

import httpx
import pytest

from desktop.core import letta
from desktop.core.letta import (
    LettaClient,
    StreamChunk,
    StreamCut,
    StreamFailed,
    StreamReconnecting,
    StreamStop,
)
from desktop.core.letta import client as client_module
from desktop.core.letta.stream import parse_stream

SSE = {"content-type": "text/event-stream"}
STOP_END = {"message_type": "stop_reason", "stop_reason": "end_turn"}
DONE = "data: [DONE]\n\n"


def sse(*events: object) -> bytes:
    """A dict is a `data:` event, ("error", dict) a named one, a str goes out as it is."""
    out = []
    for ev in events:
        if isinstance(ev, tuple):
            out.append(f"event: {ev[0]}\ndata: {json.dumps(ev[1])}\n\n")
        elif isinstance(ev, dict):
            out.append(f"data: {json.dumps(ev)}\n\n")
        else:
            out.append(str(ev))
    return "".join(out).encode()


def client_for(handler) -> tuple[LettaClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    return LettaClient("https://letta.test", "key-1", transport=httpx.MockTransport(record)), seen


def stream_of(*events: object) -> list:
    client, _ = client_for(lambda r: httpx.Response(200, headers=SSE, content=sse(*events)))
    return list(client.stream_message("agent-1", [{"type": "text", "text": "hi"}], "o"))


def failure_of(*events: object) -> tuple[list, BaseException]:
    client, _ = client_for(lambda r: httpx.Response(200, headers=SSE, content=sse(*events)))
    shown: list = []
    with pytest.raises(letta.LettaError) as caught:
        for event in client.stream_message("agent-1", [{"type": "text", "text": "hi"}], "o"):
            shown.append(event)
    return shown, caught.value


def row(mtype: str, kind: str, ident: str, text: str, **kw) -> StreamChunk:
    return StreamChunk(
        key=f"{mtype}:{ident}", kind=kind, message_type=mtype, text=text, otid=ident, **kw
    )


# -- the text each message type streams ----------------------------------------------------------

IMAGE = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBO"}}


def test_each_message_type_streams_its_text_and_nothing_else():
    events = stream_of(
        {"message_type": "reasoning_message", "id": "m1", "otid": "r", "reasoning": None},
        {"message_type": "reasoning_message", "id": "m1", "otid": "r", "reasoning": "Hmm."},
        {"message_type": "hidden_reasoning_message", "id": "m1", "otid": "h"},
        {"message_type": "assistant_message", "id": "m2", "otid": "a", "content": None},
        {
            "message_type": "assistant_message",
            "id": "m2",
            "otid": "a",
            "content": [{"type": "text", "text": "A red "}, IMAGE, {"type": "text"}, "x"],
        },
        {"message_type": "assistant_message", "id": "m2", "otid": "a", "content": [{"text": "sq"}]},
        {"message_type": "approval_response_message", "id": "m3", "otid": "d", "approve": True},
        STOP_END,
        DONE,
    )
    assert events == [
        row("reasoning_message", "reasoning", "r", "", id="m1"),
        row("reasoning_message", "reasoning", "r", "Hmm.", id="m1"),
        row("hidden_reasoning_message", "reasoning", "h", "", id="m1"),
        row("assistant_message", "assistant", "a", "", id="m2"),
        row("assistant_message", "assistant", "a", "A red ", id="m2"),
        row("assistant_message", "assistant", "a", "sq", id="m2"),
        row("approval_response_message", "approval", "d", "", id="m3"),
        StreamStop("end_turn"),
    ]


def test_tool_returns_stream_their_texts_one_paragraph_each():
    events = stream_of(
        {
            "message_type": "tool_return_message",
            "id": "m1",
            "otid": "t",
            "tool_returns": [
                {"tool_call_id": "call_a", "status": "success", "tool_return": None},
                "not an object",
                {
                    "tool_call_id": "call_b",
                    "tool_return": [
                        {"type": "text", "text": "a screenshot"},
                        IMAGE,
                        {"type": "text"},
                        "not a part",
                        {"type": "text", "text": " of the desk"},
                    ],
                },
                {"tool_call_id": "call_c", "tool_return": "watered"},
            ],
        },
        # the deprecated single return, also beside an empty list
        {"message_type": "tool_return_message", "id": "m2", "otid": "u", "tool_returns": []}
        | {"tool_return": "ok"},
        {"message_type": "tool_return_message", "id": "m3", "otid": "v", "tool_call_id": "c9"},
        STOP_END,
        DONE,
    )
    assert events == [
        row(
            "tool_return_message",
            "tool_return",
            "t",
            "a screenshot of the desk\n\nwatered",
            id="m1",
            tool_call_id="call_a",
        ),
        row("tool_return_message", "tool_return", "u", "ok", id="m2"),
        row("tool_return_message", "tool_return", "v", "", id="m3", tool_call_id="c9"),
        StreamStop("end_turn"),
    ]


# -- tool calls ---------------------------------------------------------------------------------


def _call(ident: str, call_id: str | None, text: str, name: str | None = None) -> StreamChunk:
    return StreamChunk(
        key=f"tool_call_message:{ident}:{call_id or ''}",
        kind="tool_call",
        message_type="tool_call_message",
        text=text,
        id="m1",
        otid=ident,
        tool_name=name,
        tool_call_id=call_id,
    )


def test_tool_call_rows_by_their_id_whatever_the_provider_calls_it():
    events = stream_of(
        # OpenAI's `id` instead of `tool_call_id`
        {
            "message_type": "tool_call_message",
            "id": "m1",
            "otid": "t1",
            "tool_calls": [{"id": "call_x", "name": "search", "arguments": '{"q": '}],
        },
        # a later piece numbered by the provider's own block index, not by its position here
        {
            "message_type": "tool_call_message",
            "id": "m1",
            "otid": "t1",
            "tool_calls": [{"index": 3, "arguments": '"cats"}'}],
        },
        # a call that never names itself (the deprecated single `tool_call`)
        {
            "message_type": "tool_call_message",
            "id": "m1",
            "otid": "t2",
            "tool_call": {"name": "ping", "arguments": "{}"},
        },
        STOP_END,
        DONE,
    )
    assert events == [
        _call("t1", "call_x", '{"q": ', name="search"),
        _call("t1", "call_x", '"cats"}'),
        _call("t2", None, "{}", name="ping"),
        StreamStop("end_turn"),
    ]


# -- how a stream fails --------------------------------------------------------------------------


def test_an_error_message_as_plain_data_fails_the_turn_with_the_providers_words():
    shown, err = failure_of(
        {"message_type": "assistant_message", "id": "m1", "otid": "a", "content": "Let me"},
        {"message_type": "stop_reason", "stop_reason": "llm_api_error"},
        {"message_type": "error_message", "error_type": "llm_bad_request", "message": "Too big"},
        DONE,
    )
    assert [e.text for e in shown if isinstance(e, StreamChunk)] == ["Let me"]
    assert type(err) is StreamFailed
    assert err.user_message == "The agent's model provider returned an error. Too big"
    assert (err.error_type, err.detail, err.stop_reason) == (
        "llm_bad_request",
        None,
        "llm_api_error",
    )


def test_an_error_object_without_a_type_fails_the_turn_with_its_inner_message():
    _, err = failure_of(
        {"error": {"message": "Provider overloaded", "error_type": "llm_overloaded"}}, DONE
    )
    assert type(err) is StreamFailed
    assert err.user_message == "Provider overloaded"
    assert err.error_type == "llm_overloaded"


def test_an_object_without_a_type_or_an_error_is_ignored():
    events = stream_of({"seq_id": 7}, {"message_type": "ping"}, STOP_END, DONE)
    assert events == [StreamStop("end_turn")]


def test_a_stop_reason_that_names_no_reason_fails_in_plain_words():
    shown, err = failure_of({"message_type": "stop_reason"}, DONE)
    assert shown == [StreamStop("")]
    assert type(err) is StreamFailed
    assert err.user_message == "The agent stopped unexpectedly."


# -- resuming a background run --------------------------------------------------------------------


def test_a_resume_starts_after_the_last_numbered_piece_even_if_an_unnumbered_one_came_later(
    monkeypatch,
):
    monkeypatch.setattr(client_module, "_RESUME_BACKOFF", (0.0,) * 5)
    piece = {"message_type": "assistant_message", "id": "m1", "otid": "a", "run_id": "run-1"}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/messages"):
            body = sse(
                piece | {"seq_id": 1, "content": "Hel"},
                piece | {"seq_id": 2, "content": "lo "},
                {"message_type": "ping"},  # pings carry no seq_id
            )
            return httpx.Response(200, headers=SSE, content=body)  # cut: no stop, no [DONE]
        assert json.loads(request.content)["starting_after"] == 2
        return httpx.Response(
            200, headers=SSE, content=sse(piece | {"seq_id": 3, "content": "world"}, STOP_END)
        )

    client, seen = client_for(handler)
    events = list(client.stream_message("agent-1", [{"type": "text", "text": "hi"}], "o"))
    assert "".join(e.text for e in events if isinstance(e, StreamChunk)) == "Hello world"
    assert StreamReconnecting(1) in events and len(seen) == 2


def test_an_empty_run_id_is_no_run_to_reattach_to(monkeypatch):
    monkeypatch.setattr(client_module, "_RESUME_BACKOFF", (0.0,) * 5)
    piece = {"message_type": "assistant_message", "id": "m1", "otid": "a", "run_id": ""}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/messages"):
            return httpx.Response(200, headers=SSE, content=sse(piece | {"content": "Hal"}))
        return httpx.Response(404, json={"detail": "NOT_FOUND: Run  not found"})

    client, seen = client_for(handler)
    with pytest.raises(StreamCut):
        list(client.stream_message("agent-1", [{"type": "text", "text": "hi"}], "o"))
    assert len(seen) == 1  # the reply shown so far stays; nothing asks for run ""


# -- parse_stream, the text-only reader -----------------------------------------------------------


def _lines(*items: object) -> list[tuple[str, str]]:
    return [
        (item[0], item[1] if isinstance(item[1], str) else json.dumps(item[1]))
        if isinstance(item, tuple)
        else ("message", item if isinstance(item, str) else json.dumps(item))
        for item in items
    ]


PIECE = {"message_type": "assistant_message", "id": "m1", "otid": "a", "content": "Hi"}


@pytest.mark.parametrize(
    ("tail", "sentence"),
    [
        (
            ["[DONE]"],
            "The reply was cut off before it finished (the server closed the stream early).",
        ),
        ([], "The reply was cut off before it finished."),
    ],
)
def test_parse_stream_says_how_a_reply_without_a_stop_ended(tail, sentence):
    with pytest.raises(StreamCut) as caught:
        list(parse_stream(_lines(PIECE, *tail)))
    assert caught.value.user_message == sentence


def test_parse_stream_reads_past_garbage_and_stops_at_done():
    events = list(parse_stream(_lines("not json", PIECE, STOP_END, "[DONE]", PIECE)))
    assert [type(e) for e in events] == [StreamChunk, StreamStop]


def test_parse_stream_error_event_then_its_stop_reason():
    stop = {"message_type": "stop_reason", "stop_reason": "llm_api_error"}
    with pytest.raises(StreamFailed) as caught:
        list(parse_stream(_lines(("error", {"message": "Upstream exploded"}), stop, "[DONE]")))
    assert caught.value.user_message == (
        "The agent's model provider returned an error. Upstream exploded"
    )
    assert caught.value.stop_reason == "llm_api_error"


# -- the package's lazy names ---------------------------------------------------------------------


def test_a_name_loads_once_and_stays_and_an_unknown_one_says_which(monkeypatch):
    monkeypatch.delitem(vars(letta), "StreamCut", raising=False)
    assert letta.StreamCut is StreamCut
    assert letta.StreamCut is StreamCut  # the second look-up reads what the first kept
    with pytest.raises(AttributeError) as caught:
        letta.Nope  # noqa: B018
    assert str(caught.value) == "module 'desktop.core.letta' has no attribute 'Nope'"
