"""Typed failures of the Letta API, each carrying what the user needs to hear.

The core decides *what* went wrong (a type plus facts); the words a user reads are in
`user_message`, which the UI shows as-is. Nothing here ever includes the API key: messages are
built from status codes and server text, never from request headers.
"""

from __future__ import annotations

import email.utils
import json
import re
from datetime import datetime, timezone
from typing import Any

_TAG_RE = re.compile(r"<[^>]+>")
# The legacy server sends validation errors as the *repr* of pydantic's list of dicts.
_REPR_MSG_RE = re.compile(r"""'msg': (?:'([^']*)'|"([^"]*)")""")
_MAX_DETAIL = 300


class LettaError(Exception):
    """Base of every failure the API client raises."""

    #: True when the request body may have reached the server: a retry could duplicate.
    may_have_reached_server: bool = True
    #: True when repeating the same request later is safe and sensible.
    retryable: bool = False

    def __init__(self, message: str, *, status: int | None = None, detail: str | None = None):
        super().__init__(message)
        self.status = status
        self.detail = detail

    @property
    def user_message(self) -> str:
        return str(self)


class ConnectionFailed(LettaError):
    """Nothing reached the server: refused, DNS, TLS handshake, or connect timeout."""

    may_have_reached_server = False
    retryable = True


class NetworkError(LettaError):
    """The connection broke after the request started; the server may have it."""


class TimeoutError_(NetworkError):
    """The server stopped answering."""


class RedirectRefused(LettaError):
    """The server answered with a redirect; we never follow one with the key attached."""


class AuthError(LettaError):
    """401/403: the key is wrong, revoked or lacks access."""


class NotFound(LettaError):
    """404: the agent (or other object) does not exist for this key; `what` names it."""

    what: str = "request"


class Conflict(LettaError):
    """409: the agent is busy or waits for a tool approval."""

    @property
    def pending_approval(self) -> bool:
        return "approval" in (self.detail or "").lower()

    @property
    def run_id(self) -> str | None:
        """The run the conversation is busy with, when the server names it."""
        match = re.search(r"run_id=([\w-]+)", self.detail or "")
        return match.group(1) if match else None


class PayloadTooLarge(LettaError):
    """413: the request (usually an image) is too large for the server or a proxy."""


class RateLimited(LettaError):
    """429/402: quota, credits or rate limit; `reasons` and `retry_after` when given.

    Only a plain rate limit with a time to come back is retried automatically: running out of
    credits, quota or a plan's usage is not solved by asking again."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        detail: str | None = None,
        reasons: list[str] | None = None,
        retry_after: float | None = None,
    ):
        super().__init__(message, status=status, detail=detail)
        self.reasons = reasons or []
        self.retry_after = retry_after
        self.retryable = (
            retry_after is not None
            and status == 429
            and not any(r in _NOT_RETRIED for r in self.reasons)
        )


class ServiceUnavailable(LettaError):
    """503: the server says to come back later."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        detail: str | None = None,
        retry_after: float | None = None,
    ):
        super().__init__(message, status=status, detail=detail)
        self.retry_after = retry_after
        self.retryable = True


class NotAdmitted(ServiceUnavailable):
    """503 with `admitted: false`: the server turned the request away before reading it."""

    may_have_reached_server = False


class BadRequest(LettaError):
    """400/422: the server refused the request as invalid."""


class ServerError(LettaError):
    """5xx or an answer that is not the API's (an HTML page from a proxy, garbage)."""


class StreamCut(LettaError):
    """The reply stream ended without a stop reason: the reply may be incomplete."""


class StreamFailed(LettaError):
    """The server reported an error inside the stream (`error_message` / `event: error`)."""

    def __init__(
        self,
        message: str,
        *,
        error_type: str | None = None,
        detail: str | None = None,
        stop_reason: str | None = None,
    ):
        super().__init__(message, detail=detail)
        self.error_type = error_type
        self.stop_reason = stop_reason


def _clean(text: str) -> str:
    """Short, single-line, tag-free text safe to show."""
    text = _TAG_RE.sub(" ", text)
    text = " ".join(text.split())
    return text[:_MAX_DETAIL] + ("…" if len(text) > _MAX_DETAIL else "")


