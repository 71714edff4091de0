"""SVG: rejected without a rasteriser; with the Qt one registered, prepared like any PNG; hostile
SVG (bombs, local files, huge embedded images, runaways) refused quickly and never drawn."""

from __future__ import annotations

import base64
import contextlib
import io
import struct
import sys
import threading
import time
import zlib

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


def test_a_failing_or_empty_rasterizer_is_a_rejection(no_rasterizer):
    def broken(data: bytes, long_edge: int) -> bytes:
        raise ValueError("boom")

    def blank(data: bytes, long_edge: int) -> bytes:
        return b""

    for rasterizer in (broken, blank):
        set_svg_rasterizer(rasterizer)
        with pytest.raises(ImageRejected) as caught:
            prepare_image(SVG)
        assert caught.value.reason == "damaged"
        assert str(caught.value) == "The SVG image is damaged or can't be drawn."


@pytest.fixture
def qt_rasterizer(qapp):
    pytest.importorskip("PySide6.QtSvg")
    from desktop.ui.imaging.svg_process import rasterize_svg

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


# -- hostile SVG ------------------------------------------------------------------------------


def use_bomb(levels: int, fan: int = 10) -> bytes:
    """Each level uses the one below `fan` times: 10**levels rects from ~250 bytes a level.
    Drawn in the app's process, 6 levels (1.7 KB) took 0.84 s and each level more ×10."""
    parts = [
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        'width="100" height="100"><defs><rect id="a0" width="1" height="1"/>'
    ]
    for i in range(1, levels + 1):
        parts.append(f'<g id="a{i}">' + f'<use xlink:href="#a{i - 1}"/>' * fan + "</g>")
    parts.append(f'</defs><use xlink:href="#a{levels}"/></svg>')
    return "".join(parts).encode()


def png_of(size: tuple[int, int], color: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header declares width×height (no pixel data: only the header is read)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b""))


def data_url(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode()


def svg_with(body: str) -> bytes:
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        f'width="64" height="64">{body}</svg>'
    ).encode()


def test_a_nested_use_bomb_is_refused_in_milliseconds(qt_rasterizer):
    bomb = use_bomb(7)  # ~1.9 KB; drawn, 10 million rects (~8 s in Qt)
    start = time.perf_counter()
    with pytest.raises(ImageRejected) as caught:
        prepare_image(bomb)
    elapsed = time.perf_counter() - start
    assert caught.value.reason == "unsafe_svg"
    assert "repeats its shapes too often" in str(caught.value)
    assert elapsed < 0.5, f"{elapsed:.2f} s"


def test_a_modest_use_tree_still_draws(qt_rasterizer):
    prepared = prepare_image(use_bomb(3))  # 1,000 rects: an ordinary icon sheet
    assert prepared.media_type == "image/png"


SECRET = (13, 201, 77)  # a colour nothing else here draws


@pytest.mark.parametrize(
    "reference",
    [
        '<image width="64" height="64" href="{abs}"/>',
        '<image width="64" height="64" xlink:href="file://{abs}"/>',
        '<image width="64" height="64" href="secret.png"/>',  # relative: the working folder
        '<rect width="64" height="64" style="fill:url({abs})"/>',
        '<use href="{abs}#x"/>',
        '<image width="64" height="64" href="http://example.test/x.png"/>',
    ],
)
def test_an_svg_referring_to_a_local_file_sends_nothing_of_it(
    qt_rasterizer, tmp_path, monkeypatch, reference
):
    secret = tmp_path / "secret.png"
    secret.write_bytes(png_of((64, 64), SECRET))
    monkeypatch.chdir(tmp_path)
    svg = svg_with(reference.format(abs=secret))
    try:
        prepared = prepare_image(svg)
    except ImageRejected as exc:
        assert exc.reason == "unsafe_svg"
        assert str(exc) == "The SVG image refers to a file or address outside itself."
        return
    colours = Image.open(io.BytesIO(prepared.data)).convert("RGB").getcolors(1 << 20) or []
    assert SECRET not in [c for _, c in colours], "the local file was drawn into what is sent"
    pytest.fail("an SVG referring outside itself was accepted")


