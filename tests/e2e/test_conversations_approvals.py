"""Conversations and tool approvals through the real window against the real 0.16.8 server.

What the server did (probed with curl in a loopback-only netns, then pinned here):
- `POST /v1/conversations/?agent_id=…` (no body, or `{}`, or `{"summary": …}`) → the conversation
  (`id` "conv-…", `agent_id`, `summary`, `created_at`, `last_message_at`). `GET
  /v1/conversations/?agent_id=…` lists only created ones, newest first (no "default" entry).
- `GET /v1/conversations/{id}/messages?order=desc&limit=N` is really newest-first (unlike the
  agent route); `GET /v1/conversations/default/messages?agent_id=…` holds only the default
  conversation, oldest-first like the agent route — which lists *every* conversation's messages.
- `POST /v1/conversations/{id}/messages` streams with any User-Agent (no 422 trap); cancel is
  `POST /v1/conversations/{id}/cancel` (409 "No active runs to cancel for conversation …").
- A tool created with `default_requires_approval: true` gets a `requires_approval` tool rule when
  attached; the stream then carries `approval_request_message` chunks (`tool_call.tool_call_id`)
  and ends `stop_reason: requires_approval`. Sending anything else → 409 (agent route:
  `{"detail": {"code": "PENDING_APPROVAL", …}}`; conversation route: a plain CONFLICT string).
- The answer `{"type": "approval", "approvals": [{"type": "approval", "tool_call_id", "approve",
  "reason"}]}` streams `tool_return_message` then the reply; a denial's tool return is
  "Error: request to call tool denied. User reason: <reason>".
"""

from __future__ import annotations

import json
import uuid

import pytest
from PySide6.QtCore import Qt

from desktop.ui.transcript import KindRole, RowKind, TextRole

API_KEY = "e2e-any-key"

TOOL_SOURCE = '''def {name}(plant: str) -> str:
    """Water a plant in the greenhouse.

    Args:
        plant (str): Which plant to water.

    Returns:
        str: What happened.
    """
    return "watered " + plant
'''


def rows(window) -> list[tuple[RowKind, str]]:
    model = window.transcript_model
    return [
        (model.index(r, 0).data(KindRole), model.index(r, 0).data(TextRole) or "")
        for r in range(model.rowCount())
    ]


def said(window) -> list[str]:
    return [t for k, t in rows(window) if k in (RowKind.USER, RowKind.ASSISTANT)]


def _settled(window) -> bool:
    """History loaded and the conversation picker shown (the server has conversations)."""
    return window.session._history_task is None and window.conversations.isVisible()


def send(qtbot, window, text: str) -> None:
    window.composer.setFocus()
    window.composer.set_text(text)
    qtbot.keyClick(window.composer, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.session.busy or text in said(window), timeout=5000)
    qtbot.waitUntil(lambda: not window.session.busy, timeout=60000)


def test_conversations_new_send_list_and_switch_back(qtbot, letta_stack, open_window):
    agent = letta_stack.create_agent(name="e2e-threads")
    window = open_window(agent["id"], ready=_settled)
    combo = window.conversations.combo
    assert combo.count() == 1 and combo.itemText(0) == "Default conversation"
    send(qtbot, window, "hello default")
    assert "Echo: hello default" in said(window)

    window.conversations.new_button.click()
    qtbot.waitUntil(lambda: window.session.conversation_id.startswith("conv-"), timeout=30000)
    conv_id = window.session.conversation_id
    qtbot.waitUntil(lambda: window.session._history_task is None, timeout=30000)
    assert "hello default" not in said(window)
    assert combo.count() == 2 and combo.currentData() == conv_id
    send(qtbot, window, "hello thread")
    assert said(window)[-2:] == ["hello thread", "Echo: hello thread"]

    with letta_stack.http() as http:
        listed = http.get("/v1/conversations/", params={"agent_id": agent["id"]}).json()
        thread = http.get(
            f"/v1/conversations/{conv_id}/messages", params={"limit": 50, "order": "desc"}
        ).json()
        default = http.get(
            "/v1/conversations/default/messages", params={"agent_id": agent["id"], "limit": 50}
        ).json()
    assert [c["id"] for c in listed] == [conv_id]
    user_texts = [
        m["content"] if isinstance(m["content"], str) else m["content"][0]["text"]
        for m in thread
        if m["message_type"] == "user_message"
    ]
    assert user_texts == ["hello thread"]
    assert "hello thread" not in json.dumps(default) and "hello default" in json.dumps(default)

    combo.setCurrentIndex(0)
    combo.activated.emit(0)
    qtbot.waitUntil(lambda: "hello default" in said(window), timeout=30000)
    assert "hello thread" not in said(window)
    assert window.settings.last_conversation(window.connection.base_url, agent["id"]) == "default"


