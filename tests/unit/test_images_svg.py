"""SVG: rejected without a rasteriser; with the Qt one registered, prepared like any PNG."""

from __future__ import annotations

import io
import threading

import pytest
from PIL import Image

from desktop.core.images import ImageRejected, prepare_image, set_svg_rasterizer

SVG = (
    b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="300" height="150">'
    b'<rect width="150" height="150" fill="#ff0000"/>'
    b'<circle cx="225" cy="75" r="60" fill="#0000ff"/></svg>'
)


@pytest.fixture
def no_rasterizer():
    set_svg_rasterizer(None)
    yield
    set_svg_rasterizer(None)


def test_svg_without_rasterizer_is_rejected(no_rasterizer):
    with pytest.raises(ImageRejected) as caught:
        prepare_image(SVG)
    assert str(caught.value) == "SVG images can't be converted here."
    assert caught.value.reason == "svg_unavailable"


def test_failing_rasterizer_is_a_rejection(no_rasterizer):
    def broken(data: bytes, long_edge: int) -> bytes:
        raise ValueError("boom")

    set_svg_rasterizer(broken)
    with pytest.raises(ImageRejected) as caught:
        prepare_image(SVG)
    assert caught.value.reason == "damaged"


@pytest.fixture
def qt_rasterizer(qapp):
    pytest.importorskip("PySide6.QtSvg")
    from desktop.ui.svg_process import rasterize_svg

    set_svg_rasterizer(rasterize_svg)
    yield rasterize_svg
    set_svg_rasterizer(None)


def test_qt_rasterizer_renders_at_the_requested_long_edge(qt_rasterizer):
    im = Image.open(io.BytesIO(qt_rasterizer(SVG, 400)))
    assert im.format == "PNG"
    assert im.size == (400, 200)
    assert im.convert("RGB").getpixel((50, 100)) == (255, 0, 0)
    assert im.convert("RGB").getpixel((300, 100)) == (0, 0, 255)
    assert im.convert("RGBA").getpixel((399, 0))[3] == 0  # transparent outside the shapes


def test_qt_rasterizer_rejects_garbage(qt_rasterizer):
    with pytest.raises(ValueError):
        qt_rasterizer(b"<svg this is not xml", 100)


def test_svg_is_prepared_with_the_qt_rasterizer(qt_rasterizer):
    prepared = prepare_image(SVG)
    assert prepared.original_media_type == "image/svg+xml"
    assert prepared.media_type == "image/png"
    assert (prepared.width, prepared.height) == (1568, 784)
    assert prepared.summary().startswith("1568×784 SVG → 1568×784 PNG")


def test_qt_rasterizer_works_on_a_worker_thread(qt_rasterizer):
    results: list[bytes] = []
    errors: list[BaseException] = []

    def work():
        try:
            results.append(qt_rasterizer(SVG, 120))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(30)
    assert not errors
    assert Image.open(io.BytesIO(results[0])).size == (120, 60)
