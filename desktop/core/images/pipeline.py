"""Bytes or a file in, a PreparedImage (or an ImageRejected with a reason) out.

sniff → size guards → header pixel guard → decode (JPEG: DCT draft) → resize → EXIF orientation
→ sRGB, 8-bit, no alpha unless used → metadata dropped → format + byte budget. Pure functions,
safe to call from any thread.

With an `Edit` (crop, blacked-out boxes) the decoded pixels are oriented and edited first, then
fitted: the crop is fitted to the limits on its own (a crop of a retina screenshot keeps its
full resolution up to them), and the boxes are filled before any resampling or encoding.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from PIL import Image

from desktop.core.images import errors
from desktop.core.images.edits import Edit, apply_edit, crop_fraction
from desktop.core.images.errors import ImageRejected
from desktop.core.images.fit import encode_to_fit, looks_like_graphic, resize, target_size
from desktop.core.images.guard import decode_image, reject_not_image
from desktop.core.images.limits import ImageLimits
from desktop.core.images.normalize import (
    apply_orientation,
    drop_opaque_alpha,
    read_orientation,
    strip_metadata,
    swaps_axes,
    to_resizable,
    to_srgb,
)
from desktop.core.images.prepared import PreparedImage, format_size
from desktop.core.images.sniff import sniff_media_type
from desktop.core.images.svg import rasterize_svg

DEFAULT_LIMITS = ImageLimits()


def _file_too_large(size: int, limits: ImageLimits) -> ImageRejected:
    return ImageRejected(
        errors.FILE_TOO_LARGE,
        f"The file is too large ({format_size(size)}; the limit is "
        f"{format_size(limits.max_file_bytes)}).",
    )


@dataclass
class DecodedImage:
    """A source decoded once, ready to be fitted (`prepare_decoded`) or previewed."""

    image: Image.Image = field(repr=False)
    """Full size (or a JPEG DCT draft), in a mode the resampler takes; not yet oriented."""
    original: tuple[int, int]
    media_type: str
    icc: bytes | None = field(repr=False)
    orientation: int
    original_media_type: str
    original_size: int
    source_size: tuple[int, int] | None = None
    """Edited: the upright size of the whole source (`original` is then the kept part's)."""
    edit_note: str = ""
    """Edited: what was done (``cropped, 1 area blacked out``)."""


def prepare_image(
    data: bytes, limits: ImageLimits | None = None, edit: Edit | None = None
) -> PreparedImage:
    """Fit image bytes to ``limits`` (defaults: the safe all-provider profile), after `edit`.

    Raises ImageRejected, whose str() is the message for the user, for anything it won't send.
    """
    limits = limits or DEFAULT_LIMITS
    return prepare_decoded(decode_for_prepare(data, limits, edit), limits)


def decode_for_prepare(
    data: bytes, limits: ImageLimits | None = None, edit: Edit | None = None
) -> DecodedImage:
    """The first half of prepare_image: checks, sniff, guards and the (only) decode.

    Split out so that a caller can make a preview from the decoded pixels before the fit and
    encode run (a pasted 5K PNG is then decoded once, not once for the preview and again here).
    With `edit`, the result is the edited part, upright (see `_edited`).
    """
    limits = limits or DEFAULT_LIMITS
    data = bytes(data) if not isinstance(data, bytes) else data
    if not data:
        raise ImageRejected(errors.EMPTY, "The file is empty.")
    if len(data) > limits.max_file_bytes:
        raise _file_too_large(len(data), limits)
    media_type = sniff_media_type(data)
    if media_type is None:
        raise reject_not_image(data)
    if media_type == "image/svg+xml":
        png = rasterize_svg(data, limits.max_long_edge)
        if sniff_media_type(png) != "image/png":
            raise ImageRejected(errors.DAMAGED, "The SVG image is damaged or can't be drawn.")
        decoded = _decode_raster(png, "image/png", limits, edit)
        return replace(decoded, original_media_type=media_type, original_size=len(data))
    return _decode_raster(data, media_type, limits, edit)


def _decode_raster(
    data: bytes, media_type: str, limits: ImageLimits, edit: Edit | None = None
) -> DecodedImage:
    fx, fy = crop_fraction(edit)

    def draft_size(size: tuple[int, int]) -> tuple[int, int]:
        if (fx, fy) == (1.0, 1.0):
            return target_size(size[0], size[1], limits)
        # Enough pixels for the kept part to reach its own fitted size. The EXIF orientation
        # is not known yet: take the larger scale of the part read either way round.
        scale = 0.0
        for kx, ky in ((fx, fy), (fy, fx)):
            kept = (max(1, round(size[0] * kx)), max(1, round(size[1] * ky)))
            scale = max(scale, target_size(*kept, limits)[0] / kept[0])
        scale = min(1.0, scale)
        return max(1, math.ceil(size[0] * scale)), max(1, math.ceil(size[1] * scale))

    im, original = decode_image(data, media_type, limits.max_input_pixels, draft_size)
    icc = im.info.get("icc_profile")
    orientation = read_orientation(im)
    decoded = DecodedImage(
        to_resizable(im), original, media_type, icc, orientation, media_type, len(data)
    )
    return _edited(decoded, edit) if edit is not None and not edit.identity else decoded


def _edited(decoded: DecodedImage, edit: Edit) -> DecodedImage:
    """The decoded image upright, in sRGB, with `edit` applied: boxes filled, then cropped.

    Oriented and colour-converted before the edit because the edit's coordinates are those of
    the upright picture the editor showed and the fill must stay black whatever the profile."""
    im = apply_orientation(decoded.image, decoded.orientation)
    im = to_srgb(im, decoded.icc)
    im = apply_edit(im, edit, in_place=True)  # the decoded pixels are this call's own
    w, h = decoded.original
    if swaps_axes(decoded.orientation):
        w, h = h, w
    fx, fy = crop_fraction(edit)
    kept = (max(1, round(w * fx)), max(1, round(h * fy)))
    return replace(
        decoded,
        image=im,
        original=kept,
        icc=None,
        orientation=1,
        source_size=(w, h),
        edit_note=edit.describe(),
    )


def prepare_decoded(decoded: DecodedImage, limits: ImageLimits | None = None) -> PreparedImage:
    """The second half of prepare_image: fit, orient, colour, strip, encode."""
    limits = limits or DEFAULT_LIMITS
    im, original = decoded.image, decoded.original
    graphic = looks_like_graphic(im, decoded.media_type)
    im = resize(im, target_size(original[0], original[1], limits))
    im = apply_orientation(im, decoded.orientation)
    im = to_srgb(im, decoded.icc)
    im = drop_opaque_alpha(im)
    im = strip_metadata(im)
    encoded, out_type, im = encode_to_fit(im, graphic, limits)
    if swaps_axes(decoded.orientation):
        original = (original[1], original[0])
    if decoded.source_size is not None:
        original = decoded.source_size
    return PreparedImage(
        media_type=out_type,
        data=encoded,
        width=im.width,
        height=im.height,
        original_width=original[0],
        original_height=original[1],
        original_media_type=decoded.original_media_type,
        original_size=decoded.original_size,
        edit_note=decoded.edit_note,
    )


def _name(path: Path) -> str:
    return path.name or str(path)


def prepare_file(
    path: str | os.PathLike[str], limits: ImageLimits | None = None, edit: Edit | None = None
) -> PreparedImage:
    """prepare_image for a file, checking it first from its open descriptor.

    Folders, FIFOs, devices, missing files, unreadable files, empty files and files larger than
    ``limits.max_file_bytes`` are refused without reading them; the message names the file.
    """
    limits = limits or DEFAULT_LIMITS
    path = Path(path)
    name = _name(path)
    try:
        data = _read_bounded(path, limits)
    except ImageRejected as exc:
        raise exc.for_file(name) from None
    try:
        return prepare_image(data, limits, edit)
    except ImageRejected as exc:
        raise exc.for_file(name) from None


def _read_bounded(path: Path, limits: ImageLimits) -> bytes:
    from desktop.core.regular_file import read_regular_file

    return read_regular_file(path, limits.max_file_bytes)
