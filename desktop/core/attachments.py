"""One image the user brings to a message, from capture to send (Qt-free).

An `Attachment` is created the moment the user pastes, drops or picks something, before anything
is read or decoded. It travels unchanged through the pending strip, the send and (after a failed
send) back into the composer: the prepared result is computed once per limits and reused.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

# The pipeline (Pillow) is imported where it is used: start-up does not pay for it.
from desktop.core.images import ImageLimits, ImageRejected, PreparedImage
from desktop.core.images.edits import Edit
from desktop.core.images.limits import LOW_DETAIL
from desktop.core.letta.parts import image_url_part

THUMBNAIL_EDGE = 240
"""Long edge of the early preview (chips paint it at 64–72 px, sharp on 2× screens)."""

_IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp", ".svg", ".heic", ".avif")
_ids = itertools.count(1)


class Kind(str, Enum):
    BYTES = "bytes"  # encoded image bytes (clipboard, browser drop, converted QImage)
    FILE = "file"  # a local file, read on a worker
    URL = "url"  # a public http(s) URL the Letta server fetches itself


class State(str, Enum):
    PREPARING = "preparing"
    READY = "ready"
    PROBLEM = "problem"


@dataclass(eq=False)
class Attachment:
    """An image pending in the composer (or kept with a message that failed to send)."""

    kind: Kind
    name: str
    data: bytes | None = field(default=None, repr=False)
    path: str | None = None
    url: str | None = None
    id: str = field(default_factory=lambda: f"att-{next(_ids)}")
    state: State = State.PREPARING
    prepared: PreparedImage | None = None
    problem: str | None = None
    limits: ImageLimits | None = None
    """The limits `prepared` was fitted to (None: not prepared yet)."""
    detail: str | None = None
    """The user's detail choice (`low`; None: the provider decides). It applies only where the
    model has a detail setting: see `limits_for` and `low_detail`."""
    preview: Any = field(default=None, repr=False, compare=False)
    """The UI's decoded early thumbnail (a QImage in the Qt app); opaque to the core."""
    edit: Edit | None = None
    """The user's crop and blacked-out boxes, applied to the source by every preparation and
    preview: once set, the unedited source is never what is sent."""

    # -- constructors -------------------------------------------------------------------------

    @classmethod
    def from_bytes(cls, data: bytes, name: str = "Pasted image") -> Attachment:
        return cls(Kind.BYTES, name, data=bytes(data))

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> Attachment:
        p = Path(path)
        return cls(Kind.FILE, p.name or str(p), path=str(p))

    @classmethod
    def from_url(cls, url: str) -> Attachment:
        url = url.strip()
        return cls(Kind.URL, url_display_name(url), url=url, state=State.READY)

    # -- state --------------------------------------------------------------------------------

    @property
    def ready(self) -> bool:
        return self.state is State.READY

    @property
    def preparing(self) -> bool:
        return self.state is State.PREPARING

    @property
    def host(self) -> str:
        return (urlsplit(self.url).hostname or "") if self.url else ""

    def note(self) -> str:
        """One line for the chip's tooltip/caption: the outcome, the problem, or what happens."""
        if self.state is State.PROBLEM:
            return self.problem or "This image can't be sent."
        if self.kind is Kind.URL:
            return (
                f"The Letta server will download this image from {self.host} when you send "
                "it; the app does not fetch it."
            )
        if self.prepared is not None:
            return self.prepared.summary()
        return "Preparing…"

    @property
    def low_detail(self) -> bool:
        """Prepared for low detail (and sent saying so)?"""
        return self.limits is not None and self.limits.detail == LOW_DETAIL

    def content_part(self) -> dict[str, Any]:
        """The Letta content part for this attachment (only when ready)."""
        if self.kind is Kind.URL and self.url:
            return image_url_part(self.url)
        if self.prepared is None:
            raise ValueError(f"attachment {self.id} is not prepared")
        return self.prepared.to_content_part(LOW_DETAIL if self.low_detail else None)

    def limits_for(self, limits: ImageLimits) -> ImageLimits:
        """What this attachment is fitted to when the model's limits are `limits`."""
        return limits.for_detail(self.detail)

    def needs_prepare(self, limits: ImageLimits) -> bool:
        """Would preparing again for `limits` (the model's) change anything?"""
        return self.kind is not Kind.URL and self.limits != self.limits_for(limits)

    # -- work (called on worker threads) ------------------------------------------------------

    def prepare(self, limits: ImageLimits) -> PreparedImage:
        """Run the image pipeline on the source; raises ImageRejected with the user message."""
        from desktop.core.images import prepare_file, prepare_image

        if self.kind is Kind.FILE:
            assert self.path is not None
            return prepare_file(self.path, limits, self.edit)
        if self.data is None:
            raise ImageRejected("empty", f"{self.name}: there is no image data.")
        try:
            return prepare_image(self.data, limits, self.edit)
        except ImageRejected as exc:
            raise exc.for_file(self.name) from None

    def prepare_with_preview(
        self, limits: ImageLimits, max_edge: int = THUMBNAIL_EDGE
    ) -> Iterator[tuple[str, bytes | PreparedImage]]:
        """`prepare` for image bytes, decoding once: yields ``("preview", PNG bytes)`` as soon as
        the pixels are decoded, then ``("prepared", PreparedImage)``. Raises like `prepare`.

        For a big PNG a separate preview would have to decode the whole image again; on a
        2-core machine that competes with the preparation, so both would finish late."""
        if self.data is None:
            raise ImageRejected("empty", f"{self.name}: there is no image data.")
        from desktop.core.images import decode_for_prepare, prepare_decoded, thumbnail_from_decoded

        try:
            decoded = decode_for_prepare(self.data, limits, self.edit)
            yield "preview", thumbnail_from_decoded(decoded, max_edge)
            yield "prepared", prepare_decoded(decoded, limits)
        except ImageRejected as exc:
            raise exc.for_file(self.name) from None

    def thumbnail_bytes(self, max_edge: int = THUMBNAIL_EDGE) -> bytes:
        """A small PNG/JPEG preview of the source (edited, if it was); raises ImageRejected."""
        from desktop.core.images import decode_for_prepare, make_thumbnail, thumbnail_from_decoded

        data = self.source_bytes()
        if self.edit is not None:  # the whole source is decoded: the edit may keep a small part
            return thumbnail_from_decoded(decode_for_prepare(data, edit=self.edit), max_edge)
        return make_thumbnail(data, max_edge)

    def source_bytes(self) -> bytes:
        """The source as encoded bytes (a file is read, bounded); raises ImageRejected."""
        if self.kind is Kind.FILE:
            assert self.path is not None
            return read_file(self.path)
        return self.data or b""


