"""Today's Letta, proven against the real server: the SDK underneath, the conversations route,
background runs that survive a cut, run-scoped cancel, parallel approvals, Cloud's refusals.

The client is the app's own `LettaClient` (the adapter over `letta-client`); where a fault is
needed it talks through the fault proxy, and what the server stored is read from the server
directly. Tests marked `redis` need the stack's Redis (background runs, locks, run-scoped
cancel); the no-Redis run (LETTA_TEST_NO_REDIS=1) skips them and proves the fallback instead.
"""

from __future__ import annotations

import threading
import uuid

import httpx
import pytest

from desktop.core import letta
from desktop.core.letta import (
    ApprovalDecision,
    LettaClient,
    StreamChunk,
    StreamReconnecting,
    StreamStop,
)
from desktop.core.letta import client as client_module
from desktop.core.letta.errors import _REASONS
from tests.peers.fault_proxy import CLOUD_REASONS, FaultProxy, Rule

from .test_conversations_approvals import TOOL_SOURCE

KEY = "e2e-any-key"


class Recording(httpx.HTTPTransport):
    """A real transport that remembers every request it sent."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return super().handle_request(request)


@pytest.fixture(scope="module")
def proxy(letta_stack):
    with FaultProxy(letta_stack.base_url) as p:
        yield p


@pytest.fixture
def via_proxy(proxy):
    proxy.clear_rules()
    proxy.reset_counts()
    client = LettaClient(proxy.url, KEY)
    yield client
    client.close()
    assert proxy.wait_idle(30)


def text_of(content: object) -> str:
    if isinstance(content, str):
        return content
    return "".join(p.get("text", "") for p in content or [] if isinstance(p, dict))


def history(letta_stack, agent_id: str) -> list[dict]:
    with letta_stack.http() as http:
        return http.get(
            f"/v1/agents/{agent_id}/messages", params={"limit": 100, "order": "desc"}
        ).json()


def stored(letta_stack, agent_id: str, otid: str) -> int:
    return sum(
        1
        for m in history(letta_stack, agent_id)
        if m.get("message_type") == "user_message" and m.get("otid") == otid
    )


def replies(events: list) -> str:
    return "".join(e.text for e in events if isinstance(e, StreamChunk) and e.kind == "assistant")


def send(client: LettaClient, agent_id: str, text: str, conversation: str | None = None):
    otid = letta.new_otid()
    stream = client.stream_message(agent_id, [{"type": "text", "text": text}], otid, conversation)
    return otid, stream


def test_every_request_carries_the_sdk_headers_and_sends_on_the_conversations_route(
    letta_stack, letta_agent
):
    transport = Recording()
    client = LettaClient(letta_stack.base_url, KEY, transport=transport)
    try:
        client.check_key()
        client.list_agents(limit=5)
        client.get_agent(letta_agent["id"])
        client.list_models()
        client.list_conversations(letta_agent["id"])
        client.list_messages(letta_agent["id"], conversation_id="default")
        otid, stream = send(client, letta_agent["id"], "headers please")
        events = list(stream)
    finally:
        client.close()
    assert replies(events) == "Echo: headers please"
    for request in transport.requests:
        assert request.headers.get("x-stainless-package-version"), request.url
        assert request.headers["user-agent"].startswith("Letta/Python"), request.url
        assert request.headers["authorization"] == f"Bearer {KEY}"
    sends = [r for r in transport.requests if r.method == "POST"]
    # Without Redis the server refuses `background` before storing; the send goes once more.
    expected = 1 if letta_stack.has_redis else 2
    assert [r.url.path for r in sends] == ["/v1/conversations/default/messages"] * expected
    assert stored(letta_stack, letta_agent["id"], otid) == 1


def test_without_redis_the_send_falls_back_quietly(letta_stack, letta_agent, via_proxy, proxy):
    otid, stream = send(via_proxy, letta_agent["id"], "fallback or not")
    events = list(stream)
    assert replies(events) == "Echo: fallback or not"
    assert events[-1] == StreamStop("end_turn") or StreamStop("end_turn") in events
    assert stored(letta_stack, letta_agent["id"], otid) == 1
    posts = proxy.forwarded_count(r"/conversations/default/messages$", "POST")
    if letta_stack.has_redis:
        assert via_proxy.background_supported is not False and posts == 1
        assert stream.run_id and stream.run_id.startswith("run-")
    else:
        # 0.16.8 without Redis refuses `background: true` with a 503 before storing anything;
        # the same send goes again without it, once.
        assert via_proxy.background_supported is False and posts == 2


@pytest.mark.redis
def test_a_cut_background_stream_is_reattached_and_the_reply_arrives_once_whole(
    letta_stack, letta_agent, via_proxy, proxy
):
    proxy.add(Rule("cut", path=r"/conversations/default/messages$", events=4))
    otid, stream = send(via_proxy, letta_agent["id"], "keep going [[long 40]]")
    events = list(stream)
    assert any(isinstance(e, StreamReconnecting) for e in events)
    assert proxy.forwarded_count(r"/messages$", "POST") == 1  # never sent again
    assert proxy.forwarded_count(r"/conversations/default/stream$", "POST") >= 1
    text = replies(events)
    words = " ".join(f"w{i}" for i in range(1, 41))
    assert text.startswith("Echo: keep going") and text.endswith(words)
    assert text.count("w40") == 1 and text.count("Echo:") == 1
    assert [e for e in events if isinstance(e, StreamStop)][-1] == StreamStop("end_turn")
    assert stored(letta_stack, letta_agent["id"], otid) == 1
    saved = [
        text_of(m.get("content"))
        for m in history(letta_stack, letta_agent["id"])
        if m.get("message_type") == "assistant_message"
    ]
    assert text in saved  # what the user saw is what the agent said


@pytest.mark.redis
def test_retry_after_a_cut_reattaches_by_otid_instead_of_sending_again(
    letta_stack, letta_agent, via_proxy, proxy, monkeypatch
):
    monkeypatch.setattr(client_module, "RESUME_ATTEMPTS", 0)  # the cut reaches the user
    proxy.add(Rule("cut", path=r"/conversations/default/messages$", events=3))
    otid, stream = send(via_proxy, letta_agent["id"], "cut me [[long 20]]")
    with pytest.raises(letta.StreamCut):
        list(stream)
    events = list(via_proxy.resume_message(letta_agent["id"], otid))  # what Retry does
    assert replies(events).endswith("w20") and replies(events).count("Echo:") == 1
    assert proxy.forwarded_count(r"/messages$", "POST") == 1
    assert stored(letta_stack, letta_agent["id"], otid) == 1


@pytest.mark.redis
def test_stop_cancels_only_this_conversations_run(letta_stack, letta_agent):
    client = LettaClient(letta_stack.base_url, KEY)
    try:
        first = client.create_conversation(letta_agent["id"], summary="stopped here")
        second = client.create_conversation(letta_agent["id"], summary="keeps going")
        _, a = send(client, letta_agent["id"], "slow one [[slow 0.2]] [[long 30]]", first.id)
        _, b = send(client, letta_agent["id"], "other one [[slow 0.1]] [[long 30]]", second.id)
        got: dict[str, list] = {"a": [], "b": []}
        failures: list[BaseException] = []
        started = threading.Event()

        def read(name: str, stream) -> None:
            try:
                for event in stream:
                    got[name].append(event)
                    if name == "a" and isinstance(event, StreamChunk) and stream.run_id:
                        started.set()
            except BaseException as exc:  # reported below
                failures.append(exc)

        readers = [threading.Thread(target=read, args=x) for x in (("a", a), ("b", b))]
        for t in readers:
            t.start()
        assert started.wait(60)
        a.cancel()
        for t in readers:
            t.join(120)
        assert not failures, failures
        assert got["a"][-1] == StreamStop("cancelled")
        assert [e for e in got["b"] if isinstance(e, StreamStop)][-1] == StreamStop("end_turn")
        assert replies(got["b"]).endswith("w30")
    finally:
        client.close()


@pytest.fixture
def two_tool_agent(letta_stack):
    names = [f"water_{uuid.uuid4().hex[:6]}", f"feed_{uuid.uuid4().hex[:6]}"]
    ids = []
    with letta_stack.http() as http:
        for name in names:
            r = http.post(
                "/v1/tools/",
                json={
                    "source_code": TOOL_SOURCE.format(name=name),
                    "default_requires_approval": True,
                },
            )
            assert r.status_code == 200, r.text
            ids.append(r.json()["id"])
    agent = letta_stack.create_agent(name="e2e-parallel", tool_ids=ids)
    with letta_stack.http() as http:  # as on Cloud: the model may call tools in parallel
        r = http.patch(f"/v1/agents/{agent['id']}", json={"parallel_tool_calls": True})
        assert r.status_code == 200, r.text
    return agent, names


def test_parallel_tool_calls_are_shown_and_answered_together(letta_stack, two_tool_agent):
    agent, (water, feed) = two_tool_agent
    client = LettaClient(letta_stack.base_url, KEY)
    try:
        _, stream = send(client, agent["id"], f"both please [[parallel_approval {water} {feed}]]")
        events = list(stream)
        assert events[-1] == StreamStop("requires_approval") or (
            StreamStop("requires_approval") in events
        )
        calls: dict[str, str] = {}
        for e in events:
            if isinstance(e, StreamChunk) and e.message_type == "approval_request_message":
                assert e.tool_call_id
                calls.setdefault(e.tool_call_id, e.tool_name or "")
                calls[e.tool_call_id] = calls[e.tool_call_id] or (e.tool_name or "")
        assert sorted(calls.values()) == sorted([water, feed])
        # History holds the same pending calls (what the server will want answered).
        page = client.list_messages(agent["id"], conversation_id="default")
        requests = [m for m in page if m.message_type == "approval_request_message"]
        assert {c.tool_call_id for m in requests for c in m.tool_calls} == set(calls)
        decisions = [
            ApprovalDecision(cid, name == water, None if name == water else "no food today")
            for cid, name in calls.items()
        ]
        after = list(client.stream_approval(agent["id"], decisions))
        assert [e for e in after if isinstance(e, StreamStop)][-1] == StreamStop("end_turn")
        # Both answers reached their tools: one ran, one was refused with the user's reason
        # (0.16.8 returns them as one tool_return_message with two `tool_returns`).
        page = client.list_messages(agent["id"], conversation_id="default")
        results = " | ".join(m.text for m in page if m.kind == "tool_return")
        assert "watered Echo: both please" in results
        assert "User reason: no food today" in results
        # The agent is free again: the next send is not refused with 409.
        _, stream = send(client, agent["id"], "thanks")
        assert replies(list(stream)) == "Echo: thanks"
    finally:
        client.close()


@pytest.mark.parametrize("reason", sorted(CLOUD_REASONS))
def test_cloud_refusals_have_their_own_sentence_and_nothing_is_sent(
    letta_stack, letta_agent, via_proxy, proxy, reason
):
    proxy.add(Rule("cloud", reason=reason, path=r"/messages$", retry_after=2))
    otid, stream = send(via_proxy, letta_agent["id"], f"refused {reason}")
    with pytest.raises(letta.LettaError) as caught:
        list(stream)
    err = caught.value
    assert proxy.forwarded_count(r"/messages$", "POST") == 0
    assert stored(letta_stack, letta_agent["id"], otid) == 0
    if reason == "cloud_api_shutting_down":
        assert isinstance(err, letta.ServiceUnavailable) and not err.may_have_reached_server
        assert "nothing was sent" in err.user_message
        return
    assert isinstance(err, letta.RateLimited)
    assert reason in err.reasons
    assert not err.retryable  # waiting a moment does not buy credits or quota
    assert err.user_message.startswith(_REASONS[reason])


def test_the_window_shows_both_parallel_calls_and_sends_the_mixed_answer(
    qtbot, letta_stack, two_tool_agent, open_window
):
    from PySide6.QtCore import Qt

    from desktop.ui.transcript import KindRole, RowKind, TextRole

    agent, (water, feed) = two_tool_agent
    window = open_window(agent["id"], ready=lambda w: w.session._history_task is None)
    panel = window.approval
    window.composer.set_text(f"garden chores [[parallel_approval {water} {feed}]]")
    qtbot.keyClick(window.composer, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: panel.isVisible() and len(panel.calls) == 2, timeout=60000)
    qtbot.waitUntil(lambda: not window.session.busy, timeout=60000)
    shown = sorted(view.call.name for view in panel.calls)
    assert shown == sorted([water, feed])
    for view in panel.calls:
        assert "garden chores" in view.arguments.toPlainText()
        (view.approve if view.call.name == water else view.deny).setChecked(True)
    qtbot.keyClicks(panel.reason, "fish are fed")
    assert panel.send_button.isEnabled()
    panel.send_button.click()
    qtbot.waitUntil(lambda: not panel.isVisible(), timeout=5000)
    qtbot.waitUntil(lambda: not window.session.busy, timeout=60000)

    def rows() -> list[tuple[RowKind, str]]:
        model = window.transcript_model
        return [
            (model.index(r, 0).data(KindRole), model.index(r, 0).data(TextRole) or "")
            for r in range(model.rowCount())
        ]

    qtbot.waitUntil(
        lambda: any(k is RowKind.ASSISTANT and t.startswith("Tool result:") for k, t in rows()),
        timeout=60000,
    )
    results = " | ".join(t for k, t in rows() if k is RowKind.TOOL_RETURN)
    assert "watered Echo: garden chores" in results
    assert "User reason: fish are fed" in results
    assert window.session.pending_approval is None
