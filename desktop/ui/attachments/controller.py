"""Pending attachments: capture → prepare on workers → state the strip shows → what `send` takes.

The controller owns the list of `Attachment`s under the composer. Adding one is instant (the chip
appears at once); the early thumbnail and the full preparation run on workers, in parallel, and
come back as `changed`. Each attachment's conversion and preparation run in an `Epoch` of its own,
renewed when it is prepared again (new limits), so an older run's result is dropped; the result of
a current run for an attachment that was removed meanwhile is kept on it quietly, so that
restoring it (Edit) finds it ready instead of waiting for nothing.
Nothing here decodes on the GUI thread.
"""

from __future__ import annotations

import io
import logging
import math
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from PySide6.QtCore import (
    QMimeData,
    QObject,
    QThread,
    Signal,
)
from PySide6.QtGui import QImage

from desktop.core.attachments import THUMBNAIL_EDGE, Attachment, Kind, State, problems_text
from desktop.core.capabilities import estimate_tokens
from desktop.core.images import ImageLimits, ImageRejected, PreparedImage
from desktop.core.images.edits import Edit
from desktop.core.images.limits import LOW_DETAIL
from desktop.ui.attachments import clipboard_fallback
from desktop.ui.attachments.mime import Source, has_attachment, read_mime
from desktop.ui.imaging.display_decode import read_scaled
from desktop.workers import Epoch, Workers

log = logging.getLogger(__name__)

LimitsProvider = Callable[[], ImageLimits]
ModelProvider = Callable[[], "str | None"]


# -- worker functions (plain data in, plain data out; QImage is fine off the GUI thread) ------
#
# Small encoded previews are decoded with Pillow, not QImage.fromData: PySide holds the GIL for
# the whole of a Qt decode (the GUI thread's Python waits for it), and Qt's format probing makes
# Qt objects and connections on the worker while holding the GIL, which can deadlock against the
# GUI thread disconnecting a Python slot (it holds Qt's signal lock and waits for the GIL). Pillow
# lets go of the GIL while it decodes and resizes.


def _qimage_from_pil(im: Any) -> QImage:
    """A Pillow image → a QImage that owns its pixels (premultiplied: what painting wants)."""
    if im.mode != "RGBA":
        im = im.convert("RGBA")
    raw = im.tobytes("raw", "RGBA")
    view = QImage(raw, im.width, im.height, im.width * 4, QImage.Format.Format_RGBA8888)
    return view.convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)  # a deep copy


def decode_preview(data: bytes, max_edge: int = THUMBNAIL_EDGE) -> QImage:
    """Encoded image bytes → a QImage whose long edge is at most `max_edge` (on a worker).

    Through the pipeline's guarded decoder (read_scaled): a draft restored from disk holds the
    user's original bytes, which get the same format and pixel checks as a fresh drop."""
    try:
        return read_scaled(data, max_edge)
    except ValueError as exc:
        raise ValueError(f"the preview could not be decoded ({exc})") from None


def preview_edge(dpr: float) -> int:
    """The long edge, in device pixels, of previews for a screen of that pixel ratio.

    `THUMBNAIL_EDGE` logical pixels is what a chip's centre crop needs at 100 % for images up to
    ~3.6:1; at 150 % the same crop covers 1.5× the device pixels, and a 240-px preview would be
    upscaled (soft) for anything wider than ~2.4:1."""
    return math.ceil(THUMBNAIL_EDGE * max(1.0, dpr or 1.0))


def thumbnail_job(att: Attachment, edge: int = THUMBNAIL_EDGE) -> QImage:
    """The early preview: a small decode of the source (JPEG draft, no full-size copy kept)."""
    return decode_preview(att.thumbnail_bytes(edge), edge)


def qimage_job(image: QImage, edge: int = THUMBNAIL_EDGE):
    """A clipboard or captured QImage → ("preview", QImage), then ("png", bytes) — PNG is what
    the pipeline (and the draft store) takes. Pillow does the work on the QImage's own pixels:
    it lets go of the GIL while it resizes and compresses, and is ~2× faster here than
    QImage.save (518 → 282 ms for a 5K capture)."""
    from PIL import Image  # on first use: Pillow stays out of start-up

    if image.isNull():
        raise ImageRejected("damaged", "The pasted image could not be read.")
    alpha = image.hasAlphaChannel()
    wanted = QImage.Format.Format_ARGB32 if alpha else QImage.Format.Format_RGB32
    if image.format() != wanted:  # 32-bit BGRA/BGRX in memory (little-endian), as Pillow reads it
        image = image.convertToFormat(wanted)
    pixels = Image.frombuffer(
        "RGBA" if alpha else "RGB",
        (image.width(), image.height()),
        image.constBits(),
        "raw",
        "BGRA" if alpha else "BGRX",
        image.bytesPerLine(),
        1,
    )
    scale = min(1.0, edge / max(pixels.width, pixels.height))
    size = (max(1, round(pixels.width * scale)), max(1, round(pixels.height * scale)))
    preview = pixels.resize(size, Image.Resampling.BICUBIC, reducing_gap=2.0)
    yield "preview", _qimage_from_pil(preview)
    out = io.BytesIO()
    pixels.save(out, "PNG", compress_level=1)  # speed over size: the pipeline re-encodes anyway
    yield "png", out.getvalue()


