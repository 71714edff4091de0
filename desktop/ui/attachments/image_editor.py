"""Crop and redact a pending image before it is sent.

The source is decoded on a worker into a preview of at most `PREVIEW_EDGE` pixels (an 8K
screenshot is never drawn at full size). A prepared, unedited image opens at once on its chip's
small preview (the source's size is known from the preparation) and sharpens when that decode
is done: for an 8K PNG it takes ~0.7 s. Every rectangle is kept in the source's pixels
(upright), mapped to and from the preview on screen, so what the user drew is exactly what the
pipeline crops and blacks out.

Mouse: drag. Keyboard: an arrow key starts a rectangle (the current crop, or a box in the
middle), arrows move it, Shift+arrows resize it (Ctrl: one pixel at a time), Enter adds the box
or sets the crop, Enter again applies. Esc drops a rectangle being made, else cancels.
"""

from __future__ import annotations

import logging
import math
from enum import Enum

import shiboken6
from PySide6.QtCore import QObject, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QAction,
    QColor,
    QGuiApplication,
    QImage,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
    QPixmap,
)
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QHBoxLayout,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from desktop.core.attachments import Attachment, Kind
from desktop.core.images import ImageRejected
from desktop.core.images.edits import Edit, EditHistory, Rect
from desktop.ui.imaging.device_pixels import device_length, snapped
from desktop.ui.imaging.display_decode import qimage_from_pil
from desktop.ui.plain_text import plain_label
from desktop.ui.screen_fit import keep_on_screen
from desktop.ui.style.tones import blend
from desktop.workers import Workers

log = logging.getLogger(__name__)

PREVIEW_EDGE = 2048
"""The preview's long edge: sharp in a dialog on a 2× screen, ~16 MB of pixels at most."""
STEP_VIEW_PX = 10
"""An arrow key moves or resizes the rectangle by this many screen pixels (Ctrl: one source
pixel)."""
MIN_DRAG_VIEW_PX = 3
"""A press and release closer than this is a click, not a rectangle."""
_MODE_STYLE = (
    "QPushButton:checked { background-color: palette(highlight); "
    "color: palette(highlighted-text); border: 1px solid palette(highlight); "
    "border-radius: 3px; }"
)
_ARROWS = {
    Qt.Key.Key_Left: (-1, 0),
    Qt.Key.Key_Right: (1, 0),
    Qt.Key.Key_Up: (0, -1),
    Qt.Key.Key_Down: (0, 1),
}


def load_for_edit(att: Attachment) -> tuple[QImage, tuple[int, int]]:
    """Worker: the source (never the prepared image) as a capped preview, and its upright size.

    Through the guarded display decoder: formats, pixel cap from the header, SVG in its child."""
    from desktop.core.images import thumbnail_with_size  # Pillow: loaded by now, on a worker

    im, _, size = thumbnail_with_size(att.source_bytes(), PREVIEW_EDGE)
    return qimage_from_pil(im), size


class Mode(str, Enum):
    CROP = "crop"
    REDACT = "redact"


