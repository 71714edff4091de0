"""Read what the user pasted or dropped (QMimeData) into attachment sources, in a fixed order.

1. local file URLs (a file copied in a file manager — not the file-type icon some platforms also
   put there as image data), 2. encoded image bytes by mime format, 3. the QImage, 4. URLs: pasted
   text that is an image URL, or (for drops) a link without image data. Plain text is left alone
   for the text editor. Only cheap copies happen here; nothing is decoded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from PySide6.QtCore import QMimeData, QUrl
from PySide6.QtGui import QImage

from desktop.core.attachments import looks_like_image_url, url_display_name
from desktop.core.images import is_public_image_url, sniff_media_type

#: Encoded image formats, in order of preference (lossless and widely accepted first).
IMAGE_FORMATS = (
    "image/png",
    "image/jpeg",
    "image/webp",
    "image/gif",
    "image/avif",
    "image/heic",
    "image/heif",
    "image/bmp",
    "image/x-bmp",
    "image/tiff",
    "image/svg+xml",
)
_EXTENSIONS = {"image/jpeg": "jpg", "image/svg+xml": "svg", "image/x-bmp": "bmp"}


@dataclass
class Source:
    """One thing to attach, as captured (the controller turns it into an Attachment)."""

    kind: Literal["file", "bytes", "qimage", "url"]
    name: str = ""
    path: str | None = None
    data: bytes | None = None
    image: QImage | None = None
    url: str | None = None


@dataclass
class MimeRead:
    sources: list[Source] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    """Per-item explanations for things that can't be attached (shown to the user)."""

    def __bool__(self) -> bool:
        return bool(self.sources or self.messages)


def _local_files(mime: QMimeData) -> list[str]:
    if not mime.hasUrls():
        return []
    return [u.toLocalFile() for u in mime.urls() if u.isLocalFile() and u.toLocalFile()]


def _web_urls(mime: QMimeData) -> list[str]:
    urls: list[str] = []
    if mime.hasUrls():
        urls = [u.toString() for u in mime.urls() if not u.isLocalFile()]
    if not urls and mime.hasText():
        text = mime.text().strip()
        if text and "\n" not in text and QUrl(text).scheme().lower() in ("http", "https"):
            urls = [text]
    return [u for u in urls if u]


def _image_format(mime: QMimeData) -> str | None:
    formats = mime.formats()
    for fmt in IMAGE_FORMATS:
        if fmt in formats:
            return fmt
    return next((f for f in formats if f.startswith("image/")), None)


def has_attachment(mime: QMimeData | None, *, drop: bool = False) -> bool:
    """Would `read_mime` find something to attach? Looks at formats only (no data copies)."""
    if mime is None:
        return False
    if _local_files(mime) or _image_format(mime) or mime.hasImage():
        return True
    if drop:
        return bool(_web_urls(mime))
    return mime.hasText() and _is_pasted_image_url(mime.text())


def _is_pasted_image_url(text: str) -> bool:
    return looks_like_image_url(text) and is_public_image_url(text.strip())


def read_mime(mime: QMimeData | None, *, drop: bool = False) -> MimeRead:
    """The attachment sources in `mime` (empty when it is plain text for the editor)."""
    out = MimeRead()
    if mime is None:
        return out
    files = _local_files(mime)
    if files:
        out.sources = [Source("file", path=p) for p in files]
        return out
    web = _web_urls(mime)
    base_name = url_display_name(web[0]) if web else ("Dropped image" if drop else "Pasted image")
    fmt = _image_format(mime)
    if fmt is not None:
        data = bytes(mime.data(fmt).data())
        if data and sniff_media_type(data) is not None:
            ext = _EXTENSIONS.get(fmt, fmt.rsplit("/", 1)[-1])
            name = base_name if "." in base_name else f"{base_name}.{ext}"
            out.sources = [Source("bytes", name=name, data=data)]
            return out
    if mime.hasImage():
        image = mime.imageData()
        if isinstance(image, QImage) and not image.isNull():
            name = base_name if "." in base_name else f"{base_name}.png"
            out.sources = [Source("qimage", name=name, image=image)]
            return out
    if drop:
        for url in web:
            if is_public_image_url(url):
                out.sources.append(Source("url", name=url_display_name(url), url=url))
            else:
                out.messages.append(
                    f"{url_display_name(url)}: the Letta server can't fetch images from a local "
                    "or private address. Save the image and attach the file instead."
                )
        return out
    if mime.hasText() and _is_pasted_image_url(mime.text()):
        url = mime.text().strip()
        out.sources = [Source("url", name=url_display_name(url), url=url)]
    return out
