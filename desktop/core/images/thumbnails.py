"""Small previews for the UI (chips, chat bubbles). Fast: JPEG draft + reduce, tiny output."""

from __future__ import annotations

import base64
import binascii
import io

from PIL import Image

from desktop.core.images import errors
from desktop.core.images.errors import ImageRejected
from desktop.core.images.fit import looks_like_graphic
from desktop.core.images.guard import decode_image, reject_not_image
from desktop.core.images.limits import ImageLimits
from desktop.core.images.normalize import (
    apply_orientation,
    read_orientation,
    swaps_axes,
    to_resizable,
    to_srgb,
)
from desktop.core.images.pipeline import DecodedImage
from desktop.core.images.sniff import sniff_media_type
from desktop.core.images.svg import rasterize_svg

_GUARD = ImageLimits()


def thumbnail_image(
    data: bytes, max_edge: int, max_pixels: int = _GUARD.max_input_pixels
) -> tuple[Image.Image, str]:
    """Decoded pixels (sRGB L/RGB/RGBA, upright) whose long edge is at most ``max_edge``, and
    the source's media type. Every decoder for display goes through here: only the formats the
    pipeline reads, the pixel cap checked from the header first, SVG sanitised and drawn in the
    rasteriser's child, damaged or truncated files refused (never shown as grey)."""
    im, media_type, _ = thumbnail_with_size(data, max_edge, max_pixels)
    return im, media_type


def thumbnail_with_size(
    data: bytes, max_edge: int, max_pixels: int = _GUARD.max_input_pixels
) -> tuple[Image.Image, str, tuple[int, int]]:
    """`thumbnail_image`, and the upright size of the whole source (an SVG: of its drawing)."""
    if max_edge < 1:
        raise ValueError("max_edge must be positive")
    if not data:
        raise ImageRejected(errors.EMPTY, "The file is empty.")
    if len(data) > _GUARD.max_file_bytes:
        raise ImageRejected(errors.FILE_TOO_LARGE, "The file is too large.")
    media_type = sniff_media_type(data)
    if media_type is None:
        raise reject_not_image(data)
    if media_type == "image/svg+xml":
        data = rasterize_svg(data, max_edge)
        media_type = "image/png"

    def draft_size(size: tuple[int, int]) -> tuple[int, int]:
        scale = min(1.0, max_edge / max(size))
        return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))

    im, (width, height) = decode_image(data, media_type, max_pixels, draft_size)
    icc = im.info.get("icc_profile")
    orientation = read_orientation(im)
    im = to_resizable(im)
    im.thumbnail((max_edge, max_edge), Image.Resampling.BICUBIC, reducing_gap=2.0)
    im = apply_orientation(im, orientation)
    im = to_srgb(im, icc)
    im.info = {}
    return im, media_type, ((height, width) if swaps_axes(orientation) else (width, height))


def make_thumbnail(data: bytes, max_edge: int = 160) -> bytes:
    """A PNG (graphics, transparency) or JPEG (photos) whose long edge is at most ``max_edge``.

    Same safety checks as prepare_image (bombs, damaged files); raises ImageRejected.
    """
    im, media_type = thumbnail_image(data, max_edge)
    out = io.BytesIO()
    if im.mode == "RGBA" or looks_like_graphic(im, media_type):
        im.save(out, "PNG", compress_level=1)
    else:
        im.save(out, "JPEG", quality=80)
    return out.getvalue()


def thumbnail_from_decoded(decoded: DecodedImage, max_edge: int = 160) -> bytes:
    """make_thumbnail from pixels prepare_image decoded anyway (see `decode_for_prepare`).

    Box-reduces by an integer factor first (Image.reduce: a few ms even on 5K), so the preview
    costs next to nothing on top of the decode. Always a fast PNG (it is small)."""
    if max_edge < 1:
        raise ValueError("max_edge must be positive")
    im = decoded.image
    factor = max(1, max(im.size) // (2 * max_edge))
    # thumbnail() works in place, and the decoded image is still needed: reduce or copy.
    im = im.reduce(factor) if factor > 1 else im.copy()
    im.thumbnail((max_edge, max_edge), Image.Resampling.BICUBIC)
    im = apply_orientation(im, decoded.orientation)
    im = to_srgb(im, decoded.icc)
    im.info = {}
    out = io.BytesIO()
    im.save(out, "PNG", compress_level=1)
    return out.getvalue()


def decode_base64_thumbnail(b64: str, max_edge: int = 160) -> bytes:
    """make_thumbnail for base64 text (optionally a ``data:…;base64,`` URL).

    Broken base64 raises ImageRejected rather than binascii.Error.
    """
    text = (b64 or "").strip()
    if text.startswith("data:"):
        _, _, text = text.partition(",")
    text = "".join(text.split())
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ImageRejected(errors.BAD_DATA, "The image data is damaged.") from None
    return make_thumbnail(data, max_edge)
