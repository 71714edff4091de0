"""The streamed send (MessageStream): its requests, the fallback without background mode,
reattaching after a cut, cancel, and the odd answers a server or proxy may give."""

from __future__ import annotations

import json
import socket
import time

import httpx
import pytest

from desktop.core.letta import (
    ApprovalDecision,
    LettaClient,
    NetworkError,
    NotFound,
    ServerError,
    ServiceUnavailable,
    StreamChunk,
    StreamCut,
    StreamFailed,
    StreamStop,
)
from desktop.core.letta import client as client_module
from desktop.core.letta.models import StreamReconnecting

AGENT = "agent-1"
CONV = "conv-7"
SSE = {"content-type": "text/event-stream"}
TEXT = [{"type": "text", "text": "Hello"}]
CUT_MESSAGE = "The connection broke while the reply was streaming; the reply may be incomplete."


class Server:
    """Answers requests in turn from a script (the last answer repeats) and keeps them."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers[min(len(self.requests), len(self.answers)) - 1]
        return answer(request) if callable(answer) else answer

    @property
    def bodies(self) -> list[dict]:
        return [json.loads(r.content) if r.content else None for r in self.requests]

    @property
    def paths(self) -> list[str]:
        return [r.url.path for r in self.requests]


def client_for(*answers) -> tuple[LettaClient, Server]:
    server = Server(*answers)
    client = LettaClient("https://letta.test", "key-123456", transport=httpx.MockTransport(server))
    return client, server


def sse(*events, done: bool = True) -> httpx.Response:
    """An SSE answer: a dict is a `data:` event, ("error", data) a named event."""
    out = []
    for ev in events:
        if isinstance(ev, tuple):
            name, data = ev
            text = data if isinstance(data, str) else json.dumps(data)
            out.append(f"event: {name}\ndata: {text}\n\n")
        else:
            out.append(f"data: {json.dumps(ev)}\n\n")
    if done:
        out.append("data: [DONE]\n\n")
    return httpx.Response(200, headers=SSE, content="".join(out).encode())


def said(text: str, seq: int, run: str | None = "run-1") -> dict:
    chunk = {"message_type": "assistant_message", "id": "m1", "otid": "a1", "content": text}
    if run:
        chunk["run_id"] = run
    chunk["seq_id"] = seq
    return chunk


def stop(reason: str = "end_turn", seq: int = 99) -> dict:
    return {"message_type": "stop_reason", "stop_reason": reason, "run_id": "run-1", "seq_id": seq}


def shown(events) -> str:
    return "".join(ev.text for ev in events if isinstance(ev, StreamChunk))


def cut_after(*events) -> httpx.Response:
    """The stream ends (no stop reason, no [DONE]) after these events."""
    return sse(*events, done=False)


def broken_after(*events) -> httpx.Response:
    """The connection drops after these events (a read error mid-body)."""
    head = "".join(f"data: {json.dumps(ev)}\n\n" for ev in events).encode()

    def body():
        yield head
        raise httpx.ReadError("connection reset")

    return httpx.Response(200, headers=SSE, content=body())


def status(code: int, detail: str = "") -> httpx.Response:
    return httpx.Response(code, json={"detail": detail} if detail else {})


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch):
    """Reattaching waits 0.5 s, 1 s, ... between tries: none here."""
    monkeypatch.setattr(client_module, "_RESUME_BACKOFF", (0.0,) * 5)


# -- the send request ----------------------------------------------------------------------


def test_send_asks_for_an_event_stream_in_json_with_the_stream_timeouts():
    """One Accept and one Content-Type, exactly these (the SDK's own defaults would say
    application/json for Accept), and the stream's longer read timeout, not the plain one."""
    client, server = client_for(sse(stop()))
    list(client.stream_message(AGENT, TEXT, "otid-1"))
    (req,) = server.requests
    assert req.headers.get_list("accept") == ["text/event-stream"]
    assert req.headers.get_list("content-type") == ["application/json"]
    assert not [k for k in req.headers if "content-type" in k.lower() and k != "content-type"]
    assert req.extensions["timeout"]["read"] == client.stream_timeout.read == 90.0


