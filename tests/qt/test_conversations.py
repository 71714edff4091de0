"""The conversation picker: default first, New, switching loads that history, sends go there,
the choice is remembered per agent (MockTransport, FakeLetta)."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import Qt

from desktop.settings import Settings
from desktop.ui.transcript import KindRole, RowKind, TextRole
from desktop.ui.window.actions import ActionId
from desktop.ui.window.main_window import MainWindow
from tests.fake_letta import FakeLetta
from tests.memory_keyring import memory_secrets

URL = "https://letta.test"


@pytest.fixture
def fake():
    server = FakeLetta()
    agent = server.add_agent("Planner")
    server.messages[agent["id"]].append(
        {
            "id": "message-d1",
            "message_type": "user_message",
            "otid": "d1",
            "date": "2026-01-01T09:00:00+00:00",
            "content": "default hello",
        }
    )
    conv = server.add_conversation(agent["id"], summary="Trip to Rome")
    server.threads[conv["id"]].append(
        {
            "id": "message-c1",
            "message_type": "user_message",
            "otid": "c1",
            "date": "2026-01-01T09:30:00+00:00",
            "content": "rome hello",
        }
    )
    return server


def make_window(qtbot, workers, fake):
    win = MainWindow(workers, Settings(), memory_secrets(), fake.factory)
    qtbot.addWidget(win)
    win.show()
    return win


def texts(window) -> list[str]:
    model = window.transcript_model
    return [
        model.index(r, 0).data(TextRole)
        for r in range(model.rowCount())
        if model.index(r, 0).data(KindRole) in (RowKind.USER, RowKind.ASSISTANT)
    ]


def open_agent(qtbot, window, fake):
    window.start(URL, fake.key, fake.agents[0]["id"])
    qtbot.waitUntil(lambda: window.conversations.isVisible(), timeout=5000)
    qtbot.waitUntil(lambda: bool(texts(window)), timeout=5000)


def test_picker_lists_default_first_and_switching_loads_that_history(qtbot, workers, fake):
    window = make_window(qtbot, workers, fake)
    open_agent(qtbot, window, fake)
    combo = window.conversations.combo
    assert [combo.itemText(i) for i in range(combo.count())] == [
        "Default conversation",
        "Trip to Rome",
    ]
    assert combo.currentIndex() == 0 and texts(window) == ["default hello"]
    # The default history came from the default conversation's own route, not the agent's.
    gets = [r.url.path for r in fake.requests if r.method == "GET" and "messages" in r.url.path]
    assert gets[-1] == "/v1/conversations/default/messages"

    combo.setCurrentIndex(1)
    combo.activated.emit(1)
    qtbot.waitUntil(lambda: texts(window) == ["rome hello"], timeout=5000)
    assert window.session.conversation_id == fake.conversations[fake.agents[0]["id"]][0]["id"]

    window.composer.set_text("what to pack?")
    qtbot.keyClick(window.composer, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "Echo: what to pack?" in texts(window), timeout=5000)
    conv_id = window.session.conversation_id
    assert fake.posts[-1]["route"] == conv_id
    assert [m.get("content") for m in fake.threads[conv_id]][-1] == "Echo: what to pack?"
    assert all("what to pack" not in str(m) for m in fake.messages[fake.agents[0]["id"]])

    combo.setCurrentIndex(0)
    combo.activated.emit(0)
    qtbot.waitUntil(lambda: texts(window) == ["default hello"], timeout=5000)
    window.close()


def test_a_page_of_the_conversation_left_never_shows_in_the_next(qtbot, workers, fake):
    rome = fake.conversations[fake.agents[0]["id"]][0]["id"]
    armed, asked, gate = threading.Event(), threading.Event(), threading.Event()
    handle = fake.handle

    def held_rome(request):
        if armed.is_set() and request.url.path.startswith(f"/v1/conversations/{rome}/messages"):
            asked.set()
            gate.wait(10)
        return handle(request)

    fake.handle = held_rome
    window = make_window(qtbot, workers, fake)
    combo = window.conversations.combo
    try:
        open_agent(qtbot, window, fake)
        armed.set()
        combo.setCurrentIndex(1)
        combo.activated.emit(1)  # Rome: its page is slow to come
        qtbot.waitUntil(asked.is_set, timeout=5000)
        combo.setCurrentIndex(0)
        combo.activated.emit(0)  # back to the default one before it came
        qtbot.waitUntil(lambda: texts(window) == ["default hello"], timeout=5000)
    finally:
        gate.set()
    qtbot.waitUntil(lambda: workers.active_count == 0, timeout=5000)
    assert texts(window) == ["default hello"]
    assert window.session.conversation_id == "default"
    window.close()


def test_new_conversation_is_created_selected_and_remembered(qtbot, workers, fake):
    window = make_window(qtbot, workers, fake)
    open_agent(qtbot, window, fake)
    agent_id = fake.agents[0]["id"]
    window.conversations.new_button.click()
    qtbot.waitUntil(lambda: len(fake.conversations[agent_id]) == 2, timeout=5000)
    new_id = fake.conversations[agent_id][0]["id"]
    qtbot.waitUntil(lambda: window.session.conversation_id == new_id, timeout=5000)
    combo = window.conversations.combo
    assert combo.count() == 3 and combo.currentData() == new_id
    assert combo.itemText(1).startswith("Conversation")
    create = [r for r in fake.requests if r.method == "POST" and r.url.path == "/v1/conversations/"]
    assert create[0].url.params["agent_id"] == agent_id
    window.composer.set_text("fresh start")
    qtbot.keyClick(window.composer, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "Echo: fresh start" in texts(window), timeout=5000)
    assert texts(window) == ["fresh start", "Echo: fresh start"]
    assert window.settings.last_conversation(window.connection.base_url, agent_id) == new_id
    window.close()

    # A new window opens the agent in the remembered conversation.
    second = make_window(qtbot, workers, fake)
    second.start(URL, fake.key, agent_id)
    qtbot.waitUntil(lambda: "Echo: fresh start" in texts(second), timeout=5000)
    assert second.session.conversation_id == new_id
    assert second.conversations.combo.currentData() == new_id
    second.close()


def test_the_file_menu_starts_a_new_conversation(qtbot, workers, fake):
    window = make_window(qtbot, workers, fake)
    open_agent(qtbot, window, fake)
    assert window.commands[ActionId.NEW_CONVERSATION].isEnabled()
    window.commands[ActionId.NEW_CONVERSATION].trigger()
    qtbot.waitUntil(lambda: len(fake.conversations[fake.agents[0]["id"]]) == 2, timeout=5000)
    window.close()


def test_a_server_without_conversations_hides_the_picker(qtbot, workers):
    plain = FakeLetta(has_conversations=False)
    agent = plain.add_agent("Old server agent")
    plain.messages[agent["id"]].append(
        {
            "id": "message-1",
            "message_type": "user_message",
            "otid": "o",
            "date": "2026-01-01T09:00:00+00:00",
            "content": "legacy",
        }
    )
    window = make_window(qtbot, workers, plain)
    window.start(URL, plain.key, agent["id"])
    qtbot.waitUntil(lambda: texts(window) == ["legacy"], timeout=5000)
    assert not window.conversations.isVisible()
    assert not window.session.conversations_supported
    assert not window.commands[ActionId.NEW_CONVERSATION].isEnabled()
    window.close()
