"""The safe opener itself: PNG metadata stripping, ICO directory reading, the pixel cap at its
edge, and which failures become which message. The pipeline tests reach these only through a
whole preparation, where a dropped chunk or an off-by-one in the cap goes unseen."""

from __future__ import annotations

import struct
import sys
import zlib

import pytest
from PIL import Image

from desktop.core.images import guard
from desktop.core.images.errors import ImageRejected
from desktop.core.images.guard import (
    decode_image,
    header_size,
    ico_largest_entry,
    load_image,
    open_image,
    strip_png_chunks,
)
from tests.unit.image_corpus import encoded, png_bomb, png_with_huge_iccp

SIGNATURE = b"\x89PNG\r\n\x1a\n"


def chunk(kind: bytes, body: bytes) -> bytes:
    crc = struct.pack(">I", zlib.crc32(kind + body))
    return struct.pack(">I", len(body)) + kind + body + crc


def ihdr(width: int, height: int) -> bytes:
    return chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))


def png_parts(size: tuple[int, int] = (3, 2)) -> tuple[bytes, bytes, bytes]:
    """IHDR, IDAT and IEND chunks of a small greyscale PNG."""
    width, height = size
    ihdr = chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
    idat = chunk(b"IDAT", zlib.compress(b"".join(b"\x00" + b"\x80" * width for _ in range(height))))
    return ihdr, idat, chunk(b"IEND", b"")


def png_bytes(size: tuple[int, int]) -> bytes:
    return encoded(Image.new("RGB", size, (20, 40, 60)), "PNG")


def jpeg_bytes(size: tuple[int, int]) -> bytes:
    return encoded(Image.new("RGB", size, (200, 30, 30)), "JPEG")


def pillow_open_raises(monkeypatch, exc: BaseException) -> list:
    """Make Pillow's Image.open raise `exc`; returns the calls it received."""
    calls = []

    def refuse(*args, **kwargs):
        calls.append(args)
        raise exc

    monkeypatch.setattr(guard.Image, "open", refuse)
    return calls


# --- strip_png_chunks ----------------------------------------------------------------------------


def test_stripping_keeps_pixels_transparency_and_animation_and_drops_the_rest():
    ihdr, idat, iend = png_parts()
    kept = [
        ihdr,
        chunk(b"PLTE", b"\x00\x00\x00"),
        chunk(b"tRNS", b"\x00"),
        chunk(b"sRGB", b"\x00"),
        chunk(b"acTL", b"\x00" * 8),
        chunk(b"fcTL", b"\x00" * 26),
        idat,
        chunk(b"fdAT", b"\x00" * 6),
    ]
    dropped = [
        chunk(b"iCCP", b"p\x00\x00" + zlib.compress(b"x" * 100)),
        chunk(b"tEXt", b"Comment\x00private"),
        chunk(b"eXIf", b"MM\x00*"),
        chunk(b"zTXt", b"k\x00\x00" + zlib.compress(b"y")),
    ]
    mixed = [kept[0], dropped[0], *kept[1:4], dropped[1], *kept[4:], dropped[2], dropped[3]]
    data = SIGNATURE + b"".join(mixed) + iend
    assert strip_png_chunks(data) == SIGNATURE + b"".join(kept) + iend


def test_stripping_stops_at_the_end_chunk():
    ihdr, idat, iend = png_parts()
    data = SIGNATURE + ihdr + idat + iend + chunk(b"IDAT", b"after the end")
    assert strip_png_chunks(data) == SIGNATURE + ihdr + idat + iend


def test_a_cut_image_data_chunk_is_kept_for_the_decoder_to_judge():
    ihdr, idat, _ = png_parts()
    cut = idat[:-5]
    assert strip_png_chunks(SIGNATURE + ihdr + cut) == SIGNATURE + ihdr + cut
    frame = chunk(b"fdAT", b"\x01" * 20)[:-3]
    assert strip_png_chunks(SIGNATURE + ihdr + frame) == SIGNATURE + ihdr + frame


def test_a_cut_metadata_chunk_is_dropped():
    ihdr, idat, _ = png_parts()
    text = chunk(b"tEXt", b"Comment\x00" + b"z" * 40)[:-10]
    assert strip_png_chunks(SIGNATURE + ihdr + idat + text) == SIGNATURE + ihdr + idat


