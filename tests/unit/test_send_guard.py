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
    data_source,
    image_tokens,
    likely_cause_text,
    message_tokens,
    model_name,
    status_line,
    vision_mark,
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


# --- the words the user reads: whole sentences, and which image each one names -----------------

GROQ = "groq/meta-llama/llama-4-scout-17b-16e-instruct"  # 5 images, 33,177,600 px, 3 MB each


def texts(problems) -> list[tuple[str, str | None, str]]:
    return [(p.kind, p.attachment_id, p.text) for p in problems]


def test_model_name_is_the_handles_last_part_as_written():
    assert model_name(capability_for("openai-proxy/gpt-3.5-turbo")) == "gpt-3.5-turbo"
    assert model_name(capability_for("together/meta-llama/Llama-4-Scout")) == "Llama-4-Scout"
    assert model_name(capability_for(" gpt-4o ")) == "gpt-4o"
    assert model_name(capability_for("")) == "this model"
    assert model_name(capability_for("   ")) == "this model"


def test_badge_mark_status_line_and_where_the_answer_comes_from():
    seeing = capability_for("openai/gpt-4o-mini")
    assert (vision_mark(seeing), status_line(seeing)) == ("✓", "gpt-4o-mini sees images")
    blind = capability_for("openai/gpt-3.5-turbo")
    assert (vision_mark(blind), status_line(blind)) == ("✗", "gpt-3.5-turbo cannot see images")
    unknown = capability_for("ollama/my-finetune:latest")
    assert vision_mark(unknown) == "?"
    assert status_line(unknown) == "my-finetune:latest unknown whether it sees images"
    assert data_source(unknown) == (
        "no entry in the app's model data "
        "(Ollama docs: API (images: base64 PNG/JPEG); Ollama model library)"
    )
    assert data_source(capability_for("mistral/pixtral-large-latest")) == (
        "the app's model data (Mistral docs: Vision (Pixtral); limits: Mistral docs: Vision)"
    )
    corrected = capability_for("ollama/my-finetune:latest", {"ollama/my-finetune:latest": True})
    assert (vision_mark(corrected), data_source(corrected)) == ("✓", "your setting for this model")


def test_no_vision_and_unknown_vision_sentences():
    blind = capability_for("openai-proxy/gpt-3.5-turbo")
    (one,) = check_send(blind, imgs(1))
    assert one.text == (
        "gpt-3.5-turbo cannot see images. If you send an image, the model provider may reject "
        "the message (and a rejected image kept in the agent's history can break its later "
        "turns), or the agent is only told that an image exists."
    )
    (three,) = check_send(blind, imgs(3))
    assert "If you send 3 images, the model provider" in three.text
    assert (three.attachment_id, three.blocking) == (None, True)
    (router,) = check_send(capability_for("letta/auto"), imgs(2))
    assert (router.kind, router.attachment_id, router.blocking) == (UNKNOWN_VISION, None, False)
    assert router.text == (
        "It is not known whether auto can see images (a router may pick another model). "
        "Tell the app if you know."
    )
    (local,) = check_send(capability_for("ollama/my-finetune:latest"), imgs(1))
    assert local.text == (
        "It is not known whether my-finetune:latest can see images. Tell the app if you know."
    )
    assert likely_cause_text(blind) == (
        "The image was the likely cause: gpt-3.5-turbo cannot see images, and the provider "
        "refused the message. Switch the agent to a model that sees images, or send text only."
    )


def test_too_many_names_every_image_past_the_limit():
    groq = capability_for(GROQ)  # 5 per request
    assert check_send(groq, imgs(5)) == []
    problems = check_send(groq, imgs(7))
    assert texts(problems) == [
        (
            TOO_MANY,
            f"a{i}",
            f"img{i}.png: too many images for llama-4-scout-17b-16e-instruct: it takes at most "
            "5 in one request, the conversation included.",
        )
        for i in (5, 6)
    ]
    assert check_send(groq, imgs(2), history_image_count=3) == []
    (late,) = check_send(groq, imgs(2), history_image_count=4)
    assert (late.attachment_id, late.text) == (
        "a1",
        "img1.png: too many images for llama-4-scout-17b-16e-instruct: it takes at most 5 in "
        "one request, the conversation included (4 already in this conversation).",
    )


def test_an_image_past_the_count_is_not_measured_again():
    # an image already refused for the count is neither sized nor format-checked nor added
    groq = capability_for(GROQ)
    huge = [Img(f"a{i}", f"img{i}.png", Prep(9000, 9000, "image/bmp", 9_000_000)) for i in (0, 1)]
    assert kinds(check_send(groq, huge, history_image_count=5)) == [TOO_MANY, TOO_MANY]


