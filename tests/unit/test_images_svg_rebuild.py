"""The SVG the renderer gets is rebuilt from the parsed tree: exactly what was checked.

Closes mutation-testing gaps in svg_sanitize._serialise: text, tails, xlink:/xml: attributes
and un-namespaced SVG must come through intact (the drawing must not change), and foreign
namespaces (editor metadata) must not."""

from __future__ import annotations

from desktop.core.images.svg_sanitize import sanitize_svg

HEADER = '<?xml version="1.0" encoding="UTF-8"?>\n'
XMLNS = ' xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'


def test_rebuilt_svg_keeps_text_tails_and_xlink_and_xml_attributes():
    svg = (
        b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'
        b' xmlns:i="http://www.inkscape.org/ns" i:label="page" width="10" height="10">'
        b'<text id="t" i:x="1" x="1" xml:space="preserve">a &lt; b</text>tail &amp; more'
        b'<use xlink:href="#t"/><i:meta>dropped</i:meta></svg>'
    )
    assert sanitize_svg(svg).decode() == (
        f'{HEADER}<svg{XMLNS} width="10" height="10">'
        '<text id="t" x="1" xml:space="preserve">a &lt; b</text>tail &amp; more'
        '<use xlink:href="#t"></use></svg>'
    )


def test_svg_without_a_namespace_keeps_its_shapes():
    """Hand-written SVG often omits xmlns; browsers and the renderer still draw it."""
    out = sanitize_svg(b'<svg width="4" height="4"><rect width="2" height="2"/></svg>').decode()
    assert (
        out == f'{HEADER}<svg{XMLNS} width="4" height="4"><rect width="2" height="2"></rect></svg>'
    )
