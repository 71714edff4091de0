"""Capture a screen region (Capture button, Ctrl+Shift+S) as a pending attachment.

The window hides, the screen under the cursor is grabbed (QScreen.grabWindow(0)), and a frameless
overlay covering that screen shows the grab dimmed. The user drags a rectangle (its size in
pixels is shown); releasing the mouse or Enter accepts (Enter with no rectangle takes the whole
screen), Esc cancels. The region, cut from the grab at full device resolution, is handed on as a
QImage and the window comes back.

Under Wayland Qt cannot read the screen, so the capture goes through the desktop's screenshot
portal (portal_capture.py): the window hides, the portal shows its own UI where the user picks
the region, and the PNG file it writes is handed on as a path (`captured_file`), read and
prepared off the GUI thread like any attached file. The portal is also tried when a real grab
comes back blank but a portal is there (an X11 app under XWayland sees only black).

Where the platform cannot capture — Wayland without a screenshot portal, the offscreen or
minimal platforms, or a grab that comes back null or all black (macOS without the Screen
Recording permission) — `message` says so and points to the system screenshot tool and paste.
"""

from __future__ import annotations

import os
import sys
import weakref
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QPoint, QRect, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QCursor,
    QGuiApplication,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPixmap,
    QScreen,
    QTransform,
)
from PySide6.QtWidgets import QWidget

from desktop.ui.imaging.device_pixels import device_length, device_round

if TYPE_CHECKING:
    from PySide6.QtDBus import QDBusConnection

    from desktop.ui.attachments.portal_capture import PortalProbe, PortalRequest

HIDE_DELAY_MS = 250  # time for the compositor to take the hidden window off the screen
MIN_SIZE = 4  # logical px: a smaller drag is taken as a click, not a selection
PASTE_HINT = "use your system's screenshot tool, then paste it here with Ctrl+V"
if sys.platform == "darwin":
    PASTE_HINT = "use Shift+Cmd+Ctrl+4, then paste it here with Cmd+V"
elif sys.platform == "win32":
    PASTE_HINT = "use Win+Shift+S, then paste it here with Ctrl+V"

BLANK_MESSAGE = (
    "The screen could not be captured (the system returned an empty image; on "
    f"macOS allow Screen Recording for this app): {PASTE_HINT}."
)

NO_PORTAL = "the desktop's screenshot portal cannot be reached"

Grab = Callable[[QScreen], QPixmap]


def current_platform() -> str:
    """The Qt platform plugin's name (a seam: tests pretend to be under Wayland)."""
    return QGuiApplication.platformName()


def in_wayland_session() -> bool:
    return os.environ.get("XDG_SESSION_TYPE") == "wayland" or bool(
        os.environ.get("WAYLAND_DISPLAY")
    )


def portal_reachable(bus: QDBusConnection | None = None) -> bool:
    """Cheap check (no D-Bus round trip): may the screenshot portal work on `bus`?

    False when QtDBus is missing (a trimmed bundle), there is no session bus, or a probe or call
    already found no portal on that bus. The capture itself probes asynchronously first."""
    try:
        from desktop.ui.attachments import portal_capture
    except ImportError:
        return False
    return portal_capture.reachable(bus)


def unsupported_reason(
    platform_name: str | None = None, bus: QDBusConnection | None = None
) -> str | None:
    """Why screen capture cannot work on this Qt platform, or None when it may."""
    name = (platform_name or current_platform()).lower()
    if name.startswith("wayland"):
        if portal_reachable(bus):
            return None
        return (
            "Capturing the screen under Wayland needs the desktop's screenshot portal, which is "
            f"not available here: {PASTE_HINT}."
        )
    if name in ("offscreen", "minimal", "minimalegl", "vnc", "linuxfb"):
        return f"There is no screen to capture here ({name} display): {PASTE_HINT}."
    return None


