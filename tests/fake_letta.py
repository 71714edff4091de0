"""The one in-memory stand-in for the Letta REST API (httpx.MockTransport), for unit and Qt tests.

Only for fast tests; the claim "works with Letta" is proven by tests/e2e against the real server.
Behaviour mirrors what the real 0.16.8 server was seen to do (tests/peers/README.md, and the report
in tests/e2e/test_conversations_approvals.py):

- agents: the list (query, tags, paging), one agent, `PATCH` (a model switch), `POST` (a new
  agent, its body kept in `created`); `GET /v1/models/`;
- the agent route's history page oldest-first; conversations (`/v1/conversations/…`) with pages
  newest-first, the default conversation's page oldest-first; `DELETE` of one (kept in
  `deleted`);
- a user message is stored and answered "Echo: <text>" as a stream, the rows of one turn sharing
  a run_id; an image sent to an agent whose model is known to be text-only gets the provider's
  refusal (`llm_api_error`) instead;
- `[[approval]]` in the text stops with `requires_approval` on one water_plants call;
  `[[parallel]]` on two at once (water_plants and Letta Code's Bash), and then, like the server,
  an answer must cover exactly the pending ids (else 400 "Invalid tool call IDs"); a new message
  gets 409 PENDING_APPROVAL until the call is answered.

Configure with `key` (None: any key, or none, is accepted), `fail_next_send` (an HTTP status for
the next user message), `fail_list`/`fail_list_times` (the conversation list), `reply_sse` (fixed
stream bytes for every user message), `has_conversations` (False: a server from before them, its
/v1/conversations answering 404) and `routes` ((method, path) → a canned answer, consulted before
anything else: the client's unit tests feed it odd shapes). It records `requests` (every one),
`posts` (user messages, with the `route` they went to), `approvals` (approval messages, with route)
and `patches` ((agent id, body)).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from desktop.core.capabilities import capability_for
from desktop.core.letta import LettaClient

Answer = Any  # an httpx.Response, a callable(request) → Response, or JSON for a 200


def sse(events: list[dict[str, Any]]) -> httpx.Response:
    body = "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"
    return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body.encode())


@dataclass
class FakeLetta:
    key: str | None = "good-key"
    agents: list[dict[str, Any]] = field(default_factory=list)
    messages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # agent → history
    models: list[dict[str, Any]] = field(default_factory=list)  # GET /v1/models/
    conversations: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # agent → convs
    threads: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # conv → messages
    routes: dict[tuple[str, str], Answer] = field(default_factory=dict)
    fail_next_send: int | None = None  # HTTP status for the next user message
    fail_list: int | None = None  # HTTP status for the conversation list …
    fail_list_times: int = 1  # … this many times in a row (the SDK retries a read twice)
    reply_sse: bytes | None = None  # the stream every user message gets instead of the echo
    has_conversations: bool = True  # False: an older server, /v1/conversations/… answers 404
    requests: list[httpx.Request] = field(default_factory=list)
    posts: list[dict[str, Any]] = field(default_factory=list)
    approvals: list[dict[str, Any]] = field(default_factory=list)
    patches: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    created: list[dict[str, Any]] = field(default_factory=list)  # POST /v1/agents/ bodies
    deleted: list[str] = field(default_factory=list)  # conversations deleted
    pending: dict[str, str] = field(default_factory=dict)  # thread key → tool_call_id
    waiting: dict[str, list[str]] = field(default_factory=dict)  # thread key → parallel ids

    # -- set-up ------------------------------------------------------------------------------

    def add_agent(
        self, name: str, model: str = "openai/gpt-4o-mini", agent_id: str | None = None
    ) -> dict[str, Any]:
        agent = {"id": agent_id or f"agent-{uuid.uuid4()}", "name": name, "model": model}
        self.agents.append(agent)
        self.messages[agent["id"]] = []
        return agent

    def add_conversation(self, agent_id: str, summary: str | None = None) -> dict[str, Any]:
        n = sum(len(v) for v in self.conversations.values())
        conv = {
            "id": f"conv-{uuid.uuid4()}",
            "agent_id": agent_id,
            "summary": summary,
            "created_at": f"2026-01-02T10:00:{n:02d}Z",
        }
        self.conversations.setdefault(agent_id, []).insert(0, conv)  # newest first
        self.threads[conv["id"]] = []
        return conv

    def remove_conversation(self, conv_id: str) -> None:
        """Deleted elsewhere (another app): every route of it answers 404 from now on."""
        for convs in self.conversations.values():
            convs[:] = [c for c in convs if c["id"] != conv_id]
        self.threads.pop(conv_id, None)

    def client(self, base_url: str = "https://letta.test", key: str | None = None) -> LettaClient:
        return self.factory(base_url, key if key is not None else self.key)

    def factory(self, base_url: str, key: str | None) -> LettaClient:
        return LettaClient(base_url, key, transport=agent_route_transport(self.handle))

    def __call__(self, request: httpx.Request) -> httpx.Response:
        """The fake as a MockTransport handler, without the default-conversation rewrite."""
        return self.handle(request)

    # -- routing -----------------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        canned = self.routes.get((request.method, request.url.path))
        if canned is not None:
            if isinstance(canned, httpx.Response):
                return canned
            return canned(request) if callable(canned) else httpx.Response(200, json=canned)
        authorized = request.headers.get("authorization") == f"Bearer {self.key}"
        if self.key and not authorized and request.url.path != "/v1/health/":
            return httpx.Response(401, json={"detail": "Unauthorized"})
        path = request.url.path
        if path == "/v1/health/":
            return httpx.Response(200, json={"version": "0.16.8", "status": "ok"})
        if path == "/v1/models/" and request.method == "GET":
            return httpx.Response(200, json=self.models)
        if path == "/v1/agents/" and request.method == "GET":
            return self._list_agents(request)
        if path == "/v1/agents/" and request.method == "POST":
            body = json.loads(request.content)
            self.created.append(body)
            agent = self.add_agent(body["name"], body["model"])
            agent.update({k: v for k, v in body.items() if k in ("tags", "system")}, tools=[])
            return httpx.Response(200, json=agent)
        parts = path.strip("/").split("/")
        if parts[:2] == ["v1", "conversations"] and self.has_conversations:
            return self._conversations(request, parts)
        if len(parts) >= 3 and parts[:2] == ["v1", "agents"]:
            return self._agent(request, parts)
        return httpx.Response(404, json={"detail": "NOT_FOUND"})

    def _list_agents(self, request: httpx.Request) -> httpx.Response:
        query = request.url.params.get("query_text", "").lower()
        found = [a for a in self.agents if query in a["name"].lower()]
        for tag in request.url.params.get_list("tags"):
            found = [a for a in found if tag in a.get("tags", [])]
        after = request.url.params.get("after")
        if after:
            ids = [a["id"] for a in found]
            found = found[ids.index(after) + 1 :] if after in ids else []
        return httpx.Response(200, json=found[: int(request.url.params.get("limit", 50))])

    def _agent(self, request: httpx.Request, parts: list[str]) -> httpx.Response:
        agent = next((a for a in self.agents if a["id"] == parts[2]), None)
        if agent is None:
            return httpx.Response(404, json={"detail": f"NOT_FOUND: Agent {parts[2]}"})
        if len(parts) == 3 and request.method == "PATCH":
            body = json.loads(request.content)
            self.patches.append((agent["id"], body))
            agent.update(body)
            return httpx.Response(200, json=agent)
        if len(parts) == 3:
            return httpx.Response(200, json=agent)
        if parts[3:] == ["messages"] and request.method == "GET":
            history = self.messages[agent["id"]]
            limit = int(request.url.params.get("limit", 100))
            before = request.url.params.get("before")
            if before:
                ids = [m["id"] for m in history]
                history = history[: ids.index(before)] if before in ids else []
            return httpx.Response(200, json=history[-limit:])  # 0.16.8: oldest-first page
        if parts[3:] == ["messages"] and request.method == "POST":
            return self._post(agent["id"], agent["id"], json.loads(request.content))
        if parts[3:] == ["messages", "cancel"]:
            return httpx.Response(409, json={"detail": "CONFLICT: No active runs"})
        return httpx.Response(404, json={"detail": "NOT_FOUND"})

    def _conversations(self, request: httpx.Request, parts: list[str]) -> httpx.Response:
        if len(parts) == 2:
            agent_id = request.url.params.get("agent_id", "")
            if request.method == "GET":
                if self.fail_list is not None and self.fail_list_times > 0:
                    self.fail_list_times -= 1
                    return httpx.Response(self.fail_list, json={"detail": "fake list failure"})
                listed = self.conversations.get(agent_id, [])
                after = request.url.params.get("after")
                if after:
                    ids = [c["id"] for c in listed]
                    listed = listed[ids.index(after) + 1 :] if after in ids else []
                return httpx.Response(200, json=listed[: int(request.url.params.get("limit", 50))])
            body = json.loads(request.content or b"{}")
            return httpx.Response(200, json=self.add_conversation(agent_id, body.get("summary")))
        conv_id = parts[2]
        if len(parts) == 3:
            return self._one_conversation(request, conv_id)
        if conv_id == "default":
            agent_id = request.url.params.get("agent_id", "")
            history = self.messages.get(agent_id)
            key = agent_id
        else:
            history = self.threads.get(conv_id)
            key = conv_id
        if history is None:
            return httpx.Response(404, json={"detail": f"NOT_FOUND: {conv_id}"})
        if parts[3:] == ["messages"] and request.method == "GET":
            limit = int(request.url.params.get("limit", 100))
            page = history[-limit:]
            return httpx.Response(200, json=page if conv_id == "default" else page[::-1])
        if parts[3:] == ["messages"] and request.method == "POST":
            return self._post(key, conv_id, json.loads(request.content))
        if parts[3:] == ["cancel"]:
            return httpx.Response(409, json={"detail": "CONFLICT: No active runs"})
        return httpx.Response(404, json={"detail": "NOT_FOUND"})

    def _one_conversation(self, request: httpx.Request, conv_id: str) -> httpx.Response:
        """`GET` / `PATCH /v1/conversations/{id}` (a model of its own, like Cloud's)."""
        conv = next(
            (c for cs in self.conversations.values() for c in cs if c["id"] == conv_id), None
        )
        if conv is None:
            return httpx.Response(404, json={"detail": f"NOT_FOUND: Conversation {conv_id}"})
        if request.method == "DELETE":
            self.deleted.append(conv_id)
            self.remove_conversation(conv_id)
            return httpx.Response(200, json=None)
        if request.method == "PATCH":
            conv.update(json.loads(request.content))
        return httpx.Response(200, json=conv)

    # -- sending -----------------------------------------------------------------------------

    def _agent_of(self, key: str) -> dict[str, Any] | None:
        """The agent whose history `key` (an agent or a conversation id) is."""
        agent_id = next(
            (c["agent_id"] for cs in self.conversations.values() for c in cs if c["id"] == key),
            key,
        )
        return next((a for a in self.agents if a["id"] == agent_id), None)

    def _history(self, key: str) -> list[dict[str, Any]]:
        return self.threads[key] if key in self.threads else self.messages[key]

    def _post(self, key: str, route: str, body: dict[str, Any]) -> httpx.Response:
        message = body["messages"][0]
        history = self._history(key)
        stamp = f"2026-01-01T10:{len(history) // 60:02d}:{len(history) % 60:02d}+00:00"
        run = f"run-{uuid.uuid4()}"  # like the server: the rows of one turn share a run_id
        before = len(history)
        try:
            if message.get("type") == "approval":
                return self._approval(key, route, message, history, stamp)
            return self._user_message(key, route, body, message, history, stamp)
        finally:
            for row in history[before:]:
                row["run_id"] = run

    def _user_message(
        self,
        key: str,
        route: str,
        body: dict[str, Any],
        message: dict[str, Any],
        history: list[dict[str, Any]],
        stamp: str,
    ) -> httpx.Response:
        if key in self.pending:
            return httpx.Response(
                409,
                json={
                    "detail": {
                        "code": "PENDING_APPROVAL",
                        "message": "CONFLICT: Cannot send a new message: "
                        "The agent is waiting for approval on a tool call.",
                    }
                },
            )
        self.posts.append({"route": route, **body})
        if self.fail_next_send is not None:
            status, self.fail_next_send = self.fail_next_send, None
            return httpx.Response(status, json={"detail": "fake failure"})
        content = message["content"]
        text = " ".join(p.get("text", "") for p in content if p.get("type") == "text")
        agent = self._agent_of(key)
        has_image = any(p.get("type") == "image" for p in content)
        if has_image and agent is not None and capability_for(agent["model"]).vision is False:
            return sse(
                [
                    {"message_type": "stop_reason", "stop_reason": "llm_api_error"},
                    {
                        "message_type": "error_message",
                        "error_type": "llm_bad_request",
                        "message": "Invalid content type. image_url is only supported by "
                        "certain models.",
                    },
                ]
            )
        history.append(
            {
                "id": f"message-{uuid.uuid4()}",
                "message_type": "user_message",
                "otid": message["otid"],
                "date": stamp,
                "content": content,
            }
        )
        if self.reply_sse is not None:
            headers = {"content-type": "text/event-stream"}
            return httpx.Response(200, headers=headers, content=self.reply_sse)
        if "[[parallel]]" in text:
            return self._ask_parallel(key, history, stamp)
        if "[[approval]]" in text:
            return self._ask_approval(key, history, stamp)
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
        events: list[dict[str, Any]] = [{"message_type": "ping"}]
        for i in range(0, len(reply), 4):  # a reply streams in pieces
            events.append(
                {
                    "id": reply_id,
                    "otid": "o1",
                    "message_type": "assistant_message",
                    "content": reply[i : i + 4],
                }
            )
        events.append({"message_type": "stop_reason", "stop_reason": "end_turn"})
        return sse(events)

    # -- tool approvals ----------------------------------------------------------------------

    def _ask_approval(self, key: str, history: list[dict[str, Any]], stamp: str) -> httpx.Response:
        call_id = f"call_{uuid.uuid4().hex[:8]}"
        self.pending[key] = call_id
        args = json.dumps({"plant": "fern", "litres": 2})
        request_id = f"message-{uuid.uuid4()}"
        history.append(
            {
                "id": request_id,
                "message_type": "approval_request_message",
                "date": stamp,
                "otid": request_id,
                "tool_call": {"name": "water_plants", "arguments": args, "tool_call_id": call_id},
            }
        )
        chunks = [
            {
                "id": request_id,
                "otid": request_id,
                "message_type": "approval_request_message",
                "tool_call": {"name": "water_plants", "arguments": None, "tool_call_id": call_id},
            }
        ]
        for i in range(0, len(args), 7):
            chunks.append(
                {
                    "id": request_id,
                    "otid": request_id,
                    "message_type": "approval_request_message",
                    "tool_call": {
                        "name": None,
                        "arguments": args[i : i + 7],
                        "tool_call_id": call_id,
                    },
                }
            )
        chunks.append({"message_type": "stop_reason", "stop_reason": "requires_approval"})
        return sse(chunks)

    def _ask_parallel(self, key: str, history: list[dict[str, Any]], stamp: str) -> httpx.Response:
        calls = [
            {"tool_call_id": "call_w", "name": "water_plants", "arguments": '{"plant": "fern"}'},
            {"tool_call_id": "call_b", "name": "Bash", "arguments": '{"command": "ls ~"}'},
        ]
        request_id = f"message-{uuid.uuid4()}"
        history.append(
            {
                "id": request_id,
                "message_type": "approval_request_message",
                "date": stamp,
                "tool_calls": calls,
            }
        )
        self.waiting[key] = ["call_w", "call_b"]
        self.pending[key] = "call_w"

        def delta(call: dict[str, Any], **fields: Any) -> dict[str, Any]:
            return {
                "id": request_id,
                "message_type": "approval_request_message",
                "tool_calls": {"tool_call_id": call["tool_call_id"], **fields},
            }

        water, bash = calls
        chunks = [  # each call's name first, then the argument pieces of both interleaved
            delta(water, name="water_plants", arguments=""),
            delta(bash, name="Bash", arguments='{"command"'),
            delta(water, arguments='{"plant": '),
            delta(bash, arguments=': "ls ~"}'),
            delta(water, arguments='"fern"}'),
            {"message_type": "stop_reason", "stop_reason": "requires_approval"},
        ]
        return sse(chunks)

    def _approval(
        self,
        key: str,
        route: str,
        message: dict[str, Any],
        history: list[dict[str, Any]],
        stamp: str,
    ) -> httpx.Response:
        if key in self.waiting:
            return self._answer_parallel(key, route, message, history, stamp)
        self.approvals.append({"route": route, **message})
        answer = message["approvals"][0]
        self.pending.pop(key, None)
        result = (
            "watered fern"
            if answer["approve"]
            else (f"Error: request to call tool denied. User reason: {answer.get('reason')}")
        )
        ret = {
            "id": f"message-{uuid.uuid4()}",
            "message_type": "tool_return_message",
            "date": stamp,
            "otid": "t1",
            "tool_return": result,
            "status": "success" if answer["approve"] else "error",
            "tool_call_id": answer["tool_call_id"],
        }
        reply = {
            "id": f"message-{uuid.uuid4()}",
            "message_type": "assistant_message",
            "date": stamp,
            "otid": "a1",
            "content": f"Tool result: {result}",
        }
        history += [
            {
                "id": f"message-{uuid.uuid4()}",
                "message_type": "approval_response_message",
                "date": stamp,
                "approvals": message["approvals"],
            },
            ret,
            reply,
        ]
        return sse([ret, reply, {"message_type": "stop_reason", "stop_reason": "end_turn"}])

    def _answer_parallel(
        self,
        key: str,
        route: str,
        message: dict[str, Any],
        history: list[dict[str, Any]],
        stamp: str,
    ) -> httpx.Response:
        answered = sorted(a["tool_call_id"] for a in message["approvals"])
        if answered != sorted(self.waiting[key]):
            return httpx.Response(400, json={"detail": "INVALID_ARGUMENT: Invalid tool call IDs"})
        self.approvals.append({"route": route, **message})
        del self.waiting[key]
        self.pending.pop(key, None)
        returns = [
            {
                "tool_call_id": a["tool_call_id"],
                "status": "success" if a["approve"] else "error",
                "tool_return": "watered fern" if a["approve"] else f"denied: {a['reason']}",
            }
            for a in message["approvals"]
        ]
        ret = {
            "id": f"message-{uuid.uuid4()}",
            "message_type": "tool_return_message",
            "date": stamp,
            "tool_returns": returns,
        }
        reply = {
            "id": f"message-{uuid.uuid4()}",
            "message_type": "assistant_message",
            "date": stamp,
            "content": "Done with both.",
        }
        history += [ret, reply]
        return sse([ret, reply, {"message_type": "stop_reason", "stop_reason": "end_turn"}])


def agent_route(request: httpx.Request) -> httpx.Request:
    """The client sends to the default conversation as `POST /v1/conversations/default/messages`
    with `agent_id` in the body; on 0.16.8 that stores exactly like the agent route, which is
    what this fake models. The body is kept as sent (tests read it)."""
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
