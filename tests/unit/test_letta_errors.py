"""Typed errors: readable messages from messy bodies, and the API key never in any error text."""

from __future__ import annotations

import email.utils
import json
import traceback
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from desktop.core.letta import (
    BadRequest,
    Conflict,
    LettaClient,
    LettaError,
    RateLimited,
    ServerError,
    ServiceUnavailable,
)
from desktop.core.letta.errors import error_for_status, parse_error_body

SECRET = "sk-let-ZZTOPSECRET-5f1e2d3c4b5a"


# -- parsing error bodies ---------------------------------------------------------------------


def test_legacy_validation_repr_is_turned_into_its_messages():
    # letta 0.16.8 stringifies pydantic's error list (repr, with the offending input inside)
    detail = repr(
        [
            {
                "type": "missing",
                "loc": ("body", "messages"),
                "msg": "Field required",
                "input": {"content": "iVBORw0KGgo" * 50},
            },
            {"type": "x", "loc": ("body", "y"), "msg": "Input should be 'a' or 'b'", "input": 1},
        ]
    )
    err = error_for_status(
        422, json.dumps({"trace_id": "", "detail": detail}).encode(), "application/json"
    )
    assert isinstance(err, BadRequest)
    assert err.detail == "Field required; Input should be 'a' or 'b'"
    assert "iVBORw0KGgo" not in err.user_message


def test_provider_error_object_before_stream():
    body = {"error": {"type": "llm_bad_request", "message": "image too large", "detail": "x"}}
    err = error_for_status(400, json.dumps(body).encode(), "application/json")
    assert err.detail == "image too large"
    assert err.user_message == "The server refused the request: image too large"


def test_detail_is_cleaned_to_one_short_line():
    long_text = "bad <b>thing</b>\n\n" + "x" * 1000
    detail, _ = parse_error_body(json.dumps({"detail": long_text}).encode(), "application/json")
    assert detail is not None
    assert "<b>" not in detail
    assert "\n" not in detail
    assert len(detail) <= 301


@pytest.mark.parametrize(
    "body",
    [b"", b"not json", b"{broken", b"[1, 2]", b'"a string"', b"\xff\xfe garbage"],
)
def test_unparseable_bodies_give_no_detail(body):
    detail, data = parse_error_body(body, "application/json")
    assert detail is None
    assert data == {}


def test_other_client_errors_are_not_called_internal_errors():
    err = error_for_status(405, b'{"detail": "Method Not Allowed"}', "application/json")
    assert isinstance(err, BadRequest)
    assert "internal" not in err.user_message
    assert "HTTP 405" in err.user_message


def test_html_5xx_has_no_markup_and_no_detail():
    page = b"<!DOCTYPE html><html><head><title>520: Web server is returning an unknown error"
    page += b"</title></head><body><div class='cf'>Ray ID: 1234</div></body></html>"
    err = error_for_status(520, page, "text/html; charset=UTF-8")
    assert isinstance(err, ServerError)
    assert "<" not in err.user_message
    assert "HTTP 520" in err.user_message
    assert err.detail is None


def test_retry_after_header_wins_over_quota_reset_and_bad_values_are_ignored():
    body = json.dumps({"reasons": ["exceeded-quota"], "timeToQuotaResetMs": 60_000}).encode()
    err = error_for_status(429, body, "application/json", httpx.Headers({"Retry-After": "3"}))
    assert isinstance(err, RateLimited)
    assert err.retry_after == 3.0
    err = error_for_status(429, body, "application/json", httpx.Headers({}))
    assert err.retry_after == 60.0
    assert "60 s" in err.user_message
    err = error_for_status(
        503, b"", "", httpx.Headers({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})
    )
    assert isinstance(err, ServiceUnavailable)
    assert err.retry_after == 0.0  # a date in the past: now
    err = error_for_status(503, b"", "", httpx.Headers({"Retry-After": "soon"}))
    assert err.retry_after is None


