"""Warn and prevent: pending images against what the agent's model can take.

`VisionGuard` owns the header badge (✓ / ✗ / ?), the vision banner above the composer, the
per-message token label, the Switch model… dialog and Describe with ‹model›
(ui/vision/describer.py). It re-evaluates whenever the attachments, the agent, its model or an
override change, puts per-image problems on the offending chips, and `allow_send()` is asked
before every send: nothing that would poison the agent's history goes out without the user
choosing it. The rules themselves are in desktop/core/send_guard.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QWidget

from desktop.core.attachments import Attachment, Kind, State
from desktop.core.capabilities import ModelCapability, capability_for
from desktop.core.images import ImageLimits
from desktop.core.letta import Agent, Conversation
from desktop.core.send_guard import (
    NO_VISION,
    TOO_MANY,
    UNKNOWN_VISION,
    SendProblem,
    check_send,
    image_tokens,
    likely_cause_text,
    message_tokens,
    model_name,
)
from desktop.ui.notice import Notice, Tone
from desktop.ui.plain_text import plain_label
from desktop.ui.transcript import ImagesRole, KindRole, RowKind, RowState, StateRole
from desktop.ui.user_errors import Action, UserError
from desktop.ui.vision.badge import CapabilityBadge
from desktop.ui.vision.banner import Mode, VisionBanner
from desktop.ui.vision.describer import ImageDescriber

if TYPE_CHECKING:
    from desktop.settings import Settings
    from desktop.ui.attachments import AttachmentController
    from desktop.ui.chat.session import ChatSession
    from desktop.ui.transcript import TranscriptModel
    from desktop.ui.vision.model_switcher import ModelSwitcher
    from desktop.workers import Workers


class VisionGuard(QObject):
    notice = Signal(object)  # Notice
    sendRequested = Signal()  # the user chose Send anyway
    composerWanted = Signal()  # the images are gone: back to typing
    descriptionReady = Signal(str)  # text standing in for the images, for the composer

    def __init__(
        self,
        workers: Workers,
        settings: Settings,
        attachments: AttachmentController,
        transcript_model: TranscriptModel,
        dialog_parent: QWidget,
    ):
        super().__init__(dialog_parent)
        self._workers = workers
        self._settings = settings
        self._attachments = attachments
        self._transcript = transcript_model
        self._dialog_parent = dialog_parent
        self._session: ChatSession | None = None
        self.badge = CapabilityBadge()
        self.banner = VisionBanner()
        self.tokens_label = plain_label()
        self.tokens_label.setAccessibleDescription("Estimated image tokens")
        self.tokens_label.setStyleSheet("color: palette(placeholder-text); font-size: 12px;")
        self.tokens_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        self.tokens_label.hide()
        self.problems: list[SendProblem] = []
        self.switcher: ModelSwitcher | None = None
        self._send_anyway = False
        self._risky: ModelCapability | None = None  # images went to a model that may not see
        self._flagged: dict[str, str] = {}  # attachment id → the problem the guard put on it
        self._refreshing = False
        self._history_images: int | None = None  # history_image_count, until rows change
        # The capability (settings read + JSON parse of the overrides) per model handle, until
        # the user changes an override or an agent loads; the limits per (capability, image
        # count). limits() runs for every attachment added: 200 times for a 200-file drop.
        self._capability: ModelCapability | None = None
        self._limits: tuple[ModelCapability, int, ImageLimits] | None = None
        # Signals come in bursts (ten chips removed by one send, a history page of rows): one
        # refresh after the burst instead of one per signal, each walking the whole history.
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(0)
        self._refresh_timer.timeout.connect(self.refresh)
        self.badge.overrideChosen.connect(self.set_override)
        self.banner.overrideChosen.connect(lambda v: self.set_override(self.handle() or "", v))
        self.banner.switchRequested.connect(self.switch_model)
        self.banner.sendAnywayRequested.connect(self.send_anyway)
        self.banner.removeRequested.connect(self.remove_images)
        # Models whose provider refused an image although the data does not know whether they
        # see: Describe is offered for them too.
        self._refused: set[str] = set()
        self.describer = ImageDescriber(workers, settings, attachments, self)
        self.banner.describeRequested.connect(self.describe_images)
        self.banner.cancelRequested.connect(self.describer.cancel)
        self.describer.offerChanged.connect(self.refresh_soon)
        self.describer.progress.connect(self.banner.show_describing)
        self.describer.described.connect(self.descriptionReady)
        self.describer.failed.connect(lambda text: self.notice.emit(Notice(text, Tone.ERROR)))
        self.describer.finished.connect(self._on_describer_finished)

        self._follow_sources()

    def _follow_sources(self) -> None:
        att = self._attachments
        for signal in (att.added, att.changed):
            signal.connect(self._on_attachments_changed)
        att.removed.connect(self._on_attachments_removed)
        model = self._transcript
        for signal in (model.rowsInserted, model.rowsRemoved, model.modelReset, model.dataChanged):
            signal.connect(self._forget_history_count)
        model.rowsInserted.connect(self.refresh_soon)
        model.rowsRemoved.connect(self.refresh_soon)
        model.modelReset.connect(self.refresh_soon)

    def set_session(self, session: ChatSession) -> None:
        self._session = session
        self.describer.set_client(session.client)
        session.agentLoaded.connect(self._on_agent)
        session.modelChanged.connect(lambda: self._on_agent(None))
        session.failed.connect(self._on_failed)
        session.replyFinished.connect(lambda _reason: setattr(self, "_risky", None))

    # -- what we know ---------------------------------------------------------------------

    def agent(self) -> Agent | None:
        session = self._session
        return session.agent if session is not None else None

    def handle(self) -> str | None:
        """The model that will answer: the shown conversation's own, else the agent's."""
        session = self._session
        return session.model if session is not None else None

    def capability(self) -> ModelCapability | None:
        """What the agent's model can take, the user's override included (cached per handle)."""
        handle = self.handle()
        if not handle:
            return None
        cap = self._capability
        if cap is None or cap.handle != handle:
            cap = capability_for(handle, self._settings.vision_overrides())
            self._capability = cap
        return cap

    def _forget_capability(self) -> None:
        """The overrides may have changed: read them again on next use."""
        self._capability = None
        self._limits = None

    def history_image_count(self) -> int:
        """Images in the conversation the server re-sends (the loaded part of it).

        Counted once per change of the transcript, not on every refresh: with thousands of
        rows loaded a count takes tens of milliseconds of the GUI thread."""
        if self._history_images is not None:
            return self._history_images
        model = self._transcript
        count = 0
        for row in range(model.rowCount()):
            index = model.index(row, 0)
            user = index.data(KindRole) is RowKind.USER
            if user and index.data(StateRole) is not RowState.FAILED:
                count += len(index.data(ImagesRole) or [])
        self._history_images = count
        return count

    def _forget_history_count(self, *_args: Any) -> None:
        self._history_images = None

    def _pending(self) -> list[Attachment]:
        """The attachments the next send would carry (ready ones, and guard-flagged ones)."""
        return [
            a
            for a in self._attachments.items
            if a.ready or (a.state is State.PROBLEM and a.id in self._flagged)
        ]

    def limits(self) -> ImageLimits:
        """What a pending image is fitted to now (the many-image rule counts history).

        Depends on the model's capability (the handle; cached until an override changes or an
        agent loads), the images in the loaded history (counted once per transcript change)
        and the pending ones; the answer is kept until one of them changes."""
        cap = self.capability()
        if cap is None:
            return ImageLimits()
        total = self.history_image_count() + max(1, len(self._attachments))
        cached = self._limits
        if cached is not None and cached[0] is cap and cached[1] == total:
            return cached[2]
        limits = cap.limits_for_count(total)
        self._limits = (cap, total, limits)
        return limits

    # -- evaluation -----------------------------------------------------------------------

    def _on_attachments_changed(self, *_args: Any) -> None:
        # Coalesced: a drop of 200 files emits hundreds of changes, and each refresh checks
        # every pending image (quadratic). allow_send() still refreshes at once before a send.
        if not self._attachments.items:
            self._send_anyway = False
        self.refresh_soon()

    def _on_attachments_removed(self, *_args: Any) -> None:
        # A send removes every chip at once: one refresh after them, not one per chip.
        if not self._attachments.items:
            self._send_anyway = False
        self.refresh_soon()

    def refresh_soon(self, *_args: Any) -> None:
        """Refresh once the current burst of signals is over (allow_send refreshes at once)."""
        if not self._refreshing:
            self._refresh_timer.start()

    def _on_agent(self, _agent: Agent | None) -> None:
        self._send_anyway = False
        self.describer.cancel()  # described for another agent or model
        self._forget_capability()  # a reconnect or another profile: read the overrides again
        self.refresh()

    def refresh(self, *_args: Any) -> None:
        self._refresh_timer.stop()
        if self._refreshing:  # flagging a chip emits `changed`, which lands here again
            return
        self._refreshing = True
        try:
            self._refresh()
        finally:
            self._refreshing = False

    def _refresh(self) -> None:
        cap = self.capability()
        self.badge.set_capability(cap)
        pending = self._pending()
        self.problems = check_send(cap, pending, self.history_image_count()) if cap else []
        self._flag(pending)
        self._update_tokens(cap, pending)
        self._update_banner(cap, pending)

    def _flag(self, pending: list[Attachment]) -> None:
        """Put each image's problem on its chip; lift problems that no longer hold."""
        wanted: dict[str, str] = {}
        for problem in self.problems:
            if problem.attachment_id and problem.blocking:
                wanted.setdefault(problem.attachment_id, problem.text)
        controller = self._attachments
        for att in controller.items:
            old, new = self._flagged.get(att.id), wanted.get(att.id)
            if old == new:
                continue
            if new is not None:
                if att.prepared is None and att.kind is not Kind.URL and att.state is State.PROBLEM:
                    continue
                _set_problem(controller, att, new)
                self._flagged[att.id] = new
            else:
                self._flagged.pop(att.id, None)
                _clear_problem(controller, att)
        live = {a.id for a in controller.items}
        for att_id in [k for k in self._flagged if k not in live]:
            del self._flagged[att_id]

    def _update_tokens(self, cap: ModelCapability | None, pending: list[Attachment]) -> None:
        total = message_tokens(cap, pending) if cap and cap.vision is not False else None
        if not pending or total is None:
            self.tokens_label.hide()
            return
        parts = [f"{a.name}: ≈ {t:,}" for a in pending if (t := image_tokens(cap, a)) is not None]
        n = len(pending)
        self.tokens_label.setText(f"{n} image{'s' if n != 1 else ''} · ≈ {total:,} tokens")
        self.tokens_label.setToolTip(
            f"Estimated {model_name(cap)} input tokens for the images in this message:\n"
            + "\n".join(parts)
        )
        self.tokens_label.show()

    def _update_banner(self, cap: ModelCapability | None, pending: list[Attachment]) -> None:
        if self.describer.busy:
            return  # the banner shows the progress and Cancel until it is over
        kinds = {p.kind: p for p in self.problems}
        limits = [p for p in self.problems if p.blocking and p.kind != NO_VISION]
        if not pending or cap is None:
            self.banner.clear()
        elif NO_VISION in kinds and not self._send_anyway:
            self.banner.show_cannot(kinds[NO_VISION].text)
        elif limits:
            self.banner.show_limits(_limits_text(cap, limits, pending, self.history_image_count()))
        elif UNKNOWN_VISION in kinds:
            self.banner.show_unknown(kinds[UNKNOWN_VISION].text)
        else:
            self.banner.clear()
        self._offer_description(cap, pending)

    # -- describing instead of sending ----------------------------------------------------

    def _describable(self) -> list[Attachment]:
        return [a for a in self._pending() if a.prepared is not None or a.kind is Kind.URL]

    def describe_model(self) -> str | None:
        """The model Describe would use now (None: no offer, or not known yet)."""
        cap = self.capability()
        if cap is None or not (
            cap.vision is False or (cap.vision is None and cap.handle in self._refused)
        ):
            return None
        return self.describer.model_for(cap.handle)

    def _offer_description(self, cap: ModelCapability | None, pending: list[Attachment]) -> None:
        mode = self.banner.mode
        model = self.describe_model() if mode in (Mode.CANNOT, Mode.UNKNOWN) else None
        images = self._describable()
        if model is None or not images:
            self.banner.set_describe_offer(None)
            return
        agent = self.agent()
        whom = agent.name if agent is not None else "the agent"
        self.banner.set_describe_offer(
            self.describer.offer_label(model, images),
            f"{model} looks at the image{'s' if len(images) != 1 else ''} (through a helper"
            " agent on this server) and writes a description and the text in "
            f"{'them' if len(images) != 1 else 'it'} into the message box, for you to review."
            f" {whom} gets only text. The estimate counts input tokens.",
        )

    def describe_images(self) -> None:
        model = self.describe_model()
        images = self._describable()
        if model is None or not images or self.describer.busy:
            return
        self.describer.start(model, images)

    def _on_describer_finished(self) -> None:
        self.banner.clear()  # the describing line is over; refresh shows what stands now
        self.refresh()
        if not self._attachments.items:
            self.composerWanted.emit()

    # -- sending --------------------------------------------------------------------------

    def allow_send(self) -> bool:
        """Asked by the window before a send; shows why when it says no."""
        self.refresh()
        cap = self.capability()
        if cap is None or not self._pending():
            return True
        if any(p.blocking and p.kind != NO_VISION for p in self.problems):
            self.banner.setFocus()
            return False
        if cap.vision is False and not self._send_anyway:
            self.banner.switch_button.setFocus()
            return False
        self._send_anyway = False
        self._risky = cap if cap.vision is not True else None
        return True

    def send_anyway(self) -> None:
        self._send_anyway = True
        self.banner.clear()
        self.sendRequested.emit()

    def remove_images(self) -> None:
        """Remove the images the problems are about (all of them when the model cannot see)."""
        controller = self._attachments
        if self.banner.mode is Mode.LIMITS:
            flagged = set(self._flagged)
            for att in controller.items:
                if att.id in flagged:
                    controller.remove(att)
        else:
            controller.clear()
        self.refresh()
        self.composerWanted.emit()

    def _on_failed(self, error: UserError) -> None:
        cap, self._risky = self._risky, None
        if cap is None:
            return
        if error.action is Action.SWITCH_MODEL:
            # The provider said so: the images of this very message were refused (a refused
            # send is not stored, so the history is not the problem). Describe is offered for
            # this model from now on.
            self._refused.add(cap.handle)
            text = likely_cause_text(cap)
            self._transcript.add_notice(text, "error")
            self.notice.emit(
                Notice(
                    f"{text} To show the image to this agent, Edit the message and describe it.",
                    Tone.ERROR,
                    "Switch model…",
                    self.switch_model,
                )
            )
            return
        if cap.vision is False:
            text = likely_cause_text(cap)
        else:
            text = (
                f"The image may have been the cause: it is not known whether {model_name(cap)} "
                "can see images. If it cannot, mark it so from the badge next to the model."
            )
        self._transcript.add_notice(text, Tone.ERROR)
        self.notice.emit(Notice(f"{error.text} {text}", Tone.ERROR))

    # -- changing the model or what we believe --------------------------------------------

    def set_override(self, handle: str, value: bool | None) -> None:
        if not handle:
            return
        settings = self._settings
        settings.set_vision_override(handle, value)
        settings.sync()
        self._forget_capability()
        self._send_anyway = False
        self.refresh()

    def switch_model(self) -> None:
        agent, session = self.agent(), self._session
        if agent is None or session is None:
            return
        from desktop.ui.vision.model_switcher import ModelSwitcher  # loads when first opened

        own = session.conversation if session.model_is_conversations else None
        dialog = ModelSwitcher(
            self._workers,
            session.client,
            agent,
            self._settings.vision_overrides(),
            self._dialog_parent,
            conversation=own,
            image_count=self.history_image_count(),
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.switched.connect(self._on_switched)
        dialog.destroyed.connect(lambda *_a: setattr(self, "switcher", None))
        self.switcher = dialog
        dialog.open()

    def _on_switched(self, switched: Agent | Conversation) -> None:
        session = self._session
        if session is None or session.agent is None:
            return
        if isinstance(switched, Conversation):
            session.set_conversation(switched)  # relabels and re-fits pending images
        else:
            session.adopt_agent(switched)  # relabels and re-fits pending images


NAMED = 3
"""Images the limits banner names; past that it counts (each chip's badge says why)."""
NAME_CHARS = 40
"""A file name longer than this is shortened in the banner (the chip's tooltip has it whole)."""


def _elide(name: str, limit: int = NAME_CHARS) -> str:
    if len(name) <= limit:
        return name
    tail = limit // 3
    return f"{name[: limit - tail - 1]}…{name[-tail:]}"


def _names(names: list[str]) -> str:
    """`a.png`, `a.png and b.png`, `a.png, b.png, c.png and 97 more`."""
    shown = [_elide(n) for n in names[:NAMED]]
    rest = len(names) - len(shown)
    if rest:
        return f"{', '.join(shown)} and {rest:,} more"
    return shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} and {shown[-1]}"


