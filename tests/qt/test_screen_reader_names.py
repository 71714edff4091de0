"""What a screen reader reads for the window's status labels and the agent button: the text
shown, not a fixed name that hides it (AT-SPI reads a widget's accessible name)."""

from __future__ import annotations

from PySide6.QtGui import QAccessible

from desktop.settings import Settings
from desktop.ui.connection.agent_picker import AgentPicker
from desktop.ui.window.main_window import MainWindow
from tests.fake_letta import FakeLetta
from tests.memory_keyring import memory_secrets


def heard(widget) -> str:
    iface = QAccessible.queryAccessibleInterface(widget)
    return iface.text(QAccessible.Text.Name)


def test_the_agent_button_and_the_model_label_say_which_agent_and_model(qtbot, workers):
    fake = FakeLetta()
    agent = fake.add_agent("Screenshot critic")
    window = MainWindow(workers, Settings(), memory_secrets(), fake.factory)
    qtbot.addWidget(window)
    window.show()
    window.start("https://letta.test", "good-key", agent["id"])
    qtbot.waitUntil(lambda: window.windowTitle().startswith("Screenshot critic"), timeout=5000)
    assert heard(window.agent_button) == "Agent: Screenshot critic"
    assert heard(window.model_label) == window.model_label.text() != ""
    assert heard(window.server_label) == window.server_label.text() == "letta.test"


def test_the_agent_list_status_is_read_as_what_it_says(qtbot, workers):
    fake = FakeLetta()
    picker = AgentPicker(workers, fake.factory("https://letta.test", "good-key"))
    qtbot.addWidget(picker)
    picker.status.setText("Could not load agents: the server is down.")
    assert heard(picker.status) == "Could not load agents: the server is down."
