"""LettaClient against tests/fake_letta.py answering from route tables: requests and parsing."""

from __future__ import annotations

import json

import httpx
import pytest

from desktop.core.letta import (
    AuthError,
    ConnectionFailed,
    LettaClient,
    Message,
    NetworkError,
    NotFound,
    RedirectRefused,
    ServerError,
    normalize_base_url,
)
from tests.fake_letta import FakeLetta

KEY = "sk-let-test-KEY-0123456789"


def answering(routes: dict) -> FakeLetta:
    """The fake server answering from this route table first; any key is accepted."""
    return FakeLetta(key=None, routes=routes)


def make_client(server, base_url="https://api.example.test", key=KEY, **kw) -> LettaClient:
    return LettaClient(base_url, key, transport=httpx.MockTransport(server), **kw)


# -- headers and base URL ---------------------------------------------------------------------


def test_bearer_key_is_sent():
    server = answering({("GET", "/v1/agents/"): []})
    make_client(server).check_key()
    assert server.requests[0].headers["authorization"] == f"Bearer {KEY}"


@pytest.mark.parametrize("key", [None, ""])
def test_no_key_means_no_authorization_header(key):
    server = answering({("GET", "/v1/agents/"): []})
    make_client(server, key=key).list_agents()
    assert "authorization" not in server.requests[0].headers


def test_project_header_only_when_given():
    server = answering({("GET", "/v1/agents/"): []})
    make_client(server, project="my-project").list_agents()
    make_client(server).list_agents()
    assert server.requests[0].headers["x-project"] == "my-project"
    assert "x-project" not in server.requests[1].headers


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("https://api.letta.com", "https://api.letta.com"),
        ("https://api.letta.com/", "https://api.letta.com"),
        ("https://api.letta.com/v1", "https://api.letta.com"),
        ("https://api.letta.com/v1/", "https://api.letta.com"),
        ("  api.letta.com/v1/ ", "https://api.letta.com"),
        ("letta.example.org:8443", "https://letta.example.org:8443"),
        ("http://localhost:8283/", "http://localhost:8283"),
        # a bare local address is a self-hosted server: plain http, not a TLS handshake failure
        ("localhost:8283", "http://localhost:8283"),
        ("127.0.0.1:8283/v1", "http://127.0.0.1:8283"),
        ("https://host.example/letta/v1", "https://host.example/letta"),
    ],
)
def test_base_url_normalisation(typed, expected):
    assert normalize_base_url(typed) == expected


def test_normalised_base_url_is_where_requests_go():
    server = answering({("GET", "/v1/agents/"): []})
    client = make_client(server, base_url="api.example.test/v1/")
    client.list_agents()
    assert str(server.requests[0].url).startswith("https://api.example.test/v1/agents/")
    assert client.base_url == "https://api.example.test"


# -- agents -----------------------------------------------------------------------------------


def test_list_agents_sends_paging_params_and_parses_bare_array():
    server = answering(
        {
            ("GET", "/v1/agents/"): [
                {"id": "agent-1", "name": "Ada", "model": "openai/gpt-4.1"},
                {"id": "agent-2", "name": "", "llm_config": {"handle": "letta/auto"}},
                {"name": "no id: skipped"},
                "garbage",
            ]
        }
    )
    agents = make_client(server).list_agents(limit=20, after="agent-0", query="ad")
    params = server.requests[0].url.params
    assert params["limit"] == "20"
    assert params["after"] == "agent-0"
    assert params["query_text"] == "ad"
    assert [(a.id, a.name, a.model) for a in agents] == [
        ("agent-1", "Ada", "openai/gpt-4.1"),
        ("agent-2", "agent-2", "letta/auto"),  # a nameless agent shows its id
    ]


def test_list_agents_first_page_sends_no_cursor_or_query():
    server = answering({("GET", "/v1/agents/"): []})
    assert make_client(server).list_agents() == []
    params = server.requests[0].url.params
    assert "after" not in params
    assert "query_text" not in params


