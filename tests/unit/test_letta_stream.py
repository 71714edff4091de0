"""stream_message: the request, SSE assembly, failures, and cancelling from another thread."""

from __future__ import annotations

import json
import socket
import threading
import time

import httpx
import pytest

from desktop.core.letta import (
    AuthError,
    BadRequest,
    Conflict,
    ConnectionFailed,
    LettaClient,
    NetworkError,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    ServerError,
    ServiceUnavailable,
    StreamChunk,
    StreamCut,
    StreamFailed,
    StreamStop,
    StreamUsage,
)
from desktop.core.letta.stream import parse_stream

KEY = "sk-let-stream-KEY-987654321"
SSE = {"content-type": "text/event-stream; charset=utf-8"}
CONTENT = [
    {"type": "text", "text": "Describe this image."},
    {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0K"}},
]


def sse(*events) -> bytes:
    """SSE bytes: a dict is a `data:` event, ("error", dict) a named one, a str a raw line."""
    out = []
    for ev in events:
        if isinstance(ev, tuple):
            name, data = ev
            out.append(f"event: {name}\ndata: {json.dumps(data)}\n\n")
        elif isinstance(ev, dict):
            out.append(f"data: {json.dumps(ev)}\n\n")
        else:
            out.append(ev if ev.endswith("\n") else ev + "\n")
    return "".join(out).encode()


def chunk(mtype, text_field, text, mid="message-1", otid="otid-a"):
    return {"message_type": mtype, "id": mid, "otid": otid, text_field: text}


STOP_END = {"message_type": "stop_reason", "stop_reason": "end_turn"}
USAGE = {"message_type": "usage_statistics", "prompt_tokens": 10, "completion_tokens": 3}
DONE = "data: [DONE]\n\n"  # the blank line ends the event: without it [DONE] is never read


class Recorder:
    def __init__(self, respond):
        self.respond = respond
        self.requests: list[httpx.Request] = []

    def __call__(self, request):
        self.requests.append(request)
        return self.respond(request)


def client_for(respond, key=KEY) -> tuple[LettaClient, Recorder]:
    rec = Recorder(respond)
    return LettaClient("https://api.example.test", key, transport=httpx.MockTransport(rec)), rec


def answer_sse(body: bytes):
    return lambda request: httpx.Response(200, headers=SSE, content=body)


def run(client, otid="otid-user") -> list:
    return list(client.stream_message("agent-1", CONTENT, otid))


def collect_until_error(client) -> tuple[list, BaseException | None]:
    events = []
    try:
        for ev in client.stream_message("agent-1", CONTENT, "otid-user"):
            events.append(ev)
    except Exception as exc:
        return events, exc
    return events, None


def assemble(events) -> dict[str, str]:
    """What the UI shows: text appended per chunk key, in arrival order."""
    rows: dict[str, str] = {}
    for ev in events:
        if isinstance(ev, StreamChunk):
            rows[ev.key] = rows.get(ev.key, "") + ev.text
    return rows


# -- the request ------------------------------------------------------------------------------


def test_request_body_and_headers_match_the_api():
    client, rec = client_for(answer_sse(sse(STOP_END, USAGE, DONE)))
    run(client, otid="4b8f0b8e-0000-4000-8000-000000000001")
    (req,) = rec.requests
    assert req.method == "POST"
    assert req.url.path == "/v1/conversations/default/messages"
    assert json.loads(req.content) == {
        "agent_id": "agent-1",
        "background": True,
        "messages": [
            {
                "type": "message",
                "role": "user",
                "otid": "4b8f0b8e-0000-4000-8000-000000000001",
                "content": CONTENT,
            }
        ],
        "streaming": True,
        "stream_tokens": True,
        "include_pings": True,
        "include_compaction_messages": True,
    }
    # The SDK's headers: without them the server treats us as a legacy client.
    assert req.headers.get("x-stainless-package-version")
    assert req.headers["user-agent"].startswith("Letta/Python")
    assert "text/event-stream" in req.headers["accept"]
    assert req.headers["authorization"] == f"Bearer {KEY}"


def test_nothing_is_sent_until_iterated():
    client, rec = client_for(answer_sse(sse(STOP_END, DONE)))
    client.stream_message("agent-1", CONTENT, "o")
    assert rec.requests == []


# -- assembling the stream --------------------------------------------------------------------


def test_token_chunks_assemble_per_message():
    body = sse(
        chunk("reasoning_message", "reasoning", "The user ", mid="m-r", otid="r1"),
        chunk("reasoning_message", "reasoning", "wants a description.", mid="m-r", otid="r1"),
        {"message_type": "ping"},
        chunk("assistant_message", "content", "A red ", mid="m-a", otid="a1"),
        {"message_type": "some_future_message", "id": "x", "content": "ignored"},
        chunk("assistant_message", "content", [{"type": "text", "text": "square"}], "m-a", "a1"),
        chunk("assistant_message", "content", ".", mid="m-a", otid="a1"),
        STOP_END,
        USAGE,
        DONE,
    )
    client, _ = client_for(answer_sse(body))
    events = run(client)
    assert assemble(events) == {
        "reasoning_message:r1": "The user wants a description.",
        "assistant_message:a1": "A red square.",
    }
    kinds = {ev.key: ev.kind for ev in events if isinstance(ev, StreamChunk)}
    assert kinds == {"reasoning_message:r1": "reasoning", "assistant_message:a1": "assistant"}
    # stop then usage end the stream cleanly; pings and unknown types leave no trace
    assert events[-2] == StreamStop("end_turn")
    assert isinstance(events[-1], StreamUsage)
    assert events[-1].data["completion_tokens"] == 3
    assert sum(isinstance(ev, StreamChunk) for ev in events) == 5


def test_chunks_without_otid_are_keyed_by_id():
    body = sse(
        {"message_type": "assistant_message", "id": "m-1", "content": "Hel"},
        {"message_type": "assistant_message", "id": "m-1", "content": "lo"},
        STOP_END,
        DONE,
    )
    client, _ = client_for(answer_sse(body))
    assert assemble(run(client)) == {"assistant_message:m-1": "Hello"}


def test_tool_call_and_return_chunks():
    body = sse(
        {
            "message_type": "tool_call_message",
            "id": "m-t",
            "otid": "t1",
            "tool_call": {"name": "web_search", "arguments": '{"q": ', "tool_call_id": "c1"},
        },
        {
            "message_type": "tool_call_message",
            "id": "m-t",
            "otid": "t1",
            "tool_call": {"arguments": '"cats"}'},
        },
        {"message_type": "tool_return_message", "id": "m-r", "otid": "t2", "tool_return": "ok"},
        STOP_END,
        DONE,
    )
    client, _ = client_for(answer_sse(body))
    events = run(client)
    assert assemble(events) == {
        "tool_call_message:t1:c1": '{"q": "cats"}',
        "tool_return_message:t2": "ok",
    }
    assert events[0].tool_name == "web_search"


def test_garbage_lines_are_skipped():
    body = sse(
        ": a comment",
        "data: this is not json",
        "data: [1, 2, 3]",
        "no colon here at all",
        "",
        chunk("assistant_message", "content", "Still fine."),
        STOP_END,
        DONE,
    )
    client, _ = client_for(answer_sse(body))
    events = run(client)
    assert assemble(events) == {"assistant_message:otid-a": "Still fine."}
    assert StreamStop("end_turn") in events


def test_requires_approval_is_a_normal_end():
    body = sse(
        {
            "message_type": "approval_request_message",
            "id": "m-ap",
            "otid": "ap1",
            "tool_call": {"name": "rm_rf", "arguments": "{}", "tool_call_id": "c9"},
        },
        {"message_type": "stop_reason", "stop_reason": "requires_approval"},
        DONE,
    )
    client, _ = client_for(answer_sse(body))
    events = run(client)
    assert events[0].kind == "approval"
    assert events[-1] == StreamStop("requires_approval")


# -- failures inside the stream ---------------------------------------------------------------


def test_provider_error_inside_the_stream_raises_stream_failed():
    body = sse(
        chunk("reasoning_message", "reasoning", "Thinking"),
        {"message_type": "stop_reason", "stop_reason": "llm_api_error"},
        (
            "error",
            {
                "message_type": "error_message",
                "run_id": "run-1",
                "error_type": "llm_bad_request",
                "message": "Image exceeds 5 MB maximum: 7340032 bytes",
                "detail": "anthropic BadRequestError 400",
            },
        ),
        DONE,
    )
    client, _ = client_for(answer_sse(body))
    events, exc = collect_until_error(client)
    assert isinstance(exc, StreamFailed)
    assert "Image exceeds 5 MB maximum" in exc.user_message
    assert exc.error_type == "llm_bad_request"
    assert exc.stop_reason == "llm_api_error"
    assert exc.detail == "anthropic BadRequestError 400"
    # what arrived before the failure was still delivered
    assert assemble(events) == {"reasoning_message:otid-a": "Thinking"}


def test_failed_stop_reason_without_error_event_still_fails():
    body = sse({"message_type": "stop_reason", "stop_reason": "invalid_tool_call"}, DONE)
    client, _ = client_for(answer_sse(body))
    with pytest.raises(StreamFailed) as info:
        run(client)
    assert "invalid tool call" in info.value.user_message


@pytest.mark.parametrize(
    ("with_done", "shown"),
    [
        (
            True,
            "The reply was cut off before it finished (the server closed the stream early).",
        ),
        (False, "The reply was cut off before it finished."),
    ],
)
def test_stream_without_stop_reason_is_cut_after_partial_chunks(with_done, shown):
    events_in = [chunk("assistant_message", "content", "Half a sen")]
    if with_done:
        events_in.append(DONE)
    client, _ = client_for(answer_sse(sse(*events_in)))
    events, exc = collect_until_error(client)
    assert isinstance(exc, StreamCut)
    assert exc.user_message == shown
    assert assemble(events) == {"assistant_message:otid-a": "Half a sen"}


def test_read_error_mid_stream_is_network_error_after_partial_chunks():
    def body():
        yield sse(chunk("assistant_message", "content", "Partial"))
        raise httpx.ReadError("connection reset by peer")

    client, _ = client_for(lambda r: httpx.Response(200, headers=SSE, content=body()))
    events, exc = collect_until_error(client)
    assert isinstance(exc, NetworkError)
    assert exc.may_have_reached_server is True
    assert "streaming" in exc.user_message
    assert assemble(events) == {"assistant_message:otid-a": "Partial"}


def test_connect_error_before_the_send_is_connection_failed():
    def refuse(request):
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    client, _ = client_for(refuse)
    events, exc = collect_until_error(client)
    assert events == []
    assert isinstance(exc, ConnectionFailed)
    assert exc.may_have_reached_server is False


def test_json_answer_instead_of_sse_still_yields_messages():
    payload = {
        "messages": [
            {"message_type": "reasoning_message", "id": "m1", "otid": "r", "reasoning": "Hmm."},
            {"message_type": "assistant_message", "id": "m2", "otid": "a", "content": "Done."},
        ],
        "stop_reason": {"message_type": "stop_reason", "stop_reason": "end_turn"},
        "usage": {"completion_tokens": 2},
    }
    client, _ = client_for(lambda r: httpx.Response(200, json=payload))
    events = run(client)
    assert assemble(events) == {"reasoning_message:r": "Hmm.", "assistant_message:a": "Done."}
    assert events[-1] == StreamStop("end_turn")


def test_html_page_instead_of_stream_is_server_error():
    page = b"<html><body><h1>Captive portal</h1></body></html>"
    client, _ = client_for(
        lambda r: httpx.Response(200, content=page, headers={"content-type": "text/html"})
    )
    with pytest.raises(ServerError) as info:
        run(client)
    assert "api.example.test" in info.value.user_message
    assert "<" not in info.value.user_message


# -- HTTP errors before the stream ------------------------------------------------------------

CLOUDFLARE_502 = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>cloudflare</center>\r\n"
    b"</body>\r\n</html>\r\n"
)


