"""Today's Letta in the core, over httpx.MockTransport: parallel tool calls in the stream and in
history, new message types, every stop reason and Cloud refusal in words, background resume,
the no-Redis fallback, the project header and the SDK's retry policy (reads only)."""

from __future__ import annotations

import base64
import io
import json

import httpx
import pytest
from PIL import Image

from desktop.core.letta import (
    LettaClient,
    Message,
    RateLimited,
    ServiceUnavailable,
    StreamChunk,
    StreamFailed,
    StreamReconnecting,
    StreamStop,
)
from desktop.core.letta import client as client_module
from desktop.core.letta.errors import error_for_status
from desktop.core.letta.stream import StreamParser, parse_stream

AGENT = "agent-1"


def sse_bytes(*events: dict, done: bool = True) -> bytes:
    text = "".join(f"data: {json.dumps(e)}\n\n" for e in events)
    return (text + ("data: [DONE]\n\n" if done else "")).encode()


def sse_response(*events: dict, done: bool = True) -> httpx.Response:
    return httpx.Response(
        200, headers={"content-type": "text/event-stream"}, content=sse_bytes(*events, done=done)
    )


def client_for(handler) -> tuple[LettaClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    return LettaClient(
        "https://letta.test", "key-123456", transport=httpx.MockTransport(record)
    ), seen


def feed(*messages: dict) -> list:
    parser = StreamParser()
    return [e for m in messages for e in parser.feed(m)]


# -- parallel tool calls ---------------------------------------------------------------------------


def test_parallel_calls_in_one_chunk_become_one_row_each_with_deltas_by_position():
    first = {
        "message_type": "approval_request_message",
        "id": "m1",
        "tool_calls": [
            {"tool_call_id": "call_a", "name": "water", "arguments": '{"plant": '},
            {"tool_call_id": "call_b", "name": "feed", "arguments": '{"fish": '},
        ],
    }
    # Later deltas may name their call only by `index` (OpenAI's shape), or be one object.
    later = {
        "message_type": "approval_request_message",
        "id": "m1",
        "tool_calls": [{"index": 1, "arguments": '"koi"}'}, {"index": 0, "arguments": '"fern"}'}],
    }
    single = {
        "message_type": "approval_request_message",
        "id": "m1",
        "tool_calls": {"tool_call_id": "call_a", "arguments": ""},
    }
    events = feed(first, later, single)
    rows: dict[str, str] = {}
    for e in events:
        rows[e.key] = rows.get(e.key, "") + e.text
    assert rows == {
        "approval_request_message:m1:call_a": '{"plant": "fern"}',
        "approval_request_message:m1:call_b": '{"fish": "koi"}',
    }
    names = {e.tool_call_id: e.tool_name for e in events if e.tool_name}
    assert names == {"call_a": "water", "call_b": "feed"}


def test_history_row_with_parallel_calls_and_the_deprecated_single_call():
    both = Message.from_json(
        {
            "id": "m1",
            "message_type": "approval_request_message",
            "tool_call": {"tool_call_id": "call_a", "name": "water", "arguments": "{}"},
            "tool_calls": [
                {"tool_call_id": "call_a", "name": "water", "arguments": "{}"},
                {"tool_call_id": "call_b", "name": "feed", "arguments": '{"x": 1}'},
            ],
        }
    )
    assert [(c.tool_call_id, c.name) for c in both.tool_calls] == [
        ("call_a", "water"),
        ("call_b", "feed"),
    ]
    old = Message.from_json(
        {
            "id": "m2",
            "message_type": "tool_call_message",
            "tool_call": {"tool_call_id": "c", "name": "search", "arguments": '{"q": 1}'},
        }
    )
    assert [(c.tool_call_id, c.name, c.arguments) for c in old.tool_calls] == [
        ("c", "search", '{"q": 1}')
    ]


def test_tool_returns_with_text_and_image_parts_and_the_new_message_types():
    buf = io.BytesIO()
    Image.new("RGB", (3, 2), "red").save(buf, "PNG")
    png = base64.b64encode(buf.getvalue()).decode()
    ret = Message.from_json(
        {
            "id": "r",
            "message_type": "tool_return_message",
            "tool_returns": [
                {"tool_call_id": "call_a", "status": "success", "tool_return": "watered"},
                {
                    "tool_call_id": "call_b",
                    "status": "error",
                    "tool_return": [
                        {"type": "text", "text": "a screenshot"},
                        {
                            "type": "image",
                            "source": {"type": "base64", "media_type": "image/png", "data": png},
                        },
                    ],
                },
            ],
        }
    )
    assert ret.text == "watered\n\na screenshot"
    assert ret.status == "error" and ret.tool_call_id == "call_a"
    assert len(ret.images) == 1 and ret.images[0].inline_bytes() == buf.getvalue()
    assert "tool_returns" not in ret.raw  # the decoded image is kept once, not as base64 too
    summary = Message.from_json(
        {"id": "s", "message_type": "summary_message", "summary": "We planned a trip."}
    )
    assert (summary.kind, summary.text) == ("summary", "We planned a trip.")
    event = Message.from_json(
        {"id": "e", "message_type": "event_message", "event_type": "compaction"}
    )
    assert (event.kind, event.text) == ("event", "The conversation was compacted.")


# -- stop reasons --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reason", "words"),
    [
        ("insufficient_credits", "run out of credits"),
        ("max_tokens_exceeded", "output token limit"),
        ("no_tool_call", "without calling a tool"),
        ("brand_new_reason", "stopped unexpectedly (brand_new_reason)"),
    ],
)
def test_stop_reasons_that_are_failures_say_so(reason, words):
    lines = [("message", json.dumps({"message_type": "stop_reason", "stop_reason": reason}))]
    with pytest.raises(StreamFailed) as caught:
        list(parse_stream([*lines, ("message", "[DONE]")]))
    assert words in caught.value.user_message
    assert caught.value.stop_reason == reason


