"""What a transcript row is (`RowKind`), where it stands (`RowState`) and what a click on it does
(`RowAction`).

Plain enums, not `str` ones: rows are never written anywhere (an unsent message is saved as a
draft, desktop/core/drafts.py, and becomes a failed row again from it), a misspelt member fails at
once instead of never matching, and a plain enum comes back from `index.data(KindRole)` as itself
(PySide6 hands a `str` subclass back as a bare `str`, so `is` would never match). The values are
the core's words (`MessageKind`), which `RowKind.of` maps.
"""

from __future__ import annotations

from enum import Enum


class RowKind(Enum):
    USER = "user"
    ASSISTANT = "assistant"
    REASONING = "reasoning"
    TOOL_CALL = "tool_call"
    TOOL_RETURN = "tool_return"
    SYSTEM = "system"
    APPROVAL = "approval"
    SUMMARY = "summary"
    EVENT = "event"  # the server's (a compaction)
    NOTICE = "notice"  # the app's own (an approval answered, a reply cut off)
    UNKNOWN = "unknown"  # a message type newer than this app

    @classmethod
    def of(cls, kind: str) -> RowKind:
        """The row for a core message kind; a kind the app does not know is UNKNOWN."""
        return _BY_VALUE.get(kind, cls.UNKNOWN)


_BY_VALUE = {k.value: k for k in RowKind}


class RowState(Enum):
    DONE = "done"  # nothing under way or wrong: a history row, a reply that finished
    SENDING = "sending"  # the user's message, not yet confirmed by the server
    SENT = "sent"  # the user's message, echoed back by the server
    FAILED = "failed"  # the user's message did not go: Retry / Edit / Discard
    STREAMING = "streaming"  # a reply still arriving
    INCOMPLETE = "incomplete"  # a reply whose stream broke off


class RowAction(Enum):
    """What a click (or key) on a row does."""

    TOGGLE = "toggle"  # fold or unfold
    RETRY = "retry"
    EDIT = "edit"
    DISCARD = "discard"
    IMAGE = "image"  # open a thumbnail (payload: its number)
    COPY_CODE = "copy_code"  # payload: (code block number, code text)
    LINK = "link"  # payload: the href
