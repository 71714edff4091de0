"""Screen capture through the XDG screenshot portal, over real D-Bus.

A private `dbus-daemon` (no service directories: nothing real can be activated on it) and a fake
portal process (tests/peers/fake_portal.py, jeepney) answering Screenshot with 0 + a PNG, 1
(cancelled), 2 (failed) or never. The app talks to it with QtDBus on a connection made with
connectToBus (the ScreenCapture's `bus`), exactly as it talks to the session bus's portal.
"""

from __future__ import annotations

import uuid

import pytest
from PySide6.QtCore import QEvent, QObject
from PySide6.QtDBus import QDBusConnection
from PySide6.QtGui import QColor, QPixmap

from desktop.settings import Settings
from desktop.ui.attachments import capture as capture_module
from desktop.ui.attachments import portal_capture
from desktop.ui.attachments.capture import unsupported_reason
from desktop.ui.window.actions import ActionId
from desktop.ui.window.main_window import MainWindow
from tests.fake_letta import FakeLetta
from tests.memory_keyring import memory_secrets
from tests.peers.fake_portal import FakePortal, PrivateBus, dbus_daemon
from tests.qt.attachments_support import wait_settled
from tests.stall import StallMeter

pytestmark = pytest.mark.skipif(
    dbus_daemon() is None, reason="needs dbus-daemon (apt: dbus-daemon, in tests/run_all.sh)"
)


# -- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def private_bus(tmp_path_factory):
    bus = PrivateBus.start(tmp_path_factory.mktemp("dbus"))
    yield bus
    bus.stop()


@pytest.fixture
def bus(qapp, private_bus):
    """A fresh QtDBus connection to the private bus (its own name: nothing cached carries over)."""
    name = f"portal-test-{uuid.uuid4().hex}"
    connection = QDBusConnection.connectToBus(private_bus.address, name)
    assert connection.isConnected(), connection.lastError().message()
    yield connection
    portal_capture.forget(connection)
    QDBusConnection.disconnectFromBus(name)


@pytest.fixture
def start_portal(private_bus, tmp_path):
    started: list[FakePortal] = []

    def start(mode: str, delay: float = 0.0) -> FakePortal:
        portal = FakePortal.start(private_bus.address, tmp_path / "portal", mode, delay)
        started.append(portal)
        return portal

    yield start
    for portal in started:  # by PID; the name is free again for the next test
        portal.stop()


class HideCounter(QObject):
    """Counts the window's Hide events (did the capture take the window away?)."""

    def __init__(self, window):
        super().__init__(window)
        self.hides = 0
        window.installEventFilter(self)

    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Hide:
            self.hides += 1
        return False


@pytest.fixture
def window(qtbot, workers, bus):
    win = MainWindow(workers, Settings(), memory_secrets(), FakeLetta().factory)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    win.capture.bus = bus
    win.capture.portal_timeout_ms = 800  # the 'never' portal: give up fast
    win.hide_counter = HideCounter(win)
    yield win
    win.capture.cancel()


def _run(qtbot, window, *, trigger=None) -> StallMeter:
    """Start a capture (Ctrl+Shift+S's action) and wait until it is over; the stall meter runs."""
    capture = window.capture
    meter = StallMeter().start()
    (trigger or window.commands[ActionId.CAPTURE].trigger)()
    qtbot.waitUntil(lambda: not capture.active, timeout=10000)
    meter.stop()
    return meter


# -- through the window ----------------------------------------------------------------------


def test_the_portal_screenshot_becomes_a_pending_attachment(qtbot, window, start_portal):
    portal = start_portal("0")
    capture = window.capture
    capture.use_portal = True
    meter = _run(qtbot, window)
    assert window.isVisible()
    assert window.hide_counter.hides == 1  # hidden while the portal's UI was up
    assert len(window.attachments) == 1 and len(window.strip.chips()) == 1
    att = window.attachments.items[0]
    assert att.path == str(portal.out_dir / "Screenshot-1.png")
    wait_settled(qtbot, window.attachments)
    assert att.ready and (att.prepared.width, att.prepared.height) == (320, 200)
    assert not window.banner.isVisible()
    assert meter.max_stall_ms < 250, f"GUI stalled {meter.max_stall_ms:.0f} ms"
    screenshot = [c for c in portal.calls() if c["method"].endswith("Screenshot.Screenshot")]
    assert len(screenshot) == 1
    parent, options = screenshot[0]["args"]
    assert parent == "" and options["interactive"] is True
    assert options["handle_token"].startswith("letta_")


def test_under_wayland_the_capture_action_asks_the_portal(qtbot, window, start_portal, monkeypatch):
    """No `use_portal`: the platform decides. Qt cannot grab under Wayland, the portal can."""
    monkeypatch.setattr(capture_module, "current_platform", lambda: "wayland")
    start_portal("0")
    assert window.capture.wants_portal()
    assert unsupported_reason(bus=window.capture.bus) is None
    _run(qtbot, window)
    assert len(window.attachments) == 1
    assert window.attachments.items[0].name == "Screenshot-1.png"


def test_an_x11_app_in_a_wayland_session_asks_the_portal(qtbot, window, start_portal, monkeypatch):
    """XWayland: Qt's X11 grab sees only black where Wayland windows are."""
    monkeypatch.setattr(capture_module, "current_platform", lambda: "xcb")
    monkeypatch.setenv("XDG_SESSION_TYPE", "wayland")
    start_portal("0")
    assert window.capture.wants_portal()
    _run(qtbot, window)
    assert len(window.attachments) == 1 and window.hide_counter.hides == 1
    monkeypatch.setenv("XDG_SESSION_TYPE", "x11")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert not window.capture.wants_portal()  # plain X11: grab as before


