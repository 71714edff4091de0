"""Bugs a user would notice that the rest of the suite let through (issue 17, mutation gaps).

Each test here failed with its bug planted by hand: a portrait image fitted by its width only,
and a bearer token of which only the first word was masked in the log.
"""

from __future__ import annotations

import io
import logging

from PIL import Image

from desktop.core.images import ImageLimits, prepare_image
from desktop.core.images.fit import target_size
from desktop.core.redact import RedactingFilter, redact, register_secret
from tests.unit.image_corpus import screenshot

# -- portrait images are shrunk too -----------------------------------------------------------


def _png(size: tuple[int, int]) -> bytes:
    buf = io.BytesIO()
    screenshot(size).save(buf, "PNG")
    return buf.getvalue()


def test_a_portrait_phone_screenshot_is_shrunk_to_the_long_edge():
    """An iPhone screenshot (1170×2532): its height, not its width, is over the 1568 limit."""
    prepared = prepare_image(_png((1170, 2532)))
    assert (prepared.width, prepared.height) == (725, 1568)
    assert Image.open(io.BytesIO(prepared.data)).size == (725, 1568)
    assert prepared.summary().startswith("1170×2532 PNG → 725×1568 PNG, ")


def test_portrait_and_landscape_fit_the_same_way():
    limits = ImageLimits()
    assert target_size(2532, 1170, limits) == (1568, 725)
    assert target_size(1170, 2532, limits) == (725, 1568)
    assert target_size(1000, 1568, limits) == (1000, 1568)  # exactly at the limit: untouched
    assert target_size(1000, 1569, limits) == (999, 1568)
    # A pixel cap on a tall image (e.g. 1.15 MP) shrinks both sides, the aspect ratio kept.
    capped = ImageLimits(max_long_edge=2000, max_pixels=1_150_000)
    w, h = target_size(1170, 2532, capped)
    assert (w, h) == (729, 1577) and w * h <= 1_150_000


# -- bearer tokens are masked whole -----------------------------------------------------------


def test_a_bearer_token_nobody_registered_is_masked_whole():
    line = "authorization: bearer some-other-token-I-never-registered"
    assert redact(line) == "authorization: bearer «redacted»"
    assert redact("Authorization: Bearer abc.def/ghi+jkl= next") == (
        "Authorization: Bearer «redacted» next"
    )


def test_the_log_file_line_of_a_request_header_keeps_nothing_of_the_token():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    log = logging.getLogger("test.user_visible_gaps")
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    log.propagate = False
    try:
        log.info("headers %s", {"authorization": "Bearer some-other-token-I-never-registered"})
    finally:
        log.removeHandler(handler)
    assert stream.getvalue() == "headers {'authorization': 'Bearer «redacted»'}\n"


def _logged(*args, exc: BaseException | None = None) -> str:
    """What one log call writes to the (redacted) log file."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    log = logging.getLogger("test.user_visible_gaps.file")
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    log.propagate = False
    try:
        if exc is None:
            log.warning(*args)
        else:
            try:
                raise exc
            except type(exc):
                log.exception(*args)
    finally:
        log.removeHandler(handler)
    return stream.getvalue()


def test_a_registered_key_is_replaced_by_the_marker_and_nothing_else():
    register_secret("Zq4-registered-key-for-redaction")
    assert redact("url https://x/?key=Zq4-registered-key-for-redaction&page=2") == (
        "url https://x/?key=«redacted»&page=2"
    )
    assert redact("sk-abcdefghijklmnopqrstuvwx looks like a key") == "«redacted» looks like a key"


def test_short_keys_of_four_characters_are_masked_and_no_key_is_no_error():
    register_secret(None)  # connecting without a key (a local server) registers nothing
    register_secret("")
    register_secret("Zq4!")  # four characters: still a secret
    register_secret("Zq5")  # three: too short to tell from ordinary words
    assert redact("key Zq4! and Zq5") == "key «redacted» and Zq5"


def test_a_key_in_a_plain_log_message_is_masked_in_the_file():
    register_secret("Zq4-plain-message-key-0001")
    assert _logged("connecting with Zq4-plain-message-key-0001") == ("connecting with «redacted»\n")
    assert _logged("nothing secret here") == "nothing secret here\n"
    assert _logged("as args: %s", "Zq4-plain-message-key-0001") == "as args: «redacted»\n"


def test_a_key_in_a_traceback_is_masked_in_the_file():
    register_secret("Zq4-traceback-key-0002")
    text = _logged("request failed", exc=ValueError("server echoed Zq4-traceback-key-0002"))
    assert text.startswith("request failed\nTraceback (most recent call last):\n")
    assert text.endswith("ValueError: server echoed «redacted»\n")
    assert "Zq4-traceback" not in text
