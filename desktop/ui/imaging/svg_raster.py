"""Qt SVG rendering: the code that runs inside the rasteriser's child process.

`render_png` uses QSvgRenderer + QImage + QPainter + QBuffer only (no QPixmap, no widgets). The
app never calls it in its own process: Qt's renderer has no time or memory limit and holds the
GIL while it draws, so desktop/ui/imaging/svg_process.py runs it in a capped child (svg_child.py).
"""

from __future__ import annotations

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF, QSize, Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

_FALLBACK_SIZE = QSize(512, 512)


def render_png(data: bytes, long_edge: int) -> bytes:
    """Render SVG bytes to PNG bytes whose longer side is ``long_edge`` pixels.

    The aspect ratio comes from the SVG's own size (or its viewBox). Raises ValueError for an
    SVG Qt cannot parse.
    """
    if long_edge < 1:
        raise ValueError("long_edge must be positive")
    renderer = QSvgRenderer(QByteArray(bytes(data)))
    if not renderer.isValid():
        raise ValueError("not a valid SVG document")
    natural = renderer.defaultSize()
    if natural.isEmpty():
        box = renderer.viewBoxF()
        natural = QSize(round(box.width()), round(box.height())) if not box.isEmpty() else QSize()
    if natural.isEmpty():
        natural = _FALLBACK_SIZE
    scale = long_edge / max(natural.width(), natural.height())
    width = max(1, round(natural.width() * scale))
    height = max(1, round(natural.height() * scale))

    image = QImage(width, height, QImage.Format.Format_ARGB32_Premultiplied)
    if image.isNull():
        raise ValueError("out of memory for the SVG raster")
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        renderer.render(painter, QRectF(0, 0, width, height))
    finally:
        painter.end()

    out = QByteArray()
    buffer = QBuffer(out)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):
        raise ValueError("could not encode the SVG raster as PNG")
    buffer.close()
    return bytes(out.data())
