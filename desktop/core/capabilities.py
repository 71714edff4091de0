"""Which models can see images, and what an image must fit for them.

Letta's API has no vision flag and no image limits, so the client keeps its own table in
`resources/capabilities.json` (provider profiles plus ordered model-name regexes; see its
`matching.how` for the rules). This module loads that table once, validates it, and answers per
model handle (`provider/model`). Nothing here imports Qt.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from desktop.core.images.limits import HISTORY_SAFE_EDGE, LOW_DETAIL, ImageLimits, patch_fit
from desktop.paths import resource_path

DATA_FILE = "capabilities.json"

LIMIT_KEYS = frozenset(
    {
        "formats",
        "max_image_bytes",
        "recommended_max_bytes",
        "max_request_bytes",
        "max_long_edge",
        "max_pixels",
        "max_images",
        "many_image_threshold",
        "many_image_max_edge",
        "recommended_long_edge",
        "tokens",
    }
)
_NEVER_NULL = frozenset(
    {"formats", "max_image_bytes", "recommended_max_bytes", "recommended_long_edge"}
)
_TOP_KEYS = frozenset({"schema", "about", "matching", "defaults", "profiles", "models"})
_MATCHING_KEYS = frozenset({"syntax", "how", "strip_prefixes"})
_PROFILE_KEYS = LIMIT_KEYS | {"handle_prefixes", "source", "note"}
_MODEL_KEYS = LIMIT_KEYS | {"pattern", "vision", "profile", "hosts", "source", "note"}

Params = Mapping[str, float]


class CapabilityDataError(ValueError):
    """The capability data file is malformed."""


# --- token formulas and the pixels each provider keeps ---------------------------------------
#
# A formula prices one image as the provider sees it; its params also say how far the provider
# scales an image down first. The app fits images to that same box (`_KEEPS`): pixels the
# provider would throw away cost upload bytes and history space, and buy nothing.


def _anthropic(w: int, h: int, p: Params) -> int:
    scale = min(1.0, p["max_long_edge"] / max(w, h))
    fw, fh = max(1, round(w * scale)), max(1, round(h * scale))
    return min(math.ceil(fw * fh / p["pixels_per_token"]), int(p["max_tokens"]))


def _openai_tiles(w: int, h: int, p: Params) -> int:
    fw, fh = w, h
    for limit, side in ((p["fit"], max), (p["short_side"], min)):
        scale = limit / side(fw, fh)
        if scale < 1:
            fw, fh = math.floor(fw * scale + 1e-9), math.floor(fh * scale + 1e-9)
    tiles = math.ceil(fw / p["tile"]) * math.ceil(fh / p["tile"])
    return int(p["base"] + p["per_tile"] * tiles)


def _openai_patches(w: int, h: int, p: Params) -> int:
    size, cap = int(p["patch"]), int(p["max_patches"])
    fw, fh = patch_fit(w, h, size, cap)
    patches = math.ceil(fw / size) * math.ceil(fh / size)
    return math.ceil(min(patches, cap) * p["multiplier"])


def _gemini_tiles(w: int, h: int, p: Params) -> int:
    if w <= p["small_edge"] and h <= p["small_edge"]:
        return int(p["tokens_per_tile"])
    return int(math.ceil(w / p["tile"]) * math.ceil(h / p["tile"]) * p["tokens_per_tile"])


def _fixed(w: int, h: int, p: Params) -> int:
    return int(p["tokens"])


FORMULAS: dict[str, tuple[Callable[[int, int, Params], int], frozenset[str]]] = {
    "anthropic": (
        _anthropic,
        frozenset({"pixels_per_token", "max_long_edge", "max_tokens", "max_pixels"}),
    ),
    "openai_tiles": (
        _openai_tiles,
        frozenset({"base", "per_tile", "tile", "fit", "short_side", "low_edge"}),
    ),
    "openai_patches": (_openai_patches, frozenset({"patch", "max_patches", "multiplier"})),
    "gemini_tiles": (_gemini_tiles, frozenset({"tile", "tokens_per_tile", "small_edge"})),
    "fixed": (_fixed, frozenset({"tokens"})),
}

_KEEPS: dict[str, Callable[[Params], dict[str, int]]] = {
    # Anthropic scales the long edge to 1568 and recommends <= 1.15 MP (time to first token).
    "anthropic": lambda p: {
        "max_long_edge": int(p["max_long_edge"]),
        "max_pixels": int(p["max_pixels"]),
    },
    # OpenAI high detail: fit the square `fit`, then the short side to `short_side`.
    "openai_tiles": lambda p: {
        "max_long_edge": int(p["fit"]),
        "max_short_edge": int(p["short_side"]),
    },
    "openai_patches": lambda p: {
        "patch_edge": int(p["patch"]),
        "max_patches": int(p["max_patches"]),
    },
}
"""ImageLimits fields per formula: the largest image the provider keeps as it is. Gemini states
no cap (it tiles any size), so the profile's recommended edge is its whole rule."""