def test_approval_answer_in_the_default_conversation_names_the_agent():
    client, server = client_for(sse(stop()))
    decision = ApprovalDecision(tool_call_id="call-1", approve=True)
    list(client.stream_approval(AGENT, [decision]))
    (body,) = server.bodies
    assert server.paths == ["/v1/conversations/default/messages"]
    assert body["agent_id"] == AGENT


@pytest.mark.parametrize(
    "conversation, words",
    [(None, "the agent does not exist"), (CONV, "the conversation does not exist")],
)
def test_send_404_says_what_is_missing(conversation, words):
    client, _ = client_for(status(404))
    with pytest.raises(NotFound) as caught:
        list(client.stream_message(AGENT, TEXT, "otid-1", conversation))
    assert words in str(caught.value)


def test_a_refused_send_is_not_accepted():
    """`accepted` tells the app whether the server has the message: a 500 means it may not."""
    client, _ = client_for(status(500))
    stream = client.stream_message(AGENT, TEXT, "otid-1")
    assert stream.accepted is False
    with pytest.raises(ServerError):
        list(stream)
    assert stream.accepted is False


# -- no background mode (self-hosted without Redis) -------------------------------------------


@pytest.mark.parametrize(
    "detail",
    [
        "Background streaming requires Redis to be running.",
        "Redis is not configured on this server.",
        "Background mode is not available.",
    ],
)
def test_send_without_background_mode_goes_again_without_it(detail):
    client, server = client_for(status(503, detail), sse(said("Hi", 1), stop()))
    stream = client.stream_message(AGENT, TEXT, "otid-1")
    events = list(stream)
    assert shown(events) == "Hi"
    assert [b["background"] for b in server.bodies] == [True, False]
    assert [b.get("agent_id") for b in server.bodies] == [AGENT, AGENT]
    assert client.background_supported is False
    assert stream.background is False


def test_plain_503_is_not_sent_again():
    """A busy server's 503 is not the missing-Redis one: sending again could store the message
    twice, so the error goes to the user."""
    client, server = client_for(status(503, "Server overloaded, try later."), sse(stop()))
    with pytest.raises(ServiceUnavailable):
        list(client.stream_message(AGENT, TEXT, "otid-1"))
    assert len(server.requests) == 1


def test_without_background_mode_a_cut_is_not_reattached():
    client, server = client_for(status(503, "needs redis"), cut_after(said("Hi", 1)))
    with pytest.raises(StreamCut):
        list(client.stream_message(AGENT, TEXT, "otid-1"))
    assert server.paths == ["/v1/conversations/default/messages"] * 2


# -- reattaching after a cut ----------------------------------------------------------------


def test_a_broken_connection_reattaches_from_the_last_seq_id():
    client, server = client_for(
        broken_after(said("Hel", 1), said("lo", 2)), sse(said(" there", 3), stop())
    )
    events = list(client.stream_message(AGENT, TEXT, "otid-1"))
    assert shown(events) == "Hello there"
    assert StreamReconnecting(1) in events
    assert events[-1] == StreamStop("end_turn")
    assert server.paths[1] == "/v1/conversations/default/stream"
    assert server.bodies[1] == {
        "agent_id": AGENT,
        "run_id": "run-1",
        "starting_after": 2,
        "include_pings": True,
    }


def test_a_break_after_the_stop_reason_is_a_complete_reply():
    """Only the usage and [DONE] were lost: no "Reconnecting", no "may be incomplete"."""
    client, server = client_for(broken_after(said("Hello", 1), stop(seq=2)), status(404))
    events = list(client.stream_message(AGENT, TEXT, "otid-1"))
    assert shown(events) == "Hello"
    assert events[-1] == StreamStop("end_turn")
    assert not any(isinstance(ev, StreamReconnecting) for ev in events)
    assert len(server.requests) == 1


