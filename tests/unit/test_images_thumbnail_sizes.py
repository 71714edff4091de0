"""Display thumbnails (`thumbnail_image`, `thumbnail_with_size`, `make_thumbnail`): their size,
the reduced JPEG decode behind them, SVG, colour, format and the words of their refusals.

Closes mutation-testing gaps in desktop/core/images/thumbnails.py (issue 17)."""

from __future__ import annotations

import pytest
from PIL import Image

from desktop.core.images import (
    ImageLimits,
    ImageRejected,
    errors,
    make_thumbnail,
    set_svg_rasterizer,
    thumbnail_image,
    thumbnail_with_size,
)
from desktop.core.images import thumbnails as thumbnails_module

from .image_corpus import encoded as _encode
from .image_corpus import exif_rotated_jpeg, photo, swapped_rgb_icc
from .image_corpus import reopened as _open

# -- arguments and refusals ------------------------------------------------------------------------


def test_one_pixel_thumbnail_is_allowed():
    im, media_type, size = thumbnail_with_size(_encode(photo((30, 20)), "PNG"), 1)
    assert im.size == (1, 1)
    assert (media_type, size) == ("image/png", (30, 20))


@pytest.mark.parametrize("max_edge", [0, -3])
def test_non_positive_edge_is_refused_with_a_plain_message(max_edge):
    with pytest.raises(ValueError) as caught:
        thumbnail_with_size(_encode(photo((30, 20)), "PNG"), max_edge)
    assert str(caught.value) == "max_edge must be positive"


def test_pixel_cap_given_to_thumbnail_image_is_applied():
    """The display decoder passes a lower cap than the pipeline's; it must not be dropped."""
    data = _encode(photo((100, 100)), "PNG")
    assert thumbnail_image(data, 50, max_pixels=10_000)[0].size == (50, 50)
    with pytest.raises(ImageRejected) as caught:
        thumbnail_image(data, 50, max_pixels=9_999)
    assert caught.value.reason == errors.TOO_MANY_PIXELS
    assert str(caught.value) == "The image is too large to open safely (100×100 pixels)."


def test_file_at_the_size_limit_is_read_and_one_byte_more_is_refused(monkeypatch):
    data = _encode(photo((40, 20)), "PNG")
    monkeypatch.setattr(thumbnails_module, "_GUARD", ImageLimits(max_file_bytes=len(data)))
    assert thumbnail_with_size(data, 20)[0].size == (20, 10)
    monkeypatch.setattr(thumbnails_module, "_GUARD", ImageLimits(max_file_bytes=len(data) - 1))
    with pytest.raises(ImageRejected) as caught:
        thumbnail_with_size(data, 20)
    assert caught.value.reason == errors.FILE_TOO_LARGE
    assert str(caught.value) == "The file is too large."


# -- reduced decode of big JPEGs -------------------------------------------------------------------


@pytest.fixture
def decoded_sizes(monkeypatch):
    """The size of the pixels actually decoded (before any resize) for each thumbnail."""
    sizes: list[tuple[int, int]] = []
    real = thumbnails_module.decode_image

    def recording(*args, **kwargs):
        im, header = real(*args, **kwargs)
        sizes.append(im.size)
        return im, header

    monkeypatch.setattr(thumbnails_module, "decode_image", recording)
    return sizes


@pytest.mark.parametrize(
    ("stored", "max_edge", "decoded", "thumb"),
    [
        ((1600, 800), 100, (200, 100), (100, 50)),  # 1/8 still covers 100×50
        ((400, 1600), 200, (50, 200), (50, 200)),  # portrait: the width needs only 50
        ((8, 800), 100, (1, 100), (1, 100)),  # a thin column: one pixel wide is enough
        ((800, 8), 100, (100, 1), (100, 1)),  # a thin row: one pixel high is enough
    ],
)
def test_big_jpeg_is_decoded_at_the_smallest_draft_scale_that_suffices(
    decoded_sizes, stored, max_edge, decoded, thumb
):
    """Speed and memory: the JPEG decoder scales by 1/2, 1/4 or 1/8 while decoding; a preview
    asks for the smallest of these that still covers the thumbnail. The reported size is
    still the whole image's."""
    im, media_type, size = thumbnail_with_size(_encode(photo(stored), "JPEG"), max_edge)
    assert decoded_sizes == [decoded]
    assert im.size == thumb
    assert (media_type, size) == ("image/jpeg", stored)