@dataclass(frozen=True)
class TokenRule:
    formula: str
    params: tuple[tuple[str, float], ...]

    def estimate(self, width: int, height: int, detail: str | None = None) -> int:
        p = dict(self.params)
        if detail == LOW_DETAIL and self.formula == "openai_tiles":
            return int(p["base"])  # low detail: the base cost only, whatever the size
        return FORMULAS[self.formula][0](width, height, p)

    def kept(self) -> dict[str, int]:
        """ImageLimits fields for the pixels the provider keeps (empty: no stated cap)."""
        keep = _KEEPS.get(self.formula)
        return keep(dict(self.params)) if keep else {}

    @property
    def low_detail_edge(self) -> int | None:
        """The box low detail sees, when the provider has a detail setting (OpenAI's tile
        models: `detail: low` is their base cost for a 512 px version)."""
        if self.formula != "openai_tiles":
            return None
        return int(dict(self.params)["low_edge"])


# --- the answer ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelCapability:
    handle: str
    provider: str
    """Profile key whose limits apply (`anthropic`, `openai`, `ollama`, ...; `unknown`)."""
    vision: bool | None
    max_images: int | None
    max_image_bytes: int
    max_long_edge: int | None
    """Hard per-side cap of the provider (None: the provider rescales anything)."""
    many_image_threshold: int | None
    many_image_max_edge: int | None
    formats: frozenset[str]
    source: str
    overridden: bool = False
    host: str = ""
    """The handle's provider part as written (`openai-proxy`, `bedrock`, ...)."""
    model: str = ""
    """The normalised model name the patterns were matched against."""
    recommended_long_edge: int = 1568
    recommended_max_bytes: int = 3_750_000
    max_request_bytes: int | None = None
    max_pixels: int | None = None
    tokens: TokenRule | None = None
    pattern: str | None = field(default=None, compare=False)
    """The data entry that matched (None: no entry, vision unknown)."""

    @property
    def limits(self) -> ImageLimits:
        """Limits for an image in a request that holds only it, at the recommended size."""
        return self.limits_for_count(1)

    def hard_long_edge_for_count(self, total_images_in_request: int) -> int | None:
        """The provider's per-side cap when the request (history included) holds this many
        images: the many-image rule's edge past its threshold, else `max_long_edge`."""
        edge = self.max_long_edge
        if (
            self.many_image_threshold is not None
            and self.many_image_max_edge is not None
            and total_images_in_request > self.many_image_threshold
        ):
            edge = min(edge or self.many_image_max_edge, self.many_image_max_edge)
        return edge

    def limits_for_count(
        self, total_images_in_request: int, long_edge: int | None = None
    ) -> ImageLimits:
        """Limits when the request (history included) carries this many images in total.

        `long_edge` is the caller's preferred size (default: the recommended long edge); it is
        clipped to the provider's hard cap, which the many-image rule may lower, and to
        HISTORY_SAFE_EDGE. The pixels the provider keeps (its token rule's box) cap the rest.
        """
        edge = long_edge or self.recommended_long_edge
        hard = self.hard_long_edge_for_count(total_images_in_request)
        if hard is not None:
            edge = min(edge, hard)
        kept = self.tokens.kept() if self.tokens is not None else {}
        edge = min(edge, HISTORY_SAFE_EDGE, kept.get("max_long_edge", edge))
        pixels = [p for p in (self.max_pixels, kept.get("max_pixels")) if p is not None]
        return ImageLimits(
            max_long_edge=edge,
            max_bytes=min(self.max_image_bytes, self.recommended_max_bytes),
            formats=self.formats,
            max_pixels=min(pixels) if pixels else None,
            max_short_edge=kept.get("max_short_edge"),
            patch_edge=kept.get("patch_edge"),
            max_patches=kept.get("max_patches"),
            low_detail_edge=self.low_detail_edge,
        )

    @property
    def low_detail_edge(self) -> int | None:
        """The box a `detail: low` image is seen at, when the model has that setting."""
        if self.vision is False or self.tokens is None:
            return None
        return self.tokens.low_detail_edge

    def estimate_tokens(self, width: int, height: int, detail: str | None = None) -> int | None:
        if self.vision is False or self.tokens is None or width <= 0 or height <= 0:
            return None
        return self.tokens.estimate(width, height, detail)


