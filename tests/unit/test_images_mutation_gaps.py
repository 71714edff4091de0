"""Previews from already-decoded pixels, base64 previews, and the words of a few rejections.

Closes mutation-testing gaps in desktop/core/images/ (thumbnails, pipeline, guard, svg_sanitize):
a preview must be upright and colour-correct like the image sent, and the reason and message a
user sees for a refused image are part of the behaviour."""

from __future__ import annotations

import base64

import pytest
from PIL import Image

from desktop.core.images import (
    ImageLimits,
    ImageRejected,
    decode_base64_thumbnail,
    decode_for_prepare,
    errors,
    prepare_image,
    thumbnail_from_decoded,
)
from desktop.core.images.guard import _size_without_guard
from desktop.core.images.svg_sanitize import sanitize_svg

from .image_corpus import encoded, exif_rotated_jpeg, photo, png_bomb, swapped_rgb_icc
from .image_corpus import reopened as _open


def _png(im: Image.Image, **params) -> bytes:
    return encoded(im, "PNG", **params)


# -- thumbnail_from_decoded -------------------------------------------------------------------


def test_preview_from_decoded_is_160_px_by_default():
    decoded = decode_for_prepare(_png(photo((400, 200))))
    preview = _open(thumbnail_from_decoded(decoded))
    assert preview.format == "PNG"
    assert preview.size == (160, 80)


def test_preview_from_decoded_leaves_the_decoded_pixels_alone():
    """The same DecodedImage is fitted and sent after the preview is made."""
    decoded = decode_for_prepare(_png(photo((400, 200))))
    thumbnail_from_decoded(decoded, 40)
    assert decoded.image.size == (400, 200)


def test_preview_from_decoded_can_be_one_pixel():
    decoded = decode_for_prepare(_png(photo((30, 20))))
    assert _open(thumbnail_from_decoded(decoded, 1)).size == (1, 1)


@pytest.mark.parametrize("max_edge", [0, -5])
def test_preview_from_decoded_refuses_a_non_positive_edge(max_edge):
    decoded = decode_for_prepare(_png(photo((30, 20))))
    with pytest.raises(ValueError) as caught:
        thumbnail_from_decoded(decoded, max_edge)
    assert str(caught.value) == "max_edge must be positive"


def test_preview_from_decoded_is_upright():
    """The JPEG is stored 200×100 with EXIF orientation 6: the preview shows it 100×200,
    with the stored top-left red block at the top right."""
    decoded = decode_for_prepare(exif_rotated_jpeg())
    assert decoded.orientation == 6  # not yet applied to the decoded pixels
    preview = _open(thumbnail_from_decoded(decoded, 50)).convert("RGB")
    assert preview.size == (25, 50)
    r, g, b = preview.getpixel((22, 2))
    assert r > 200 and g < 80 and b < 80, (r, g, b)
    r, g, b = preview.getpixel((2, 2))
    assert min(r, g, b) > 200, (r, g, b)


def test_preview_from_decoded_honours_the_colour_profile():
    """Stored red tagged with a profile whose red and blue primaries are swapped is blue."""
    data = _png(Image.new("RGB", (40, 40), (255, 0, 0)), icc_profile=swapped_rgb_icc())
    preview = _open(thumbnail_from_decoded(decode_for_prepare(data), 20)).convert("RGB")
    r, g, b = preview.getpixel((10, 10))
    assert b > 200 and r < 60, (r, g, b)
    assert not preview.info.get("icc_profile")


# -- decode_base64_thumbnail --------------------------------------------------------------------


def _b64_png(size=(400, 200)) -> str:
    return base64.b64encode(_png(photo(size))).decode()


def test_base64_preview_is_160_px_by_default():
    assert _open(decode_base64_thumbnail(_b64_png())).size == (160, 80)


@pytest.mark.parametrize("text", ["", None, "   \n"])
def test_empty_base64_is_an_empty_image(text):
    with pytest.raises(ImageRejected) as caught:
        decode_base64_thumbnail(text, 64)
    assert caught.value.reason == errors.EMPTY
    assert str(caught.value) == "The file is empty."


def test_base64_with_a_stray_character_is_damaged_data():
    """Characters outside the base64 alphabet are damage, not something to skip silently."""
    b64 = _b64_png()
    with pytest.raises(ImageRejected) as caught:
        decode_base64_thumbnail(b64[:40] + "*" + b64[40:], 64)
    assert caught.value.reason == errors.BAD_DATA
    assert str(caught.value) == "The image data is damaged."


def test_data_url_payload_starts_at_the_first_comma():
    """A data URL's header ends at its first comma; a comma further on is damaged data."""
    b64 = _b64_png()
    assert _open(decode_base64_thumbnail("data:image/png;base64," + b64, 64)).size == (64, 32)
    with pytest.raises(ImageRejected) as caught:
        decode_base64_thumbnail("data:image/png;base64,AAAA," + b64, 64)
    assert caught.value.reason == errors.BAD_DATA


# -- rejection words ------------------------------------------------------------------------------


def test_too_large_file_names_its_size_and_the_limit():
    with pytest.raises(ImageRejected) as caught:
        prepare_image(b"\x89PNG\r\n\x1a\n" + b"\x00" * 1992, ImageLimits(max_file_bytes=999))
    assert caught.value.reason == errors.FILE_TOO_LARGE
    assert str(caught.value) == "The file is too large (2 KB; the limit is 999 B)."


def test_unrecognised_bytes_get_the_generic_not_an_image_message():
    with pytest.raises(ImageRejected) as caught:
        prepare_image(bytes(range(256)) * 4)
    assert caught.value.reason == errors.NOT_IMAGE
    assert str(caught.value) == "This file is not an image, or not in a format that can be read."


def test_svg_with_a_doctype_is_refused_with_a_plain_message():
    svg = b'<?xml version="1.0"?><!DOCTYPE svg><svg xmlns="http://www.w3.org/2000/svg"/>'
    with pytest.raises(ImageRejected) as caught:
        sanitize_svg(svg)
    assert caught.value.reason == errors.UNSAFE_SVG
    assert str(caught.value) == "The SVG image declares a DOCTYPE, which is not allowed."


def test_bomb_size_comes_from_whichever_listed_decoder_reads_the_header():
    """The "too large to open safely (W×H pixels)" message needs the header size even when
    the first decoder tried cannot read the file (AVIF data Pillow's AVIF plugin refuses but
    pillow-heif reads, say)."""
    bomb = png_bomb(20_000, 20_000)
    assert _size_without_guard(bomb, ("JPEG", "PNG")) == (20_000, 20_000)
    assert _size_without_guard(bomb, ("JPEG",)) is None


def test_an_unknown_name_in_the_lazy_package_is_a_plain_attribute_error():
    import desktop.core.images as images

    assert not hasattr(images, "no_such_thing")
    with pytest.raises(AttributeError) as caught:
        images.no_such_thing  # noqa: B018
    assert str(caught.value) == "module 'desktop.core.images' has no attribute 'no_such_thing'"
