"""Size, format and byte budget: turn a clean image into encoded bytes within the limits."""

from __future__ import annotations

import io
import math

from PIL import Image, ImageChops, ImageStat

from desktop.core.images import errors
from desktop.core.images.errors import ImageRejected
from desktop.core.images.limits import HISTORY_SAFE_EDGE, ImageLimits, patch_fit

RESAMPLE = Image.Resampling.LANCZOS
REDUCING_GAP = 1.5
"""Box-reduce by an integer factor first, then LANCZOS over the last ≥1.5×: within half a grey
level of a full LANCZOS pass on average, and about twice as fast on 5K screenshots."""
PNG_COMPRESS_LEVEL = 3
"""zlib levels 1–3 use the fast matcher. On the test corpus's screenshot level 3 is 1.2–2× faster
than the default 6 (1568 px: 49 vs 59 ms true colour, 8 vs 18 ms palette); true-colour sizes
are within a few per cent either way, palette PNGs come out ~15 % larger (103 vs 88 KB)."""
JPEG_QUALITY = 85
JPEG_QUALITY_STEPS = (85, 75, 65, 55, 45)
SMALLEST_EDGE = 32

PHOTO_SOURCES = frozenset({"image/jpeg", "image/heic", "image/heif", "image/avif"})
_SAMPLE_EDGE = 192


def target_size(width: int, height: int, limits: ImageLimits) -> tuple[int, int]:
    """The largest size within the limits' long edge (never over HISTORY_SAFE_EDGE), short
    edge, pixel and patch caps, keeping the aspect ratio; never larger than the source."""
    edge = min(limits.max_long_edge, HISTORY_SAFE_EDGE)
    short = limits.max_short_edge
    pixels = limits.max_pixels
    scale = min(1.0, edge / max(width, height))
    if short:
        scale = min(scale, short / min(width, height))
    if pixels:
        scale = min(scale, math.sqrt(pixels / (width * height)))
    w, h = width, height
    if scale < 1.0:
        w = max(1, round(width * scale))
        h = max(1, round(height * scale))

        def over() -> bool:
            return (
                max(w, h) > edge
                or bool(short and min(w, h) > short)
                or bool(pixels and w * h > pixels)
            )

        while over():
            if w >= h:
                w -= 1
                h = max(1, round(w * height / width))
            else:
                h -= 1
                w = max(1, round(h * width / height))
    if limits.patch_edge and limits.max_patches:
        w, h = patch_fit(w, h, limits.patch_edge, limits.max_patches)
    return w, h


def resize(im: Image.Image, size: tuple[int, int]) -> Image.Image:
    if im.size == size:
        return im
    return im.resize(size, RESAMPLE, reducing_gap=REDUCING_GAP)


