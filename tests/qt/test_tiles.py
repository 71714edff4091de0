"""Rounded cover tiles (desktop/ui/imaging/tiles.py): what a thumbnail cell shows, rendered once."""

from __future__ import annotations

from PySide6.QtGui import QColor, QImage, QPainter

from desktop.ui.imaging.tiles import cover_source, cover_tile


def _bands(w: int, h: int) -> QImage:
    """Left third red, middle green, right third blue."""
    image = QImage(w, h, QImage.Format.Format_RGB32)
    p = QPainter(image)
    for i, colour in enumerate(("red", "green", "blue")):
        p.fillRect(i * w // 3, 0, w // 3 + 1, h, QColor(colour))
    p.end()
    return image


def test_a_wide_image_is_cropped_to_its_centre_and_the_corners_are_round(qapp):
    tile = cover_tile(_bands(900, 100), 100, 100, 10, 1.0).toImage()
    assert (tile.width(), tile.height()) == (100, 100)
    assert QColor(tile.pixel(50, 50)) == QColor("green")  # the centre third fills the cell
    edge = QColor(tile.pixel(2, 50))  # no red band: cropped, not squeezed
    assert edge.red() < 30 and edge.green() > 100
    assert QColor(tile.pixelColor(0, 0)).alpha() == 0  # a rounded corner
    assert QColor(tile.pixelColor(50, 0)).alpha() == 255  # the straight edge


def test_tiles_are_drawn_at_the_device_pixel_ratio(qapp):
    tile = cover_tile(_bands(300, 300), 64, 48, 8, 2.0)
    assert (tile.width(), tile.height()) == (128, 96)
    assert tile.devicePixelRatio() == 2.0


def test_the_same_image_and_size_reuse_the_rendered_tile(qapp):
    image = _bands(300, 200)
    first = cover_tile(image, 80, 60, 10, 1.0)
    assert cover_tile(image, 80, 60, 10, 1.0).cacheKey() == first.cacheKey()
    assert cover_tile(image, 81, 60, 10, 1.0).cacheKey() != first.cacheKey()
    other = _bands(300, 200)  # equal pixels, another image: its own tile
    assert cover_tile(other, 80, 60, 10, 1.0).cacheKey() != first.cacheKey()


def test_cover_source_keeps_the_cell_shape():
    r = cover_source(400, 100, 50, 50)
    assert (r.x(), r.y(), r.width(), r.height()) == (150, 0, 100, 100)
    r = cover_source(100, 400, 100, 50)
    assert (r.x(), r.y(), r.width(), r.height()) == (0, 175, 100, 50)
