"""Tell what a file really is from its first bytes, whatever its name says."""

from __future__ import annotations

_FTYP_IMAGE_BRANDS = {
    b"heic": "image/heic",
    b"heix": "image/heic",
    b"hevc": "image/heic",
    b"hevx": "image/heic",
    b"heim": "image/heic",
    b"heis": "image/heic",
    b"avif": "image/avif",
    b"avis": "image/avif",
    b"mif1": "image/heif",
    b"msf1": "image/heif",
}
_BMP_HEADER_SIZES = {12, 16, 40, 52, 56, 64, 108, 124}

SHORT_NAMES = {
    "image/png": "PNG",
    "image/jpeg": "JPEG",
    "image/gif": "GIF",
    "image/webp": "WebP",
    "image/bmp": "BMP",
    "image/tiff": "TIFF",
    "image/heic": "HEIC",
    "image/heif": "HEIF",
    "image/avif": "AVIF",
    "image/svg+xml": "SVG",
    "image/x-icon": "ICO",
    "image/vnd.adobe.photoshop": "PSD",
}


def short_name(media_type: str | None) -> str:
    """``"image/png"`` → ``"PNG"``, for messages and summaries."""
    if not media_type:
        return "image"
    return SHORT_NAMES.get(media_type, media_type.rsplit("/", 1)[-1].upper())


def _ftyp_brands(data: bytes) -> list[bytes]:
    if len(data) < 16 or data[4:8] != b"ftyp":
        return []
    box_size = int.from_bytes(data[0:4], "big")
    end = min(box_size if 16 <= box_size <= 4096 else 16, len(data))
    brands = [data[8:12]]
    brands += [data[i : i + 4] for i in range(16, end - 3, 4)]
    return brands


def sniff_media_type(data: bytes) -> str | None:
    """The image media type the bytes hold, or None when they are not a known image.

    Looks only at magic numbers (and, for SVG, the opening text); never decodes.
    """
    head = data[:32]
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "image/tiff"
    if head[:2] == b"BM" and int.from_bytes(head[14:18], "little") in _BMP_HEADER_SIZES:
        return "image/bmp"
    if head[:4] in (b"\x00\x00\x01\x00", b"\x00\x00\x02\x00") and len(head) >= 22:
        count = int.from_bytes(head[4:6], "little")
        if 0 < count <= 256 and head[9] == 0:  # entry count, then the first entry's reserved byte
            return "image/x-icon"
    if head[:4] == b"8BPS":
        return "image/vnd.adobe.photoshop"
    brands = _ftyp_brands(data[:4096])
    if brands:
        # The most specific image brand wins, major or compatible ("mif1" + "heic" → HEIC).
        found = {_FTYP_IMAGE_BRANDS[b] for b in brands if b in _FTYP_IMAGE_BRANDS}
        for preferred in ("image/avif", "image/heic", "image/heif"):
            if preferred in found:
                return preferred
        return None
    if _looks_like_svg(data):
        return "image/svg+xml"
    return None


def _looks_like_svg(data: bytes) -> bool:
    text = data[:4096]
    if text.startswith(b"\xef\xbb\xbf"):
        text = text[3:]
    text = text.lstrip().lower()
    if not text.startswith(b"<"):
        return False
    if text.startswith(b"<svg"):
        return True
    if text.startswith((b"<?xml", b"<!--", b"<!doctype svg")):
        return b"<svg" in text
    return False


_NOT_IMAGES: list[tuple[bytes, str]] = [
    (b"%PDF", "a PDF"),
    (b"PK\x03\x04", "a ZIP archive or an Office document"),
    (b"\x1f\x8b", "a compressed (gzip) file"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"%!PS", "a PostScript file"),
    (b"MZ", "a Windows program"),
    (b"\x7fELF", "a program"),
    (b"ID3", "an audio file"),
    (b"OggS", "an audio or video file"),
    (b"fLaC", "an audio file"),
    (b"\x1aE\xdf\xa3", "a video"),
    (b"SQLite format 3", "a database"),
    (b"{\\rtf", "a rich-text document"),
]


def describe_non_image(data: bytes) -> str | None:
    """A few words for what a non-image file looks like (``"a PDF"``), or None if unknown."""
    head = data[:64]
    for magic, what in _NOT_IMAGES:
        if head.startswith(magic):
            return what
    if head[:4] == b"RIFF":
        kind = head[8:12]
        if kind == b"WAVE":
            return "an audio file"
        if kind == b"AVI ":
            return "a video"
    if _ftyp_brands(data[:4096]):
        return "a video"
    lowered = head.lstrip().lower()
    if lowered.startswith((b"<!doctype html", b"<html")):
        return "a web page"
    if lowered.startswith(b"<?xml"):
        return "an XML document"
    sample = data[:2048]
    if sample:
        try:
            sample.decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start < len(sample) - 4:  # not just a character cut at the end
                return None
        return "a text file"
    return None