def test_a_stream_error_object_without_a_message_type_fails_the_turn():
    lines = [("message", json.dumps({"error": "upstream gave up"})), ("message", "[DONE]")]
    with pytest.raises(StreamFailed, match="upstream gave up"):
        list(parse_stream(lines))


# -- Cloud refusals ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "reason", "start"),
    [
        (402, "not-enough-credits", "Your Letta account is out of credits."),
        (429, "exceeded-quota", "Your Letta account has used up its quota."),
        (402, "free-usage-exceeded", "You have used up the free plan's usage"),
        (402, "premium-usage-exceeded", "You have used up the premium models' usage"),
        (429, "agents-limit-exceeded", "Your Letta plan's agent limit is reached"),
        (402, "byok-not-available-on-free-tier", "Your own provider keys (BYOK)"),
        (402, "model-unknown", "Letta Cloud does not know the agent's model"),
        (402, "context-window-size-not-supported", "The agent's context window size"),
    ],
)
def test_each_cloud_reason_has_its_sentence_and_is_never_retried(status, reason, start):
    body = json.dumps({"reasons": [reason], "reason_text": "Plan <b>Free</b>"}).encode()
    err = error_for_status(status, body, "application/json", httpx.Headers({"Retry-After": "2"}))
    assert isinstance(err, RateLimited)
    assert err.user_message.startswith(start)
    assert "(Plan Free)" in err.user_message  # reason_text, tags stripped
    assert not err.retryable


def test_quota_reset_time_is_said_in_human_units():
    body = json.dumps({"reasons": ["exceeded-quota"], "timeToQuotaResetMs": 3 * 3600_000})
    err = error_for_status(429, body.encode(), "application/json")
    assert err.user_message == "Your Letta account has used up its quota. It resets in 3 h."