def test_a_break_after_an_error_event_shows_the_error():
    client, _ = client_for(
        broken_after(said("Hel", 1), {"message_type": "error_message", "message": "Rate limit"}),
        status(404),
    )
    with pytest.raises(StreamFailed, match="Rate limit"):
        list(client.stream_message(AGENT, TEXT, "otid-1"))


def test_reattaching_in_a_conversation_uses_its_route():
    client, server = client_for(cut_after(said("Hel", 1)), sse(said("lo", 2), stop()))
    events = list(client.stream_message(AGENT, TEXT, "otid-1", CONV))
    assert shown(events) == "Hello"
    assert server.paths[1] == f"/v1/conversations/{CONV}/stream"
    assert "agent_id" not in server.bodies[1]


@pytest.mark.parametrize(
    "conversation, words",
    [(None, "the agent does not exist"), (CONV, "the conversation does not exist")],
)
def test_retry_reattach_404_says_what_is_missing(conversation, words):
    """Retry opens with the reattach: its 404 reaches the user, naming the right thing."""
    client, _ = client_for(status(404))
    with pytest.raises(NotFound) as caught:
        list(client.resume_message(AGENT, "otid-1", conversation))
    assert words in str(caught.value)


def test_a_cut_before_any_chunk_reattaches_by_otid_from_the_start():
    """Nothing named the run yet: the run is found by the message's otid, replayed whole (no
    starting_after, even when a ping carried a seq_id)."""
    client, server = client_for(
        cut_after({"message_type": "ping", "seq_id": 4}), sse(said("Hi", 1), stop())
    )
    events = list(client.stream_message(AGENT, TEXT, "otid-1"))
    assert shown(events) == "Hi"
    assert server.bodies[1] == {"agent_id": AGENT, "otid": "otid-1", "include_pings": True}


def test_a_transient_failure_to_reattach_is_tried_again():
    client, server = client_for(
        broken_after(said("Hel", 1)),
        status(502),
        lambda r: httpx.Response(503, json={"detail": "restarting"}),
        sse(said("lo", 2), stop()),
    )
    events = list(client.stream_message(AGENT, TEXT, "otid-1"))
    assert shown(events) == "Hello"
    assert [e.attempt for e in events if isinstance(e, StreamReconnecting)] == [1, 2, 3]
    assert events[-1] == StreamStop("end_turn")
    assert len(server.requests) == 4


def test_the_first_reattaches_wait_the_short_steps(monkeypatch):
    """The backoff is read from its start: four cuts in a row do not wait the long last step."""
    monkeypatch.setattr(client_module, "_RESUME_BACKOFF", (0.0, 0.0, 0.0, 0.0, 5.0))
    cuts = [cut_after(said(str(n), n)) for n in range(1, 5)]
    client, _ = client_for(*cuts, sse(said("5", 5), stop()))
    started = time.monotonic()
    events = list(client.stream_message(AGENT, TEXT, "otid-1"))
    assert time.monotonic() - started < 4.0
    assert shown(events) == "12345"
    assert [e.attempt for e in events if isinstance(e, StreamReconnecting)] == [1, 2, 3, 4]


def test_reattaching_gives_up_after_five_tries():
    """A run that keeps cutting: five reattaches, then the cut is the user's to see."""
    client, server = client_for(*[cut_after(said(str(n), n)) for n in range(1, 12)])
    events = []
    with pytest.raises(StreamCut) as caught:
        for ev in client.stream_message(AGENT, TEXT, "otid-1"):
            events.append(ev)
    assert [e.attempt for e in events if isinstance(e, StreamReconnecting)] == [1, 2, 3, 4, 5]
    assert len(server.requests) == 6
    assert "cut off" in str(caught.value)


