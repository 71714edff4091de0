"""What one target (a provider/model profile) accepts for a single image."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

DEFAULT_FORMATS = frozenset({"image/png", "image/jpeg", "image/webp", "image/gif"})

HISTORY_SAFE_EDGE = 2000
"""No image leaves wider or taller than this, whatever the model. Letta keeps images in the
agent's history and re-sends them every turn, to whatever model the agent uses then: Anthropic
refuses anything over 2000 px on a side once a request holds more than 20 images, and OpenAI's
high detail keeps at most 2000 px of the long side anyway."""

LOW_DETAIL = "low"
"""The one detail setting the app sends explicitly (absent = the provider's `auto`)."""


@dataclass(frozen=True)
class ImageLimits:
    """Limits the pipeline fits an image into.

    The defaults are the safe profile from image-limits.md: they satisfy Anthropic, OpenAI and
    Gemini at once, so an image prepared with them can be sent to any vision model. Whatever
    they say, no side ever exceeds HISTORY_SAFE_EDGE.
    """

    max_long_edge: int = 1568
    """Longest side of the output, in pixels (clipped to HISTORY_SAFE_EDGE)."""
    max_bytes: int = 3_750_000
    """Encoded (raw, before base64) size of the output."""
    formats: frozenset[str] = field(default=DEFAULT_FORMATS)
    """Media types the target accepts; the output is always one of these."""
    max_pixels: int | None = None
    """Cap on width*height of the output (None: only max_long_edge applies)."""
    max_file_bytes: int = 200_000_000
    """Largest input file the pipeline will read at all (checked before reading it whole)."""
    max_input_pixels: int = 50_000_000
    """Largest input width*height the pipeline will decode (decompression-bomb guard)."""
    max_short_edge: int | None = None
    """Cap on the shorter side (OpenAI's tile models keep at most 768 px of it)."""
    patch_edge: int | None = None
    max_patches: int | None = None
    """With patch_edge: the output is covered by at most this many patch_edge² patches (the
    pixels OpenAI's patch models keep)."""
    low_detail_edge: int | None = None
    """The target has a `detail` setting, and low detail sees this box (None: no setting)."""
    detail: str | None = None
    """`low`: fitted for low detail, and the image part says so (None: the provider decides)."""

    def for_detail(self, detail: str | None) -> ImageLimits:
        """These limits for an image the user wants at `detail` (low: the low-detail box; a
        target without a detail setting, or any other value, keeps them as they are)."""
        if detail != LOW_DETAIL or self.low_detail_edge is None:
            return self
        return replace(
            self,
            max_long_edge=min(self.max_long_edge, self.low_detail_edge),
            max_short_edge=None,
            patch_edge=None,
            max_patches=None,
            detail=LOW_DETAIL,
        )


def patch_fit(width: int, height: int, patch: int, max_patches: int) -> tuple[int, int]:
    """The size OpenAI's patch models scale an image to ("Images and vision", calculating
    costs): unchanged when at most `max_patches` patches of `patch` px cover it, else shrunk so
    that a whole number of patches covers one side and the count is within the cap."""
    patches = math.ceil(width / patch) * math.ceil(height / patch)
    if patches <= max_patches:
        return width, height
    r = math.sqrt(patch * patch * max_patches / (width * height))
    r *= min(
        math.floor(width * r / patch) / (width * r / patch),
        math.floor(height * r / patch) / (height * r / patch),
    )
    return max(1, math.floor(width * r + 1e-9)), max(1, math.floor(height * r + 1e-9))
