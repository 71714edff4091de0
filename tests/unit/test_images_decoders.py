"""Every decoder (attachments, history thumbnails, lightbox, draft previews) takes only the formats
the pipeline reads and checks the pixel cap from the header before decoding anything."""

from __future__ import annotations

import base64
import io
import struct
import time
import zlib

import pytest
from PIL import Image

from desktop.core.images import ImageRejected, make_thumbnail, prepare_image


def png_header_only(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b""))


def ico_around(png: bytes) -> bytes:
    """An ICO whose one directory entry says 256×256 and whose image is `png`, whatever size."""
    entry = struct.pack("<BBBBHHII", 0, 0, 0, 0, 1, 32, len(png), 22)
    return struct.pack("<HHH", 0, 1, 1) + entry + png


def png_of_zeros(width: int, height: int) -> bytes:
    """An RGBA PNG of transparent black, compressed row by row (never whole in memory)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc

    packer = zlib.compressobj(9)
    row = bytes(1 + 4 * width)
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def ico_bomb() -> bytes:
    # 12000×12000 RGBA in 560 KB: under Pillow's own bomb error (178 MP), 576 MB decoded.
    return ico_around(png_of_zeros(12000, 12000))


def test_an_ico_hiding_a_huge_png_is_refused_before_decoding(ico_bomb):
    for decode in (prepare_image, make_thumbnail):
        start = time.perf_counter()
        with pytest.raises(ImageRejected) as caught:
            decode(ico_bomb)
        elapsed = time.perf_counter() - start
        assert caught.value.reason == "too_many_pixels"
        assert "12000×12000" in str(caught.value)
        # Pillow's ICO opener decodes the largest entry inside Image.open: that took 1.5 s and
        # a 572 MB peak here before this check; 0.1 ms and nothing decoded after it.
        assert elapsed < 0.2, f"{decode.__name__}: {elapsed:.2f} s"


def test_an_ordinary_ico_still_prepares():
    out = io.BytesIO()
    Image.new("RGBA", (48, 48), (10, 20, 200, 255)).save(out, "ICO", sizes=[(48, 48), (16, 16)])
    prepared = prepare_image(out.getvalue())
    assert (prepared.width, prepared.height) == (48, 48)


def truncated_jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (7000, 7000), (200, 10, 10)).save(out, "JPEG")
    return out.getvalue()[:2000]  # the header says 7000×7000; the scan stops at once


def test_a_truncated_jpeg_is_refused_everywhere_not_shown_as_grey(qapp):
    from desktop.ui.attachments.lightbox import decode_full
    from desktop.ui.imaging.display_decode import read_scaled

    data = truncated_jpeg()
    with pytest.raises(ImageRejected, match="damaged or incomplete"):
        prepare_image(data)
    with pytest.raises(ValueError, match="damaged or incomplete"):
        read_scaled(data, 240)  # history thumbnails
    with pytest.raises(ImageRejected, match="can't be shown"):
        decode_full(data)  # lightbox


def test_display_decoders_refuse_formats_the_app_does_not_read(qapp):
    from desktop.ui.imaging.display_decode import read_scaled
    from desktop.ui.transcript.history_thumbnails import decode_thumbnail

    tga = io.BytesIO()
    Image.new("RGB", (32, 32), (0, 200, 0)).save(tga, "TGA")  # Qt has a TGA plugin; we don't
    xbm = b"#define x_width 8\n#define x_height 8\nstatic char x_bits[] = {" + b"0x00," * 8 + b"};"
    for data in (tga.getvalue(), xbm, b"%PDF-1.4\n%\xe2\xe3\n"):
        with pytest.raises(ValueError, match=r"not an image|not in a format"):
            read_scaled(data, 64)
        with pytest.raises(ValueError):
            decode_thumbnail(base64.b64encode(data).decode(), 64)


def test_display_decoders_check_the_pixel_cap_from_the_header(qapp):
    from desktop.ui.imaging.display_decode import TooManyPixels, read_scaled

    start = time.perf_counter()
    with pytest.raises(TooManyPixels):
        read_scaled(png_header_only(10_000, 6_000), 240)  # 60 MP: over the pipeline's 50 MP
    assert time.perf_counter() - start < 0.1


def test_a_history_svg_bomb_is_refused_quickly(qapp):
    from desktop.core.images import set_svg_rasterizer
    from desktop.ui.imaging.svg_process import rasterize_svg
    from desktop.ui.transcript.history_thumbnails import decode_thumbnail
    from tests.unit.test_images_svg import use_bomb

    set_svg_rasterizer(rasterize_svg)
    try:
        start = time.perf_counter()
        with pytest.raises(ValueError, match="repeats its shapes"):
            decode_thumbnail(base64.b64encode(use_bomb(7)).decode(), 240)
        assert time.perf_counter() - start < 0.5
    finally:
        set_svg_rasterizer(None)


def test_a_png_colour_key_stays_transparent():
    im = Image.new("RGB", (40, 40), (0, 255, 0))
    im.paste((255, 0, 0), (0, 0, 20, 40))
    out = io.BytesIO()
    im.save(out, "PNG", transparency=(0, 255, 0))  # tRNS: pure green is transparent
    for data in (prepare_image(out.getvalue()).data, make_thumbnail(out.getvalue(), 40)):
        back = Image.open(io.BytesIO(data)).convert("RGBA")
        assert back.getpixel((30, 20))[3] == 0
        assert back.getpixel((5, 20)) == (255, 0, 0, 255)
