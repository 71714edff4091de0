"""History images keep their decoded bytes, not the base64 text (a long history's memory)."""

from __future__ import annotations

import base64

import pytest

from desktop.core.letta.models import ImageRef, Message

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
PNG_B64 = base64.b64encode(PNG).decode()


def test_canonical_base64_is_stored_as_bytes_and_reads_back_the_same():
    ref = ImageRef("base64", "image/png", PNG_B64)
    assert ref._text is None and ref._blob == PNG
    assert ref.has_data and ref.inline_bytes() == PNG
    assert ref.data == PNG_B64
    assert ref == ImageRef("base64", "image/png", PNG_B64)
    assert hash(ref) == hash(ImageRef("base64", "image/png", PNG_B64))


def test_other_text_is_kept_as_it_came():
    wrapped = ImageRef("base64", "image/png", PNG_B64[:76] + "\n" + PNG_B64[76:])
    assert wrapped.data == PNG_B64[:76] + "\n" + PNG_B64[76:]
    assert wrapped.inline_bytes() == PNG  # whitespace tolerated when decoding, as before
    broken = ImageRef("base64", "image/png", "%%% not base64 %%%")
    assert broken.has_data and broken.data == "%%% not base64 %%%"
    with pytest.raises(ValueError):
        broken.inline_bytes()
    assert not ImageRef("url", url="https://example.com/a.png").has_data


def test_image_ref_is_immutable():
    ref = ImageRef("base64", "image/png", PNG_B64)
    with pytest.raises(AttributeError):
        ref.media_type = "image/jpeg"  # type: ignore[misc]


def test_message_raw_does_not_keep_the_base64_text():
    msg = Message.from_json(
        {
            "id": "m1",
            "message_type": "user_message",
            "run_id": "run-1",
            "content": [
                {"type": "text", "text": "look"},
                {
                    "type": "image",
                    "source": {"type": "base64", "media_type": "image/png", "data": PNG_B64},
                },
            ],
        }
    )
    assert msg.text == "look" and msg.images[0].inline_bytes() == PNG
    assert msg.raw.get("run_id") == "run-1"
    assert PNG_B64 not in repr(msg.raw)
