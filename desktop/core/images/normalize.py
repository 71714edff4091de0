"""Bring any decoded image to plain 8-bit sRGB L/RGB/RGBA, upright, with no metadata."""

from __future__ import annotations

import io

from PIL import Image, ImageCms

_ORIENTATION_TAG = 0x0112
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def read_orientation(im: Image.Image) -> int:
    """The EXIF orientation (1–8; 1 when absent or unreadable)."""
    try:
        value = im.getexif().get(_ORIENTATION_TAG, 1)
    except Exception:
        return 1
    return value if isinstance(value, int) and value in _TRANSPOSE else 1


def apply_orientation(im: Image.Image, orientation: int) -> Image.Image:
    method = _TRANSPOSE.get(orientation)
    return im.transpose(method) if method is not None else im


def swaps_axes(orientation: int) -> bool:
    return orientation in (5, 6, 7, 8)


def _has_palette_alpha(im: Image.Image) -> bool:
    return "transparency" in im.info or im.mode == "PA"


def _scale_to_8bit(im: Image.Image) -> Image.Image:
    """16-bit / 32-bit integer and float greyscale → L, keeping the picture's tonal range."""
    if im.mode.startswith("I;16"):
        im = im.convert("I")
    lo, hi = im.getextrema()
    if im.mode == "F":
        factor = 255.0 if hi <= 1.0 else 1.0
        if hi > 255:
            factor = 255.0 / hi
    else:
        factor = 1 / 256 if hi > 255 else 1.0
        if hi > 65535:
            factor = 255.0 / hi
    if lo < 0:
        factor = 255.0 / max(hi - lo, 1)
        return im.point(lambda v: (v - lo) * factor).convert("L")
    if factor != 1.0:
        im = im.point(lambda v: v * factor)
    return im.convert("L")


def to_resizable(im: Image.Image) -> Image.Image:
    """A mode the resampler handles well: L, LA, RGB, RGBA or CMYK (colour-managed later)."""
    mode = im.mode
    if mode in ("L", "RGB") and "transparency" in im.info:
        return im.convert(mode + "A")  # a PNG tRNS colour key: that colour becomes transparent
    if mode in ("L", "LA", "RGB", "RGBA", "CMYK"):
        return im
    if mode in ("P", "PA"):
        return im.convert("RGBA" if _has_palette_alpha(im) else "RGB")
    if mode == "1":
        return im.convert("L")
    if mode.startswith("I") or mode == "F":
        return _scale_to_8bit(im)
    if mode == "La":
        return im.convert("LA")
    if mode == "RGBa":
        return im.convert("RGBA")
    try:
        return im.convert("RGB")  # YCbCr, LAB, HSV, RGBX, …
    except Exception:
        return im.convert("RGBA")


def _is_srgb(profile: ImageCms.ImageCmsProfile) -> bool:
    try:
        description = ImageCms.getProfileDescription(profile) or ""
    except Exception:
        return False
    return "srgb" in description.lower()


def to_srgb(im: Image.Image, icc: bytes | None) -> Image.Image:
    """Convert to L/RGB/RGBA in sRGB. An embedded non-sRGB profile is honoured, then dropped."""
    profile = None
    if icc and im.mode in ("RGB", "RGBA", "CMYK"):
        try:
            profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        except Exception:
            profile = None  # unreadable profile: treat the pixels as sRGB
        if profile is not None and im.mode != "CMYK" and _is_srgb(profile):
            profile = None
    if profile is not None:
        alpha = im.getchannel("A") if im.mode == "RGBA" else None
        base = im.convert("RGB") if im.mode == "RGBA" else im
        try:
            converted = ImageCms.profileToProfile(
                base,
                profile,
                ImageCms.createProfile("sRGB"),
                renderingIntent=ImageCms.Intent.PERCEPTUAL,
                outputMode="RGB",
            )
        except Exception:
            converted = None
        if converted is not None:
            if alpha is not None:
                converted.putalpha(alpha)
            im = converted
    if im.mode == "LA":
        im = im.convert("RGBA")
    elif im.mode not in ("L", "RGB", "RGBA"):
        im = im.convert("RGB")
    return im


def drop_opaque_alpha(im: Image.Image) -> Image.Image:
    """RGBA whose alpha is fully opaque everywhere → RGB (cheap: run on the resized image)."""
    if im.mode == "RGBA" and im.getchannel("A").getextrema() == (255, 255):
        return im.convert("RGB")
    return im


def strip_metadata(im: Image.Image) -> Image.Image:
    """Forget every metadata block Pillow carries, so no encoder can write one back."""
    im.info = {}
    if hasattr(im, "_exif"):
        im._exif = None
    return im
