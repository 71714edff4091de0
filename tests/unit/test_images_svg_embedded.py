"""Rasters embedded in an SVG (<image href="data:…">): what the sanitiser lets through.

Closes mutation-testing gaps in svg_sanitize._check_embedded. These call the sanitiser
directly (in-process, no renderer): the count and pixel budgets at their exact limits, and the
words a user sees when an embedded image is refused."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from desktop.core.images import ImageRejected, errors
from desktop.core.images.svg_sanitize import (
    MAX_EMBEDDED_IMAGES,
    MAX_EMBEDDED_PIXELS,
    MAX_EMBEDDED_TOTAL_PIXELS,
    sanitize_svg,
)

from .image_corpus import png_bomb


def _tiny_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (2, 2), (255, 0, 0)).save(out, "PNG")
    return out.getvalue()


def _svg(*hrefs: str) -> bytes:
    images = "".join(f'<image width="8" height="8" href="{h}"/>' for h in hrefs)
    return f'<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8">{images}</svg>'.encode()


def _url(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode()


def _refusal(svg: bytes) -> ImageRejected:
    with pytest.raises(ImageRejected) as caught:
        sanitize_svg(svg)
    return caught.value


def test_up_to_the_image_count_limit_is_accepted_one_more_is_refused():
    url = _url(_tiny_png())
    out = sanitize_svg(_svg(*[url] * MAX_EMBEDDED_IMAGES))
    assert out.count(b"<image") == MAX_EMBEDDED_IMAGES
    refused = _refusal(_svg(*[url] * (MAX_EMBEDDED_IMAGES + 1)))
    assert refused.reason == errors.UNSAFE_SVG
    assert str(refused) == f"The SVG image embeds more than {MAX_EMBEDDED_IMAGES} images."


def test_line_wrapped_base64_is_read():
    """Editors wrap long base64 at 76 columns; the whitespace is not part of the data."""
    b64 = base64.b64encode(_tiny_png()).decode()
    wrapped = "data:image/png;base64,\n" + "\n".join(b64[i : i + 8] for i in range(0, len(b64), 8))
    assert b"<image" in sanitize_svg(_svg(wrapped))


def test_embedded_data_that_is_not_base64_is_refused():
    refused = _refusal(_svg("data:image/png,%89PNG"))
    assert refused.reason == errors.UNSAFE_SVG
    assert str(refused) == (
        "The SVG image embeds data that is not a base64 PNG, JPEG, GIF or WebP."
    )


def test_embedded_base64_with_a_stray_character_is_damaged():
    b64 = base64.b64encode(_tiny_png()).decode()
    refused = _refusal(_svg("data:image/png;base64," + b64[:20] + "*" + b64[20:]))
    assert refused.reason == errors.UNSAFE_SVG
    assert str(refused) == "The SVG image embeds an image whose data is damaged."


def test_embedded_data_that_is_not_an_image_is_refused():
    refused = _refusal(_svg("data:image/png;base64," + base64.b64encode(b"hello, world").decode()))
    assert refused.reason == errors.UNSAFE_SVG
    assert str(refused) == "The SVG image embeds data that is not a PNG, JPEG, GIF or WebP image."


def test_embedded_pixels_up_to_the_total_are_accepted_one_row_more_is_refused():
    """Two images at the per-image cap make exactly the total cap; both numbers are inclusive."""
    side = int(MAX_EMBEDDED_PIXELS**0.5)
    assert (
        side * side == MAX_EMBEDDED_PIXELS and 2 * MAX_EMBEDDED_PIXELS == MAX_EMBEDDED_TOTAL_PIXELS
    )
    at_cap = _url(png_bomb(side, side))
    assert sanitize_svg(_svg(at_cap, at_cap)).count(b"<image") == 2
    refused = _refusal(_svg(at_cap, at_cap, _url(png_bomb(side, 1))))
    assert refused.reason == errors.UNSAFE_SVG
    assert str(refused) == "The images embedded in the SVG are too large together to draw safely."
