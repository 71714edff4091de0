"""The image pipeline against the generated corpus: prepared or clearly rejected, never a crash."""

from __future__ import annotations

import base64
import io
import tracemalloc

import pytest
from PIL import Image, ImageChops, ImageStat

from desktop.core.images import (
    ImageLimits,
    ImageRejected,
    PreparedImage,
    prepare_file,
    prepare_image,
)
from desktop.core.images.prepared import format_size
from tests.unit.image_corpus import build_corpus, exif_rotated_jpeg, photo, screenshot

DEFAULT = ImageLimits()
PIXEL_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG", "image/webp": "WEBP", "image/gif": "GIF"}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return build_corpus(tmp_path_factory.mktemp("corpus"))


def _corpus_names():
    # Names are fixed by build_corpus; listing them here keeps test ids readable.
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        return [*sorted(build_corpus(Path(tmp), include_big=False)), "screenshot_5k.png"]


CORPUS_NAMES = _corpus_names()


def _reopen(prepared: PreparedImage) -> Image.Image:
    im = Image.open(io.BytesIO(prepared.data))
    im.load()
    return im


def _assert_within(prepared: PreparedImage, limits: ImageLimits) -> Image.Image:
    im = _reopen(prepared)
    assert prepared.media_type in limits.formats
    assert im.format == PIXEL_FORMATS[prepared.media_type]
    assert im.size == (prepared.width, prepared.height)
    assert max(im.size) <= limits.max_long_edge
    if limits.max_pixels:
        assert im.width * im.height <= limits.max_pixels
    assert len(prepared.data) <= limits.max_bytes
    assert im.mode in ("L", "RGB", "RGBA", "P")
    return im


@pytest.mark.parametrize("name", CORPUS_NAMES)
def test_every_corpus_item_is_prepared_or_clearly_rejected(corpus, name):
    item = corpus[name]
    if item.reason is None:
        prepared = prepare_file(item.path)
        _assert_within(prepared, DEFAULT)
        assert prepared.original_size == item.path.stat().st_size
    else:
        with pytest.raises(ImageRejected) as caught:
            prepare_file(item.path)
        assert caught.value.reason == item.reason
        message = str(caught.value)
        assert message.startswith(f"{item.path.name}: ")
        assert message.endswith(".")
        assert "Traceback" not in message and "Error" not in message


@pytest.mark.parametrize(
    "limits",
    [
        ImageLimits(max_long_edge=512),
        ImageLimits(max_long_edge=2000, max_pixels=400_000),
        ImageLimits(max_bytes=60_000),
        ImageLimits(formats=frozenset({"image/jpeg"})),
        ImageLimits(formats=frozenset({"image/webp"}), max_bytes=80_000),
        ImageLimits(formats=frozenset({"image/png"}), max_bytes=150_000),
        ImageLimits(formats=frozenset({"image/gif"}), max_long_edge=300),
    ],
    ids=["edge512", "pixels", "bytes60k", "jpeg-only", "webp-only", "png-only", "gif-only"],
)
def test_outputs_respect_other_limits(corpus, limits):
    for item in corpus.values():
        if item.reason is None:
            _assert_within(prepare_file(item.path, limits), limits)


def test_screenshot_stays_png_with_crisp_text(corpus):
    path = corpus["screenshot_5k.png"].path
    prepared = prepare_file(path)
    assert prepared.media_type == "image/png"
    assert (prepared.width, prepared.height) == (1568, 882)
    assert (prepared.original_width, prepared.original_height) == (5120, 2880)
    out = _reopen(prepared).convert("RGB")
    reference = Image.open(path).convert("RGB").resize((1568, 882), Image.Resampling.LANCZOS)
    diff = ImageChops.difference(out, reference)
    assert max(ImageStat.Stat(diff).mean) < 1.0  # within a grey level of a full LANCZOS pass
    # Text keeps its contrast: stroke pixels are as dark as in the reference (no extra blur),
    # and the background stays exactly flat (lossless: no JPEG ringing around letters).
    box = (600, 100, 1500, 800)
    ours, ref = out.crop(box).convert("L"), reference.crop(box).convert("L")
    assert ours.getextrema()[0] <= ref.getextrema()[0] + 8
    assert ours.histogram()[246] >= 0.9 * ref.histogram()[246]
    assert prepared.size < path.stat().st_size  # and it is not bigger than what we started with


def test_screenshot_becomes_jpeg_when_only_jpeg_is_allowed(corpus):
    prepared = prepare_file(
        corpus["screenshot_5k.png"].path, ImageLimits(formats=frozenset({"image/jpeg"}))
    )
    assert prepared.media_type == "image/jpeg"
    assert _reopen(prepared).format == "JPEG"


def test_photos_become_jpeg(corpus):
    for name in ("photo.jpg", "photo_big.png", "photo.bmp", "photo.tiff", "cmyk.jpg"):
        prepared = prepare_file(corpus[name].path)
        assert prepared.media_type == "image/jpeg", name
        assert _reopen(prepared).mode == "RGB", name