def test_a_refused_reattach_is_a_cut_reply_not_the_refusal():
    client, _ = client_for(cut_after(said("Hel", 1)), status(404))
    with pytest.raises(StreamCut) as caught:
        list(client.stream_message(AGENT, TEXT, "otid-1"))
    assert str(caught.value) == CUT_MESSAGE


def test_transient_failures_to_reattach_end_in_a_cut_after_five():
    client, server = client_for(cut_after(said("Hel", 1)), status(502))
    with pytest.raises(StreamCut) as caught:
        list(client.stream_message(AGENT, TEXT, "otid-1"))
    assert str(caught.value) == CUT_MESSAGE
    assert len(server.requests) == 6


def test_closing_while_waiting_to_reattach_ends_cancelled():
    client, server = client_for(cut_after(said("Hel", 1)), sse(stop()))
    stream = client.stream_message(AGENT, TEXT, "otid-1")
    events = []
    for ev in stream:
        events.append(ev)
        if isinstance(ev, StreamReconnecting):
            stream.close()
    assert events[-1] == StreamStop("cancelled")
    assert len(server.requests) == 1


# -- Retry: reattach to a sent message's run --------------------------------------------------


@pytest.mark.parametrize(
    "conversation, path, agent",
    [
        (None, "/v1/conversations/default/stream", AGENT),
        (CONV, f"/v1/conversations/{CONV}/stream", None),
    ],
)
def test_resume_message_reattaches_by_otid(conversation, path, agent):
    client, server = client_for(sse(said("Hi", 1), stop()))
    stream = client.resume_message(AGENT, "otid-9", conversation)
    assert stream.accepted is False
    events = list(stream)
    assert shown(events) == "Hi"
    assert stream.accepted is True
    (req,) = server.requests
    assert req.method == "POST"
    assert req.url.path == path
    body = json.loads(req.content)
    assert body.get("agent_id") == agent
    assert body["otid"] == "otid-9"
    assert body["include_pings"] is True
    assert "run_id" not in body and "starting_after" not in body


def test_resume_message_cut_before_any_chunk_reattaches_by_the_same_otid():
    client, server = client_for(cut_after(), sse(said("Hi", 1), stop()))
    events = list(client.resume_message(AGENT, "otid-9"))
    assert shown(events) == "Hi"
    assert [b["otid"] for b in server.bodies] == ["otid-9", "otid-9"]


# -- cancel -----------------------------------------------------------------------------------


def test_cancel_before_the_run_is_named_cancels_this_conversation():
    client, server = client_for(httpx.Response(200, json={}))
    client.stream_message(AGENT, TEXT, "otid-1", CONV).cancel()
    assert server.paths == [f"/v1/conversations/{CONV}/cancel"]


def test_cancel_when_nothing_runs_is_quiet():
    """409 (nothing running, or no Redis): closing was the fallback, no error for the user."""
    client, server = client_for(status(409, "No active runs"))
    client.stream_message(AGENT, TEXT, "otid-1", CONV).cancel()
    assert len(server.requests) == 1


@pytest.mark.parametrize(
    "conversation, run_id, words",
    [
        (CONV, "run-1", "the agent does not exist"),
        (CONV, None, "the conversation does not exist"),
        ("default", None, "the agent does not exist"),
    ],
)
def test_cancel_404_says_what_is_missing(conversation, run_id, words):
    client, _ = client_for(status(404))
    with pytest.raises(NotFound) as caught:
        client.cancel_run(AGENT, conversation, run_id)
    assert words in str(caught.value)


def test_close_when_the_socket_is_already_gone_does_not_raise():
    """Shutting down a socket the peer already dropped fails (ENOTCONN): close() must not."""
    dead = socket.socket()

    class NetworkStream:
        def get_extra_info(self, name):
            return dead if name == "socket" else None

    def answer(request):
        response = sse(said("Hi", 1), stop())
        response.extensions["network_stream"] = NetworkStream()
        return response

    client, _ = client_for(answer)
    stream = client.stream_message(AGENT, TEXT, "otid-1")
    events = []
    try:
        for ev in stream:
            events.append(ev)
            stream.close()
    finally:
        dead.close()
    assert events[-1] == StreamStop("cancelled")