def _as_text(value: Any) -> str:
    """A JSON value as the server wrote it: text as is, anything else as JSON (a Python repr
    such as `{'code': 5}` reads as a crash dump)."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def parse_error_body(body: bytes, content_type: str) -> tuple[str | None, dict[str, Any]]:
    """(detail text, parsed JSON object or {}) from an error response, defensively."""
    if "json" in content_type or body[:1] in (b"{", b"["):
        try:
            data = json.loads(body.decode("utf-8", "replace"))
        except ValueError:
            data = None
        if isinstance(data, dict):
            detail = data.get("detail")
            err = data.get("error")
            if isinstance(err, dict):
                detail = err.get("message") or err.get("detail") or detail
            elif isinstance(err, str) and not detail:
                detail = err
            if not detail and isinstance(data.get("message"), str):
                detail = data["message"]
            if isinstance(detail, dict):  # e.g. {"code": "PENDING_APPROVAL", "message": ...}
                code, text = detail.get("code"), detail.get("message") or detail.get("detail")
                if isinstance(text, str) and text:
                    detail = f"{code}: {text}" if isinstance(code, str) and code else text
                elif isinstance(code, str) and code:
                    detail = code
            if isinstance(detail, list):  # pydantic validation errors
                detail = "; ".join(
                    _as_text(d.get("msg", d) if isinstance(d, dict) else d) for d in detail
                )
            elif isinstance(detail, str) and detail.startswith("[{"):
                msgs = [a or b for a, b in _REPR_MSG_RE.findall(detail)]
                if msgs:
                    detail = "; ".join(msgs)
            return (_clean(_as_text(detail)) if detail else None), data
        return None, {}
    return None, {}


#: Cloud's 402/429 `reasons`: what each means to the user. Their order is the order of
#: precedence when a body gives several.
_REASONS: dict[str, str] = {
    "not-enough-credits": "Your Letta account is out of credits. Add credits on the Letta"
    " platform, then retry.",
    "exceeded-quota": "Your Letta account has used up its quota.",
    "free-usage-exceeded": "You have used up the free plan's usage for now.",
    "basic-usage-exceeded": "You have used up the Basic plan's usage for now.",
    "standard-usage-exceeded": "You have used up the Standard plan's usage for now.",
    "premium-usage-exceeded": "You have used up the premium models' usage for now.",
    "agents-limit-exceeded": "Your Letta plan's agent limit is reached: delete an agent or"
    " upgrade the plan to create another.",
    "byok-not-available-on-free-tier": "Your own provider keys (BYOK) need a paid Letta plan.",
    "model-unknown": "Letta Cloud does not know the agent's model: switch the agent to another"
    " model.",
    "context-window-size-not-supported": "The agent's context window size is not supported for"
    " this model on your plan: lower it or switch models.",
}
#: Reasons that waiting a few seconds does not fix: never retried automatically.
_NOT_RETRIED = frozenset(_REASONS)


def _retry_after(headers: Any, data: dict[str, Any]) -> float | None:
    """Seconds until the server wants to hear from us again: `Retry-After` as seconds or as an
    HTTP date, else Cloud's `timeToQuotaResetMs`."""
    value = headers.get("retry-after") if headers is not None else None
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            pass
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            when = None
        if when is not None:
            if when.tzinfo is None:
                when = when.replace(tzinfo=timezone.utc)
            return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())
    ms = data.get("timeToQuotaResetMs")
    if isinstance(ms, (int, float)) and ms >= 0:
        return ms / 1000.0
    return None


def _wait_words(seconds: float) -> str:
    seconds = int(seconds + 0.999)
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 2 * 3600:
        return f"{(seconds + 59) // 60} min"
    if seconds < 2 * 86400:
        return f"{(seconds + 3599) // 3600} h"
    return f"{(seconds + 86399) // 86400} days"


