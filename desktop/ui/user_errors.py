"""The one place that turns exceptions into what the user reads and can do next."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import Enum

from desktop.core import letta

log = logging.getLogger(__name__)


class Action(Enum):
    NONE = "none"
    REENTER_KEY = "reenter_key"  # bad or revoked key
    PICK_AGENT = "pick_agent"  # the agent is gone
    RETRY = "retry"  # the send can be tried again by the user
    RELOAD = "reload"  # the history may have moved on: reload it
    WAIT = "wait"  # the agent is busy (or waits for an approval): retry later
    SWITCH_MODEL = "switch_model"  # the model cannot take what the conversation holds


@dataclass(frozen=True)
class UserError:
    text: str
    action: Action = Action.NONE


IMAGES_REFUSED = (
    "The model provider refused the turn because of images: the agent's model cannot see"
    " them. Images already in this conversation's history make every later turn fail the same"
    " way. Switch back to a model that sees images, start a new conversation (Ctrl+Shift+N),"
    " or describe images as text instead of sending them."
)


def describe(exc: BaseException) -> UserError:
    if isinstance(exc, letta.AuthError):
        return UserError(exc.user_message + " Enter the key again.", Action.REENTER_KEY)
    if isinstance(exc, letta.NotFound):
        if exc.what == "agent":
            return UserError(
                "This agent no longer exists on the server. Pick another one.", Action.PICK_AGENT
            )
        if exc.what == "conversation":
            return UserError(
                "This conversation no longer exists on the server (deleted or archived).",
                Action.RELOAD,
            )
        return UserError(exc.user_message, Action.RETRY)
    if isinstance(exc, letta.Conflict):
        if exc.pending_approval:
            return UserError(
                exc.user_message + " Approve or deny it above the message box, then retry.",
                Action.WAIT,
            )
        return UserError(exc.user_message, Action.WAIT)
    if isinstance(exc, letta.StreamCut):
        return UserError(
            exc.user_message + " Reload the history to see what the agent kept.", Action.RELOAD
        )
    if letta.images_refused(exc):
        return UserError(IMAGES_REFUSED, Action.SWITCH_MODEL)
    if isinstance(exc, letta.StreamFailed):
        text = exc.user_message
        return UserError(text, Action.RETRY)
    if isinstance(exc, letta.RateLimited) and not exc.retryable and exc.reasons:
        # Out of credits, quota or a plan's usage: the sentence says what to do; a Retry
        # button would only be refused again.
        return UserError(exc.user_message, Action.NONE)
    if isinstance(exc, letta.LettaError):
        return UserError(exc.user_message, Action.RETRY)
    # Not an expected failure: say so plainly; the details go to the (redacted) log.
    log.error("unexpected error: %s", getattr(exc, "__traceback_text__", repr(exc)))
    return UserError(
        f"Something went wrong inside the app ({type(exc).__name__}). Details are in the log.",
        Action.RETRY,
    )
