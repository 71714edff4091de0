"""Decoding encoded image bytes with Qt on a worker, capped to a size.

QImageReader over a QBuffer (not QImage.fromData, which holds the GIL for the whole decode —
see attachments/controller.py), EXIF orientation applied, and decoded straight at a reduced
size where the format allows: a 50-megapixel photo then never takes 200 MB.
"""

from __future__ import annotations

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
from PySide6.QtGui import QImage, QImageReader


class TooManyPixels(ValueError):
    """The header declares more pixels than the caller allows."""


def read_scaled(data: bytes, max_edge: int, max_pixels: int | None = None) -> QImage:
    """Bytes → QImage whose long edge is at most `max_edge` where the reader can scale.

    Raises TooManyPixels (header over `max_pixels`) or ValueError (the reader's reason).
    """
    buffer = QBuffer()
    buffer.setData(QByteArray(data))
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    reader = QImageReader(buffer)
    reader.setAutoTransform(True)
    size = reader.size()
    if size.isValid():
        if max_pixels is not None and size.width() * size.height() > max_pixels:
            raise TooManyPixels(f"{size.width()}×{size.height()}")
        if max(size.width(), size.height()) > max_edge:
            keep = Qt.AspectRatioMode.KeepAspectRatio
            reader.setScaledSize(size.scaled(max_edge, max_edge, keep))
    image = reader.read()
    buffer.close()
    if image.isNull():
        raise ValueError(reader.errorString())
    return image