@pytest.mark.parametrize(
    ("agent", "model"),
    [
        (
            {"id": "a", "model": "anthropic/claude-sonnet-4-5", "llm_config": {"handle": "x/y"}},
            "anthropic/claude-sonnet-4-5",
        ),
        ({"id": "a", "model": None, "llm_config": {"handle": "openai/gpt-4.1"}}, "openai/gpt-4.1"),
        (
            {"id": "a", "llm_config": {"model": "gpt-4o-mini", "model_endpoint_type": "openai"}},
            "openai/gpt-4o-mini",
        ),
        ({"id": "a", "llm_config": {"model": "local-model"}}, "local-model"),
        ({"id": "a"}, None),
    ],
)
def test_get_agent_resolves_model(agent, model):
    server = answering({("GET", "/v1/agents/a"): agent})
    assert make_client(server).get_agent("a").model == model


def test_get_agent_unknown_is_not_found():
    server = answering({})
    with pytest.raises(NotFound) as info:
        make_client(server).get_agent("agent-missing")
    assert "agent" in info.value.user_message
    assert info.value.status == 404


def test_update_agent_model_patches_the_handle():
    def patch(request):
        body = json.loads(request.content)
        return httpx.Response(200, json={"id": "a", "name": "A", "model": body["model"]})

    server = answering({("PATCH", "/v1/agents/a"): patch})
    agent = make_client(server).update_agent_model("a", "openai/gpt-4.1")
    assert json.loads(server.requests[0].content) == {"model": "openai/gpt-4.1"}
    assert agent.model == "openai/gpt-4.1"


def test_agent_answer_that_is_not_an_agent_is_a_server_error():
    server = answering({("PATCH", "/v1/agents/a"): ["not", "an", "agent"]})
    with pytest.raises(ServerError):
        make_client(server).update_agent_model("a", "openai/gpt-4.1")


# -- history ----------------------------------------------------------------------------------

PNG_B64 = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5E"
    "rkJggg=="
)

HISTORY = [
    {
        "id": "message-5",
        "message_type": "assistant_message",
        "otid": "o5",
        "date": "2025-01-01T00:00:05Z",
        "content": "It is a red square.",
    },
    {
        "id": "message-4",
        "message_type": "tool_return_message",
        "tool_return": "42",
        "status": "success",
        "tool_call_id": "call-1",
    },
    {
        "id": "message-3",
        "message_type": "tool_call_message",
        "tool_call": {"name": "lookup", "arguments": '{"q": "red"}', "tool_call_id": "call-1"},
    },
    {"id": "message-2", "message_type": "reasoning_message", "reasoning": "Look at the image."},
    {
        "id": "message-1",
        "message_type": "user_message",
        "otid": "otid-user-1",
        "content": [
            {"type": "text", "text": "What is this?"},
            {
                "type": "image",
                "source": {"type": "base64", "media_type": "image/png", "data": PNG_B64},
            },
            {
                "type": "image",
                "source": {
                    "type": "letta",
                    "file_id": "file-123",
                    "media_type": "image/jpeg",
                    "data": PNG_B64,
                },
            },
            {"type": "image", "source": {"type": "url", "url": "https://example.test/a.png"}},
            {"type": "text", "text": "And this?"},
        ],
    },
    {"id": "message-0", "message_type": "brand_new_message", "payload": {"x": 1}},
]


def test_list_messages_asks_newest_first_with_cursor():
    server = answering({("GET", "/v1/agents/a/messages"): []})
    client = make_client(server)
    client.list_messages("a", limit=10)
    client.list_messages("a", limit=10, before="message-9")
    first, second = (r.url.params for r in server.requests)
    assert first["order"] == "desc"
    assert first["limit"] == "10"
    assert "before" not in first
    assert second["before"] == "message-9"


