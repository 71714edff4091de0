"""Where the main window opens: inside a screen that exists, never larger than it.

The first size comes from the screen the window opens on (its available geometry: taskbars and
panels excluded); a saved geometry that is no longer fully visible (a monitor unplugged, a
resolution or scaling changed) is moved — and shrunk where needed — onto the screen it overlaps
most, or the primary one.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QMargins, QObject, QRect, QSize
from PySide6.QtWidgets import QWidget

#: The size the window asks for on a screen with room for it (logical pixels).
PREFERRED = QSize(900, 760)
#: Room left around a window for its title bar and frame (not known before it is shown).
FRAME = QMargins(8, 40, 8, 8)
_FRAME_ROOM = QSize(FRAME.left() + FRAME.right(), FRAME.top() + FRAME.bottom())


def first_geometry(available: QRect, minimum: QSize) -> QRect:
    """A new window's geometry: the preferred size, shrunk to fit `available`, centred."""
    room = available.size() - _FRAME_ROOM
    width = max(min(PREFERRED.width(), room.width()), min(minimum.width(), available.width()))
    height = max(min(PREFERRED.height(), room.height()), min(minimum.height(), available.height()))
    rect = QRect(0, 0, width, height)
    rect.moveCenter(available.center())
    return rect


def fitted(rect: QRect, screens: list[QRect], frame: QMargins = FRAME) -> QRect:
    """`rect` (a window's inside) unchanged when a screen's available area holds it with its
    `frame`, else moved (and shrunk) onto the screen it overlaps most (the first — primary —
    when it overlaps none)."""
    outer = rect.marginsAdded(frame)
    if not screens or any(s.contains(outer) for s in screens):
        return QRect(rect)
    return _moved_onto(outer, screens).marginsRemoved(frame)


def _moved_onto(rect: QRect, screens: list[QRect]) -> QRect:
    """`rect` moved, and shrunk where needed, into the screen it overlaps most."""

    def overlap(screen: QRect) -> int:
        common = screen.intersected(rect)
        return common.width() * common.height() if common.isValid() else 0

    target = max(screens, key=overlap) if any(overlap(s) for s in screens) else screens[0]
    width = min(rect.width(), target.width())
    height = min(rect.height(), target.height())
    left = min(max(rect.left(), target.left()), target.left() + target.width() - width)
    top = min(max(rect.top(), target.top()), target.top() + target.height() - height)
    return QRect(left, top, width, height)


class _DialogFitter(QObject):
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Show and isinstance(watched, QWidget):
            screen = watched.screen()
            if screen is not None:
                rect = fitted(watched.geometry(), [screen.availableGeometry()])
                if rect != watched.geometry():
                    watched.setGeometry(rect)
        return False


def keep_on_screen(dialog: QWidget) -> None:
    """Each time `dialog` is shown, move and shrink it into the available area of its screen
    (a 520 px tall picker on an 800×500 logical screen at 200 % would otherwise put its
    buttons under the taskbar). Filters that dialog's events only."""
    fitter = _DialogFitter(dialog)
    dialog.installEventFilter(fitter)
