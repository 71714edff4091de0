"""Edit geometry and draft files: the rectangle a drag draws, what a draft may hold, undo/redo.

Closes mutation-testing gaps in desktop/core/images/edits.py: the editor builds a box from the
two corners of a drag (in any direction), and a draft file is read back into the same Edit."""

from __future__ import annotations

import pytest

from desktop.core.images.edits import MAX_BOXES, MAX_COORDINATE, Edit, EditHistory, Rect, apply_edit


@pytest.mark.parametrize(
    ("corners", "expected"),
    [
        ((2, 3, 7, 7), Rect(2, 3, 5, 4)),  # dragged down-right
        ((7, 7, 2, 3), Rect(2, 3, 5, 4)),  # dragged up-left
        ((7, 3, 2, 7), Rect(2, 3, 5, 4)),  # dragged down-left
        ((2, 7, 7, 3), Rect(2, 3, 5, 4)),  # dragged up-right
    ],
)
def test_rect_from_corners_in_any_drag_direction(corners, expected):
    assert Rect.from_corners(*corners) == expected


def test_rect_from_corners_of_a_click_is_empty():
    rect = Rect.from_corners(4, 9, 4, 9)
    assert rect == Rect(4, 9, 0, 0)
    assert rect.empty


def test_rect_from_json_accepts_the_image_edge_and_the_largest_coordinate():
    """A box at the top-left corner (0, 0) is the commonest redaction; it must survive a draft."""
    assert Rect.from_json([0, 0, 5, 6]) == Rect(0, 0, 5, 6)
    big = [MAX_COORDINATE] * 4
    assert Rect.from_json(big) == Rect(*big)
    assert Rect.from_json([0, 0, MAX_COORDINATE + 1, 1]) is None
    assert Rect.from_json([-1, 0, 5, 5]) is None


@pytest.mark.parametrize("data", [[3, 3, 0, 5], [3, 3, 5, 0], [0, 0, 0, 0]])
def test_rect_from_json_refuses_an_empty_rectangle(data):
    assert Rect.from_json(data) is None


def test_edit_from_json_without_crop_reads_as_no_crop():
    edit = Edit.from_json({"source": [10, 20]})
    assert edit == Edit((10, 20))
    assert edit.crop is None
    assert edit.identity
    assert edit.size() == (10, 20)


def test_edit_from_json_accepts_the_smallest_and_largest_source():
    assert Edit.from_json({"source": [1, 1]}) == Edit((1, 1))
    assert Edit.from_json({"source": [MAX_COORDINATE, 1]}) == Edit((MAX_COORDINATE, 1))
    assert Edit.from_json({"source": [MAX_COORDINATE + 1, 1]}) is None
    assert Edit.from_json({"source": [0, 1]}) is None


