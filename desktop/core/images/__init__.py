"""The image pipeline: bytes or files in, a ready Letta content part (or a reason) out.

Qt-free and thread-safe: call it from worker threads. SVG needs a rasteriser registered by the
app (``set_svg_rasterizer``); HEIC/HEIF support (pillow-heif) is registered on first use.
"""

from .errors import ImageRejected
from .limits import DEFAULT_FORMATS, ImageLimits
from .pipeline import (
    DecodedImage,
    decode_for_prepare,
    prepare_decoded,
    prepare_file,
    prepare_image,
)
from .prepared import PreparedImage
from .sniff import sniff_media_type
from .svg import set_svg_rasterizer
from .thumbnails import decode_base64_thumbnail, make_thumbnail, thumbnail_from_decoded
from .urls import is_public_image_url

__all__ = [
    "DEFAULT_FORMATS",
    "DecodedImage",
    "ImageLimits",
    "ImageRejected",
    "PreparedImage",
    "decode_base64_thumbnail",
    "decode_for_prepare",
    "is_public_image_url",
    "make_thumbnail",
    "prepare_decoded",
    "prepare_file",
    "prepare_image",
    "set_svg_rasterizer",
    "sniff_media_type",
    "thumbnail_from_decoded",
]
