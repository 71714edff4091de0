"""What a screen reader finds in the app: its AT-SPI tree, walked over the real accessibility bus.

The app runs in its own process (Qt's Linux bridge on, platform xcb, the session bus of
tests/run_all.sh) against the in-memory FakeLetta, which lives in that process. The test drives
it one step at a time over stdin (open an agent, send, open the connect dialog, test the
connection, open the agent picker, close) and, after each step, walks the tree the way Orca does:
the registry's root lists the applications; each node answers GetRoleName, GetChildren and its
Name property (org.a11y.atspi.Accessible). Every assertion is polled (the bridge answers from the
app's event loop) and prints the tree it last saw when it fails.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.app_process import ROOT
from tests.x11.test_screen_reader_x11 import Listener, _a11y_bus

pytestmark = pytest.mark.x11

AGENT = "Screenshot critic"
MODEL = "openai/gpt-4o-mini"
MESSAGE = "Make **this** bold and `that` code"
#: The fake echoes the text; the agent's reply is Markdown, read as its words.
REPLY_NAME = "Agent: Echo: Make this bold and that code"
TESTED = "Connected to Letta 0.16.8. The key works."
POLITE = 1
SHOWING = 25  # AT-SPI state bit: on screen (a hidden widget stays in Qt's tree)

APP = r"""
import json, sys, time
from PySide6.QtCore import QSocketNotifier, Qt, QTimer
from PySide6.QtWidgets import QApplication
app = QApplication(["letta-desktop"])
import desktop.app, desktop.compose
from desktop.ui.connection.agent_picker import AgentPicker
from desktop.ui.connection.connect_dialog import ConnectDialog
from tests.fake_letta import FakeLetta

fake = FakeLetta(key="good-key")
agent = fake.add_agent("Screenshot critic", model="openai/gpt-4o-mini")
fake.add_agent("Release notes writer", model="openai/gpt-4o")
args = desktop.app.build_parser().parse_args([])
window, _, _ = desktop.compose.create_window(args, use_keyring=False, client_factory=fake.factory)
window.resize(900, 700)
window.show()

def alive(cls):
    return [w for w in app.topLevelWidgets() if isinstance(w, cls) and w.isVisible()]

def rows():
    m = window.transcript_model
    return [m.data(m.index(i), Qt.ItemDataRole.AccessibleTextRole) for i in range(m.rowCount())]

def send():
    window.composer.setPlainText(sys.argv[1])
    window.send()

def test_connection():
    dialog = alive(ConnectDialog)[0]
    dialog.key_edit.setText("good-key")
    dialog.test_connection()

def tested():
    dialogs = alive(ConnectDialog)
    return dialogs and dialogs[0].result_label.text().startswith(("✓", "✗"))

def close():
    for w in alive(ConnectDialog) + alive(AgentPicker):
        w.reject()

def picker_status():
    pickers = alive(AgentPicker)
    return pickers[0].status.text() if pickers else ""

STEPS = {
    "open": (
        lambda: window.start("https://letta.test", "good-key", agent["id"]),
        lambda: window.model_label.text() and window.agent_button.text().startswith(
            "Screenshot critic"),
        lambda: {"model": window.model_label.text(), "button": window.agent_button.text()},
    ),
    "send": (
        send,
        lambda: any(r.startswith("Agent: Echo") for r in rows()) and not window.session.busy,
        lambda: {"rows": rows()},
    ),
    "connect": (
        lambda: QTimer.singleShot(0, window.show_connect_dialog),
        lambda: alive(ConnectDialog),
        lambda: {},
    ),
    "test": (
        test_connection,
        tested,
        lambda: {"result": alive(ConnectDialog)[0].result_label.text()},
    ),
    "picker": (
        window.choose_agent,
        lambda: picker_status().endswith("agents"),
        lambda: {"status": picker_status()},
    ),
    "close": (close, lambda: not alive(ConnectDialog) and not alive(AgentPicker), lambda: {}),
}
timers = []

def run(step):
    if step == "quit":
        app.quit()
        return
    action, done, report = STEPS[step]
    action()
    deadline = time.monotonic() + 15
    timer = QTimer(app)
    timers.append(timer)
    def tick():
        if done():
            timer.stop()
            print(json.dumps({"step": step, **report()}), flush=True)
        elif time.monotonic() > deadline:
            timer.stop()
            print(json.dumps({"step": step, "error": "timed out"}), flush=True)
    timer.timeout.connect(tick)
    timer.start(20)

def on_input():
    line = sys.stdin.readline()
    if not line:
        app.quit()
        return
    run(line.strip())