def test_chunk_lengths_are_big_endian():
    ihdr, idat, iend = png_parts()
    # 256-byte text: read little-endian its length would be 65536 and swallow the rest.
    text = chunk(b"tEXt", b"k\x00" + b"v" * 254)
    data = SIGNATURE + ihdr + text + idat + iend
    assert strip_png_chunks(data) == SIGNATURE + ihdr + idat + iend


@pytest.mark.parametrize("tail", [b"", b"\x00\x00\x00\x00IEN", b"\x00" * 11])
def test_no_whole_chunk_means_no_png(tail):
    assert strip_png_chunks(SIGNATURE + tail) is None


def test_a_bare_end_chunk_is_a_whole_chunk():
    # Twelve bytes exactly: the loop's bound is inclusive.
    assert strip_png_chunks(SIGNATURE + chunk(b"IEND", b"")) == SIGNATURE + chunk(b"IEND", b"")


def test_a_png_refused_for_its_metadata_decodes_without_it():
    data = png_with_huge_iccp(Image.new("RGB", (30, 20), (1, 2, 3)))
    im, size = decode_image(data, "image/png", 10_000)
    assert size == (30, 20)
    assert im.getpixel((5, 5)) == (1, 2, 3)
    assert "icc_profile" not in im.info


def test_a_jpeg_that_pillow_refuses_is_damaged_not_retried(monkeypatch):
    pillow_open_raises(monkeypatch, SyntaxError("not a JPEG"))
    with pytest.raises(ImageRejected) as caught:
        decode_image(jpeg_bytes((8, 8)), "image/jpeg", 10_000)
    assert caught.value.reason == "damaged"


def test_a_png_with_nothing_to_strip_is_damaged_after_one_try(monkeypatch):
    ihdr, idat, iend = png_parts()
    data = SIGNATURE + ihdr + idat + iend
    calls = pillow_open_raises(monkeypatch, ValueError("refused"))
    with pytest.raises(ImageRejected) as caught:
        decode_image(data, "image/png", 10_000)
    assert caught.value.reason == "damaged"
    assert len(calls) == 1


def test_a_png_refused_twice_is_damaged(monkeypatch):
    ihdr, idat, iend = png_parts()
    data = SIGNATURE + ihdr + chunk(b"tEXt", b"a\x00b") + idat + iend
    calls = pillow_open_raises(monkeypatch, ValueError("refused"))
    with pytest.raises(ImageRejected) as caught:
        decode_image(data, "image/png", 10_000)
    assert caught.value.reason == "damaged"
    assert str(caught.value) == "The image is damaged or incomplete."
    assert len(calls) == 2  # once as it came, once without its metadata chunks


# --- ico_largest_entry ---------------------------------------------------------------------------


def bmp_header(width: int, height: int) -> bytes:
    """A BITMAPINFOHEADER's first 24 bytes (the height counts the AND mask: twice the image)."""
    return struct.pack("<IiiHHI", 40, width, height, 1, 32, 0) + b"\x00" * 4


def ico(*images: bytes, count: int | None = None) -> bytes:
    n = len(images) if count is None else count
    offset = 6 + 16 * len(images)
    entries = b""
    for body in images:
        entries += struct.pack("<BBBBHHII", 0, 0, 0, 0, 1, 32, len(body), offset)
        offset += len(body)
    return struct.pack("<HHH", 0, 1, n) + entries + b"".join(images)


def test_the_largest_entry_is_found_by_area_across_png_and_bmp():
    small_png = png_parts((16, 16))[0]
    big_bmp = bmp_header(300, 2 * 200)
    mid_png = png_parts((100, 100))[0]
    assert ico_largest_entry(ico(SIGNATURE + small_png, big_bmp, SIGNATURE + mid_png)) == (
        300,
        200,
    )


def test_a_png_entry_size_comes_from_its_header():
    assert ico_largest_entry(ico(SIGNATURE + ihdr(70_000, 3))) == (70_000, 3)
    # All four bytes of each: a header claiming 2**24 + 3 pixels is not a 3-pixel icon.
    wide = ico(SIGNATURE + ihdr(2**24 + 3, 5))
    assert ico_largest_entry(wide) == (2**24 + 3, 5)
    tall = ico(SIGNATURE + ihdr(5, 2**24 + 3))
    assert ico_largest_entry(tall) == (5, 2**24 + 3)


