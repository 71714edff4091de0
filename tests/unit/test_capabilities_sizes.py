"""History-safe sizes: what each provider profile gets of a big screenshot, and what it costs.

Images stay in the agent's server-side history and are re-sent every turn to whatever model the
agent uses then, so no image leaves over 2000 px on a side (Anthropic's cap once a request holds
more than 20 images), and none carries more pixels than its target keeps (OpenAI tiles: fit 2048²
then short side 768; OpenAI patches: 1536 patches of 32 px; Anthropic: 1568 px and ≈1.15 MP;
Gemini: the app's 2×2-tile tier). The estimate is the cost of exactly what is sent.
"""

from __future__ import annotations

import io
import math

import pytest
from PIL import Image

from desktop.core.attachments import Attachment
from desktop.core.capabilities import capability_for, estimate_tokens
from desktop.core.images import prepare_image
from desktop.core.images.fit import target_size
from desktop.core.images.limits import HISTORY_SAFE_EDGE, ImageLimits, patch_fit
from tests.unit.test_capabilities import CASES

SCREENS = {
    "5K": (5120, 2880),
    "5K portrait": (2880, 5120),
    "4K": (3840, 2160),
    "iPhone": (1170, 2532),
    "ultrawide": (7680, 2160),
    "tall strip": (600, 7000),
}

# Handle → what a 5120×2880 screenshot is sent as, and its estimated input tokens.
FIVE_K = {
    "openai-proxy/gpt-4o-mini": ((1365, 768), 2833 + 5667 * 6),
    "openai/gpt-4o": ((1365, 768), 85 + 170 * 6),
    "openai/gpt-4.1": ((1365, 768), 85 + 170 * 6),
    "openai/gpt-5": ((1365, 768), 70 + 140 * 6),
    "openai/o3": ((1365, 768), 75 + 150 * 6),
    "openai/gpt-4.1-mini": ((1649, 928), math.ceil(52 * 29 * 1.62)),
    "openai/gpt-4.1-nano": ((1649, 928), math.ceil(52 * 29 * 2.46)),
    "openai/o4-mini": ((1649, 928), math.ceil(52 * 29 * 1.72)),
    "anthropic/claude-sonnet-4-5-20250929": ((1430, 804), math.ceil(1430 * 804 / 750)),
    "google_ai/gemini-2.5-flash": ((1536, 864), 2 * 2 * 258),
    "google_ai/gemini-3-pro-preview": ((1536, 864), 1120),
    "letta/auto": ((1568, 882), None),
    "ollama/llava:13b": ((1568, 882), None),
}


def openai_high_detail(w: int, h: int) -> tuple[int, int]:
    """OpenAI's own rule, from its guide: fit in 2048×2048, then the short side to 768."""
    if max(w, h) > 2048:
        s = 2048 / max(w, h)
        w, h = math.floor(w * s), math.floor(h * s)
    if min(w, h) > 768:
        s = 768 / min(w, h)
        w, h = math.floor(w * s), math.floor(h * s)
    return w, h


@pytest.mark.parametrize("handle", sorted({h for h, _, _ in CASES} | set(FIVE_K)))
@pytest.mark.parametrize("size", SCREENS.values(), ids=list(SCREENS))
def test_no_image_leaves_over_2000_px_for_any_model(handle: str, size: tuple[int, int]) -> None:
    cap = capability_for(handle)
    for count in (1, 21, 600):
        w, h = target_size(*size, cap.limits_for_count(count))
        assert max(w, h) <= HISTORY_SAFE_EDGE, (handle, count, (w, h))


def test_the_2000_px_cap_holds_whatever_the_limits_say() -> None:
    assert target_size(8000, 4000, ImageLimits(max_long_edge=8000)) == (2000, 1000)
    assert target_size(4000, 8000, ImageLimits(max_long_edge=8000)) == (1000, 2000)
    assert capability_for("openai/gpt-4o").limits_for_count(1, long_edge=4000).max_long_edge == 2000


@pytest.mark.parametrize(("handle", "expected"), FIVE_K.items(), ids=list(FIVE_K))
def test_a_5k_screenshot_per_profile(handle: str, expected: tuple) -> None:
    size, tokens = expected
    cap = capability_for(handle)
    fitted = target_size(5120, 2880, cap.limits)
    assert fitted == size
    assert cap.estimate_tokens(*fitted) == tokens
    if cap.provider == "openai":  # OpenAI keeps no more of the original: the same price
        assert cap.estimate_tokens(5120, 2880) == tokens
    # portrait: the same rule on the other side
    assert target_size(2880, 5120, cap.limits) == size[::-1]


@pytest.mark.parametrize("size", SCREENS.values(), ids=list(SCREENS))
def test_openai_tile_models_get_exactly_what_openai_keeps(size: tuple[int, int]) -> None:
    kept = openai_high_detail(*size)
    expected = kept
    if max(kept) > HISTORY_SAFE_EDGE:  # a very long strip: history-safe wins
        s = HISTORY_SAFE_EDGE / max(kept)
        expected = (round(kept[0] * s), round(kept[1] * s))
    fitted = target_size(*size, capability_for("openai-proxy/gpt-4o-mini").limits)
    assert fitted == pytest.approx(expected, abs=1)
    assert max(fitted) <= 2000 and min(fitted) <= 768
    assert openai_high_detail(*fitted) == fitted  # OpenAI scales it no further


