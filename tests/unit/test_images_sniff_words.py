"""What a dropped file that is not an image is called ("This is a video, not an image"), the
short format names in messages, and where an SVG's opening is looked for."""

from __future__ import annotations

import struct

import pytest

from desktop.core.images.sniff import describe_non_image, short_name, sniff_media_type


def riff(kind: bytes) -> bytes:
    return b"RIFF" + struct.pack("<I", 1000) + kind + b"\x00" * 40


def ftyp(brand: bytes, size: int = 24) -> bytes:
    return (
        struct.pack(">I", size) + b"ftyp" + brand + b"\x00\x00\x02\x00" + b"isom" * 2 + b"\x00" * 64
    )


@pytest.mark.parametrize(
    "data, words",
    [
        (riff(b"WAVE") + b"\xff\xfe" * 40, "an audio file"),
        (riff(b"AVI ") + b"\xff\xfe" * 40, "a video"),
        (riff(b"wave") + b"\xff\xfe" * 40, None),  # FourCCs are case-sensitive
        (ftyp(b"mp42") + b"\xff\xfe" * 40, "a video"),
        (b"  \n<!DOCTYPE HTML>\n<html><body>\xff\xfe", "a web page"),
        (b"<HTML><body>x</body></HTML>", "a web page"),
        (b"\t<?XML version='1.0'?><feed/>", "an XML document"),
        (b"plain notes, not a picture\n" * 3, "a text file"),
        (b"caf\xc3\xa9 " * 500 + b"caf\xc3", "a text file"),  # a character cut at 2048
        (b"\x00\x01\x02\xff\xfe\xfd" * 20, None),
        (b"", None),
    ],
)
def test_what_a_non_image_looks_like(data, words):
    assert describe_non_image(data) == words


def test_the_text_check_reads_the_first_2048_bytes_only():
    # A binary tail after 2 KB of text: still "a text file" (the sample is the start).
    assert describe_non_image(b"a" * 2048 + b"\xff\xfe\xfd") == "a text file"
    # Bad UTF-8 well inside the sample is binary.
    assert describe_non_image(b"a" * 100 + b"\xff" + b"a" * 100) is None


@pytest.mark.parametrize(
    "media_type, name",
    [
        (None, "image"),
        ("", "image"),
        ("image/png", "PNG"),
        ("image/svg+xml", "SVG"),
        ("image/x-portable-pixmap", "X-PORTABLE-PIXMAP"),
        ("weird", "WEIRD"),
        ("a/b/c", "C"),
    ],
)
def test_short_format_names(media_type, name):
    assert short_name(media_type) == name


@pytest.mark.parametrize(
    "data, media_type",
    [
        (b"\xef\xbb\xbf<svg xmlns='http://www.w3.org/2000/svg'/>", "image/svg+xml"),
        (b"\xef\xbb\xbf  <?xml version='1.0'?>\n<svg/>", "image/svg+xml"),
        (b"<!-- drawn by hand -->\n<SVG/>", "image/svg+xml"),
        (b"<!DOCTYPE svg>" + b" " * 5000 + b"<svg/>", None),  # the <svg beyond 4 KB
        (b"<!DOCTYPE svg><svg/>", "image/svg+xml"),
        (b"<?xml version='1.0'?><feed/>", None),
        (b"<html><svg/></html>", None),
    ],
)
def test_an_svg_is_known_by_its_opening(data, media_type):
    assert sniff_media_type(data) == media_type


def test_the_windows_looked_at_end_where_they_say():
    # An SVG's opening is looked for in the first 4 KB: "<svg" ending at byte 4096 is in, one
    # byte later it is not.
    inside = b"<!DOCTYPE svg>".ljust(4092) + b"<svg/>"
    outside = b"<!DOCTYPE svg>".ljust(4093) + b"<svg/>"
    assert (sniff_media_type(inside), sniff_media_type(outside)) == ("image/svg+xml", None)
    # A web page is known by its first 64 bytes.
    assert describe_non_image(b" " * 59 + b"<html>") == "a web page"
    assert describe_non_image(b" " * 60 + b"<html>") == "a text file"


def test_the_edges_of_the_video_box_and_the_cut_character():
    # The smallest ftyp box (16 bytes: size, "ftyp", a major brand, a version) is a video.
    assert describe_non_image(struct.pack(">I", 16) + b"ftypmp42" + b"\x00" * 4) == "a video"
    assert describe_non_image(struct.pack(">I", 16) + b"ftypmp42" + b"\x00" * 3) != "a video"
    # A bad byte in the last 4 of the 2 KB sample is a character cut in two: still text; one
    # byte earlier it is binary.
    assert describe_non_image(b"a" * 2044 + b"\xff" + b"aaa") == "a text file"
    assert describe_non_image(b"a" * 2043 + b"\xff" + b"aaaa") is None


def ftyp_with_last_brand(box_size: int, brand: bytes, length: int) -> bytes:
    """An ftyp box of `length` bytes that says it is `box_size` long, whose major brand is
    no image's and whose last compatible brand is `brand`."""
    body = b"mp42" + b"\x00\x00\x00\x00" + b"isom" * ((length - 20) // 4) + brand
    return struct.pack(">I", box_size) + b"ftyp" + body


def test_a_compatible_brand_at_the_end_of_a_4096_byte_box_is_read():
    assert sniff_media_type(ftyp_with_last_brand(4096, b"avif", 4096)) == "image/avif"


def test_a_box_claiming_more_than_4096_bytes_is_read_only_for_its_major_brand():
    """An implausible size (here 16 MiB + 32) is not trusted: the brands after the first 16
    bytes are not read, whatever its low bytes would say."""
    assert sniff_media_type(ftyp_with_last_brand(0x0100_0020, b"heic", 32)) is None


def test_a_box_one_byte_over_4096_is_read_only_for_its_major_brand():
    assert sniff_media_type(ftyp_with_last_brand(4097, b"avif", 4096) + b"\x00") is None


@pytest.mark.parametrize(
    "box",
    [
        b"ftypheic\x00\x00\x00\x00",  # the major brand alone
        b"ftypmif1\x00\x00\x00\x00heicmif1msf1",  # a compatible brand with more after it
    ],
)
def test_an_image_brand_is_found_where_it_stands(box):
    assert sniff_media_type(struct.pack(">I", 4 + len(box)) + box) == "image/heic"


@pytest.mark.parametrize(
    "box",
    [
        b"\x00\x00\x00\x1cftypmp42\x00\x00\x00\x00isom0heic000",  # "heic" across two brands
        b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00isomiso2heic",  # "heic" after the box's end
    ],
)
def test_only_whole_brands_inside_the_box_count(box):
    assert sniff_media_type(box) is None
