"""What the real 0.16.8 server does with Redis, without it, and with parallel tool approvals.

Raw HTTP against the session stack (no app). The facts, and more that take too long to pin here
(the default conversation's lock outliving a cancel by its 300 s TTL), are in
tests/peers/README.md, "Observed server behaviour". ``redis`` tests run in the normal e2e run;
``no_redis`` ones in tests/run_all.sh's Redis-less run (``LETTA_TEST_NO_REDIS=1``).
"""

from __future__ import annotations

import json
import threading
import uuid
from typing import Any

import pytest

TOOL_SOURCE = '''def {name}(plant: str) -> str:
    """Water a plant in the greenhouse.

    Args:
        plant (str): Which plant to water.

    Returns:
        str: What happened.
    """
    return "watered " + plant
'''


def user(text: str, otid: str | None = None) -> list[dict[str, Any]]:
    return [{"type": "message", "role": "user", "otid": otid or str(uuid.uuid4()), "content": text}]


def events(lines) -> list[dict[str, Any]]:
    out = []
    for line in lines:
        if line.startswith("data: {"):
            out.append(json.loads(line[6:]))
    return out


def text_of(chunks: list[dict[str, Any]]) -> str:
    return "".join(
        c["content"]
        for c in chunks
        if c.get("message_type") == "assistant_message" and isinstance(c.get("content"), str)
    )


def stored(letta_stack: Any, agent_id: str, otid: str) -> int:
    with letta_stack.http() as http:
        history = http.get(
            f"/v1/agents/{agent_id}/messages", params={"limit": 50, "order": "desc"}
        ).json()
    return sum(
        1 for m in history if m.get("message_type") == "user_message" and m.get("otid") == otid
    )


@pytest.fixture(scope="module")
def agent(letta_stack: Any) -> dict[str, Any]:
    return letta_stack.create_agent(name="e2e-redis")


def test_the_stack_says_whether_it_has_redis(letta_stack: Any):
    tail = letta_stack.server_log_tail(10**7)  # the whole log
    if letta_stack.has_redis:
        assert "Redis client initialized" in tail
    else:
        assert "Redis not configured, using noop client" in tail


@pytest.mark.redis
def test_background_stream_resumes_after_the_connection_dropped(letta_stack, agent):
    otid = str(uuid.uuid4())
    body = {
        "agent_id": agent["id"],
        "messages": user("resume me [[long 12]] [[slow 0.1]]", otid),
        "streaming": True,
        "background": True,
        "stream_tokens": True,
    }
    with letta_stack.http() as http:
        first = []
        with http.stream("POST", "/v1/conversations/default/messages", json=body) as r:
            assert r.status_code == 200
            for line in r.iter_lines():
                first += events([line])
                if len(first) == 2:
                    break  # drop the connection after two chunks
        assert all(c["run_id"] and c["seq_id"] for c in first), first
        run_id, last_seq = first[0]["run_id"], first[-1]["seq_id"]
        with http.stream(
            "POST",
            "/v1/conversations/default/stream",
            json={"agent_id": agent["id"], "run_id": run_id, "starting_after": last_seq},
        ) as r:
            assert r.status_code == 200
            rest = events(r.iter_lines())
    seqs = [c["seq_id"] for c in rest if c.get("seq_id") is not None]
    assert seqs == list(range(last_seq + 1, last_seq + 1 + len(seqs)))
    assert {c.get("run_id") for c in rest if "run_id" in c} == {run_id}
    assert rest[-2]["stop_reason"] == "end_turn" and rest[-1]["message_type"] == "usage_statistics"
    words = " ".join(f"w{i}" for i in range(1, 13))
    assert (text_of(first) + text_of(rest)).endswith(words)
    assert stored(letta_stack, agent["id"], otid) == 1


@pytest.mark.no_redis
def test_without_redis_background_is_refused_with_503(letta_stack, agent):
    otid = str(uuid.uuid4())
    with letta_stack.http() as http:
        r = http.post(
            "/v1/conversations/default/messages",
            json={
                "agent_id": agent["id"],
                "messages": user("background please", otid),
                "streaming": True,
                "background": True,
            },
        )
        assert r.status_code == 503
        assert r.json()["detail"].startswith(
            "INTERNAL_SERVER_ERROR: Background streaming requires Redis to be running."
        )
        r = http.post(
            "/v1/conversations/default/stream", json={"agent_id": agent["id"], "otid": otid}
        )
        assert r.status_code == 503
    assert stored(letta_stack, agent["id"], otid) == 0


