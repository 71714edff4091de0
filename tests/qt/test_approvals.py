"""Tool approvals in the window: the panel from a streamed requires_approval, from history and
from a 409; Approve and Deny (with a reason) send the approval message and stream the rest."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt

from desktop.core.secrets import SecretStore
from desktop.settings import Settings
from desktop.ui.main_window import MainWindow
from desktop.ui.transcript import KindRole, TextRole
from tests.qt.threads_support import FakeThreads

URL = "https://letta.test"


@pytest.fixture
def fake():
    server = FakeThreads()
    server.add_agent("Gardener")
    return server


@pytest.fixture
def window(qtbot, workers, fake):
    win = MainWindow(workers, Settings(), SecretStore(use_keyring=False), fake.factory)
    qtbot.addWidget(win)
    win.show()
    yield win
    win.close()


def rows(window) -> list[tuple[str, str]]:
    model = window.transcript_model
    return [
        (model.index(r, 0).data(KindRole), model.index(r, 0).data(TextRole))
        for r in range(model.rowCount())
    ]


def start(qtbot, window, fake):
    window.start(URL, fake.key, fake.agents[0]["id"])
    qtbot.waitUntil(
        lambda: (
            window.session is not None
            and window.session.agent is not None
            and window.session._history_task is None
        ),
        timeout=5000,
    )
    qtbot.waitUntil(lambda: window.more.conversations.isVisible(), timeout=5000)


def send(qtbot, window, text):
    window.composer.set_text(text)
    qtbot.keyClick(window.composer, Qt.Key.Key_Return)


def test_streamed_approval_shows_the_call_and_approve_runs_it(qtbot, window, fake):
    start(qtbot, window, fake)
    panel = window.more.approval
    assert not panel.isVisible()
    send(qtbot, window, "water the fern [[approval]]")
    qtbot.waitUntil(panel.isVisible, timeout=5000)
    assert "water_plants" in panel.title.text()
    assert json.loads(panel.arguments.toPlainText()) == {"plant": "fern", "litres": 2}
    assert panel.arguments.toPlainText().startswith("{\n  ")  # pretty-printed
    assert ("approval", '{"plant": "fern", "litres": 2}') in rows(window)
    qtbot.waitUntil(lambda: not window.session.busy, timeout=5000)

    panel.approve_button.click()
    qtbot.waitUntil(
        lambda: ("assistant", "Tool result: watered fern") in rows(window), timeout=5000
    )
    assert not panel.isVisible()
    sent = fake.approvals[-1]
    call_id = sent["approvals"][0]["tool_call_id"]
    assert sent == {
        "route": fake.agents[0]["id"],
        "type": "approval",
        "approvals": [
            {"type": "approval", "tool_call_id": call_id, "approve": True, "reason": None}
        ],
    }
    assert ("tool_return", "watered fern") in rows(window)
    assert any(k == "notice" and "approved water_plants" in t for k, t in rows(window))


def test_deny_sends_the_reason(qtbot, window, fake):
    start(qtbot, window, fake)
    panel = window.more.approval
    send(qtbot, window, "[[approval]] please")
    qtbot.waitUntil(panel.isVisible, timeout=5000)
    qtbot.waitUntil(lambda: not window.session.busy, timeout=5000)
    qtbot.keyClicks(panel.reason, "too wet already")
    panel.deny_button.click()
    qtbot.waitUntil(lambda: not panel.isVisible() and bool(fake.approvals), timeout=5000)
    answer = fake.approvals[-1]["approvals"][0]
    assert answer["approve"] is False and answer["reason"] == "too wet already"
    qtbot.waitUntil(
        lambda: any("denied" in t for k, t in rows(window) if k == "assistant"), timeout=5000
    )


def test_an_unanswered_request_in_history_shows_the_panel(qtbot, window, fake, workers):
    start(qtbot, window, fake)
    send(qtbot, window, "[[approval]]")
    qtbot.waitUntil(window.more.approval.isVisible, timeout=5000)
    qtbot.waitUntil(lambda: not window.session.busy, timeout=5000)
    window.close()

    again = MainWindow(workers, Settings(), SecretStore(use_keyring=False), fake.factory)
    qtbot.addWidget(again)
    again.show()
    start(qtbot, again, fake)
    panel = again.more.approval
    qtbot.waitUntil(panel.isVisible, timeout=5000)
    assert panel.approval.tool_call_id == fake.pending[fake.agents[0]["id"]]
    panel.approve_button.click()
    qtbot.waitUntil(lambda: not fake.pending, timeout=5000)
    qtbot.waitUntil(lambda: not again.session.busy, timeout=5000)
    again.close()


def test_a_409_pending_approval_on_send_brings_the_panel_back(qtbot, window, fake):
    start(qtbot, window, fake)
    send(qtbot, window, "[[approval]]")
    panel = window.more.approval
    qtbot.waitUntil(panel.isVisible, timeout=5000)
    qtbot.waitUntil(lambda: not window.session.busy, timeout=5000)
    window.session._set_approval(None)  # as if the panel had been lost (another client, …)
    assert not panel.isVisible()
    send(qtbot, window, "are you there?")
    qtbot.waitUntil(panel.isVisible, timeout=5000)
    assert "approve or deny" in window.banner.label.text().lower()


def test_approvals_in_a_conversation_go_to_its_route(qtbot, window, fake):
    agent_id = fake.agents[0]["id"]
    conv = fake.add_conversation(agent_id, "Greenhouse")
    window.settings.set_last_conversation(URL, agent_id, conv["id"])
    start(qtbot, window, fake)
    assert window.session.conversation_id == conv["id"]
    send(qtbot, window, "[[approval]]")
    qtbot.waitUntil(window.more.approval.isVisible, timeout=5000)
    qtbot.waitUntil(lambda: not window.session.busy, timeout=5000)
    window.more.approval.approve_button.click()
    qtbot.waitUntil(lambda: bool(fake.approvals), timeout=5000)
    assert fake.approvals[-1]["route"] == conv["id"]
    qtbot.waitUntil(lambda: not window.session.busy, timeout=5000)