# --- loading and validation ----------------------------------------------------------------


@dataclass(frozen=True)
class _Rule:
    regex: re.Pattern[str]
    vision: bool | None
    profile: str | None
    hosts: frozenset[str] | None
    fields: Mapping[str, Any]
    source: str


@dataclass(frozen=True)
class CapabilityData:
    strip_prefixes: tuple[re.Pattern[str], ...]
    defaults: Mapping[str, Any]
    profiles: Mapping[str, Mapping[str, Any]]
    hosts: Mapping[str, str]
    rules: tuple[_Rule, ...]


def _fail(where: str, problem: str) -> CapabilityDataError:
    return CapabilityDataError(f"{DATA_FILE} {where}: {problem}")


def _check_keys(obj: Any, allowed: frozenset[str], where: str) -> Mapping[str, Any]:
    if not isinstance(obj, Mapping):
        raise _fail(where, "must be an object")
    unknown = sorted(set(obj) - allowed)
    if unknown:
        raise _fail(where, f"unknown keys {unknown}")
    return obj


def _source(obj: Mapping[str, Any], where: str) -> str:
    source = obj.get("source")
    if not isinstance(source, str) or not source.strip():
        raise _fail(where, "needs a non-empty 'source'")
    return source


def _regex(pattern: Any, where: str) -> re.Pattern[str]:
    if not isinstance(pattern, str) or not pattern:
        raise _fail(where, "must be a non-empty string")
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise _fail(where, f"invalid regex {pattern!r}: {exc}") from None


def _limit_fields(obj: Mapping[str, Any], where: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in LIMIT_KEYS & set(obj):
        value, at = obj[key], f"{where}.{key}"
        if value is None:
            if key in _NEVER_NULL:
                raise _fail(at, "must not be null")
        elif key == "formats":
            if not isinstance(value, list) or not value:
                raise _fail(at, "must be a non-empty list of media types")
            if not all(isinstance(f, str) and f.startswith("image/") for f in value):
                raise _fail(at, "every format must be a media type such as image/png")
            value = frozenset(value)
        elif key == "tokens":
            value = _token_rule(value, at)
        elif isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise _fail(at, "must be a positive integer or null")
        out[key] = value
    return out


def _token_rule(value: Any, where: str) -> TokenRule:
    spec = _check_keys(value, frozenset({"formula", "params"}), where)
    name = spec.get("formula")
    if name not in FORMULAS:
        raise _fail(where, f"unknown formula {name!r}; known: {sorted(FORMULAS)}")
    params = spec.get("params")
    if not isinstance(params, Mapping) or set(params) != FORMULAS[name][1]:
        raise _fail(where, f"{name} needs exactly the params {sorted(FORMULAS[name][1])}")
    if not all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 for v in params.values()
    ):
        raise _fail(where, "params must be positive numbers")
    return TokenRule(name, tuple(sorted(params.items())))