def _limits_text(
    cap: ModelCapability,
    problems: list[SendProblem],
    pending: list[Attachment],
    history_images: int = 0,
) -> str:
    """The banner's text for the blocking limit problems, bounded whatever their number.

    The problems about the whole message come whole; images over the model's count are one
    sentence with a few of their names; of the other per-image problems the first few are
    shown, then how many more images have one. Listing every problem of a 200-image drop
    would be ~12,000 characters, laid out again on each refresh (40–90 ms each)."""
    names = {a.id: a.name for a in pending}
    whole = [p for p in problems if p.attachment_id is None]
    too_many = [p for p in problems if p.kind == TOO_MANY and p.attachment_id is not None]
    others = [p for p in problems if p.kind != TOO_MANY and p.attachment_id is not None]
    parts = [p.text for p in whole]
    if len(too_many) == 1:
        parts.append(_short_problem(too_many[0], names))
    elif too_many:
        where = f" ({history_images} already in this conversation)" if history_images else ""
        over = [names.get(p.attachment_id or "", "") for p in too_many]
        parts.append(
            f"{len(too_many):,} images are too many for {model_name(cap)}: it takes at most "
            f"{cap.max_images} in one request, the conversation included{where}. Over the "
            f"limit: {_names(over)}."
        )
    shown = others[:NAMED]
    parts.extend(_short_problem(p, names) for p in shown)
    named = {p.attachment_id for p in shown}
    more = {p.attachment_id for p in others[NAMED:]} - named
    if len(more) == 1:
        parts.append("1 more image can't be sent as it is; its badge says why.")
    elif more:
        parts.append(f"{len(more):,} more images can't be sent as they are; each badge says why.")
    count = len(whole) + len(too_many) + len({p.attachment_id for p in others})
    head = "This can't be sent yet:" if count == 1 else "These can't be sent yet:"
    return head + " " + " ".join(parts)


def _short_problem(problem: SendProblem, names: dict[str, str]) -> str:
    """A per-image problem's text with a long file name at its start shortened."""
    name = names.get(problem.attachment_id or "")
    if name and len(name) > NAME_CHARS and problem.text.startswith(f"{name}: "):
        return _elide(name) + problem.text[len(name) :]
    return problem.text


def _set_problem(controller: Any, att: Attachment, text: str) -> None:
    setter = getattr(controller, "set_problem", None)
    if setter is not None:
        setter(att, text)
        return
    att.state, att.problem = State.PROBLEM, text
    controller.changed.emit(att)


def _clear_problem(controller: Any, att: Attachment) -> None:
    clearer = getattr(controller, "clear_problem", None)
    if clearer is not None:
        clearer(att)
        return
    if att.state is State.PROBLEM:
        att.state = State.READY if (att.prepared is not None or att.kind is Kind.URL) else att.state
        att.problem = None
        controller.changed.emit(att)