def _json(status, body, headers=None):
    return lambda r: httpx.Response(status, json=body, headers=headers)


@pytest.mark.parametrize(
    ("respond", "error_type", "words"),
    [
        (_json(401, {"detail": "Unauthorized"}), AuthError, "API key"),
        (_json(403, {"error": "forbidden"}), AuthError, "not allowed"),
        (_json(404, {"detail": "NOT_FOUND: Agent agent-1 not found"}), NotFound, "not exist"),
        (
            _json(409, {"detail": "CONFLICT: another request is running for this agent"}),
            Conflict,
            "busy",
        ),
        (
            lambda r: httpx.Response(413, text="Request Entity Too Large"),
            PayloadTooLarge,
            "too large",
        ),
        (
            _json(
                422,
                {
                    "detail": [
                        {
                            "loc": ["body", "messages", 0, "content"],
                            "msg": "Field required",
                            "type": "missing",
                        }
                    ]
                },
            ),
            BadRequest,
            "Field required",
        ),
        (
            _json(422, {"detail": "streaming=true is only supported for SDK v1.0+ clients."}),
            BadRequest,
            "only supported for SDK",
        ),
        (
            _json(400, {"detail": "INVALID_ARGUMENT: Failed to fetch image from https://x/y"}),
            BadRequest,
            "Failed to fetch image",
        ),
        (
            _json(402, {"message": "Payment required", "reasons": ["not-enough-credits"]}),
            RateLimited,
            "out of credits",
        ),
        (
            _json(429, {"reasons": ["exceeded-quota"], "timeToQuotaResetMs": 90_000}),
            RateLimited,
            "quota",
        ),
        (_json(500, {"detail": "An unknown error occurred"}), ServerError, "unknown error"),
        (
            lambda r: httpx.Response(
                502, content=CLOUDFLARE_502, headers={"content-type": "text/html"}
            ),
            ServerError,
            "error page",
        ),
        (_json(503, {"detail": "maintenance"}), ServiceUnavailable, "unavailable"),
    ],
)
def test_http_error_before_stream_is_typed_with_readable_message(respond, error_type, words):
    client, _ = client_for(respond)
    events, exc = collect_until_error(client)
    assert events == []
    assert type(exc) is error_type
    message = exc.user_message
    assert words in message
    assert "<" not in message and ">" not in message
    assert "\n" not in message
    assert len(message) < 400


