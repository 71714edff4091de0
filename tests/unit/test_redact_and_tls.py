"""Logs never carry the key; TLS verification stays on, with an optional custom CA bundle."""

from __future__ import annotations

import io
import logging
import ssl
from pathlib import Path

import httpx
import pytest

from desktop.compose import tls_verify
from desktop.core.letta import LettaClient
from desktop.core.redact import RedactingFilter, redact, register_secret

KEY = "letta-key-0123456789abcdef"


@pytest.fixture
def logger():
    register_secret(KEY)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    log = logging.getLogger("test.redact")
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    log.propagate = False
    yield log, stream
    log.removeHandler(handler)


@pytest.mark.parametrize(
    "line",
    [
        f"Authorization: Bearer {KEY}",
        "authorization: bearer some-other-token-I-never-registered",
        f"{{'authorization': 'Bearer {KEY}'}}",
        f"url https://x/?key={KEY}",
        "sk-abcdefghijklmnopqrstuvwx looks like a key",
        "a" * 20 + "B" * 25,  # long token-shaped strings
    ],
)
def test_redact_masks_keys_and_bearer_tokens(line):
    register_secret(KEY)
    out = redact(line)
    assert KEY not in out and "«redacted»" in out
    assert "some-other-token" not in out and "sk-abcdefghijkl" not in out


def test_redact_keeps_ordinary_text():
    assert redact("GET /v1/agents/ 200 in 0.3 s") == "GET /v1/agents/ 200 in 0.3 s"


def test_log_records_args_and_tracebacks_are_redacted(logger):
    log, stream = logger
    log.warning("sending %s with %r", f"Bearer {KEY}", {"authorization": f"Bearer {KEY}"})
    try:
        raise ValueError(f"server echoed {KEY}")
    except ValueError:
        log.exception("failed for key %s", KEY)
    text = stream.getvalue()
    assert KEY not in text
    assert "ValueError" in text and text.count("«redacted»") >= 3


def test_client_does_not_follow_redirects_with_the_key():
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.url.host, request.headers.get("authorization")))
        if request.url.host == "letta.test":
            return httpx.Response(307, headers={"Location": "https://evil.example/v1/agents/"})
        return httpx.Response(200, json=[])

    client = LettaClient("https://letta.test", KEY, transport=httpx.MockTransport(handler))
    with pytest.raises(Exception, match="redirected"):
        client.list_agents()
    assert [h for h, _ in seen] == ["letta.test"]


def test_tls_verification_is_on_by_default(monkeypatch):
    monkeypatch.delenv("LETTA_CA_BUNDLE", raising=False)
    assert tls_verify() is True
    client = LettaClient("https://letta.test", KEY)
    try:
        pool = client._http._transport._pool  # httpx's own pool: its SSL context verifies
        assert pool._ssl_context.verify_mode == ssl.CERT_REQUIRED
        assert pool._ssl_context.check_hostname
    finally:
        client.close()


def test_custom_ca_bundle_from_the_environment(monkeypatch, tmp_path):
    import certifi

    bundle = tmp_path / "company-ca.pem"
    bundle.write_bytes(Path(certifi.where()).read_bytes())
    monkeypatch.setenv("LETTA_CA_BUNDLE", str(bundle))
    assert tls_verify() == str(bundle)
    client = LettaClient("https://letta.test", KEY, verify=tls_verify())
    try:
        context = client._http._transport._pool._ssl_context
        assert context.verify_mode == ssl.CERT_REQUIRED and context.cert_store_stats()["x509_ca"]
    finally:
        client.close()


def test_a_missing_ca_bundle_never_turns_verification_off(monkeypatch, tmp_path, caplog):
    monkeypatch.setenv("LETTA_CA_BUNDLE", str(tmp_path / "nope.pem"))
    with caplog.at_level(logging.WARNING):
        assert tls_verify() is True
    assert "not a file" in caplog.text