def test_a_bmp_entry_height_leaves_out_the_mask_and_signs():
    assert ico_largest_entry(ico(bmp_header(48, 96))) == (48, 48)
    assert ico_largest_entry(ico(bmp_header(-48, -96))) == (48, 48)


def test_the_largest_area_wins_not_the_longest_edge():
    assert ico_largest_entry(ico(bmp_header(100, 20), bmp_header(5, 80))) == (100, 10)
    assert ico_largest_entry(ico(bmp_header(10, 200), bmp_header(40, 60))) == (40, 30)


def test_a_bmp_header_cut_after_its_height_still_gives_the_size():
    assert ico_largest_entry(ico(bmp_header(16, 32)[:12])) == (16, 16)


def test_a_bmp_entry_over_the_cap_is_named_in_whole_pixels():
    with pytest.raises(ImageRejected) as caught:
        open_image(ico(bmp_header(300, 600)), "image/x-icon", 1000)
    assert str(caught.value) == "The image is too large to open safely (300×300 pixels)."


def test_equal_areas_keep_the_first_entry():
    assert ico_largest_entry(ico(bmp_header(10, 80), bmp_header(40, 20))) == (10, 40)


def test_a_directory_longer_than_the_file_is_broken():
    assert ico_largest_entry(ico(bmp_header(16, 32), count=2)) is None


def test_an_entry_pointing_past_the_end_is_broken():
    entry = struct.pack("<BBBBHHII", 0, 0, 0, 0, 1, 32, 40, 10_000)
    assert ico_largest_entry(struct.pack("<HHH", 0, 1, 1) + entry) is None


def test_an_entry_with_a_short_header_is_broken():
    assert ico_largest_entry(ico(b"\x28\x00\x00\x00" + b"\x10" * 7)) is None


def test_an_entry_count_is_little_endian():
    data = ico(bmp_header(16, 32))
    assert ico_largest_entry(data[:4] + b"\x01\x01" + data[6:]) is None  # 257 entries
    assert ico_largest_entry(data) == (16, 16)


def test_an_empty_directory_has_no_largest_entry():
    assert ico_largest_entry(struct.pack("<HHH", 0, 1, 0)) is None


def test_an_ico_over_the_cap_is_refused_with_its_size_and_one_at_it_opens():
    data = encoded(Image.new("RGBA", (32, 32), (1, 2, 3, 255)), "ICO", sizes=[(32, 32)])
    assert open_image(data, "image/x-icon", 32 * 32).size == (32, 32)
    with pytest.raises(ImageRejected) as caught:
        open_image(data, "image/x-icon", 32 * 32 - 1)
    assert caught.value.reason == "too_many_pixels"
    assert str(caught.value) == "The image is too large to open safely (32×32 pixels)."


def test_an_ico_with_a_broken_directory_is_damaged():
    with pytest.raises(ImageRejected) as caught:
        open_image(ico(bmp_header(16, 32), count=3), "image/x-icon", 10_000)
    assert caught.value.reason == "damaged"


# --- open_image, header_size, load_image ---------------------------------------------------------


def test_the_pixel_cap_admits_its_own_size_and_names_the_size_over_it():
    data = png_bytes((40, 25))
    assert open_image(data, "image/png", 1000).size == (40, 25)
    with pytest.raises(ImageRejected) as caught:
        open_image(data, "image/png", 999)
    assert caught.value.reason == "too_many_pixels"
    assert str(caught.value) == "The image is too large to open safely (40×25 pixels)."


def test_a_pillow_bomb_names_the_header_size():
    with pytest.raises(ImageRejected) as caught:
        open_image(png_bomb(30_000, 30_000), "image/png", 10**12)
    assert caught.value.reason == "too_many_pixels"
    assert "30000×30000" in str(caught.value)


def test_running_out_of_memory_while_opening_is_too_many_pixels(monkeypatch):
    pillow_open_raises(monkeypatch, MemoryError())
    with pytest.raises(ImageRejected) as caught:
        open_image(png_bytes((4, 4)), "image/png", 1000)
    assert caught.value.reason == "too_many_pixels"
    assert str(caught.value) == "The image is too large to open safely."


