"""What every request of a LettaClient carries, whatever the environment holds: the key it was
given (or none), and ids that stay inside their own route."""

from __future__ import annotations

import httpx
import pytest

from desktop.core.letta import LettaClient
from tests.unit.test_letta_conversations import Recorder, sse

ENV_KEY = "sk-from-the-environment-0000"


def empty_lists_and_finished_sends(request: httpx.Request) -> httpx.Response:
    if request.method == "POST":
        return sse({"message_type": "stop_reason", "stop_reason": "end_turn"})
    return httpx.Response(200, json=[])


def read_and_send(client: LettaClient) -> None:
    client.list_agents()
    list(client.stream_message("agent-1", [{"type": "text", "text": "hi"}], "otid-1"))


def keyless_client(rec: Recorder) -> LettaClient:
    return LettaClient("http://127.0.0.1:8283", None, transport=httpx.MockTransport(rec))


def test_without_a_key_no_request_carries_the_environments_key(monkeypatch):
    """A local server needs no key: neither a read nor a send may pick up LETTA_API_KEY."""
    monkeypatch.setenv("LETTA_API_KEY", ENV_KEY)
    rec = Recorder(empty_lists_and_finished_sends)
    client = keyless_client(rec)
    read_and_send(client)
    assert [r.method for r in rec.requests] == ["GET", "POST"]
    for request in rec.requests:
        assert "authorization" not in request.headers
        assert ENV_KEY not in str(request.headers)


def test_a_given_key_goes_on_reads_and_sends_alike(monkeypatch):
    monkeypatch.setenv("LETTA_API_KEY", ENV_KEY)
    rec = Recorder(empty_lists_and_finished_sends)
    client = LettaClient("https://letta.test", "key-123456", transport=httpx.MockTransport(rec))
    read_and_send(client)
    assert [r.headers["authorization"] for r in rec.requests] == ["Bearer key-123456"] * 2


@pytest.mark.parametrize(
    ("conversation", "path"),
    [
        ("..", "/v1/conversations/%2E%2E/messages"),
        (".", "/v1/conversations/%2E/messages"),
        ("a/../b", "/v1/conversations/a%2F..%2Fb/messages"),
        ("conv-1.2", "/v1/conversations/conv-1.2/messages"),
    ],
)
def test_a_conversation_id_never_leaves_the_send_route(conversation, path):
    """httpx resolves `.` and `..` segments: an id of dots alone would post to /v1/messages."""
    rec = Recorder(lambda _r: sse({"message_type": "stop_reason", "stop_reason": "end_turn"}))
    client = LettaClient("https://letta.test", "key-123456", transport=httpx.MockTransport(rec))
    list(client.stream_message("agent-1", [{"type": "text", "text": "hi"}], "otid-1", conversation))
    assert rec.requests[0].url.raw_path.decode() == path
