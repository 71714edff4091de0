"""FakeLetta with conversations and tool approvals, shaped like what 0.16.8 did (see the report
in tests/e2e/test_conversations_approvals.py): conversation pages newest-first, the default
conversation's page (and the agent route's) oldest-first, an `[[approval]]` message stopping with
`requires_approval`, 409 PENDING_APPROVAL until it is answered."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.fake_letta import FakeLetta


def sse(events: list[dict[str, Any]]) -> httpx.Response:
    body = "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"
    return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body.encode())


@dataclass
class FakeThreads(FakeLetta):
    conversations: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # agent → convs
    threads: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # conv → messages
    requests: list[httpx.Request] = field(default_factory=list)
    pending: dict[str, str] = field(default_factory=dict)  # thread key → tool_call_id
    approvals: list[dict[str, Any]] = field(default_factory=list)
    fail_list: int | None = None  # HTTP status for the conversation list …
    fail_list_times: int = 1  # … this many times in a row (the SDK retries a read twice)

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

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        parts = path.strip("/").split("/")
        if parts[:2] != ["v1", "conversations"]:
            if len(parts) == 4 and parts[3] == "messages" and request.method == "POST":
                return self._post(parts[2], parts[2], json.loads(request.content))
            return super().handle(request)
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
        if request.method == "PATCH":
            conv.update(json.loads(request.content))
        return httpx.Response(200, json=conv)

    def remove_conversation(self, conv_id: str) -> None:
        """Deleted elsewhere (another app): every route of it answers 404 from now on."""
        for convs in self.conversations.values():
            convs[:] = [c for c in convs if c["id"] != conv_id]
        self.threads.pop(conv_id, None)

    def _history(self, key: str) -> list[dict[str, Any]]:
        return self.threads[key] if key in self.threads else self.messages[key]

    def _post(self, key: str, route: str, body: dict[str, Any]) -> httpx.Response:
        message = body["messages"][0]
        history = self._history(key)
        stamp = f"2026-01-01T11:{len(history) // 60:02d}:{len(history) % 60:02d}+00:00"
        run = f"run-{uuid.uuid4()}"  # like the server: the rows of one turn share a run_id
        before = len(history)
        try:
            return self._answer(key, route, body, message, history, stamp)
        finally:
            for row in history[before:]:
                row["run_id"] = run

    def _answer(
        self,
        key: str,
        route: str,
        body: dict[str, Any],
        message: dict[str, Any],
        history: list[dict[str, Any]],
        stamp: str,
    ) -> httpx.Response:
        if message.get("type") == "approval":
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
        text = " ".join(p.get("text", "") for p in message["content"] if p["type"] == "text")
        self.posts.append({"route": route, **body})
        history.append(
            {
                "id": f"message-{uuid.uuid4()}",
                "message_type": "user_message",
                "otid": message["otid"],
                "date": stamp,
                "content": message["content"],
            }
        )
        if "[[approval]]" in text:
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
                    "tool_call": {
                        "name": "water_plants",
                        "arguments": args,
                        "tool_call_id": call_id,
                    },
                }
            )
            chunks = [
                {
                    "id": request_id,
                    "otid": request_id,
                    "message_type": "approval_request_message",
                    "tool_call": {
                        "name": "water_plants",
                        "arguments": None,
                        "tool_call_id": call_id,
                    },
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
        reply_id = f"message-{uuid.uuid4()}"
        reply = f"Echo: {text}"
        history.append(
            {
                "id": reply_id,
                "message_type": "assistant_message",
                "date": stamp,
                "otid": "o1",
                "content": reply,
            }
        )
        return sse(
            [
                {
                    "id": reply_id,
                    "otid": "o1",
                    "message_type": "assistant_message",
                    "content": reply,
                },
                {"message_type": "stop_reason", "stop_reason": "end_turn"},
            ]
        )
