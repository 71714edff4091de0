"""The image pipeline: bytes or files in, a ready Letta content part (or a reason) out.

Qt-free and thread-safe: call it from worker threads. SVG needs a rasteriser registered by the
app (``set_svg_rasterizer``); HEIC/HEIF support (pillow-heif) is registered on first use.

The Pillow-backed parts (``pipeline``, ``thumbnails``) load on first use of one of their names
(module ``__getattr__``): importing limits, errors and sniffing stays cheap at start-up.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from desktop.core.images.errors import ImageRejected
from desktop.core.images.limits import DEFAULT_FORMATS, ImageLimits
from desktop.core.images.prepared import PreparedImage
from desktop.core.images.sniff import sniff_media_type
from desktop.core.images.svg import set_svg_rasterizer
from desktop.core.images.urls import is_public_image_url

if TYPE_CHECKING:
    from desktop.core.images.pipeline import (
        DecodedImage,
        decode_for_prepare,
        prepare_decoded,
        prepare_file,
        prepare_image,
    )
    from desktop.core.images.thumbnails import (
        decode_base64_thumbnail,
        make_thumbnail,
        thumbnail_from_decoded,
        thumbnail_image,
        thumbnail_with_size,
    )

_LAZY = {
    "DecodedImage": "pipeline",
    "decode_for_prepare": "pipeline",
    "prepare_decoded": "pipeline",
    "prepare_file": "pipeline",
    "prepare_image": "pipeline",
    "decode_base64_thumbnail": "thumbnails",
    "make_thumbnail": "thumbnails",
    "thumbnail_from_decoded": "thumbnails",
    "thumbnail_image": "thumbnails",
    "thumbnail_with_size": "thumbnails",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{module}", __name__), name)


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
    "thumbnail_image",
    "thumbnail_with_size",
]
