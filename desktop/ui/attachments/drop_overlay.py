"""Drag and drop of images anywhere on the window, with a visible highlight while dragging.

`DropTarget` is an event filter on the window and on child widgets that would otherwise take the
drop themselves (the composer's text area): drags that carry attachments (files, image data,
links) are accepted there and shown with `DropOverlay`; plain-text drags pass through untouched.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QMimeData, QObject, QRectF, Qt
from PySide6.QtGui import QColor, QDragEnterEvent, QDropEvent, QFont, QPainter, QPalette, QPen
from PySide6.QtWidgets import QWidget

from desktop.ui.attachments.mime import has_attachment


class DropOverlay(QWidget):
    """A translucent, rounded highlight over the whole window: "Drop images to attach"."""

    def __init__(self, parent: QWidget):
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground)
        self.setAccessibleName("Drop images to attach")
        self.hide()
        parent.installEventFilter(self)

    def show_over_parent(self) -> None:
        self.setGeometry(self.parentWidget().rect())
        self.raise_()
        self.show()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.parentWidget() and event.type() == QEvent.Type.Resize:
            self.setGeometry(self.parentWidget().rect())
        return False

    def paintEvent(self, event) -> None:
        pal = self.palette()
        accent = pal.color(QPalette.ColorRole.Highlight)
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        fill = QColor(accent)
        fill.setAlpha(40)
        veil = QColor(pal.color(QPalette.ColorRole.Window))
        veil.setAlpha(170)
        p.fillRect(self.rect(), veil)
        rect = QRectF(self.rect()).adjusted(12, 12, -12, -12)
        pen = QPen(accent, 2.5, Qt.PenStyle.DashLine)
        p.setPen(pen)
        p.setBrush(fill)
        p.drawRoundedRect(rect, 16, 16)
        font = QFont(self.font())
        if font.pointSizeF() > 0:
            font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        p.setFont(font)
        p.setPen(pal.color(QPalette.ColorRole.WindowText))
        p.drawText(rect, Qt.AlignmentFlag.AlignCenter, "Drop images to attach")
        p.end()


class DropTarget(QObject):
    """Accepts attachment drags on the watched widgets and hands the drop to `on_drop`."""

    def __init__(
        self,
        overlay: DropOverlay,
        on_drop: Callable[[QMimeData], object],
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self.overlay = overlay
        self._on_drop = on_drop

    def watch(self, *widgets: QWidget) -> None:
        for widget in widgets:
            widget.setAcceptDrops(True)
            widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind in (QEvent.Type.DragEnter, QEvent.Type.DragMove):
            assert isinstance(event, QDragEnterEvent | QDropEvent)
            if not has_attachment(event.mimeData(), drop=True):
                return False
            event.setDropAction(Qt.DropAction.CopyAction)
            event.accept()
            self.overlay.show_over_parent()
            return True
        if kind == QEvent.Type.DragLeave:
            self.overlay.hide()
            return False
        if kind == QEvent.Type.Drop:
            assert isinstance(event, QDropEvent)
            self.overlay.hide()
            if not has_attachment(event.mimeData(), drop=True):
                return False
            event.setDropAction(Qt.DropAction.CopyAction)
            event.accept()
            self._on_drop(event.mimeData())
            return True
        return False
