"""SVG support without Qt: the app registers a rasteriser; the core sanitises, then calls it."""

from __future__ import annotations

from collections.abc import Callable

from desktop.core.images import errors
from desktop.core.images.errors import ImageRejected

SvgRasterizer = Callable[[bytes, int], bytes]
"""Takes SVG bytes and a target long edge in pixels, returns PNG bytes."""

_rasterizer: SvgRasterizer | None = None


def set_svg_rasterizer(fn: SvgRasterizer | None) -> None:
    """Register (or, with None, remove) the function that turns SVG into PNG.

    Called once by the composition root at start-up (the Qt one lives in
    desktop/ui/imaging/svg_raster.py); without it, SVG input is rejected with a clear message.
    """
    global _rasterizer
    _rasterizer = fn


def rasterize_svg(data: bytes, long_edge: int) -> bytes:
    """PNG bytes for an SVG, via the registered rasteriser, or ImageRejected.

    The rasteriser only ever sees the sanitised re-serialisation (see svg_sanitize.py).
    """
    fn = _rasterizer
    if fn is None:
        raise ImageRejected(errors.SVG_UNAVAILABLE, "SVG images can't be converted here.")
    from desktop.core.images.svg_sanitize import (
        sanitize_svg,  # xml + base64: not needed at start-up
    )

    safe = sanitize_svg(data)
    try:
        png = fn(safe, long_edge)
    except ImageRejected:
        raise
    except Exception as exc:
        raise ImageRejected(errors.DAMAGED, "The SVG image is damaged or can't be drawn.") from exc
    if not png:
        raise ImageRejected(errors.DAMAGED, "The SVG image is damaged or can't be drawn.")
    return png
