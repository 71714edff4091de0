"""Logical geometry moved onto the device's pixel grid, for crisp drawing at any scale.

At 125 % or 150 % a logical coordinate often falls between two device pixels. A pixmap drawn
there with smooth scaling is resampled as a whole (every edge of a thumbnail goes soft), and two
shapes that meet at such a coordinate each round their own way (a hairline seam, or one pixel
painted twice). Snapping the rectangle to device pixels first keeps images 1:1 with the screen
and makes neighbours share one edge.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QRectF
from PySide6.QtGui import QPainter


def device_round(value: float) -> int:
    """Half up (not Python's round-half-even): two shapes meeting at x.5 land on one edge."""
    return math.floor(value + 0.5)


def device_length(logical: float, dpr: float) -> int:
    """A logical length in device pixels (at least one)."""
    return max(1, device_round(logical * (dpr or 1.0)))


def snapped(painter: QPainter, rect: QRectF) -> QRectF:
    """`rect` (in the painter's coordinates) with each edge on the nearest device pixel edge.

    Only for translating and scaling painters (widgets, pixmaps): anything else is returned
    as it was."""
    to_device = painter.deviceTransform()
    if to_device.isRotating():
        return QRectF(rect)
    on_device = to_device.mapRect(rect)
    left, top = device_round(on_device.left()), device_round(on_device.top())
    right = max(left + 1, device_round(on_device.right()))
    bottom = max(top + 1, device_round(on_device.bottom()))
    back, _ = to_device.inverted()
    return back.mapRect(QRectF(left, top, right - left, bottom - top))