@pytest.fixture
def gated_agent(letta_stack):
    name = f"water_plants_{uuid.uuid4().hex[:6]}"
    with letta_stack.http() as http:
        r = http.post(
            "/v1/tools/",
            json={"source_code": TOOL_SOURCE.format(name=name), "default_requires_approval": True},
        )
        assert r.status_code == 200, r.text
        tool = r.json()
    agent = letta_stack.create_agent(name="e2e-approvals", tool_ids=[tool["id"]])
    assert {"tool_name": name, "type": "requires_approval"}.items() <= next(
        rule for rule in agent["tool_rules"] if rule["tool_name"] == name
    ).items()
    return agent, name


def last_tool_message(letta_stack) -> str:
    messages = letta_stack.chat_requests()[-1]["messages"]
    return next(str(m.get("content")) for m in reversed(messages) if m.get("role") == "tool")


def test_approve_and_deny_a_gated_tool(qtbot, letta_stack, gated_agent, open_window):
    agent, tool = gated_agent
    window = open_window(agent["id"], ready=_settled)
    panel = window.approval

    send(qtbot, window, "water the ferns [[approval]]")
    qtbot.waitUntil(panel.isVisible, timeout=30000)
    assert tool in panel.title.text()
    assert json.loads(panel.arguments.toPlainText()) == {
        "plant": "Echo: water the ferns [[approval]]"
    }
    before = len(letta_stack.chat_requests())
    panel.approve_button.click()
    qtbot.waitUntil(lambda: not panel.isVisible(), timeout=5000)
    qtbot.waitUntil(
        lambda: (
            not window.session.busy
            and any(
                k is RowKind.ASSISTANT and t.startswith("Tool result:") for k, t in rows(window)
            )
        ),
        timeout=60000,
    )
    assert (RowKind.TOOL_RETURN, "watered Echo: water the ferns [[approval]]") in rows(window)
    assert len(letta_stack.chat_requests()) > before  # the continuation reached the LLM
    assert "watered Echo: water the ferns" in last_tool_message(letta_stack)

    send(qtbot, window, "water the cactus [[approval]]")
    qtbot.waitUntil(panel.isVisible, timeout=30000)
    qtbot.keyClicks(panel.reason, "cacti hate water")
    panel.deny_button.click()
    qtbot.waitUntil(
        lambda: (
            not window.session.busy
            and any(k is RowKind.ASSISTANT and "denied" in t for k, t in rows(window))
        ),
        timeout=60000,
    )
    assert "User reason: cacti hate water" in last_tool_message(letta_stack)
    with letta_stack.http() as http:
        history = http.get(
            f"/v1/agents/{agent['id']}/messages", params={"limit": 20, "order": "desc"}
        ).json()
    answers = [
        m["approvals"][0] for m in history if m["message_type"] == "approval_response_message"
    ]
    assert sorted(a["approve"] for a in answers) == [False, True]
    assert {"approve": False, "reason": "cacti hate water"}.items() <= next(
        a for a in answers if not a["approve"]
    ).items()


def test_a_pending_approval_is_found_when_the_window_opens(
    qtbot, letta_stack, gated_agent, open_window
):
    agent, _tool = gated_agent
    conv_window = open_window(agent["id"], ready=_settled)
    conv_window.conversations.new_button.click()
    qtbot.waitUntil(lambda: conv_window.session.conversation_id.startswith("conv-"), timeout=30000)
    conv_id = conv_window.session.conversation_id
    send(qtbot, conv_window, "[[approval]] in a thread")
    qtbot.waitUntil(conv_window.approval.isVisible, timeout=30000)
    conv_window.close()

    window = open_window(
        agent["id"], ready=_settled
    )  # remembered: the conversation, with its pending call
    assert window.session.conversation_id == conv_id
    qtbot.waitUntil(window.approval.isVisible, timeout=30000)
    window.approval.approve_button.click()
    qtbot.waitUntil(
        lambda: (
            not window.session.busy
            and any(k is RowKind.TOOL_RETURN and t.startswith("watered") for k, t in rows(window))
        ),
        timeout=60000,
    )
    with letta_stack.http() as http:
        thread = http.get(
            f"/v1/conversations/{conv_id}/messages", params={"limit": 10, "order": "desc"}
        ).json()
    assert thread[0]["message_type"] == "assistant_message"
    assert any(m["message_type"] == "approval_response_message" for m in thread)
