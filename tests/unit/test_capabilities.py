"""Model capability data: who sees images, which limits apply, token estimates, the data file."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import pytest

from desktop.core.capabilities import (
    LIMIT_KEYS,
    CapabilityDataError,
    ModelCapability,
    capability_data,
    capability_for,
    estimate_tokens,
    load_capabilities,
    parse_capabilities,
    resolve_model_handle,
    short_status,
    split_handle,
)
from desktop.core.images.limits import ImageLimits
from desktop.paths import resource_path

# (provider profile, max_images, ImageLimits.max_long_edge, provider's hard bytes per image)
ANTHROPIC = ("anthropic", 100, 1568, 3_750_000)
OPENAI = ("openai", 500, 2000, 20_000_000)
GOOGLE = ("google", 3000, 1536, 15_000_000)
MISTRAL = ("mistral", 8, 1568, 10_000_000)
XAI = ("xai", None, 1568, 20_971_520)
DEEPSEEK = ("deepseek", None, 1568, 3_750_000)
GROQ = ("groq", 5, 1568, 3_000_000)
OLLAMA = ("ollama", None, 1568, 3_750_000)
LOCAL = ("local", None, 1568, 3_750_000)
OPEN_HOST = ("open_host", None, 1568, 3_750_000)
OPENROUTER = ("openrouter", None, 1568, 3_750_000)
BEDROCK = ("bedrock", None, 1568, 3_750_000)
LETTA = ("letta", None, 1568, 3_750_000)
UNKNOWN = ("unknown", None, 1568, 3_750_000)

CASES: list[tuple[str, bool | None, tuple[str, int | None, int, int]]] = [
    # OpenAI: vision
    ("openai/gpt-4o", True, OPENAI),
    ("openai/gpt-4o-2024-08-06", True, OPENAI),
    ("openai/chatgpt-4o-latest", True, OPENAI),
    ("openai/gpt-4o-mini", True, OPENAI),
    ("openai-proxy/gpt-4o-mini", True, OPENAI),
    ("openai/gpt-4o-mini-2024-07-18", True, OPENAI),
    ("openai/gpt-4.1", True, OPENAI),
    ("openai/gpt-4.1-2025-04-14", True, OPENAI),
    ("openai/gpt-4.1-mini", True, OPENAI),
    ("openai/gpt-4.1-nano-2025-04-14", True, OPENAI),
    ("openai/gpt-4.5-preview", True, OPENAI),
    ("openai/gpt-5", True, OPENAI),
    ("openai/gpt-5-mini", True, OPENAI),
    ("openai/gpt-5-nano-2025-08-07", True, OPENAI),
    ("openai/gpt-5.1", True, OPENAI),
    ("openai/o1", True, OPENAI),
    ("openai/o1-2024-12-17", True, OPENAI),
    ("openai/o3", True, OPENAI),
    ("openai/o3-pro", True, OPENAI),
    ("openai/o4-mini", True, OPENAI),
    ("openai/gpt-4-turbo", True, OPENAI),
    ("openai/gpt-4-turbo-2024-04-09", True, OPENAI),
    ("openai/gpt-4-vision-preview", True, OPENAI),
    ("azure/gpt-4o", True, OPENAI),
    # OpenAI: text-only traps
    ("openai/gpt-3.5-turbo", False, OPENAI),
    ("openai/gpt-3.5-turbo-0125", False, OPENAI),
    ("azure/gpt-35-turbo", False, OPENAI),
    ("openai/gpt-4", False, OPENAI),
    ("openai/gpt-4-0613", False, OPENAI),
    ("openai/gpt-4-32k", False, OPENAI),
    ("openai/gpt-4-turbo-preview", False, OPENAI),
    ("openai/gpt-4-1106-preview", False, OPENAI),
    ("openai/o1-mini", False, OPENAI),
    ("openai/o1-mini-2024-09-12", False, OPENAI),
    ("openai/o1-preview", False, OPENAI),
    ("openai/o3-mini", False, OPENAI),
    ("openai/o3-mini-2025-01-31", False, OPENAI),
    ("openai/text-embedding-3-small", False, OPENAI),
    ("openai/gpt-4o-audio-preview", False, OPENAI),
    ("openai/some-future-model", None, OPENAI),
    # Anthropic
    ("anthropic/claude-sonnet-4-5-20250929", True, ANTHROPIC),
    ("anthropic/claude-sonnet-4-5", True, ANTHROPIC),
    ("anthropic/claude-opus-4-1-20250805", True, ANTHROPIC),
    ("anthropic/claude-opus-4-20250514", True, ANTHROPIC),
    ("anthropic/claude-haiku-4-5", True, ANTHROPIC),
    ("anthropic/claude-3-7-sonnet-latest", True, ANTHROPIC),
    ("anthropic/claude-3-5-sonnet-20241022", True, ANTHROPIC),
    ("anthropic/claude-3-5-haiku-20241022", True, ANTHROPIC),
    ("anthropic/claude-3-opus-20240229", True, ANTHROPIC),
    ("anthropic/claude-3-haiku-20240307", True, ANTHROPIC),
    ("anthropic/claude-2.1", False, ANTHROPIC),
    ("anthropic/claude-2", False, ANTHROPIC),
    ("anthropic/claude-instant-1.2", False, ANTHROPIC),
    ("bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0", True, ANTHROPIC),
    ("bedrock/us.anthropic.claude-sonnet-4-20250514-v1:0", True, ANTHROPIC),
    ("bedrock/anthropic.claude-v2:1", False, ANTHROPIC),
    ("google_vertex/claude-3-5-sonnet-v2@20241022", True, ANTHROPIC),
    ("openrouter/anthropic/claude-3.5-sonnet", True, ANTHROPIC),
    # Google
    ("google_ai/gemini-2.5-flash", True, GOOGLE),
    ("google_ai/gemini-2.5-pro", True, GOOGLE),
    ("google_ai/gemini-2.0-flash-001", True, GOOGLE),
    ("google_ai/gemini-2.0-flash-lite", True, GOOGLE),
    ("google_ai/gemini-1.5-pro-002", True, GOOGLE),
    ("google_ai/gemini-1.5-flash-8b", True, GOOGLE),
    ("google_vertex/gemini-3-pro-preview", True, GOOGLE),
    ("google_ai/gemini-flash-latest", True, GOOGLE),
    ("google_ai/gemini-pro", False, GOOGLE),
    ("google_ai/gemini-embedding-001", False, GOOGLE),
    ("google_ai/gemma-3-27b-it", True, GOOGLE),
    # Mistral
    ("mistral/pixtral-large-latest", True, MISTRAL),
    ("mistral/pixtral-12b-2409", True, MISTRAL),
    ("mistral/mistral-small-2503", True, MISTRAL),
    ("mistral/mistral-small-2506", True, MISTRAL),
    ("mistral/mistral-small-latest", True, MISTRAL),
    ("mistral/mistral-medium-2505", True, MISTRAL),
    ("mistral/mistral-medium-latest", True, MISTRAL),
    ("mistral/mistral-small-2501", False, MISTRAL),
    ("mistral/mistral-small-2409", False, MISTRAL),
    ("mistral/codestral-latest", False, MISTRAL),
    ("mistral/codestral-2501", False, MISTRAL),
    ("mistral/devstral-small-2505", False, MISTRAL),
    ("mistral/mistral-large-2411", False, MISTRAL),
    ("mistral/open-mistral-nemo", False, MISTRAL),
    ("mistral/mistral-embed", False, MISTRAL),
    # DeepSeek
    ("deepseek/deepseek-chat", False, DEEPSEEK),
    ("deepseek/deepseek-reasoner", False, DEEPSEEK),
    ("deepseek/deepseek-coder", False, DEEPSEEK),
    ("deepseek/some-new-model", None, DEEPSEEK),
    # xAI
    ("xai/grok-4", True, XAI),
    ("xai/grok-4-0709", True, XAI),
    ("xai/grok-4-fast-reasoning", True, XAI),
    ("xai/grok-2-vision-1212", True, XAI),
    ("xai/grok-3", False, XAI),
    ("xai/grok-3-mini", False, XAI),
    ("xai/grok-code-fast-1", False, XAI),
    # Ollama / local
    ("ollama/llava:13b", True, OLLAMA),
    ("ollama/llava-llama3", True, OLLAMA),
    ("ollama/bakllava", True, OLLAMA),
    ("ollama/moondream", True, OLLAMA),
    ("ollama/llama3.2-vision:11b", True, OLLAMA),
    ("ollama/qwen2.5vl:7b", True, OLLAMA),
    ("ollama/minicpm-v", True, OLLAMA),
    ("ollama/gemma3", True, OLLAMA),
    ("ollama/gemma3:4b", True, OLLAMA),
    ("ollama/gemma3:27b", True, OLLAMA),
    ("ollama/gemma3:1b", False, OLLAMA),
    ("ollama/llama4:scout", True, OLLAMA),
    ("ollama/granite3.2-vision", True, OLLAMA),
    ("ollama/mistral-small3.1:24b", True, OLLAMA),
    ("ollama/llama3.1:8b", False, OLLAMA),
    ("ollama/llama3.2:3b", False, OLLAMA),
    ("ollama/qwen2.5:7b", False, OLLAMA),
    ("ollama/qwen3:8b", False, OLLAMA),
    ("ollama/deepseek-r1:14b", False, OLLAMA),
    ("ollama/nomic-embed-text", False, OLLAMA),
    ("ollama/my-finetune:latest", None, OLLAMA),
    ("lmstudio_openai/qwen2-vl-7b-instruct", True, LOCAL),
    ("lmstudio_openai/some-local-model", None, LOCAL),
    ("vllm/Qwen/Qwen3-VL-8B-Instruct", True, LOCAL),
    # Hosted open models
    ("together/meta-llama/Llama-3.2-11B-Vision-Instruct-Turbo", True, OPEN_HOST),
    ("together/meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8", True, OPEN_HOST),
    ("together/Qwen/Qwen2.5-VL-72B-Instruct", True, OPEN_HOST),
    ("together/meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo", False, OPEN_HOST),
    ("together/mistralai/Mistral-Small-24B-Instruct-2501", False, OPEN_HOST),
    ("groq/meta-llama/llama-4-scout-17b-16e-instruct", True, GROQ),
    ("groq/llama-3.3-70b-versatile", False, GROQ),
    ("groq/openai/gpt-oss-120b", False, GROQ),
    ("openrouter/qwen/qwen2.5-vl-32b-instruct:free", True, OPENROUTER),
    ("openrouter/mistralai/pixtral-12b", True, OPENROUTER),
    ("openrouter/google/gemma-3-12b-it", True, OPENROUTER),
    ("bedrock/meta.llama3-2-11b-instruct-v1:0", True, BEDROCK),
    ("bedrock/amazon.nova-pro-v1:0", True, BEDROCK),
    ("bedrock/amazon.nova-micro-v1:0", False, BEDROCK),
    # Letta routers and unknowns
    ("letta/auto", None, LETTA),
    ("letta/auto-fast", None, LETTA),
    ("letta/letta-free", None, LETTA),
    ("someprovider/mystery-model", None, UNKNOWN),
    ("", None, UNKNOWN),
]


def test_table_is_big_enough():
    assert len(CASES) >= 60
    assert len({handle for handle, _, _ in CASES}) == len(CASES)


@pytest.mark.parametrize(("handle", "vision", "expected"), CASES, ids=[c[0] for c in CASES])
def test_capability_table(handle: str, vision: bool | None, expected: tuple) -> None:
    provider, max_images, long_edge, hard_bytes = expected
    cap = capability_for(handle)
    assert cap.vision is vision, cap.pattern
    assert cap.provider == provider
    assert cap.max_images == max_images
    assert cap.max_image_bytes == hard_bytes
    assert cap.limits.max_long_edge == long_edge
    assert cap.limits.max_bytes == min(hard_bytes, 3_750_000)
    assert cap.overridden is False
    assert cap.source


def test_provider_specific_limits():
    claude = capability_for("anthropic/claude-sonnet-4-5")
    assert claude.max_long_edge == 8000
    assert claude.formats == frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
    assert (claude.many_image_threshold, claude.many_image_max_edge) == (20, 2000)
    gemini = capability_for("google_ai/gemini-2.5-flash")
    assert "image/gif" not in gemini.formats and "image/heic" in gemini.formats
    assert gemini.many_image_threshold is None and gemini.many_image_max_edge is None
    assert capability_for("xai/grok-4").formats == frozenset({"image/png", "image/jpeg"})
    assert capability_for("groq/meta-llama/llama-4-scout-17b-16e-instruct").max_pixels == 33_177_600
    assert capability_for("openai/gpt-4.1").max_long_edge is None


def test_limits_is_an_image_limits():
    limits = capability_for("anthropic/claude-3-5-sonnet-20241022").limits
    assert isinstance(limits, ImageLimits)
    assert limits == ImageLimits(
        max_long_edge=1568,
        max_bytes=3_750_000,
        formats=frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"}),
        max_pixels=1_150_000,  # what Anthropic keeps: long edge 1568 and about 1.15 MP
    )


def test_many_image_rule_on_claude_counts_history():
    cap = capability_for("anthropic/claude-sonnet-4-5-20250929")
    assert cap.hard_long_edge_for_count(20) == 8000
    assert cap.hard_long_edge_for_count(21) == 2000
    assert cap.limits_for_count(21).max_long_edge <= 2000
    assert cap.limits_for_count(20).max_long_edge == 1568
    # Claude never gets more than it keeps (1568), so the rule shows with a lower edge:
    small = replace(cap, many_image_max_edge=1000)
    assert small.limits_for_count(20).max_long_edge == 1568
    assert small.limits_for_count(21).max_long_edge == 1000


def test_many_image_rule_absent_on_openai_and_kept_for_unknown_targets():
    gpt = capability_for("openai/gpt-4.1")
    assert gpt.hard_long_edge_for_count(100) is None
    assert gpt.limits_for_count(100, long_edge=1900).max_long_edge == 1900
    assert gpt.limits_for_count(100, long_edge=4000).max_long_edge == 2000  # history-safe
    auto = capability_for("letta/auto")
    assert auto.hard_long_edge_for_count(21) == 2000
    assert auto.limits_for_count(21, long_edge=4000).max_long_edge == 2000


def test_limits_keep_the_models_formats_and_what_the_provider_keeps():
    gemini = capability_for("google_ai/gemini-2.5-flash")
    assert gemini.limits.formats == frozenset(
        {"image/png", "image/jpeg", "image/webp", "image/heic", "image/heif"}
    )
    # a bigger preferred size buys nothing Claude would keep: it scales to 1568 anyway
    claude = capability_for("anthropic/claude-sonnet-4-5")
    assert claude.limits_for_count(1, long_edge=1900).max_long_edge == 1568


def test_many_image_rule_never_raises_a_lower_hard_cap():
    claude = capability_for("anthropic/claude-sonnet-4-5")
    assert replace(claude, max_long_edge=1000).hard_long_edge_for_count(21) == 1000
    # a provider that rescales anything still gets the many-image cap
    assert replace(claude, max_long_edge=None).hard_long_edge_for_count(21) == 2000
    assert replace(claude, max_long_edge=None).hard_long_edge_for_count(20) is None


def test_overrides_win_for_vision():
    unknown = "ollama/my-finetune:latest"
    cap = capability_for(unknown, {unknown: True})
    assert cap.vision is True and cap.overridden is True
    assert short_status(cap) == "sees images"
    cap = capability_for("openai/gpt-4o", {"openai/gpt-4o": False})
    assert cap.vision is False and cap.overridden is True
    assert capability_for("openai/gpt-4o", {"openai/gpt-4.1": False}).vision is True
    assert capability_for("openai/o1-mini", {"OpenAI/o1-mini": True}).vision is True
    # the override saved under the handle as written wins over another spelling of it
    both = {"OpenAI/GPT-4o": False, "openai/gpt-4o": True}
    assert capability_for("openai/gpt-4o", both).vision is True
    assert capability_for("OpenAI/GPT-4o", both).vision is False
    # the cached answer is not changed by an override
    assert capability_for(unknown).vision is None
    assert capability_for(unknown).overridden is False


def test_short_status():
    assert short_status(capability_for("openai/gpt-4o")) == "sees images"
    assert short_status(capability_for("deepseek/deepseek-chat")) == "cannot see images"
    assert short_status(capability_for("letta/auto")) == "unknown whether it sees images"


def test_split_handle_normalises():
    assert split_handle("bedrock/us.anthropic.claude-sonnet-4-20250514-v1:0") == (
        "bedrock",
        "claude-sonnet-4-20250514-v1:0",
    )
    assert split_handle("together/meta-llama/Llama-4-Scout-17B-16E-Instruct") == (
        "together",
        "llama-4-scout-17b-16e-instruct",
    )
    assert split_handle("OLLAMA/LLaVA:13b") == ("ollama", "llava:13b")
    assert split_handle("gpt-4o") == ("", "gpt-4o")


def test_bare_model_name_still_matches():
    assert capability_for("gpt-4o").vision is True
    assert capability_for("gpt-4o").provider == "openai"
    assert capability_for("llava").vision is True


# --- token estimates ------------------------------------------------------------------------


def test_claude_tokens():
    assert estimate_tokens("anthropic/claude-3-5-sonnet-20241022", 1092, 1092) == 1590
    assert estimate_tokens("anthropic/claude-sonnet-4-5", 200, 200) == math.ceil(200 * 200 / 750)
    # bigger images are scaled down by Anthropic first: never more than ~1600
    assert estimate_tokens("anthropic/claude-sonnet-4-5", 5120, 2880) <= 1600


def test_openai_tile_tokens_by_hand():
    # 1568x882: fits in 2048; shortest side 882 > 768 -> 1365x768; tiles 3 x 2 = 6
    scaled_w = math.floor(1568 * 768 / 882)
    tiles = math.ceil(scaled_w / 512) * math.ceil(768 / 512)
    assert (scaled_w, tiles) == (1365, 6)
    assert estimate_tokens("openai/gpt-4.1", 1568, 882) == 85 + 170 * tiles == 1105
    # the OpenAI guide's own examples
    assert estimate_tokens("openai/gpt-4o", 1024, 1024) == 765
    assert estimate_tokens("openai/gpt-4o", 2048, 4096) == 1105
    assert estimate_tokens("openai/gpt-5", 1024, 1024) == 70 + 140 * 4
    assert estimate_tokens("openai/o1", 1024, 1024) == 75 + 150 * 4


def test_openai_patch_tokens():
    # 1024x1024 = 32 x 32 patches; 1800x2400 is scaled to 1056x1408 = 33 x 44 patches
    assert estimate_tokens("openai/gpt-4.1-mini", 1024, 1024) == math.ceil(1024 * 1.62)
    assert estimate_tokens("openai/gpt-4.1-mini", 1800, 2400) == math.ceil(33 * 44 * 1.62)
    assert estimate_tokens("openai/o4-mini", 1024, 1024) == math.ceil(1024 * 1.72)


def test_gemini_tokens():
    assert estimate_tokens("google_ai/gemini-2.5-flash", 300, 300) == 258
    assert estimate_tokens("google_ai/gemini-2.5-flash", 1568, 882) == 3 * 2 * 258
    assert estimate_tokens("google_ai/gemini-1.5-pro", 3000, 3000) == 258


def test_tokens_unknown_or_not_seen():
    assert estimate_tokens("letta/auto", 1000, 1000) is None
    assert estimate_tokens("ollama/llava:13b", 1000, 1000) is None
    assert estimate_tokens("openai/o1-mini", 1000, 1000) is None
    assert estimate_tokens("openai/gpt-4o", 0, 100) is None


def test_claude_tokens_scale_the_long_edge_first_and_keep_one_pixel():
    claude = "anthropic/claude-sonnet-4-5"
    # 3136x500 is scaled by 1568/3136 = 0.5 to 1568x250: 392,000 px / 750 = 522.7 -> 523
    assert estimate_tokens(claude, 3136, 500) == 523
    # a one-pixel line: 1x1000 = 1000 px / 750 -> 2; 10000x1 keeps 1568x1 (never 0 px) -> 3
    assert estimate_tokens(claude, 1, 1000) == 2
    assert estimate_tokens(claude, 1000, 1) == 2
    assert estimate_tokens(claude, 10000, 1) == 3
    assert estimate_tokens(claude, 100, 0) is None


def test_openai_tiles_at_exact_tile_edges():
    # 2048x1536: short side to 768 -> 1024x768, exactly 2 x 2 tiles (not 3 x 2)
    assert estimate_tokens("openai/gpt-4o", 2048, 1536) == 85 + 170 * 4
    # 1025x2051: fit 2048 -> 1023x2048 (2051 * 2048/2051 is 2048 exactly, not 2047 by float
    # error); short side 768 -> 768x1537: 2 x 4 tiles
    assert estimate_tokens("openai/gpt-4o", 1025, 2051) == 85 + 170 * 8


def test_gemini_small_only_when_both_sides_are_small():
    gemini = "google_ai/gemini-2.5-flash"
    assert estimate_tokens(gemini, 384, 384) == 258
    assert estimate_tokens(gemini, 300, 1000) == 2 * 258  # one side small: still tiled
    assert estimate_tokens(gemini, 1000, 300) == 2 * 258


def test_split_handle_keeps_only_the_last_path_segment():
    assert split_handle("openrouter/a/b/GPT-4o") == ("openrouter", "gpt-4o")


# --- resolving an agent's model ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("agent", "conversation", "expected"),
    [
        ({"model": "openai/gpt-4.1", "llm_config": {"handle": "x/y"}}, None, "openai/gpt-4.1"),
        (
            {"model": None, "llm_config": {"handle": "anthropic/claude-sonnet-4-5"}},
            None,
            "anthropic/claude-sonnet-4-5",
        ),
        (
            {
                "llm_config": {
                    "handle": None,
                    "model": "gpt-4o-mini",
                    "model_endpoint_type": "openai",
                }
            },
            None,
            "openai/gpt-4o-mini",
        ),
        (
            {"llm_config": {"model": "llava:13b", "model_endpoint_type": "ollama"}},
            {},
            "ollama/llava:13b",
        ),
        ({"model": "openai/gpt-4.1"}, {"model": "letta/auto"}, "letta/auto"),
        ({"model": "openai/gpt-4.1"}, {"model": None}, "openai/gpt-4.1"),
        ({"llm_config": {"model_endpoint_type": "openai"}}, None, None),
        ({"llm_config": {"model": "gpt-4o", "model_endpoint_type": " "}}, None, "gpt-4o"),
        ({"model": "  "}, None, None),
        ({}, None, None),
    ],
)
def test_resolve_model_handle(agent, conversation, expected):
    assert resolve_model_handle(agent, conversation) == expected


# --- the data file ------------------------------------------------------------------------------


def _raw() -> dict:
    return json.loads(resource_path("capabilities.json").read_text(encoding="utf-8"))


def test_data_file_validates_and_loads_once():
    assert capability_data() is capability_data()
    raw = _raw()
    parse_capabilities(raw)
    assert raw["matching"]["syntax"] == "python-regex"
    assert set(raw["defaults"]) == LIMIT_KEYS | {"source"}
    for name, profile in raw["profiles"].items():
        assert profile.get("source"), name
        assert set(profile) <= LIMIT_KEYS | {"handle_prefixes", "source", "note"}, name
    for entry in raw["models"]:
        assert entry.get("source"), entry["pattern"]
        assert "vision" in entry, entry["pattern"]
        assert set(entry) <= LIMIT_KEYS | {
            "pattern",
            "vision",
            "profile",
            "hosts",
            "source",
            "note",
        }


def test_every_family_is_covered():
    families = {capability_for(h).provider for h, _, _ in CASES}
    assert {"openai", "anthropic", "google", "mistral", "deepseek", "xai", "ollama"} <= families


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["models"][0].update(colour="red"), "unknown keys"),
        (lambda d: d["models"][0].pop("source"), "source"),
        (lambda d: d["models"][0].update(pattern="gpt-(4"), "invalid regex"),
        (lambda d: d["models"][0].update(vision="yes"), "vision"),
        (lambda d: d["models"][0].update(profile="nope"), "unknown profile"),
        (lambda d: d["profiles"]["openai"].pop("source"), "source"),
        (lambda d: d["profiles"]["openai"].update(max_images=-1), "positive integer"),
        (lambda d: d["profiles"]["openai"].update(formats=["png"]), "media type"),
        (
            lambda d: d["profiles"]["openai"].update(tokens={"formula": "magic", "params": {}}),
            "unknown formula",
        ),
        (lambda d: d["profiles"]["anthropic"]["tokens"]["params"].pop("max_tokens"), "params"),
        (lambda d: d["defaults"].pop("max_images"), "missing"),
        (lambda d: d["profiles"]["google"]["handle_prefixes"].append("openai"), "already"),
        (lambda d: d.update(schema=2), "schema"),
    ],
)
def test_malformed_data_raises_clearly(mutate, message):
    data = _raw()
    mutate(data)
    with pytest.raises(CapabilityDataError, match=message):
        parse_capabilities(data)


def test_unreadable_file_raises(tmp_path):
    path = tmp_path / "capabilities.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(CapabilityDataError, match="cannot read"):
        load_capabilities(path)


def test_capability_is_frozen_and_hashable():
    cap = capability_for("openai/gpt-4o")
    assert isinstance(cap, ModelCapability)
    with pytest.raises(AttributeError):
        cap.vision = False  # type: ignore[misc]
    assert hash(cap) == hash(capability_for("openai/gpt-4o"))