def test_list_messages_parses_every_kind():
    server = answering({("GET", "/v1/agents/a/messages"): HISTORY})
    rows = make_client(server).list_messages("a")
    assert [m.kind for m in rows] == [
        "assistant",
        "tool_return",
        "tool_call",
        "reasoning",
        "user",
        "unknown",
    ]
    assistant, tool_return, tool_call, reasoning, user, unknown = rows
    assert assistant.text == "It is a red square."
    assert assistant.date == "2025-01-01T00:00:05Z"
    assert (tool_return.text, tool_return.status) == ("42", "success")
    assert (tool_call.tool_name, tool_call.tool_arguments, tool_call.tool_call_id) == (
        "lookup",
        '{"q": "red"}',
        "call-1",
    )
    assert reasoning.text == "Look at the image."

    assert user.text == "What is this?\nAnd this?"
    assert user.otid == "otid-user-1"
    base64_img, stored_img, url_img = user.images
    assert (base64_img.source_type, base64_img.media_type, base64_img.data) == (
        "base64",
        "image/png",
        PNG_B64,
    )
    assert (stored_img.source_type, stored_img.file_id, stored_img.media_type) == (
        "letta",
        "file-123",
        "image/jpeg",
    )
    assert stored_img.data == PNG_B64  # stored images come back with their inline data
    assert (url_img.source_type, url_img.url) == ("url", "https://example.test/a.png")

    # a message type this app does not know yet is a row, not a crash
    assert unknown.id == "message-0"
    assert "brand_new_message" in unknown.text


def test_list_messages_tolerates_wrapped_page():
    server = answering({("GET", "/v1/agents/a/messages"): {"items": HISTORY[:1]}})
    assert [m.id for m in make_client(server).list_messages("a")] == ["message-5"]


def test_find_user_message_by_otid():
    server = answering({("GET", "/v1/agents/a/messages"): HISTORY})
    client = make_client(server)
    found = client.find_user_message("a", "otid-user-1")
    assert isinstance(found, Message)
    assert found.id == "message-1"
    # an assistant message with that otid is not the user's message
    assert client.find_user_message("a", "o5") is None
    assert client.find_user_message("a", "never-sent") is None
    assert all(r.url.params["order"] == "desc" for r in server.requests)


# -- transport failures -----------------------------------------------------------------------


def test_connect_error_is_connection_failed_and_safe_to_retry():
    def refuse(request):
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    client = make_client(refuse, base_url="http://letta.lan:8283")
    with pytest.raises(ConnectionFailed) as info:
        client.list_agents()
    assert info.value.may_have_reached_server is False
    assert info.value.retryable is True
    assert "letta.lan:8283" in info.value.user_message


def test_read_error_during_request_is_network_error():
    def broken(request):
        raise httpx.ReadError("connection reset", request=request)

    with pytest.raises(NetworkError) as info:
        make_client(broken).list_models()
    assert info.value.may_have_reached_server is True


def test_html_page_instead_of_json_is_server_error_naming_the_server():
    page = b"<!doctype html><html><body><h1>Welcome to nginx!</h1></body></html>"
    server = answering(
        {
            ("GET", "/v1/agents/"): httpx.Response(
                200, content=page, headers={"content-type": "text/html"}
            )
        }
    )
    client = make_client(server, base_url="https://portal.example.test")
    with pytest.raises(ServerError) as info:
        client.list_agents()
    message = info.value.user_message
    assert "portal.example.test" in message
    assert "web page" in message
    assert "<" not in message


def test_unreadable_list_is_server_error():
    server = answering({("GET", "/v1/models/"): "just a string"})
    with pytest.raises(ServerError):
        make_client(server).list_models()


def test_redirect_is_refused_and_key_never_leaves_for_the_other_host():
    seen_hosts: list[tuple[str, str | None]] = []

    def handler(request):
        seen_hosts.append((request.url.host, request.headers.get("authorization")))
        if request.url.host == "api.example.test":
            return httpx.Response(302, headers={"location": "https://evil.example.test/v1/agents/"})
        return httpx.Response(200, json=[])

    client = make_client(handler)
    with pytest.raises(RedirectRefused) as info:
        client.list_agents()
    assert "evil.example.test" in info.value.user_message
    with pytest.raises(RedirectRefused):
        client.stream_message("a", [{"type": "text", "text": "hi"}], "otid-1").__iter__().__next__()
    assert [host for host, _ in seen_hosts] == ["api.example.test", "api.example.test"]


def test_auth_error_on_key_check():
    server = answering(
        {("GET", "/v1/agents/"): httpx.Response(401, json={"detail": "Unauthorized"})}
    )
    with pytest.raises(AuthError) as info:
        make_client(server).check_key()
    assert "API key" in info.value.user_message