def test_a_blank_grab_falls_back_to_the_portal(qtbot, window, start_portal, monkeypatch):
    """A real grab that comes back black, with a portal on the bus: it asks the portal."""
    monkeypatch.setattr(capture_module, "current_platform", lambda: "xcb")
    monkeypatch.delenv("XDG_SESSION_TYPE", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)

    def black(_screen):
        pixmap = QPixmap(64, 48)
        pixmap.fill(QColor("black"))
        return pixmap

    monkeypatch.setattr(capture_module, "default_grab", black)
    start_portal("0")
    assert not window.capture.wants_portal()
    _run(qtbot, window)
    assert window.isVisible() and window.hide_counter.hides == 1
    assert len(window.attachments) == 1
    assert not window.banner.isVisible()


def test_cancelling_in_the_portal_leaves_nothing_and_says_nothing(qtbot, window, start_portal):
    start_portal("1")
    window.capture.use_portal = True
    _run(qtbot, window)
    assert window.isVisible() and window.hide_counter.hides == 1
    assert len(window.attachments) == 0 and window.strip.chips() == []
    assert not window.banner.isVisible()


@pytest.mark.parametrize("mode", ["2", "never"])
def test_a_portal_failure_points_to_paste(qtbot, window, start_portal, mode):
    portal = start_portal(mode)
    window.capture.use_portal = True
    meter = _run(qtbot, window)
    assert window.isVisible()
    assert len(window.attachments) == 0
    assert window.banner.isVisible()
    text = window.banner.label.text()
    assert "could not be captured" in text and "paste" in text and "Ctrl+V" in text
    if mode == "never":  # gave up after portal_timeout_ms, and told the portal to close its UI
        assert "did not answer" in text
        assert any(c["method"] == "org.freedesktop.portal.Request.Close" for c in portal.calls())
    assert meter.max_stall_ms < 250, f"GUI stalled {meter.max_stall_ms:.0f} ms"


def test_without_a_portal_the_window_stays_and_points_to_paste(qtbot, window):
    capture = window.capture
    capture.use_portal = True
    _run(qtbot, window)
    assert window.isVisible() and window.hide_counter.hides == 0  # the probe said no first
    text = window.banner.label.text()
    assert window.banner.isVisible() and "no screenshot portal" in text and "paste" in text
    assert len(window.attachments) == 0
    # now known: under Wayland the capture says so at once
    assert "paste" in (unsupported_reason("wayland", bus=capture.bus) or "")


def test_a_slow_portal_never_blocks_the_gui(qtbot, window, start_portal):
    """Every reply held back 0.6 s (a portal starting up): a blocking call would stall for it."""
    start_portal("0", delay=0.6)
    window.capture.use_portal = True
    meter = _run(qtbot, window)
    assert len(window.attachments) == 1
    assert meter.max_stall_ms < 250, f"GUI stalled {meter.max_stall_ms:.0f} ms"


def test_cancel_while_the_portal_is_up_brings_the_window_back(qtbot, window, start_portal):
    portal = start_portal("never")
    capture = window.capture
    capture.use_portal = True
    capture.portal_timeout_ms = 60_000
    capture.start()
    qtbot.waitUntil(
        lambda: any(c["method"].endswith("Screenshot.Screenshot") for c in portal.calls()),
        timeout=5000,
    )
    assert not window.isVisible()
    capture.cancel()
    assert window.isVisible() and not capture.active
    qtbot.waitUntil(
        lambda: any(c["method"].endswith("Request.Close") for c in portal.calls()), timeout=5000
    )
    assert len(window.attachments) == 0 and not window.banner.isVisible()


# -- the portal module on its own ---------------------------------------------------------------


def test_portal_capture_delivers_the_file_path(qtbot, bus, start_portal):
    portal = start_portal("0")
    seen: list = []
    request = portal_capture.portal_capture(
        bus, lambda path: seen.append(("file", path)), lambda why: seen.append(("error", why))
    )
    assert request.handle == portal_capture.request_path(bus, request.token)
    assert request.handle.startswith("/org/freedesktop/portal/desktop/request/")
    qtbot.waitUntil(lambda: bool(seen), timeout=5000)
    assert seen == [("file", str(portal.out_dir / "Screenshot-1.png"))]
    assert (portal.out_dir / "Screenshot-1.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_unsupported_reason_under_wayland_follows_the_portal(qtbot, bus, start_portal):
    assert unsupported_reason("wayland", bus=bus) is None  # cheap: a bus, nothing known against
    answers: list = []
    portal_capture.probe_portal(bus, answers.append)
    qtbot.waitUntil(lambda: len(answers) == 1, timeout=5000)
    assert answers[0] == "no screenshot portal is running"
    reason = unsupported_reason("wayland", bus=bus)
    assert reason and "screenshot portal" in reason and "paste" in reason
    start_portal("0")
    portal_capture.probe_portal(bus, answers.append)
    qtbot.waitUntil(lambda: len(answers) == 2, timeout=5000)
    assert answers[1] is None
    assert unsupported_reason("wayland", bus=bus) is None
    # X11 and offscreen: as before
    assert unsupported_reason("xcb", bus=bus) is None
    assert "no screen to capture" in (unsupported_reason("offscreen", bus=bus) or "")