def test_other_open_failures_are_damaged_with_the_cause_kept(monkeypatch):
    pillow_open_raises(monkeypatch, OSError("cannot identify image file"))
    with pytest.raises(ImageRejected) as caught:
        open_image(png_bytes((4, 4)), "image/png", 1000)
    assert caught.value.reason == "damaged"
    assert isinstance(caught.value.__cause__, OSError)


def test_value_errors_reach_the_caller_of_open_image(monkeypatch):
    pillow_open_raises(monkeypatch, ValueError("Decompressed data too large"))
    with pytest.raises(ValueError):
        open_image(png_bytes((4, 4)), "image/png", 1000)
    with pytest.raises(ImageRejected) as caught:
        header_size(png_bytes((4, 4)), "image/png", 1000)
    assert caught.value.reason == "damaged"


@pytest.mark.parametrize("size", [(0, 5), (5, 0)])
def test_an_image_without_area_is_damaged(monkeypatch, size):
    monkeypatch.setattr(guard.Image, "open", lambda *a, **k: Image.new("L", size))
    with pytest.raises(ImageRejected) as caught:
        open_image(png_bytes((4, 4)), "image/png", 1000)
    assert caught.value.reason == "damaged"


@pytest.mark.parametrize("size", [(1, 5), (5, 1), (1, 1)])
def test_a_one_pixel_wide_or_tall_image_opens(size):
    assert open_image(png_bytes(size), "image/png", 1000).size == size


def test_the_opener_is_told_only_the_formats_of_the_media_type():
    # A PNG labelled JPEG is not opened as a PNG behind the label's back.
    with pytest.raises(ImageRejected) as caught:
        open_image(png_bytes((4, 4)), "image/jpeg", 1000)
    assert caught.value.reason == "damaged"
    assert open_image(jpeg_bytes((4, 4)), "image/jpeg", 1000).format == "JPEG"


def test_header_size_reads_the_size_without_decoding():
    assert header_size(png_bytes((33, 7)), "image/png", 1000) == (33, 7)


def test_load_image_maps_running_out_of_memory_to_the_image_size():
    class Exhausting:
        size = (640, 480)

        def load(self):
            raise MemoryError

    with pytest.raises(ImageRejected) as caught:
        load_image(Exhausting())
    assert caught.value.reason == "too_many_pixels"
    assert "640×480" in str(caught.value)


def test_load_image_passes_value_errors_on_and_damages_the_rest():
    class Failing:
        size = (1, 1)

        def __init__(self, exc):
            self.exc = exc

        def load(self):
            raise self.exc

    with pytest.raises(ValueError):
        load_image(Failing(ValueError("too large chunk")))
    for exc in (OSError("truncated"), SyntaxError("bad"), EOFError()):
        with pytest.raises(ImageRejected) as caught:
            load_image(Failing(exc))
        assert caught.value.reason == "damaged"
        assert caught.value.__cause__ is exc


# --- drafts --------------------------------------------------------------------------------------


def test_a_jpeg_is_decoded_at_the_draft_size_and_reports_its_header_size():
    im, size = decode_image(jpeg_bytes((800, 600)), "image/jpeg", 10**6, lambda s: (200, 150))
    assert size == (800, 600)
    assert im.size == (200, 150)


def test_no_draft_size_means_full_size():
    im, _ = decode_image(jpeg_bytes((800, 600)), "image/jpeg", 10**6, lambda s: None)
    assert im.size == (800, 600)


def test_a_draft_the_decoder_refuses_falls_back_to_full_size(monkeypatch):
    def refuse(self, mode, size):
        raise OSError("no draft")

    from PIL import JpegImagePlugin

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", refuse)
    im, _ = decode_image(jpeg_bytes((64, 48)), "image/jpeg", 10**6, lambda s: (8, 6))
    assert im.size == (64, 48)


def test_a_png_is_never_drafted():
    asked = []

    def wanted(size):
        asked.append(size)
        return (10, 10)

    im, size = decode_image(png_bytes((80, 60)), "image/png", 10**6, wanted)
    assert im.size == size == (80, 60)
    assert asked == []


# --- decoders that may be missing ----------------------------------------------------------------


def test_heic_without_its_library_is_unsupported_by_name(monkeypatch):
    monkeypatch.setattr(guard, "_heif_state", None)
    monkeypatch.setitem(sys.modules, "pillow_heif", None)  # import fails
    with pytest.raises(ImageRejected) as caught:
        open_image(b"\x00\x00\x00\x18ftypheic", "image/heic", 1000)
    assert caught.value.reason == "unsupported_format"
    assert str(caught.value) == "HEIC images can't be opened on this computer."
    assert guard._heif_state is False