def test_list_models_parses_handles():
    server = answering(
        {
            ("GET", "/v1/models/"): [
                {
                    "handle": "openai/gpt-4.1",
                    "name": "gpt-4.1",
                    "display_name": "GPT-4.1",
                    "provider_name": "openai",
                    "max_context_window": 1047576,
                }
            ]
        }
    )
    (model,) = make_client(server).list_models()
    assert (model.handle, model.display_name, model.provider, model.context_window) == (
        "openai/gpt-4.1",
        "GPT-4.1",
        "openai",
        1047576,
    )


def _m(kind: str, date: str, run: str | None = None, mid: str = "") -> Message:
    mtype = {"user": "user_message", "assistant": "assistant_message", "system": "system_message"}[
        kind
    ]
    return Message.from_json(
        {
            "id": mid or f"{kind}-{date}-{run}",
            "message_type": mtype,
            "date": date,
            "run_id": run,
            "content": kind,
        }
    )


def test_history_pages_come_out_newest_first_whatever_order_the_server_used():
    from desktop.core.letta.client import newest_first

    # Distinct dates decide.
    asc = [_m("user", "2026-01-01T10:00:00Z"), _m("assistant", "2026-01-01T10:00:05Z")]
    assert newest_first(asc) == asc[::-1]
    assert newest_first(asc[::-1]) == asc[::-1]
    # The legacy server's one-second dates tie: the run's user message comes first.
    same = "2026-01-01T10:00:00+00:00"
    chrono = [
        _m("user", same, "r1"),
        _m("assistant", same, "r1"),
        _m("user", same, "r2"),
        _m("assistant", same, "r2"),
    ]
    assert [m.id for m in newest_first(chrono)] == [m.id for m in chrono[::-1]]
    assert [m.id for m in newest_first(chrono[::-1])] == [m.id for m in chrono[::-1]]
    # Only the system message tells: it is the oldest.
    sys_first = [_m("system", same), _m("assistant", same)]
    assert newest_first(sys_first)[0].kind == "assistant"


class PagedHistory:
    """GET /v1/agents/a/messages with limit/before paging over `n` messages, one a minute;
    message i (0 = oldest) is a user message with otid f"o{i}" every 3rd, else assistant."""

    START = 1_764_000_000  # epoch seconds of message 0

    def __init__(self, n: int):
        self.n = n
        self.pages = 0

    def message(self, i: int) -> dict:
        from datetime import datetime, timezone

        date = datetime.fromtimestamp(self.START + 60 * i, timezone.utc).isoformat()
        kind = "user_message" if i % 3 == 0 else "assistant_message"
        return {
            "id": f"message-{i}",
            "message_type": kind,
            "otid": f"o{i}",
            "date": date,
            "content": f"m{i}",
        }

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.pages += 1
        limit = int(request.url.params["limit"])
        before = request.url.params.get("before")
        top = int(before.split("-")[1]) if before else self.n
        ids = range(top - 1, max(-1, top - 1 - limit), -1)
        return httpx.Response(200, json=[self.message(i) for i in ids])


def test_retry_check_finds_a_message_buried_under_pages_of_later_steps():
    history = PagedHistory(400)
    client = make_client(answering({("GET", "/v1/agents/a/messages"): history}))
    sent_at = history.START + 60 * 150
    found = client.find_user_message("a", "o150", sent_at=sent_at)
    assert found is not None and found.id == "message-150"  # 249 messages on top of it
    assert history.pages == 3


def test_retry_check_stops_at_the_send_time_or_the_start_of_the_history():
    history = PagedHistory(400)
    client = make_client(answering({("GET", "/v1/agents/a/messages"): history}))
    # Sent a minute before the newest message and not stored: older pages cannot hold it,
    # even allowing for a server clock 15 minutes behind.
    assert client.find_user_message("a", "lost", sent_at=history.START + 60 * 398) is None
    assert history.pages == 1
    history.pages = 0
    assert client.find_user_message("a", "lost") is None  # no send time: to the start
    assert history.pages == 5  # four full pages, then the empty one that ends the history
    history.pages = 0
    assert client.find_user_message("a", "lost", max_pages=2) is None
    assert history.pages == 2
