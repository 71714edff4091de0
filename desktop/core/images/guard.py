"""Open an image safely: header first, refuse bombs before any pixel is decoded."""

from __future__ import annotations

import contextlib
import io
import threading
from collections.abc import Callable

from PIL import Image

from desktop.core.images import errors
from desktop.core.images.errors import ImageRejected
from desktop.core.images.memory import pin_mmap_threshold
from desktop.core.images.sniff import describe_non_image, short_name

pin_mmap_threshold()  # decoded pixels must not be zeroed under the GIL (see memory.py)

PILLOW_FORMATS: dict[str, tuple[str, ...]] = {
    "image/png": ("PNG",),
    "image/jpeg": ("JPEG", "MPO"),
    "image/gif": ("GIF",),
    "image/webp": ("WEBP",),
    "image/bmp": ("BMP",),
    "image/tiff": ("TIFF",),
    "image/heic": ("HEIF",),
    "image/heif": ("HEIF",),
    "image/avif": ("AVIF", "HEIF"),
    "image/x-icon": ("ICO", "CUR"),
    "image/vnd.adobe.photoshop": ("PSD",),
}

_heif_lock = threading.Lock()
_heif_state: bool | None = None  # None: not tried yet


def _ensure_heif() -> bool:
    """Register pillow-heif's opener the first time a HEIC/HEIF image shows up."""
    global _heif_state
    if _heif_state is not None:
        return _heif_state
    with _heif_lock:
        if _heif_state is None:
            try:
                import pillow_heif

                pillow_heif.register_heif_opener()
                _heif_state = True
            except Exception:  # missing or broken native library
                _heif_state = False
    return _heif_state


def _decoder_available(media_type: str) -> bool:
    if media_type in ("image/heic", "image/heif"):
        return _ensure_heif()
    if media_type == "image/avif":
        from PIL import features

        return bool(features.check("avif")) or _ensure_heif()
    return True


def reject_not_image(data: bytes) -> ImageRejected:
    what = describe_non_image(data)
    if what:
        return ImageRejected(errors.NOT_IMAGE, f"This file is not an image (it looks like {what}).")
    return ImageRejected(
        errors.NOT_IMAGE, "This file is not an image, or not in a format that can be read."
    )


def damaged() -> ImageRejected:
    return ImageRejected(errors.DAMAGED, "The image is damaged or incomplete.")


def too_many_pixels(size: tuple[int, int] | None) -> ImageRejected:
    if size:
        text = f"The image is too large to open safely ({size[0]}×{size[1]} pixels)."
    else:
        text = "The image is too large to open safely."
    return ImageRejected(errors.TOO_MANY_PIXELS, text)


def _size_without_guard(data: bytes, formats: tuple[str, ...]) -> tuple[int, int] | None:
    """Header dimensions of an image Pillow refused as a bomb, for the message only."""
    for name in formats:
        entry = Image.OPEN.get(name)
        if not entry:
            continue
        try:
            im = entry[0](io.BytesIO(data))
            return im.size
        except Exception:
            continue
    return None


_PNG_KEEP = {b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"sRGB", b"acTL", b"fcTL", b"fdAT"}


def strip_png_chunks(data: bytes) -> bytes | None:
    """The PNG with every ancillary chunk except transparency/animation removed.

    Used to retry a PNG whose metadata (a huge iCCP or text chunk) Pillow refuses; the pixels
    are untouched. None if the chunk structure itself is broken.
    """
    out = [data[:8]]
    pos = 8
    end = len(data)
    while pos + 12 <= end:
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind = data[pos + 4 : pos + 8]
        stop = pos + 12 + length
        if stop > end:
            if kind in (b"IDAT", b"fdAT"):  # truncated data: keep, let the decoder judge
                out.append(data[pos:end])
            break
        if kind in _PNG_KEEP:
            out.append(data[pos:stop])
        pos = stop
        if kind == b"IEND":
            break
    return b"".join(out) if len(out) > 1 else None


def _registered(formats: tuple[str, ...]) -> tuple[str, ...]:
    """Only the Pillow plugins actually present (Image.open fails outright on unknown ids)."""
    if any(name not in Image.OPEN for name in formats):
        Image.init()
    return tuple(name for name in formats if name in Image.OPEN)


