"""The pipeline's edit path on its own terms: what the user cropped arrives at its own size and
in the colours the file's profile means, whatever the crop's shape."""

from __future__ import annotations

import contextlib

import pytest
from PIL import Image

from desktop.core.images import ImageLimits, prepare_file, prepare_image, set_svg_rasterizer
from desktop.core.images.edits import Edit, Rect
from desktop.core.images.errors import ImageRejected
from desktop.core.images.pipeline import decode_for_prepare
from tests.unit.image_corpus import encoded, png_with_huge_iccp, reopened, swapped_rgb_icc


def png(im: Image.Image, **params) -> bytes:
    return encoded(im, "PNG", **params)


def jpeg(size: tuple[int, int]) -> bytes:
    return encoded(Image.new("RGB", size, (30, 90, 160)), "JPEG")


def sent_pixels(data: bytes) -> Image.Image:
    return reopened(data).convert("RGB")


def test_a_crop_of_an_image_with_a_colour_profile_keeps_the_colours_it_means():
    # Stored red under a profile whose red primary is blue: the user saw blue in the editor.
    data = png(Image.new("RGB", (60, 40), (255, 0, 0)), icc_profile=swapped_rgb_icc())
    whole = sent_pixels(prepare_image(data).data).getpixel((5, 5))
    edit = Edit((60, 40)).with_crop(Rect(10, 10, 30, 20))
    cropped = sent_pixels(prepare_image(data, ImageLimits(), edit).data).getpixel((5, 5))
    assert whole[2] > 200 and whole[0] < 60
    assert cropped == whole


def test_a_one_pixel_wide_crop_is_sent_one_pixel_wide():
    data = png(Image.new("RGB", (50, 40), (0, 128, 0)))
    prepared = prepare_image(data, ImageLimits(), Edit((50, 40)).with_crop(Rect(7, 0, 1, 40)))
    assert (prepared.width, prepared.height) == (1, 40)
    assert (prepared.original_width, prepared.original_height) == (50, 40)


def test_a_one_pixel_tall_crop_is_sent_one_pixel_tall():
    data = png(Image.new("RGB", (50, 40), (0, 128, 0)))
    prepared = prepare_image(data, ImageLimits(), Edit((50, 40)).with_crop(Rect(0, 9, 50, 1)))
    assert (prepared.width, prepared.height) == (50, 1)


def test_a_path_without_a_file_name_is_named_by_the_whole_path():
    with pytest.raises(ImageRejected) as caught:
        prepare_file("/")
    assert str(caught.value) == "/: This is a folder, not an image."


def test_a_crop_of_a_big_photo_decodes_only_what_the_kept_part_needs():
    # The left quarter of a 4000×3000 photo, fitted to 1000 px: 333×1000 is sent, so a
    # half-scale DCT draft (2000×1500, its quarter 500×1500) is enough; a full decode holds
    # four times the pixels for the same result.
    data = jpeg((4000, 3000))
    limits = ImageLimits(max_long_edge=1000)
    edit = Edit((4000, 3000)).with_crop(Rect(0, 0, 1000, 3000))
    decoded = decode_for_prepare(data, limits, edit)
    assert decoded.image.size == (500, 1500)
    prepared = prepare_image(data, limits, edit)
    assert (prepared.width, prepared.height) == (333, 1000)


def test_a_crop_of_a_tall_photo_decodes_only_what_the_kept_part_needs():
    # The top quarter of a 2000×4000 photo, fitted to 500 px: 500×250 is sent, so a
    # quarter-scale draft (500×1000, its top quarter 500×250) is enough; half scale would
    # decode four times the pixels.
    data = jpeg((2000, 4000))
    limits = ImageLimits(max_long_edge=500)
    edit = Edit((2000, 4000)).with_crop(Rect(0, 0, 2000, 1000))
    assert decode_for_prepare(data, limits, edit).image.size == (500, 250)
    prepared = prepare_image(data, limits, edit)
    assert (prepared.width, prepared.height) == (500, 250)


@pytest.mark.parametrize(
    ("size", "crop", "drafted"),
    [((8, 4000), Rect(0, 0, 8, 3999), (1, 500)), ((8000, 8), Rect(0, 0, 8000, 7), (1000, 1))],
)
def test_a_crop_of_a_thin_strip_photo_is_drafted_down_to_one_pixel_across(size, crop, drafted):
    # An 8-px strip cut short and fitted to 500 px is sent 1 px across: the eighth-scale draft
    # has all it needs, a quarter-scale one decodes twice the pixels.
    limits = ImageLimits(max_long_edge=500)
    edit = Edit(size).with_crop(crop)
    assert decode_for_prepare(jpeg(size), limits, edit).image.size == drafted


