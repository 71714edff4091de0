"""Decoding encoded image bytes for display on a worker, capped to a size, as a QImage.

The same decoder as the image pipeline (core/images/thumbnails.py `thumbnail_image`): only the
formats it reads (not every Qt plugin: svg, pdf, tga, icns …), the pixel cap checked from the
header before any pixel is decoded, SVG sanitised and drawn in a capped child, truncated files
refused. Qt's own reader showed a truncated 7000×7000 JPEG as a grey square. Pillow also lets go
of the GIL while it decodes and resizes; a Qt decode holds it throughout.
"""

from __future__ import annotations

from PySide6.QtGui import QImage

from desktop.core.images import ImageLimits, ImageRejected
from desktop.core.images.errors import TOO_MANY_PIXELS

MAX_PIXELS = ImageLimits().max_input_pixels


class TooManyPixels(ValueError):
    """The header declares more pixels than the caller allows."""


def qimage_from_pil(im) -> QImage:
    """A Pillow image → a QImage that owns its pixels (premultiplied: what painting wants)."""
    if im.mode != "RGBA":
        im = im.convert("RGBA")
    raw = im.tobytes("raw", "RGBA")
    view = QImage(raw, im.width, im.height, im.width * 4, QImage.Format.Format_RGBA8888)
    return view.convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)  # a deep copy


def read_scaled(data: bytes, max_edge: int, max_pixels: int = MAX_PIXELS) -> QImage:
    """Bytes → QImage whose long edge is at most `max_edge`, EXIF orientation applied.

    Raises TooManyPixels (header over `max_pixels`) or ValueError (the reason, in words).
    """
    from desktop.core.images import thumbnail_image  # Pillow: on first use

    try:
        im, _ = thumbnail_image(data, max_edge, min(max_pixels, MAX_PIXELS))
    except ImageRejected as exc:
        if exc.reason == TOO_MANY_PIXELS:
            raise TooManyPixels(exc.message) from None
        raise ValueError(exc.message) from None
    return qimage_from_pil(im)