@pytest.mark.parametrize(
    "ms, words",
    [
        (0, "0 s"),
        (1, "1 s"),  # a part of a second is a whole one
        (119_000, "119 s"),
        (120_000, "2 min"),
        (120_001, "3 min"),  # rounded up: never sooner than the server said
        (7_199_000, "120 min"),
        (7_200_000, "2 h"),
        (7_200_001, "3 h"),
        (172_799_000, "48 h"),
        (172_800_000, "2 days"),
        (172_800_001, "3 days"),
    ],
)
def test_quota_reset_times_at_each_unit_boundary(ms, words):
    body = json.dumps({"reasons": ["exceeded-quota"], "timeToQuotaResetMs": ms})
    err = error_for_status(429, body.encode(), "application/json")
    assert err.user_message == f"Your Letta account has used up its quota. It resets in {words}."


def test_503_not_admitted_means_nothing_was_sent():
    body = b'{"errorCode":"cloud_api_shutting_down","admitted":false,"retryable":true}'
    err = error_for_status(503, body, "application/json")
    assert isinstance(err, ServiceUnavailable) and err.retryable
    assert not err.may_have_reached_server
    assert "nothing was sent" in err.user_message


def test_409_busy_names_the_other_run():
    err = error_for_status(
        409,
        b'{"detail": "CONFLICT: Cannot send a new message: busy with another active run '
        b'(run_id=run-42)"}',
        "application/json",
    )
    assert err.run_id == "run-42"
    assert "busy with another run" in err.user_message


# -- background runs -----------------------------------------------------------------------------


def test_a_dropped_background_stream_resumes_from_the_last_seq_id(monkeypatch):
    monkeypatch.setattr(client_module, "_RESUME_BACKOFF", (0.0,) * 5)
    chunk = {"message_type": "assistant_message", "id": "a", "run_id": "run-1"}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/messages"):
            return sse_response(
                {**chunk, "seq_id": 1, "content": "Hel"},
                {**chunk, "seq_id": 2, "content": "lo "},
                done=False,  # the connection ends mid-reply
            )
        body = json.loads(request.content)
        assert body["run_id"] == "run-1" and body["starting_after"] == 2
        return sse_response(
            {**chunk, "seq_id": 3, "content": "world"},
            {"message_type": "stop_reason", "stop_reason": "end_turn", "seq_id": 4},
        )

    client, seen = client_for(handler)
    events = list(client.stream_message(AGENT, [{"type": "text", "text": "hi"}], "o"))
    text = "".join(e.text for e in events if isinstance(e, StreamChunk))
    assert text == "Hello world"
    assert StreamReconnecting(1) in events and events[-1] == StreamStop("end_turn")
    assert [r.url.path for r in seen] == [
        "/v1/conversations/default/messages",
        "/v1/conversations/default/stream",
    ]
    assert json.loads(seen[1].content)["agent_id"] == AGENT


def test_a_server_without_background_mode_gets_the_send_again_without_it():
    def handler(request: httpx.Request) -> httpx.Response:
        if json.loads(request.content).get("background"):
            return httpx.Response(
                503,
                json={"detail": "Background streaming requires Redis to be running."},
            )
        return sse_response({"message_type": "stop_reason", "stop_reason": "end_turn"})

    client, seen = client_for(handler)
    for _ in range(2):
        events = list(client.stream_message(AGENT, [{"type": "text", "text": "hi"}], "o"))
        assert events == [StreamStop("end_turn")]
    assert [json.loads(r.content)["background"] for r in seen] == [True, False, False]
    assert client.background_supported is False


def test_a_stream_without_a_run_is_not_resumed():
    client, seen = client_for(
        lambda r: sse_response({"message_type": "assistant_message", "id": "a", "content": "x"})
    )
    with pytest.raises(client_module.StreamCut):
        list(client.stream_message(AGENT, [{"type": "text", "text": "hi"}], "o"))
    assert len(seen) == 1