def test_edit_from_json_reads_exactly_max_boxes():
    """The editor can draw MAX_BOXES boxes (with_box stops there); that draft must load."""
    boxes = [[i % 100, i // 100, 1, 1] for i in range(MAX_BOXES)]
    edit = Edit.from_json({"source": [100, 100], "boxes": boxes})
    assert edit is not None and len(edit.boxes) == MAX_BOXES
    assert Edit.from_json({"source": [100, 100], "boxes": [*boxes, [0, 0, 1, 1]]}) is None


def test_normalized_keeps_an_edit_that_changes_something():
    boxed = Edit((10, 10)).with_box(Rect(1, 1, 2, 2))
    assert boxed.normalized() is boxed
    assert Edit((10, 10)).normalized() is None


def test_redo_steps_forward_one_state_at_a_time():
    a = Edit((10, 10))
    b = a.with_box(Rect(0, 0, 1, 1))
    c = b.with_box(Rect(2, 2, 1, 1))
    d = c.with_box(Rect(4, 4, 1, 1))
    history = EditHistory(a)
    for edit in (b, c, d):
        history.push(edit)
    assert history.undo() and history.undo() and history.undo()
    assert history.current == a
    assert history.redo() and history.current == b
    assert history.redo() and history.current == c
    assert history.redo() and history.current == d


def test_redo_with_nothing_to_redo_reports_no_change():
    history = EditHistory(Edit((10, 10)))
    assert history.redo() is False
    history.push(Edit((10, 10)).with_box(Rect(0, 0, 1, 1)))
    assert history.redo() is False
    assert history.undo() and history.redo()
    assert history.redo() is False


def test_with_box_stops_at_max_boxes_so_the_draft_still_loads():
    edit = Edit((100, 100))
    for i in range(MAX_BOXES):
        edit = edit.with_box(Rect(i % 100, i // 100, 1, 1))
    assert len(edit.boxes) == MAX_BOXES
    assert edit.with_box(Rect(50, 50, 3, 3)) is edit
    assert Edit.from_json(edit.to_json()) == edit


# -- the fill: opaque black in every mode apply_edit may be given ------------------------------

_BLACK = {
    "1": 0,
    "L": 0,
    "P": 0,
    "I": 0,
    "F": 0.0,
    "LA": (0, 255),
    "RGB": (0, 0, 0),
    "RGBA": (0, 0, 0, 255),
    "CMYK": (0, 0, 0, 255),
}


@pytest.mark.parametrize("mode", sorted(_BLACK))
def test_a_box_is_opaque_black_in_every_image_mode(mode):
    """Transparent pixels under a box become opaque black too: a box never shows through."""
    from PIL import Image

    if mode == "P":
        im = Image.new("P", (8, 8), 1)
        im.putpalette([0, 0, 0, 255, 255, 255] + [128] * 762)
    else:
        start = {"LA": (200, 0), "RGBA": (200, 200, 200, 0), "CMYK": (10, 20, 30, 0)}
        im = Image.new(mode, (8, 8), start.get(mode, 1))
    out = apply_edit(im, Edit((8, 8)).with_box(Rect(2, 2, 3, 3)))
    assert out.mode == mode
    for xy in ((2, 2), (4, 4)):
        assert out.getpixel(xy) == _BLACK[mode], (mode, xy)
    assert out.getpixel((6, 6)) != _BLACK[mode]
    assert im.getpixel((3, 3)) != _BLACK[mode]  # a copy unless in_place


def _coordinates_image(size):
    """Each pixel holds its own coordinates (R = x, G = y), so a crop shows where it was taken."""
    from PIL import Image

    im = Image.new("RGB", size)
    im.putdata([(x, y, 0) for y in range(size[1]) for x in range(size[0])])
    return im


def test_crop_is_scaled_to_a_reduced_decode_per_axis():
    """A 100×200 source decoded at 50×50 (a JPEG draft): x scales by 1/2, y by 1/4."""
    im = _coordinates_image((50, 50))
    edit = Edit((100, 200)).with_crop(Rect(20, 40, 40, 80))
    out = apply_edit(im, edit)
    assert out.size == (20, 20)
    assert out.getpixel((0, 0)) == (10, 10, 0)
    assert out.getpixel((19, 19)) == (29, 29, 0)


def test_a_crop_smaller_than_a_decoded_pixel_keeps_one_pixel():
    im = _coordinates_image((10, 10))
    out = apply_edit(im, Edit((100, 100)).with_crop(Rect(40, 60, 3, 3)))
    assert out.size == (1, 1)
    assert out.getpixel((0, 0)) == (4, 6, 0)


def test_a_box_outside_the_crop_is_not_counted():
    """Beside the crop in one direction only: its overlap is empty, not one pixel high."""
    edit = Edit((10, 10)).with_crop(Rect(0, 0, 10, 5)).with_box(Rect(2, 7, 3, 2))
    assert edit.visible_boxes() == []
    assert edit.describe() == "cropped"
    assert Rect(0, 0, 10, 5).intersected(Rect(2, 7, 3, 2)).empty