def test_pending_approval_conflict_from_the_legacy_server():
    # the shape letta 0.16.8 sends: HTTPException with a dict detail
    body = {
        "detail": {
            "code": "PENDING_APPROVAL",
            "message": "Cannot send a new message: The agent is waiting for approval on a tool "
            "call. Please approve or deny the pending request before continuing.",
            "pending_request_id": "message-77",
        }
    }
    client, _ = client_for(_json(409, body))
    with pytest.raises(Conflict) as info:
        run(client)
    assert info.value.pending_approval is True
    assert "approve" in info.value.user_message
    assert "{" not in (info.value.detail or "")  # not a Python dict dump


def test_busy_conflict_is_not_pending_approval():
    client, _ = client_for(_json(409, {"detail": "CONFLICT: run already in progress"}))
    with pytest.raises(Conflict) as info:
        run(client)
    assert info.value.pending_approval is False


def test_rate_limit_with_retry_after():
    client, _ = client_for(
        _json(
            429, {"error": {"type": "llm_rate_limit", "message": "slow down"}}, {"Retry-After": "7"}
        )
    )
    with pytest.raises(RateLimited) as info:
        run(client)
    assert info.value.retry_after == 7.0
    assert info.value.retryable is True
    assert "7 s" in info.value.user_message


def test_credits_exhausted_is_not_retryable():
    client, _ = client_for(_json(402, {"reasons": ["not-enough-credits"]}))
    with pytest.raises(RateLimited) as info:
        run(client)
    assert info.value.reasons == ["not-enough-credits"]
    assert info.value.retryable is False


