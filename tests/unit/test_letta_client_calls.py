"""Each LettaClient call: the request it makes (method, route, query, body) and what it reads
back — including the calls only the app's helpers and menus use (the describer's agent, a
conversation's own model, deleting a conversation) and the body encoder of every send."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

from desktop.core.letta import LettaClient, Message, ServerError
from desktop.core.letta.client import json_body, newest_first
from tests.unit.test_letta_conversations import Recorder

AGENT = "agent-1"
CONV = "conv-7"


def client_for(payload) -> tuple[LettaClient, Recorder]:
    rec = Recorder(lambda _r: httpx.Response(200, json=payload))
    client = LettaClient("https://letta.test", "key-123456", transport=httpx.MockTransport(rec))
    return client, rec


def body(request: httpx.Request) -> dict:
    return json.loads(request.content)


# -- agents ----------------------------------------------------------------------------------


def test_health_returns_the_servers_answer_or_nothing():
    client, rec = client_for({"version": "0.16.8", "status": "ok"})
    assert client.health() == {"version": "0.16.8", "status": "ok"}
    assert (rec.requests[0].method, rec.requests[0].url.path) == ("GET", "/v1/health/")
    odd, _ = client_for(["not", "a", "dict"])
    assert odd.health() == {}


def test_find_agents_asks_for_the_tag_oldest_first():
    agents = [{"id": "a-1", "name": "Describer", "tags": ["letta-desktop"]}, {"name": "no id"}]
    client, rec = client_for(agents)
    found = client.find_agents("letta-desktop")
    assert [(a.id, a.name) for a in found] == [("a-1", "Describer")]
    params = rec.requests[0].url.params
    assert params.get_list("tags") == ["letta-desktop"]
    assert (params["order"], params["order_by"], params["limit"]) == ("asc", "created_at", "20")
    client.find_agents("x", limit=3)
    assert rec.requests[1].url.params["limit"] == "3"


def test_create_agent_posts_its_name_model_and_extras():
    client, rec = client_for({"id": "a-9", "name": "Describer", "model": "openai/gpt-4o-mini"})
    agent = client.create_agent("Describer", "openai/gpt-4o-mini", tags=["letta-desktop"])
    assert (agent.id, agent.name, agent.model) == ("a-9", "Describer", "openai/gpt-4o-mini")
    req = rec.requests[0]
    assert (req.method, req.url.path) == ("POST", "/v1/agents/")
    assert body(req) == {
        "name": "Describer",
        "model": "openai/gpt-4o-mini",
        "tags": ["letta-desktop"],
    }


def test_an_agent_answer_without_an_id_is_a_server_error_in_words():
    client, _ = client_for({"name": "no id"})
    with pytest.raises(ServerError) as caught:
        client.create_agent("x", "m")
    assert str(caught.value) == "The server sent an agent the app could not read."


def test_get_agent_asks_for_its_tools():
    client, rec = client_for({"id": AGENT, "name": "A", "tools": [{"name": "web_search"}]})
    agent = client.get_agent(AGENT)
    assert agent.tool_names == frozenset({"web_search"})
    req = rec.requests[0]
    assert (req.method, req.url.path) == ("GET", f"/v1/agents/{AGENT}")
    assert req.url.params.get_list("include") == ["agent.tools"]


@pytest.mark.parametrize(
    "window, expected",
    [(200000, {"model": "m/x", "context_window_limit": 200000}), (None, {"model": "m/x"})],
)
def test_switching_the_agents_model_sends_its_context_window(window, expected):
    client, rec = client_for({"id": AGENT, "model": "m/x"})
    assert client.update_agent_model(AGENT, "m/x", window).model == "m/x"
    req = rec.requests[0]
    assert (req.method, req.url.path, body(req)) == ("PATCH", f"/v1/agents/{AGENT}", expected)


# -- conversations -----------------------------------------------------------------------------


def test_get_conversation_reads_its_own_model():
    client, rec = client_for({"id": CONV, "agent_id": AGENT, "model": "anthropic/claude"})
    conv = client.get_conversation(CONV)
    assert (conv.id, conv.agent_id, conv.model) == (CONV, AGENT, "anthropic/claude")
    assert (rec.requests[0].method, rec.requests[0].url.path) == (
        "GET",
        f"/v1/conversations/{CONV}",
    )
    broken, _ = client_for(["no", "conversation"])
    with pytest.raises(ServerError) as caught:
        broken.get_conversation(CONV)
    assert str(caught.value) == "The server sent a conversation the app could not read."


@pytest.mark.parametrize(
    "window, expected",
    [
        (128000, {"model": "openai/gpt-4o", "context_window_limit": 128000}),
        (None, {"model": "openai/gpt-4o"}),
    ],
)
def test_switching_a_conversations_model(window, expected):
    client, rec = client_for({"id": CONV, "model": "openai/gpt-4o"})
    conv = client.update_conversation_model(CONV, "openai/gpt-4o", window)
    assert conv.model == "openai/gpt-4o"
    req = rec.requests[0]
    assert (req.method, req.url.path, body(req)) == ("PATCH", f"/v1/conversations/{CONV}", expected)


def test_delete_conversation():
    client, rec = client_for({})
    assert client.delete_conversation(CONV) is None
    req = rec.requests[0]
    assert (req.method, req.url.path) == ("DELETE", f"/v1/conversations/{CONV}")


def test_the_conversation_list_pages_on_from_the_last_id():
    client, rec = client_for([{"id": "c-3"}])
    client.list_conversations(AGENT, limit=2, after="c-2")
    params = rec.requests[0].url.params
    assert (params["after"], params["limit"], params["order_by"]) == ("c-2", "2", "last_message_at")
    client.list_conversations(AGENT)
    assert "after" not in rec.requests[1].url.params


@pytest.mark.parametrize(
    "payload",
    [
        {"items": [{"id": "c-1"}]},
        {"data": [{"id": "c-1"}]},
        {"agents": [{"id": "c-1"}]},
        {"messages": [{"id": "c-1"}]},
    ],
)
def test_a_wrapped_page_is_read_too(payload):
    client, _ = client_for(payload)
    assert [c.id for c in client.list_conversations(AGENT)] == ["c-1"]


def test_a_page_that_is_neither_a_list_nor_a_wrapped_one_is_a_server_error():
    client, _ = client_for({"items": "nope"})
    with pytest.raises(ServerError) as caught:
        client.list_conversations(AGENT)
    assert str(caught.value) == "The server sent a list the app could not read."
    empty, _ = client_for(None)
    assert empty.list_conversations(AGENT) == []


# -- history order ---------------------------------------------------------------------------


def msg(kind_type: str, date: str | None, mid: str, **raw) -> Message:
    return Message.from_json({"id": mid, "message_type": kind_type, "date": date, **raw})


def test_a_page_is_turned_newest_first_by_its_dates():
    rising = [
        msg("user_message", "2026-01-01T09:00:00Z", "m1"),
        msg("assistant_message", "2026-01-01T09:00:05Z", "m2"),
        msg("user_message", "2026-01-01T09:01:00+00:00", "m3"),
    ]
    assert [m.id for m in newest_first(rising)] == ["m3", "m2", "m1"]
    assert [m.id for m in newest_first(rising[::-1])] == ["m3", "m2", "m1"]


def test_a_page_mixing_zoned_and_naive_dates_is_still_ordered():
    """The server writes UTC with or without saying so; one page may hold both."""
    rising = [
        msg("user_message", "2026-01-01T09:00:00", "m1"),
        msg("assistant_message", "2026-01-01T09:00:05Z", "m2"),
        msg("user_message", "2026-01-01T09:01:00", "m3"),
    ]
    assert [m.id for m in newest_first(rising)] == ["m3", "m2", "m1"]
    assert [m.id for m in newest_first(rising[::-1])] == ["m3", "m2", "m1"]


def test_with_tied_dates_a_runs_user_message_comes_before_its_replies():
    same = "2026-01-01T09:00:00Z"
    oldest_first = [
        msg("user_message", same, "u", run_id="run-1"),
        msg("reasoning_message", same, "r", run_id="run-1"),
        msg("assistant_message", same, "a", run_id="run-1"),
    ]
    assert [m.id for m in newest_first(oldest_first)] == ["a", "r", "u"]
    assert [m.id for m in newest_first(oldest_first[::-1])] == ["a", "r", "u"]


def test_with_nothing_else_to_go_by_the_system_message_is_the_oldest():
    page = [msg("system_message", None, "s"), msg("assistant_message", "bad date", "a")]
    assert [m.id for m in newest_first(page)] == ["a", "s"]
    assert [m.id for m in newest_first(page[::-1])] == ["a", "s"]
    # A system message's date moves when it is rewritten: it never outvotes the others.
    rewritten = [
        msg("assistant_message", "2026-01-01T09:00:05Z", "a2"),
        msg("assistant_message", "2026-01-01T09:00:01Z", "a1"),
        msg("system_message", "2026-01-02T00:00:00Z", "s"),
    ]
    assert [m.id for m in newest_first(rewritten)] == ["a2", "a1", "s"]


# -- the body of every send -------------------------------------------------------------------

BIG = 32 * 1024


@pytest.mark.parametrize(
    "value",
    [
        "A" * BIG,  # base64-like: spliced in as bytes
        "A" * (BIG - 1),
        'quote " inside' + "B" * BIG,
        "back\\slash" + "C" * BIG,
        "ünïcødé" + "D" * BIG,
        "tab\tcontrol" + "E" * BIG,
        f'"@@splice-0-{uuid.uuid4().hex[:12]}@@"' + "F" * BIG,  # looks like a marker
        "short",
    ],
)
def test_send_bodies_are_exactly_what_json_would_write(value):
    payload = {
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "two images"},
                    {"type": "image", "source": {"type": "base64", "data": value}},
                    {"type": "image", "source": {"type": "base64", "data": "G" * BIG}},
                ],
                "otid": "o-1",
            }
        ],
        "streaming": True,
        "n": 3,
        "none": None,
    }
    assert json_body(payload) == json.dumps(payload).encode("utf-8")
    assert json.loads(json_body(payload)) == payload
