"""Thumbnails for the UI: small, upright, fast, and safe with hostile input."""

from __future__ import annotations

import base64
import io
import time

import pytest
from PIL import Image

from desktop.core.images import ImageRejected, decode_base64_thumbnail, make_thumbnail
from tests.unit.image_corpus import build_corpus, exif_rotated_jpeg, photo


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return build_corpus(tmp_path_factory.mktemp("thumbs"), include_big=False)


def _open(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


def test_every_corpus_item_gives_a_thumbnail_or_a_rejection(corpus):
    for name, item in corpus.items():
        if not item.path.is_file() or item.path.stat().st_size > 50_000_000:
            continue
        data = item.path.read_bytes()
        if item.reason is None:
            im = _open(make_thumbnail(data, 96))
            assert max(im.size) <= 96, name
            assert im.format in ("PNG", "JPEG"), name
            assert not im.info.get("exif") and not im.info.get("icc_profile"), name
        else:
            with pytest.raises(ImageRejected):
                make_thumbnail(data, 96)


def test_thumbnail_is_upright_and_small():
    im = _open(make_thumbnail(exif_rotated_jpeg(), 50))
    assert im.size == (25, 50)
    assert im.format == "JPEG"


def test_big_photo_thumbnail_is_fast():
    buf = io.BytesIO()
    photo((4000, 3000)).save(buf, "JPEG", quality=90)
    data = buf.getvalue()
    make_thumbnail(data)  # warm up
    started = time.perf_counter()
    thumb = make_thumbnail(data, 160)
    elapsed = time.perf_counter() - started
    assert _open(thumb).size == (160, 120)
    assert elapsed < 0.5  # JPEG draft decodes at 1/8 scale: typically ~20 ms


def test_alpha_thumbnail_is_png(corpus):
    im = _open(make_thumbnail(corpus["logo_alpha.png"].path.read_bytes(), 64))
    assert im.format == "PNG" and im.mode == "RGBA"


def test_base64_thumbnail(corpus):
    raw = corpus["photo.jpg"].path.read_bytes()
    b64 = base64.b64encode(raw).decode()
    assert max(_open(decode_base64_thumbnail(b64, 64)).size) == 64
    wrapped = "data:image/jpeg;base64," + "\n".join(b64[i : i + 76] for i in range(0, len(b64), 76))
    assert max(_open(decode_base64_thumbnail(wrapped, 64)).size) == 64


@pytest.mark.parametrize("text", ["not base64 at all!", "AAA", "", "data:image/png;base64,@@@"])
def test_broken_base64_is_a_rejection(text):
    with pytest.raises(ImageRejected):
        decode_base64_thumbnail(text, 64)


def test_truncated_base64_image_is_damaged(corpus):
    raw = corpus["photo.jpg"].path.read_bytes()
    b64 = base64.b64encode(raw[: len(raw) // 3]).decode()
    with pytest.raises(ImageRejected) as caught:
        decode_base64_thumbnail(b64, 64)
    assert caught.value.reason == "damaged"