def test_retry_after_as_an_http_date():
    when = email.utils.format_datetime(
        datetime.now(timezone.utc) + timedelta(seconds=90), usegmt=True
    )
    err = error_for_status(429, b"{}", "application/json", httpx.Headers({"Retry-After": when}))
    assert isinstance(err, RateLimited) and err.retryable
    assert 85 <= err.retry_after <= 90
    assert err.user_message == "The server is rate-limiting requests. Try again in 90 s." or (
        err.user_message == "The server is rate-limiting requests. Try again in 89 s."
    )


def test_pending_approval_from_an_error_object():
    body = {"error": {"code": "PENDING_APPROVAL", "message": "Agent is waiting for approval"}}
    err = error_for_status(409, json.dumps(body).encode(), "application/json")
    assert isinstance(err, Conflict)
    assert err.pending_approval


# -- the key never leaks ----------------------------------------------------------------------


def _client(handler, **kw) -> LettaClient:
    return LettaClient(
        "https://api.example.test", SECRET, transport=httpx.MockTransport(handler), **kw
    )


def _echo_key(status: int):
    """A server that quotes the Authorization header back in its error body."""

    def handler(request):
        auth = request.headers.get("authorization", "")
        return httpx.Response(status, json={"detail": f"Invalid credentials: {auth}"})

    return handler


def _raise(exc_type):
    def handler(request):
        raise exc_type(f"failed sending {request.headers.get('authorization')}", request=request)

    return handler


def _redirect_with_key(request):
    return httpx.Response(302, headers={"location": f"https://other.test/login?token={SECRET}"})


def _stream_error_echo(request):
    body = (
        'data: {"message_type": "stop_reason", "stop_reason": "llm_api_error"}\n\n'
        "event: error\n"
        f'data: {{"message_type": "error_message", "error_type": "llm_auth", '
        f'"message": "bad key {SECRET}", "detail": "key {SECRET}"}}\n\n'
        "data: [DONE]\n\n"
    )
    return httpx.Response(200, headers={"content-type": "text/event-stream"}, text=body)


def _html_with_key(request):
    return httpx.Response(200, text=f"<html>{SECRET}</html>", headers={"content-type": "text/html"})


def _list(client):
    client.list_agents()


def _stream(client):
    list(client.stream_message("agent-1", [{"type": "text", "text": "hi"}], "otid-1"))


HANDLERS = {
    "401 echo": _echo_key(401),
    "400 echo": _echo_key(400),
    "404 echo": _echo_key(404),
    "409 echo": _echo_key(409),
    "422 echo": _echo_key(422),
    "429 echo": _echo_key(429),
    "500 echo": _echo_key(500),
    "connect error": _raise(httpx.ConnectError),
    "read error": _raise(httpx.ReadError),
    "read timeout": _raise(httpx.ReadTimeout),
    "redirect": _redirect_with_key,
    "html page": _html_with_key,
}


@pytest.mark.parametrize("call", [_list, _stream], ids=["get", "stream"])
@pytest.mark.parametrize("name", list(HANDLERS))
def test_key_never_appears_in_error_text(name, call):
    client = _client(HANDLERS[name], project="proj")
    with pytest.raises(LettaError) as info:
        call(client)
    _assert_no_key(info.value)


def test_key_never_appears_in_stream_failure_text():
    with pytest.raises(LettaError) as info:
        _stream(_client(_stream_error_echo))
    _assert_no_key(info.value)
    assert "bad key" in info.value.user_message  # the rest of the server's text survives


def _assert_no_key(err: LettaError) -> None:
    texts = [
        str(err),
        repr(err),
        err.user_message,
        err.detail or "",
        "".join(traceback.format_exception(type(err), err, err.__traceback__)),
    ]
    for text in texts:
        assert SECRET not in text
        assert "ZZTOPSECRET" not in text