def test_close_while_the_send_is_answered_shows_nothing_of_the_answer():
    """Closed before the answer arrived: even a whole JSON reply is not shown."""
    holder = {}

    def answer(request):
        holder["stream"].close()
        return httpx.Response(200, json={"messages": [said("Hi", 1)], "stop_reason": stop()})

    client, _ = client_for(answer)
    holder["stream"] = stream = client.stream_message(AGENT, TEXT, "otid-1")
    assert list(stream) == [StreamStop("cancelled")]


# -- odd answers --------------------------------------------------------------------------------


def test_json_answer_without_content_type_is_read():
    client, _ = client_for(
        httpx.Response(
            200,
            content=json.dumps(
                {"messages": [said("Hi", 1, run=None)], "stop_reason": stop()}
            ).encode(),
        )
    )
    events = list(client.stream_message(AGENT, TEXT, "otid-1"))
    assert shown(events) == "Hi"
    assert events[-1] == StreamStop("end_turn")


def test_json_answer_with_only_a_stop_reason_is_an_empty_reply():
    client, _ = client_for(httpx.Response(200, json={"stop_reason": stop()}))
    assert list(client.stream_message(AGENT, TEXT, "otid-1")) == [StreamStop("end_turn")]


def test_json_answer_without_stop_reason_says_the_server_closed_early():
    client, _ = client_for(httpx.Response(200, json={"messages": [said("Hi", 1, run=None)]}))
    with pytest.raises(StreamCut) as caught:
        list(client.stream_message(AGENT, TEXT, "otid-1"))
    assert "(the server closed the stream early)" in str(caught.value)


def test_json_answer_that_is_not_an_object_is_unreadable():
    client, _ = client_for(httpx.Response(200, json=[said("Hi", 1)]))
    with pytest.raises(ServerError) as caught:
        list(client.stream_message(AGENT, TEXT, "otid-1"))
    assert str(caught.value) == "The server sent a reply the app could not read."


def test_error_event_with_plain_text_fails_with_that_text():
    client, _ = client_for(sse(said("Hi", 1), ("error", "upstream exploded")))
    with pytest.raises(StreamFailed) as caught:
        list(client.stream_message(AGENT, TEXT, "otid-1"))
    assert str(caught.value) == "upstream exploded"


@pytest.mark.parametrize(
    "data",
    [
        {"error": {"message": "Rate limited by provider", "error_type": "llm_error"}},
        {"message": "Rate limited by provider", "error_type": "llm_error"},
    ],
)
def test_error_event_json_fails_with_its_message(data):
    client, _ = client_for(sse(said("Hi", 1), ("error", data)))
    with pytest.raises(StreamFailed) as caught:
        list(client.stream_message(AGENT, TEXT, "otid-1"))
    assert str(caught.value) == "Rate limited by provider"
    assert caught.value.error_type == "llm_error"


def test_error_event_then_stop_reason_says_both():
    """The stream goes on after an error event: its stop reason is read and named too."""
    client, _ = client_for(
        sse(said("Hi", 1), ("error", {"message": "boom"}), stop("llm_api_error"))
    )
    events = []
    with pytest.raises(StreamFailed) as caught:
        for ev in client.stream_message(AGENT, TEXT, "otid-1"):
            events.append(ev)
    assert events[-1] == StreamStop("llm_api_error")
    assert str(caught.value) == "The agent's model provider returned an error. boom"


def test_read_error_without_background_is_a_network_error():
    client, _ = client_for(status(503, "redis missing"), broken_after(said("Hel", 1)))
    with pytest.raises(NetworkError):
        list(client.stream_message(AGENT, TEXT, "otid-1"))
