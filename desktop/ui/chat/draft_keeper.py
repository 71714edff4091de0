"""Keeps the composer and the unsent messages of the open agent in the draft store.

As the user types or attaches, a save is scheduled (debounced, ~500 ms) and written on a worker;
a change to the unconfirmed messages saves at once. When an agent opens, its draft comes back: the
text and images into the composer, the unsent messages as failed rows with Retry. Switching
agents saves the old agent's draft and empties the composer for the new one's.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QImage

from desktop.core import app_dirs
from desktop.core.attachments import THUMBNAIL_EDGE, Attachment, Kind
from desktop.core.drafts import Draft, DraftImage, DraftStore, UnsentMessage
from desktop.core.letta import Agent
from desktop.core.letta.parts import image_bytes_part, image_url_part, user_content
from desktop.ui.attachments import AttachmentController
from desktop.ui.chat.composer import Composer
from desktop.ui.chat.session import ChatSession, PendingSend
from desktop.workers import Workers

log = logging.getLogger(__name__)

DEBOUNCE_MS = 500
RESTORED_NOTE = (
    "Not confirmed by the server before the app closed. Retry checks the server "
    "first, so it is never sent twice."
)


def default_store() -> DraftStore:
    return DraftStore(app_dirs.drafts_dir())


@dataclass
class _Restored:
    """A loaded draft, made ready for the GUI on the worker (thumbnails, content parts)."""

    draft: Draft
    unsent: list[PendingSend] = field(default_factory=list)


def _thumbnail(data: bytes) -> QImage | None:
    """With Pillow, which lets go of the GIL (QImage.fromData holds it for the whole decode)."""
    from desktop.ui.attachments.controller import decode_preview

    try:
        return decode_preview(data, THUMBNAIL_EDGE)
    except ValueError:
        return None


def load_job(store: DraftStore, agent_id: str) -> _Restored | None:
    """Worker: read the draft and rebuild the unsent messages' content parts and previews."""
    draft = store.load(agent_id)
    if draft is None:
        return None
    out = _Restored(draft)
    for message in draft.unsent:
        images: list[dict[str, Any]] = []
        thumbnails, attachments = [], []
        for image in message.images:
            if image.url:
                images.append(image_url_part(image.url))
                attachments.append(Attachment.from_url(image.url))
                continue
            if image.data is None:
                continue
            images.append(image_bytes_part(image.media_type or "image/png", image.data))
            attachments.append(Attachment.from_bytes(image.data, image.name))
            thumb = _thumbnail(image.data)
            if thumb is not None:
                thumbnails.append(thumb)
        content = user_content(message.text, images)
        if content:
            out.unsent.append(
                PendingSend(
                    message.otid,
                    message.text,
                    content,
                    thumbnails,
                    attachments=attachments,
                    sent_at=message.sent_at,
                )
            )
    return out


