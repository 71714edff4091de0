"""An in-memory stand-in for the Letta REST API on httpx.MockTransport, for Qt unit tests.

Only for fast widget tests; the claim "works with Letta" is proven by tests/e2e against the real
server. Behaviour mirrors what the real 0.16.8 server was seen to do (see tests/peers/README.md).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from desktop.core.letta import LettaClient


@dataclass
class FakeLetta:
    key: str | None = "good-key"
    agents: list[dict[str, Any]] = field(default_factory=list)
    messages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    posts: list[dict[str, Any]] = field(default_factory=list)
    fail_next_send: int | None = None  # HTTP status for the next POST …/messages
    models: list[dict[str, Any]] = field(default_factory=list)  # GET /v1/models/

    def add_agent(self, name: str, model: str = "openai/gpt-4o-mini") -> dict[str, Any]:
        agent = {"id": f"agent-{uuid.uuid4()}", "name": name, "model": model}
        self.agents.append(agent)
        self.messages[agent["id"]] = []
        return agent

    def client(self, base_url: str = "https://letta.test", key: str | None = None) -> LettaClient:
        return LettaClient(
            base_url,
            key if key is not None else self.key,
            transport=agent_route_transport(self.handle),
        )

    def factory(self, base_url: str, key: str | None) -> LettaClient:
        return LettaClient(base_url, key, transport=agent_route_transport(self.handle))

    def handle(self, request: httpx.Request) -> httpx.Response:
        authorized = request.headers.get("authorization") == f"Bearer {self.key}"
        if self.key and not authorized and request.url.path != "/v1/health/":
            return httpx.Response(401, json={"detail": "Unauthorized"})
        path = request.url.path
        if path == "/v1/health/":
            return httpx.Response(200, json={"version": "0.16.8", "status": "ok"})
        if path == "/v1/models/" and request.method == "GET":
            return httpx.Response(200, json=self.models)
        if path == "/v1/agents/" and request.method == "GET":
            query = request.url.params.get("query_text", "").lower()
            found = [a for a in self.agents if query in a["name"].lower()]
            after = request.url.params.get("after")
            if after:
                ids = [a["id"] for a in found]
                found = found[ids.index(after) + 1 :] if after in ids else []
            return httpx.Response(200, json=found[: int(request.url.params.get("limit", 50))])
        parts = path.strip("/").split("/")
        if len(parts) >= 3 and parts[:2] == ["v1", "agents"]:
            agent = next((a for a in self.agents if a["id"] == parts[2]), None)
            if agent is None:
                return httpx.Response(404, json={"detail": f"NOT_FOUND: Agent {parts[2]}"})
            if len(parts) == 3:
                return httpx.Response(200, json=agent)
            if parts[3] == "messages" and request.method == "GET" and len(parts) == 4:
                history = self.messages[agent["id"]]
                limit = int(request.url.params.get("limit", 100))
                before = request.url.params.get("before")
                if before:
                    ids = [m["id"] for m in history]
                    history = history[: ids.index(before)] if before in ids else []
                return httpx.Response(200, json=history[-limit:])  # 0.16.8: oldest-first page
            if parts[3] == "messages" and request.method == "POST" and len(parts) == 4:
                return self._send(agent, json.loads(request.content))
            if parts[3:] == ["messages", "cancel"]:
                return httpx.Response(409, json={"detail": "CONFLICT: No active runs"})
        return httpx.Response(404, json={"detail": "NOT_FOUND"})

    def _send(self, agent: dict[str, Any], body: dict[str, Any]) -> httpx.Response:
        self.posts.append(body)
        if self.fail_next_send is not None:
            status, self.fail_next_send = self.fail_next_send, None
            return httpx.Response(status, json={"detail": "fake failure"})
        message = body["messages"][0]
        text = " ".join(p.get("text", "") for p in message["content"] if p["type"] == "text")
        history = self.messages[agent["id"]]
        stamp = f"2026-01-01T10:{len(history) // 60:02d}:{len(history) % 60:02d}+00:00"
        history.append(
            {
                "id": f"message-{uuid.uuid4()}",
                "message_type": "user_message",
                "otid": message["otid"],
                "date": stamp,
                "content": message["content"],
            }
        )
        reply_id = f"message-{uuid.uuid4()}"
        reply = f"Echo: {text}"
        history.append(
            {
                "id": reply_id,
                "message_type": "assistant_message",
                "date": stamp,
                "otid": str(uuid.uuid4()),
                "content": reply,
            }
        )
        events = [{"message_type": "ping"}]
        for i in range(0, len(reply), 4):
            events.append(
                {
                    "id": reply_id,
                    "otid": "o1",
                    "message_type": "assistant_message",
                    "content": reply[i : i + 4],
                }
            )
        events.append({"message_type": "stop_reason", "stop_reason": "end_turn"})
        sse = "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"
        return httpx.Response(
            200, headers={"content-type": "text/event-stream"}, content=sse.encode()
        )


def agent_route(request: httpx.Request) -> httpx.Request:
    """The client sends to the default conversation as `POST /v1/conversations/default/messages`
    with `agent_id` in the body; on 0.16.8 that stores exactly like the agent route, which is
    what these in-memory fakes model. The body is kept as sent (tests read it)."""
    if request.method == "POST" and request.url.path == "/v1/conversations/default/messages":
        agent_id = json.loads(request.content).get("agent_id", "")
        return httpx.Request(
            "POST",
            request.url.copy_with(path=f"/v1/agents/{agent_id}/messages"),
            headers=request.headers,
            content=request.content,
        )
    return request


def agent_route_transport(
    handler: Callable[[httpx.Request], httpx.Response],
) -> httpx.MockTransport:
    return httpx.MockTransport(lambda request: handler(agent_route(request)))