def test_a_small_embedded_png_is_drawn(qt_rasterizer):
    red = png_of((16, 16), (255, 0, 0))
    prepared = prepare_image(svg_with(f'<image width="64" height="64" href="{data_url(red)}"/>'))
    im = Image.open(io.BytesIO(prepared.data)).convert("RGB")
    assert im.getpixel((im.width // 2, im.height // 2)) == (255, 0, 0)


def test_huge_embedded_images_are_refused_from_their_headers(qt_rasterizer):
    huge = data_url(png_header_only(8000, 8000))
    start = time.perf_counter()
    with pytest.raises(ImageRejected) as caught:
        prepare_image(svg_with(f'<image width="8" height="8" href="{huge}"/>'))
    assert caught.value.reason == "too_many_pixels"
    assert "embeds an image too large" in str(caught.value) and "8000×8000" in str(caught.value)
    many = data_url(png_header_only(3000, 3000))  # 9 MP each: fine alone, not four together
    with pytest.raises(ImageRejected) as caught:
        prepare_image(svg_with(f'<image width="8" height="8" href="{many}"/>' * 4))
    assert "too large together" in str(caught.value)
    assert time.perf_counter() - start < 0.5


def test_doctype_entities_and_self_reference_are_refused(qt_rasterizer):
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b'<svg xmlns="http://www.w3.org/2000/svg"><text>&b;</text></svg>'
    )
    with pytest.raises(ImageRejected, match="DOCTYPE"):
        prepare_image(laughs)
    loop = svg_with('<g id="a"><use href="#b"/></g><g id="b"><use href="#a"/></g>')
    with pytest.raises(ImageRejected, match="refers to itself"):
        prepare_image(loop)
    deep = svg_with("<g>" * 500 + "</g>" * 500)
    with pytest.raises(ImageRejected, match="nested too deeply"):
        prepare_image(deep)


def test_the_renderer_sees_only_what_was_checked():
    from desktop.core.images.svg_sanitize import sanitize_svg

    svg = (
        b'<?xml version="1.0"?><?xml-stylesheet href="file:///etc/x.css"?>'
        b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:i="http://www.inkscape.org/ns" '
        b'i:version="1"><!-- note --><i:meta>x</i:meta><rect width="1" height="1"/></svg>'
    )
    out = sanitize_svg(svg).decode()
    assert "stylesheet" not in out and "note" not in out and "inkscape" not in out
    assert "<rect" in out and out.count("<svg") == 1


def test_a_runaway_the_sanitiser_allows_is_stopped_by_the_time_limit(qt_rasterizer, monkeypatch):
    from desktop.ui.imaging import svg_process

    monkeypatch.setattr(svg_process, "TIME_LIMIT_S", 1.0)
    # 2,000 shapes in a marker at each of 15,000 vertices: 30 M draws, legal for the sanitiser.
    rects = "".join(f'<rect x="{i % 50}" y="{i // 50}" width="1" height="1"/>' for i in range(2000))
    points = " ".join(f"L{i % 1000} {i // 1000 * 10}" for i in range(15000))
    svg = svg_with(
        f'<defs><marker id="m" markerWidth="50" markerHeight="50">{rects}</marker></defs>'
        f'<path d="M0 0 {points}" marker-mid="url(#m)" stroke="black" fill="none"/>'
    )
    start = time.perf_counter()
    with pytest.raises(ImageRejected, match="took too long"):
        prepare_image(svg)
    assert time.perf_counter() - start < 3.0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS is enforced on Linux")
def test_the_rasteriser_child_stays_within_its_memory_cap(qt_rasterizer):
    """Past the sanitiser (called directly), 8 embedded 8000×8000 PNGs took 2.2 GB in-process."""
    import resource

    from desktop.ui.imaging.svg_child import MEMORY_HEADROOM

    huge = data_url(png_of((8000, 8000), (200, 10, 10)))
    svg = svg_with(f'<image width="8" height="8" href="{huge}"/>' * 8)
    with contextlib.suppress(ImageRejected):  # killed by the cap: also fine
        qt_rasterizer(svg, 64)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    assert peak < MEMORY_HEADROOM + 200 * 1024 * 1024, f"child peaked at {peak >> 20} MB"


def test_svg_thumbnails_take_the_same_route(qt_rasterizer):
    from desktop.core.images import make_thumbnail

    with pytest.raises(ImageRejected, match="repeats its shapes"):
        make_thumbnail(use_bomb(7), 96)