def _busy_second_send(letta_stack: Any, agent_id: str) -> tuple[Any, str]:
    """Start a slow send in a new conversation, send again once it streams; → (answer, run)."""
    with letta_stack.http() as http:
        conv = http.post(f"/v1/conversations/?agent_id={agent_id}", json={}).json()["id"]
    started = threading.Event()
    seen: dict[str, Any] = {}

    def slow() -> None:
        body = {
            "messages": user("busy [[long 12]] [[slow 0.25]]"),
            "streaming": True,
            "stream_tokens": True,
        }
        with (
            letta_stack.http() as http,
            http.stream("POST", f"/v1/conversations/{conv}/messages", json=body) as r,
        ):
            for line in r.iter_lines():
                for c in events([line]):
                    seen.setdefault("run_id", c.get("run_id"))
                    started.set()
        started.set()

    thread = threading.Thread(target=slow)
    thread.start()
    try:
        assert started.wait(30)
        with letta_stack.http() as http:
            answer = http.post(
                f"/v1/conversations/{conv}/messages",
                json={"messages": user("me too"), "streaming": True},
            )
            answer.read()
    finally:
        thread.join(60)
    return answer, seen["run_id"]


@pytest.mark.redis
def test_a_second_send_to_a_busy_conversation_is_409_naming_the_run(letta_stack, agent):
    answer, run_id = _busy_second_send(letta_stack, agent["id"])
    assert answer.status_code == 409
    assert answer.json() == {
        "detail": f"CONFLICT: Cannot send a new message: Another request (run_id={run_id}) is "
        "currently being processed for this conversation. Please wait for it to complete.",
        "run_id": run_id,
    }


@pytest.mark.no_redis
def test_without_redis_a_busy_conversation_takes_a_second_send(letta_stack, agent):
    answer, _ = _busy_second_send(letta_stack, agent["id"])
    assert answer.status_code == 200
    assert "Echo: me too" in answer.text


@pytest.fixture(scope="module")
def parallel_agent(letta_stack: Any) -> dict[str, Any]:
    tool_ids = []
    with letta_stack.http() as http:
        for i in (1, 2):
            name = f"water_{i}_{uuid.uuid4().hex[:6]}"
            r = http.post(
                "/v1/tools/",
                json={
                    "source_code": TOOL_SOURCE.format(name=name),
                    "default_requires_approval": True,
                },
            )
            assert r.status_code == 200, r.text
            tool_ids.append(r.json()["id"])
    # Without parallel_tool_calls the server keeps only the first of the LLM's calls.
    return letta_stack.create_agent(
        name="e2e-parallel",
        tool_ids=tool_ids,
        model_settings={"provider_type": "openai", "parallel_tool_calls": True},
    )


def test_parallel_approval_streams_two_calls_and_needs_an_answer_for_each(
    letta_stack, parallel_agent
):
    aid = parallel_agent["id"]
    with letta_stack.http() as http:

        def send(messages):
            body = {"agent_id": aid, "messages": messages, "streaming": True}
            body["stream_tokens"] = True
            with http.stream("POST", "/v1/conversations/default/messages", json=body) as r:
                assert r.status_code == 200
                return events(r.iter_lines())

        chunks = send(user("water both [[parallel_approval]]"))
        assert letta_stack.chat_requests()[-1]["parallel_tool_calls"] is True
        requests = [c for c in chunks if c["message_type"] == "approval_request_message"]
        assert len({c["id"] for c in requests}) == 1
        assert all(isinstance(c["tool_calls"], dict) for c in requests)  # one call per chunk
        ids = list(dict.fromkeys(c["tool_calls"]["tool_call_id"] for c in requests))
        assert len(ids) == 2
        assert chunks[-2]["stop_reason"] == "requires_approval"

        def approval(*answers):
            return [{"type": "approval", "approvals": list(answers)}]

        first = {"type": "approval", "tool_call_id": ids[0], "approve": True}
        refused = send(approval(first))
        assert [c["stop_reason"] for c in refused if c["message_type"] == "stop_reason"] == [
            "error"
        ]
        error = next(c for c in refused if c["message_type"] == "error_message")
        assert error["detail"].startswith("Invalid tool call IDs.")

        second = {"type": "approval", "tool_call_id": ids[1], "approve": False, "reason": "no"}
        done = send(approval(first, second))
        returns = next(c for c in done if c["message_type"] == "tool_return_message")
        by_id = {r["tool_call_id"]: r for r in returns["tool_returns"]}
        assert by_id[ids[0]]["status"] == "success"
        assert by_id[ids[1]]["status"] == "error"
        assert by_id[ids[1]]["tool_return"] == (
            "Error: request to call tool denied. User reason: no"
        )
        assert done[-2]["stop_reason"] == "end_turn"
        assert text_of(done).count("Tool result:") == 2
