"""Tool approvals: what the agent waits for, and the panel above the composer that answers it.

An agent stops with `requires_approval` when it calls a tool that is approval-gated (a
`requires_approval` tool rule; 0.16.8 adds one when a tool with `default_requires_approval` is
attached). ChatSession notices it three ways — the stream's stop reason, an unanswered
`approval_request_message` at the end of the history, or a 409 PENDING_APPROVAL on send — and
emits `approvalPending(Approval)`.

One request may hold several calls (parallel tool calls). The answer must cover exactly the
pending ids — the server refuses anything else ("Invalid tool call IDs") and keeps waiting — so
the panel always answers every call at once: "Approve all", "Deny all", or (with several calls)
a choice per call and "Send answers". It emits `answered(list[ApprovalDecision])`; the session
sends it with `ChatSession.answer_approvals` and streams what the agent does next.

A call to a tool the agent does not have is a client-side tool of another client (Letta Code's
Bash/Read/Edit… are passed per request as `client_tools` and answered with a tool return, not an
approval): this app cannot run it, so it can only be denied. Tool names and arguments are
untrusted server text: always plain text, with invisible and bidi characters made visible.
"""

from __future__ import annotations

import contextlib
import itertools
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontDatabase, QFontMetrics, QResizeEvent, QTextOption
from PySide6.QtWidgets import (
    QButtonGroup,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from desktop.core.letta import ApprovalDecision, Message, StreamChunk, ToolCall
from desktop.ui.notice import Tone
from desktop.ui.style.tones import tone
from desktop.ui.visible_text import tool_label, visible_text

#: Sent as the reason when a call to another client's tool is denied and the user gave none, so
#: the agent learns why instead of trying again.
FOREIGN_REASON = (
    "This client cannot run this tool: it is not one of the agent's tools but belongs to another"
    " client (such as Letta Code)."
)
_FOREIGN_NOTE = (
    "Not one of this agent's tools: it belongs to another app (such as Letta Code) that runs"
    " tools on its own computer. This app can't run it — you can only deny it."
)
_MAX_ARGUMENTS = 100_000  # characters of arguments shown; more is cut with a note
_ARGUMENT_LINES = 6  # an arguments box grows up to this many lines, then scrolls
_LIST_MAX_HEIGHT = 300  # the list of calls scrolls beyond this


@dataclass(frozen=True)
class Approval:
    """Every call of the pending approval request, oldest first, each with a distinct id.

    `foreign` holds the ids of calls to tools the agent does not have (only deniable)."""

    calls: tuple[ToolCall, ...]
    foreign: frozenset[str] = frozenset()

    @classmethod
    def of(
        cls, calls: Iterable[ToolCall], agent_tools: frozenset[str] | None = None
    ) -> Approval | None:
        """The approval for `calls` (without id-less or repeated ids); None when none is left.
        With `agent_tools` None (unknown), no call counts as foreign."""
        unique: dict[str, ToolCall] = {}
        for call in calls:
            if call.tool_call_id and call.tool_call_id not in unique:
                unique[call.tool_call_id] = call
        if not unique:
            return None
        foreign = frozenset(
            i for i, c in unique.items() if agent_tools is not None and c.name not in agent_tools
        )
        return cls(tuple(unique.values()), foreign)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(c.tool_call_id for c in self.calls)

    def is_foreign(self, call: ToolCall | str) -> bool:
        return (call if isinstance(call, str) else call.tool_call_id) in self.foreign

    @property
    def names(self) -> str:
        """The tools in words: "water_plants", "water_plants and Bash", "a, b and c"."""
        return _and([tool_label(c.name) for c in self.calls])


def pretty_arguments(arguments: str) -> str:
    """Arguments as shown: JSON indented, invisible characters marked, huge ones cut."""
    text = arguments.strip()
    if len(text) <= _MAX_ARGUMENTS:
        with contextlib.suppress(ValueError, RecursionError):
            text = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    more = len(text) - _MAX_ARGUMENTS
    if more > 0:
        text = f"{text[:_MAX_ARGUMENTS]}\n… ({more:,} more characters not shown)"
    return visible_text(text)


def _and(words: Sequence[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} and {words[-1]}"


def answer_notice(approval: Approval | None, decisions: Sequence[ApprovalDecision]) -> str:
    """The transcript line for an answer: "You approved water_plants and denied Bash: why."."""
    calls = {c.tool_call_id: c for c in approval.calls} if approval is not None else {}

    def names(approve: bool) -> list[str]:
        chosen = [d for d in decisions if d.approve is approve]
        return [tool_label(calls[d.tool_call_id].name) for d in chosen if d.tool_call_id in calls]

    approved, denied = names(True), names(False)
    parts = [f"approved {_and(approved)}"] if approved else []
    parts += [f"denied {_and(denied)}"] if denied else []
    if not parts:
        parts = ["answered the tool calls" if len(decisions) > 1 else "answered the tool call"]
    reason = next((d.reason for d in decisions if d.reason and d.reason != FOREIGN_REASON), None)
    return "You " + " and ".join(parts) + (f": {reason}" if reason else ".")


#: Rows that answer or move past an approval request (a newer one of these means none waits).
_PAST = frozenset(
    {"approval_response_message", "tool_return_message", "assistant_message", "user_message"}
)


def pending_in(
    newest_first: Iterable[Message], agent_tools: frozenset[str] | None = None
) -> Approval | None:
    """The approval request the history ends with, with all its calls, unless something
    answered it. A server that lists each call of one request as its own row (same message id)
    gets them merged."""
    found: list[Message] = []
    for message in newest_first:
        if message.message_type == "approval_request_message":
            if found and message.id != found[0].id:
                break  # an older request: the newest one is what waits
            found.append(message)
            continue
        if found or message.message_type in _PAST:
            break
    calls = [c for message in reversed(found) for c in _calls_of(message)]
    return Approval.of(calls, agent_tools)


def _calls_of(message: Message) -> list[ToolCall]:
    if message.tool_calls:
        return list(message.tool_calls)
    if message.tool_call_id:  # a row built without tool_calls (older code paths)
        name, arguments = message.tool_name or "", message.tool_arguments or ""
        return [ToolCall(message.tool_call_id, name, arguments)]
    return []


class StreamedApproval:
    """Collects an approval request from stream chunks: one chunk per call and piece, keyed by
    `tool_call_id` (first-seen order kept; the name may come only with the first piece)."""

    def __init__(self) -> None:
        self._names: dict[str, str] = {}
        self._pieces: dict[str, list[str]] = {}
        self._by_key: dict[str, str] = {}
        self._last: str | None = None

    def add(self, chunk: StreamChunk) -> None:
        if chunk.message_type != "approval_request_message":
            return
        call_id = chunk.tool_call_id or self._by_key.get(chunk.key) or self._last
        if not call_id:
            return  # nothing to answer it by; the history will show it
        self._by_key.setdefault(chunk.key, call_id)
        self._last = call_id
        self._pieces.setdefault(call_id, [])
        if chunk.tool_name and not self._names.get(call_id):
            self._names[call_id] = chunk.tool_name
        if chunk.text:
            self._pieces[call_id].append(chunk.text)

    def result(self, agent_tools: frozenset[str] | None = None) -> Approval | None:
        calls = [
            ToolCall(call_id, self._names.get(call_id, ""), "".join(pieces))
            for call_id, pieces in self._pieces.items()
        ]
        return Approval.of(calls, agent_tools)


# -- the panel ---------------------------------------------------------------------------------


class CallView(QFrame):
    """One pending call: its tool, its arguments and — when there are several — its choice."""

    changed = Signal()

    def __init__(
        self, call: ToolCall, number: int, count: int, foreign: bool, parent: QWidget | None = None
    ):
        super().__init__(parent)
        self.call = call
        self.foreign = foreign
        several = count > 1
        name = tool_label(call.name)
        label = f"call {number} of {count}, {name}" if several else name
        self.setObjectName("approvalCall" if several else "approvalSingleCall")
        self.setAccessibleName(f"Tool call: {label}")

        self.name_label = QLabel(name)
        self.name_label.setTextFormat(Qt.TextFormat.PlainText)
        self.name_label.setWordWrap(True)
        self.name_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.name_label.setAccessibleName(f"Tool {number} of {count}")
        bold = self.name_label.font()
        bold.setBold(True)
        self.name_label.setFont(bold)
        self.name_label.setVisible(several)

        self.note = QLabel(_FOREIGN_NOTE)
        self.note.setWordWrap(True)
        self.note.setAccessibleName("Why it can only be denied")
        self.note.setStyleSheet(f"color: {tone(self.palette(), Tone.WARNING).name()};")
        self.note.setVisible(foreign)

        self.arguments = QPlainTextEdit()
        self.arguments.setReadOnly(True)
        self.arguments.setTabChangesFocus(True)
        self.arguments.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self.arguments.setWordWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        self.arguments.setAccessibleName(
            f"Arguments of {label}" if several else "Tool call arguments"
        )
        self.arguments.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        text = pretty_arguments(call.arguments) or "(no arguments)"
        self.arguments.setPlainText(text)
        lines = min(text.count("\n") + 1, _ARGUMENT_LINES)
        spacing = QFontMetrics(self.arguments.font()).lineSpacing()
        margin = self.arguments.document().documentMargin()
        margins = 2 * (self.arguments.frameWidth() + int(margin))
        self.arguments.setFixedHeight(lines * spacing + margins + 2)

        self.approve = QRadioButton("Approve")
        self.approve.setAccessibleName(f"Approve {label}")
        self.deny = QRadioButton("Deny")
        self.deny.setAccessibleName(f"Deny {label}")
        self.group = QButtonGroup(self)
        self.group.addButton(self.approve)
        self.group.addButton(self.deny)
        if foreign:
            self.deny.setChecked(True)
            self.approve.setEnabled(False)
            self.approve.setToolTip("This app can't run another app's tool.")
        self.approve.toggled.connect(self.changed)
        self.deny.toggled.connect(self.changed)
        choice = QHBoxLayout()
        choice.setContentsMargins(0, 0, 0, 0)
        choice.addWidget(self.approve)
        choice.addWidget(self.deny)
        choice.addStretch(1)
        self._choice_row = QWidget()
        self._choice_row.setLayout(choice)
        self._choice_row.setVisible(several)

        layout = QVBoxLayout(self)
        margin = 6 if several else 0
        layout.setContentsMargins(margin, margin, margin, margin)
        layout.setSpacing(4)
        layout.addWidget(self.name_label)
        layout.addWidget(self.note)
        layout.addWidget(self.arguments)
        layout.addWidget(self._choice_row)

    def choice(self) -> bool | None:
        """True approve, False deny, None not chosen yet (a foreign call is always denied)."""
        if self.foreign:
            return False
        if self.approve.isChecked():
            return True
        return False if self.deny.isChecked() else None

    def set_enabled(self, on: bool) -> None:
        self.approve.setEnabled(on and not self.foreign)
        self.deny.setEnabled(on)

    def focus_chain(self) -> list[QWidget]:
        return [self.arguments, self.approve, self.deny]


class ApprovalPanel(QFrame):
    """A card above the composer: every pending call (tool and arguments), one reason, and the
    answers — Approve / Deny for a single call; Approve all, Deny all and Send answers (the
    per-call choice) for several."""

    answered = Signal(list)  # list[ApprovalDecision], one per pending call

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.approval: Approval | None = None
        self.calls: list[CallView] = []
        self._enabled = True
        self.setObjectName("approvalPanel")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAccessibleName("Tool approval")
        warn = tone(self.palette(), Tone.WARNING).name()
        self.setStyleSheet(
            f"#approvalPanel {{ border: 1px solid {warn}; border-radius: 6px; }}"
            " #approvalCall { border: 1px solid palette(mid); border-radius: 4px; }"
        )
        self.title = QLabel()
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.title.setWordWrap(True)
        self.title.setAccessibleName("Tool approval request")

        self.list = QScrollArea()
        self.list.setWidgetResizable(True)
        self.list.setFrameShape(QFrame.Shape.NoFrame)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.list.setAccessibleName("Pending tool calls")
        self.list.setFocusPolicy(Qt.FocusPolicy.NoFocus)

        self.reason = QLineEdit()
        self.reason.setPlaceholderText("Reason (optional, sent to the agent)")
        self.reason.setAccessibleName("Reason for the answer")
        self.deny_button = QPushButton("Deny")
        self.deny_button.setAccessibleName("Deny tool call")
        self.approve_button = QPushButton("Approve")
        self.approve_button.setAccessibleName("Approve tool call")
        self.send_button = QPushButton("Send answers")
        self.send_button.setAccessibleName("Send answers")
        self.send_button.setToolTip("Send the choice made for each tool call")
        self.approve_button.clicked.connect(lambda: self._answer_all(True))
        self.deny_button.clicked.connect(lambda: self._answer_all(False))
        self.send_button.clicked.connect(self._send_answers)
        row = QHBoxLayout()
        row.addWidget(self.reason, 1)
        row.addWidget(self.deny_button)
        row.addWidget(self.approve_button)
        row.addWidget(self.send_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addWidget(self.title)
        layout.addWidget(self.list)
        layout.addLayout(row)
        self.hide()

    @property
    def arguments(self) -> QPlainTextEdit | None:
        """The first call's arguments box (the only one for a single call)."""
        return self.calls[0].arguments if self.calls else None

    def show_approval(self, approval: Approval | None) -> None:
        if approval is not None and approval == self.approval and self.isVisible():
            return  # the same request again: keep what the user chose and wrote
        self.approval = approval
        self._build(approval)
        if approval is None:
            self.hide()
            return
        self.reason.clear()
        self.set_enabled(True)
        self.show()

    def set_enabled(self, on: bool) -> None:
        self._enabled = on
        self._refresh()

    # -- building ---------------------------------------------------------------------------

    def _build(self, approval: Approval | None) -> None:
        old = self.list.takeWidget()
        if old is not None:
            old.hide()
            old.deleteLater()
        self.calls = []
        if approval is None:
            return
        box = QWidget()
        box_layout = QVBoxLayout(box)
        box_layout.setContentsMargins(0, 0, 0, 0)
        box_layout.setSpacing(6)
        count = len(approval.calls)
        for number, call in enumerate(approval.calls, 1):
            view = CallView(call, number, count, approval.is_foreign(call))
            view.changed.connect(self._refresh)
            box_layout.addWidget(view)
            self.calls.append(view)
        self.list.setWidget(box)
        self._fit()
        several = count > 1
        foreign = len(approval.foreign)
        if several:
            self.title.setText(
                f"The agent wants to run {count} tool calls. Approve or deny each one and send"
                " your answers, or answer them all at once."
            )
            self.approve_button.setText("Approve all")
            self.approve_button.setAccessibleName("Approve all tool calls")
            self.deny_button.setText("Deny all")
            self.deny_button.setAccessibleName("Deny all tool calls")
            self.approve_button.setToolTip(
                "Approve every call to the agent's own tools; the other app's tools are denied"
                if foreign
                else "Approve every tool call"
            )
            self.deny_button.setToolTip("Deny every tool call")
        else:
            name = tool_label(approval.calls[0].name)
            self.title.setText(
                f"The agent wants to run {name}, a tool of another app."
                if foreign
                else f"The agent wants to run {name}. Approve it?"
            )
            self.approve_button.setText("Approve")
            self.approve_button.setAccessibleName("Approve tool call")
            self.deny_button.setText("Deny")
            self.deny_button.setAccessibleName("Deny tool call")
            self.approve_button.setToolTip(
                "This app can't run another app's tool." if foreign else ""
            )
            self.deny_button.setToolTip("")
        for button in (self.approve_button, self.deny_button):
            button.setAccessibleDescription(button.toolTip())
        self.send_button.setVisible(several)
        chain: list[QWidget] = [w for view in self.calls for w in view.focus_chain()]
        chain += [self.reason, self.deny_button, self.approve_button, self.send_button]
        for first, second in itertools.pairwise(chain):
            QWidget.setTabOrder(first, second)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        """The list of calls as tall as its content at this width, up to a limit (then it
        scrolls)."""
        box = self.list.widget()
        if box is None:
            return
        width = self.list.viewport().width()
        height = box.heightForWidth(width) if box.hasHeightForWidth() else -1
        if height < 0:
            height = box.sizeHint().height()
        self.list.setFixedHeight(min(height + 2 * self.list.frameWidth(), _LIST_MAX_HEIGHT))

    def _refresh(self) -> None:
        on = self._enabled and self.approval is not None
        for view in self.calls:
            view.set_enabled(on)
        self.reason.setEnabled(on)
        self.deny_button.setEnabled(on)
        self.approve_button.setEnabled(on and any(not v.foreign for v in self.calls))
        chosen = all(v.choice() is not None for v in self.calls)
        self.send_button.setEnabled(on and chosen)
        if len(self.calls) > 1:
            left = sum(v.choice() is None for v in self.calls)
            self.send_button.setToolTip(
                f"Choose Approve or Deny for {left} more tool call{'s' if left > 1 else ''} first"
                if left
                else "Send the choice made for each tool call"
            )
            self.send_button.setAccessibleDescription(self.send_button.toolTip())

    # -- answering --------------------------------------------------------------------------

    def _answer_all(self, approve: bool) -> None:
        self._emit([approve and not view.foreign for view in self.calls])

    def _send_answers(self) -> None:
        choices = [view.choice() for view in self.calls]
        if any(choice is None for choice in choices):
            return
        self._emit([bool(choice) for choice in choices])

    def _emit(self, approves: list[bool]) -> None:
        approval = self.approval
        if approval is None or not self._enabled or len(approves) != len(approval.calls):
            return
        reason = self.reason.text().strip() or None
        decisions = [
            ApprovalDecision(
                call.tool_call_id,
                approve,
                reason or (FOREIGN_REASON if approval.is_foreign(call) else None),
            )
            for call, approve in zip(approval.calls, approves, strict=True)
        ]
        self.set_enabled(False)
        self.answered.emit(decisions)


__all__ = [
    "FOREIGN_REASON",
    "Approval",
    "ApprovalPanel",
    "CallView",
    "StreamedApproval",
    "answer_notice",
    "pending_in",
    "pretty_arguments",
    "tool_label",
]
