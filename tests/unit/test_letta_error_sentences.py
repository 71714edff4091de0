"""Every HTTP error shape in the exact words the user reads, with the facts the app acts on.

`retryable` decides whether the app sends again by itself and `may_have_reached_server` whether
a re-send could duplicate the message; `status` and `detail` feed the decisions of the chat
session (405 fallbacks, image-size hints, pending approvals). So each case checks all of them.
"""

from __future__ import annotations

import email.utils
import json
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from desktop.core.letta.errors import (
    AuthError,
    BadRequest,
    Conflict,
    LettaError,
    NotAdmitted,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    RedirectRefused,
    ServerError,
    ServiceUnavailable,
    error_for_status,
    parse_error_body,
)

JSON = "application/json"
CLOUDFLARE_502 = (
    b"\r\n<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>cloudflare</center>\r\n"
    b"</body>\r\n</html>\r\n"
)


def _body(obj: object) -> bytes:
    return json.dumps(obj).encode()


# (status, body, content type, headers, what) -> (type, sentence, detail, retryable,
# may have reached the server, retry_after)
CASES = {
    "401 wrong key": (
        (401, _body({"detail": "Unauthorized"}), JSON, None, "request"),
        (
            AuthError,
            "The server did not accept the API key (it may be wrong or revoked).",
            "Unauthorized",
            False,
            True,
            None,
        ),
    ),
    "403 key without access": (
        (403, _body({"error": "forbidden"}), JSON, None, "request"),
        (AuthError, "This API key is not allowed to do that.", "forbidden", False, True, None),
    ),
    "404 agent with the server's words": (
        (404, _body({"detail": "NOT_FOUND: Agent agent-1 not found"}), JSON, None, "agent"),
        (
            NotFound,
            "Not found: the agent does not exist on this server"
            " (NOT_FOUND: Agent agent-1 not found).",
            "NOT_FOUND: Agent agent-1 not found",
            False,
            True,
            None,
        ),
    ),
    "404 empty body": (
        (404, b"", "", None, "conversation"),
        (
            NotFound,
            "Not found: the conversation does not exist on this server.",
            None,
            False,
            True,
            None,
        ),
    ),
    "409 busy": (
        (
            409,
            _body({"detail": "CONFLICT: busy with another active run (run_id=run-42)"}),
            JSON,
            None,
            "request",
        ),
        (
            Conflict,
            "The conversation is busy with another run (another app or window may be talking"
            " to this agent). Wait for it to finish, then retry.",
            "CONFLICT: busy with another active run (run_id=run-42)",
            False,
            True,
            None,
        ),
    ),
    "409 waiting for an approval": (
        (
            409,
            _body({"detail": {"code": "PENDING_APPROVAL", "message": "Approve the call first"}}),
            JSON,
            None,
            "request",
        ),
        (
            Conflict,
            "The agent is waiting for you to approve or deny a tool call.",
            "PENDING_APPROVAL: Approve the call first",
            False,
            True,
            None,
        ),
    ),
    "413 too large": (
        (413, _body({"detail": "Request body exceeds 10 MB"}), JSON, None, "request"),
        (
            PayloadTooLarge,
            "The message is too large for the server (an image may be too big).",
            "Request body exceeds 10 MB",
            False,
            True,
            None,
        ),
    ),
    "402 without a reason": (
        (402, _body({"message": "Payment required"}), JSON, None, "request"),
        (
            RateLimited,
            "Your Letta account is out of credits.",
            "Payment required",
            False,
            True,
            None,
        ),
    ),
    "402 out of credits with a wait": (
        (402, _body({"reasons": ["not-enough-credits"]}), JSON, {"Retry-After": "30"}, "request"),
        (
            RateLimited,
            "Your Letta account is out of credits. Add credits on the Letta platform, then"
            " retry. Try again in 30 s.",
            None,
            False,
            True,
            30.0,
        ),
    ),
    "429 quota, its reason as a bare string": (
        (
            429,
            _body({"detail": "quota", "reasons": "exceeded-quota", "timeToQuotaResetMs": 90_000}),
            JSON,
            None,
            "request",
        ),
        (
            RateLimited,
            "Your Letta account has used up its quota. It resets in 90 s.",
            "quota",
            False,
            True,
            90.0,
        ),
    ),
    "429 plain rate limit": (
        (429, _body({"error": {"message": "slow down"}}), JSON, {"Retry-After": "7"}, "request"),
        (
            RateLimited,
            "The server is rate-limiting requests. Try again in 7 s.",
            "slow down",
            True,
            True,
            7.0,
        ),
    ),
    "429 come back at once": (
        (429, b"", "", {"Retry-After": "0"}, "request"),
        (
            RateLimited,
            "The server is rate-limiting requests. Try again in 0 s.",
            None,
            True,
            True,
            0.0,
        ),
    ),
    "503 not admitted": (
        (
            503,
            _body({"detail": "shutting down", "admitted": False}),
            JSON,
            {"Retry-After": "5"},
            "request",
        ),
        (
            NotAdmitted,
            "The server is restarting and did not take the message; nothing was sent.",
            "shutting down",
            True,
            False,
            5.0,
        ),
    ),
    "503 maintenance": (
        (503, _body({"detail": "maintenance"}), JSON, {"Retry-After": "30"}, "request"),
        (
            ServiceUnavailable,
            "The server is temporarily unavailable.",
            "maintenance",
            True,
            True,
            30.0,
        ),
    ),
    "400 empty object": (
        (400, b"{}", JSON, None, "request"),
        (BadRequest, "The server refused the request.", None, False, True, None),
    ),
    "422 two validation errors": (
        (
            422,
            _body(
                {
                    "detail": [
                        {"loc": ["body", "messages"], "msg": "Field required"},
                        {"loc": ["body", "otid"], "msg": "Input should be a valid string"},
                    ]
                }
            ),
            JSON,
            None,
            "request",
        ),
        (
            BadRequest,
            "The server refused the request: Field required; Input should be a valid string",
            "Field required; Input should be a valid string",
            False,
            True,
            None,
        ),
    ),
    "302 with its target": (
        (302, _body({"detail": "Moved"}), JSON, {"Location": "https://other.test/"}, "request"),
        (
            RedirectRefused,
            "The server redirected the request to https://other.test/; check the server URL.",
            "Moved",
            False,
            True,
            None,
        ),
    ),
    "300 without headers": (
        (300, b"", "", None, "request"),
        (
            RedirectRefused,
            "The server redirected the request; check the server URL.",
            None,
            False,
            True,
            None,
        ),
    ),
    "405 other client error": (
        (405, _body({"detail": "Method Not Allowed"}), JSON, None, "request"),
        (
            BadRequest,
            "The server refused the request (HTTP 405): Method Not Allowed",
            "Method Not Allowed",
            False,
            True,
            None,
        ),
    ),
    "418 other client error, empty": (
        (418, b"", "", None, "request"),
        (BadRequest, "The server refused the request (HTTP 418).", None, False, True, None),
    ),
    "500 with the server's words": (
        (500, _body({"detail": "An unknown error occurred"}), JSON, None, "request"),
        (
            ServerError,
            "The server had an internal error (HTTP 500): An unknown error occurred",
            "An unknown error occurred",
            False,
            True,
            None,
        ),
    ),
    "500 empty": (
        (500, b"", "", None, "request"),
        (ServerError, "The server had an internal error (HTTP 500).", None, False, True, None),
    ),
    "502 HTML page without a content type": (
        (502, CLOUDFLARE_502, "", None, "request"),
        (
            ServerError,
            "The server (or a proxy in front of it) answered with an error page (HTTP 502).",
            None,
            False,
            True,
            None,
        ),
    ),
    "504 empty body said to be HTML": (
        (504, b"", "text/html", None, "request"),
        (
            ServerError,
            "The server (or a proxy in front of it) answered with an error page (HTTP 504).",
            None,
            False,
            True,
            None,
        ),
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_error_answer_in_the_words_and_flags_the_app_acts_on(case):
    (status, body, ctype, headers, what), expected = CASES[case]
    kind, sentence, detail, retryable, reached, retry_after = expected
    err = error_for_status(
        status, body, ctype, httpx.Headers(headers) if headers is not None else None, what=what
    )
    assert type(err) is kind
    assert err.user_message == sentence
    assert (err.status, err.detail) == (status, detail)
    assert err.retryable is retryable
    assert err.may_have_reached_server is reached
    assert getattr(err, "retry_after", None) == retry_after


def test_not_found_names_what_is_missing_for_the_next_step():
    # The chat asks for another agent, or reloads a vanished conversation, by `what`.
    assert error_for_status(404, b"", "", what="agent").what == "agent"
    plain = error_for_status(404, b"", "")
    assert plain.what == "request"
    assert plain.user_message == "Not found: the request does not exist on this server."


def test_rate_limit_keeps_the_reasons_it_was_given():
    body = _body({"reasons": "exceeded-quota"})
    err = error_for_status(429, body, JSON)
    assert isinstance(err, RateLimited) and err.reasons == ["exceeded-quota"]
    assert err.user_message == "Your Letta account has used up its quota."


def test_retry_after_as_a_date_without_a_time_zone_is_read_as_utc():
    # "-0000" (RFC 2822's "zone unknown") parses to a naive datetime
    naive = (datetime.now(timezone.utc) + timedelta(seconds=100)).replace(tzinfo=None)
    when = email.utils.format_datetime(naive)
    assert when.endswith("-0000")
    err = error_for_status(429, b"", "", httpx.Headers({"Retry-After": when}))
    assert isinstance(err, LettaError)
    assert 95 <= err.retry_after <= 100
    assert err.retryable


# -- the detail text, from every body shape servers send ----------------------------------------

LONG = "x" * 300


@pytest.mark.parametrize(
    ("body", "ctype", "detail"),
    [
        # JSON whatever the content type says, and JSON after a blank line
        (b'{"detail": "plain text type"}', "text/plain", "plain text type"),
        (b'\n  {"detail": "after a newline"}', JSON, "after a newline"),
        # not UTF-8 (a Latin-1 server): the readable rest survives
        (b'{"detail": "caf\xe9 closed"}', JSON, "caf\ufffd closed"),
        # an error object: its message, else its detail, else the top-level detail
        (_body({"error": {"detail": "quota exceeded"}}), JSON, "quota exceeded"),
        (_body({"error": {"type": "x"}, "detail": "top"}), JSON, "top"),
        # an error string only when there is no detail; a flag is not a text
        (_body({"detail": "the detail", "error": "the error"}), JSON, "the detail"),
        (_body({"error": True, "message": "Something broke"}), JSON, "Something broke"),
        # a top-level message only when nothing better exists
        (_body({"message": "Payment required"}), JSON, "Payment required"),
        (_body({"detail": "the detail", "message": "the message"}), JSON, "the detail"),
        # a detail object: "CODE: text", its text, or its code
        (_body({"detail": {"code": "BUSY", "detail": "run-1 runs"}}), JSON, "BUSY: run-1 runs"),
        (_body({"detail": {"message": "Agent busy"}}), JSON, "Agent busy"),
        (_body({"detail": {"code": 409, "message": "busy"}}), JSON, "busy"),
        (_body({"detail": {"code": "BUSY", "message": {"a": 1}}}), JSON, "BUSY"),
        (_body({"detail": {"code": "PENDING_APPROVAL"}}), JSON, "PENDING_APPROVAL"),
        (_body({"detail": {"code": 5, "hint": "later"}}), JSON, '{"code": 5, "hint": "later"}'),
        (_body({"detail": {"hint": "réessayez"}}), JSON, '{"hint": "réessayez"}'),
        # validation lists: messages, plain strings, entries without a message as JSON
        (_body({"detail": ["first", "second"]}), JSON, "first; second"),
        (_body({"detail": [{"type": "missing"}]}), JSON, '{"type": "missing"}'),
        # nothing to say
        (_body({"detail": None}), JSON, None),
        (b"{}", JSON, None),
        (b"[not json", "text/plain", None),
        # long text: 300 characters are kept whole, more are cut with an ellipsis
        (_body({"detail": LONG}), JSON, LONG),
        (_body({"detail": LONG + "yz"}), JSON, LONG + "…"),
    ],
)
def test_detail_from_each_body_shape(body, ctype, detail):
    assert parse_error_body(body, ctype)[0] == detail
