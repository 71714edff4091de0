"""Crop and redact before sending: what leaves the machine after an Edit.

Every test decodes the bytes the pipeline prepared (what the agent receives) and looks at the
pixels: the boxed region uniformly black, the crop's size and content, the EXIF orientation
respected, a crop of a huge image kept at full resolution up to the limits."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageStat

from desktop.core.attachments import Attachment
from desktop.core.images import ImageLimits, prepare_image
from desktop.core.images.edits import MAX_BOXES, Edit, EditHistory, Rect, apply_edit

from .image_corpus import EXIF_ORIENTATION, photo, quadrant_marker


def _png(im: Image.Image) -> bytes:
    out = io.BytesIO()
    im.save(out, "PNG")
    return out.getvalue()


def _jpeg(im: Image.Image, **params) -> bytes:
    out = io.BytesIO()
    im.save(out, "JPEG", quality=90, **params)
    return out.getvalue()


def _decoded(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


def _page(size: tuple[int, int]) -> Image.Image:
    """A screenshot-like page: lines of dark "text" on white, so no region is uniform."""
    w, h = size
    im = Image.new("RGB", size, (250, 250, 250))
    d = ImageDraw.Draw(im)
    for y in range(4, h, 14):
        for x in range(4, w, 9):
            d.rectangle((x, y, x + (x * 7 + y) % 6, y + 7), fill=((x * 3) % 120, 40, (y * 5) % 160))
    return im


def _uniform(im: Image.Image, box: tuple[int, int, int, int]) -> tuple[int, ...]:
    """The one colour of `box` in `im` (RGBA), failing if there is more than one."""
    region = im.convert("RGBA").crop(box)
    colors = region.getcolors(1)
    assert colors is not None, f"{box} is not one colour: {region.getextrema()}"
    return colors[0][1]


def _mean_difference(a: Image.Image, b: Image.Image) -> float:
    return max(ImageStat.Stat(ImageChops.difference(a, b)).mean)


BLACK = (0, 0, 0, 255)


def test_a_box_is_burned_in_uniform_black_and_nothing_else_changes():
    source = _page((800, 500))
    edit = Edit((800, 500)).with_box(Rect(100, 60, 140, 60))
    prepared = prepare_image(_png(source), ImageLimits(), edit)

    assert (prepared.width, prepared.height) == (800, 500)
    sent = _decoded(prepared.data).convert("RGB")
    assert _uniform(sent, (100, 60, 240, 120)) == BLACK
    expected = source.copy()
    expected.paste((0, 0, 0), (100, 60, 240, 120))
    assert _mean_difference(sent, expected) < 1  # the text around it is untouched
    assert prepared.summary().startswith("800×500 PNG, 1 area blacked out → 800×500 PNG, ")


def test_a_crop_sends_that_part_at_its_own_size():
    source = _page((800, 500))
    edit = Edit((800, 500)).with_crop(Rect(200, 100, 300, 180)).with_box(Rect(250, 150, 50, 40))
    prepared = prepare_image(_png(source), ImageLimits(), edit)

    assert (prepared.width, prepared.height) == (300, 180)
    sent = _decoded(prepared.data).convert("RGB")
    assert _uniform(sent, (50, 50, 100, 90)) == BLACK  # the box, relative to the crop
    expected = source.crop((200, 100, 500, 280))
    expected.paste((0, 0, 0), (50, 50, 100, 90))
    assert _mean_difference(sent, expected) < 1  # lossless, but for a palette's rounding
    assert prepared.summary().startswith("800×500 PNG, cropped, 1 area blacked out → 300×180 PNG, ")


def test_a_crop_of_a_retina_screenshot_keeps_its_full_resolution():
    source = _page((5120, 2880))
    data = _png(source)
    whole = prepare_image(data, ImageLimits())
    assert (whole.width, whole.height) == (1568, 882)  # the whole screen, shrunk to a third

    edit = Edit((5120, 2880)).with_crop(Rect(3000, 1200, 1400, 900))
    part = prepare_image(data, ImageLimits(), edit)
    assert (part.width, part.height) == (1400, 900)  # every pixel of the part that matters
    sent = _decoded(part.data).convert("RGB")
    assert _mean_difference(sent, source.crop((3000, 1200, 4400, 2100))) < 1

    wide = Edit((5120, 2880)).with_crop(Rect(0, 0, 4000, 1000))
    fitted = prepare_image(data, ImageLimits(), wide)
    assert (fitted.width, fitted.height) == (1568, 392)  # larger than the limits: fitted


def test_a_crop_of_a_huge_jpeg_is_decoded_at_full_resolution():
    # A reduced (DCT draft) decode is what makes big photos fast; a crop must not get one that
    # is smaller than the part itself, or its detail is blurred away (then scaled back up).
    source = Image.new("RGB", (7000, 5000), (30, 90, 160))
    draw = ImageDraw.Draw(source)
    for x in range(3000, 4000, 8):  # 4-px stripes: a quarter-scale decode turns them grey
        draw.rectangle((x, 2000, x + 3, 2799), fill=(255, 255, 255))
    data = _jpeg(source)
    whole = prepare_image(data, ImageLimits())
    assert (whole.width, whole.height) == (1568, 1120)

    edit = Edit((7000, 5000)).with_crop(Rect(3000, 2000, 1000, 800))
    part = prepare_image(data, ImageLimits(), edit)
    assert (part.width, part.height) == (1000, 800)
    sent = _decoded(part.data).convert("L")
    expected = source.crop((3000, 2000, 4000, 2800)).convert("L")
    assert _mean_difference(sent, expected) < 12  # the stripes, not a blur of them
    assert ImageStat.Stat(sent).stddev[0] > 80  # the source: 87


def test_a_box_on_a_reduced_decode_still_covers_all_of_its_pixels():
    # A JPEG decoded at a reduced scale: the box's coordinates are scaled outward, never in.
    source = photo((4000, 3000))
    edit = Edit((4000, 3000)).with_box(Rect(1001, 1003, 37, 29))
    prepared = prepare_image(_jpeg(source), ImageLimits(), edit)
    assert (prepared.width, prepared.height) == (1568, 1176)
    sent = _decoded(prepared.data).convert("L")
    s = 1568 / 4000
    inner = (round(1001 * s) + 2, round(1003 * s) + 2, int(1038 * s) - 1, int(1032 * s) - 1)
    assert inner[2] > inner[0] and inner[3] > inner[1]
    assert sent.crop(inner).getextrema()[1] <= 16  # black, but for the JPEG's ringing
    assert ImageStat.Stat(sent).mean[0] > 80  # the photo around it is not


def test_a_box_scaled_to_a_smaller_decode_grows_to_whole_pixels():
    im = Image.new("L", (1000, 750), 200)  # a 4000×3000 source decoded at a quarter
    out = apply_edit(im, Edit((4000, 3000)).with_box(Rect(1001, 1003, 37, 29)))
    # x 250.25–259.5 → 250–260, y 250.75–258 → 250–258: every partly covered pixel
    assert out.crop((250, 250, 260, 258)).getextrema() == (0, 0)
    assert {out.getpixel(p) for p in ((249, 252), (260, 252), (255, 249), (255, 258))} == {200}


def test_the_edit_is_in_upright_coordinates_of_an_exif_rotated_photo():
    # Stored 200×100 with the red block top-left; orientation 6 shows it 100×200, block top-right.
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = 6
    data = _jpeg(quadrant_marker((200, 100)), exif=exif.tobytes())

    red_part = prepare_image(data, ImageLimits(), Edit((100, 200)).with_crop(Rect(76, 0, 24, 48)))
    assert (red_part.width, red_part.height) == (24, 48)
    assert (red_part.original_width, red_part.original_height) == (100, 200)
    r, g, b = ImageStat.Stat(_decoded(red_part.data).convert("RGB")).mean
    assert r > 230 and g < 30 and b < 30

    boxed = prepare_image(data, ImageLimits(), Edit((100, 200)).with_box(Rect(70, 0, 30, 60)))
    sent = _decoded(boxed.data).convert("RGB")
    assert (sent.width, sent.height) == (100, 200)
    assert max(hi for _, hi in sent.crop((72, 2, 98, 58)).getextrema()) <= 6
    assert min(sent.getpixel((40, 100))) > 240  # the rest still white


def test_a_box_over_transparency_is_opaque_black():
    source = Image.new("RGBA", (300, 200), (0, 0, 0, 0))
    ImageDraw.Draw(source).rectangle((0, 0, 149, 199), fill=(200, 30, 30, 255))
    edit = Edit((300, 200)).with_box(Rect(120, 50, 120, 100))
    prepared = prepare_image(_png(source), ImageLimits(), edit)
    sent = _decoded(prepared.data)
    assert sent.mode in ("RGBA", "P")
    assert _uniform(sent, (120, 50, 240, 150)) == BLACK
    assert sent.convert("RGBA").getpixel((280, 20))[3] == 0  # transparency elsewhere is kept


def test_the_chip_preview_of_an_edited_image_shows_the_edit():
    att = Attachment.from_bytes(_png(_page((800, 500))), "page.png")
    att.edit = Edit((800, 500)).with_crop(Rect(0, 0, 400, 100)).with_box(Rect(0, 0, 400, 100))
    thumb = _decoded(att.thumbnail_bytes(240))
    assert thumb.size == (240, 60)
    assert _uniform(thumb, (0, 0, 240, 60)) == BLACK


def test_a_file_attachment_is_prepared_with_its_edit(tmp_path):
    path = tmp_path / "shot.png"
    path.write_bytes(_png(_page((640, 480))))
    att = Attachment.from_file(path)
    att.edit = Edit((640, 480)).with_crop(Rect(10, 20, 320, 240))
    prepared = att.prepare(ImageLimits())
    assert (prepared.width, prepared.height) == (320, 240)


def test_apply_edit_leaves_the_given_image_alone_unless_asked():
    im = Image.new("RGB", (50, 40), (255, 255, 255))
    out = apply_edit(im, Edit((50, 40)).with_box(Rect(0, 0, 10, 10)))
    assert im.getpixel((5, 5)) == (255, 255, 255) and out.getpixel((5, 5)) == (0, 0, 0)
    apply_edit(im, Edit((50, 40)).with_box(Rect(0, 0, 10, 10)), in_place=True)
    assert im.getpixel((5, 5)) == (0, 0, 0)


# -- the Edit value: geometry, description, storage --------------------------------------------


def test_edits_describe_what_was_done_to_the_part_that_is_sent():
    edit = Edit((1000, 800))
    assert edit.identity and edit.normalized() is None and edit.describe() == ""
    assert edit.with_crop(Rect(0, 0, 1000, 800)).identity  # the whole image is no crop
    assert edit.with_crop(Rect(-50, -50, 2000, 2000)).crop is None
    cropped = edit.with_crop(Rect(500, 400, 900, 900))
    assert cropped.crop == Rect(500, 400, 500, 400) and cropped.size() == (500, 400)
    boxed = cropped.with_box(Rect(0, 0, 100, 100)).with_box(Rect(600, 500, 10, 10))
    assert boxed.describe() == "cropped, 1 area blacked out"  # the first box is cropped away
    assert boxed.with_box(Rect(700, 700, 5, 5)).describe() == "cropped, 2 areas blacked out"
    assert edit.with_box(Rect(5, 5, 0, 10)) == edit  # an empty box is no box


def test_edits_survive_json_and_refuse_anything_else():
    edit = Edit((640, 480)).with_crop(Rect(1, 2, 300, 200)).with_box(Rect(5, 6, 7, 8))
    assert Edit.from_json(edit.to_json()) == edit
    assert edit.to_json() == {
        "source": [640, 480],
        "crop": [1, 2, 300, 200],
        "boxes": [[5, 6, 7, 8]],
    }
    good = edit.to_json()
    for bad in (
        None,
        [],
        {"source": [640]},
        {"source": [0, 480]},
        {"source": [True, 480]},
        {**good, "crop": [1, 2, -3, 4]},
        {**good, "crop": "all"},
        {**good, "boxes": [[1, 2, 3]]},  # an unreadable box must not be dropped quietly
        {**good, "boxes": [[1, 2, 3, 4.5]]},
        {**good, "boxes": [[0, 0, 1, 1]] * (MAX_BOXES + 1)},
    ):
        assert Edit.from_json(bad) is None, bad


def test_history_undoes_and_redoes_each_step():
    start = Edit((100, 100))
    history = EditHistory(start)
    assert not history.can_undo and not history.can_redo
    one = start.with_box(Rect(0, 0, 10, 10))
    two = one.with_box(Rect(20, 20, 10, 10))
    assert history.push(one) and history.push(two) and not history.push(two)
    assert history.undo() and history.current == one
    assert history.undo() and history.current == start and not history.undo()
    assert history.redo() and history.current == one
    cropped = one.with_crop(Rect(0, 0, 50, 50))
    assert history.push(cropped) and not history.can_redo  # a new step forgets the redo
    assert history.current == cropped and history.initial == start


@pytest.mark.parametrize(
    "rect, inside",
    [
        (Rect(-5, -5, 20, 20), Rect(0, 0, 20, 20)),
        (Rect(95, 90, 20, 20), Rect(80, 80, 20, 20)),
        (Rect(10, 10, 500, 20), Rect(0, 10, 100, 20)),
    ],
)
def test_rectangles_move_inside_the_image(rect, inside):
    assert rect.moved_inside(100, 100) == inside
