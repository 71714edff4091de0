"""Each magic number the sniffer knows, at its edges: a format it does not recognise is refused as
"not an image" before any decoder sees it, and a look-alike must not pass as an image."""

from __future__ import annotations

import struct

import pytest

from desktop.core.images.sniff import sniff_media_type


@pytest.mark.parametrize(
    "magic",
    [b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"],
    ids=["little-endian", "big-endian", "bigtiff-little-endian", "bigtiff-big-endian"],
)
def test_every_tiff_byte_order_is_a_tiff(magic):
    assert sniff_media_type(magic + b"\x00\x00\x00\x08" + b"\x00" * 24) == "image/tiff"


def test_a_riff_container_is_webp_only_when_it_says_webp():
    assert sniff_media_type(b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 16) == "image/webp"
    assert sniff_media_type(b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 16) is None
    assert sniff_media_type(b"JUNK\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 16) is None


def icon_header(kind: int, count: int) -> bytes:
    """An ICO (kind 1) or CUR (kind 2) directory header and first entry: exactly 22 bytes."""
    return struct.pack("<HHH", 0, kind, count) + struct.pack(
        "<BBBBHHII", 16, 16, 0, 0, 1, 32, 0, 22
    )


def test_an_icon_and_a_cursor_are_icons():
    assert sniff_media_type(icon_header(1, 1) + b"\x00" * 40) == "image/x-icon"
    assert sniff_media_type(icon_header(2, 1) + b"\x00" * 40) == "image/x-icon"


def test_a_header_of_exactly_22_bytes_is_enough_and_21_is_not():
    assert sniff_media_type(icon_header(1, 1)) == "image/x-icon"
    assert sniff_media_type(icon_header(1, 1)[:21]) is None


def test_an_icon_holds_at_most_256_images():
    assert sniff_media_type(icon_header(1, 256)) == "image/x-icon"
    assert sniff_media_type(icon_header(1, 257)) is None
    assert sniff_media_type(icon_header(1, 0)) is None


def test_a_plain_heif_container_is_heif():
    box = struct.pack(">I", 24) + b"ftypmif1" + b"\x00\x00\x00\x00" + b"mif1miaf"
    assert sniff_media_type(box + b"\x00" * 16) == "image/heif"
