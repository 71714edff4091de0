"""Rounded image tiles, rendered once per size and then blitted.

A thumbnail in a chip or a transcript bubble is the image scaled to cover a rounded cell, its
centre cropped. Drawing that directly means an antialiased clip path and a smooth scale on every
paint — ~0.1 ms per tile, and a window repaint draws dozens of them while images are being
prepared and sent. `cover_tile` renders the tile once into a pixmap at the device's pixel ratio
and keeps it in Qt's global QPixmapCache (bounded; evicted tiles are simply rendered again).
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QImage, QPainter, QPainterPath, QPixmap, QPixmapCache

from desktop.ui.imaging.device_pixels import device_length


def cover_source(image_w: int, image_h: int, cell_w: float, cell_h: float) -> QRectF:
    """The part of the image that covers a cell of that shape (the centre, cropped)."""
    scale = max(cell_w / image_w, cell_h / image_h)
    sw, sh = cell_w / scale, cell_h / scale
    return QRectF((image_w - sw) / 2, (image_h - sh) / 2, sw, sh)


def cover_tile(image: QImage | QPixmap, width: float, height: float, radius: float, dpr: float):
    """`image` covering a `width`×`height` (logical px) rounded cell, as a cached pixmap.

    The tile is a whole number of device pixels (the cell's size times `dpr`, rounded): drawn
    at a snapped position (device_pixels.snapped) it lands 1:1 on the screen, never resampled."""
    dpr = dpr or 1.0
    w, h = device_length(width, dpr), device_length(height, dpr)
    key = f"tile:{image.cacheKey()}:{w}x{h}:{radius:g}:{dpr:g}"
    cached = QPixmapCache.find(key)
    if cached is not None:
        return cached
    tile = QPixmap(w, h)
    tile.setDevicePixelRatio(dpr)
    tile.fill(Qt.GlobalColor.transparent)
    painter = QPainter(tile)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    cell = QRectF(0, 0, w / dpr, h / dpr)
    path = QPainterPath()
    path.addRoundedRect(cell, radius, radius)
    painter.setClipPath(path)
    source = cover_source(image.width(), image.height(), cell.width(), cell.height())
    if isinstance(image, QImage):
        painter.drawImage(cell, image, source)
    else:
        painter.drawPixmap(cell, image, source)
    painter.end()
    QPixmapCache.insert(key, tile)
    return tile
