"""The pipeline's result: encoded bytes ready to send, and what was done to get them."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from functools import cached_property

from desktop.core.images.sniff import short_name


def format_size(n: int) -> str:
    """Bytes in decimal units, the way file managers show them: 412 KB, 2.1 MB."""
    if n < 1000:
        return f"{n} B"
    if n < 1_000_000:
        return f"{round(n / 1000)} KB"
    if n < 1_000_000_000:
        return f"{n / 1_000_000:.1f}".removesuffix(".0") + " MB"
    return f"{n / 1_000_000_000:.1f}".removesuffix(".0") + " GB"


@dataclass(frozen=True)
class PreparedImage:
    """An image fitted to the target's limits, metadata-free, ready to become a content part."""

    media_type: str
    data: bytes = field(repr=False)
    width: int
    height: int
    original_width: int
    original_height: int
    original_media_type: str
    original_size: int
    edit_note: str = ""
    """What the user did before it was fitted (``cropped, 1 area blacked out``), if anything."""

    @property
    def size(self) -> int:
        """Encoded size in bytes (before base64)."""
        return len(self.data)

    @cached_property
    def _b64(self) -> str:
        return base64.b64encode(self.data).decode("ascii")

    def base64(self) -> str:
        """The encoded bytes as raw base64 (no ``data:`` prefix)."""
        return self._b64

    def to_content_part(self, detail: str | None = None) -> dict:
        """A Letta message content part: ``{"type": "image", "source": {"type": "base64", …}}``
        (with the provider's `detail` setting when one is given)."""
        from desktop.core.letta.parts import image_base64_part  # not needed at start-up

        return image_base64_part(self.media_type, self._b64, detail)

    def summary(self) -> str:
        """What happened, in one line: ``5120×2880 PNG → 1568×882 PNG, 2.1 MB → 412 KB``, or
        ``5120×2880 PNG, cropped → 1200×800 PNG, 2.1 MB → 96 KB`` after an edit."""
        original_type = short_name(self.original_media_type)
        before = f"{self.original_width}×{self.original_height} {original_type}"
        after = f"{self.width}×{self.height} {short_name(self.media_type)}"
        sizes = f"{format_size(self.original_size)} → {format_size(self.size)}"
        if self.edit_note:
            return f"{before}, {self.edit_note} → {after}, {sizes}"
        if before == after:
            return f"{after}, {sizes}"
        return f"{before} → {after}, {sizes}"