def test_too_large_sentences_per_rule():
    claude = capability_for(CLAUDE)
    # at most 20 images: only the provider's own 8000 px cap applies (8000 itself is fine)
    assert check_send(claude, imgs(1, 8000, 100), history_image_count=19) == []
    (side,) = check_send(claude, imgs(1, 100, 8001), history_image_count=19)
    assert texts([side]) == [
        (
            TOO_LARGE,
            "a0",
            "img0.png: 100×8001 is too large — claude-sonnet-4-5-20250929 takes at most "
            "8000 px per side.",
        )
    ]
    # 21 images: the many-image rule, 2000 px (2000 itself is fine)
    assert check_send(claude, imgs(1, 2000, 2000), history_image_count=20) == []
    (many,) = check_send(claude, imgs(1, 2001, 1000), history_image_count=20)
    assert many.text == (
        "img0.png: 2001×1000 is too large — with more than 20 images in the conversation (21), "
        "every image must be at most 2000 px."
    )
    groq = capability_for(GROQ)
    assert check_send(groq, imgs(1, 5760, 5760)) == []  # exactly 33,177,600 px
    (pixels,) = check_send(groq, imgs(1, 5761, 5760))
    assert texts([pixels]) == [
        (
            TOO_LARGE,
            "a0",
            "img0.png: 5761×5760 has more pixels than llama-4-scout-17b-16e-instruct takes "
            "(33,177,600).",
        )
    ]
    assert check_send(claude, imgs(1, size=3_750_000)) == []
    assert kinds(check_send(claude, imgs(1, size=3_750_001))) == [TOO_LARGE]
    assert texts(check_send(claude, imgs(1, size=4_200_000))) == [
        (
            TOO_LARGE,
            "a0",
            "img0.png: still 4.2 MB after fitting; claude-sonnet-4-5-20250929 takes at most "
            "3.8 MB.",
        )
    ]


def test_one_size_problem_per_image_and_the_format_besides():
    claude = capability_for(CLAUDE)
    both = [Img("b", "scan.bmp", Prep(100, 9000, "image/bmp", 5_000_000))]
    assert texts(check_send(claude, both)) == [
        (
            TOO_LARGE,
            "b",
            "scan.bmp: 100×9000 is too large — claude-sonnet-4-5-20250929 takes at most 8000 px "
            "per side.",
        ),
        (
            FORMAT,
            "b",
            "scan.bmp: BMP is not a format claude-sonnet-4-5-20250929 accepts "
            "(GIF, JPEG, PNG, WebP).",
        ),
    ]
    groq = capability_for(GROQ)
    over_both = [Img("c", "c.png", Prep(6000, 6000, size=9_000_000))]
    assert kinds(check_send(groq, over_both)) == [TOO_LARGE]
    assert "more pixels" in check_send(groq, over_both)[0].text


def test_request_size_counts_base64_of_every_measured_image():
    claude = capability_for(CLAUDE)  # 32 MB per request
    # 8 × 3,000,000 raw = 8 × 4,000,000 base64 = exactly 32,000,000: allowed
    assert check_send(claude, imgs(8, size=3_000_000)) == []
    # one more byte each rounds every image up to 4,000,004 encoded
    (whole,) = check_send(claude, imgs(8, size=3_000_001))
    assert texts([whole]) == [
        (
            REQUEST_TOO_LARGE,
            None,
            "The images add up to 32 MB encoded; claude-sonnet-4-5-20250929 takes at most "
            "32 MB in one request. Remove some.",
        )
    ]
    # a URL is fetched by the server: it adds nothing here, and the images after it still count
    url = Img("u", "cat.png", None)
    assert check_send(claude, [*imgs(8, size=3_000_000), url]) == []
    assert kinds(check_send(claude, [url, *imgs(8, size=3_000_001)])) == [REQUEST_TOO_LARGE]


def test_blocking_problems_come_with_the_vision_one_first():
    blind = capability_for("openai/gpt-3.5-turbo")
    problems = check_send(blind, imgs(1, media_type="image/bmp"))
    assert [(p.kind, p.attachment_id) for p in problems] == [(NO_VISION, None), (FORMAT, "a0")]


def test_token_estimates_per_image():
    gpt = capability_for("openai/gpt-4o")
    small = Img("s", "s.png", Prep(1024, 1024))
    low = Img("l", "l.png", Prep(1024, 1024))
    low.low_detail = True  # type: ignore[attr-defined]
    url = Img("u", "u.png", None)
    assert image_tokens(gpt, small) == 765
    assert image_tokens(gpt, low) == 85  # detail low: the base cost only
    assert image_tokens(gpt, url) is None
    assert message_tokens(gpt, [small, url, low]) == 765 + 85
    assert message_tokens(gpt, [url]) is None