def looks_blank(image: QImage, samples: int = 24) -> bool:
    """True when the image is null or every sampled pixel is pure black (a refused grab)."""
    if image.isNull() or image.width() == 0 or image.height() == 0:
        return True
    for iy in range(samples):
        y = min(image.height() - 1, (iy * image.height()) // samples + image.height() // 48)
        for ix in range(samples):
            x = min(image.width() - 1, (ix * image.width()) // samples + image.width() // 48)
            if image.pixel(x, y) & 0xFFFFFF:
                return False
    return True


def default_grab(screen: QScreen) -> QPixmap:
    return screen.grabWindow(0)


def bring_to_front(window: QWidget) -> None:
    """Raise and activate (skipped where the platform has no window stacking, e.g. offscreen)."""
    if QGuiApplication.platformName() not in ("offscreen", "minimal"):
        window.raise_()
    window.activateWindow()


def capture_name() -> str:
    return f"Screen capture {datetime.now():%Y-%m-%d %H.%M.%S}.png"


def _paint_pill(painter: QPainter, box: QRect, text: str, *, alpha: int, radius: float) -> None:
    """White text on a dark rounded box: readable over any screenshot."""
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(0, 0, 0, alpha))
    painter.drawRoundedRect(QRectF(box), radius, radius)
    painter.setPen(QColor("white"))
    painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)


