"""What a screen reader hears: the app started as a user starts it, on a real AT-SPI bus.

The session bus of tests/run_all.sh starts the accessibility bus (at-spi2-core) on demand. A
listener registers for `object:announcement` the way Orca does, and the app — in its own process,
with Qt's Linux accessibility bridge on — fails to reach its server. The error the banner shows
must be spoken, assertively. (Qt's older Alert event never reached the bus at all.)
"""

from __future__ import annotations

import os
import threading
import time

import pytest

from tests.app_process import run_snippet

pytestmark = pytest.mark.x11

ASSERTIVE = 2  # AT-SPI politeness: 1 polite, 2 assertive

APP = r"""
import sys, time
from PySide6.QtWidgets import QApplication
app = QApplication([])
import desktop.app
import desktop.compose
args = desktop.app.build_parser().parse_args([])
window, _, _ = desktop.compose.create_window(args, use_keyring=False)
window.show()
window.start(sys.argv[1], "sk-test-key", None)
end = time.monotonic() + float(sys.argv[2])
def shown():
    return window.banner.label.text() if window.banner.isVisible() else ""
while time.monotonic() < end and not shown().startswith("Could not reach"):
    app.processEvents()
end = time.monotonic() + 1.5  # let the bridge send what the banner said
while time.monotonic() < end:
    app.processEvents()
print(shown())
"""


class Listener(threading.Thread):
    """Collects (text, politeness) of every announcement on the accessibility bus."""

    def __init__(self, address: str):
        super().__init__(daemon=True)
        from jeepney import DBusAddress, MatchRule, message_bus, new_method_call
        from jeepney.io.blocking import open_dbus_connection

        self.heard: list[tuple[str, int]] = []
        self._done = threading.Event()
        self._conn = open_dbus_connection(bus=address)
        registry = DBusAddress(
            "/org/a11y/atspi/registry",
            bus_name="org.a11y.atspi.Registry",
            interface="org.a11y.atspi.Registry",
        )
        # Registered while this connection lives: Qt sends announcements only to listeners.
        self._conn.send_and_get_reply(
            new_method_call(registry, "RegisterEvent", "sass", ("object:announcement", [], ""))
        )
        rule = MatchRule(
            type="signal", interface="org.a11y.atspi.Event.Object", member="Announcement"
        )
        self._conn.send_and_get_reply(message_bus.AddMatch(rule))

    def run(self) -> None:
        while not self._done.is_set():
            try:
                msg = self._conn.receive(timeout=0.2)
            except TimeoutError:
                continue
            except OSError:
                return
            body = msg.body
            if len(body) >= 4 and isinstance(body[3], tuple) and len(body[3]) == 2:
                self.heard.append((str(body[3][1]), int(body[1])))

    def close(self) -> None:
        self._done.set()
        self.join(5)
        self._conn.close()


def _a11y_bus() -> str:
    from jeepney import DBusAddress, new_method_call
    from jeepney.io.blocking import open_dbus_connection

    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        if os.environ.get("LETTA_E2E_REQUIRED") == "1":
            pytest.fail("no D-Bus session: tests/run_all.sh starts one")
        pytest.skip("no D-Bus session")
    bus = DBusAddress("/org/a11y/bus", bus_name="org.a11y.Bus", interface="org.a11y.Bus")
    with open_dbus_connection(bus="SESSION") as conn:
        reply = conn.send_and_get_reply(new_method_call(bus, "GetAddress"), timeout=10)
    return str(reply.body[0])


def test_a_connection_error_is_spoken_assertively(tmp_path):
    listener = Listener(_a11y_bus())
    listener.start()
    try:
        shown = run_snippet(
            APP,
            "http://127.0.0.1:9",
            "20",
            home=tmp_path,
            platform="xcb",
            timeout=60,
            QT_LINUX_ACCESSIBILITY_ALWAYS_ON="1",
        )
        assert shown.startswith("Could not reach the server at 127.0.0.1:9"), shown
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not listener.heard:
            time.sleep(0.1)
    finally:
        listener.close()
    assert (shown, ASSERTIVE) in listener.heard, listener.heard