def prepare_with_preview_job(att: Attachment, limits: ImageLimits, edge: int = THUMBNAIL_EDGE):
    """Decode once, preview first: yields ("preview", QImage) then ("prepared", PreparedImage)."""
    for what, value in att.prepare_with_preview(limits, edge):
        if what == "preview":
            try:
                value = decode_preview(value, edge)
            except ValueError:
                continue  # no early preview: one is derived from the prepared image
        yield what, value


def preview_from_prepared(prepared: PreparedImage, edge: int = THUMBNAIL_EDGE) -> QImage:
    return decode_preview(prepared.data, edge)


@dataclass
class Outgoing:
    """What a send takes from the strip."""

    parts: list[dict[str, Any]] = field(default_factory=list)
    thumbnails: list[QImage] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    skipped: list[Attachment] = field(default_factory=list)

    @property
    def skipped_text(self) -> str:
        return problems_text(self.skipped)


def _ignore(_error: BaseException) -> None:
    """For a job whose failure the user learns about another way."""


class AttachmentController(QObject):
    added = Signal(object)  # Attachment
    changed = Signal(object)  # Attachment
    removed = Signal(object)  # Attachment
    message = Signal(str)  # something to tell the user (a banner)
    settled = Signal()  # nothing is preparing any more

    def __init__(
        self,
        workers: Workers,
        limits_provider: LimitsProvider | None = None,
        model_provider: ModelProvider | None = None,
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self._workers = workers
        self._limits_provider = limits_provider or ImageLimits
        self._model_provider = model_provider or (lambda: None)
        self._items: list[Attachment] = []
        self._when_settled: Callable[[], None] | None = None
        self._runs: weakref.WeakKeyDictionary[Attachment, Epoch] = weakref.WeakKeyDictionary()
        """Each attachment's conversion and preparation here; renewed when it is prepared again.
        Whether one is still running is what restore() asks before it starts another."""
        self._stale_previews: weakref.WeakSet[Attachment] = weakref.WeakSet()
        """Edited attachments whose chip still shows the preview from before the edit (kept
        until the edited one arrives, so the chip does not flash a placeholder)."""
        self.preview_edge = THUMBNAIL_EDGE
        """Long edge of the previews asked for now, in device pixels (see set_preview_scale)."""
        self._asked_edge: weakref.WeakKeyDictionary[Attachment, int] = weakref.WeakKeyDictionary()
        """The edge each attachment's latest preview was asked for at."""

    # -- reading ------------------------------------------------------------------------------

    @property
    def items(self) -> list[Attachment]:
        return list(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def find(self, att_id: str) -> Attachment | None:
        return next((a for a in self._items if a.id == att_id), None)

    @property
    def preparing(self) -> bool:
        return any(a.preparing for a in self._items)

    def limits(self) -> ImageLimits:
        try:
            return self._limits_provider()
        except Exception:  # a broken provider must not block attaching: use the safe profile
            log.exception("limits provider failed")
            return ImageLimits()

    def tokens(self, att: Attachment) -> int | None:
        """The provider's token cost of this prepared image for the agent's model, if known."""
        handle = self._model_provider()
        if not handle or att.prepared is None:
            return None
        detail = LOW_DETAIL if att.low_detail else None
        return estimate_tokens(handle, att.prepared.width, att.prepared.height, detail)

    def describe(self, att: Attachment) -> str:
        """The chip's tooltip: name, then what happened (summary, low detail, ≈ tokens) or the
        problem."""
        text = att.note()
        if att.ready and att.low_detail:
            text += ", low detail"
        tokens = self.tokens(att) if att.ready else None
        if tokens:
            text += f", ≈ {tokens:,} tokens"
        return f"{att.name}\n{text}"

    def offers_low_detail(self, att: Attachment) -> bool:
        """Can this image be sent at low detail to the agent's model (OpenAI's `detail`)?"""
        return att.kind is not Kind.URL and self.limits().low_detail_edge is not None

    def set_detail(self, att: Attachment, detail: str | None) -> None:
        """The user's detail choice for one image (`low`, or None: automatic); the image is
        fitted again when that changes what is sent, and its chip and estimate follow."""
        if att.detail == detail:
            return
        att.detail = detail
        if not self._listed(att):
            return
        if att.needs_prepare(self.limits()) and (
            att.kind is not Kind.BYTES or att.data is not None
        ):
            self._prepare(att)
        self.changed.emit(att)

    def set_preview_scale(self, dpr: float) -> None:
        """The chips are shown at this device pixel ratio (their window's screen). Previews are
        asked for at `preview_edge(dpr)`; moved to a denser screen, a chip whose preview was cut
        to the old edge gets a new one (kept on screen until it arrives). A sparser screen keeps
        the bigger previews: they are only drawn smaller."""
        edge = preview_edge(dpr)
        if edge <= self.preview_edge:
            return
        self.preview_edge = edge
        for att in self._items:
            asked = self._asked_edge.get(att, THUMBNAIL_EDGE)
            shown = att.preview
            if (
                asked < edge
                and shown is not None
                and max(shown.width(), shown.height()) >= asked  # cut to size: more is there
                and att.kind is not Kind.URL
                and (att.kind is not Kind.BYTES or att.data is not None)
            ):
                self._stale_previews.add(att)
                self._start_thumbnail(att)

    # -- adding -------------------------------------------------------------------------------

    def handle_mime(self, mime: QMimeData | None, *, drop: bool = False) -> bool:
        """Attach what `mime` holds; False when it is only text (for the editor)."""
        read = read_mime(mime, drop=drop)
        if read.sources:
            self.add_sources(read.sources)
        if read.messages:
            self.message.emit(" ".join(read.messages))
        return bool(read)

    def handle_paste(self, mime: QMimeData | None) -> bool:
        """The composer's paste: attach images; an empty clipboard tries the CLI fallback."""
        if self.handle_mime(mime):
            return True
        if mime is None or not mime.formats():
            return self.paste_fallback()
        return False

    def can_paste(self, mime: QMimeData | None) -> bool:
        if has_attachment(mime):
            return True
        return (mime is None or not mime.formats()) and clipboard_fallback.available()

    def paste_fallback(self) -> bool:
        """Ask wl-paste/xclip for an image when Qt's clipboard had nothing (Linux)."""
        if not clipboard_fallback.available():
            return False
        self._workers.submit(
            clipboard_fallback.read_clipboard_image,
            on_result=self._on_fallback,
            on_error=lambda exc: self.message.emit(f"The clipboard could not be read ({exc})."),
            owner=self,
        )
        return True

    def _on_fallback(self, data: bytes | None) -> None:
        if data:
            self.add_bytes(data, "Pasted image")
        else:
            self.message.emit("The clipboard holds no image or text to paste.")

    def add_sources(self, sources: Iterable[Source]) -> list[Attachment]:
        out = []
        # The jobs start once every chip is there (see Workers.held); each attachment's limits
        # are still taken as it is added.
        with self._workers.held():
            for src in sources:
                if src.kind == "file" and src.path:
                    out.append(self.add_file(src.path))
                elif src.kind == "bytes" and src.data is not None:
                    out.append(self.add_bytes(src.data, src.name or "Pasted image"))
                elif src.kind == "qimage" and src.image is not None:
                    out.append(self.add_qimage(src.image, src.name or "Pasted image.png"))
                elif src.kind == "url" and src.url:
                    out.append(self.add_url(src.url))
        return out

    def add_files(self, paths: Sequence[str]) -> list[Attachment]:
        with self._workers.held():  # as in add_sources
            return [self.add_file(p) for p in paths]

    def _run(self, att: Attachment) -> Epoch:
        run = self._runs.get(att)
        if run is None:
            run = self._runs[att] = self._workers.epoch(owner=self)
        return run

    def add_file(self, path: str) -> Attachment:
        return self._add(Attachment.from_file(path))

    def add_bytes(
        self, data: bytes, name: str = "Pasted image", edit: Edit | None = None
    ) -> Attachment:
        att = Attachment.from_bytes(data, name)
        att.edit = edit
        return self._add(att)

    def add_url(self, url: str) -> Attachment:
        return self._add(Attachment.from_url(url))

    def add_qimage(self, image: QImage, name: str = "Pasted image.png") -> Attachment:
        att = Attachment(Kind.BYTES, name)
        self._items.append(att)
        self.added.emit(att)
        self._asked_edge[att] = self.preview_edge
        self._run(att).submit_iter(
            qimage_job,
            image,
            self.preview_edge,
            on_item=partial(self._on_converted, att),
            on_error=partial(self._on_failed, att),
        )
        return att

    def _add(self, att: Attachment) -> Attachment:
        self._items.append(att)
        self.added.emit(att)
        if att.kind is not Kind.URL:
            if att.edit is None and self._early_thumbnail_pays(att):
                self._start_thumbnail(att)
                self._prepare(att)
            else:  # one decode for both: the preview comes out of the preparation's decode
                self._prepare(att, with_preview=True)
        return att

    @staticmethod
    def _early_thumbnail_pays(att: Attachment) -> bool:
        """Decode a separate early thumbnail in parallel with the preparation?

        A JPEG preview is nearly free (DCT draft) and files may be slow to read, so yes. A big
        PNG/WebP must be decoded whole for a preview: with fewer than 4 cores, the two decodes
        compete and both finish later, so the preparation decodes once and hands out the
        preview (a box-reduce of the decoded pixels) before it fits and encodes."""
        if att.kind is Kind.FILE or att.data is None:
            return True
        if att.data[:3] == b"\xff\xd8\xff" or len(att.data) < 300_000:
            return True
        return QThread.idealThreadCount() >= 4

    def _on_converted(self, att: Attachment, item: tuple[str, Any]) -> None:
        listed = self._listed(att)
        what, value = item
        if what == "preview":
            att.preview = value
            if listed:
                self.changed.emit(att)
            return
        att.data = value  # the source, whatever the limits: kept even if removed meanwhile
        if listed:
            self.changed.emit(att)
            self._prepare(att)
        else:  # nothing more is wanted from the conversion: a restore prepares from `data`
            self._run(att).renew()

    # -- preparation --------------------------------------------------------------------------

    def _listed(self, att: Attachment) -> bool:
        return any(a is att for a in self._items)

    def _start_thumbnail(self, att: Attachment) -> None:
        # Of the source, not of a preparation: no epoch, it is right whatever the limits.
        self._asked_edge[att] = self.preview_edge
        self._workers.submit(
            thumbnail_job,
            att,
            self.preview_edge,
            on_result=partial(self._on_thumbnail, att, edit=att.edit),
            on_error=_ignore,  # the preparation reports the real problem
            owner=self,
        )

    def _on_thumbnail(self, att: Attachment, image: QImage, edit: Edit | None) -> None:
        """A preview of the source as `edit` left it: right whatever the limits, kept if
        removed; one made before the latest edit is dropped."""
        if edit is not att.edit:
            return
        if att.preview is None or att in self._stale_previews:
            self._stale_previews.discard(att)
            att.preview = image
            if self._listed(att):
                self.changed.emit(att)

    def _prepare(self, att: Attachment, *, with_preview: bool = False) -> None:
        limits = att.limits_for(self.limits())
        run = self._run(att)
        run.renew()  # a run for other limits (or the conversion before it) is over
        att.limits = limits
        att.state, att.prepared, att.problem = State.PREPARING, None, None
        if with_preview and att.kind is Kind.BYTES and att.data is not None:
            self._asked_edge[att] = self.preview_edge
            run.submit_iter(
                prepare_with_preview_job,
                att,
                limits,
                self.preview_edge,
                on_item=partial(self._on_prepare_step, att),
                on_error=partial(self._on_failed, att),
            )
            return
        run.submit(
            att.prepare,
            limits,
            on_result=partial(self._on_prepared, att),
            on_error=partial(self._on_failed, att),
        )

    def _on_prepare_step(self, att: Attachment, item: tuple[str, Any]) -> None:
        what, value = item
        if what == "preview":  # of this run, so of the current edit
            self._on_thumbnail(att, value, att.edit)
        else:
            self._on_prepared(att, value)

    def _on_prepared(self, att: Attachment, prepared: PreparedImage) -> None:
        att.prepared, att.state = prepared, State.READY
        if not self._listed(att):  # removed meanwhile: kept for a restore, nothing to show
            return
        self.changed.emit(att)
        if att.preview is None or att in self._stale_previews:  # none yet, or of an old edit
            self._derive_preview(att)
        self._check_settled()

    def _derive_preview(self, att: Attachment) -> None:
        assert att.prepared is not None
        self._asked_edge[att] = self.preview_edge
        self._workers.submit(
            preview_from_prepared,
            att.prepared,
            self.preview_edge,
            on_result=partial(self._on_thumbnail, att, edit=att.edit),
            on_error=_ignore,  # the chip keeps its placeholder
            owner=self,
        )

    def _on_failed(self, att: Attachment, exc: BaseException) -> None:
        if isinstance(exc, ImageRejected):
            text = str(exc) if exc.filename or att.name in str(exc) else f"{att.name}: {exc}"
        else:
            log.error("preparing %s failed: %s", att.name, getattr(exc, "__traceback_text__", exc))
            text = f"{att.name}: the image could not be prepared ({type(exc).__name__})."
        att.prepared, att.state, att.problem = None, State.PROBLEM, text
        if self._listed(att):
            self.changed.emit(att)
            self._check_settled()

    def apply_edit(self, att: Attachment, edit: Edit | None) -> None:
        """Prepare `att` again from its source with `edit` (None: as it came). The chip keeps
        its preview, marked as preparing, until the edited one arrives."""
        edit = edit.normalized() if edit is not None else None
        if not self._listed(att) or att.kind is Kind.URL or edit == att.edit:
            return
        if att.kind is Kind.BYTES and att.data is None:
            self.message.emit(f"{att.name} is still being read; edit it in a moment.")
            return
        att.edit = edit
        if att.preview is not None:
            self._stale_previews.add(att)
        self._prepare(att, with_preview=True)
        self.changed.emit(att)

    def reprepare_all(self) -> None:
        """Refit pending images when the limits changed (e.g. the agent's model changed)."""
        limits = self.limits()
        for att in self._items:
            if att.needs_prepare(limits) and (att.kind is not Kind.BYTES or att.data is not None):
                self._prepare(att)
                self.changed.emit(att)

    # -- settling and sending -----------------------------------------------------------------

    def call_when_settled(self, fn: Callable[[], None] | None) -> None:
        """Run `fn` once nothing is preparing (now, if that is already so); None cancels."""
        self._when_settled = fn
        if fn is not None and not self.preparing:
            self._check_settled()

    def _check_settled(self) -> None:
        if self.preparing:
            return
        self.settled.emit()
        fn, self._when_settled = self._when_settled, None
        if fn is not None:
            fn()

    def outgoing(self) -> Outgoing:
        """Content parts (user order) and previews of the ready attachments; problems skipped."""
        out = Outgoing()
        for att in self._items:
            if att.ready:
                out.parts.append(att.content_part())
                out.attachments.append(att)
                # not a preview from before an edit: the transcript would show what was cut
                if isinstance(att.preview, QImage) and att not in self._stale_previews:
                    out.thumbnails.append(att.preview)
            elif att.state is State.PROBLEM:
                out.skipped.append(att)
        return out

    # -- removing and restoring ---------------------------------------------------------------

    def remove(self, att: Attachment) -> None:
        if any(a is att for a in self._items):
            self._items = [a for a in self._items if a is not att]
            self.removed.emit(att)
            self._check_settled()

    def remove_last(self) -> None:
        if self._items:
            self.remove(self._items[-1])

    def clear(self) -> None:
        for att in list(self._items):
            self.remove(att)

    def restore(self, attachments: Sequence[Attachment]) -> None:
        """Put attachments back (Edit after a failed send), before any added since, unchanged.

        Each ends ready or with its problem. One removed while it was preparing kept its run's
        result (or still has its run going here); one prepared for other limits is prepared
        again, and so is one still "preparing" with no run of its own here (one from another
        controller). `settled` follows as usual."""
        back = [a for a in attachments if not self._listed(a)]
        if not back:
            return
        self._items = back + self._items
        for att in back:
            self.added.emit(att)
        limits = self.limits()
        for att in back:
            if att.kind is Kind.URL:
                continue
            run = self._runs.get(att)
            if att.preparing and run is not None and run.busy:
                continue  # its run here is still going: its result completes it
            if not att.preparing and not att.needs_prepare(limits):
                if att.ready and att.preview is None and att.prepared is not None:
                    self._derive_preview(att)  # its thumbnail was dropped while it was away
                continue
            if att.kind is Kind.BYTES and att.data is None:  # nothing left to prepare from
                if att.preparing:
                    att.state = State.PROBLEM
                    att.problem = f"{att.name}: the image was lost before it was ready."
                    self.changed.emit(att)
                continue
            self._prepare(att)
            self.changed.emit(att)
        self._check_settled()