def error_for_status(
    status: int, body: bytes, content_type: str, headers: Any = None, *, what: str = "request"
) -> LettaError:
    """Map an HTTP error answer to a typed error with a user-facing message."""
    detail, data = parse_error_body(body, content_type)
    is_html = "html" in content_type or body.lstrip()[:1] == b"<"
    if status in (401, 403):
        return AuthError(
            "The server did not accept the API key (it may be wrong or revoked)."
            if status == 401
            else "This API key is not allowed to do that.",
            status=status,
            detail=detail,
        )
    if status == 404:
        missing = NotFound(
            f"Not found: the {what} does not exist on this server"
            + (f" ({detail})." if detail else "."),
            status=status,
            detail=detail,
        )
        missing.what = what
        return missing
    if status == 409:
        err = Conflict(
            "The conversation is busy with another run (another app or window may be talking"
            " to this agent). Wait for it to finish, then retry.",
            status=status,
            detail=detail,
        )
        if err.pending_approval:
            err = Conflict(
                "The agent is waiting for you to approve or deny a tool call.",
                status=status,
                detail=detail,
            )
        return err
    if status == 413:
        return PayloadTooLarge(
            "The message is too large for the server (an image may be too big).",
            status=status,
            detail=detail,
        )
    if status in (402, 429):
        raw_reasons = data.get("reasons")
        if isinstance(raw_reasons, str):
            raw_reasons = [raw_reasons]
        reasons = [r for r in raw_reasons or [] if isinstance(r, str)]
        retry = _retry_after(headers, data)
        known = [r for r in _REASONS if r in reasons]
        if known:
            msg = _REASONS[known[0]]
        elif status == 402:
            msg = "Your Letta account is out of credits."
        else:
            msg = "The server is rate-limiting requests."
        reason_text = data.get("reason_text")
        if isinstance(reason_text, str) and reason_text.strip():
            msg += f" ({_clean(reason_text)})"
        if retry is not None:
            verb = "resets in" if known and known[0] != "not-enough-credits" else "Try again in"
            msg += (" It " if verb == "resets in" else " ") + f"{verb} {_wait_words(retry)}."
        return RateLimited(msg, status=status, detail=detail, reasons=reasons, retry_after=retry)
    if status == 503:
        if data.get("admitted") is False:
            return NotAdmitted(
                "The server is restarting and did not take the message; nothing was sent.",
                status=status,
                detail=detail,
                retry_after=_retry_after(headers, data),
            )
        return ServiceUnavailable(
            "The server is temporarily unavailable.",
            status=status,
            detail=detail,
            retry_after=_retry_after(headers, data),
        )
    if status in (400, 422):
        return BadRequest(
            "The server refused the request" + (f": {detail}" if detail else "."),
            status=status,
            detail=detail,
        )
    if 300 <= status < 400:
        location = headers.get("location") if headers is not None else None
        return RedirectRefused(
            "The server redirected the request"
            + (f" to {location}" if location else "")
            + "; check the server URL.",
            status=status,
            detail=detail,
        )
    if 400 <= status < 500:  # any other client error: not the server's internal failure
        return BadRequest(
            f"The server refused the request (HTTP {status})" + (f": {detail}" if detail else "."),
            status=status,
            detail=detail,
        )
    if is_html:
        return ServerError(
            f"The server (or a proxy in front of it) answered with an error page (HTTP {status}).",
            status=status,
        )
    return ServerError(
        f"The server had an internal error (HTTP {status})" + (f": {detail}" if detail else "."),
        status=status,
        detail=detail,
    )


#: How providers word a refusal of image input by a model that cannot take it (OpenAI's
#: "image_url is only supported by certain models", as the fake LLM and Letta's 0.16.8 relay
#: it; the others from their public error docs and SDK issues).
_IMAGES_REFUSED = re.compile(
    r"image_url is only supported"
    r"|does not support (?:image|vision)"
    r"|(?:image|vision)s? (?:input )?(?:is |are )?not supported"
    r"|(?:image|vision) input (?:modality )?is not (?:enabled|supported)"
    r"|model (?:does not|doesn't|cannot) (?:see|accept|process|handle) images",
    re.IGNORECASE,
)


def images_refused(exc: BaseException) -> bool:
    """True when the model provider refused a request because it holds images the model cannot
    take: in-stream (`llm_api_error`) or before the stream (400 `llm_bad_request`)."""
    if not isinstance(exc, (StreamFailed, BadRequest)):
        return False
    return bool(_IMAGES_REFUSED.search(f"{exc} {exc.detail or ''}"))