@pytest.mark.parametrize("wrap", [bytearray, memoryview])
def test_image_bytes_in_a_buffer_are_prepared_like_bytes(wrap) -> None:
    # A clipboard or socket hands over a bytearray or a memoryview, not always bytes.
    data = png(Image.new("RGB", (30, 20), (200, 10, 10)))
    prepared = prepare_image(wrap(data))
    assert (prepared.media_type, prepared.width, prepared.height) == ("image/png", 30, 20)
    assert prepared.data == prepare_image(data).data


def test_a_file_exactly_at_the_size_limit_is_prepared() -> None:
    data = png(Image.new("RGB", (30, 20), (200, 10, 10)))
    assert prepare_image(data, ImageLimits(max_file_bytes=len(data))).width == 30
    with pytest.raises(ImageRejected) as caught:
        prepare_image(data, ImageLimits(max_file_bytes=len(data) - 1))
    assert caught.value.reason == "file_too_large"


SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100"/>'


@contextlib.contextmanager
def svg_drawn_by(rasterize):
    set_svg_rasterizer(rasterize)
    try:
        yield
    finally:
        set_svg_rasterizer(None)


@pytest.fixture
def pillow_rasterizer():
    """Draws any SVG as a 2:1 picture, left half red, at the long edge it is asked for."""
    asked: list[int] = []

    def rasterize(data: bytes, long_edge: int) -> bytes:
        asked.append(long_edge)
        im = Image.new("RGB", (long_edge, long_edge // 2), (0, 0, 255))
        im.paste((255, 0, 0), (0, 0, long_edge // 2, long_edge // 2))
        return png(im)

    with svg_drawn_by(rasterize):
        yield asked


def test_an_svg_is_drawn_at_the_target_long_edge_and_named_as_an_svg(pillow_rasterizer) -> None:
    prepared = prepare_image(SVG, ImageLimits(max_long_edge=400))
    assert pillow_rasterizer == [400]
    assert (prepared.media_type, prepared.width, prepared.height) == ("image/png", 400, 200)
    assert (prepared.original_media_type, prepared.original_size) == ("image/svg+xml", len(SVG))


def test_a_crop_of_an_svg_keeps_the_part_the_user_chose(pillow_rasterizer) -> None:
    edit = Edit((400, 200)).with_crop(Rect(0, 0, 200, 200))
    prepared = prepare_image(SVG, ImageLimits(max_long_edge=400), edit)
    assert (prepared.width, prepared.height) == (200, 200)
    assert set(sent_pixels(prepared.data).get_flattened_data()) == {(255, 0, 0)}
    assert prepared.original_media_type == "image/svg+xml"


def test_a_rasterizer_that_answers_with_no_png_is_a_damaged_svg() -> None:
    gif = encoded(Image.new("RGB", (10, 10)), "GIF")
    with (
        svg_drawn_by(lambda data, long_edge: gif),
        pytest.raises(ImageRejected) as caught,
    ):
        prepare_image(SVG)
    assert caught.value.reason == "damaged"
    assert str(caught.value) == "The SVG image is damaged or can't be drawn."


def test_a_drawn_svg_is_decoded_as_warily_as_any_png() -> None:
    # A rasteriser's PNG carrying a metadata bomb: its pixels are sent, its metadata is not.
    drawn = png_with_huge_iccp(Image.new("RGB", (40, 20), (1, 2, 3)))
    with svg_drawn_by(lambda data, long_edge: drawn):
        prepared = prepare_image(SVG)
    assert (prepared.width, prepared.height, prepared.original_media_type) == (
        40,
        20,
        "image/svg+xml",
    )
    assert sent_pixels(prepared.data).getpixel((5, 5)) == (1, 2, 3)


def test_an_empty_file_is_refused_as_empty() -> None:
    with pytest.raises(ImageRejected) as caught:
        prepare_image(b"")
    assert (caught.value.reason, str(caught.value)) == ("empty", "The file is empty.")


def test_a_photo_is_drafted_to_the_smallest_scale_that_covers_its_fitted_size() -> None:
    # 4000×3001 fitted to 1000 px is 1000×750: the quarter-scale draft (1000×751) covers it.
    data = jpeg((4000, 3001))
    assert decode_for_prepare(data, ImageLimits(max_long_edge=1000)).image.size == (1000, 751)


@pytest.mark.parametrize(
    ("crop", "kept"), [(Rect(0, 0, 1, 400), (1, 400)), (Rect(0, 0, 400, 1), (400, 1))]
)
def test_a_one_pixel_crop_of_a_photo_is_cut_from_its_full_resolution(crop, kept) -> None:
    # Fitted to 100 px it is 1×100 (or 100×1), which only the full-scale decode holds exactly:
    # a half-scale draft would blend the kept pixel with its neighbour.
    edit = Edit((400, 400)).with_crop(crop)
    decoded = decode_for_prepare(jpeg((400, 400)), ImageLimits(max_long_edge=100), edit)
    assert decoded.image.size == kept
