"""Conversations and approvals in LettaClient (MockTransport): routes, bodies, parsing."""

from __future__ import annotations

import json
import threading
import time

import httpx

from desktop.core.letta import ApprovalDecision, Conflict, LettaClient, StreamChunk, StreamStop

AGENT = "agent-1"
CONV = "conv-7"


class Recorder:
    def __init__(self, answer):
        self.answer = answer
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.answer(request)


def client_for(answer) -> tuple[LettaClient, Recorder]:
    rec = Recorder(answer)
    return LettaClient("https://letta.test", "key-123456", transport=httpx.MockTransport(rec)), rec


def sse(*events: dict) -> httpx.Response:
    body = "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"
    return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body)


def test_list_conversations_asks_for_the_agent_newest_first():
    conv = {"id": CONV, "agent_id": AGENT, "summary": "Trip", "created_at": "2026-01-01T00:00:00Z"}
    client, rec = client_for(lambda r: httpx.Response(200, json=[conv, {"x": 1}]))
    found = client.list_conversations(AGENT)
    assert [(c.id, c.summary, c.agent_id) for c in found] == [(CONV, "Trip", AGENT)]
    req = rec.requests[0]
    assert req.method == "GET" and req.url.path == "/v1/conversations/"
    assert req.url.params["agent_id"] == AGENT and req.url.params["order"] == "desc"


def test_create_conversation_posts_the_agent_in_the_query():
    client, rec = client_for(lambda r: httpx.Response(200, json={"id": CONV, "agent_id": AGENT}))
    conv = client.create_conversation(AGENT)
    assert conv.id == CONV
    req = rec.requests[0]
    assert req.method == "POST" and req.url.path == "/v1/conversations/"
    assert req.url.params["agent_id"] == AGENT and json.loads(req.content) == {}
    client.create_conversation(AGENT, summary="Named")
    assert json.loads(rec.requests[1].content) == {"summary": "Named"}


def test_history_routes_per_conversation():
    client, rec = client_for(lambda r: httpx.Response(200, json=[]))
    client.list_messages(AGENT)
    client.list_messages(AGENT, conversation_id="default", before="message-1")
    client.list_messages(AGENT, conversation_id=CONV)
    paths = [(r.url.path, dict(r.url.params)) for r in rec.requests]
    assert paths[0] == (f"/v1/agents/{AGENT}/messages", {"limit": "30", "order": "desc"})
    assert paths[1] == (
        "/v1/conversations/default/messages",
        {"limit": "30", "order": "desc", "before": "message-1", "agent_id": AGENT},
    )
    assert paths[2] == (f"/v1/conversations/{CONV}/messages", {"limit": "30", "order": "desc"})


def test_conversation_history_newest_first_is_kept():
    # 0.16.8's conversation route returns order=desc pages really newest-first.
    page = [
        {
            "id": "m3",
            "message_type": "assistant_message",
            "date": "2026-01-01T10:00:03Z",
            "content": "Echo: b",
        },
        {
            "id": "m2",
            "message_type": "user_message",
            "date": "2026-01-01T10:00:02Z",
            "content": "b",
        },
        {
            "id": "m1",
            "message_type": "user_message",
            "date": "2026-01-01T10:00:01Z",
            "content": "a",
        },
    ]
    client, _ = client_for(lambda r: httpx.Response(200, json=page))
    assert [m.id for m in client.list_messages(AGENT, conversation_id=CONV)] == ["m3", "m2", "m1"]
    assert [m.id for m in client.list_messages(AGENT, conversation_id="default")] == [
        "m3",
        "m2",
        "m1",
    ]


def test_find_user_message_looks_in_the_conversation():
    page = [{"id": "m1", "message_type": "user_message", "otid": "o-1", "content": "hi"}]
    client, rec = client_for(lambda r: httpx.Response(200, json=page))
    assert client.find_user_message(AGENT, "o-1", conversation_id=CONV) is not None
    assert rec.requests[0].url.path == f"/v1/conversations/{CONV}/messages"


def test_send_in_a_conversation_streams_from_the_conversation_route():
    client, rec = client_for(
        lambda r: sse(
            {"message_type": "assistant_message", "id": "a", "otid": "x", "content": "hi"},
            {"message_type": "stop_reason", "stop_reason": "end_turn"},
        )
    )
    events = list(
        client.stream_message(
            AGENT, [{"type": "text", "text": "yo"}], "otid-1", conversation_id=CONV
        )
    )
    assert events[-1] == StreamStop("end_turn")
    req = rec.requests[0]
    assert req.url.path == f"/v1/conversations/{CONV}/messages"
    body = json.loads(req.content)
    assert body["messages"][0]["otid"] == "otid-1"
    assert body["streaming"] and body["stream_tokens"] and body["include_pings"]


def test_every_send_goes_through_the_conversations_route():
    client, rec = client_for(
        lambda r: sse({"message_type": "stop_reason", "stop_reason": "end_turn"})
    )
    for conv in (None, "default", CONV):
        list(client.stream_message(AGENT, [{"type": "text", "text": "yo"}], "o", conv))
    assert [r.url.path for r in rec.requests] == [
        "/v1/conversations/default/messages",
        "/v1/conversations/default/messages",
        f"/v1/conversations/{CONV}/messages",
    ]
    bodies = [json.loads(r.content) for r in rec.requests]
    # The default conversation names its agent in the body; a conversation id is enough.
    assert [b.get("agent_id") for b in bodies] == [AGENT, AGENT, None]
    assert all(b["background"] is True for b in bodies)