class DraftKeeper(QObject):
    saved = Signal(str)  # agent id (tests wait on it)
    restored = Signal(str)  # agent id: its draft is back in the window (or there was none)

    def __init__(
        self,
        workers: Workers,
        store: DraftStore,
        composer: Composer,
        attachments: AttachmentController,
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self._workers = workers
        self.store = store
        self._composer = composer
        self._attachments = attachments
        self._session: ChatSession | None = None
        self._agent_id: str | None = None
        self._loading = False
        self._saving = False
        self._again = False
        self._seq = 0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self._save)
        composer.textChanged.connect(self.schedule)
        for signal in (attachments.added, attachments.removed, attachments.changed):
            signal.connect(self.schedule)

    @property
    def agent_id(self) -> str | None:
        return self._agent_id

    def watch(self, session: ChatSession) -> None:
        """Follow a new chat session (a new connection): the old one's state is saved first."""
        if self._agent_id is not None:
            self._close_agent(self._agent_id)
        self._session = session
        session.agentLoaded.connect(self._on_agent)
        session.agentClosing.connect(self._close_agent)
        session.pendingChanged.connect(lambda: self.schedule(immediate=True))

    # -- saving -------------------------------------------------------------------------------

    def schedule(self, *_args: Any, immediate: bool = False) -> None:
        if self._agent_id is None:
            return
        if immediate:
            self._timer.stop()
            self._save()
        else:
            self._timer.start()

    def _save(self) -> None:
        if self._agent_id is None or self._loading:
            self._again = self._agent_id is not None
            return
        if self._saving:  # one write at a time, in order; the newest state follows
            self._again = True
            return
        self._saving, self._again = True, False
        self._seq += 1
        agent_id = self._agent_id
        self._workers.submit(
            self.store.save,
            agent_id,
            self._snapshot(),
            self._seq,
            on_result=lambda _r, a=agent_id: self.saved.emit(a),
            on_error=lambda e: log.error("saving the draft failed: %s", e),
            on_finished=self._on_saved,
            owner=self,
        )

    def _on_saved(self) -> None:
        self._saving = False
        if self._again:
            self._save()

    def flush(self) -> None:
        """Write now, on this thread (the window is closing): nothing typed is lost."""
        if self._agent_id is None or self._loading:
            return
        self._timer.stop()
        self._seq += 1
        try:
            self.store.save(self._agent_id, self._snapshot(), self._seq)
        except OSError as exc:
            log.error("saving the draft failed: %s", exc)

    def _snapshot(self) -> Draft:
        """What to keep, read on the GUI thread (cheap: references, no copies, no I/O)."""
        images = []
        for att in self._attachments.items:
            if att.kind is Kind.URL and att.url:
                images.append(DraftImage(att.name, url=att.url))
            elif att.kind is Kind.FILE and att.path:
                images.append(DraftImage(att.name, path=att.path, edit=att.edit))
            elif att.data is not None:
                images.append(DraftImage(att.name, data=att.data, edit=att.edit))
            # a pasted QImage still converting has no bytes yet: its `changed` saves again
        unsent = []
        for pending in self._session.pending_messages() if self._session else []:
            parts = [c for c in pending.content if c.get("type") == "image"]
            message_images = []
            for i, part in enumerate(parts):
                name = (
                    pending.attachments[i].name
                    if i < len(pending.attachments)
                    else (f"image {i + 1}")
                )
                source = part.get("source") or {}
                if source.get("type") == "url":
                    message_images.append(DraftImage(name, url=str(source.get("url"))))
                else:
                    message_images.append(
                        DraftImage(
                            name,
                            b64=str(source.get("data") or ""),
                            media_type=source.get("media_type"),
                        )
                    )
            unsent.append(
                UnsentMessage(
                    pending.otid, pending.text, message_images, pending.error_text, pending.sent_at
                )
            )
        return Draft(self._composer.text(), images, unsent)

    # -- switching agents and restoring -------------------------------------------------------

    def _close_agent(self, agent_id: str) -> None:
        """The window leaves `agent_id`: save its state, then empty the composer for the next."""
        if agent_id != self._agent_id:
            return
        if not self._loading:
            self._timer.stop()
            self._seq += 1
            self._workers.submit(
                self.store.save,
                agent_id,
                self._snapshot(),
                self._seq,
                on_error=lambda e: log.error("saving the draft failed: %s", e),
                owner=self,
            )
        self._agent_id = None
        self._composer.clear()
        self._attachments.clear()

    def _on_agent(self, agent: Agent) -> None:
        if agent.id == self._agent_id:
            return  # the same agent again (a model switch, a reload)
        self._agent_id = agent.id
        self._loading = True
        self._workers.submit(
            load_job,
            self.store,
            agent.id,
            on_result=lambda r, a=agent.id: self._restore(a, r),
            on_error=lambda e, a=agent.id: self._restore(a, None, e),
            owner=self,
        )

    def _restore(
        self, agent_id: str, restored: _Restored | None, error: BaseException | None = None
    ) -> None:
        if agent_id != self._agent_id:
            return  # the user moved on before the draft was read
        self._loading = False
        if error is not None:
            log.error("reading the draft failed: %s", error)
        if restored is not None:
            draft = restored.draft
            current = self._composer.text()
            if draft.text and draft.text not in current:
                self._composer.set_text(draft.text + ("\n\n" + current if current else ""))
            for image in draft.images:
                if image.url:
                    self._attachments.add_url(image.url)
                elif image.data is not None:
                    self._attachments.add_bytes(image.data, image.name, edit=image.edit)
            if self._session is not None:
                for pending in restored.unsent:
                    self._session.restore_pending(pending, RESTORED_NOTE)
        if self._again:
            self._again = False
            self.schedule()
        self.restored.emit(agent_id)
