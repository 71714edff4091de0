"""What the app does with the server address and TLS settings a user gives it."""

from __future__ import annotations

import httpx
import pytest

from desktop.core.letta import ConnectionFailed, LettaClient
from desktop.core.letta.urls import normalize_base_url


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("https://me:hunter2@letta.example/v1/", "https://letta.example"),
        ("http://me@127.0.0.1:8283", "http://127.0.0.1:8283"),
        ("https://letta.example:8443", "https://letta.example:8443"),
        ("localhost:8283", "http://localhost:8283"),
        ("https://me:p@ss@letta.example/", "https://letta.example"),  # "@" in the password
        ("HTTPS://LETTA-BOX/", "HTTPS://LETTA-BOX"),  # only slashes are trimmed, not letters
    ],
)
def test_a_user_and_password_in_the_address_are_dropped(given, used):
    assert normalize_base_url(given) == used


def test_the_key_goes_as_bearer_even_with_a_password_in_the_address():
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=[])

    client = LettaClient(
        "https://me:hunter2@letta.example", "key-123456", transport=httpx.MockTransport(handler)
    )
    client.check_key()
    assert client.base_url == "https://letta.example"
    assert seen[0].headers["authorization"] == "Bearer key-123456"
    assert "hunter2" not in str(seen[0].url)


def test_a_ca_bundle_that_is_not_pem_fails_each_request_in_words_and_sends_nothing(tmp_path):
    bundle = tmp_path / "corp-ca.der"
    bundle.write_bytes(b"\x30\x82\x01\x0a not a pem certificate")
    client = LettaClient("https://letta.example", "key-123456", verify=str(bundle))
    with pytest.raises(ConnectionFailed) as info:
        client.check_key()
    text = str(info.value)
    assert "corp-ca.der" in text and "LETTA_CA_BUNDLE" in text and "PEM" in text
    client.close()