def test_transparency_is_kept(corpus):
    for name in ("logo_alpha.png", "logo_alpha.webp", "palette_alpha.png"):
        prepared = prepare_file(corpus[name].path)
        im = _reopen(prepared)
        assert prepared.media_type == "image/png", name
        assert im.mode == "RGBA", name
        assert im.getpixel((0, 0))[3] == 0, name


def test_transparency_kept_as_webp_when_png_is_not_allowed(corpus):
    limits = ImageLimits(formats=frozenset({"image/webp", "image/jpeg"}))
    prepared = prepare_file(corpus["logo_alpha.png"].path, limits)
    assert prepared.media_type == "image/webp"
    assert _reopen(prepared).mode == "RGBA"


def test_opaque_alpha_is_dropped(corpus):
    prepared = prepare_file(corpus["ui_rgba_opaque.png"].path)
    im = _reopen(prepared)  # a UI graphic may come out as a 256-colour palette PNG
    assert im.mode in ("RGB", "P") and "transparency" not in im.info


def test_exif_orientation_is_applied():
    prepared = prepare_image(exif_rotated_jpeg())
    assert (prepared.width, prepared.height) == (100, 200)
    assert (prepared.original_width, prepared.original_height) == (100, 200)
    im = _reopen(prepared).convert("RGB")
    # Stored top-left red block; orientation 6 turns it to the top-right corner.
    red = (255, 0, 0)
    assert _close(im.getpixel((95, 5)), red)
    assert _close(im.getpixel((5, 5)), (255, 255, 255))
    assert _close(im.getpixel((95, 195)), (255, 255, 255))