def test_reported_size_is_the_upright_size_of_the_whole_image():
    """Stored 200×100 with EXIF orientation 6: shown, and reported, as 100×200."""
    im, media_type, size = thumbnail_with_size(exif_rotated_jpeg(), 40)
    assert (im.size, media_type, size) == ((20, 40), "image/jpeg", (100, 200))


# -- SVG -------------------------------------------------------------------------------------------


@pytest.fixture
def fake_rasterizer():
    """Draws every SVG as a 2:1 PNG with the long edge it is asked for."""
    asked: list[int] = []

    def rasterize(svg: bytes, long_edge: int) -> bytes:
        asked.append(long_edge)
        return _encode(Image.new("RGB", (long_edge, long_edge // 2), (0, 128, 255)), "PNG")

    set_svg_rasterizer(rasterize)
    yield asked
    set_svg_rasterizer(None)


def test_svg_is_drawn_at_the_thumbnail_size_and_reported_as_png(fake_rasterizer):
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="30" height="15"/>'
    im, media_type, size = thumbnail_with_size(svg, 120)
    assert fake_rasterizer == [120]
    assert (im.size, media_type, size) == ((120, 60), "image/png", (120, 60))
    assert thumbnail_image(svg, 80)[1] == "image/png"


# -- colour ----------------------------------------------------------------------------------------


def test_thumbnail_honours_the_colour_profile():
    """Stored red tagged with a profile whose red and blue primaries are swapped is blue."""
    data = _encode(Image.new("RGB", (40, 40), (255, 0, 0)), "PNG", icc_profile=swapped_rgb_icc())
    im, _ = thumbnail_image(data, 20)
    r, g, b = im.convert("RGB").getpixel((10, 10))
    assert b > 200 and r < 60, (r, g, b)
    assert not im.info.get("icc_profile")


# -- make_thumbnail format -------------------------------------------------------------------------


def test_thumbnail_is_160_px_by_default():
    assert _open(make_thumbnail(_encode(photo((400, 200)), "PNG"))).size == (160, 80)


def test_flat_graphic_without_alpha_is_a_png():
    diagram = Image.new("RGB", (120, 60), (255, 255, 255))
    diagram.paste((0, 0, 200), (10, 10, 60, 50))
    thumb = _open(make_thumbnail(_encode(diagram, "PNG"), 60))
    assert thumb.format == "PNG"
    assert thumb.size == (60, 30)
    assert thumb.convert("RGB").getpixel((15, 15)) == (0, 0, 200)


def test_photo_with_transparency_is_a_png_that_keeps_it():
    """Thousands of colours would make it a JPEG, but JPEG cannot hold the alpha channel."""
    im = photo((120, 60)).convert("RGBA")
    im.putalpha(Image.linear_gradient("L").resize((120, 60)))
    thumb = _open(make_thumbnail(_encode(im, "PNG"), 60))
    assert thumb.format == "PNG"
    assert thumb.mode == "RGBA"
    assert thumb.getpixel((30, 0))[3] < 20 and thumb.getpixel((30, 29))[3] > 230


def test_photo_thumbnail_is_a_quality_80_jpeg():
    """Quality shows in the quantisation tables, which depend only on the quality setting."""
    thumb = _open(make_thumbnail(_encode(photo((300, 200)), "JPEG"), 90))
    assert thumb.format == "JPEG"
    assert thumb.size == (90, 60)
    reference = _open(_encode(photo((30, 20)), "JPEG", quality=80))
    assert thumb.quantization == reference.quantization