class EditCanvas(QWidget):
    """The image with the crop (outside dimmed), the boxes (black) and the rectangle being made.

    Holds no edit history: it shows `edit` and reports each finished rectangle as `drawn`."""

    drawn = Signal(object)  # Rect, in source pixels
    draftChanged = Signal()

    def __init__(self, image: QImage, source: tuple[int, int], parent: QWidget | None = None):
        super().__init__(parent)
        self.image = image
        self.source = source
        self.edit = Edit(source)
        self.mode = Mode.CROP
        self.draft: Rect | None = None
        """The rectangle being dragged or moved with the keys (source pixels), not yet drawn."""
        self._anchor: tuple[int, int] | None = None
        self._press_pos = QPointF()
        self._pixmap: QPixmap | None = None
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setMouseTracking(False)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(240, 160)
        self.setAccessibleName("Image")
        self._describe()

    # -- geometry: source pixels ↔ the widget ----------------------------------------------------

    def image_rect(self) -> QRectF:
        """Where the whole image is drawn: fitted inside the widget, centred, never enlarged
        past its preview's size."""
        margin = 8.0
        room_w, room_h = self.width() - 2 * margin, self.height() - 2 * margin
        sw, sh = self.source
        scale = min(room_w / sw, room_h / sh)
        scale = min(scale, max(self.image.width() / sw, self.image.height() / sh))
        w, h = max(1.0, sw * scale), max(1.0, sh * scale)
        return QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)

    def scale(self) -> float:
        """Widget pixels per source pixel."""
        return self.image_rect().width() / self.source[0]

    def to_source(self, pos: QPointF) -> tuple[int, int]:
        """A widget position → the nearest pixel boundary of the source, inside the image."""
        r = self.image_rect()
        s = self.scale()
        x = round((pos.x() - r.x()) / s)
        y = round((pos.y() - r.y()) / s)
        return min(max(0, x), self.source[0]), min(max(0, y), self.source[1])

    def to_view(self, rect: Rect) -> QRectF:
        r = self.image_rect()
        s = self.scale()
        return QRectF(r.x() + rect.x * s, r.y() + rect.y * s, rect.w * s, rect.h * s)

    def step(self, fine: bool) -> int:
        return 1 if fine else max(1, round(STEP_VIEW_PX / self.scale()))

    # -- state --------------------------------------------------------------------------------

    def set_image(self, image: QImage) -> None:
        """A sharper preview of the same picture (same aspect; coordinates are unchanged)."""
        self.image = image
        self._pixmap = None
        self.update()

    def set_edit(self, edit: Edit) -> None:
        self.edit = edit
        self._describe()
        self.update()

    def set_mode(self, mode: Mode) -> None:
        if mode is not self.mode:
            self.mode = mode
            self.set_draft(None)
            self._describe()

    def set_draft(self, rect: Rect | None) -> None:
        self.draft = rect
        self._describe()
        self.update()
        self.draftChanged.emit()

    def default_draft(self) -> Rect:
        """Where a rectangle made with the keys starts: the crop as it is, or a box in the
        middle of the part that is kept."""
        keep = self.edit.crop_rect
        if self.mode is Mode.CROP:
            return keep
        w, h = max(1, keep.w // 4), max(1, keep.h // 8)
        return Rect(keep.x + (keep.w - w) // 2, keep.y + (keep.h - h) // 2, w, h)

    def finish_draft(self) -> bool:
        """Report the rectangle being made as drawn; False when there is none."""
        rect = self.draft
        if rect is None:
            return False
        self._anchor = None
        self.set_draft(None)
        if not rect.empty:
            self.drawn.emit(rect)
        return True

    def _describe(self) -> None:
        """What a screen reader hears on the canvas: the mode and the rectangle in numbers."""
        what = "crop" if self.mode is Mode.CROP else "box to black out"
        if self.draft is not None:
            r = self.draft
            state = f"New {what}: {r.w}×{r.h} pixels at {r.x}, {r.y}. Enter to keep it."
        else:
            state = (
                "Drag to choose the part to send, or press an arrow key."
                if self.mode is Mode.CROP
                else "Drag over what must not be sent, or press an arrow key."
            )
        self.setAccessibleName(f"Image, {'crop' if self.mode is Mode.CROP else 'redact'} mode")
        self.setAccessibleDescription(state)

    # -- mouse --------------------------------------------------------------------------------

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            super().mousePressEvent(event)
            return
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        self._anchor = self.to_source(event.position())
        self._press_pos = event.position()
        self.set_draft(Rect(*self._anchor, 0, 0))
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._anchor is None or not (event.buttons() & Qt.MouseButton.LeftButton):
            super().mouseMoveEvent(event)
            return
        self.set_draft(Rect.from_corners(*self._anchor, *self.to_source(event.position())))
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton or self._anchor is None:
            super().mouseReleaseEvent(event)
            return
        rect = Rect.from_corners(*self._anchor, *self.to_source(event.position()))
        moved = (event.position() - self._press_pos).manhattanLength()
        self._anchor = None
        if moved < MIN_DRAG_VIEW_PX or rect.empty:
            self.set_draft(None)  # a click: nothing drawn
        else:
            self.draft = rect
            self.finish_draft()
        event.accept()

    # -- keyboard -----------------------------------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        mods = event.modifiers()
        if key in _ARROWS:
            dx, dy = _ARROWS[key]
            self._nudge(
                dx,
                dy,
                resize=bool(mods & Qt.KeyboardModifier.ShiftModifier),
                fine=bool(mods & Qt.KeyboardModifier.ControlModifier),
            )
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.draft is not None:
            self.finish_draft()
        elif key == Qt.Key.Key_Escape and self.draft is not None:
            self._anchor = None
            self.set_draft(None)
        elif key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and self.draft is not None:
            self.set_draft(None)
        else:
            super().keyPressEvent(event)  # Enter applies, Esc cancels (the dialog's)
            return
        event.accept()

    def _nudge(self, dx: int, dy: int, *, resize: bool, fine: bool) -> None:
        if self.draft is None:  # the first arrow shows where a rectangle starts
            self.set_draft(self.default_draft())
            return
        step = self.step(fine)
        r = self.draft
        w_img, h_img = self.source
        if resize:  # the right and bottom edges move; at least one pixel is kept
            w = min(max(1, r.w + dx * step), w_img - r.x)
            h = min(max(1, r.h + dy * step), h_img - r.y)
            self.set_draft(Rect(r.x, r.y, w, h))
        else:
            self.set_draft(
                Rect(r.x + dx * step, r.y + dy * step, r.w, r.h).moved_inside(w_img, h_img)
            )

    # -- painting -----------------------------------------------------------------------------

    def sizeHint(self) -> QSize:
        sw, sh = self.source
        scale = min(1.0, 960 / sw, 640 / sh)
        return QSize(max(240, math.ceil(sw * scale) + 16), max(160, math.ceil(sh * scale) + 16))

    def _scaled(self, target: QRectF) -> QPixmap:
        dpr = self.devicePixelRatioF()
        size = QSize(device_length(target.width(), dpr), device_length(target.height(), dpr))
        if self._pixmap is None or self._pixmap.size() != size:
            scaled = self.image.scaled(
                size,
                Qt.AspectRatioMode.IgnoreAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
            self._pixmap = QPixmap.fromImage(scaled)
            self._pixmap.setDevicePixelRatio(dpr)
        return self._pixmap

    def paintEvent(self, event: QPaintEvent) -> None:
        pal = self.palette()
        window = pal.color(QPalette.ColorRole.Window)
        text = pal.color(QPalette.ColorRole.WindowText)
        highlight = pal.color(QPalette.ColorRole.Highlight)
        p = QPainter(self)
        p.fillRect(self.rect(), blend(window, text, 0.08))
        area = snapped(p, self.image_rect())  # on device pixels: the image is blitted 1:1
        p.drawPixmap(area.topLeft(), self._scaled(area))

        # Boxes as they will be sent: solid black (a thin light edge shows them on dark images).
        p.setPen(QPen(QColor(255, 255, 255, 110), 1.0))
        p.setBrush(QColor(0, 0, 0))
        for box in self.edit.boxes:
            p.drawRect(self.to_view(box))

        crop = self.draft if self.mode is Mode.CROP and self.draft is not None else None
        keep = crop if crop is not None else self.edit.crop_rect
        if keep != self.edit.full:  # outside the crop: washed out in the window's colour
            wash = QColor(window)
            wash.setAlpha(185)
            inside = self.to_view(keep)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(wash)
            for part in (
                QRectF(area.left(), area.top(), area.width(), inside.top() - area.top()),
                QRectF(area.left(), inside.bottom(), area.width(), area.bottom() - inside.bottom()),
                QRectF(area.left(), inside.top(), inside.left() - area.left(), inside.height()),
                QRectF(
                    inside.right(), inside.top(), area.right() - inside.right(), inside.height()
                ),
            ):
                if part.width() > 0 and part.height() > 0:
                    p.drawRect(part)
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.setPen(QPen(highlight, 2.0))
            p.drawRect(inside)

        if self.draft is not None:
            view = self.to_view(self.draft)
            if self.mode is Mode.REDACT:
                p.fillRect(view, QColor(0, 0, 0, 170))
            pen = QPen(highlight, 2.0, Qt.PenStyle.DashLine)
            p.setPen(pen)
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(view)

        if self.hasFocus():
            p.setPen(QPen(highlight, 1.0))
            p.drawRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5))
        p.end()


class ImageEditor(QDialog):
    """Crop / Redact with undo, redo and reset; Apply hands the edit over, Cancel changes
    nothing."""

    applied = Signal(object, object)  # Attachment, Edit | None (None: no edit any more)

    def __init__(
        self,
        att: Attachment,
        image: QImage,
        source: tuple[int, int],
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setWindowTitle(f"Edit {att.name}")
        self.setAccessibleName(f"Edit image {att.name}")
        self.attachment = att
        start = att.edit if att.edit is not None and att.edit.source == source else Edit(source)
        self.history = EditHistory(start)
        self.canvas = EditCanvas(image, source)
        self.canvas.set_edit(start)
        self.canvas.drawn.connect(self._on_drawn)
        self.canvas.draftChanged.connect(self._update)

        self.crop_button = self._button("Crop", "Drag to choose the part to send (C)", "Crop mode")
        self.redact_button = self._button(
            "Redact", "Drag over what must not be sent: it is filled black (R)", "Redact mode"
        )
        modes = QButtonGroup(self)
        for button, mode in ((self.crop_button, Mode.CROP), (self.redact_button, Mode.REDACT)):
            button.setCheckable(True)
            # The mode in use must be plain in either theme (a checked Fusion button is not).
            button.setStyleSheet(_MODE_STYLE)
            button.setMinimumWidth(button.fontMetrics().horizontalAdvance("Redact") + 40)
            modes.addButton(button)
            button.clicked.connect(lambda _=False, m=mode: self.set_mode(m))
        self.crop_button.setChecked(True)
        self.undo_button = self._button("Undo", "Undo (Ctrl+Z)", "Undo")
        self.undo_button.clicked.connect(self.undo)
        self.redo_button = self._button("Redo", "Redo (Ctrl+Shift+Z)", "Redo")
        self.redo_button.clicked.connect(self.redo)
        self.reset_button = self._button("Reset", "Back to the whole image, nothing blacked out")
        self.reset_button.clicked.connect(self.reset)
        self.cancel_button = self._button("Cancel", "Close without changing the image (Esc)")
        self.cancel_button.clicked.connect(self.reject)
        self.apply_button = self._button("Apply", "Send the image as edited here (Enter)")
        self.apply_button.clicked.connect(self.apply)
        self.apply_button.setDefault(True)
        for button in (self.crop_button, self.redact_button, self.undo_button):
            button.setAutoDefault(False)
        for button in (self.redo_button, self.reset_button, self.cancel_button):
            button.setAutoDefault(False)

        self.status = plain_label()
        self.status.setAccessibleName("Edit summary")
        self.hint = plain_label()
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("color: palette(placeholder-text);")

        tools = QHBoxLayout()
        for button in (self.crop_button, self.redact_button):
            tools.addWidget(button)
        tools.addSpacing(12)
        for button in (self.undo_button, self.redo_button, self.reset_button):
            tools.addWidget(button)
        tools.addStretch(1)
        tools.addWidget(self.status)
        bottom = QHBoxLayout()
        bottom.addWidget(self.hint, 1)
        bottom.addWidget(self.cancel_button)
        bottom.addWidget(self.apply_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 10, 10, 10)
        layout.addLayout(tools)
        layout.addWidget(self.canvas, 1)
        layout.addLayout(bottom)

        for keys, slot in (
            ([QKeySequence("Ctrl+Z")], self.undo),
            ([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")], self.redo),
            ([QKeySequence("C")], lambda: self.set_mode(Mode.CROP)),
            ([QKeySequence("R")], lambda: self.set_mode(Mode.REDACT)),
        ):
            action = QAction(self)
            action.setShortcuts(keys)
            action.triggered.connect(slot)
            self.addAction(action)

        self._size_for_screen(parent)
        keep_on_screen(self)
        self.canvas.setFocus()
        self._update()

    def _button(self, text: str, tip: str, name: str | None = None) -> QPushButton:
        button = QPushButton(text)
        button.setToolTip(tip)
        button.setAccessibleName(name or text)
        button.setAccessibleDescription(tip)
        return button

    def _size_for_screen(self, parent: QWidget | None) -> None:
        screen = (parent.screen() if parent else None) or QGuiApplication.primaryScreen()
        avail = screen.availableGeometry().size() * 0.85 if screen else QSize(1100, 800)
        want = self.sizeHint().expandedTo(QSize(640, 480))
        self.resize(min(want.width(), avail.width()), min(want.height(), avail.height()))

    # -- the edit -----------------------------------------------------------------------------

    @property
    def edit(self) -> Edit:
        return self.history.current

    @property
    def mode(self) -> Mode:
        return self.canvas.mode

    def set_mode(self, mode: Mode) -> None:
        self.canvas.set_mode(mode)
        (self.crop_button if mode is Mode.CROP else self.redact_button).setChecked(True)
        self.canvas.setFocus()
        self._update()

    def _on_drawn(self, rect: Rect) -> None:
        if self.mode is Mode.CROP:
            self._push(self.edit.with_crop(rect))
        else:
            self._push(self.edit.with_box(rect))

    def _push(self, edit: Edit) -> None:
        self.history.push(edit)
        self._show()

    def undo(self) -> None:
        if self.canvas.draft is not None:  # first, the rectangle being made
            self.canvas.set_draft(None)
        elif self.history.undo():
            self._show()

    def redo(self) -> None:
        if self.history.redo():
            self._show()

    def reset(self) -> None:
        self.canvas.set_draft(None)
        self._push(Edit(self.canvas.source))

    def _show(self) -> None:
        self.canvas.set_edit(self.edit)
        self._update()

    def _update(self) -> None:
        edit = self.edit
        self.undo_button.setEnabled(self.history.can_undo or self.canvas.draft is not None)
        self.redo_button.setEnabled(self.history.can_redo)
        self.reset_button.setEnabled(not edit.identity)
        w, h = edit.size()
        sw, sh = edit.source
        parts = [f"{w}×{h} of {sw}×{sh}" if edit.cropped else f"{sw}×{sh}, whole image"]
        n = len(edit.visible_boxes())
        if n:
            parts.append(f"{n} area{'s' if n != 1 else ''} blacked out")
        sent = self._sent_size(w, h)
        if sent is not None:
            parts.append(f"sent as {sent[0]}×{sent[1]}")
        self.status.setText(" · ".join(parts))
        draft = self.canvas.draft
        if draft is not None:
            what = "crop" if self.mode is Mode.CROP else "box"
            self.hint.setText(
                f"New {what} {draft.w}×{draft.h} at {draft.x}, {draft.y}: arrows move it, "
                "Shift+arrows resize it, Enter keeps it, Esc drops it."
            )
        elif self.mode is Mode.CROP:
            self.hint.setText("Drag over the part to send, or press an arrow key to start.")
        else:
            self.hint.setText("Drag over anything private: it is filled black before sending.")

    def _sent_size(self, w: int, h: int) -> tuple[int, int] | None:
        """The size the agent receives, for the limits the image was last prepared for (the
        encoder may shrink it further only to meet a byte budget)."""
        limits = self.attachment.limits
        if limits is None:
            return None
        from desktop.core.images.fit import target_size  # Pillow is loaded: the preview used it

        return target_size(w, h, limits)

    # -- closing ------------------------------------------------------------------------------

    def apply(self) -> None:
        self.canvas.finish_draft()  # a rectangle shown when Apply is pressed is meant
        self.applied.emit(self.attachment, self.edit.normalized())
        self.accept()


class ImageEditorOpener(QObject):
    """Decodes the source on a worker, then opens an ImageEditor; relays its Apply."""

    opened = Signal(object)  # ImageEditor
    message = Signal(str)
    editApplied = Signal(object, object)  # Attachment, Edit | None

    def __init__(self, workers: Workers, parent: QWidget | None = None):
        super().__init__(parent)
        self._workers = workers
        self._parent = parent
        self.current: ImageEditor | None = None

    def open_attachment(self, att: Attachment) -> None:
        if att.kind is Kind.URL:
            self.message.emit(
                f"{att.name} is on the web at {att.host}; the Letta server fetches it when you "
                "send, so it can't be edited here."
            )
            return
        if att.kind is Kind.BYTES and att.data is None:
            self.message.emit(f"{att.name} is still being read; edit it in a moment.")
            return
        if self.current is not None and self.current.attachment is att:
            self.current.raise_()
            self.current.activateWindow()
            return
        quick = self._quick_preview(att)
        if quick is not None:
            editor = self._show(att, *quick)
            self._workers.submit(
                load_for_edit,
                att,
                on_result=lambda r, e=editor: self._sharpen(e, r[0]),
                on_error=lambda exc, e=editor: log.warning("no sharp preview to edit: %s", exc),
                owner=self,
            )
            return
        self._workers.submit(
            load_for_edit,
            att,
            on_result=lambda r, a=att: self._show(a, *r),
            on_error=lambda exc, a=att: self._failed(a, exc),
            owner=self,
        )

    @staticmethod
    def _quick_preview(att: Attachment) -> tuple[QImage, tuple[int, int]] | None:
        """The chip's preview and the source's upright size, when they show the whole source."""
        prepared = att.prepared
        if att.edit is not None or prepared is None or not isinstance(att.preview, QImage):
            return None
        source = (prepared.original_width, prepared.original_height)
        preview = att.preview
        if min(source) < 1 or preview.isNull():
            return None
        if abs(preview.width() / preview.height() - source[0] / source[1]) > 0.02:
            return None  # not the same picture's shape: wait for the decode
        return preview, source

    def _sharpen(self, editor: ImageEditor, image: QImage) -> None:
        if shiboken6.isValid(editor) and self.current is editor:
            editor.canvas.set_image(image)

    def _show(self, att: Attachment, image: QImage, source: tuple[int, int]) -> ImageEditor:
        if self.current is not None:
            self.current.close()
        editor = ImageEditor(att, image, source, self._parent)
        editor.applied.connect(self.editApplied)
        editor.destroyed.connect(lambda *_: self._forget(editor))
        self.current = editor
        editor.show()
        editor.activateWindow()  # opened from a key press on the chip: the keys go to it now
        self.opened.emit(editor)
        return editor

    def _forget(self, editor: ImageEditor) -> None:
        if self.current is editor:
            self.current = None

    def _failed(self, att: Attachment, exc: BaseException) -> None:
        reason = str(exc) if isinstance(exc, ImageRejected) else type(exc).__name__
        self.message.emit(f"{att.name} can't be edited: {reason}")
