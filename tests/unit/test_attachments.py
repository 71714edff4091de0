"""One attachment from capture to send, without Qt: what the chip shows and what the send gets.

The chip shows `name` and `note()`, the early preview comes from `prepare_with_preview` or
`thumbnail_bytes`, and the send takes `content_part()`; a failed preparation is an
`ImageRejected` whose text names the image. Every image here is a real PNG, decoded back."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from desktop.core.attachments import (
    Attachment,
    Kind,
    State,
    looks_like_image_url,
    problems_text,
    url_display_name,
)
from desktop.core.images import ImageLimits, ImageRejected, PreparedImage
from desktop.core.images.edits import Edit, Rect

SMALL = ImageLimits(max_long_edge=100)
"""Fits the 400×200 test image to 100×50: a dropped `limits` would send it at 400×200."""


def _png(size: tuple[int, int] = (400, 200)) -> bytes:
    im = Image.new("RGB", size, (30, 120, 200))
    for x in range(0, size[0], 7):  # not uniform, so no encoder shortcut hides a size
        im.putpixel((x, x % size[1]), (250, 250, 0))
    out = io.BytesIO()
    im.save(out, "PNG")
    return out.getvalue()


def _size(data: bytes) -> tuple[int, int]:
    return Image.open(io.BytesIO(data)).size


def _sent_size(part: dict) -> tuple[int, int]:
    return _size(base64.b64decode(part["source"]["data"]))


LEFT_HALF = Edit(source=(400, 200), crop=Rect(0, 0, 200, 200))


# -- constructors: what the chip names ----------------------------------------------------------


def test_pasted_bytes_are_named_pasted_image_unless_named():
    pasted = Attachment.from_bytes(bytearray(b"\x89PNG..."))
    assert (pasted.kind, pasted.name, pasted.data) == (Kind.BYTES, "Pasted image", b"\x89PNG...")
    assert type(pasted.data) is bytes  # a later change to the caller's buffer is not sent
    assert Attachment.from_bytes(b"x", "drop.png").name == "drop.png"
    assert pasted.state is State.PREPARING and pasted.note() == "Preparing…"


def test_a_file_is_named_by_its_file_name(tmp_path):
    att = Attachment.from_file(tmp_path / "shots" / "cat.png")
    assert (att.kind, att.name, att.path) == (Kind.FILE, "cat.png", str(tmp_path / "shots/cat.png"))
    # A path without a last component (the root) is named by the whole path, never "" or "None".
    assert Attachment.from_file("/").name == "/"


def test_an_image_url_is_ready_at_once_and_named_by_its_file():
    att = Attachment.from_url("  https://img.example.org/a/cat%20photo.png?s=1 \n")
    assert att.kind is Kind.URL
    assert att.url == "https://img.example.org/a/cat%20photo.png?s=1"
    assert att.name == "cat photo.png"
    assert att.ready and not att.preparing
    assert att.note() == (
        "The Letta server will download this image from img.example.org when you send it; "
        "the app does not fetch it."
    )
    assert att.content_part() == {
        "type": "image",
        "source": {"type": "url", "url": "https://img.example.org/a/cat%20photo.png?s=1"},
    }
    assert not att.needs_prepare(SMALL)


# -- the chip's note ---------------------------------------------------------------------------


def test_a_problem_note_is_the_problem_or_a_plain_sentence():
    att = Attachment.from_url("https://example.org/cat.png")
    att.state, att.problem = State.PROBLEM, "cat.png: the server refused it."
    assert att.note() == "cat.png: the server refused it."
    att.problem = None
    assert att.note() == "This image can't be sent."


def test_a_prepared_note_is_the_preparation_summary():
    att = Attachment.from_bytes(_png(), "shot.png")
    att.prepared, att.limits, att.state = att.prepare(SMALL), SMALL, State.READY
    assert att.note() == att.prepared.summary()
    assert att.note().startswith("400×200 PNG → 100×50 ")


# -- preparing and sending ---------------------------------------------------------------------


def test_prepared_bytes_are_sent_inline_at_the_fitted_size():
    att = Attachment.from_bytes(_png(), "shot.png")
    with pytest.raises(ValueError, match=f"attachment {att.id} is not prepared"):
        att.content_part()
    att.prepared, att.limits = att.prepare(SMALL), SMALL
    part = att.content_part()
    assert part["type"] == "image" and part["source"]["type"] == "base64"
    assert "detail" not in part["source"]
    assert _sent_size(part) == (100, 50)


def test_low_detail_is_sent_saying_so():
    limits = ImageLimits(max_long_edge=400, low_detail_edge=100)
    att = Attachment.from_bytes(_png(), "shot.png")
    att.detail = "low"
    fitted = att.limits_for(limits)
    assert att.needs_prepare(limits)
    att.prepared, att.limits = att.prepare(fitted), fitted
    assert att.low_detail and not att.needs_prepare(limits)
    part = att.content_part()
    assert part["source"]["detail"] == "low"
    assert _sent_size(part) == (100, 50)


def test_a_file_is_prepared_to_the_given_limits_and_edit(tmp_path):
    path = tmp_path / "shot.png"
    path.write_bytes(_png())
    att = Attachment.from_file(path)
    assert (att.prepare(SMALL).width, att.prepare(SMALL).height) == (100, 50)
    att.edit = LEFT_HALF
    assert (att.prepare(SMALL).width, att.prepare(SMALL).height) == (100, 100)


def test_pasted_bytes_are_prepared_with_the_edit():
    att = Attachment.from_bytes(_png(), "shot.png")
    att.edit = LEFT_HALF
    prepared = att.prepare(SMALL)
    assert (prepared.width, prepared.height) == (100, 100)
    assert prepared.summary().startswith("400×200 PNG, cropped")


@pytest.mark.parametrize("how", ["prepare", "prepare_with_preview"])
def test_no_data_is_refused_naming_the_image(how):
    att = Attachment(Kind.BYTES, "clip.png")
    with pytest.raises(ImageRejected) as caught:
        list(att.prepare_with_preview(SMALL)) if how == "prepare_with_preview" else att.prepare(
            SMALL
        )
    assert caught.value.reason == "empty"
    assert str(caught.value) == "clip.png: there is no image data."


@pytest.mark.parametrize("how", ["prepare", "prepare_with_preview"])
def test_garbage_is_refused_naming_the_image(how):
    att = Attachment.from_bytes(b"this is not an image at all, just text", "notes.png")
    with pytest.raises(ImageRejected) as caught:
        list(att.prepare_with_preview(SMALL)) if how == "prepare_with_preview" else att.prepare(
            SMALL
        )
    assert caught.value.reason == "not_image"
    assert str(caught.value).startswith("notes.png: ")
    assert caught.value.filename == "notes.png"


def test_the_preview_comes_first_then_the_prepared_image():
    att = Attachment.from_bytes(_png(), "shot.png")
    steps = list(att.prepare_with_preview(SMALL, max_edge=40))
    assert [kind for kind, _ in steps] == ["preview", "prepared"]
    preview, prepared = steps[0][1], steps[1][1]
    assert isinstance(preview, bytes) and preview.startswith(b"\x89PNG")
    assert _size(preview) == (40, 20)
    assert isinstance(prepared, PreparedImage)
    assert (prepared.width, prepared.height) == (100, 50)
    assert _size(att.prepare_with_preview(SMALL).__next__()[1]) == (240, 120)  # THUMBNAIL_EDGE


def test_preview_and_prepared_image_both_show_the_edit():
    att = Attachment.from_bytes(_png(), "shot.png")
    att.edit = LEFT_HALF
    (_, preview), (_, prepared) = att.prepare_with_preview(SMALL, max_edge=40)
    assert _size(preview) == (40, 40)
    assert (prepared.width, prepared.height) == (100, 100)


def test_the_limits_guard_the_decode_before_any_preview():
    """A picture over the input-pixel guard is refused before a preview is made of it."""
    att = Attachment.from_bytes(_png(), "huge.png")
    guard = ImageLimits(max_long_edge=100, max_input_pixels=10_000)
    steps = att.prepare_with_preview(guard)
    with pytest.raises(ImageRejected) as caught:
        next(steps)
    assert caught.value.reason == "too_many_pixels"
    assert str(caught.value).startswith("huge.png: ")


# -- thumbnails --------------------------------------------------------------------------------


def test_thumbnail_of_bytes_and_of_a_file(tmp_path):
    att = Attachment.from_bytes(_png(), "shot.png")
    assert _size(att.thumbnail_bytes(50)) == (50, 25)
    assert _size(att.thumbnail_bytes()) == (240, 120)
    path = tmp_path / "shot.png"
    path.write_bytes(_png((100, 300)))
    assert _size(Attachment.from_file(path).thumbnail_bytes(60)) == (20, 60)


def test_thumbnail_shows_the_edit():
    att = Attachment.from_bytes(_png(), "shot.png")
    att.edit = LEFT_HALF
    assert _size(att.thumbnail_bytes(50)) == (50, 50)


def test_thumbnail_without_data_says_the_image_is_empty():
    att = Attachment(Kind.BYTES, "clip.png")
    assert att.source_bytes() == b""
    with pytest.raises(ImageRejected) as caught:
        att.thumbnail_bytes()
    assert caught.value.reason == "empty"


# -- names and pasted text ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("https://x.org/a/cat.png?s=1", "cat.png"),
        ("https://x.org/a/b/my%20cat.png#top", "my cat.png"),
        ("https://x.org/a/", "x.org"),
        ("https://x.org", "x.org"),
        ("cat.png", "cat.png"),
        ("data:", "data:"),
    ],
)
def test_url_display_name(url, name):
    assert url_display_name(url) == name


@pytest.mark.parametrize(
    "text",
    [
        "https://x.org/cat.png",
        "http://x.org/a/b.jpg?x=1",
        "  https://x.org/photo.webp\n",
        "HTTPS://X.ORG/SHOT.PNG",
        "https://x.org/shot%2Ejpeg",
    ],
)
def test_image_urls_paste_as_images(text):
    assert looks_like_image_url(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "https://x.org/page",
        "https://x.org/a cat.png",
        "see https://x.org/cat.png",
        "ftp://x.org/cat.png",
        "file:///home/me/cat.png",
        "https:///cat.png",
        "http://[::1/cat.png",
        "cat.png",
    ],
)
def test_other_text_pastes_as_text(text):
    assert not looks_like_image_url(text)


def test_problems_text_names_every_image_left_out():
    big = Attachment.from_bytes(b"x", "big.png")
    big.problem = "big.png: too large to send."
    odd = Attachment.from_bytes(b"x", "odd.png")
    assert problems_text([]) == ""
    assert problems_text([big]) == "This attachment was not sent: big.png: too large to send."
    assert problems_text([odd]) == "This attachment was not sent: odd.png: can't be sent."
    assert problems_text([big, odd]) == (
        "These attachments were not sent: big.png: too large to send. odd.png: can't be sent."
    )
