"""Format sniffing from the bytes, and the URL helper."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from desktop.core.images import is_public_image_url, sniff_media_type
from tests.unit.image_corpus import heif_can_encode


def _encoded(fmt: str, mode: str = "RGB", **params) -> bytes:
    buf = io.BytesIO()
    Image.new(mode, (16, 16), 0).save(buf, fmt, **params)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("fmt", "mode", "media_type"),
    [
        ("PNG", "RGB", "image/png"),
        ("JPEG", "RGB", "image/jpeg"),
        ("GIF", "P", "image/gif"),
        ("WEBP", "RGB", "image/webp"),
        ("BMP", "RGB", "image/bmp"),
        ("TIFF", "RGB", "image/tiff"),
        ("ICO", "RGBA", "image/x-icon"),
        ("PSD", None, "image/vnd.adobe.photoshop"),
    ],
)
def test_sniffs_raster_formats(fmt, mode, media_type):
    # Pillow reads PSD but can't write it: a bare header is enough for sniffing.
    data = b"8BPS\x00\x01" + b"\x00" * 30 if fmt == "PSD" else _encoded(fmt, mode)
    assert sniff_media_type(data) == media_type


def test_sniffs_heic_and_avif():
    if heif_can_encode():
        import pillow_heif

        pillow_heif.register_heif_opener()
        assert sniff_media_type(_encoded("HEIF")) == "image/heic"
    from PIL import features

    if features.check("avif"):
        assert sniff_media_type(_encoded("AVIF")) == "image/avif"
    # A bare ftyp header with an image brand in the compatible list.
    assert sniff_media_type(b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1heic") == "image/heic"


@pytest.mark.parametrize(
    "text",
    [
        b'<svg xmlns="http://www.w3.org/2000/svg"/>',
        b'\xef\xbb\xbf  <?xml version="1.0"?>\n<!-- hi -->\n<svg width="1" height="1"/>',
        b'<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "x">\n<svg/>',
    ],
)
def test_sniffs_svg_text(text):
    assert sniff_media_type(text) == "image/svg+xml"


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"%PDF-1.7",
        b"<html><body>not an svg</body></html>",
        b'<?xml version="1.0"?><feed/>',
        b"PK\x03\x04" + b"\x00" * 40,
        b"\x00\x00\x00\x18ftypisom\x00\x00\x00\x00isomiso2",  # MP4 video
        b"BM" + b"\x00" * 30,  # "BM" text without a BMP header
        b"hello world",
    ],
)
def test_non_images_are_not_sniffed_as_images(data):
    assert sniff_media_type(data) is None


@pytest.mark.parametrize(
    "url",
    [
        "https://upload.wikimedia.org/wikipedia/commons/a/a7/ant.jpg",
        "http://example.com/x.png?size=large#frag",
        "https://8.8.8.8/image.png",
        "https://[2606:4700:4700::1111]/a.png",
        "HTTPS://Example.COM:8443/a.webp",
    ],
)
def test_public_urls(url):
    assert is_public_image_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/a.png",
        "file:///etc/passwd",
        "data:image/png;base64,AAAA",
        "javascript:alert(1)",
        "https://",
        "not a url",
        "http://localhost/a.png",
        "http://LOCALHOST.:8080/a.png",
        "http://app.localhost/a.png",
        "http://printer.local/a.png",
        "http://intranet/a.png",
        "http://127.0.0.1/a.png",
        "http://127.1/a.png",
        "http://2130706433/a.png",
        "http://0x7f.0.0.1/a.png",
        "http://10.1.2.3/a.png",
        "http://192.168.0.10/a.png",
        "http://172.16.5.5/a.png",
        "http://169.254.169.254/latest/meta-data",
        "http://100.64.0.1/a.png",
        "http://0.0.0.0/a.png",
        "http://[::1]/a.png",
        "http://[fe80::1]/a.png",
        "http://[fd00::1]/a.png",
        "http://[::ffff:127.0.0.1]/a.png",
        "http://user:pw@example.com/a.png",
        "http://example.com:99999/a.png",
        "https://exa mple.com/a.png",
        "http://user@example.com/a.png",  # a user name alone is a credential too
        "http://224.0.0.1/a.png",  # multicast
        "http://[ff02::1]/a.png",
        "http://[4000::1]/a.png",  # reserved IPv6, not private
        "http://img1\x00.example.com/a.png",
        "http://127.1\x00.example.com/a.png",
        "https://example.com/\u202egnp.exe",  # right-to-left override: shown as "exe.png"
        "https://exa\u200bmple.com/a.png",  # zero-width space
        None,  # not text at all (clipboard data of another kind)
        b"https://example.com/a.png",
    ],
)
def test_private_or_odd_urls(url):
    assert is_public_image_url(url) is False