def test_503_retry_after_is_kept():
    client, _ = client_for(
        lambda r: httpx.Response(503, text="busy", headers={"Retry-After": "30"})
    )
    with pytest.raises(ServiceUnavailable) as info:
        run(client)
    assert info.value.retry_after == 30.0
    assert info.value.retryable is True


# -- parse_stream on its own -----------------------------------------------------------------


def test_parse_stream_error_event_with_non_json_data():
    events = [("message", json.dumps(STOP_END)), ("error", "upstream exploded")]
    with pytest.raises(StreamFailed) as info:
        list(parse_stream(events))
    assert "upstream exploded" in info.value.user_message


# -- cancelling from another thread -----------------------------------------------------------


class BlockingStream(httpx.SyncByteStream):
    """Sends one chunk, then stays silent until closed (or a bounded timeout)."""

    def __init__(self, first: bytes, *, raise_on_close: bool):
        self.first = first
        self.raise_on_close = raise_on_close
        self.closed = threading.Event()

    def __iter__(self):
        yield self.first
        self.closed.wait(10)
        if self.raise_on_close:
            raise httpx.ReadError("socket closed")  # what a real closed socket does
        # else: the stream simply ends, as if the peer closed it

    def close(self):
        self.closed.set()


def _read_in_thread(stream):
    events: list = []
    errors: list = []

    def read():
        try:
            for ev in stream:
                events.append(ev)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return thread, events, errors


