"""Size, format and byte budget (desktop/core/images/fit.py): what reaches the provider.

Each test states what the user's image becomes: its format, its pixels, its size in bytes.
Written against the survivors of a mutmut run on fit.py (tests/mutation.py).
"""

from __future__ import annotations

import io
import random

import pytest
from PIL import Image, ImageChops, ImageStat

from desktop.core.images import fit
from desktop.core.images.errors import ImageRejected
from desktop.core.images.limits import ImageLimits

ALL = frozenset({"image/png", "image/jpeg", "image/webp", "image/gif"})


def decoded(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


def screenshot(w: int = 600, h: int = 400) -> Image.Image:
    """Flat UI colours only (three), so its palette version is exact; image_corpus.screenshot
    has anti-aliased text, which a 256-colour palette only approximates."""
    im = Image.new("RGB", (w, h), (245, 245, 245))
    for y in range(20, h - 20, 24):
        im.paste((30, 30, 30), (20, y, w - 40, y + 6))
        im.paste((0, 102, 204), (20, y + 8, w // 2, y + 10))
    return im


def noise(w: int, h: int, seed: int = 7, mode: str = "RGB") -> Image.Image:
    """Incompressible: no format fits it losslessly under its own size (image_corpus.photo's
    noise repeats a 64 KB block, which PNG compresses)."""
    rng = random.Random(seed)
    return Image.frombytes(mode, (w, h), rng.randbytes(w * h * len(mode)))


def gradient(w: int = 512, h: int = 512) -> Image.Image:
    """Smooth photo-like colour: too many shades for a 256-colour palette."""
    im = Image.new("RGB", (w, h))
    im.putdata(
        [(x * 255 // w, y * 255 // h, (x + y) * 255 // (w + h)) for y in range(h) for x in range(w)]
    )
    return im


# --- target size ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "fitted"),
    [
        ((1, 4000), (1, 1568)),
        ((4000, 1), (1568, 1)),
        ((3, 4000), (1, 1568)),
        ((4000, 3), (1568, 1)),
    ],
)
def test_a_thin_strip_keeps_at_least_one_pixel_and_never_gains_one(source, fitted) -> None:
    assert fit.target_size(*source, ImageLimits()) == fitted


def test_a_size_exactly_at_the_pixel_cap_is_kept() -> None:
    assert fit.target_size(2000, 1000, ImageLimits(max_pixels=500_000)) == (1000, 500)


def test_rounding_over_the_pixel_cap_steps_down_one_pixel_at_a_time() -> None:
    # √(996949 / (4808·3108)) gives 1242×803 = 997,326 pixels, 377 over the cap: one pixel
    # less on the long side is enough.
    w, h = fit.target_size(4808, 3108, ImageLimits(max_pixels=996_949))
    assert (w, h) == (1241, 802)
    assert w * h <= 996_949
    # Two steps when one is not enough (1113×456, then 1112×456, are still over).
    assert fit.target_size(5929, 2429, ImageLimits(max_pixels=507_050)) == (1111, 455)


def test_a_thin_strip_over_the_pixel_cap_stays_one_pixel_thin() -> None:
    assert fit.target_size(4000, 1, ImageLimits(max_pixels=100)) == (100, 1)
    assert fit.target_size(1, 4000, ImageLimits(max_pixels=100)) == (1, 100)


@pytest.mark.parametrize("half", [{"patch_edge": 32}, {"max_patches": 1536}])
def test_half_a_patch_rule_leaves_the_size_to_the_other_limits(half: dict[str, int]) -> None:
    # A patch cap needs both its patch size and its count; capabilities always sets the pair.
    assert fit.target_size(3000, 2000, ImageLimits(**half)) == (1568, 1045)


# --- screenshot or photo -------------------------------------------------------------------


@pytest.mark.parametrize("source", sorted(fit.PHOTO_SOURCES))
def test_camera_formats_are_photos_even_when_flat(source: str) -> None:
    assert fit.looks_like_graphic(screenshot(), source) is False


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L", "P"])
def test_a_flat_screenshot_is_a_graphic_in_any_mode(mode: str) -> None:
    assert fit.looks_like_graphic(screenshot(2400, 1600).convert(mode), "image/png") is True


@pytest.mark.parametrize("size", [(4000, 3000), (300, 200), (12, 12), (3000, 40)])
def test_noise_is_a_photo_at_any_size(size: tuple[int, int]) -> None:
    # 12×12 noise: 144 colours > the 64-colour floor; big noise: > a quarter of the sample.
    assert fit.looks_like_graphic(noise(*size), "image/png") is False


def test_a_tiny_icon_with_few_colours_is_a_graphic() -> None:
    im = Image.new("RGB", (8, 8), (255, 0, 0))
    im.paste((0, 0, 255), (0, 0, 4, 4))
    assert fit.looks_like_graphic(im, "image/webp") is True


def with_colours(size: tuple[int, int], n: int) -> Image.Image:
    """Exactly `n` distinct colours, repeated over the image."""
    im = Image.new("RGB", size)
    im.putdata([(k % n % 256, k % n // 256, 7) for k in range(size[0] * size[1])])
    return im


@pytest.mark.parametrize(
    ("size", "limit"),
    [((12, 12), 64), ((100, 100), 2500), ((192, 192), 4096)],
)
def test_up_to_a_quarter_of_the_sample_in_distinct_colours_is_a_graphic(
    size: tuple[int, int], limit: int
) -> None:
    # The limit is a quarter of the sample's pixels, at least 64 and at most 4096.
    assert fit.looks_like_graphic(with_colours(size, limit), "image/png") is True
    assert fit.looks_like_graphic(with_colours(size, limit + 1), "image/png") is False


@pytest.mark.parametrize(
    ("photo", "at"), [((100, 100), (1200, 800)), ((2400, 20), (0, 800)), ((40, 1600), (1200, 0))]
)
def test_a_screenshot_with_a_small_photo_in_it_is_still_a_graphic(photo, at) -> None:
    # An avatar, a banner, a sidebar strip: a few thousand colours in the screenshot, a few
    # hundred in its 192×128 sample, so its text stays lossless.
    im = screenshot(2400, 1600)
    im.paste(noise(*photo), at)
    assert fit.looks_like_graphic(im, "image/png") is True


@pytest.mark.parametrize("size", [(1, 192), (192, 1)])
def test_a_one_pixel_strip_is_judged_on_its_own_pixels(size: tuple[int, int]) -> None:
    # 192 pixels, 80 colours: more than a quarter distinct (the floor is 64), so a photo.
    im = Image.new("RGB", size)
    im.putdata([(i % 80, 0, 0) for i in range(192)])
    assert fit.looks_like_graphic(im, "image/png") is False


def test_a_logo_with_soft_transparent_edges_is_a_graphic() -> None:
    # 32 flat colours under an alpha ramp: ~6,000 colour-and-alpha pairs, but 32 colours.
    im = Image.new("RGBA", (192, 192))
    im.putdata([((x // 6) * 8, 40, 90, (x + y) % 256) for y in range(192) for x in range(192)])
    assert fit.looks_like_graphic(im, "image/png") is True


# --- format ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("has_alpha", "graphic", "formats", "expected"),
    [
        (False, False, ALL, "image/jpeg"),
        (True, False, ALL, "image/png"),
        (False, True, ALL, "image/png"),
        (False, False, frozenset({"image/webp", "image/png", "image/gif"}), "image/webp"),
        (False, False, frozenset({"image/png", "image/gif"}), "image/png"),
        (False, False, frozenset({"image/gif"}), "image/gif"),
        (True, True, frozenset({"image/webp", "image/jpeg", "image/gif"}), "image/webp"),
        (True, False, frozenset({"image/jpeg", "image/gif"}), "image/jpeg"),
        (False, True, frozenset({"image/gif"}), "image/gif"),
    ],
)
def test_format_order(
    has_alpha: bool, graphic: bool, formats: frozenset[str], expected: str
) -> None:
    assert fit.choose_format(has_alpha, graphic, formats) == expected


def test_no_writable_format_is_refused_in_words() -> None:
    with pytest.raises(ImageRejected) as caught:
        fit.choose_format(False, False, frozenset({"image/bmp", "image/tiff"}))
    assert str(caught.value) == (
        "This agent's model accepts no image format this app can write (image/bmp, image/tiff)."
    )
    with pytest.raises(ImageRejected) as caught:
        fit.choose_format(True, True, frozenset())
    assert str(caught.value) == (
        "This agent's model accepts no image format this app can write (none)."
    )


@pytest.mark.parametrize(
    ("has_alpha", "formats", "expected"),
    [
        (True, ALL, "image/webp"),
        (False, ALL, "image/jpeg"),
        (True, frozenset({"image/jpeg", "image/png"}), "image/jpeg"),
        (False, frozenset({"image/webp", "image/png"}), "image/webp"),
        (False, frozenset({"image/png", "image/gif"}), None),
    ],
)
def test_lossy_fallback_order(
    has_alpha: bool, formats: frozenset[str], expected: str | None
) -> None:
    assert fit._lossy_fallback(has_alpha, formats) == expected


# --- encoding -------------------------------------------------------------------------------


def half_transparent() -> Image.Image:
    im = Image.new("RGBA", (64, 64), (255, 0, 0, 255))
    im.paste((0, 0, 0, 0), (0, 0, 32, 64))
    return im


def test_png_is_lossless_and_keeps_alpha() -> None:
    im = half_transparent()
    out = decoded(fit.encode(im, "image/png"))
    assert out.format == "PNG" and out.mode == "RGBA"
    assert out.tobytes() == im.tobytes()


def test_a_transparent_photo_goes_as_png_keeping_its_alpha() -> None:
    # Photo-like pixels would go as JPEG, which has no alpha: the transparency decides.
    im = noise(120, 80, mode="RGBA")
    data, media_type, _ = fit.encode_to_fit(im, False, limits(10_000_000))
    assert media_type == "image/png" and decoded(data).tobytes() == im.tobytes()


def test_jpeg_puts_transparent_pixels_on_white() -> None:
    out = decoded(fit.encode(half_transparent(), "image/jpeg"))
    assert out.format == "JPEG" and out.mode == "RGB"
    r, g, b = out.getpixel((8, 32))
    assert min(r, g, b) > 245  # white, not black
    r, g, b = out.getpixel((56, 32))
    assert r > 230 and g < 30 and b < 30


def test_jpeg_quality_changes_the_size_and_uses_420_subsampling() -> None:
    photo = noise(256, 256)
    high = fit.encode(photo, "image/jpeg", quality=85)
    low = fit.encode(photo, "image/jpeg", quality=45)
    assert len(low) < len(high) * 0.8
    default = fit.encode(photo, "image/jpeg")
    assert default == high
    from PIL import JpegImagePlugin

    assert JpegImagePlugin.get_sampling(decoded(high)) == 2  # 4:2:0


def test_webp_lossless_is_exact_and_lossy_is_not() -> None:
    im = screenshot(200, 120)
    exact = decoded(fit.encode(im, "image/webp", lossless=True))
    assert exact.format == "WEBP" and exact.convert("RGB").tobytes() == im.tobytes()
    photo = noise(128, 128)
    lossy = decoded(fit.encode(photo, "image/webp", quality=45))
    assert lossy.format == "WEBP" and lossy.convert("RGB").tobytes() != photo.tobytes()
    assert len(fit.encode(photo, "image/webp", quality=45)) < len(
        fit.encode(photo, "image/webp", quality=85)
    )


def test_gif_flattens_alpha_on_white() -> None:
    out = decoded(fit.encode(half_transparent(), "image/gif"))
    assert out.format == "GIF"
    rgb = out.convert("RGB")
    assert rgb.getpixel((8, 32)) == (255, 255, 255)
    assert rgb.getpixel((56, 32)) == (255, 0, 0)


# --- shrinking ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoded", "budget", "lossless", "expected"),
    [
        (4_000_000, 1_000_000, True, (500, 250)),  # √¼·0.95 = 0.475 → floor 0.5
        (1_100_000, 1_000_000, True, (900, 450)),  # √0.91·0.95 = 0.906 → cap 0.9
        (2_000_000, 1_000_000, True, (672, 336)),  # √½·0.95 = 0.672
        (2_000_000, 1_000_000, False, (636, 318)),  # √½·0.9 = 0.636
    ],
)
def test_shrink_steps(encoded: int, budget: int, lossless: bool, expected: tuple[int, int]) -> None:
    out = fit._shrink(Image.new("RGB", (1000, 500)), encoded, budget, lossless)
    assert out.size == expected


def test_shrink_keeps_one_pixel_of_a_thin_strip_and_stops_at_the_smallest_edge() -> None:
    assert fit._shrink(Image.new("RGB", (64, 1)), 4, 1, True).size == (32, 1)
    with pytest.raises(ImageRejected) as caught:
        fit._shrink(Image.new("RGB", (62, 10)), 4, 1, True)
    assert str(caught.value) == "The image can't be made small enough to send."


def test_a_shrink_step_resamples_as_sharply_as_the_first_fit() -> None:
    # LANCZOS, as fit.RESAMPLE: Pillow's default (BICUBIC) softens the text being shrunk.
    im = screenshot(600, 400)
    out = fit._shrink(im, 2_000_000, 1_000_000, lossless=True)
    assert out.tobytes() == im.resize(out.size, Image.Resampling.LANCZOS).tobytes()


# --- palette --------------------------------------------------------------------------------


def test_a_screenshot_gets_an_exact_palette_version() -> None:
    im = screenshot(1600, 1000)
    pal = fit.palette_version(im)
    assert pal is not None and pal.mode == "P" and pal.size == im.size
    assert pal.convert("RGB").tobytes() == im.tobytes()


@pytest.mark.parametrize("im", [gradient(), noise(300, 200)], ids=["gradient", "noise"])
def test_photo_content_gets_no_palette_version(im: Image.Image) -> None:
    assert fit.palette_version(im) is None


def test_a_screenshot_with_a_small_gradient_still_gets_a_palette_version() -> None:
    # 6,400 shades in a corner: the palette's mean error over the page is about half a level.
    im = screenshot(400, 300)
    im.paste(gradient(80, 80), (10, 10))
    pal = fit.palette_version(im)
    assert pal is not None
    error = sum(ImageStat.Stat(ImageChops.difference(im, pal.convert("RGB"))).mean) / 3
    assert 0.2 < error <= fit.PALETTE_MAX_ERROR


def test_a_palette_error_at_the_limit_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    im = screenshot(400, 300)
    im.paste(gradient(80, 80), (10, 10))
    pal = fit.palette_version(im)
    assert pal is not None
    error = sum(ImageStat.Stat(ImageChops.difference(im, pal.convert("RGB"))).mean) / 3
    monkeypatch.setattr(fit, "PALETTE_MAX_ERROR", error)
    assert fit.palette_version(im) is not None
    monkeypatch.setattr(fit, "PALETTE_MAX_ERROR", error * 0.999)
    assert fit.palette_version(im) is None


@pytest.mark.parametrize("mode", ["RGBA", "L"])
def test_only_rgb_gets_a_palette_version(mode: str) -> None:
    assert fit.palette_version(screenshot().convert(mode)) is None


# --- the whole budget -----------------------------------------------------------------------


def limits(max_bytes: int, formats: frozenset[str] = ALL) -> ImageLimits:
    return ImageLimits(max_bytes=max_bytes, formats=formats)


def test_a_screenshot_within_budget_goes_as_a_palette_png_at_full_size() -> None:
    im = screenshot(1200, 800)
    data, media_type, sent = fit.encode_to_fit(im, True, limits(3_750_000))
    out = decoded(data)
    assert (media_type, out.format, out.mode, out.size) == ("image/png", "PNG", "P", (1200, 800))
    assert out.convert("RGB").tobytes() == im.tobytes()
    assert sent.size == (1200, 800)


def test_a_gradient_graphic_goes_as_true_colour_png() -> None:
    data, media_type, sent = fit.encode_to_fit(gradient(256, 256), True, limits(3_750_000))
    out = decoded(data)
    assert (media_type, out.mode, sent.size) == ("image/png", "RGB", (256, 256))


def test_an_encoding_exactly_at_the_budget_is_sent_as_it_is() -> None:
    shot = screenshot(300, 200)
    palette_png = fit.encode(fit.palette_version(shot), "image/png")
    assert fit.encode_to_fit(shot, True, limits(len(palette_png)))[:2] == (palette_png, "image/png")
    grad = gradient(256, 256)
    png = fit.encode(grad, "image/png")
    assert fit.encode_to_fit(grad, True, limits(len(png)))[:2] == (png, "image/png")


def test_a_photo_goes_as_jpeg_at_quality_85() -> None:
    photo = noise(300, 200)
    data, media_type, sent = fit.encode_to_fit(photo, False, limits(3_750_000))
    assert media_type == "image/jpeg" and data == fit.encode(photo, "image/jpeg", quality=85)
    assert sent is photo


def test_a_too_big_graphic_falls_back_to_lossy_at_full_size() -> None:
    im = noise(400, 300)  # "graphic" by the caller, but incompressible
    png = fit.encode(im, "image/png")
    data, media_type, sent = fit.encode_to_fit(im, True, limits(len(png) - 1))
    assert media_type == "image/jpeg" and len(data) < len(png) and sent.size == (400, 300)
    assert decoded(data).size == (400, 300)


def test_a_webp_only_target_gets_screenshots_exact_and_photos_lossy() -> None:
    webp_only = limits(10_000_000, frozenset({"image/webp"}))
    shot = screenshot(300, 200)
    data, media_type, _ = fit.encode_to_fit(shot, True, webp_only)
    assert media_type == "image/webp" and decoded(data).convert("RGB").tobytes() == shot.tobytes()
    photo = noise(256, 256)
    data, media_type, _ = fit.encode_to_fit(photo, False, webp_only)
    assert media_type == "image/webp"
    assert len(data) < len(fit.encode(photo, "image/webp", lossless=True)) // 2


def test_a_too_big_transparent_image_falls_back_to_webp_keeping_alpha() -> None:
    im = noise(300, 200, mode="RGBA")
    png = fit.encode(im, "image/png")
    data, media_type, _ = fit.encode_to_fit(im, True, limits(len(png) // 2))
    assert media_type == "image/webp" and decoded(data).mode == "RGBA"
    assert len(data) <= len(png) // 2


def test_png_only_shrinks_until_it_fits() -> None:
    im = noise(400, 300)
    budget = len(fit.encode(im, "image/png")) // 3
    data, media_type, sent = fit.encode_to_fit(im, True, limits(budget, frozenset({"image/png"})))
    out = decoded(data)
    assert media_type == "image/png" and len(data) <= budget
    assert out.size == sent.size and sent.size[0] < 400
    assert abs(sent.size[0] / sent.size[1] - 4 / 3) < 0.02
    # One step, as large as the budget allows: each side × 0.95·√(1/3).
    assert sent.size == (219, 165)


def test_gif_only_shrinks_until_it_fits() -> None:
    im = noise(300, 300)
    gif = fit.encode(im, "image/gif")
    data, media_type, sent = fit.encode_to_fit(
        im, False, limits(len(gif) // 2, frozenset({"image/gif"}))
    )
    assert media_type == "image/gif" and len(data) <= len(gif) // 2
    assert decoded(data).size == sent.size == (202, 202)  # one step: × 0.95·√(1/2)


@pytest.mark.parametrize("media_type", ["image/png", "image/gif"])
def test_a_shrink_step_exactly_at_the_budget_is_sent(media_type: str) -> None:
    # The first lossless step of a noise image is at most half each side; its encoding is
    # the budget to the byte.
    im = noise(400, 300)
    half = im.resize((200, 150), fit.RESAMPLE)
    budget = len(fit.encode(half, media_type))
    data, sent_type, sent = fit.encode_to_fit(im, True, limits(budget, frozenset({media_type})))
    assert (sent_type, sent.size, len(data)) == (media_type, (200, 150), budget)


def test_a_jpeg_steps_quality_down_before_shrinking() -> None:
    photo = noise(300, 200)
    q65 = fit.encode(photo, "image/jpeg", quality=65)
    data, media_type, sent = fit.encode_to_fit(photo, False, limits(len(q65)))
    assert media_type == "image/jpeg"
    assert data == q65 and sent.size == (300, 200)


def test_a_jpeg_shrinks_at_quality_75_when_the_lowest_quality_is_too_big() -> None:
    photo = noise(300, 200)
    q45 = fit.encode(photo, "image/jpeg", quality=45)
    data, media_type, sent = fit.encode_to_fit(photo, False, limits(len(q45) // 2))
    assert media_type == "image/jpeg"
    assert len(data) <= len(q45) // 2 and sent.size == (191, 127)  # one step: × 0.9·√(1/2)
    assert data == fit.encode(sent, "image/jpeg", quality=75)


def test_a_jpeg_shrink_step_exactly_at_the_budget_is_sent() -> None:
    photo = noise(300, 200)
    q45 = len(fit.encode(photo, "image/jpeg", quality=45))
    budget = q45 // 2
    for _ in range(20):  # a budget the first step's quality-75 JPEG meets to the byte
        step = fit._shrink(photo, q45, budget, lossless=False)
        size = len(fit.encode(step, "image/jpeg", quality=75))
        if size == budget:
            break
        budget = size
    data, media_type, sent = fit.encode_to_fit(photo, False, limits(budget))
    assert (media_type, sent.size, len(data)) == ("image/jpeg", step.size, budget)


def test_an_image_that_cannot_fit_is_refused() -> None:
    with pytest.raises(ImageRejected):
        fit.encode_to_fit(noise(100, 100), False, limits(50, frozenset({"image/jpeg"})))


def test_shrink_keeps_one_pixel_of_a_thin_column() -> None:
    assert fit._shrink(Image.new("RGB", (1, 64)), 4, 1, True).size == (1, 32)


@pytest.mark.parametrize(
    ("size", "expected"),
    [((60, 60), (60, 60)), ((1530, 1020), (1530, 1020))],
)
def test_patch_models_keep_an_image_covered_by_exactly_the_allowed_patches(
    size: tuple[int, int], expected: tuple[int, int]
) -> None:
    from desktop.core.images.limits import patch_fit

    # 60×60 needs 4 patches of 32 px, 1530×1020 needs 48×32 = 1536: kept, never scaled up.
    cap = 4 if size[0] < 100 else 1536
    assert patch_fit(*size, 32, cap) == expected