def ico_largest_entry(data: bytes) -> tuple[int, int] | None:
    """The largest width×height an ICO/CUR holds, read from each embedded PNG or BMP header.

    Pillow decodes the biggest entry inside Image.open, before any caller sees a size (a 16×16
    directory entry hiding a 30000×30000 PNG peaked at 1.3 GB), so this runs first. None when
    the directory is broken.
    """
    count = int.from_bytes(data[4:6], "little")
    largest: tuple[int, int] | None = None
    for i in range(count):
        entry = data[6 + 16 * i : 22 + 16 * i]
        if len(entry) < 16:
            return None
        offset = int.from_bytes(entry[12:16], "little")
        head = data[offset : offset + 24]
        if head.startswith(b"\x89PNG\r\n\x1a\n") and len(head) >= 24:
            size = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
        elif len(head) >= 12:
            width = int.from_bytes(head[4:8], "little", signed=True)
            height = int.from_bytes(head[8:12], "little", signed=True)
            size = abs(width), abs(height) // 2  # the height counts the AND mask too
        else:
            return None
        if largest is None or size[0] * size[1] > largest[0] * largest[1]:
            largest = size
    return largest


def open_image(data: bytes, media_type: str, max_pixels: int) -> Image.Image:
    """Open lazily (header only) and refuse anything over ``max_pixels`` before decoding."""
    if not _decoder_available(media_type):
        raise ImageRejected(
            errors.UNSUPPORTED, f"{short_name(media_type)} images can't be opened on this computer."
        )
    if media_type == "image/x-icon":
        largest = ico_largest_entry(data)
        if largest is None:
            raise damaged()
        if largest[0] * largest[1] > max_pixels:
            raise too_many_pixels(largest)
    formats = _registered(PILLOW_FORMATS.get(media_type, ()))
    try:
        im = Image.open(io.BytesIO(data), formats=formats or None)
    except Image.DecompressionBombError:
        raise too_many_pixels(_size_without_guard(data, formats or ())) from None
    except MemoryError:
        raise too_many_pixels(None) from None
    except (ValueError, SyntaxError):
        raise  # the caller may retry a PNG without its metadata chunks
    except Exception as exc:
        raise damaged() from exc
    width, height = im.size
    if width <= 0 or height <= 0:
        raise damaged()
    if width * height > max_pixels:
        raise too_many_pixels((width, height))
    return im


def header_size(data: bytes, media_type: str, max_pixels: int) -> tuple[int, int]:
    """The size the header declares, refused (ImageRejected) over ``max_pixels``; no decode."""
    try:
        im = open_image(data, media_type, max_pixels)
    except (ValueError, SyntaxError):
        raise damaged() from None
    size = im.size
    im.close()
    return size


def load_image(im: Image.Image) -> None:
    """Decode the pixels (the first frame of an animation); map failures to rejections."""
    try:
        im.load()
    except (MemoryError, Image.DecompressionBombError):
        raise too_many_pixels(im.size) from None
    except ValueError:
        raise  # the caller may retry a PNG without its metadata chunks
    except Exception as exc:  # OSError('truncated'), SyntaxError, struct.error, EOFError, …
        raise damaged() from exc


def decode_image(
    data: bytes,
    media_type: str,
    max_pixels: int,
    draft_size: Callable[[tuple[int, int]], tuple[int, int] | None] | None = None,
) -> tuple[Image.Image, tuple[int, int]]:
    """Header check, optional JPEG draft (DCT-domain downscale), then decode.

    ``draft_size`` maps the header size to the smallest size still needed; for JPEG the decoder
    then skips up to 7/8 of the work. A PNG that Pillow refuses for its metadata (a huge iCCP or
    text chunk) is retried once without those chunks. Returns the decoded image and the size
    the header declared (the image itself may be smaller after a draft).
    """
    try:
        return _decode_once(data, media_type, max_pixels, draft_size)
    except (ValueError, SyntaxError) as exc:
        stripped = strip_png_chunks(data) if media_type == "image/png" else None
        if stripped is None or stripped == data:
            raise damaged() from exc
        try:
            return _decode_once(stripped, media_type, max_pixels, draft_size)
        except (ValueError, SyntaxError) as exc2:
            raise damaged() from exc2


def _decode_once(data, media_type, max_pixels, draft_size):
    im = open_image(data, media_type, max_pixels)
    header_size = im.size
    if draft_size is not None and im.format in ("JPEG", "MPO"):
        wanted = draft_size(im.size)
        if wanted and wanted != im.size:
            with contextlib.suppress(Exception):  # not fatal: decode at full size
                im.draft(None, wanted)
    load_image(im)
    return im, header_size