def _wait_for(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.01)


@pytest.mark.parametrize("raise_on_close", [False, True])
def test_close_from_another_thread_ends_with_cancelled(raise_on_close):
    blocking = BlockingStream(
        sse(chunk("assistant_message", "content", "Once upon")), raise_on_close=raise_on_close
    )
    client, _ = client_for(lambda r: httpx.Response(200, headers=SSE, stream=blocking))
    stream = client.stream_message("agent-1", CONTENT, "o")
    thread, events, errors = _read_in_thread(stream)
    _wait_for(lambda: events)
    stream.close()
    thread.join(5)
    assert not thread.is_alive()
    assert errors == []
    assert assemble(events) == {"assistant_message:otid-a": "Once upon"}
    assert events[-1] == StreamStop("cancelled")
    assert stream.cancelled


def test_close_before_iterating_sends_nothing():
    client, rec = client_for(answer_sse(sse(STOP_END, DONE)))
    stream = client.stream_message("agent-1", CONTENT, "o")
    stream.close()
    assert list(stream) == [StreamStop("cancelled")]
    assert rec.requests == []


def test_close_while_waiting_for_the_answer_is_not_ignored():
    arrived, proceed = threading.Event(), threading.Event()
    body = sse(chunk("assistant_message", "content", "Should not be shown"), STOP_END, DONE)

    def slow(request):
        arrived.set()
        proceed.wait(5)
        return httpx.Response(200, headers=SSE, content=body)

    client, _ = client_for(slow)
    stream = client.stream_message("agent-1", CONTENT, "o")
    thread, events, errors = _read_in_thread(stream)
    assert arrived.wait(5)
    stream.close()  # the response does not exist yet
    proceed.set()
    thread.join(5)
    assert not thread.is_alive()
    assert errors == []
    assert events == [StreamStop("cancelled")]


def test_close_wakes_a_reader_blocked_on_a_real_socket():
    """Over a real TCP connection a reader blocked in recv() must wake at once, not at the
    next ping or read timeout."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(5)
    port = listener.getsockname()[1]
    release = threading.Event()

    def serve():
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n"
            )
            data = sse(chunk("assistant_message", "content", "Hi"))
            conn.sendall(b"%x\r\n%s\r\n" % (len(data), data))
            release.wait(15)  # silent, like a model thinking for a long time

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    client = LettaClient(f"http://127.0.0.1:{port}", KEY)
    try:
        stream = client.stream_message("agent-1", CONTENT, "o")
        thread, events, errors = _read_in_thread(stream)
        _wait_for(lambda: events)
        started = time.monotonic()
        stream.close()
        thread.join(5)
        elapsed = time.monotonic() - started
        assert not thread.is_alive()
        assert elapsed < 2.0
        assert errors == []
        assert events[-1] == StreamStop("cancelled")
    finally:
        release.set()
        server.join(5)
        listener.close()
        client.close()