@pytest.mark.parametrize("size", SCREENS.values(), ids=list(SCREENS))
def test_openai_patch_models_get_at_most_1536_patches(size: tuple[int, int]) -> None:
    fitted = target_size(*size, capability_for("openai/gpt-4.1-mini").limits)
    assert math.ceil(fitted[0] / 32) * math.ceil(fitted[1] / 32) <= 1536
    assert patch_fit(*fitted, 32, 1536) == fitted  # OpenAI scales it no further
    assert max(fitted) <= 2000


def test_patch_fit_follows_openais_worked_example() -> None:
    # "Images and vision": 1800×2400 is scaled to 1056×1408 = 33 × 44 patches
    assert patch_fit(1800, 2400, 32, 1536) == (1056, 1408)
    assert patch_fit(1024, 1024, 32, 1536) == (1024, 1024)


@pytest.mark.parametrize("size", SCREENS.values(), ids=list(SCREENS))
def test_anthropic_gets_1568_px_and_1_15_megapixels(size: tuple[int, int]) -> None:
    w, h = target_size(*size, capability_for("anthropic/claude-opus-4-1").limits)
    assert max(w, h) <= 1568 and w * h <= 1_150_000
    assert abs(w / h - size[0] / size[1]) < 0.01 * size[0] / size[1] + 1 / min(w, h)


def test_gemini_tiers() -> None:
    flash = capability_for("google_ai/gemini-2.5-flash")
    assert flash.estimate_tokens(384, 384) == 258  # both sides <= 384: one tile's price
    assert flash.estimate_tokens(385, 200) == 258
    assert flash.estimate_tokens(1536, 864) == 4 * 258  # 2 × 2 tiles of 768
    assert target_size(3840, 2160, flash.limits) == (1536, 864)
    assert capability_for("google_ai/gemini-3-pro-preview").estimate_tokens(1536, 864) == 1120
    assert flash.limits.low_detail_edge is None


# --- low detail -----------------------------------------------------------------------------


def test_low_detail_only_where_the_model_has_a_detail_setting() -> None:
    with_detail = ["openai-proxy/gpt-4o-mini", "openai/gpt-4o", "openai/gpt-5", "openai/o1"]
    for handle in with_detail:
        assert capability_for(handle).limits.low_detail_edge == 512, handle
    without = ["openai/gpt-4.1-mini", "anthropic/claude-sonnet-4-5", "google_ai/gemini-2.5-pro"]
    for handle in [*without, "letta/auto", "ollama/llava", "openai/gpt-3.5-turbo"]:
        limits = capability_for(handle).limits
        assert limits.low_detail_edge is None, handle
        assert limits.for_detail("low") == limits  # nothing changes, nothing says "low"


def test_low_detail_is_512_px_for_a_fixed_small_cost() -> None:
    cap = capability_for("openai-proxy/gpt-4o-mini")
    low = cap.limits.for_detail("low")
    assert low.detail == "low" and low.max_long_edge == 512 and low.max_short_edge is None
    assert target_size(5120, 2880, low) == (512, 288)
    assert target_size(2880, 5120, low) == (288, 512)
    assert cap.estimate_tokens(512, 288, "low") == 2833  # gpt-4o-mini's base
    assert estimate_tokens("openai/gpt-4o", 512, 288, "low") == 85
    assert estimate_tokens("openai/gpt-4o", 1365, 768, "low") == 85  # whatever the size
    assert estimate_tokens("openai/gpt-4o", 1365, 768) == 1105  # the default stays automatic
    # a model without the setting ignores it
    assert estimate_tokens("openai/gpt-4.1-mini", 1024, 1024, "low") == math.ceil(1024 * 1.62)


def _png(w: int, h: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (w, h), (240, 240, 240)).save(out, "PNG")
    return out.getvalue()


def test_a_low_detail_attachment_is_sent_small_and_says_so() -> None:
    limits = capability_for("openai-proxy/gpt-4o-mini").limits
    att = Attachment.from_bytes(_png(5120, 2880), "shot.png")
    assert att.needs_prepare(limits)
    att.limits, att.prepared = limits, prepare_image(att.data or b"", limits)
    assert (att.prepared.width, att.prepared.height) == (1365, 768)
    assert "detail" not in att.content_part()["source"]  # automatic: the server sends auto
    att.detail = "low"
    assert att.needs_prepare(limits)
    low = att.limits_for(limits)
    att.limits, att.prepared = low, att.prepare(low)
    assert not att.needs_prepare(limits)
    assert (att.prepared.width, att.prepared.height) == (512, 288)
    source = att.content_part()["source"]
    assert list(source) == ["type", "media_type", "data", "detail"]
    assert source["detail"] == "low"
    # the agent moves to Claude: no detail setting, so the image is fitted (and sent) as usual
    claude = capability_for("anthropic/claude-sonnet-4-5").limits
    assert att.needs_prepare(claude) and att.limits_for(claude) == claude
