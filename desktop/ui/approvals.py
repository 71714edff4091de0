"""Tool approvals: what the agent waits for, and the panel above the composer that answers it.

An agent stops with `requires_approval` when it calls a tool that is approval-gated (a
`requires_approval` tool rule; 0.16.8 adds one when a tool with `default_requires_approval` is
attached). ChatSession notices it three ways — the stream's stop reason, an unanswered
`approval_request_message` at the end of the history, or a 409 PENDING_APPROVAL on send — and
emits `approvalPending(Approval)`. The panel shows the call with pretty JSON arguments; Approve or
Deny (with an optional reason) streams the continuation through `ChatSession.answer_approval`.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

from PySide6.QtCore import Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.core.letta import Message

from .tones import tone


@dataclass(frozen=True)
class Approval:
    tool_call_id: str
    tool_name: str
    arguments: str = ""

    @property
    def pretty_arguments(self) -> str:
        text = self.arguments.strip()
        with contextlib.suppress(ValueError):
            return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
        return text


#: Rows that answer or move past an approval request (a newer one of these means none waits).
_PAST = frozenset(
    {"approval_response_message", "tool_return_message", "assistant_message", "user_message"}
)


def pending_in(newest_first: Iterable[Message]) -> Approval | None:
    """The approval request the history ends with, unless something answered it."""
    for message in newest_first:
        if message.message_type == "approval_request_message":
            if message.tool_call_id:
                return Approval(
                    message.tool_call_id,
                    message.tool_name or "a tool",
                    message.tool_arguments or "",
                )
            return None
        if message.message_type in _PAST:
            return None
    return None


class StreamedApproval:
    """Collects an approval request from stream chunks (name, id and argument pieces)."""

    def __init__(self) -> None:
        self.tool_call_id: str | None = None
        self.tool_name: str | None = None
        self.pieces: list[str] = []

    def add(self, tool_call_id: str | None, tool_name: str | None, text: str) -> None:
        self.tool_call_id = self.tool_call_id or tool_call_id
        self.tool_name = self.tool_name or tool_name
        self.pieces.append(text)

    def result(self) -> Approval | None:
        if not self.tool_call_id:
            return None
        return Approval(self.tool_call_id, self.tool_name or "a tool", "".join(self.pieces))


class ApprovalPanel(QFrame):
    """A compact card above the composer: tool, arguments, reason, Approve / Deny."""

    answered = Signal(str, bool, str)  # tool_call_id, approve, reason

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.approval: Approval | None = None
        self.setObjectName("approvalPanel")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAccessibleName("Tool approval")
        warn = tone(self.palette(), "warning").name()
        self.setStyleSheet(f"#approvalPanel {{ border: 1px solid {warn}; border-radius: 6px; }}")
        self.title = QLabel()
        self.title.setWordWrap(True)
        self.title.setAccessibleName("Tool approval request")
        self.arguments = QPlainTextEdit()
        self.arguments.setReadOnly(True)
        self.arguments.setAccessibleName("Tool call arguments")
        self.arguments.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.arguments.setMaximumHeight(110)
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("Reason (optional, sent to the agent)")
        self.reason.setAccessibleName("Reason for the answer")
        self.approve_button = QPushButton("Approve")
        self.approve_button.setAccessibleName("Approve tool call")
        self.deny_button = QPushButton("Deny")
        self.deny_button.setAccessibleName("Deny tool call")
        self.approve_button.clicked.connect(lambda: self._answer(True))
        self.deny_button.clicked.connect(lambda: self._answer(False))
        row = QHBoxLayout()
        row.addWidget(self.reason, 1)
        row.addWidget(self.deny_button)
        row.addWidget(self.approve_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addWidget(self.title)
        layout.addWidget(self.arguments)
        layout.addLayout(row)
        self.hide()

    def show_approval(self, approval: Approval | None) -> None:
        self.approval = approval
        if approval is None:
            self.hide()
            return
        self.title.setText(
            f"The agent wants to run <b>{_escape(approval.tool_name)}</b>. Approve it?"
        )
        self.arguments.setPlainText(approval.pretty_arguments or "(no arguments)")
        self.reason.clear()
        self.set_enabled(True)
        self.show()

    def set_enabled(self, on: bool) -> None:
        for widget in (self.approve_button, self.deny_button, self.reason):
            widget.setEnabled(on)

    def _answer(self, approve: bool) -> None:
        if self.approval is None:
            return
        self.set_enabled(False)
        self.answered.emit(self.approval.tool_call_id, approve, self.reason.text().strip())


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