def test_a_stream_unreadable_from_its_first_byte_is_reattached_by_the_messages_otid(
    monkeypatch,
):
    """No chunk named the run (the stream was garbage, not UTF-8 even): reattach by otid."""
    monkeypatch.setattr(client_module, "_RESUME_BACKOFF", (0.0,) * 5)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/messages"):
            junk = b"data: \xff\xfe\x00binary\n\ndata: {not json\n\n"
            return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=junk)
        body = json.loads(request.content)
        assert body["otid"] == "o-7" and "starting_after" not in body
        return sse_response(
            {"message_type": "assistant_message", "id": "a", "run_id": "r", "content": "whole"},
            {"message_type": "stop_reason", "stop_reason": "end_turn"},
        )

    client, seen = client_for(handler)
    events = list(client.stream_message(AGENT, [{"type": "text", "text": "hi"}], "o-7"))
    assert [e.text for e in events if isinstance(e, StreamChunk)] == ["whole"]
    assert events[-1] == StreamStop("end_turn") and len(seen) == 2


def test_a_garbage_stream_without_background_is_a_cut_reply_not_a_failed_send():
    junk = b"data: \xff\xfe\x00binary\n\nevent: mystery\ndata: [[[\n\n"
    client, seen = client_for(
        lambda r: httpx.Response(200, headers={"content-type": "text/event-stream"}, content=junk)
    )
    client.background_supported = False
    with pytest.raises(client_module.StreamCut):
        list(client.stream_message(AGENT, [{"type": "text", "text": "hi"}], "o"))
    assert len(seen) == 1


# -- headers and retries -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("project", "header", "other"),
    [
        ("proj-slug", "x-project", "x-project-id"),
        ("project-5f0c2b8e-6a1d-4c3b-9e2f-0a1b2c3d4e5f", "x-project-id", "x-project"),
    ],
)
def test_the_project_goes_out_as_an_id_or_a_slug(project, header, other):
    client, seen = client_for(lambda r: httpx.Response(200, json=[]))
    client.set_project(project)
    client.list_agents()
    assert seen[-1].headers[header] == project and other not in seen[-1].headers
    client.set_project(None)
    client.list_agents()
    assert header not in seen[-1].headers


def test_reads_are_retried_by_the_sdk_but_a_send_goes_out_once():
    answers = iter([httpx.Response(502, text="<html>bad gateway</html>")] * 2)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return next(answers, httpx.Response(200, json=[]))
        return httpx.Response(502, text="<html>bad gateway</html>")

    client, seen = client_for(handler)
    assert client.list_agents() == []  # two 502s, then the answer
    assert [r.method for r in seen] == ["GET"] * 3
    with pytest.raises(client_module.ServerError):
        list(client.stream_message(AGENT, [{"type": "text", "text": "hi"}], "o"))
    assert [r.method for r in seen].count("POST") == 1


def test_no_key_means_no_authorization_header_even_with_one_in_the_environment(monkeypatch):
    monkeypatch.setenv("LETTA_API_KEY", "sk-let-from-the-environment")
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=[])

    client = LettaClient("http://127.0.0.1:8283", None, transport=httpx.MockTransport(handler))
    client.list_agents()
    assert "authorization" not in seen[0].headers


def test_a_run_that_can_no_longer_be_reattached_is_a_cut_reply(monkeypatch):
    monkeypatch.setattr(client_module, "_RESUME_BACKOFF", (0.0,) * 5)
    chunk = {"message_type": "assistant_message", "id": "a", "run_id": "run-1", "seq_id": 1}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/messages"):
            return sse_response({**chunk, "content": "Hel"}, done=False)
        return httpx.Response(404, json={"detail": "NOT_FOUND: Run run-1 stream expired"})

    client, seen = client_for(handler)
    with pytest.raises(client_module.StreamCut):
        list(client.stream_message(AGENT, [{"type": "text", "text": "hi"}], "o"))
    assert len(seen) == 2  # one send, one attempt to reattach; never the agent's "not found"