class CaptureOverlay(QWidget):
    """Full-screen selection over a (given) screen pixmap; `captured(QImage)` or `cancelled()`."""

    captured = Signal(QImage)
    cancelled = Signal()

    def __init__(self, pixmap: QPixmap, parent: QWidget | None = None):
        super().__init__(
            parent,
            Qt.WindowType.Window
            | Qt.WindowType.FramelessWindowHint
            | Qt.WindowType.WindowStaysOnTopHint,
        )
        self.setWindowTitle("Select a region to capture")
        self.setAccessibleName("Screen capture")
        self.setAccessibleDescription(
            "Drag a rectangle and release to capture it; Enter captures the whole screen, "
            "Escape cancels"
        )
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.pixmap = pixmap
        self._origin: QPoint | None = None
        self._current: QPoint | None = None
        self._done = False
        size = pixmap.deviceIndependentSize().toSize()
        self.resize(size if not size.isEmpty() else QSize(640, 480))

    # -- geometry ---------------------------------------------------------------------------

    def selection(self) -> QRect:
        """The selected rectangle in logical (widget) coordinates; empty when there is none."""
        if self._origin is None or self._current is None:
            return QRect()
        a, b = self._origin, self._current
        rect = QRect(min(a.x(), b.x()), min(a.y(), b.y()), abs(a.x() - b.x()), abs(a.y() - b.y()))
        return rect.intersected(self.rect())

    def _scale(self) -> tuple[float, float]:
        """Pixmap pixels per widget pixel (the screen's device pixel ratio, in effect)."""
        w, h = max(1, self.width()), max(1, self.height())
        return self.pixmap.width() / w, self.pixmap.height() / h

    def device_rect(self, rect: QRect) -> QRect:
        """`rect` in the grab's pixels: its corners rounded (rounding the width apart would
        make a selection at 125 % one pixel wider or narrower than what is shown)."""
        sx, sy = self._scale()
        left, top = device_round(rect.x() * sx), device_round(rect.y() * sy)
        right = device_round((rect.x() + rect.width()) * sx)
        bottom = device_round((rect.y() + rect.height()) * sy)
        return QRect(left, top, right - left, bottom - top)

    def border_width(self) -> int:
        """The selection's outline, in device pixels: 2 logical pixels, a whole number of
        device pixels on every side (a 2.5-px pen is drawn 2 or 3 px wide by side)."""
        return device_length(2, self.devicePixelRatioF())

    # -- result -----------------------------------------------------------------------------

    def accept_selection(self) -> None:
        if self._done:
            return
        rect = self.selection()
        if rect.width() < MIN_SIZE or rect.height() < MIN_SIZE:
            rect = self.rect()  # Enter without a selection: the whole screen
        image = self.pixmap.copy(self.device_rect(rect)).toImage()
        image.setDevicePixelRatio(1.0)
        self._done = True
        self.captured.emit(image)
        self.close()

    def cancel(self) -> None:
        if not self._done:
            self._done = True
            self.cancelled.emit()
        self.close()

    def closeEvent(self, event) -> None:
        if not self._done:  # closed by the window manager
            self._done = True
            self.cancelled.emit()
        super().closeEvent(event)

    # -- input ------------------------------------------------------------------------------

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._origin = self._current = event.position().toPoint()
            self.update()
        elif event.button() == Qt.MouseButton.RightButton:
            self.cancel()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._origin is not None and event.buttons() & Qt.MouseButton.LeftButton:
            self._current = event.position().toPoint()
            self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton or self._origin is None:
            return
        self._current = event.position().toPoint()
        rect = self.selection()
        if rect.width() >= MIN_SIZE and rect.height() >= MIN_SIZE:
            self.accept_selection()
        else:  # a click: start again
            self._origin = self._current = None
            self.update()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key == Qt.Key.Key_Escape:
            self.cancel()
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.accept_selection()
        else:
            super().keyPressEvent(event)

    # -- painting ---------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.drawPixmap(self.rect(), self.pixmap)
        painter.fillRect(self.rect(), QColor(0, 0, 0, 120))
        rect = self.selection()
        if rect.isEmpty():
            self._paint_hint(painter, "Drag to select a region · Enter: whole screen · Esc: cancel")
            painter.end()
            return
        device = self.device_rect(rect)
        self._paint_selection(painter, rect, device)
        label = f"{device.width()} × {device.height()}"
        metrics = painter.fontMetrics()
        box = metrics.boundingRect(label).adjusted(-8, -4, 8, 4)
        box.moveTopLeft(rect.bottomLeft() + QPoint(0, 6))
        if box.bottom() > self.height():
            box.moveBottomLeft(rect.topLeft() - QPoint(0, 6))
        _paint_pill(painter, box, label, alpha=190, radius=4)
        painter.end()

    def _paint_selection(self, painter: QPainter, rect: QRect, source: QRect) -> None:
        """The selected part undimmed and its outline, on the screen's device pixels: the
        region shown is exactly the grab's pixels that will be captured (1:1 when the grab is
        at the screen's ratio), and the outline is filled rectangles of whole device pixels
        (no gap or double line between it and the region at 125 %/150 %)."""
        dpr = self.devicePixelRatioF()
        painter.save()
        painter.setWorldTransform(QTransform.fromScale(1 / dpr, 1 / dpr))  # 1 unit = 1 px
        left, top = device_round(rect.x() * dpr), device_round(rect.y() * dpr)
        right = device_round((rect.x() + rect.width()) * dpr)
        bottom = device_round((rect.y() + rect.height()) * dpr)
        shown = QRect(left, top, right - left, bottom - top)
        painter.drawPixmap(shown, self.pixmap, source)
        accent = self.palette().color(self.palette().ColorRole.Accent)
        b = self.border_width()
        outer = shown.adjusted(-b, -b, b, b)
        painter.fillRect(QRect(outer.left(), outer.top(), outer.width(), b), accent)
        painter.fillRect(QRect(outer.left(), shown.bottom() + 1, outer.width(), b), accent)
        painter.fillRect(QRect(outer.left(), shown.top(), b, shown.height()), accent)
        painter.fillRect(QRect(shown.right() + 1, shown.top(), b, shown.height()), accent)
        painter.restore()

    def _paint_hint(self, painter: QPainter, text: str) -> None:
        box = painter.fontMetrics().boundingRect(text).adjusted(-14, -8, 14, 8)
        box.moveCenter(QPoint(self.width() // 2, 48))
        _paint_pill(painter, box, text, alpha=200, radius=8)


class ScreenCapture(QObject):
    """Runs one capture at a time for `window`: hide, grab, select, show the window again.

    `grab` replaces QScreen.grabWindow (tests inject a pixmap); with an injected grab the
    platform check is skipped. Under Wayland (or with `use_portal` True) the desktop's screenshot
    portal on `bus` (default: the session bus) takes the screenshot instead; `use_portal` False
    never asks the portal."""

    captured = Signal(QImage)
    captured_file = Signal(str)  # a PNG the portal wrote (see _deliver_file when unconnected)
    message = Signal(str)  # why it could not capture (for the banner)
    finished = Signal()

    def __init__(
        self,
        window: QWidget,
        grab: Grab | None = None,
        parent: QObject | None = None,
        *,
        bus: QDBusConnection | None = None,
        use_portal: bool | None = None,
    ):
        super().__init__(parent or window)
        self._window = window
        self.grab = grab
        self.bus = bus
        self.use_portal = use_portal
        self.portal_timeout_ms: int | None = None  # None: portal_capture.RESPONSE_TIMEOUT_MS
        self.overlay: CaptureOverlay | None = None
        self._point = QPoint()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(HIDE_DELAY_MS)
        self._timer.timeout.connect(self._grab_now)
        self._probe: PortalProbe | None = None
        self._request: PortalRequest | None = None
        self._hidden = False  # the window is hidden by this capture
        self._focus: weakref.ref[QWidget] | None = None  # its focus widget, given back after
        self._blank_fallback = False  # the portal stands in for a blank grab
        self._portal_timer = QTimer(self)
        self._portal_timer.setSingleShot(True)
        self._portal_timer.setInterval(HIDE_DELAY_MS)
        self._portal_timer.timeout.connect(self._request_portal)

    @property
    def active(self) -> bool:
        return (
            self._timer.isActive()
            or self.overlay is not None
            or self._probe is not None
            or self._portal_timer.isActive()
            or self._request is not None
        )

    def wants_portal(self) -> bool:
        """Wayland: always (Qt cannot grab). An X11 app in a Wayland session (XWayland) grabs
        only black where Wayland windows are: the portal, when one may be there."""
        if self.use_portal is not None:
            return self.use_portal
        if self.grab is not None:
            return False
        name = current_platform().lower()
        if name.startswith("wayland"):
            return True
        return name == "xcb" and in_wayland_session() and portal_reachable(self.bus)

    def start(self) -> None:
        if self.active:
            return
        if self.wants_portal():
            self._start_portal()
            return
        if self.grab is None:
            reason = unsupported_reason()
            if reason:
                self.message.emit(reason)
                return
        # Remember where, not which QScreen: a wrapper from QWidget.screen() dies with the widget.
        self._point = QCursor.pos()
        self._hide()
        self._timer.start()

    def _grab_now(self) -> None:
        screen = QGuiApplication.screenAt(self._point) or QGuiApplication.primaryScreen()
        pixmap = (self.grab or default_grab)(screen)
        if pixmap.isNull() or looks_blank(pixmap.toImage()):
            if self.grab is None and self.use_portal is not False and portal_reachable(self.bus):
                self._blank_fallback = True  # e.g. XWayland: Qt sees black, the portal can see
                self._start_portal()
                return
            self._fail(BLANK_MESSAGE)
            return
        geometry = screen.geometry()
        if abs(pixmap.deviceIndependentSize().width() - geometry.width()) > 1:
            pixmap.setDevicePixelRatio(pixmap.width() / max(1, geometry.width()))
        overlay = CaptureOverlay(pixmap)
        overlay.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        overlay.captured.connect(self._on_captured)
        overlay.cancelled.connect(self._on_cancelled)
        overlay.destroyed.connect(self._forget_overlay)
        self.overlay = overlay
        overlay.setGeometry(geometry)
        if sys.platform == "darwin":
            overlay.show()  # full screen would open a new Space
        else:
            overlay.showFullScreen()
        bring_to_front(overlay)
        overlay.setFocus()

    def _forget_overlay(self, *_args: object) -> None:
        self.overlay = None

    def _on_captured(self, image: QImage) -> None:
        self.overlay = None
        self._restore()
        self.captured.emit(image)
        self.finished.emit()

    def _on_cancelled(self) -> None:
        self.overlay = None
        self._restore()
        self.finished.emit()

    def _fail(self, text: str) -> None:
        self._restore()
        self.message.emit(text)
        self.finished.emit()

    def _hide(self) -> None:
        self._hidden = True
        # Where the keyboard was (the message box, nearly always): hiding a window drops its
        # focus, and on the way back Qt would otherwise hand it to the first focusable widget.
        focus = self._window.focusWidget()
        self._focus = weakref.ref(focus) if focus is not None else None
        self._window.hide()

    def _restore(self) -> None:
        self._blank_fallback = False
        if not self._hidden:
            return
        self._hidden = False
        self._window.show()
        bring_to_front(self._window)
        focus = self._focus() if self._focus is not None else None
        self._focus = None
        if focus is not None and focus.isVisible():
            focus.setFocus(Qt.FocusReason.ActiveWindowFocusReason)

    # -- the screenshot portal (Wayland) ----------------------------------------------------
    #
    # The window hides while the portal's UI is up, as it does for the grab: the user nearly
    # always wants what is behind it (the other app the question is about), and GNOME's UI
    # freezes the screen as it is when it opens, so a visible window would cover that part.
    # Hiding also means there is no parent window to pass, which under Wayland would need an
    # xdg-foreign handle Qt does not expose. The cost: a compositor may map the window again
    # at another place. The probe runs first, so without a portal the window never flickers.

    def _portal_bus(self) -> QDBusConnection | None:
        if self.bus is not None:
            return self.bus
        try:
            from desktop.ui.attachments.portal_capture import session_bus
        except ImportError:
            return None
        return session_bus()

    def _start_portal(self) -> None:
        bus = self._portal_bus()
        if bus is None:  # no QtDBus in this build, or no session bus
            self._portal_failed(NO_PORTAL)
            return
        from desktop.ui.attachments.portal_capture import probe_portal

        self._probe = probe_portal(bus, self._on_probed, parent=self)

    def _on_probed(self, reason: str | None) -> None:
        self._probe = None
        if reason is not None:
            self._portal_failed(reason)
        elif self._hidden:  # the blank-grab fallback: hidden already
            self._request_portal()
        else:
            self._hide()
            self._portal_timer.start()  # let the compositor take the window off the screen

    def _request_portal(self) -> None:
        bus = self._portal_bus()
        if bus is None:
            self._portal_failed(NO_PORTAL)
            return
        from desktop.ui.attachments.portal_capture import RESPONSE_TIMEOUT_MS, portal_capture

        self._request = portal_capture(
            bus,
            self._on_portal_file,
            self._portal_failed,
            self._on_portal_cancelled,
            timeout_ms=self.portal_timeout_ms or RESPONSE_TIMEOUT_MS,
            parent=self,
        )

    def _on_portal_file(self, path: str) -> None:
        self._request = None
        self._restore()
        self._deliver_file(path)
        self.finished.emit()

    def _on_portal_cancelled(self) -> None:
        self._request = None
        self._restore()  # the user cancelled in the portal's UI: nothing to say
        self.finished.emit()

    def _portal_failed(self, reason: str) -> None:
        self._request = None
        blank = self._blank_fallback
        was_hidden = self._hidden
        if blank:
            text = BLANK_MESSAGE
        else:
            text = f"The screen could not be captured ({reason}): {PASTE_HINT}."
        self._restore()
        self.message.emit(text)
        if was_hidden:
            self.finished.emit()

    def _deliver_file(self, path: str) -> None:
        """The window (WindowExtras) attaches it: read and prepared on workers, never here."""
        self.captured_file.emit(path)

    def cancel(self) -> None:
        """Stop whatever is under way (no message); the window comes back if it was hidden."""
        self._timer.stop()
        self._portal_timer.stop()
        if self._probe is not None:
            self._probe.cancel()
            self._probe = None
        if self._request is not None:
            self._request.close()
            self._request = None
        if self.overlay is not None:
            self.overlay.cancel()
        else:
            self._restore()