def parse_capabilities(raw: Any) -> CapabilityData:
    """Validate the decoded JSON and build the lookup tables; raises CapabilityDataError."""
    top = _check_keys(raw, _TOP_KEYS, "(top level)")
    if top.get("schema") != 1:
        raise _fail("schema", "must be 1")
    matching = _check_keys(top.get("matching"), _MATCHING_KEYS, "matching")
    if matching.get("syntax") != "python-regex":
        raise _fail("matching.syntax", "must be 'python-regex'")
    strips = matching.get("strip_prefixes", [])
    if not isinstance(strips, list):
        raise _fail("matching.strip_prefixes", "must be a list")
    strip_prefixes = tuple(_regex(p, f"matching.strip_prefixes[{i}]") for i, p in enumerate(strips))

    raw_defaults = _check_keys(top.get("defaults"), LIMIT_KEYS | {"source"}, "defaults")
    defaults = _limit_fields(raw_defaults, "defaults")
    missing = sorted(LIMIT_KEYS - set(raw_defaults))
    if missing:
        raise _fail("defaults", f"must set every limit field; missing {missing}")
    defaults["source"] = _source(raw_defaults, "defaults")

    raw_profiles = top.get("profiles")
    if not isinstance(raw_profiles, Mapping) or not raw_profiles:
        raise _fail("profiles", "must be a non-empty object")
    profiles: dict[str, Mapping[str, Any]] = {}
    hosts: dict[str, str] = {}
    for name, raw_profile in raw_profiles.items():
        where = f"profiles.{name}"
        prof = _check_keys(raw_profile, _PROFILE_KEYS, where)
        fields = _limit_fields(prof, where)
        fields["source"] = _source(prof, where)
        profiles[name] = fields
        prefixes = prof.get("handle_prefixes", [])
        if not isinstance(prefixes, list) or not all(isinstance(p, str) for p in prefixes):
            raise _fail(f"{where}.handle_prefixes", "must be a list of strings")
        for prefix in prefixes:
            if prefix.lower() in hosts:
                raise _fail(f"{where}.handle_prefixes", f"{prefix!r} is already in another profile")
            hosts[prefix.lower()] = name

    raw_models = top.get("models")
    if not isinstance(raw_models, list) or not raw_models:
        raise _fail("models", "must be a non-empty list")
    rules = tuple(_rule(entry, f"models[{i}]", profiles) for i, entry in enumerate(raw_models))
    return CapabilityData(strip_prefixes, defaults, profiles, hosts, rules)


def _rule(entry: Any, where: str, profiles: Mapping[str, Any]) -> _Rule:
    obj = _check_keys(entry, _MODEL_KEYS, where)
    if "vision" not in obj or obj["vision"] not in (True, False, None):
        raise _fail(f"{where}.vision", "must be true, false or null")
    profile = obj.get("profile")
    if profile is not None and profile not in profiles:
        raise _fail(f"{where}.profile", f"unknown profile {profile!r}")
    hosts = obj.get("hosts")
    if hosts is not None:
        if not isinstance(hosts, list) or not all(isinstance(h, str) for h in hosts):
            raise _fail(f"{where}.hosts", "must be a list of strings")
        hosts = frozenset(h.lower() for h in hosts)
    return _Rule(
        regex=_regex(obj.get("pattern"), f"{where}.pattern"),
        vision=obj["vision"],
        profile=profile,
        hosts=hosts,
        fields=_limit_fields(obj, where),
        source=_source(obj, where),
    )