def looks_like_graphic(im: Image.Image, source_type: str) -> bool:
    """Screenshot, diagram or logo (→ lossless) rather than a photo (→ JPEG)?

    Cheap: camera formats are photos; otherwise count distinct colours in a nearest-neighbour
    sample of at most 192×192 pixels. Flat UI colours and anti-aliased text repeat a lot; camera
    noise does not.
    """
    if source_type in PHOTO_SOURCES:
        return False
    w, h = im.size
    scale = min(1.0, _SAMPLE_EDGE / max(w, h))
    sample_size = (max(1, round(w * scale)), max(1, round(h * scale)))
    sample = im.resize(sample_size, Image.Resampling.NEAREST)
    if sample.mode not in ("L", "RGB"):
        sample = sample.convert("RGB")
    samples = sample.width * sample.height
    limit = max(64, min(4096, samples // 4))
    return sample.getcolors(limit) is not None


def _flatten(im: Image.Image) -> Image.Image:
    if im.mode != "RGBA":
        return im
    background = Image.new("RGB", im.size, (255, 255, 255))
    background.paste(im, mask=im.getchannel("A"))
    return background


def choose_format(has_alpha: bool, graphic: bool, formats: frozenset[str]) -> str:
    if has_alpha or graphic:
        order = ["image/png", "image/webp", "image/jpeg", "image/gif"]
    else:
        order = ["image/jpeg", "image/webp", "image/png", "image/gif"]
    for media_type in order:
        if media_type in formats:
            return media_type
    allowed = ", ".join(sorted(formats)) or "none"
    raise ImageRejected(
        errors.NO_FORMAT,
        f"This agent's model accepts no image format this app can write ({allowed}).",
    )


def encode(
    im: Image.Image, media_type: str, *, quality: int = JPEG_QUALITY, lossless: bool = False
) -> bytes:
    out = io.BytesIO()
    if media_type == "image/png":
        im.save(out, "PNG", compress_level=PNG_COMPRESS_LEVEL)
    elif media_type == "image/jpeg":
        _flatten(im).save(out, "JPEG", quality=quality, optimize=False, subsampling="4:2:0")
    elif media_type == "image/webp":
        if lossless:
            im.save(out, "WEBP", lossless=True, quality=50, method=3)
        else:
            im.save(out, "WEBP", quality=quality, method=4)
    elif media_type == "image/gif":
        _flatten(im).convert("RGB").quantize(256).save(out, "GIF")
    else:  # pragma: no cover - choose_format only returns the above
        raise ValueError(media_type)
    return out.getvalue()


def _lossy_fallback(has_alpha: bool, formats: frozenset[str]) -> str | None:
    order = ["image/webp", "image/jpeg"] if has_alpha else ["image/jpeg", "image/webp"]
    for media_type in order:
        if media_type in formats:
            return media_type
    return None


def _shrink(im: Image.Image, encoded_size: int, max_bytes: int, lossless: bool) -> Image.Image:
    ratio = math.sqrt(max_bytes / encoded_size) * (0.95 if lossless else 0.9)
    ratio = min(0.9, max(0.5, ratio))
    w, h = im.size
    size = (max(1, round(w * ratio)), max(1, round(h * ratio)))
    if max(size) < SMALLEST_EDGE:
        raise ImageRejected(errors.CANNOT_FIT, "The image can't be made small enough to send.")
    return im.resize(size, RESAMPLE)


PALETTE_MAX_ERROR = 1.0
"""Largest mean per-channel error (0–255 levels) a 256-colour palette may add to a graphic."""


def palette_version(im: Image.Image) -> Image.Image | None:
    """A 256-colour version of a screenshot/diagram when it is visually the same, else None.

    A fitted 5K screenshot has thousands of anti-aliasing shades, so true-colour PNG stays
    large (~half the original file); as an 8-bit palette PNG it is 3–5× smaller. Fast octree
    quantisation without dithering (~20 ms at 1568 px); refused when a sample shows a mean
    error above PALETTE_MAX_ERROR (photos or gradients inside the screenshot)."""
    if im.mode != "RGB":
        return None
    quantized = im.quantize(256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    w, h = im.size
    scale = min(1.0, 512 / max(w, h))
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    a = im.resize(size, Image.Resampling.NEAREST)
    b = quantized.resize(size, Image.Resampling.NEAREST).convert("RGB")
    error = sum(ImageStat.Stat(ImageChops.difference(a, b)).mean) / 3
    return quantized if error <= PALETTE_MAX_ERROR else None


def encode_to_fit(
    im: Image.Image, graphic: bool, limits: ImageLimits
) -> tuple[bytes, str, Image.Image]:
    """Encode ``im`` in the best allowed format, stepping quality then size down to max_bytes.

    Returns the bytes, their media type and the image actually encoded (its size may be smaller).
    """
    has_alpha = im.mode == "RGBA"
    media_type = choose_format(has_alpha, graphic, limits.formats)
    lossless = media_type == "image/png" or (media_type == "image/webp" and graphic)
    palette = palette_version(im) if media_type == "image/png" and graphic else None
    if palette is not None:
        data = encode(palette, media_type, lossless=True)
        if len(data) <= limits.max_bytes:
            return data, media_type, im
    data = encode(im, media_type, lossless=lossless)
    if len(data) <= limits.max_bytes:
        return data, media_type, im
    if lossless:  # too big for lossless: a lossy format usually fits without shrinking
        lossy = _lossy_fallback(has_alpha, limits.formats)
        if lossy is not None:
            media_type, lossless = lossy, False
        while lossless:
            im = _shrink(im, len(data), limits.max_bytes, lossless=True)
            data = encode(im, media_type, lossless=True)
            if len(data) <= limits.max_bytes:
                return data, media_type, im
    if media_type == "image/gif":
        while len(data) > limits.max_bytes:
            im = _shrink(im, len(data), limits.max_bytes, lossless=True)
            data = encode(im, media_type)
        return data, media_type, im
    for quality in JPEG_QUALITY_STEPS:
        data = encode(im, media_type, quality=quality)
        if len(data) <= limits.max_bytes:
            return data, media_type, im
    while True:
        im = _shrink(im, len(data), limits.max_bytes, lossless=False)
        data = encode(im, media_type, quality=JPEG_QUALITY_STEPS[1])
        if len(data) <= limits.max_bytes:
            return data, media_type, im
