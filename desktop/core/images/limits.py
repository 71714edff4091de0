"""What one target (a provider/model profile) accepts for a single image."""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_FORMATS = frozenset({"image/png", "image/jpeg", "image/webp", "image/gif"})


@dataclass(frozen=True)
class ImageLimits:
    """Limits the pipeline fits an image into.

    The defaults are the safe profile from image-limits.md: they satisfy Anthropic, OpenAI and
    Gemini at once, so an image prepared with them can be sent to any vision model.
    """

    max_long_edge: int = 1568
    """Longest side of the output, in pixels."""
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
