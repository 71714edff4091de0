"""Normalisation on its own: orientation, every odd pixel mode to a resizable one, colour
profiles to sRGB, opaque alpha and metadata dropped. Through the whole pipeline a wrong grey
level or a flipped corner of a 16-bit scan goes unseen; here each one is a named pixel."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageCms, ImageOps

from desktop.core.images import normalize
from desktop.core.images.normalize import (
    apply_orientation,
    drop_opaque_alpha,
    read_orientation,
    strip_metadata,
    swaps_axes,
    to_resizable,
    to_srgb,
)
from tests.unit.image_corpus import green_ink_cmyk_icc, swapped_rgb_icc


def corners() -> Image.Image:
    """3×2 RGB, every pixel different, so any flip or turn shows."""
    im = Image.new("RGB", (3, 2))
    im.putdata([(10 * i, 0, 0) for i in range(6)])
    return im


def with_orientation(im: Image.Image, value) -> Image.Image:
    exif = Image.Exif()
    exif[0x0112] = value
    buf = io.BytesIO()
    im.save(buf, "PNG", exif=exif.tobytes())
    return Image.open(io.BytesIO(buf.getvalue()))


# --- orientation ---------------------------------------------------------------------------------


@pytest.mark.parametrize("value", range(1, 9))
def test_each_exif_orientation_turns_the_picture_as_pillow_reads_it(value):
    tagged = with_orientation(corners(), value)
    assert read_orientation(tagged) == value
    expected = ImageOps.exif_transpose(tagged)
    got = apply_orientation(tagged.convert("RGB"), value)
    assert got.size == expected.size
    assert list(got.get_flattened_data()) == list(expected.convert("RGB").get_flattened_data())
    assert swaps_axes(value) == (got.size == (2, 3))


@pytest.mark.parametrize("value", [0, 9, 255])
def test_an_orientation_outside_one_to_eight_is_upright(value):
    assert read_orientation(with_orientation(corners(), value)) == 1


def test_an_orientation_that_is_not_a_number_is_upright():
    class Texty:
        def getexif(self):
            return {0x0112: "6"}

    assert read_orientation(Texty()) == 1


def test_no_exif_means_upright():
    assert read_orientation(corners()) == 1


def test_unreadable_exif_means_upright():
    class Broken:
        def getexif(self):
            raise SyntaxError("bad EXIF")

    assert read_orientation(Broken()) == 1


def test_an_unknown_orientation_leaves_the_picture_alone():
    im = corners()
    assert apply_orientation(im, 1) is im
    assert apply_orientation(im, 42) is im


# --- to_resizable --------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["L", "LA", "RGB", "RGBA", "CMYK"])
def test_modes_the_resampler_takes_are_left_alone(mode):
    im = Image.new(mode, (2, 2))
    assert to_resizable(im) is im


@pytest.mark.parametrize("mode", ["L", "RGB"])
def test_a_colour_key_becomes_real_transparency(mode):
    im = Image.new(mode, (2, 1), 0)
    im.putpixel((1, 0), 200 if mode == "L" else (200, 200, 200))
    im.info["transparency"] = 0 if mode == "L" else (0, 0, 0)
    out = to_resizable(im)
    assert out.mode == mode + "A"
    assert list(out.getchannel("A").get_flattened_data()) == [0, 255]


def test_a_palette_image_becomes_rgb_and_keeps_its_colours():
    im = Image.new("P", (2, 1))
    im.putpalette([0, 0, 0, 250, 10, 20] + [0] * 762)
    im.putpixel((1, 0), 1)
    out = to_resizable(im)
    assert out.mode == "RGB"
    assert out.getpixel((1, 0)) == (250, 10, 20)


def test_a_palette_image_with_a_transparent_entry_becomes_rgba():
    im = Image.new("P", (2, 1))
    im.putpalette([0, 0, 0, 250, 10, 20] + [0] * 762)
    im.putpixel((1, 0), 1)
    im.info["transparency"] = 0
    out = to_resizable(im)
    assert out.mode == "RGBA"
    assert out.getpixel((0, 0))[3] == 0
    assert out.getpixel((1, 0)) == (250, 10, 20, 255)


def test_a_palette_image_with_an_alpha_channel_becomes_rgba():
    im = Image.new("PA", (1, 1))
    assert to_resizable(im).mode == "RGBA"


def test_a_bilevel_image_becomes_black_and_white_grey():
    im = Image.new("1", (2, 1), 0)
    im.putpixel((1, 0), 1)
    out = to_resizable(im)
    assert out.mode == "L"
    assert list(out.get_flattened_data()) == [0, 255]


def grey(mode: str, values: list) -> Image.Image:
    im = Image.new(mode, (len(values), 1))
    im.putdata(values)
    return im


def levels(im: Image.Image) -> list[int]:
    out = to_resizable(im)
    assert out.mode == "L"
    return list(out.get_flattened_data())


def test_sixteen_bit_grey_keeps_its_range():
    assert levels(grey("I;16", [0, 256, 32768, 65535])) == [0, 1, 128, 255]


@pytest.mark.parametrize("mode", ["I;16B", "I;16L"])
def test_sixteen_bit_grey_of_either_byte_order_keeps_its_range(mode):
    # Pillow reads no extrema of I;16B: the scan goes through 32-bit integers first.
    assert levels(grey(mode, [0, 256, 32768, 65535])) == [0, 1, 128, 255]


def test_integer_grey_of_256_levels_is_scaled_as_sixteen_bit():
    assert levels(grey("I", [0, 128, 256])) == [0, 0, 1]


def test_integer_grey_just_past_sixteen_bits_is_scaled_to_its_maximum():
    assert levels(grey("I", [0, 65280, 65536])) == [0, 254, 255]


def test_two_level_negative_grey_is_black_and_white():
    assert levels(grey("I", [-1, 0])) == [0, 255]


def test_float_grey_just_over_one_is_taken_as_levels():
    assert levels(grey("F", [0.0, 1.5, 2.0])) == [0, 1, 2]


def test_float_grey_of_256_levels_is_scaled_to_its_maximum():
    assert levels(grey("F", [0.0, 128.0, 256.0])) == [0, 127, 255]


def test_integer_grey_within_eight_bits_keeps_its_values():
    assert levels(grey("I", [0, 7, 128, 255])) == [0, 7, 128, 255]


def test_integer_grey_just_over_eight_bits_is_scaled_as_sixteen_bit():
    assert levels(grey("I", [0, 256, 512])) == [0, 1, 2]


def test_integer_grey_over_sixteen_bits_is_scaled_to_its_maximum():
    assert levels(grey("I", [0, 65536, 131072])) == [0, 127, 255]


def test_integer_grey_at_sixteen_bits_exactly_is_scaled_as_sixteen_bit():
    assert levels(grey("I", [0, 65535])) == [0, 255]


def test_negative_integer_grey_is_stretched_from_its_minimum():
    assert levels(grey("I", [-255, -128, 0])) == [0, 127, 255]


def test_a_flat_negative_integer_image_is_black_not_a_crash():
    assert levels(grey("I", [-5, -5])) == [0, 0]


def test_float_grey_in_zero_to_one_is_scaled_to_eight_bits():
    assert levels(grey("F", [0.0, 0.5, 1.0])) == [0, 127, 255]


def test_float_grey_in_eight_bit_range_keeps_its_values():
    assert levels(grey("F", [0.0, 2.0, 255.0])) == [0, 2, 255]


def test_float_grey_over_eight_bits_is_scaled_to_its_maximum():
    assert levels(grey("F", [0.0, 256.0, 512.0])) == [0, 127, 255]


def test_negative_float_grey_is_stretched_from_its_minimum():
    assert levels(grey("F", [-1.0, 0.0, 1.0])) == [0, 127, 255]


def test_premultiplied_modes_become_straight_alpha():
    assert to_resizable(Image.new("La", (1, 1))).mode == "LA"
    assert to_resizable(Image.new("RGBa", (1, 1))).mode == "RGBA"


@pytest.mark.parametrize("mode", ["YCbCr", "LAB", "HSV", "RGBX"])
def test_other_colour_modes_become_rgb(mode):
    assert to_resizable(Image.new(mode, (1, 1))).mode == "RGB"


def test_a_mode_without_an_rgb_conversion_becomes_rgba():
    class OnlyRgba:
        mode = "XYZ"

        def __init__(self):
            self.info = {}

        def convert(self, mode):
            if mode == "RGB":
                raise ValueError("conversion not supported")
            return mode

    assert to_resizable(OnlyRgba()) == "RGBA"


# --- to_srgb -------------------------------------------------------------------------------------


def test_a_non_srgb_profile_is_honoured():
    red = Image.new("RGB", (1, 1), (255, 0, 0))
    r, g, b = to_srgb(red, swapped_rgb_icc()).getpixel((0, 0))
    assert b > 200 and r < 60, (r, g, b)  # the swapped profile's "red" is blue


def test_a_non_srgb_profile_keeps_the_alpha_channel():
    red = Image.new("RGBA", (2, 1), (255, 0, 0, 255))
    red.putpixel((1, 0), (255, 0, 0, 77))
    out = to_srgb(red, swapped_rgb_icc())
    assert out.mode == "RGBA"
    assert [px[3] for px in out.get_flattened_data()] == [255, 77]
    assert out.getpixel((0, 0))[2] > 200


def srgb_icc() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


@pytest.mark.parametrize("icc", [None, b"", b"not a profile"])
def test_no_or_an_unreadable_profile_means_srgb(icc):
    im = Image.new("RGB", (1, 1), (255, 0, 0))
    assert to_srgb(im, icc).getpixel((0, 0)) == (255, 0, 0)


def test_an_srgb_profile_is_not_converted_again(monkeypatch):
    # A round trip through lcms costs time and can move a level; sRGB goes as it is.
    converted = []
    monkeypatch.setattr(ImageCms, "profileToProfile", lambda *a, **k: converted.append(a))
    im = Image.new("RGB", (1, 1), (255, 0, 0))
    assert to_srgb(im, srgb_icc()).getpixel((0, 0)) == (255, 0, 0)
    assert converted == []


def test_a_profile_without_a_readable_description_is_not_taken_for_srgb(monkeypatch):
    def unreadable(profile):
        raise ImageCms.PyCMSError("no description")

    monkeypatch.setattr(ImageCms, "getProfileDescription", unreadable)
    red = Image.new("RGB", (1, 1), (255, 0, 0))
    assert to_srgb(red, swapped_rgb_icc()).getpixel((0, 0))[2] > 200


def test_a_profile_named_in_capitals_is_srgb(monkeypatch):
    monkeypatch.setattr(ImageCms, "getProfileDescription", lambda p: "SRGB IEC61966-2.1")
    red = Image.new("RGB", (1, 1), (255, 0, 0))
    assert to_srgb(red, swapped_rgb_icc()).getpixel((0, 0)) == (255, 0, 0)


def test_a_profile_with_no_description_is_not_srgb(monkeypatch):
    monkeypatch.setattr(ImageCms, "getProfileDescription", lambda p: None)
    red = Image.new("RGB", (1, 1), (255, 0, 0))
    assert to_srgb(red, swapped_rgb_icc()).getpixel((0, 0))[2] > 200


def test_a_failed_conversion_keeps_the_pixels(monkeypatch):
    def fails(*args, **kwargs):
        raise ImageCms.PyCMSError("cannot build transform")

    monkeypatch.setattr(ImageCms, "profileToProfile", fails)
    red = Image.new("RGBA", (1, 1), (255, 0, 0, 9))
    out = to_srgb(red, swapped_rgb_icc())
    assert out.mode == "RGBA"
    assert out.getpixel((0, 0)) == (255, 0, 0, 9)


def test_a_grey_image_ignores_a_colour_profile():
    im = Image.new("L", (1, 1), 90)
    out = to_srgb(im, swapped_rgb_icc())
    assert out.mode == "L" and out.getpixel((0, 0)) == 90


def test_a_cmyk_image_is_converted_through_its_own_profile():
    no_ink = Image.new("CMYK", (1, 1), (0, 0, 0, 0))
    assert to_srgb(no_ink, None).getpixel((0, 0)) == (255, 255, 255)
    r, g, b = to_srgb(no_ink, green_ink_cmyk_icc()).getpixel((0, 0))
    assert g > r and g > b and g < 128, (r, g, b)  # the profile's green, not white paper


def test_a_cmyk_image_with_an_srgb_profile_is_still_converted(monkeypatch):
    seen = []
    real = ImageCms.profileToProfile

    def record(im, *args, **kwargs):
        seen.append(im.mode)
        return real(Image.new("RGB", im.size, (1, 2, 3)), *args, **kwargs)

    monkeypatch.setattr(ImageCms, "profileToProfile", record)
    out = to_srgb(Image.new("CMYK", (1, 1)), srgb_icc())
    assert seen == ["CMYK"]
    assert out.mode == "RGB"


def test_grey_with_alpha_becomes_rgba_and_others_rgb():
    la = Image.new("LA", (1, 1), (90, 40))
    assert to_srgb(la, None).getpixel((0, 0)) == (90, 90, 90, 40)
    assert to_srgb(Image.new("CMYK", (1, 1), (0, 0, 0, 0)), None).getpixel((0, 0)) == (
        255,
        255,
        255,
    )
    assert to_srgb(Image.new("RGBA", (1, 1)), None).mode == "RGBA"
    assert to_srgb(Image.new("L", (1, 1)), None).mode == "L"


# --- alpha and metadata --------------------------------------------------------------------------


def test_fully_opaque_alpha_is_dropped():
    assert drop_opaque_alpha(Image.new("RGBA", (2, 2), (1, 2, 3, 255))).mode == "RGB"


def test_alpha_used_by_one_pixel_stays():
    im = Image.new("RGBA", (2, 2), (1, 2, 3, 255))
    im.putpixel((1, 1), (1, 2, 3, 254))
    assert drop_opaque_alpha(im).mode == "RGBA"


def test_only_rgba_loses_its_alpha():
    la = Image.new("LA", (1, 1), (5, 255))
    assert drop_opaque_alpha(la) is la


def test_metadata_is_forgotten():
    from tests.unit.image_corpus import exif_rotated_jpeg

    im = Image.open(io.BytesIO(exif_rotated_jpeg()))
    im.load()
    assert im.info and im.getexif()
    out = strip_metadata(im)
    assert out.info == {}
    assert dict(out.getexif()) == {}
    buf = io.BytesIO()
    out.save(buf, "JPEG")
    assert b"Exif" not in buf.getvalue()[:200]


def test_an_image_that_never_read_exif_is_stripped_too():
    im = Image.new("RGB", (1, 1))
    im.info["comment"] = b"hello"
    assert strip_metadata(im).info == {}
    assert normalize._has_palette_alpha(Image.new("PA", (1, 1)))


def test_only_a_readable_non_srgb_profile_on_colour_pixels_is_converted(monkeypatch):
    # Each lcms transform costs a pass over the pixels; the pipeline runs this on every image.
    real = ImageCms.profileToProfile
    converted = []

    def recording(im, *args, **kwargs):
        converted.append(im.mode)
        return real(im, *args, **kwargs)

    monkeypatch.setattr(ImageCms, "profileToProfile", recording)
    rgb = Image.new("RGB", (1, 1), (255, 0, 0))
    for im, icc in [
        (rgb, None),
        (rgb, b"not a profile"),
        (rgb, srgb_icc()),
        (Image.new("L", (1, 1)), swapped_rgb_icc()),
        (Image.new("LA", (1, 1)), swapped_rgb_icc()),
    ]:
        to_srgb(im, icc)
    assert converted == []
    to_srgb(rgb, swapped_rgb_icc())
    assert converted == ["RGB"]
