"""Conversations as today's Letta has them (MockTransport, FakeLetta): a conversation with a
model of its own is labelled, gated and switched as that conversation; one deleted elsewhere
sends the user back to the default conversation; a failed list is an error with a way back; a
remembered conversation beyond the listed pages is fetched by id."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt

from desktop.core.letta import Conversation
from desktop.ui.vision.model_switcher import ModelSwitcher
from tests.fake_letta import FakeLetta

from .test_conversations import URL, make_window, texts

VISION = "openai/gpt-4o-mini"
BLIND = "openai/gpt-3.5-turbo"


@pytest.fixture
def fake():
    server = FakeLetta()
    agent = server.add_agent("Planner", model=VISION)
    server.add_conversation(agent["id"], summary="Plain thread")
    own = server.add_conversation(agent["id"], summary="Text-only thread")
    own["model"] = BLIND
    server.threads[own["id"]].append(
        {
            "id": "message-t1",
            "message_type": "user_message",
            "otid": "t1",
            "date": "2026-01-01T09:30:00+00:00",
            "content": "thread hello",
        }
    )
    return server


def open_in(qtbot, window, fake, conv_id: str | None) -> None:
    agent_id = fake.agents[0]["id"]
    if conv_id:
        window.settings.set_last_conversation(URL, agent_id, conv_id)
    window.start(URL, fake.key, agent_id)
    qtbot.waitUntil(
        lambda: (
            window.session is not None
            and window.session.agent is not None
            and window.session._history_task is None
            and window.conversations.isVisible()
        ),
        timeout=5000,
    )


def test_a_conversation_with_its_own_model_is_labelled_and_gated_by_it(qtbot, workers, fake):
    own = fake.conversations[fake.agents[0]["id"]][0]
    window = make_window(qtbot, workers, fake)
    open_in(qtbot, window, fake, own["id"])
    qtbot.waitUntil(lambda: texts(window) == ["thread hello"], timeout=5000)
    assert window.session.model == BLIND
    assert window.model_label.text() == f"{BLIND} (this conversation)"
    assert VISION in window.model_label.toolTip()
    # The guard judges the model that will answer here: the text-only one.
    assert window.vision.handle() == BLIND
    assert window.vision.capability().vision is False

    combo = window.conversations.combo
    combo.setCurrentIndex(0)  # the default conversation: the agent's model again
    combo.activated.emit(0)
    qtbot.waitUntil(lambda: window.session.conversation_id == "default", timeout=5000)
    assert window.model_label.text() == VISION
    assert window.vision.handle() == VISION
    window.close()


def test_switching_the_model_of_such_a_conversation_patches_the_conversation(qtbot, workers, fake):
    agent = fake.agents[0]
    own = fake.conversations[agent["id"]][0]
    fake.models = [  # what GET /v1/models/ answers
        {"handle": VISION, "name": "gpt-4o-mini", "max_context_window": 128000},
        {"handle": BLIND, "name": "gpt-3.5-turbo", "max_context_window": 16385},
    ]
    window = make_window(qtbot, workers, fake)
    open_in(qtbot, window, fake, own["id"])
    session = window.session
    dialog = ModelSwitcher(
        workers, window.connection.client, session.agent, {}, window, conversation=own_of(session)
    )
    qtbot.addWidget(dialog)
    dialog.confirm = lambda question: "this conversation" in question
    switched: list[object] = []
    dialog.switched.connect(switched.append)
    qtbot.waitUntil(lambda: dialog.list.count() == 2, timeout=5000)
    dialog.select(VISION)
    dialog._switch_current()
    qtbot.waitUntil(lambda: bool(switched), timeout=5000)
    patch = [r for r in fake.requests if r.method == "PATCH"][-1]
    assert patch.url.path == f"/v1/conversations/{own['id']}"
    assert json.loads(patch.content) == {"model": VISION, "context_window_limit": 128000}
    assert agent["model"] == VISION  # the agent itself was not touched
    assert isinstance(switched[0], Conversation)
    window.vision._on_switched(switched[0])
    assert window.model_label.text() == f"{VISION} (this conversation)"
    assert window.vision.capability().vision is True
    window.close()


def own_of(session) -> Conversation:
    assert session.model_is_conversations
    return session.conversation


def test_a_conversation_deleted_elsewhere_falls_back_to_the_default(qtbot, workers, fake):
    own = fake.conversations[fake.agents[0]["id"]][0]
    window = make_window(qtbot, workers, fake)
    open_in(qtbot, window, fake, own["id"])
    qtbot.waitUntil(lambda: texts(window) == ["thread hello"], timeout=5000)
    fake.remove_conversation(own["id"])
    window.composer.set_text("anyone there?")
    qtbot.keyClick(window.composer, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.session.conversation_id == "default", timeout=5000)
    qtbot.waitUntil(lambda: window.session._history_task is None, timeout=5000)
    assert "no longer exists" in window.banner.label.text()
    combo = window.conversations.combo
    assert own["id"] not in [combo.itemData(i) for i in range(combo.count())]
    # The message is kept, failed, for Retry in the default conversation.
    [pending] = window.session.pending_messages()
    assert pending.text == "anyone there?"
    window.session.retry(pending.otid)
    qtbot.waitUntil(lambda: "Echo: anyone there?" in texts(window), timeout=5000)
    assert fake.posts[-1]["route"] in ("default", fake.agents[0]["id"])
    window.close()


def test_a_failed_conversation_list_is_an_error_with_reload(qtbot, workers, fake):
    fake.fail_list, fake.fail_list_times = 500, 3  # the first try and the SDK's two retries
    window = make_window(qtbot, workers, fake)
    window.start(URL, fake.key, fake.agents[0]["id"])
    qtbot.waitUntil(
        lambda: "Could not load this agent's conversations" in window.banner.label.text(),
        timeout=5000,
    )
    assert window.banner.action_button.text() == "Reload history"
    window.banner.action_button.click()
    qtbot.waitUntil(lambda: window.conversations.combo.count() == 3, timeout=5000)
    window.close()


def test_a_remembered_conversation_beyond_the_listed_pages_is_fetched_by_id(
    qtbot, workers, fake, monkeypatch
):
    from desktop.ui.chat import session as chat_session

    monkeypatch.setattr(chat_session, "MAX_CONVERSATIONS", 1)
    monkeypatch.setattr(chat_session, "CONVERSATION_PAGE", 1)
    agent_id = fake.agents[0]["id"]
    oldest = fake.conversations[agent_id][-1]  # "Plain thread": not on the one listed page
    window = make_window(qtbot, workers, fake)
    open_in(qtbot, window, fake, oldest["id"])
    qtbot.waitUntil(lambda: window.session.conversation_id == oldest["id"], timeout=5000)
    got = [r for r in fake.requests if r.url.path == f"/v1/conversations/{oldest['id']}"]
    assert got and got[0].method == "GET"
    combo = window.conversations.combo
    assert combo.currentData() == oldest["id"]
    window.close()