def test_the_heif_answer_is_remembered(monkeypatch):
    monkeypatch.setattr(guard, "_heif_state", True)
    monkeypatch.setitem(sys.modules, "pillow_heif", None)  # would fail if tried again
    assert guard._decoder_available("image/heif") is True


def test_avif_needs_pillow_avif_or_the_heif_library(monkeypatch):
    from PIL import features

    monkeypatch.setattr(features, "check", lambda name: False)
    monkeypatch.setattr(guard, "_heif_state", False)
    assert guard._decoder_available("image/avif") is False
    monkeypatch.setattr(guard, "_heif_state", True)
    assert guard._decoder_available("image/avif") is True
    monkeypatch.setattr(features, "check", lambda name: name == "avif")
    monkeypatch.setattr(guard, "_heif_state", False)
    assert guard._decoder_available("image/avif") is True


def test_plain_formats_need_no_extra_library(monkeypatch):
    monkeypatch.setattr(guard, "_heif_state", False)
    assert guard._decoder_available("image/png") is True


def test_a_non_image_is_named_when_recognised():
    assert str(guard.reject_not_image(b"%PDF-1.7\n")) == (
        "This file is not an image (it looks like a PDF)."
    )
    assert guard.reject_not_image(b"%PDF-1.7\n").reason == "not_image"


def test_header_size_reads_only_the_labelled_format():
    with pytest.raises(ImageRejected) as caught:
        header_size(png_bytes((33, 7)), "image/jpeg", 1000)
    assert caught.value.reason == "damaged"


def test_a_bomb_size_skips_decoders_that_are_not_there():
    bomb = png_bomb(20_000, 20_000)
    assert guard._size_without_guard(bomb, ("NO-SUCH-PLUGIN", "PNG")) == (20_000, 20_000)


def test_heif_without_its_library_is_unsupported_by_name(monkeypatch):
    monkeypatch.setattr(guard, "_heif_state", False)
    with pytest.raises(ImageRejected) as caught:
        open_image(b"\x00\x00\x00\x18ftypmif1", "image/heif", 1000)
    assert str(caught.value) == "HEIF images can't be opened on this computer."


def test_an_ico_entry_is_capped_by_its_area():
    with pytest.raises(ImageRejected) as caught:
        open_image(ico(bmp_header(300, 20)), "image/x-icon", 1000)
    assert str(caught.value) == "The image is too large to open safely (300×10 pixels)."


def test_a_media_type_without_a_plugin_list_lets_pillow_choose():
    assert open_image(png_bytes((5, 4)), "image/x-unlisted", 1000).format == "PNG"


def test_a_camera_multi_picture_jpeg_is_drafted_too():
    frame = Image.new("RGB", (800, 600), (9, 99, 9))
    data = encoded(frame, "MPO", save_all=True, append_images=[frame])
    im, size = decode_image(data, "image/jpeg", 10**6, lambda s: (200, 150))
    assert im.format == "MPO"
    assert (size, im.size) == ((800, 600), (200, 150))


def test_a_fresh_process_still_opens_each_type_with_its_own_plugin_only():
    # Pillow registers most plugins (WebP, TIFF, ICO…) only on first use: the opener must do
    # that itself, or the list of plugins it hands Image.open ends up empty, and then any
    # plugin may read the bytes.
    import subprocess

    code = (
        "import io, sys\n"
        "from PIL import Image\n"
        "from desktop.core.images.errors import ImageRejected\n"
        "from desktop.core.images.guard import open_image\n"
        "buf = io.BytesIO()\n"
        "Image.new('RGB', (4, 4)).save(buf, 'PNG')\n"
        "try:\n"
        "    open_image(buf.getvalue(), 'image/webp', 1000)\n"
        "except ImageRejected as exc:\n"
        "    sys.exit(0 if exc.reason == 'damaged' else 3)\n"
        "sys.exit(4)\n"
    )
    root = __file__.rsplit("/tests/", 1)[0]
    done = subprocess.run([sys.executable, "-c", code], cwd=root, timeout=60)
    assert done.returncode == 0