notifier = QSocketNotifier(sys.stdin.fileno(), QSocketNotifier.Type.Read)
notifier.activated.connect(on_input)
print(json.dumps({"step": "started"}), flush=True)
app.exec()
"""


# -- the tree -------------------------------------------------------------------------------


@dataclass
class Node:
    role: str
    name: str
    showing: bool = True
    children: list[Node] = field(default_factory=list)

    def all(self) -> Iterator[Node]:
        yield self
        for child in self.children:
            yield from child.all()

    def find(self, role: str, name: str | None = None) -> list[Node]:
        return [n for n in self.all() if n.role == role and (name is None or n.name == name)]

    def dump(self, depth: int = 0) -> str:
        hidden = "" if self.showing else "  (not showing)"
        lines = [f"{'  ' * depth}[{self.role}] {self.name!r}{hidden}"]
        lines += [child.dump(depth + 1) for child in self.children]
        return "\n".join(lines)


class Atspi:
    """A client of the accessibility bus: finds the app by its process id and walks its tree."""

    def __init__(self, address: str):
        from jeepney.io.blocking import open_dbus_connection

        self._conn = open_dbus_connection(bus=address)

    def close(self) -> None:
        self._conn.close()

    def _call(self, bus: str, path: str, interface: str, member: str, sig: str = "", *a: Any):
        from jeepney import DBusAddress, new_method_call
        from jeepney.wrappers import unwrap_msg

        address = DBusAddress(path, bus_name=bus, interface=interface)
        reply = self._conn.send_and_get_reply(
            new_method_call(address, member, sig or None, a), timeout=5
        )
        return unwrap_msg(reply)  # an error reply raises DBusErrorResponse

    def app_root(self, pid: int) -> tuple[str, str] | None:
        from jeepney.wrappers import DBusErrorResponse

        (apps,) = self._call(
            "org.a11y.atspi.Registry",
            "/org/a11y/atspi/accessible/root",
            "org.a11y.atspi.Accessible",
            "GetChildren",
        )
        for bus, path in apps:
            try:
                (owner,) = self._call(
                    "org.freedesktop.DBus",
                    "/org/freedesktop/DBus",
                    "org.freedesktop.DBus",
                    "GetConnectionUnixProcessID",
                    "s",
                    bus,
                )
            except DBusErrorResponse:  # an application that has just left
                continue
            if owner == pid:
                return bus, path
        return None

    def walk(self, bus: str, path: str, depth: int = 0) -> Node:
        accessible = "org.a11y.atspi.Accessible"
        (role,) = self._call(bus, path, accessible, "GetRoleName")
        ((_sig, name),) = self._call(
            bus, path, "org.freedesktop.DBus.Properties", "Get", "ss", accessible, "Name"
        )
        (states,) = self._call(bus, path, accessible, "GetState")
        node = Node(str(role), str(name), bool(states[0] & 1 << SHOWING))
        if depth < 40:
            (children,) = self._call(bus, path, accessible, "GetChildren")
            node.children = [self.walk(cb, cp, depth + 1) for cb, cp in children]
        return node


# -- the app --------------------------------------------------------------------------------


class App:
    """The app process, driven step by step over stdin; each step answers one JSON line."""

    def __init__(self, home: Path, address: str):
        environ = dict(
            os.environ,
            QT_QPA_PLATFORM="xcb",
            QT_LINUX_ACCESSIBILITY_ALWAYS_ON="1",
            HOME=str(home),
            XDG_CONFIG_HOME=str(home / "config"),
            XDG_DATA_HOME=str(home / "data"),
            XDG_CACHE_HOME=str(home / "cache"),
            XDG_STATE_HOME=str(home / "state"),
        )
        environ.pop("LETTA_API_KEY", None)
        environ.pop("LETTA_BASE_URL", None)
        self._stderr = (home / "stderr.txt").open("w+")
        self.proc = subprocess.Popen(
            [sys.executable, "-c", APP, MESSAGE],
            cwd=str(ROOT),
            env=environ,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
        )
        self._lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.atspi = Atspi(address)
        self.root: tuple[str, str] | None = None
        try:
            self._answer("started")
        except BaseException:
            self.close()
            raise

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line)

    def stderr(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read()[-3000:]

    def _answer(self, step: str) -> dict[str, Any]:
        try:
            line = self._lines.get(timeout=20)
        except queue.Empty:
            pytest.fail(f"the app did not finish {step!r}; stderr:\n{self.stderr()}")
        answer = json.loads(line)
        assert answer.get("step") == step and "error" not in answer, (answer, self.stderr())
        return answer

    def do(self, step: str) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(step + "\n")
        self.proc.stdin.flush()
        return self._answer(step)

    def tree(self) -> Node:
        if self.root is None:
            self.root = self.atspi.app_root(self.proc.pid)
            if self.root is None:
                return Node("(not on the bus yet)", "")
        return self.atspi.walk(*self.root)

    def until(self, check: Callable[[Node], None], timeout: float = 5) -> Node:
        """Walk the tree until `check` passes; the last failure, with the tree, if it never does."""
        deadline = time.monotonic() + timeout
        while True:
            tree = self.tree()
            try:
                check(tree)
                return tree
            except AssertionError as e:
                if time.monotonic() > deadline:
                    raise AssertionError(f"{e}\n\nThe app's AT-SPI tree:\n{tree.dump()}") from None
            time.sleep(0.1)

    def close(self) -> None:
        if self.proc.poll() is None and self.proc.stdin is not None:
            try:
                self.proc.stdin.write("quit\n")
                self.proc.stdin.flush()
                self.proc.wait(10)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait(5)
        self.atspi.close()
        self.said = self.stderr()
        self._stderr.close()


@pytest.fixture(scope="module")
def listener() -> Iterator[Listener]:
    heard = Listener(_a11y_bus())
    heard.start()
    yield heard
    heard.close()


@pytest.fixture(scope="module")
def app(listener: Listener, tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    running = App(tmp_path_factory.mktemp("a11y-home"), _a11y_bus())
    try:
        running.do("open")
        yield running
    finally:
        running.close()
    assert running.said == "", running.said  # Qt's warnings: a wrong role, a dead object, …


def frames(tree: Node) -> list[str]:
    """The app's top-level windows, as "role: name" lines."""
    return [f"{c.role}: {c.name}" for c in tree.children]


