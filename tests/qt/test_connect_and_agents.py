"""Connect dialog, agent picker and the main window's connection flow (fake API in memory)."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialog

from desktop.core.describer import HELPER_NAME, HELPER_TAG
from desktop.core.letta import LETTA_CLOUD_URL
from desktop.core.secrets import SecretStore
from desktop.settings import Settings
from desktop.ui.connection.agent_picker import AgentPicker
from desktop.ui.connection.connect_dialog import ConnectDialog
from desktop.ui.notice import Notice
from desktop.ui.transcript import KindRole, RowKind, TextRole
from desktop.ui.window.main_window import MainWindow
from tests.fake_letta import FakeLetta
from tests.memory_keyring import memory_secrets


@pytest.fixture
def fake():
    server = FakeLetta()
    for name in ("Research helper", "Screenshot critic", "Travel planner"):
        server.add_agent(name)
    return server


def test_connect_dialog_defaults_to_cloud_and_tests_the_key_for_real(qtbot, workers, fake):
    dialog = ConnectDialog(workers, fake.factory, base_url=None)
    qtbot.addWidget(dialog)
    assert dialog.cloud_radio.isChecked() and dialog.base_url() == LETTA_CLOUD_URL
    assert not dialog.test_button.isEnabled()  # Cloud needs a key
    dialog.key_edit.setText("wrong-key")
    assert dialog.key_edit.echoMode() == dialog.key_edit.EchoMode.Password
    dialog.test_button.click()
    qtbot.waitUntil(lambda: dialog.result_label.text().startswith("✗"), timeout=5000)
    assert "key" in dialog.result_label.text()
    dialog.key_edit.setText("good-key")
    dialog.test_button.click()
    qtbot.waitUntil(lambda: dialog.result_label.text().startswith("✓"), timeout=5000)
    assert "0.16.8" in dialog.result_label.text()


def test_connect_dialog_warns_before_sending_a_key_over_plain_http(qtbot, workers, fake):
    dialog = ConnectDialog(workers, fake.factory, base_url="http://letta.example.org:8283")
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.self_radio.isChecked()
    dialog.key_edit.setText("good-key")
    assert dialog.warning_label.isVisible() and "unencrypted" in dialog.warning_label.text()
    dialog.url_edit.setText("http://localhost:8283")
    assert not dialog.warning_label.isVisible()  # loopback is fine


def test_agent_picker_lists_searches_and_returns_the_choice(qtbot, workers, fake):
    client = fake.client()
    picker = AgentPicker(workers, client.list_agents)
    qtbot.addWidget(picker)
    qtbot.waitUntil(lambda: picker.model.rowCount() == 3, timeout=5000)
    qtbot.keyClicks(picker.search, "critic")
    qtbot.waitUntil(lambda: picker.model.rowCount() == 1, timeout=5000)
    assert picker.model.item(0).text() == "Screenshot critic"
    qtbot.keyClick(picker.search, Qt.Key.Key_Return)
    assert picker.result() == QDialog.DialogCode.Accepted
    assert picker.selected_agent.name == "Screenshot critic"
    assert picker.selected_agent.model == "openai/gpt-4o-mini"


def test_agent_picker_pages_through_many_agents(qtbot, workers):
    server = FakeLetta()
    for i in range(120):
        server.add_agent(f"agent {i:03d}")
    picker = AgentPicker(workers, server.client().list_agents)
    qtbot.addWidget(picker)
    picker.resize(400, 300)
    picker.show()
    qtbot.waitUntil(lambda: picker.model.rowCount() >= 50, timeout=5000)
    for _ in range(10):
        picker.list.scrollToBottom()
        QApplication.processEvents()
        if picker.model.rowCount() == 120:
            break
        qtbot.wait(50)
    qtbot.waitUntil(lambda: picker.model.rowCount() == 120, timeout=5000)


def _window(qtbot, workers, fake) -> MainWindow:
    window = MainWindow(workers, Settings(), memory_secrets(), fake.factory)
    qtbot.addWidget(window)
    window.show()
    return window


def test_window_opens_the_agent_and_chats(qtbot, workers, fake):
    agent = fake.agents[1]
    window = _window(qtbot, workers, fake)
    window.start("https://letta.test", "good-key", agent["id"])
    qtbot.waitUntil(lambda: window.windowTitle().startswith("Screenshot critic"), timeout=5000)
    assert "gpt-4o-mini" in window.model_label.text()
    qtbot.keyClicks(window.composer, "first line")
    qtbot.keyClick(window.composer, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClicks(window.composer, "second line")
    assert window.composer.text() == "first line\nsecond line"  # Shift+Enter is a newline
    qtbot.keyClick(window.composer, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not window.session.busy, timeout=5000)
    model = window.transcript_model
    rows = [
        (model.index(r, 0).data(KindRole), model.index(r, 0).data(TextRole))
        for r in range(model.rowCount())
    ]
    assert (RowKind.USER, "first line\nsecond line") in rows
    assert (RowKind.ASSISTANT, "Echo: first line\nsecond line") in rows
    sent = fake.posts[-1]["messages"][0]
    assert sent["content"] == [{"type": "text", "text": "first line\nsecond line"}]
    assert len(sent["otid"]) == 36


def test_the_no_keyring_warning_stays_after_connecting_until_dismissed(qtbot, workers, fake):
    window = MainWindow(workers, Settings(), SecretStore(use_keyring=False), fake.factory)
    qtbot.addWidget(window)
    window.show()
    window.start("https://letta.test", "good-key", fake.agents[0]["id"])
    assert window.banner.isVisible() and "No system keyring" in window.banner.label.text()
    qtbot.waitUntil(
        lambda: window.session is not None and window.session.agent is not None, timeout=5000
    )
    # Connected: the warning is as true as before (the key is still lost on quitting).
    assert window.banner.isVisible() and "No system keyring" in window.banner.label.text()
    window.banner.close_button.click()
    assert not window.banner.isVisible()


def test_connecting_withdraws_the_last_connections_error(qtbot, workers, fake):
    window = _window(qtbot, workers, fake)
    window.banner.show(Notice("Could not reach the server: the connection was refused."))
    window.start("https://letta.test", "good-key", fake.agents[0]["id"])
    qtbot.waitUntil(
        lambda: window.session is not None and window.session.agent is not None, timeout=5000
    )
    assert not window.banner.isVisible()


def test_a_failed_send_keeps_the_text_and_retry_sends_it_once(qtbot, workers, fake):
    agent = fake.agents[0]
    window = _window(qtbot, workers, fake)
    window.start("https://letta.test", "good-key", agent["id"])
    qtbot.waitUntil(
        lambda: window.session is not None and window.session.agent is not None, timeout=5000
    )
    fake.fail_next_send = 500
    qtbot.keyClicks(window.composer, "please keep me")
    qtbot.keyClick(window.composer, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not window.session.busy, timeout=5000)
    assert window.banner.isVisible() and "internal error" in window.banner.label.text()
    otid = fake.posts[-1]["messages"][0]["otid"]
    window.session.retry(otid)
    qtbot.waitUntil(lambda: not window.session.busy and len(fake.posts) == 2, timeout=5000)
    qtbot.waitUntil(lambda: not window.session.busy, timeout=5000)
    stored = [m for m in fake.messages[agent["id"]] if m.get("otid") == otid]
    assert len(stored) == 1  # the same otid, stored once
    assert fake.posts[-1]["messages"][0]["otid"] == otid


def test_a_rejected_key_asks_for_the_key_again(qtbot, workers, fake):
    window = _window(qtbot, workers, fake)
    seen: list[str] = []

    def answer_dialog():
        dialog = QApplication.activeModalWidget()
        if isinstance(dialog, ConnectDialog):
            seen.append(dialog.findChildren(type(dialog.result_label))[0].text())
            dialog.key_edit.setText("good-key")
            dialog.accept()
        else:
            QTimer.singleShot(20, answer_dialog)

    QTimer.singleShot(20, answer_dialog)
    window.start("https://letta.test", "revoked-key", fake.agents[2]["id"])
    qtbot.waitUntil(lambda: window.windowTitle().startswith("Travel planner"), timeout=10000)
    assert seen and "key" in seen[0]


def test_geometry_is_restored_on_the_next_start(qtbot, workers, fake):
    first = _window(qtbot, workers, fake)
    first.resize(700, 610)
    first.close()
    second = _window(qtbot, workers, fake)
    assert (second.width(), second.height()) == (700, 610)


def test_an_agent_left_before_it_loaded_never_takes_over(qtbot, workers, fake):
    """The first agent's details arrive after the user opened another one: the window stays on
    the agent they chose."""
    left, chosen = fake.agents[0], fake.agents[1]
    asked, gate = threading.Event(), threading.Event()
    handle = fake.handle

    def held_agent(request):
        if request.method == "GET" and request.url.path.strip("/") == f"v1/agents/{left['id']}":
            asked.set()
            gate.wait(10)
        return handle(request)

    fake.handle = held_agent
    window = _window(qtbot, workers, fake)
    try:
        window.start("https://letta.test", "good-key", left["id"])
        qtbot.waitUntil(asked.is_set, timeout=5000)
        window.open_agent(chosen["id"])
        qtbot.waitUntil(lambda: window.windowTitle().startswith("Screenshot critic"), timeout=5000)
    finally:
        gate.set()
    qtbot.waitUntil(lambda: workers.active_count == 0, timeout=5000)
    assert window.windowTitle().startswith("Screenshot critic")
    assert window.session.agent.id == chosen["id"]


def test_switching_agents_quickly_never_mixes_their_histories(qtbot, workers, fake):
    import time

    slow, quick = fake.agents[0], fake.agents[1]
    fake.messages[slow["id"]].append(
        {
            "id": "message-slow",
            "message_type": "assistant_message",
            "content": "from the slow one",
            "date": "2026-01-01T10:00:00+00:00",
        }
    )
    fake.messages[quick["id"]].append(
        {
            "id": "message-quick",
            "message_type": "assistant_message",
            "content": "from the quick one",
            "date": "2026-01-01T10:00:00+00:00",
        }
    )
    handle = fake.handle

    def slow_history(request):
        if request.url.path.endswith(f"{slow['id']}/messages"):
            time.sleep(0.4)  # the first agent's page arrives after the user moved on
        return handle(request)

    fake.handle = slow_history
    window = _window(qtbot, workers, fake)
    window.start("https://letta.test", "good-key", slow["id"])
    qtbot.waitUntil(
        lambda: window.session is not None and window.session.agent is not None, timeout=5000
    )
    window.open_agent(quick["id"])
    qtbot.waitUntil(lambda: window.windowTitle().startswith("Screenshot critic"), timeout=5000)
    qtbot.wait(700)  # longer than the slow page takes
    texts = [
        window.transcript_model.index(r, 0).data(TextRole)
        for r in range(window.transcript_model.rowCount())
    ]
    assert "from the quick one" in texts
    assert "from the slow one" not in texts


@pytest.mark.parametrize(
    ("url", "warned"),
    [("http://letta.example:8283", True), ("http://127.0.0.1:8283", False)],
)
def test_a_key_over_plain_http_is_warned_about_however_the_address_came(
    qtbot, workers, fake, url, warned
):
    """--base-url, LETTA_BASE_URL and profiles connect without the dialog and its warning."""
    agent = fake.agents[0]
    window = _window(qtbot, workers, fake)
    window.start(url, "good-key", agent["id"])
    qtbot.waitUntil(lambda: window.windowTitle().startswith("Research helper"), timeout=5000)
    shown = window.banner.label.text() if window.banner.isVisible() else ""
    expected = f"{url} uses plain http:// over the network: your API key travels unencrypted"
    assert (expected in shown) is warned, shown


def test_testing_the_connection_keeps_focus_on_the_button_for_its_result(qtbot, workers, fake):
    """Disabling the button threw keyboard focus to Connect; the result went unheard."""
    dialog = ConnectDialog(workers, fake.factory, base_url=None)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.key_edit.setText("good-key")
    dialog.test_button.setFocus()
    qtbot.keyClick(dialog.test_button, Qt.Key.Key_Space)
    assert dialog.result_label.text() == "Testing…"
    assert dialog.focusWidget() is dialog.test_button
    qtbot.keyClick(dialog.test_button, Qt.Key.Key_Space)  # pressed again while it runs
    qtbot.waitUntil(lambda: dialog.result_label.text().startswith("✓"), timeout=5000)
    assert dialog.focusWidget() is dialog.test_button


def test_a_closed_agent_picker_does_not_stay_behind(qtbot, workers, fake):
    window = _window(qtbot, workers, fake)
    window.start("https://letta.test", "good-key", fake.agents[0]["id"])
    qtbot.waitUntil(lambda: window.windowTitle().startswith("Research helper"), timeout=5000)
    from desktop.ui.connection.agent_picker import AgentPicker

    window.choose_agent()
    window.choose_agent()  # again while it is open: the same picker comes forward
    (picker,) = window.findChildren(AgentPicker)
    picker.reject()
    qtbot.waitUntil(lambda: not window.findChildren(AgentPicker), timeout=2000)


def test_agent_picker_leaves_out_the_apps_image_describer(qtbot, workers, fake):
    helper = fake.add_agent(HELPER_NAME, "openai/gpt-4o-mini")
    helper["tags"] = [HELPER_TAG]
    picker = AgentPicker(workers, fake.client().list_agents)
    qtbot.addWidget(picker)
    qtbot.waitUntil(lambda: picker.status.text() == "3 agents", timeout=5000)
    names = [picker.model.item(r).text() for r in range(picker.model.rowCount())]
    assert HELPER_NAME not in names and len(names) == 3