def load_capabilities(path: Path) -> CapabilityData:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CapabilityDataError(f"cannot read {path}: {exc}") from exc
    return parse_capabilities(raw)


@cache
def capability_data() -> CapabilityData:
    """The bundled table, loaded and validated once."""
    return load_capabilities(resource_path(DATA_FILE))


# --- lookups -------------------------------------------------------------------------------


def split_handle(handle: str, data: CapabilityData | None = None) -> tuple[str, str]:
    """`Provider/vendor/Model:tag` → (`provider`, normalised model name `model:tag`)."""
    data = data or capability_data()
    text = handle.strip().lower()
    host, _, rest = text.partition("/") if "/" in text else ("", "", text)
    name = rest.rsplit("/", 1)[-1]
    for prefix in data.strip_prefixes:
        name = prefix.sub("", name, count=1)
    return host, name


@lru_cache(maxsize=512)
def _lookup(handle: str) -> ModelCapability:
    data = capability_data()
    host, name = split_handle(handle, data)
    rule = next(
        (r for r in data.rules if (r.hosts is None or host in r.hosts) and r.regex.match(name)),
        None,
    )
    profile_key = (rule.profile if rule else None) or data.hosts.get(host)
    fields: dict[str, Any] = dict(data.defaults)
    limits_source = data.defaults["source"]
    if profile_key:
        fields.update(data.profiles[profile_key])
        limits_source = data.profiles[profile_key]["source"]
    if rule:
        fields.update(rule.fields)
    source = f"{rule.source}; limits: {limits_source}" if rule else limits_source
    return ModelCapability(
        handle=handle,
        provider=profile_key or "unknown",
        vision=rule.vision if rule else None,
        max_images=fields["max_images"],
        max_image_bytes=fields["max_image_bytes"],
        max_long_edge=fields["max_long_edge"],
        many_image_threshold=fields["many_image_threshold"],
        many_image_max_edge=fields["many_image_max_edge"],
        formats=fields["formats"],
        source=source,
        host=host,
        model=name,
        recommended_long_edge=fields["recommended_long_edge"],
        recommended_max_bytes=fields["recommended_max_bytes"],
        max_request_bytes=fields["max_request_bytes"],
        max_pixels=fields["max_pixels"],
        tokens=fields["tokens"],
        pattern=rule.regex.pattern if rule else None,
    )


def capability_for(handle: str, overrides: Mapping[str, bool] | None = None) -> ModelCapability:
    """What `handle` can take. `overrides` (full handle → can see) win over the data."""
    cap = _lookup(handle or "")
    if overrides:
        wanted = overrides.get(handle)
        if wanted is None:
            lowered = (handle or "").strip().lower()
            wanted = next((v for k, v in overrides.items() if k.strip().lower() == lowered), None)
        if wanted is not None:
            cap = replace(cap, vision=bool(wanted), overridden=True)
    return cap


def estimate_tokens(handle: str, width: int, height: int, detail: str | None = None) -> int | None:
    """Provider token cost of one width×height image for `handle` at `detail` (None: the
    provider's default), or None: unknown / cannot see."""
    return capability_for(handle).estimate_tokens(width, height, detail)


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def resolve_model_handle(
    agent: Mapping[str, Any], conversation: Mapping[str, Any] | None = None
) -> str | None:
    """The model an agent (or one of its conversations) actually runs on, as a handle."""
    if conversation and (handle := _text(conversation.get("model"))):
        return handle
    if handle := _text(agent.get("model")):
        return handle
    llm = agent.get("llm_config")
    if not isinstance(llm, Mapping):
        return None
    if handle := _text(llm.get("handle")):
        return handle
    endpoint, model = _text(llm.get("model_endpoint_type")), _text(llm.get("model"))
    if endpoint and model:
        return f"{endpoint}/{model}"
    return model


def short_status(cap: ModelCapability) -> str:
    if cap.vision is True:
        return "sees images"
    if cap.vision is False:
        return "cannot see images"
    return "unknown whether it sees images"