def one(tree: Node, role: str, name: str) -> Node:
    found = tree.find(role, name)
    assert len(found) == 1, f"{len(found)} × [{role}] {name!r}"
    assert found[0].showing, f"[{role}] {name!r} is not on screen"
    return found[0]


# -- the tests ------------------------------------------------------------------------------


def test_the_main_window_names_the_agent_the_model_and_the_rows(app: App) -> None:
    app.do("send")

    def main_window(tree: Node) -> None:
        assert frames(tree) == [f"frame: {AGENT} — Letta Desktop"], frames(tree)
        one(tree, "push button", f"Agent: {AGENT}")
        one(tree, "label", MODEL)
        one(tree, "text", "Message")
        one(tree, "push button", "Send message")
        conversation = one(tree, "list", "Conversation")
        # The user's row is drawn as typed (plain text), the agent's as rendered Markdown.
        rows = [n.name for n in conversation.find("list item")]
        assert rows == [f"You: {MESSAGE}", REPLY_NAME], rows

    tree = app.until(main_window)
    print("\n# The main window, an agent open, one message sent\n" + tree.dump())


def test_the_connect_dialog_names_its_fields_and_leaves_no_frame_behind(
    app: App, listener: Listener
) -> None:
    app.do("connect")

    def dialog_open(tree: Node) -> None:
        dialog = one(tree, "dialog", "Connect to Letta")
        for role, name in [
            ("radio button", "Letta Cloud (api.letta.com)"),
            ("radio button", "Self-hosted server"),
            ("text", "Server URL"),
            ("text", "API key"),
            ("check box", "Show API key"),
            ("push button", "Test connection"),
            ("push button", "Connect"),
            ("push button", "Cancel"),
        ]:
            one(dialog, role, name)

    app.until(dialog_open)
    assert app.do("test")["result"] == "✓ " + TESTED

    def result_shown(tree: Node) -> None:
        one(one(tree, "dialog", "Connect to Letta"), "label", "✓ " + TESTED)

    tree = app.until(result_shown)
    print("\n# The connect dialog open, its connection test passed\n" + tree.dump())
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and (TESTED, POLITE) not in listener.heard:
        time.sleep(0.1)
    assert (TESTED, POLITE) in listener.heard, listener.heard

    app.do("close")

    def closed(tree: Node) -> None:
        assert frames(tree) == [f"frame: {AGENT} — Letta Desktop"], frames(tree)

    tree = app.until(closed)
    print("\n# After the connect dialog closed\n" + tree.dump())


def test_the_agent_picker_names_its_parts_and_leaves_no_frame_behind(app: App) -> None:
    assert app.do("picker")["status"] == "2 agents"

    def picker_open(tree: Node) -> None:
        picker = one(tree, "dialog", "Choose an agent")
        one(picker, "text", "Search agents")
        agents = one(picker, "list", "Agents")
        names = [n.name for n in agents.find("list item")]
        assert names == [f"{AGENT}, model {MODEL}", "Release notes writer, model openai/gpt-4o"]
        one(picker, "label", "2 agents")

    tree = app.until(picker_open)
    print("\n# The agent picker open\n" + tree.dump())

    app.do("close")

    def closed(tree: Node) -> None:
        assert frames(tree) == [f"frame: {AGENT} — Letta Desktop"], frames(tree)

    tree = app.until(closed)
    print("\n# After the agent picker closed\n" + tree.dump())