def read_file(path: str, cap: int = ImageLimits().max_file_bytes) -> bytes:
    """Read a file for a preview (bounded, regular files only); raises ImageRejected the way
    prepare_file does."""
    from desktop.core.regular_file import read_regular_file

    return read_regular_file(path, cap)


def url_display_name(url: str) -> str:
    """`https://x.org/a/cat.png?s=1` → `cat.png` (or the host when the path has no name)."""
    parts = urlsplit(url)
    name = unquote(parts.path.rsplit("/", 1)[-1]) if parts.path else ""
    return name or parts.hostname or url


def looks_like_image_url(text: str) -> bool:
    """An http(s) URL whose path ends in an image extension (``…/cat.png``, ``…/a.jpg?x=1``).

    Used for pasted text: any other URL pastes as text, because people paste links to chat."""
    text = text.strip()
    if not text or any(c.isspace() for c in text):
        return False
    try:
        parts = urlsplit(text)
    except ValueError:
        return False
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return False
    return unquote(parts.path).lower().endswith(_IMAGE_EXTENSIONS)


def problems_text(attachments: list[Attachment]) -> str:
    """One message for attachments that were left out of a send."""
    if not attachments:
        return ""
    lines = [a.problem or f"{a.name}: can't be sent." for a in attachments]
    head = (
        "This attachment was not sent:" if len(lines) == 1 else "These attachments were not sent:"
    )
    return head + " " + " ".join(lines)