def test_cancel_names_the_run_or_the_conversation_never_the_whole_agent():
    client, rec = client_for(lambda r: httpx.Response(200, json={"run-1": "cancelled"}))
    client.cancel_run(AGENT, CONV, run_id="run-1")
    client.cancel_run(AGENT, CONV)
    client.cancel_run(AGENT, "default")
    paths = [r.url.path for r in rec.requests]
    assert paths == [
        f"/v1/agents/{AGENT}/messages/cancel",
        f"/v1/conversations/{CONV}/cancel",
        "/v1/conversations/default/cancel",
    ]
    assert json.loads(rec.requests[0].content) == {"run_ids": ["run-1"]}
    assert rec.requests[2].url.params["agent_id"] == AGENT


def test_stream_cancel_cancels_only_its_own_run():
    started = threading.Event()
    release = threading.Event()

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/cancel"):
            release.set()
            return httpx.Response(200, json={})

        def body():
            yield b'data: {"message_type": "assistant_message", "id": "a", "run_id": "run-9",'
            yield b' "seq_id": 1, "content": "Hel"}\n\n'
            started.set()
            release.wait(5)

        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body())

    client, rec = client_for(answer)
    stream = client.stream_message(AGENT, [{"type": "text", "text": "x"}], "o", CONV)
    events = []
    reader = threading.Thread(target=lambda: events.extend(stream))
    reader.start()
    assert started.wait(5)
    for _ in range(100):  # the chunk naming the run reached the reader
        if stream.run_id:
            break
        time.sleep(0.01)
    stream.cancel()
    reader.join(5)
    cancel = rec.requests[-1]
    assert cancel.url.path == f"/v1/agents/{AGENT}/messages/cancel"
    assert json.loads(cancel.content) == {"run_ids": ["run-9"]}
    assert events[-1] == StreamStop("cancelled")


def test_approval_body_and_stream():
    client, rec = client_for(
        lambda r: sse(
            {
                "message_type": "tool_return_message",
                "id": "t",
                "otid": "t1",
                "tool_return": "watered",
                "status": "success",
                "tool_call_id": "call_1",
            },
            {"message_type": "assistant_message", "id": "a", "otid": "a1", "content": "Done"},
            {"message_type": "stop_reason", "stop_reason": "end_turn"},
        )
    )
    events = list(
        client.stream_approval(AGENT, [ApprovalDecision("call_1", False, "not today")], CONV)
    )
    body = json.loads(rec.requests[0].content)
    assert body["messages"] == [
        {
            "type": "approval",
            "approvals": [
                {
                    "type": "approval",
                    "tool_call_id": "call_1",
                    "approve": False,
                    "reason": "not today",
                }
            ],
        }
    ]
    assert body["streaming"] is True
    assert rec.requests[0].url.path == f"/v1/conversations/{CONV}/messages"
    assert [e.kind for e in events if isinstance(e, StreamChunk)] == ["tool_return", "assistant"]
    # Parallel calls: every pending id answered in ONE approval message.
    decisions = [ApprovalDecision("call_2", True), ApprovalDecision("call_3", False, "no")]
    list(client.stream_approval(AGENT, decisions))
    assert rec.requests[1].url.path == "/v1/conversations/default/messages"
    assert json.loads(rec.requests[1].content)["messages"] == [
        {
            "type": "approval",
            "approvals": [
                {"type": "approval", "tool_call_id": "call_2", "approve": True, "reason": None},
                {"type": "approval", "tool_call_id": "call_3", "approve": False, "reason": "no"},
            ],
        }
    ]


def test_approval_request_chunks_carry_the_tool_call_id():
    call = {"name": "water_plants", "arguments": None, "tool_call_id": "call_9"}
    client, _ = client_for(
        lambda r: sse(
            {
                "message_type": "approval_request_message",
                "id": "m",
                "otid": "m",
                "tool_call": call,
                "tool_calls": call,
            },
            {
                "message_type": "approval_request_message",
                "id": "m",
                "otid": "m",
                "tool_call": {
                    "name": None,
                    "arguments": '{"plant": "fern"}',
                    "tool_call_id": "call_9",
                },
            },
            {"message_type": "stop_reason", "stop_reason": "requires_approval"},
        )
    )
    events = list(client.stream_message(AGENT, [{"type": "text", "text": "x"}], "o"))
    chunks = [e for e in events if isinstance(e, StreamChunk)]
    assert [c.tool_call_id for c in chunks] == ["call_9", "call_9"]
    assert chunks[0].tool_name == "water_plants" and chunks[1].text == '{"plant": "fern"}'
    assert events[-1] == StreamStop("requires_approval")


def test_pending_approval_409_from_the_conversation_route():
    detail = (
        "CONFLICT: Cannot send a new message: The agent is waiting for approval on a "
        "tool call. Please approve or deny the pending request before continuing."
    )
    client, _ = client_for(lambda r: httpx.Response(409, json={"detail": detail}))
    try:
        list(client.stream_message(AGENT, [{"type": "text", "text": "x"}], "o", CONV))
    except Conflict as exc:
        assert exc.pending_approval
    else:
        raise AssertionError("no Conflict")


def test_set_project_adds_and_removes_the_header():
    client, rec = client_for(lambda r: httpx.Response(200, json=[]))
    client.set_project("my-project")
    client.list_agents()
    client.set_project(None)
    client.list_agents()
    assert rec.requests[0].headers["x-project"] == "my-project"
    assert "x-project" not in rec.requests[1].headers


def test_approval_response_history_row_says_what_was_answered():
    from desktop.core.letta import Message

    msg = Message.from_json(
        {
            "id": "r",
            "message_type": "approval_response_message",
            "approvals": [
                {"type": "approval", "tool_call_id": "c", "approve": False, "reason": "nope"}
            ],
        }
    )
    assert msg.kind == "approval" and msg.text == "Denied: nope" and msg.tool_call_id == "c"
