"""check_send: every reason pending images would be refused, before anything is sent (Qt-free)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from desktop.core.capabilities import capability_for
from desktop.core.send_guard import (
    FORMAT,
    NO_VISION,
    REQUEST_TOO_LARGE,
    TOO_LARGE,
    TOO_MANY,
    UNKNOWN_VISION,
    check_send,
    message_tokens,
)

CLAUDE = "anthropic/claude-sonnet-4-5-20250929"


@dataclass
class Prep:
    width: int
    height: int
    media_type: str = "image/png"
    size: int = 100_000


@dataclass
class Img:
    id: str
    name: str
    prepared: Any


def imgs(n: int, w: int = 1000, h: int = 800, **kw: Any) -> list[Img]:
    return [Img(f"a{i}", f"img{i}.png", Prep(w, h, **kw)) for i in range(n)]


def kinds(problems) -> list[str]:
    return [p.kind for p in problems]


def test_nothing_pending_nothing_to_say():
    assert check_send(capability_for("openai/gpt-3.5-turbo"), []) == []


def test_vision_model_with_a_normal_image_is_fine():
    assert check_send(capability_for("openai/gpt-4o-mini"), imgs(1)) == []


def test_text_only_blocks_and_unknown_only_notes():
    (p,) = check_send(capability_for("openai/gpt-3.5-turbo"), imgs(1))
    assert p.kind == NO_VISION and p.blocking and "gpt-3.5-turbo cannot see images" in p.text
    (q,) = check_send(capability_for("letta/auto"), imgs(1))
    assert q.kind == UNKNOWN_VISION and not q.blocking


def test_many_image_rule_counts_history():
    cap = capability_for(CLAUDE)
    big = imgs(1, 2400, 1600)
    assert check_send(cap, big, history_image_count=19) == []  # 20 in all: ≤ 8000 px is fine
    (p,) = check_send(cap, big, history_image_count=20)
    assert p.kind == TOO_LARGE and p.attachment_id == "a0" and "2000 px" in p.text


def test_too_many_marks_the_images_past_the_limit():
    cap = capability_for(CLAUDE)  # 100 per request
    problems = check_send(cap, imgs(3, 800, 600), history_image_count=98)
    assert [(p.kind, p.attachment_id) for p in problems] == [(TOO_MANY, "a2")]
    assert "98 already in this conversation" in problems[0].text


def test_format_bytes_and_request_size():
    ollama = capability_for("ollama/llava:13b")  # JPEG and PNG only
    assert kinds(check_send(ollama, imgs(1, media_type="image/webp"))) == [FORMAT]
    cap = capability_for(CLAUDE)
    assert kinds(check_send(cap, imgs(1, size=4_000_000))) == [TOO_LARGE]
    many = imgs(12, size=3_000_000)  # 36 MB raw, 48 MB of base64 > 32 MB per request
    assert kinds(check_send(cap, many)) == [REQUEST_TOO_LARGE]


def test_urls_are_counted_but_not_measured():
    cap = capability_for(CLAUDE)
    url = [Img("u", "cat.png", None)]
    assert check_send(cap, url, history_image_count=25) == []
    assert kinds(check_send(cap, url, history_image_count=100)) == [TOO_MANY]


def test_message_tokens_sum_and_unknown():
    cap = capability_for(CLAUDE)
    assert message_tokens(cap, imgs(2, 1092, 1092)) == 2 * 1590
    assert message_tokens(capability_for("openai/gpt-3.5-turbo"), imgs(1)) is None