def _close(a, b, tol=40):
    return all(abs(x - y) <= tol for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize(
    "name", ["exif_rotated.jpg", "text_chunks.png", "huge_iccp.png", "swapped_icc.png"]
)
def test_no_metadata_survives(corpus, name):
    prepared = prepare_file(corpus[name].path)
    im = _reopen(prepared)
    assert not im.getexif()
    assert not im.info.get("exif")
    assert not im.info.get("icc_profile")
    assert not im.info.get("xmp")
    assert not im.info.get("comment")
    assert not getattr(im, "text", {})
    for secret in (b"secret", b"Secret", b"TestCam", b"xmpmeta", b"Exif"):
        assert secret not in prepared.data, secret


def test_metadata_stripped_from_png_output_too():
    im = Image.new("RGB", (40, 40), "white")
    im.info["comment"] = b"secret"
    exif = Image.Exif()
    exif[0x010F] = "TestCam"
    buf = io.BytesIO()
    im.save(buf, "PNG", exif=exif.tobytes(), pnginfo=_text("Author", "secret"))
    prepared = prepare_image(buf.getvalue())
    assert prepared.media_type == "image/png"
    assert b"secret" not in prepared.data and b"TestCam" not in prepared.data
    for chunk in (b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"iCCP"):
        assert chunk not in prepared.data


def _text(key, value):
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text(key, value)
    return info


def test_non_srgb_profile_is_converted_then_dropped(corpus):
    # The file stores pure red under a profile whose "red" primary is sRGB blue.
    prepared = prepare_file(corpus["swapped_icc.png"].path)
    r, g, b = _reopen(prepared).convert("RGB").getpixel((10, 10))
    assert b > 200 and r < 60, (r, g, b)


def test_normalised_modes(corpus):
    gray = _reopen(prepare_file(corpus["gray16.png"].path))
    assert gray.mode == "L"
    # The 16-bit ramp maps to the full 8-bit ramp (not clipped to white).
    assert gray.getpixel((0, 0)) < 10 and gray.getpixel((255, 0)) > 245
    assert gray.getpixel((128, 0)) in range(110, 146)
    first = _reopen(prepare_file(corpus["animated.gif"].path)).convert("RGB")
    assert _close(first.getpixel((5, 5)), (255, 0, 0))  # first frame
    assert _reopen(prepare_file(corpus["gray_alpha.png"].path)).mode == "RGBA"


def test_heic_is_decoded(corpus):
    if "photo.heic" not in corpus:
        pytest.skip("pillow-heif cannot encode HEIC here")
    prepared = prepare_file(corpus["photo.heic"].path)
    assert prepared.original_media_type == "image/heic"
    assert (prepared.width, prepared.height) == (320, 240)


def test_wrong_extension_uses_the_real_format(corpus):
    prepared = prepare_file(corpus["png_named.jpg"].path)
    assert prepared.original_media_type == "image/png"
    with pytest.raises(ImageRejected, match=r"not an image \(it looks like a PDF\)"):
        prepare_file(corpus["pdf_named.png"].path)


def test_user_messages():
    cases = {
        b"": "The file is empty.",
        b"%PDF-1.4\n": "This file is not an image (it looks like a PDF).",
    }
    for data, message in cases.items():
        with pytest.raises(ImageRejected) as caught:
            prepare_image(data)
        assert str(caught.value) == message
    with pytest.raises(ImageRejected) as caught:
        prepare_image(b"\x89PNG\r\n\x1a\n" + b"\x00" * 20)
    assert str(caught.value) == "The image is damaged or incomplete."


def test_bomb_is_refused_from_the_header_with_little_memory(corpus):
    data = corpus["bomb_40000.png"].path.read_bytes()
    tracemalloc.start()
    try:
        with pytest.raises(ImageRejected) as caught:
            prepare_image(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert str(caught.value) == "The image is too large to open safely (40000×40000 pixels)."
    assert peak < 2_000_000


def test_sparse_file_is_refused_from_stat_alone(corpus):
    path = corpus["sparse_2gb.png"].path
    tracemalloc.start()
    try:
        with pytest.raises(ImageRejected) as caught:
            prepare_file(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert caught.value.reason == "file_too_large"
    assert "sparse_2gb.png" in str(caught.value)
    assert peak < 1_000_000


def test_max_file_size_is_configurable(corpus):
    with pytest.raises(ImageRejected) as caught:
        prepare_file(corpus["photo.jpg"].path, ImageLimits(max_file_bytes=10_000))
    assert caught.value.reason == "file_too_large"
    with pytest.raises(ImageRejected):
        prepare_image(b"\xff\xd8\xff" + b"\x00" * 20_000, ImageLimits(max_file_bytes=10_000))


def test_unreadable_file_is_named(tmp_path):
    import os

    path = tmp_path / "locked.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n")
    path.chmod(0)
    try:
        if os.access(path, os.R_OK):
            pytest.skip("running as root: permissions are not enforced")
        with pytest.raises(ImageRejected) as caught:
            prepare_file(path)
        assert caught.value.reason == "permission_denied"
        assert str(caught.value).startswith("locked.png: ")
    finally:
        path.chmod(0o600)


def test_byte_budget_steps_quality_then_size():
    big = photo((3000, 2000))
    buf = io.BytesIO()
    big.save(buf, "PNG")
    limits = ImageLimits(max_bytes=40_000)
    prepared = prepare_image(buf.getvalue(), limits)
    assert prepared.media_type == "image/jpeg"
    assert prepared.size <= 40_000
    assert max(prepared.width, prepared.height) <= 1568


def test_impossible_budget_is_a_clear_rejection():
    buf = io.BytesIO()
    photo((400, 300)).save(buf, "PNG")
    with pytest.raises(ImageRejected) as caught:
        prepare_image(buf.getvalue(), ImageLimits(max_bytes=100))
    assert caught.value.reason == "cannot_fit"


def test_no_writable_format_is_a_clear_rejection():
    buf = io.BytesIO()
    photo((40, 30)).save(buf, "PNG")
    with pytest.raises(ImageRejected) as caught:
        prepare_image(buf.getvalue(), ImageLimits(formats=frozenset({"image/heic"})))
    assert caught.value.reason == "no_allowed_format"


def test_content_part_and_base64_round_trip(corpus):
    prepared = prepare_file(corpus["photo.jpg"].path)
    part = prepared.to_content_part()
    assert part == {
        "type": "image",
        "source": {"type": "base64", "media_type": "image/jpeg", "data": prepared.base64()},
    }
    assert not prepared.base64().startswith("data:")
    assert base64.b64decode(prepared.base64(), validate=True) == prepared.data


def test_summary_line():
    buf = io.BytesIO()
    screenshot((3136, 1764)).save(buf, "PNG")
    prepared = prepare_image(buf.getvalue())
    summary = prepared.summary()
    assert summary.startswith("3136×1764 PNG → 1568×882 PNG, ")
    assert " KB → " in summary or " MB → " in summary
    small = prepare_image(exif_rotated_jpeg())
    assert small.summary().startswith("100×200 JPEG, ")


def test_sizes_read_like_a_file_manager():
    sizes = [999, 1000, 999_000, 999_499, 1_000_000, 2_140_000, 1_000_000_000, 5_449_999_999]
    assert [format_size(n) for n in sizes] == [
        "999 B",
        "1 KB",
        "999 KB",
        "999 KB",
        "1 MB",
        "2.1 MB",
        "1 GB",
        "5.4 GB",
    ]
    prepared = PreparedImage(
        "image/png", b"x" * 412_400, 800, 600, 1600, 1200, "image/jpeg", 2_140_000
    )
    assert prepared.summary() == "1600×1200 JPEG → 800×600 PNG, 2.1 MB → 412 KB"


def test_prepare_is_thread_safe(corpus):
    from concurrent.futures import ThreadPoolExecutor

    names = ["photo.jpg", "ui.png", "exif_rotated.jpg", "photo.heic", "palette_alpha.png"]
    paths = [corpus[n].path for n in names if n in corpus] * 4
    serial = [prepare_file(p).data for p in paths]
    with ThreadPoolExecutor(4) as pool:
        parallel = [r.data for r in pool.map(prepare_file, paths)]
    assert parallel == serial
