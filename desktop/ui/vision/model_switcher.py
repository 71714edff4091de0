"""Switch model…: the server's models (vision-capable first, ✓ / ✗ / ?), then PATCH the agent.

The list comes from `GET /v1/models/` on a worker; the switch (`PATCH /v1/agents/{id}`) runs on a
worker after the user confirms. When the conversation still holds images and the new model cannot
see, the question says how many and what follows: the provider may refuse every later turn.
`switched(Agent)` carries the agent as the server returned it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from desktop.core.capabilities import ModelCapability, capability_for, short_status
from desktop.core.letta import Agent, Conversation, ModelInfo
from desktop.core.send_guard import model_name, vision_mark
from desktop.ui.plain_text import plain_label, plain_tip
from desktop.ui.screen_fit import keep_on_screen
from desktop.ui.user_errors import describe
from desktop.workers import Task, Workers

if TYPE_CHECKING:
    from desktop.core.letta import LettaClient

HandleRole = Qt.ItemDataRole.UserRole + 1
_ORDER = {True: 0, None: 1, False: 2}


def sorted_models(
    models: list[ModelInfo], overrides: Mapping[str, bool] | None = None
) -> list[tuple[ModelInfo, ModelCapability]]:
    """Vision-capable first, then unknown, then text-only; by handle within each group."""
    rows = [(m, capability_for(m.handle, overrides)) for m in models]
    return sorted(rows, key=lambda r: (_ORDER[r[1].vision], r[0].handle.lower()))


class ModelSwitcher(QDialog):
    switched = Signal(object)  # the updated Agent, or Conversation when it has its own model

    def __init__(
        self,
        workers: Workers,
        client: LettaClient,
        agent: Agent,
        overrides: Mapping[str, bool] | None = None,
        parent: QWidget | None = None,
        *,
        conversation: Conversation | None = None,
        image_count: int = 0,
    ):
        """With `conversation` (one with a model of its own), the switch is that
        conversation's: the agent and its other conversations keep theirs. `image_count`: the
        images in the shown conversation's history, which the server re-sends every turn."""
        super().__init__(parent)
        keep_on_screen(self)
        self._workers = workers
        self._client = client
        self._agent = agent
        self._conversation = conversation
        self._current = conversation.model if conversation is not None else agent.model
        self._overrides = dict(overrides or {})
        self._image_count = image_count
        self._task: Task | None = None
        self.updated_agent: Agent | None = None
        #: Asks the user to confirm; replaceable (tests). Returns True to go ahead.
        self.confirm: Callable[[str], bool] = self._ask
        self.setWindowTitle("Switch model")
        self.resize(480, 460)
        whom = (
            f"this conversation of <b>{_escape(agent.name)}</b> (it has a model of its own)"
            if conversation is not None
            else f"<b>{_escape(agent.name)}</b>"
        )
        intro = QLabel(f"Choose the model for {whom}. Models that can see images are listed first.")
        intro.setWordWrap(True)
        self.list = QListWidget()
        self.list.setAccessibleName("Models")
        self.status = plain_label("Loading models…")
        self.status.setWordWrap(True)
        self.status.setAccessibleDescription("Model list status")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.switch_button = buttons.addButton("Switch", QDialogButtonBox.ButtonRole.AcceptRole)
        self.switch_button.setEnabled(False)
        buttons.accepted.connect(self._switch_current)
        buttons.rejected.connect(self.reject)
        self.list.currentItemChanged.connect(self._on_current)
        self.list.itemActivated.connect(lambda _i: self._switch_current())
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.status)
        layout.addWidget(buttons)
        self._windows: dict[str, int] = {}
        self._task = workers.submit(
            client.list_models, on_result=self._on_models, on_error=self._on_error, owner=self
        )

    # -- list -----------------------------------------------------------------------------

    def handles(self) -> list[str]:
        return [self.list.item(i).data(HandleRole) for i in range(self.list.count())]

    def _on_models(self, models: list[ModelInfo]) -> None:
        self._task = None
        self._windows = {m.handle: m.context_window for m in models if m.context_window}
        for info, cap in sorted_models(models, self._overrides):
            current = info.handle == self._current
            text = f"{vision_mark(cap)}  {info.handle}" + ("   (current)" if current else "")
            item = QListWidgetItem(text)
            item.setData(HandleRole, info.handle)
            item.setData(
                Qt.ItemDataRole.AccessibleTextRole,
                f"{info.handle}, {short_status(cap)}" + (", current model" if current else ""),
            )
            item.setToolTip(plain_tip(f"{info.display_name}: {short_status(cap)}"))
            self.list.addItem(item)
        count = self.list.count()
        self.status.setText(
            f"{count} model{'s' if count != 1 else ''} on this server."
            if count
            else "The server lists no models."
        )
        if count:
            self.list.setCurrentRow(0)

    def _on_error(self, exc: BaseException) -> None:
        self._task = None
        self.status.setText("Could not load the models: " + describe(exc).text)

    def _on_current(self, item: QListWidgetItem | None, _prev: object = None) -> None:
        self.switch_button.setEnabled(
            item is not None and item.data(HandleRole) != self._current and self._task is None
        )

    # -- switching ------------------------------------------------------------------------

    def select(self, handle: str) -> None:
        for i in range(self.list.count()):
            if self.list.item(i).data(HandleRole) == handle:
                self.list.setCurrentRow(i)
                return

    def _switch_current(self) -> None:
        item = self.list.currentItem()
        if item is None or self._task is not None:
            return
        handle = item.data(HandleRole)
        if handle == self._current:
            return
        if self._conversation is not None:
            question = (
                f"Switch this conversation from {self._current} to {handle}? The agent and its "
                "other conversations keep their models."
            )
            call: Callable[..., Any] = self._client.update_conversation_model
            target = self._conversation.id
        else:
            question = (
                f"Switch {self._agent.name} from {self._current or 'its model'} to {handle}? "
                "This changes the agent on the server, for every app that uses it."
            )
            call, target = self._client.update_agent_model, self._agent.id
        question += self._blind_warning(handle)
        if not self.confirm(question):
            return
        self.status.setText(f"Switching to {handle}…")
        self.switch_button.setEnabled(False)
        self._task = self._workers.submit(
            call,
            target,
            handle,
            # With the model's own window: without it the server clamps to a legacy 128k.
            self._windows.get(handle),
            on_result=self._on_switched,
            on_error=self._on_switch_error,
            owner=self,
        )

    def _blind_warning(self, handle: str) -> str:
        """What a switch to a model that cannot see does to a conversation holding images."""
        count = self._image_count
        cap = capability_for(handle, self._overrides)
        if count <= 0 or cap.vision is not False:
            return ""
        images = "1 image" if count == 1 else f"{count:,} images"
        return (
            f"\n\nThis conversation still holds {images}, and {model_name(cap)} cannot see"
            " images: the model provider may reject every later turn of it. Switch back to a"
            " model that sees images to go on with it, or start a new conversation; to show"
            " this agent an image, describe it instead."
        )

    def _on_switched(self, switched: Agent | Conversation) -> None:
        self._task = None
        if isinstance(switched, Agent):
            self.updated_agent = switched
        self.switched.emit(switched)
        self.accept()

    def _on_switch_error(self, exc: BaseException) -> None:
        self._task = None
        self.status.setText("The model was not switched: " + describe(exc).text)
        self._on_current(self.list.currentItem())

    def _ask(self, question: str) -> bool:
        answer = QMessageBox.question(self, "Switch model", question)
        return answer == QMessageBox.StandardButton.Yes

    def done(self, result: int) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
        super().done(result)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
