"""The sanitiser's limits at their exact values, and the words of its refusals.

Closes mutation-testing gaps in svg_sanitize (_parse, _check_styles, _expanded_size,
sanitize_svg). Called in-process: the renderer tests in test_images_svg.py reach the sanitiser
only behind the rasteriser, where a wrong count or message is not seen."""

from __future__ import annotations

import pytest

from desktop.core.images import ImageRejected, errors
from desktop.core.images.svg_sanitize import (
    MAX_DEPTH,
    MAX_ELEMENTS,
    MAX_EXPANDED,
    MAX_SVG_BYTES,
    sanitize_svg,
)

NS = 'xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'
DAMAGED = "The SVG image is damaged or can't be drawn."
TOO_BIG = (
    f"The SVG image has too many elements or is nested too deeply (the limits are "
    f"{MAX_ELEMENTS:,} elements, {MAX_DEPTH} levels)."
)


def _svg(body: str) -> bytes:
    return f'<svg {NS} width="8" height="8">{body}</svg>'.encode()


def _refusal(svg: bytes) -> ImageRejected:
    with pytest.raises(ImageRejected) as caught:
        sanitize_svg(svg)
    return caught.value


def test_element_count_up_to_the_limit_is_accepted_one_more_is_refused():
    assert sanitize_svg(_svg("<g/>" * (MAX_ELEMENTS - 1))).count(b"<g>") == MAX_ELEMENTS - 1
    refused = _refusal(_svg("<g/>" * MAX_ELEMENTS))
    assert (refused.reason, str(refused)) == (errors.UNSAFE_SVG, TOO_BIG)


def test_nesting_up_to_the_limit_is_accepted_one_more_level_is_refused():
    levels = MAX_DEPTH - 1  # below the root
    sanitize_svg(_svg("<g>" * levels + "</g>" * levels))
    refused = _refusal(_svg("<g>" * (levels + 1) + "</g>" * (levels + 1)))
    assert str(refused) == TOO_BIG


def test_depth_is_counted_where_it_is_reached_after_closed_siblings():
    """A closed element gives back exactly its own level: root, g, g/ closed, then 199 more."""
    body = "<g><g/>" + "<g>" * (MAX_DEPTH - 1) + "</g>" * (MAX_DEPTH - 1) + "</g>"
    assert str(_refusal(_svg(body))) == TOO_BIG
    body = "<g><g/>" + "<g>" * (MAX_DEPTH - 2) + "</g>" * (MAX_DEPTH - 2) + "</g>"
    sanitize_svg(_svg(body))


def test_text_across_the_64_kb_read_chunks_is_kept_byte_for_byte():
    text = "".join(chr(ord("a") + i % 26) for i in range(150_000))
    out = sanitize_svg(_svg(f"<desc>{text}</desc>")).decode()
    assert f"<desc>{text}</desc>" in out


@pytest.mark.parametrize(
    "svg",
    [b"<svg><rect/>", b"<svg/>trailing", b"not xml at all", b"", b"<svg><rect></svg>"],
)
def test_broken_xml_is_damaged(svg):
    refused = _refusal(svg)
    assert (refused.reason, str(refused)) == (errors.DAMAGED, DAMAGED)


def test_a_root_that_is_not_svg_is_damaged():
    refused = _refusal(b'<html xmlns="http://www.w3.org/1999/xhtml"><svg/></html>')
    assert (refused.reason, str(refused)) == (errors.DAMAGED, DAMAGED)


@pytest.mark.parametrize("rule", ["@import url(a.css);", "@IMPORT 'a.css';"])
def test_a_style_sheet_import_is_refused(rule):
    refused = _refusal(_svg(f"<style>{rule}</style>"))
    assert (refused.reason, str(refused)) == (
        errors.UNSAFE_SVG,
        "The SVG image imports a style sheet from elsewhere.",
    )


def test_at_import_in_drawn_text_is_just_text():
    out = sanitize_svg(_svg("<text>write @import to load CSS</text>"))
    assert b"<text>write @import to load CSS</text>" in out


def test_the_size_limit_is_inclusive_and_names_the_limit():
    head = _svg("")
    sanitize_svg(head + b" " * (MAX_SVG_BYTES - len(head)))
    refused = _refusal(head + b" " * (MAX_SVG_BYTES - len(head) + 1))
    assert (refused.reason, str(refused)) == (
        errors.UNSAFE_SVG,
        "The SVG image is too large (over 20 MB).",
    )


def test_a_use_that_refers_to_its_own_group_is_a_loop():
    refused = _refusal(_svg('<g id="a"><use xlink:href="#a"/></g>'))
    assert (refused.reason, str(refused)) == (
        errors.UNSAFE_SVG,
        "The SVG image refers to itself in a loop.",
    )


def test_a_use_without_a_reference_is_harmless():
    assert b"<use></use>" in sanitize_svg(_svg('<rect id="r"/><use/>'))


def _expanding_to(total: int) -> bytes:
    """Exactly ``total`` elements once every <use> is expanded (the root counts one)."""
    group = '<g id="g">' + '<use xlink:href="#r"/>' * 100 + "</g>"  # 1 + 100 × 2 = 201
    fixed = 1 + 1 + 201  # root, <rect id="r">, the group
    uses, rest = divmod(total - fixed, 202)  # each use of the group: itself + 201
    body = '<rect id="r"/>' + group + '<use xlink:href="#g"/>' * uses + "<g/>" * rest
    return _svg(body)


def test_expanded_size_up_to_the_limit_is_accepted_one_more_is_refused():
    sanitize_svg(_expanding_to(MAX_EXPANDED))
    refused = _refusal(_expanding_to(MAX_EXPANDED + 1))
    assert refused.reason == errors.UNSAFE_SVG
    assert "repeats its shapes too often" in str(refused)
