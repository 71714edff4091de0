"""Full-size preview of an image: fit or zoom, copy, save as.

Opening is two steps: the bytes are decoded on a worker (`LightboxOpener`), then the dialog shows
the ready QImage. The dialog keeps the encoded bytes it was given, so "Save as…" writes them as
they are (on a worker) instead of re-encoding.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QSize, Qt, Signal
from PySide6.QtGui import (
    QAction,
    QGuiApplication,
    QImage,
    QKeySequence,
    QPainter,
    QPaintEvent,
    QPixmap,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from desktop.core.attachments import Attachment, Kind, read_file
from desktop.core.images import ImageRejected
from desktop.core.images.sniff import sniff_media_type
from desktop.core.letta.models import ImageRef
from desktop.ui.imaging.device_pixels import device_length
from desktop.ui.imaging.display_decode import MAX_PIXELS, TooManyPixels, read_scaled
from desktop.ui.plain_text import plain_label
from desktop.workers import Workers

MAX_EDGE = 4096  # the preview's cap: more than any screen, and cheap to scale for zooming
_EXT = {"image/jpeg": "jpg", "image/svg+xml": "svg"}


def decode_full(data: bytes, max_edge: int = MAX_EDGE) -> QImage:
    """Encoded bytes → QImage (EXIF-oriented, capped at `max_edge`). Runs on a worker."""
    try:
        return read_scaled(data, max_edge, MAX_PIXELS)
    except TooManyPixels:
        raise ImageRejected("too_many_pixels", "The image is too large to preview.") from None
    except ValueError as exc:
        raise ImageRejected("damaged", f"The image can't be shown ({exc}).") from None


def _attachment_bytes(att: Attachment) -> tuple[bytes, str | None]:
    if att.prepared is not None:
        return att.prepared.data, att.prepared.media_type
    data = read_file(att.path) if att.kind is Kind.FILE and att.path else (att.data or b"")
    return data, sniff_media_type(data)


def load_attachment(att: Attachment) -> tuple[QImage, bytes, str | None]:
    """Worker: what the agent will receive (the prepared image), else the source."""
    data, media_type = _attachment_bytes(att)
    return decode_full(data), data, media_type


def load_ref(ref: ImageRef) -> tuple[QImage, bytes, str | None]:
    """Worker: an inline base64 history image, decoded."""
    try:
        data = ref.inline_bytes()
    except ValueError:
        raise ImageRejected("bad_base64", "The image data is damaged.") from None
    return decode_full(data), data, ref.media_type or sniff_media_type(data)


def _write(path: str, data: bytes) -> None:
    Path(path).write_bytes(data)


def _save_qimage(path: str, image: QImage) -> None:
    if not image.save(path):
        raise OSError(f"could not write {path}")


class ImageCanvas(QWidget):
    """Paints the image at `zoom` (logical pixels per image pixel); caches one pixmap per zoom
    level and screen, scaled to the device pixels it covers: at 150 % a fitted 4000-px photo is
    drawn from 1.5× the pixels, not scaled to the logical size and then enlarged (soft)."""

    def __init__(self, image: QImage, parent: QWidget | None = None):
        super().__init__(parent)
        self.image = image
        self.zoom = 1.0
        self._cache: tuple[float, float, QPixmap] | None = None

    def set_zoom(self, zoom: float) -> None:
        self.zoom = max(0.02, min(zoom, 8.0))
        self.setFixedSize(self.sizeHint())
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(
            max(1, round(self.image.width() * self.zoom)),
            max(1, round(self.image.height() * self.zoom)),
        )

    def paintEvent(self, event: QPaintEvent) -> None:
        dpr = self.devicePixelRatioF()
        if self._cache is None or self._cache[:2] != (self.zoom, dpr):
            logical = self.sizeHint()
            size = QSize(device_length(logical.width(), dpr), device_length(logical.height(), dpr))
            scaled = (
                self.image
                if size == self.image.size()
                else self.image.scaled(
                    size,
                    Qt.AspectRatioMode.IgnoreAspectRatio,
                    Qt.TransformationMode.SmoothTransformation,
                )
            )
            pixmap = QPixmap.fromImage(scaled)
            pixmap.setDevicePixelRatio(dpr)
            self._cache = (self.zoom, dpr, pixmap)
        p = QPainter(self)
        p.drawPixmap(0, 0, self._cache[2])
        p.end()


class Lightbox(QDialog):
    """The image at full size, fitted to the window by default. A pending attachment's has an
    Edit… button (crop, redact)."""

    editRequested = Signal()

    def __init__(
        self,
        image: QImage,
        workers: Workers,
        *,
        title: str = "Image",
        caption: str = "",
        data: bytes | None = None,
        media_type: str | None = None,
        editable: bool = False,
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.image = image
        self._workers = workers
        self._data = data
        self._media_type = media_type
        self._title = title
        self.fit = True
        self.canvas = ImageCanvas(image)
        self.scroll = QScrollArea()
        self.scroll.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.scroll.setWidget(self.canvas)
        self.scroll.setWidgetResizable(False)
        self.caption = plain_label(caption)
        self.caption.setWordWrap(True)
        self.caption.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.caption.setStyleSheet("color: palette(placeholder-text);")
        self.fit_button = QPushButton("Fit")
        self.fit_button.setCheckable(True)
        self.fit_button.setChecked(True)
        self.fit_button.toggled.connect(self.set_fit)
        actual = QPushButton("100%")
        actual.clicked.connect(lambda: self.set_zoom(1.0))
        copy = QPushButton("Copy image")
        copy.clicked.connect(self.copy_image)
        save = QPushButton("Save as…")
        save.clicked.connect(self.save_as)
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        self.edit_button: QPushButton | None = None
        buttons = [self.fit_button, actual, copy, save, close]
        if editable:
            self.edit_button = QPushButton("Edit…")
            self.edit_button.setToolTip("Crop, or black out what must not be sent")
            self.edit_button.setAccessibleName("Edit image")
            self.edit_button.clicked.connect(self._edit)
            buttons.insert(0, self.edit_button)
        bar = QHBoxLayout()
        bar.addWidget(self.caption, 1)
        for button in buttons:
            bar.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(self.scroll, 1)
        layout.addLayout(bar)
        for keys, slot in (
            (QKeySequence.StandardKey.ZoomIn, lambda: self.set_zoom(self.canvas.zoom * 1.25)),
            (QKeySequence.StandardKey.ZoomOut, lambda: self.set_zoom(self.canvas.zoom / 1.25)),
            (QKeySequence("Ctrl+0"), lambda: self.set_zoom(1.0)),
            (QKeySequence.StandardKey.Copy, self.copy_image),
            (QKeySequence.StandardKey.Save, self.save_as),
        ):
            action = QAction(self, shortcut=QKeySequence(keys))
            action.triggered.connect(slot)
            self.addAction(action)
        screen = (parent.screen() if parent else None) or QGuiApplication.primaryScreen()
        avail = screen.availableGeometry().size() * 0.85 if screen else QSize(1200, 800)
        want = image.size().grownBy(self.layout().contentsMargins()) + QSize(24, 64)
        self.resize(
            max(420, min(want.width(), avail.width())), max(320, min(want.height(), avail.height()))
        )
        self._apply_fit()

    # -- zoom ---------------------------------------------------------------------------------

    def fit_zoom(self) -> float:
        view = self.scroll.viewport().size()
        w, h = max(1, self.image.width()), max(1, self.image.height())
        return min(1.0, view.width() / w, view.height() / h)

    def set_fit(self, fit: bool) -> None:
        self.fit = fit
        self._apply_fit()

    def set_zoom(self, zoom: float) -> None:
        self.fit = False
        self.fit_button.setChecked(False)
        self.canvas.set_zoom(zoom)

    def _apply_fit(self) -> None:
        if self.fit:
            self.canvas.set_zoom(self.fit_zoom())

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._apply_fit()

    def wheelEvent(self, event: QWheelEvent) -> None:
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            step = 1.15 if event.angleDelta().y() > 0 else 1 / 1.15
            self.set_zoom(self.canvas.zoom * step)
            event.accept()
            return
        super().wheelEvent(event)

    # -- actions ------------------------------------------------------------------------------

    def copy_image(self) -> None:
        QGuiApplication.clipboard().setImage(self.image)

    def save_as(self, path: str | None = None) -> None:
        ext = _EXT.get(self._media_type or "", (self._media_type or "image/png").split("/")[-1])
        if self._data is None:
            ext = "png"
        if not path:
            stem = Path(self._title).stem or "image"
            path, _ = QFileDialog.getSaveFileName(
                self, "Save image as", f"{stem}.{ext}", f"Image (*.{ext})"
            )
        if not path:
            return
        if self._data is not None:
            self._workers.submit(_write, path, self._data, on_error=self._save_failed, owner=self)
        else:
            self._workers.submit(
                _save_qimage, path, self.image.copy(), on_error=self._save_failed, owner=self
            )

    def _save_failed(self, exc: BaseException) -> None:
        self.caption.setText(f"Could not save the image: {exc}")

    def _edit(self) -> None:
        self.editRequested.emit()
        self.close()


class LightboxOpener(QObject):
    """Decodes on a worker, then opens a Lightbox; tells `message` when it can't."""

    opened = Signal(object)  # Lightbox
    message = Signal(str)
    editRequested = Signal(object)  # Attachment: its lightbox's Edit…

    def __init__(self, workers: Workers, parent: QWidget | None = None):
        super().__init__(parent)
        self._workers = workers
        self._parent = parent
        self.current: Lightbox | None = None

    def open_attachment(self, att: Attachment, caption: str = "") -> None:
        if att.kind is Kind.URL:
            self.message.emit(
                f"{att.name} is on the web at {att.host}; the Letta server fetches it when you "
                "send, so there is nothing to preview here."
            )
            return
        self._workers.submit(
            load_attachment,
            att,
            on_result=lambda r, a=att, c=caption: self._show(r, a.name, c or a.note(), a),
            on_error=self._failed,
            owner=self,
        )

    def open_image(self, image: object) -> None:
        """For the transcript's imageActivated: an ImageRef or an already-decoded QImage."""
        if isinstance(image, QImage):
            self._show((image, None, None), "Image", f"{image.width()}×{image.height()}")
        elif isinstance(image, ImageRef) and image.source_type == "base64" and image.has_data:
            self._workers.submit(
                load_ref,
                image,
                on_result=lambda r: self._show(r, "Image", f"{r[0].width()}×{r[0].height()}"),
                on_error=self._failed,
                owner=self,
            )
        elif isinstance(image, ImageRef) and image.url:
            self.message.emit(f"This image is on the web ({image.url}); it is not downloaded.")
        else:
            self.message.emit("This image is stored on the server and can't be previewed here.")

    def _show(
        self,
        result: tuple[QImage, bytes | None, str | None],
        title: str,
        caption: str,
        att: Attachment | None = None,
    ):
        image, data, media_type = result
        if self.current is not None:
            self.current.close()
        box = Lightbox(
            image,
            self._workers,
            title=title,
            caption=caption,
            data=data,
            media_type=media_type,
            editable=att is not None,
            parent=self._parent,
        )
        if att is not None:
            box.editRequested.connect(lambda a=att: self.editRequested.emit(a))
        box.destroyed.connect(lambda *_: self._forget(box))
        self.current = box
        box.show()
        self.opened.emit(box)

    def _forget(self, box: Lightbox) -> None:
        if self.current is box:
            self.current = None

    def _failed(self, exc: BaseException) -> None:
        self.message.emit(str(exc) if isinstance(exc, ImageRejected) else f"Can't show: {exc}")
