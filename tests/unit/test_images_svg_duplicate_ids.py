"""A <use> bomb must not hide behind a duplicate id.

Qt resolves a reference to an id defined twice to the later definition when the <use> comes
after both (and to the earlier one when it sits between them). The sanitiser counted only the
first, so an empty decoy defined first made a 10⁵-element bomb look like a handful of elements:
it reached the renderer and ran into the time limit instead of being refused at once."""

from __future__ import annotations

import pytest

from desktop.core.images import ImageRejected, errors
from desktop.core.images.svg_sanitize import sanitize_svg

NS = 'xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'


def _bomb_behind_decoys(levels: int = 5, fan_out: int = 10, decoys_first: bool = True) -> bytes:
    """Level k is ``fan_out`` uses of level k-1, each id also declared by an empty decoy."""
    decoys = "".join(f'<g id="L{k}"/>' for k in range(1, levels + 1))
    real = ['<rect id="L0" width="1" height="1"/>']
    for k in range(1, levels + 1):
        uses = f'<use xlink:href="#L{k - 1}"/>' * fan_out
        real.append(f'<g id="L{k}">{uses}</g>')
    defs = decoys + "".join(real) if decoys_first else "".join(real) + decoys
    body = f'<defs>{defs}</defs><use xlink:href="#L{levels}"/>'
    return f'<svg {NS} width="8" height="8">{body}</svg>'.encode()


@pytest.mark.parametrize("decoys_first", [True, False])
def test_a_use_bomb_behind_decoy_ids_is_refused(decoys_first):
    with pytest.raises(ImageRejected) as caught:
        sanitize_svg(_bomb_behind_decoys(decoys_first=decoys_first))
    assert caught.value.reason == errors.UNSAFE_SVG
    assert "repeats its shapes too often" in str(caught.value)


def test_a_harmless_duplicate_id_is_still_accepted():
    svg = (
        f'<svg {NS} width="8" height="8"><rect id="a" width="1" height="1"/>'
        '<rect id="a" x="2" width="1" height="1"/><use xlink:href="#a" x="4"/></svg>'
    ).encode()
    assert sanitize_svg(svg).count(b"<rect") == 2


def test_a_use_of_an_id_that_is_not_there_draws_nothing_and_is_accepted():
    svg = (
        f'<svg {NS} width="8" height="8"><rect width="1" height="1"/>'
        '<use xlink:href="#nowhere" x="4"/></svg>'
    ).encode()
    assert sanitize_svg(svg).count(b"<rect") == 1


@pytest.mark.timeout(20)  # a hang to the user: counted per <use>, this took 43 s (2 cores, busy)
def test_many_uses_of_an_id_defined_many_times_are_counted_once_each():
    """N definitions × N uses must not cost N² steps."""
    n = 9_990
    rects, uses = '<rect id="a"/>' * n, '<use xlink:href="#a"/>' * n
    svg = f'<svg {NS} width="8" height="8"><defs>{rects}</defs>{uses}</svg>'.encode()
    with pytest.raises(ImageRejected) as caught:
        sanitize_svg(svg)
    assert "repeats its shapes too often" in str(caught.value)


def test_a_use_inside_a_duplicate_of_its_own_target_is_a_loop():
    svg = (
        f'<svg {NS} width="8" height="8"><rect id="a" width="1" height="1"/>'
        '<g id="a"><use xlink:href="#a"/></g></svg>'
    ).encode()
    with pytest.raises(ImageRejected, match="in a loop"):
        sanitize_svg(svg)
