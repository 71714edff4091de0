"""Bugs a user would notice that the rest of the suite let through (issue 17, mutation gaps).

Each test here failed with its bug planted by hand: a portrait image fitted by its width only,
and a bearer token of which only the first word was masked in the log.
"""

from __future__ import annotations

import io
import json
import logging
import uuid

import pytest
from PIL import Image

from desktop.core.images import ImageLimits, prepare_image
from desktop.core.images.fit import target_size
from desktop.core.letta import StreamChunk, StreamFailed
from desktop.core.letta.stream import parse_stream
from desktop.core.letta.urls import new_otid, sends_key_in_clear
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
    logged = _logged("headers %s", {"authorization": "Bearer some-other-token-I-never-registered"})
    assert logged == "headers {'authorization': 'Bearer «redacted»'}\n"


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


# -- what a failed or odd stream shows (whole sentences) -------------------------------------


def _stream(*messages, done: bool = True) -> list[tuple[str, str]]:
    events = [
        (m[0], json.dumps(m[1])) if isinstance(m, tuple) else ("message", json.dumps(m))
        for m in messages
    ]
    return events + ([("message", "[DONE]")] if done else [])


def _failure(events) -> StreamFailed:
    with pytest.raises(StreamFailed) as info:
        list(parse_stream(events))
    return info.value


def test_a_provider_error_is_shown_after_the_stop_reason_sentence():
    error = {"message_type": "error_message", "message": "Image exceeds 5 MB maximum"}
    stop = {"message_type": "stop_reason", "stop_reason": "llm_api_error"}
    failed = _failure(_stream(stop, ("error", error)))
    assert failed.user_message == (
        "The agent's model provider returned an error. Image exceeds 5 MB maximum"
    )
    failed = _failure(_stream(("error", error)))  # no stop reason: the message alone
    assert failed.user_message == "Image exceeds 5 MB maximum"


def test_an_error_without_words_still_says_something():
    failed = _failure(_stream(("error", {"message_type": "error_message"})))
    assert failed.user_message == "The server reported an error."
    failed = _failure(_stream({"error": None}))  # a bare {"error": …} body
    assert failed.user_message == "The server reported an error."
    failed = _failure(_stream({"error": "quota exhausted"}))
    assert failed.user_message == "quota exhausted"
    failed = _failure(_stream(("error", {"message_type": "error_message", "error": "boom"})))
    assert failed.user_message == "boom"


def test_hidden_reasoning_and_tool_returns_stream_their_text():
    chunks = list(
        parse_stream(
            _stream(
                {"message_type": "hidden_reasoning_message", "id": "m1", "hidden_reasoning": "…"},
                {
                    "message_type": "tool_return_message",
                    "id": "m2",
                    "tool_returns": [{"tool_call_id": "call-7", "tool_return": "42 results"}],
                },
                {
                    "message_type": "tool_return_message",
                    "id": "m3",
                    "tool_call_id": "call-8",
                    "tool_return": "done",
                },
                {"message_type": "stop_reason", "stop_reason": "end_turn"},
            )
        )
    )
    texts = [(c.key, c.text, c.tool_call_id) for c in chunks if isinstance(c, StreamChunk)]
    assert texts == [
        ("hidden_reasoning_message:m1", "…", None),
        ("tool_return_message:m2", "42 results", "call-7"),
        ("tool_return_message:m3", "done", "call-8"),
    ]


# -- the otid and the plain-http warning -------------------------------------------------------


def test_every_message_gets_its_own_uuid_otid():
    otids = [new_otid() for _ in range(100)]
    assert len(set(otids)) == 100
    assert all(str(uuid.UUID(o, version=4)) == o for o in otids)


@pytest.mark.parametrize(
    ("url", "warned"),
    [
        ("http://letta.example.org:8283", True),
        ("http://192.168.1.20:8283", True),
        ("https://letta.example.org", False),
        ("http://localhost:8283", False),
        ("http://App.LocalHost:8283", False),
        ("http://127.0.0.1:8283", False),
        ("http://[::1]:8283", False),
    ],
)
def test_the_key_in_clear_warning_is_for_plain_http_over_the_network(url, warned):
    assert sends_key_in_clear(url) is warned
