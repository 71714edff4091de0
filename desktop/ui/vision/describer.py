"""Describe with ‹vision model›: pending images become text for an agent that cannot see.

The vision banner offers it when the agent's model cannot see (or nobody knows and the provider
already refused an image): the button names the model and the estimated input tokens before
anything runs. The work — finding or creating the helper agent, one conversation per image —
runs on a worker (desktop/core/describer.py); Cancel in the banner stops it. The text goes to
the composer (`described`), and only then are the images taken out of the message.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from desktop.core.attachments import Attachment, Kind
from desktop.core.capabilities import capability_for
from desktop.core.send_guard import model_name
from desktop.ui.user_errors import describe

if TYPE_CHECKING:
    from desktop.core.describer import Described, Describer, Starting
    from desktop.core.images import ImageLimits
    from desktop.core.letta import LettaClient, ModelInfo
    from desktop.settings import Settings
    from desktop.ui.attachments import AttachmentController
    from desktop.workers import Task, Workers


class ImageDescriber(QObject):
    offerChanged = Signal()  # the describing model became known (or unknowable)
    progress = Signal(str)  # what runs now, for the banner
    described = Signal(str)  # the text for the composer, every image in order
    failed = Signal(str)  # why nothing was described, in words
    finished = Signal()  # busy is over: done, failed or cancelled

    def __init__(
        self,
        workers: Workers,
        settings: Settings,
        attachments: AttachmentController,
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self._workers = workers
        self._settings = settings
        self._attachments = attachments
        self._client: LettaClient | None = None
        self._models: list[ModelInfo] | None = None
        self._models_task: Task | None = None
        self._task: Task | None = None
        self._running: Describer | None = None
        self._batch: list[Attachment] = []
        self._texts: list[str] = []
        self._model = ""

    # -- which model ------------------------------------------------------------------------

    def set_client(self, client: LettaClient | None) -> None:
        """Another server (or a reconnect): its models are asked for again when needed."""
        if client is self._client:
            return
        self.cancel()
        self._client = client
        self._models = None
        if self._models_task is not None:
            self._models_task.cancel()
            self._models_task = None

    def model_for(self, agent_handle: str | None) -> str | None:
        """The model that would describe for this agent, or None while the server's model list
        is being fetched (then `offerChanged` follows) or when it offers no vision model."""
        models = self._models
        if models is None:
            self._fetch_models()
            return None
        from desktop.core.describer import choose_model

        client = self._client
        preferred = self._settings.describer_model(client.base_url) if client else None
        return choose_model(agent_handle, models, self._settings.vision_overrides(), preferred)

    def _fetch_models(self) -> None:
        client = self._client
        if client is None or self._models_task is not None:
            return
        self._models_task = self._workers.submit(
            client.list_models,
            on_result=self._on_models,
            on_error=self._on_models_error,
            owner=self,
        )

    def _on_models(self, models: list[ModelInfo]) -> None:
        self._models_task = None
        self._models = list(models)
        self.offerChanged.emit()

    def _on_models_error(self, _exc: BaseException) -> None:
        # No offer then; the next server (or reconnect) asks again.
        self._models_task = None
        self._models = []
        self.offerChanged.emit()

    def _context_window(self, handle: str) -> int | None:
        return next((m.context_window for m in self._models or [] if m.handle == handle), None)

    def estimate(self, model: str, images: Sequence[Attachment]) -> int | None:
        """Input tokens of describing `images` with `model` (None: not known)."""
        from desktop.core.describer import estimate_tokens

        cap = capability_for(model, self._settings.vision_overrides())
        sizes = []
        for att in images:
            prepared = att.prepared
            if prepared is None:
                return None  # a URL: the server fetches it, its size is not known here
            scale = min(1.0, cap.recommended_long_edge / max(prepared.width, prepared.height))
            sizes.append((round(prepared.width * scale), round(prepared.height * scale)))
        return estimate_tokens(cap, sizes)

    def offer_label(self, model: str, images: Sequence[Attachment]) -> str:
        """The banner button: `Describe with gpt-4o-mini (≈ 1,105 tokens)`."""
        tokens = self.estimate(model, images)
        name = model_name(capability_for(model))
        return f"Describe with {name}" + (f" (≈ {tokens:,} tokens)" if tokens else "")

    # -- running ----------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self._task is not None

    def start(self, model: str, images: Sequence[Attachment]) -> None:
        """Describe `images` (in this order) with `model`; `described` carries the text."""
        client = self._client
        if client is None or self.busy or not images:
            return
        from desktop.core.describer import Describer

        describer = Describer(client, model, self._context_window(model))
        cap = capability_for(model, self._settings.vision_overrides())
        limits = cap.limits_for_count(1)
        jobs = [(att.name, _part_job(att, limits)) for att in images]
        self._running = describer
        self._batch = list(images)
        self._texts = []
        self._model = model
        self.progress.emit(self._progress_text(0, images[0].name))
        self._task = self._workers.submit_iter(
            describer.describe_all,
            jobs,
            on_item=self._on_item,
            on_result=lambda _r: self._on_done(),
            on_error=self._on_error,
            owner=self,
        )

    def _progress_text(self, index: int, name: str) -> str:
        count = len(self._batch)
        which = f" ({index + 1} of {count})" if count > 1 else ""
        return f"Describing “{name}”{which} with {model_name(capability_for(self._model))}…"

    def _on_item(self, item: Starting | Described) -> None:
        from desktop.core.describer import Starting

        if isinstance(item, Starting):
            self.progress.emit(self._progress_text(item.index, item.name))
        else:
            self._texts.append(item.text)

    def _on_done(self) -> None:
        texts, batch = self._texts, self._batch
        self._reset()
        self.described.emit("\n\n".join(texts))
        # Only now, with the text in the composer, do the images leave the message.
        for att in batch:
            self._attachments.remove(att)
        self.finished.emit()

    def _on_error(self, exc: BaseException) -> None:
        from desktop.core.describer import DescribeCancelled

        model = self._model
        self._reset()
        if not isinstance(exc, DescribeCancelled):
            name = model_name(capability_for(model))
            self.failed.emit(f"The images were not described with {name}: {describe(exc).text}")
        self.finished.emit()

    def cancel(self) -> None:
        """Stop describing; nothing goes to the composer and the images stay."""
        if self._task is None:
            return
        if self._running is not None:
            self._running.cancel()  # closes the stream; the worker cleans up on the server
        self._task.cancel()
        self._reset()
        self.finished.emit()

    def _reset(self) -> None:
        self._task = None
        self._running = None
        self._batch = []
        self._texts = []


def _part_job(att: Attachment, limits: ImageLimits) -> Callable[[], dict[str, Any]]:
    """The image's content part for the describing model (on the worker): the prepared one when
    it already fits that model's limits, else prepared again from the source."""

    def part() -> dict[str, Any]:
        if att.kind is Kind.URL or not att.needs_prepare(limits):
            return att.content_part()
        return att.prepare(limits).to_content_part()

    return part
