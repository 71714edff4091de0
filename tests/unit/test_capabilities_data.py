"""The capability data file: what a malformed edit says (whole message, with where), and what a
valid file turns into."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from desktop.core.capabilities import (
    CapabilityDataError,
    TokenRule,
    load_capabilities,
    parse_capabilities,
    split_handle,
)
from desktop.paths import resource_path


def _raw() -> dict:
    return json.loads(resource_path("capabilities.json").read_text(encoding="utf-8"))


def _set(*path: Any) -> Callable[[dict], None]:
    """`_set("profiles", "openai", "max_images", 0)`: put a value somewhere in the data."""
    *keys, last, value = path

    def mutate(data: dict) -> None:
        for key in keys:
            data = data[key]
        data[last] = value

    return mutate


def _drop(*keys: Any) -> Callable[[dict], None]:
    def mutate(data: dict) -> None:
        for key in keys[:-1]:
            data = data[key]
        del data[keys[-1]]

    return mutate


ANTHROPIC_PARAMS = "['max_long_edge', 'max_pixels', 'max_tokens', 'pixels_per_token']"
FORMULA_NAMES = "['anthropic', 'fixed', 'gemini_tiles', 'openai_patches', 'openai_tiles']"
POSITIVE = "must be a positive integer or null"

# (what an edit does, the whole message it gets; every message starts with the file name)
MALFORMED: list[tuple[str, Callable[[dict], None], str]] = [
    ("extra top key", _set("extra", 1), "(top level): unknown keys ['extra']"),
    ("schema 2", _set("schema", 2), "schema: must be 1"),
    ("matching not an object", _set("matching", "regex"), "matching: must be an object"),
    ("matching extra key", _set("matching", "flags", "i"), "matching: unknown keys ['flags']"),
    (
        "matching syntax",
        _set("matching", "syntax", "glob"),
        "matching.syntax: must be 'python-regex'",
    ),
    (
        "strip_prefixes not a list",
        _set("matching", "strip_prefixes", "^openai\\."),
        "matching.strip_prefixes: must be a list",
    ),
    (
        "strip_prefixes empty string",
        _set("matching", "strip_prefixes", ["^a\\.", ""]),
        "matching.strip_prefixes[1]: must be a non-empty string",
    ),
    (
        "strip_prefixes number",
        _set("matching", "strip_prefixes", [5]),
        "matching.strip_prefixes[0]: must be a non-empty string",
    ),
    (
        "strip_prefixes bad regex",
        _set("matching", "strip_prefixes", ["^a\\.", "(b"]),
        "matching.strip_prefixes[1]: invalid regex '(b': "
        "missing ), unterminated subpattern at position 0",
    ),
    ("defaults not an object", _set("defaults", []), "defaults: must be an object"),
    ("defaults extra key", _set("defaults", "colour", 1), "defaults: unknown keys ['colour']"),
    (
        "defaults missing a limit",
        _drop("defaults", "max_images"),
        "defaults: must set every limit field; missing ['max_images']",
    ),
    ("defaults no source", _drop("defaults", "source"), "defaults: needs a non-empty 'source'"),
    (
        "defaults blank source",
        _set("defaults", "source", "  "),
        "defaults: needs a non-empty 'source'",
    ),
    (
        "defaults null formats",
        _set("defaults", "formats", None),
        "defaults.formats: must not be null",
    ),
    (
        "defaults null bytes",
        _set("defaults", "max_image_bytes", None),
        "defaults.max_image_bytes: must not be null",
    ),
    ("profiles empty", _set("profiles", {}), "profiles: must be a non-empty object"),
    ("profiles a list", _set("profiles", ["openai"]), "profiles: must be a non-empty object"),
    ("profile not an object", _set("profiles", "openai", 3), "profiles.openai: must be an object"),
    (
        "profile extra key",
        _set("profiles", "openai", "colour", "red"),
        "profiles.openai: unknown keys ['colour']",
    ),
    (
        "profile no source",
        _drop("profiles", "openai", "source"),
        "profiles.openai: needs a non-empty 'source'",
    ),
    (
        "formats empty",
        _set("profiles", "openai", "formats", []),
        "profiles.openai.formats: must be a non-empty list of media types",
    ),
    (
        "formats a string",
        _set("profiles", "openai", "formats", "image/png"),
        "profiles.openai.formats: must be a non-empty list of media types",
    ),
    (
        "formats not media types",
        _set("profiles", "openai", "formats", ["image/png", "png"]),
        "profiles.openai.formats: every format must be a media type such as image/png",
    ),
    (
        "max_images -1",
        _set("profiles", "openai", "max_images", -1),
        f"profiles.openai.max_images: {POSITIVE}",
    ),
    (
        "max_images 0",
        _set("profiles", "openai", "max_images", 0),
        f"profiles.openai.max_images: {POSITIVE}",
    ),
    (
        "max_images true",
        _set("profiles", "openai", "max_images", True),
        f"profiles.openai.max_images: {POSITIVE}",
    ),
    (
        "max_images 1.5",
        _set("profiles", "openai", "max_images", 1.5),
        f"profiles.openai.max_images: {POSITIVE}",
    ),
    (
        "max_images '5'",
        _set("profiles", "openai", "max_images", "5"),
        f"profiles.openai.max_images: {POSITIVE}",
    ),
    (
        "tokens not an object",
        _set("profiles", "openai", "tokens", "tiles"),
        "profiles.openai.tokens: must be an object",
    ),
    (
        "tokens extra key",
        _set("profiles", "anthropic", "tokens", "cap", 1),
        "profiles.anthropic.tokens: unknown keys ['cap']",
    ),
    (
        "unknown formula",
        _set("profiles", "openai", "tokens", {"formula": "magic", "params": {}}),
        f"profiles.openai.tokens: unknown formula 'magic'; known: {FORMULA_NAMES}",
    ),
    (
        "params missing one",
        _drop("profiles", "anthropic", "tokens", "params", "max_tokens"),
        f"profiles.anthropic.tokens: anthropic needs exactly the params {ANTHROPIC_PARAMS}",
    ),
    (
        "params not an object",
        _set("profiles", "anthropic", "tokens", "params", [750]),
        f"profiles.anthropic.tokens: anthropic needs exactly the params {ANTHROPIC_PARAMS}",
    ),
    (
        "param zero",
        _set("profiles", "anthropic", "tokens", "params", "pixels_per_token", 0),
        "profiles.anthropic.tokens: params must be positive numbers",
    ),
    (
        "param true",
        _set("profiles", "anthropic", "tokens", "params", "pixels_per_token", True),
        "profiles.anthropic.tokens: params must be positive numbers",
    ),
    (
        "param text",
        _set("profiles", "anthropic", "tokens", "params", "pixels_per_token", "750"),
        "profiles.anthropic.tokens: params must be positive numbers",
    ),
    (
        "handle_prefixes a string",
        _set("profiles", "xai", "handle_prefixes", "xai"),
        "profiles.xai.handle_prefixes: must be a list of strings",
    ),
    (
        "handle_prefixes numbers",
        _set("profiles", "xai", "handle_prefixes", [1]),
        "profiles.xai.handle_prefixes: must be a list of strings",
    ),
    (
        "prefix in two profiles",
        _set("profiles", "google", "handle_prefixes", ["gemini", "OpenAI"]),
        "profiles.google.handle_prefixes: 'OpenAI' is already in another profile",
    ),
    ("models empty", _set("models", []), "models: must be a non-empty list"),
    ("models an object", _set("models", {"a": 1}), "models: must be a non-empty list"),
    ("model not an object", _set("models", 3, "auto"), "models[3]: must be an object"),
    ("model extra key", _set("models", 0, "colour", "red"), "models[0]: unknown keys ['colour']"),
    (
        "model no vision",
        _drop("models", 0, "vision"),
        "models[0].vision: must be true, false or null",
    ),
    (
        "model vision text",
        _set("models", 1, "vision", "yes"),
        "models[1].vision: must be true, false or null",
    ),
    (
        "model unknown profile",
        _set("models", 2, "profile", "nope"),
        "models[2].profile: unknown profile 'nope'",
    ),
    (
        "model hosts a string",
        _set("models", 3, "hosts", "letta"),
        "models[3].hosts: must be a list of strings",
    ),
    (
        "model hosts numbers",
        _set("models", 3, "hosts", [1]),
        "models[3].hosts: must be a list of strings",
    ),
    (
        "model no pattern",
        _drop("models", 0, "pattern"),
        "models[0].pattern: must be a non-empty string",
    ),
    (
        "model bad pattern",
        _set("models", 0, "pattern", "gpt-(4"),
        "models[0].pattern: invalid regex 'gpt-(4': "
        "missing ), unterminated subpattern at position 4",
    ),
    ("model bad limit", _set("models", 2, "max_images", 0), f"models[2].max_images: {POSITIVE}"),
    (
        "model bad formula",
        _set("models", 2, "tokens", {"formula": "magic", "params": {}}),
        f"models[2].tokens: unknown formula 'magic'; known: {FORMULA_NAMES}",
    ),
    ("model no source", _drop("models", 1, "source"), "models[1]: needs a non-empty 'source'"),
]


@pytest.mark.parametrize(
    ("mutate", "message"), [c[1:] for c in MALFORMED], ids=[c[0] for c in MALFORMED]
)
def test_a_malformed_edit_names_the_place_and_the_rule(mutate, message):
    data = _raw()
    mutate(data)
    with pytest.raises(CapabilityDataError) as caught:
        parse_capabilities(data)
    assert str(caught.value) == f"capabilities.json {message}"


def test_not_an_object_at_all():
    with pytest.raises(CapabilityDataError) as caught:
        parse_capabilities([])
    assert str(caught.value) == "capabilities.json (top level): must be an object"


@pytest.mark.parametrize(
    "mutate",
    [
        _set("profiles", "openai", "max_images", 1),  # the smallest positive limit
        _set("profiles", "anthropic", "tokens", "params", "pixels_per_token", 0.5),
        _drop("profiles", "xai", "handle_prefixes"),  # a profile only entries name
        _set("models", 3, "vision", True),
    ],
    ids=["limit 1", "param 0.5", "no handle_prefixes", "vision true"],
)
def test_edits_within_the_rules_are_accepted(mutate):
    data = _raw()
    mutate(data)
    parse_capabilities(data)


def test_a_valid_file_becomes_these_tables():
    data = parse_capabilities(_raw())
    assert data.defaults["source"] == (
        "docs/image-limits.md, safe defaults "
        "(fits Anthropic, OpenAI, Gemini, xAI and local servers at once)"
    )
    assert data.defaults["formats"] == frozenset({"image/png", "image/jpeg"})
    assert data.profiles["xai"]["formats"] == frozenset({"image/png", "image/jpeg"})
    assert data.hosts["openai-proxy"] == "openai"
    assert data.hosts["azure_openai"] == "openai"
    assert data.hosts["x-ai"] == "xai"
    gpt4o = data.profiles["openai"]["tokens"]
    assert isinstance(gpt4o, TokenRule) and gpt4o.formula == "openai_tiles"
    assert gpt4o.estimate(1024, 1024) == 765
    auto = data.rules[3]
    assert (auto.regex.pattern, auto.vision, auto.profile) == ("auto", None, "letta")
    assert auto.hosts == frozenset({"letta"})
    assert data.rules[0].hosts is None and data.rules[0].profile is None


def test_hosts_of_an_entry_match_in_any_case():
    raw = _raw()
    raw["models"][3]["hosts"] = ["Letta", "MY-ROUTER"]
    assert parse_capabilities(raw).rules[3].hosts == frozenset({"letta", "my-router"})


def test_strip_prefixes_are_optional_and_applied():
    data = parse_capabilities(_raw())
    assert split_handle("bedrock/eu.anthropic.claude-3-haiku", data) == (
        "bedrock",
        "claude-3-haiku",
    )
    raw = _raw()
    del raw["matching"]["strip_prefixes"]
    bare = parse_capabilities(raw)
    assert bare.strip_prefixes == ()
    assert split_handle("bedrock/eu.anthropic.claude-3-haiku", bare) == (
        "bedrock",
        "eu.anthropic.claude-3-haiku",
    )


def test_a_file_that_cannot_be_read_says_which(tmp_path):
    missing = tmp_path / "nowhere.json"
    with pytest.raises(CapabilityDataError) as caught:
        load_capabilities(missing)
    assert str(caught.value).startswith(f"cannot read {missing}: ")
    latin = tmp_path / "latin1.json"
    latin.write_bytes(b'{"about": "caf\xe9"}')
    with pytest.raises(CapabilityDataError) as caught:
        load_capabilities(latin)
    assert str(caught.value).startswith(f"cannot read {latin}: 'utf-8' codec can't decode")


def test_the_bundled_file_loads_from_disk(tmp_path):
    copy = tmp_path / "capabilities.json"
    copy.write_bytes(resource_path("capabilities.json").read_bytes())
    assert load_capabilities(copy).hosts["openai"] == "openai"
