"""Thumbnails of history images, decoded on a worker and kept in a bounded LRU.

Inline base64 images are decoded and scaled inside the worker function (QImage is safe off the
GUI thread, QPixmap is not). URL images are never fetched: the transcript shows a placeholder with
the host name, so opening a conversation cannot make the app reach out to arbitrary servers.
"""

from __future__ import annotations

import base64
import binascii
import math
from collections import OrderedDict
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QImage

from desktop.workers import Workers

MAX_EDGE = 240  # long edge of a thumbnail at 100 %, in pixels (× the screen's pixel ratio)

if TYPE_CHECKING:
    from desktop.core.letta.models import ImageRef


@dataclass(frozen=True)
class Thumb:
    """A thumbnail, or the words to show instead of one."""

    image: QImage | None
    label: str = ""
    failed: bool = False
    edge: int = MAX_EDGE  # the long edge it was decoded for

    @property
    def nbytes(self) -> int:
        return self.image.sizeInBytes() if self.image is not None else 0


def decode_thumbnail(data: str | ImageRef, max_edge: int = MAX_EDGE) -> QImage:
    """Base64 text (or an ImageRef's inline data) → QImage scaled to `max_edge`. Runs on a
    worker; raises ValueError if broken."""
    # On a worker, with the first thumbnail (the decoder brings the image pipeline's modules).
    from desktop.core.letta.models import ImageRef
    from desktop.ui.imaging.display_decode import read_scaled

    if isinstance(data, ImageRef):
        raw = data.inline_bytes()
    else:
        if data.startswith("data:"):  # tolerate a data: URL where bare base64 was expected
            data = data.partition(",")[2]
        try:
            raw = base64.b64decode("".join(data.split()), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError(f"not base64: {exc}") from exc
    try:
        image = read_scaled(raw, max_edge)
    except ValueError as exc:
        raise ValueError(f"not an image: {exc}") from None
    if max(image.width(), image.height()) > max_edge:
        image = image.scaled(
            max_edge,
            max_edge,
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
    return image.convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)


def url_placeholder(url: str | None) -> Thumb:
    host = urlsplit(url or "").hostname
    return Thumb(None, f"Image on {host}" if host else "Linked image")


class ThumbnailCache(QObject):
    """Thumbnails by key (the model uses "<message id>:<part index>"), count- and byte-bounded."""

    thumbnailReady = Signal(str)

    def __init__(
        self,
        workers: Workers,
        *,
        max_items: int = 400,
        max_bytes: int = 64 * 1024 * 1024,
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self._max_items = max_items
        self._max_bytes = max_bytes
        self._lru: OrderedDict[str, Thumb] = OrderedDict()
        self._bytes = 0
        self._pending: set[str] = set()
        self._decodes = workers.epoch(owner=self)  # renewed by clear(): older decodes are dropped
        self.edge = MAX_EDGE

    def set_scale(self, dpr: float) -> None:
        """The transcript is shown at this device pixel ratio: thumbnails are decoded at
        `MAX_EDGE × dpr` (a 148×112 cell at 200 % is 296×224 device pixels, more than a
        240-px thumbnail has). Ones decoded smaller are decoded again as they are next shown,
        and shown as they were until then; a sparser screen keeps the bigger ones."""
        self.edge = max(self.edge, math.ceil(MAX_EDGE * max(1.0, dpr or 1.0)))

    def __len__(self) -> int:
        return len(self._lru)

    @property
    def bytes_used(self) -> int:
        return self._bytes

    def peek(self, key: str) -> Thumb | None:
        return self._lru.get(key)

    def get(self, key: str, ref: ImageRef) -> Thumb | None:
        """The thumbnail if known (or a placeholder); None while it is being decoded."""
        thumb = self._lru.get(key)
        if thumb is not None:
            self._lru.move_to_end(key)
            image = thumb.image
            if (
                image is not None
                and thumb.edge < self.edge
                and max(image.width(), image.height()) >= thumb.edge  # cut to size: more is there
            ):
                self._decode(key, ref)
            return thumb
        if ref.source_type == "url" or (ref.url and not ref.has_data):
            return url_placeholder(ref.url)
        if not ref.has_data:
            return Thumb(None, "Image not available", failed=True)
        self._decode(key, ref)
        return None

    def _decode(self, key: str, ref: ImageRef) -> None:
        if key not in self._pending:
            self._pending.add(key)
            self._decodes.submit(
                decode_thumbnail,
                ref,
                self.edge,
                on_result=partial(self._decoded, key, self.edge),
                on_error=partial(self._failed, key),
            )

    def clear(self) -> None:
        self._lru.clear()
        self._bytes = 0
        self._pending.clear()
        self._decodes.renew()

    def _decoded(self, key: str, edge: int, image: QImage) -> None:
        self._store(key, Thumb(image, edge=edge))

    def _failed(self, key: str, _error: BaseException) -> None:
        # A broken image is data, not a bug: show words in its place.
        self._store(key, Thumb(None, "Can't show this image", failed=True))

    def _store(self, key: str, thumb: Thumb) -> None:
        self._pending.discard(key)
        old = self._lru.pop(key, None)
        if old is not None:
            self._bytes -= old.nbytes
        self._lru[key] = thumb
        self._bytes += thumb.nbytes
        while len(self._lru) > 1 and (
            len(self._lru) > self._max_items or self._bytes > self._max_bytes
        ):
            _, evicted = self._lru.popitem(last=False)
            self._bytes -= evicted.nbytes
        self.thumbnailReady.emit(key)
