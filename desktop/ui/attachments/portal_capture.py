"""Screen capture through the XDG Desktop Portal (Wayland, and anywhere a portal runs).

Under Wayland an app cannot read the screen; it asks the desktop's portal instead:
`org.freedesktop.portal.Screenshot.Screenshot(s parent_window, a{sv} options)` on
`org.freedesktop.portal.Desktop` `/org/freedesktop/portal/desktop`, session bus. With
`interactive: true` the desktop shows its own screenshot UI (GNOME's selection overlay, KDE's
dialog), where the user picks a region, a window or a screen. The call returns at once with a
request handle; the outcome comes later as `org.freedesktop.portal.Request.Response(u, a{sv})`
on that handle: 0 with `results["uri"]` (a file:// URI of a PNG the portal wrote), 1 when the
user cancelled, 2 on failure.

The handle's path is known before the call — `/org/freedesktop/portal/desktop/request/` + our
unique bus name without the ':' and with '.' → '_' + `/` + the `handle_token` we pass — so we
subscribe to Response before calling, as the portal documentation asks (the response cannot
slip past us). Everything is asynchronous (asyncCall + QDBusPendingCallWatcher, a signal
connection, a QTimer for the timeout): nothing here blocks the GUI thread.

`probe_portal` asks, without blocking, whether the Screenshot interface is there (reading its
`version` property also starts a D-Bus-activatable portal); `portal_capture` runs one request.
`reachable` is the cheap, synchronous answer: QtDBus present, the bus connected, and no probe or
call has found the portal missing on that bus.
"""

from __future__ import annotations

import logging
import sys
import uuid
from collections.abc import Callable

from PySide6.QtCore import SLOT, QObject, QTimer, QUrl, Slot
from PySide6.QtDBus import (
    QDBusConnection,
    QDBusError,
    QDBusMessage,
    QDBusObjectPath,
    QDBusPendingCallWatcher,
)

log = logging.getLogger(__name__)

SERVICE = "org.freedesktop.portal.Desktop"
PATH = "/org/freedesktop/portal/desktop"
SCREENSHOT = "org.freedesktop.portal.Screenshot"
REQUEST = "org.freedesktop.portal.Request"
PROPERTIES = "org.freedesktop.DBus.Properties"
RESPONSE_SLOT = SLOT("on_response(uint,QVariantMap)")

RESPONSE_TIMEOUT_MS = 120_000  # the user is in the portal's UI; after 2 minutes we give up
CALL_TIMEOUT_MS = 30_000  # the call itself answers at once, unless the portal is starting up
PROBE_TIMEOUT_MS = 25_000  # reading `version` may D-Bus-activate the portal

SUCCESS, CANCELLED = 0, 1

# Errors that mean "there is no screenshot portal on this bus" (cached by `reachable`).
_MISSING = {
    QDBusError.ErrorType.ServiceUnknown,
    QDBusError.ErrorType.UnknownObject,
    QDBusError.ErrorType.UnknownInterface,
    QDBusError.ErrorType.UnknownMethod,
    QDBusError.ErrorType.InvalidArgs,  # Properties.Get: "No such interface"
}
_missing_on: set[str] = set()  # bus names (QDBusConnection.name()) found without a portal

OnFile = Callable[[str], None]
OnError = Callable[[str], None]
OnCancel = Callable[[], None]


def session_bus() -> QDBusConnection | None:
    """The session bus, when there is one (macOS/Windows and bare containers have none)."""
    if sys.platform in ("darwin", "win32"):  # no portals there; don't make QtDBus look for libdbus
        return None
    bus = QDBusConnection.sessionBus()
    return bus if bus.isConnected() else None


def reachable(bus: QDBusConnection | None = None) -> bool:
    """Cheap, no round trip: could a portal screenshot work on `bus` (default: session bus)?"""
    bus = bus if bus is not None else session_bus()
    return bus is not None and bus.isConnected() and bus.name() not in _missing_on


def forget(bus: QDBusConnection) -> None:
    """Drop what was learnt about `bus` (a portal may have been installed or started since)."""
    _missing_on.discard(bus.name())


def describe(error: QDBusError) -> str:
    """A short, user-facing reason for a failed portal call."""
    kind = error.type()
    if kind in (QDBusError.ErrorType.ServiceUnknown, QDBusError.ErrorType.NoServer):
        return "no screenshot portal is running"
    if kind in _MISSING:
        return "the desktop's portal offers no screenshots"
    if kind in (QDBusError.ErrorType.NoReply, QDBusError.ErrorType.Timeout):
        return "the screenshot portal did not answer"
    if kind == QDBusError.ErrorType.AccessDenied:
        return "the screenshot portal refused"
    return f"the screenshot portal failed: {error.message() or error.name()}"


def _note(bus: QDBusConnection, error: QDBusError) -> None:
    if error.type() in _MISSING:
        _missing_on.add(bus.name())


def request_path(bus: QDBusConnection, token: str) -> str:
    """The handle the portal will give a request made with `handle_token` = token."""
    sender = bus.baseService().lstrip(":").replace(".", "_")
    return f"{PATH}/request/{sender}/{token}"


class _Call(QObject):
    """One asynchronous method call; `done(reply, None)` or `done(None, error)`, once."""

    def __init__(
        self,
        bus: QDBusConnection,
        message: QDBusMessage,
        timeout_ms: int,
        done: Callable[[QDBusMessage | None, QDBusError | None], None],
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self._done = done
        self._watcher = QDBusPendingCallWatcher(bus.asyncCall(message, timeout_ms), self)
        self._watcher.finished.connect(self._finished)

    def _finished(self, watcher: QDBusPendingCallWatcher) -> None:
        done, self._done = self._done, None
        error = watcher.error() if watcher.isError() else None
        reply = None if error is not None else watcher.reply()
        watcher.deleteLater()
        self.deleteLater()
        if done is not None:
            done(reply, error)

    def abandon(self) -> None:
        """No callback any more (the call itself cannot be taken back)."""
        self._done = None
        self.deleteLater()


class PortalProbe(QObject):
    """Is the Screenshot portal on `bus`? `done(None)` when it is, `done(reason)` when not."""

    def __init__(
        self,
        bus: QDBusConnection,
        done: Callable[[str | None], None],
        timeout_ms: int = PROBE_TIMEOUT_MS,
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self._bus = bus
        self._done: Callable[[str | None], None] | None = done
        message = QDBusMessage.createMethodCall(SERVICE, PATH, PROPERTIES, "Get")
        message.setArguments([SCREENSHOT, "version"])
        self._call = _Call(bus, message, timeout_ms, self._answered, self)

    def _answered(self, _reply: QDBusMessage | None, error: QDBusError | None) -> None:
        done, self._done = self._done, None
        if error is not None:
            _note(self._bus, error)
            log.info("screenshot portal probe: %s %s", error.name(), error.message())
        else:
            forget(self._bus)
        self.deleteLater()
        if done is not None:
            done(describe(error) if error is not None else None)

    def cancel(self) -> None:
        self._done = None
        self.deleteLater()


def probe_portal(
    bus: QDBusConnection, done: Callable[[str | None], None], *, parent: QObject | None = None
) -> PortalProbe:
    return PortalProbe(bus, done, parent=parent)


class PortalRequest(QObject):
    """One interactive screenshot: exactly one of on_file(path), on_cancel(), on_error(reason).

    Made by `portal_capture`; `close()` gives up (asks the portal to close its UI, and calls
    none of the callbacks)."""

    def __init__(
        self,
        bus: QDBusConnection,
        on_file: OnFile,
        on_error: OnError,
        on_cancel: OnCancel | None = None,
        *,
        timeout_ms: int = RESPONSE_TIMEOUT_MS,
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self._bus = bus
        self._on_file = on_file
        self._on_error = on_error
        self._on_cancel = on_cancel
        self._finished = False
        self._call: _Call | None = None
        self.token = f"letta_{uuid.uuid4().hex}"
        self.handle = request_path(bus, self.token)
        self._subscribed: str | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(timeout_ms)
        self._timer.timeout.connect(self._timed_out)

    @property
    def active(self) -> bool:
        return not self._finished

    def start(self) -> None:
        self._subscribe(self.handle)  # before the call: the Response may follow its reply at once
        message = QDBusMessage.createMethodCall(SERVICE, PATH, SCREENSHOT, "Screenshot")
        # No parent window: the app's window is hidden meanwhile (see capture.py), and a Wayland
        # parent needs an xdg-foreign handle Qt does not expose.
        message.setArguments(["", {"handle_token": self.token, "interactive": True}])
        self._call = _Call(self._bus, message, CALL_TIMEOUT_MS, self._answered, self)
        self._timer.start()

    # -- the portal's answers --------------------------------------------------------------

    def _answered(self, reply: QDBusMessage | None, error: QDBusError | None) -> None:
        self._call = None
        if self._finished:
            return
        if error is not None:
            _note(self._bus, error)
            log.warning("screenshot portal call failed: %s %s", error.name(), error.message())
            self._finish(lambda: self._on_error(describe(error)))
            return
        args = reply.arguments() if reply is not None else []
        handle = args[0].path() if args and isinstance(args[0], QDBusObjectPath) else ""
        if handle and handle != self.handle:  # portals before 0.9 chose their own path
            self._unsubscribe()
            self.handle = handle
            self._subscribe(handle)

    @Slot("uint", "QVariantMap")
    def on_response(self, response: int, results: dict) -> None:
        if self._finished:
            return
        if response == SUCCESS:
            uri = results.get("uri") if isinstance(results, dict) else None
            url = QUrl(str(uri)) if uri else QUrl()
            path = url.toLocalFile() if url.isLocalFile() else ""
            if path:
                self._finish(lambda: self._on_file(path))
            else:
                log.warning("screenshot portal answered without a file: %r", results)
                self._finish(lambda: self._on_error("the screenshot portal returned no file"))
        elif response == CANCELLED:
            self._finish(self._on_cancel or (lambda: None))
        else:
            self._finish(lambda: self._on_error("the screenshot portal could not take it"))

    def _timed_out(self) -> None:
        if not self._finished:
            self._close_remote()
            self._finish(lambda: self._on_error("the screenshot portal did not answer"))

    # -- ending ----------------------------------------------------------------------------

    def close(self) -> None:
        """Give up without a callback (the window is closing, or the user started over)."""
        if not self._finished:
            self._close_remote()
            self._finish(lambda: None)

    def _close_remote(self) -> None:
        """Ask the portal to close its UI (Request.Close); the answer does not matter."""
        message = QDBusMessage.createMethodCall(SERVICE, self.handle, REQUEST, "Close")
        message.setAutoStartService(False)
        self._bus.send(message)

    def _finish(self, callback: Callable[[], None]) -> None:
        self._finished = True
        self._timer.stop()
        self._unsubscribe()
        if self._call is not None:
            self._call.abandon()
            self._call = None
        self.deleteLater()
        callback()

    def _subscribe(self, path: str) -> None:
        if self._bus.connect(SERVICE, path, REQUEST, "Response", self, RESPONSE_SLOT):
            self._subscribed = path
        else:
            log.warning("could not subscribe to the portal's Response on %s", path)

    def _unsubscribe(self) -> None:
        if self._subscribed is not None:
            self._bus.disconnect(
                SERVICE, self._subscribed, REQUEST, "Response", self, RESPONSE_SLOT
            )
            self._subscribed = None


def portal_capture(
    bus: QDBusConnection,
    on_file: OnFile,
    on_error: OnError,
    on_cancel: OnCancel | None = None,
    *,
    timeout_ms: int = RESPONSE_TIMEOUT_MS,
    parent: QObject | None = None,
) -> PortalRequest:
    """Start one interactive portal screenshot now; see PortalRequest for the outcome."""
    request = PortalRequest(bus, on_file, on_error, on_cancel, timeout_ms=timeout_ms, parent=parent)
    request.start()
    return request
