"""LettaClient's set-up and its plain calls: the timeouts each kind of request goes out with, the
custom CA bundle, the key kept out of error text, and the exact sentences a user reads when a
request fails (a status, a broken connection, an answer that is not the Letta API)."""

from __future__ import annotations

import datetime
import http.server
import ipaddress
import json
import ssl
import threading

import httpx
import pytest

from desktop.core.letta import (
    BadRequest,
    ConnectionFailed,
    LettaClient,
    NetworkError,
    NotFound,
    ServerError,
)
from desktop.core.letta.client import json_body
from desktop.core.letta.errors import TimeoutError_
from tests.unit.test_letta_conversations import Recorder, sse

KEY = "key-123456"
AGENT = "agent-1"
TEXT = [{"type": "text", "text": "hi"}]


def client_for(answer, key: str | None = KEY, **kw) -> tuple[LettaClient, Recorder]:
    rec = Recorder(answer)
    client = LettaClient("https://letta.test", key, transport=httpx.MockTransport(rec), **kw)
    return client, rec


def failing(exc_type: type[httpx.HTTPError], text: str = "boom"):
    def answer(request: httpx.Request) -> httpx.Response:
        raise exc_type(text, request=request)

    return answer


def stop() -> httpx.Response:
    return sse({"message_type": "stop_reason", "stop_reason": "end_turn"})


# -- the body encoder -------------------------------------------------------------------------


def test_a_splice_marker_typed_by_the_user_does_not_stop_the_splicing():
    """Text that only looks like a marker (another nonce) is left alone, and the big strings
    after it are still joined in: the server gets the image, not a placeholder."""
    image = "A" * (64 * 1024)
    body = {"messages": [{"text": "@@splice-0-000000000000@@"}, {"data": image}]}
    assert json.loads(json_body(body)) == body


# -- timeouts ---------------------------------------------------------------------------------


def timeouts(request: httpx.Request) -> dict:
    return request.extensions["timeout"]


def test_each_kind_of_request_goes_out_with_its_own_timeouts():
    """Plain calls give up on a silent server after 30 s; history pages (inline images) get a
    minute; a send tolerates 90 s of silence (the server pings every ~20 s) and two minutes to
    upload its images."""
    client, rec = client_for(
        lambda r: stop() if r.method == "POST" else httpx.Response(200, json=[])
    )
    client.list_agents()
    client.list_messages(AGENT)
    list(client.stream_message(AGENT, TEXT, "otid-1"))
    plain, history, send = (timeouts(r) for r in rec.requests)
    assert plain == {"connect": 10.0, "read": 30.0, "write": 60.0, "pool": 10.0}
    assert history == {"connect": 10.0, "read": 60.0, "write": 60.0, "pool": 60.0}
    assert send == {"connect": 15.0, "read": 90.0, "write": 120.0, "pool": 15.0}


def test_given_timeouts_replace_the_defaults():
    """Even 5 s, httpx's own default, which the SDK takes for "none given" unless it is told."""
    plain = httpx.Timeout(5.0)
    streamed = httpx.Timeout(7.0)
    client, rec = client_for(
        lambda r: stop() if r.method == "POST" else httpx.Response(200, json=[]),
        timeout=plain,
        stream_timeout=streamed,
    )
    client.list_agents()
    client.list_messages(AGENT)
    list(client.stream_message(AGENT, TEXT, "otid-1"))
    assert [timeouts(r)["read"] for r in rec.requests] == [5.0, 5.0, 7.0]


# -- TLS --------------------------------------------------------------------------------------


def test_an_unreadable_ca_bundle_fails_every_request_with_its_own_sentence(tmp_path):
    bundle = tmp_path / "company-ca.pem"
    bundle.write_text("not a certificate\n")
    client = LettaClient("https://letta.test", KEY, verify=str(bundle))
    try:
        with pytest.raises(ConnectionFailed) as info:
            client.create_conversation(AGENT)  # a write: no retries
    finally:
        client.close()
    assert info.value.user_message == (
        "The CA bundle “company-ca.pem” (LETTA_CA_BUNDLE) could not be read as PEM certificates"
        " (SSLError), so no secure connection can be made. Fix the file or unset"
        " LETTA_CA_BUNDLE."
    )


def _self_signed(tmp_path):
    """A certificate for 127.0.0.1 signed by itself (the "company CA"), and its key.
    `cryptography` is not a declared dependency (it comes with keyring's SecretStorage)."""
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Company CA")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "company-ca.pem", tmp_path / "server.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class _Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b'{"status": "ok"}'
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_a_server_signed_by_the_ca_bundle_is_reached(tmp_path, monkeypatch):
    """LETTA_CA_BUNDLE's roots are the ones the connection trusts (a company's own CA)."""
    for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    cert_path, key_path = _self_signed(tmp_path)
    server = http.server.HTTPServer(("127.0.0.1", 0), _Health)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    client = LettaClient(f"https://127.0.0.1:{server.server_port}", KEY, verify=str(cert_path))
    try:
        assert client.health() == {"status": "ok"}
    finally:
        client.close()
        server.shutdown()
        server.server_close()
        thread.join()


# -- the key in error text --------------------------------------------------------------------


def echo(status: int, detail: str):
    return lambda _r: httpx.Response(status, json={"detail": detail})


def test_a_key_echoed_back_reads_as_api_key_in_the_message_and_the_detail():
    client, _ = client_for(echo(400, "bad key sk-123 given"), key="sk-123")
    with pytest.raises(BadRequest) as info:
        client.check_key()
    assert info.value.user_message == "The server refused the request: bad key [API key] given"
    assert info.value.detail == "bad key [API key] given"


def test_a_key_shorter_than_six_characters_is_left_in_the_text():
    """A short key is more likely an ordinary word than a secret: scrubbing "agent" would turn
    every sentence about agents into nonsense."""
    client, _ = client_for(lambda _r: httpx.Response(404, json={}), key="agent")
    with pytest.raises(NotFound) as info:
        client.get_agent(AGENT)
    assert info.value.user_message == "Not found: the agent does not exist on this server."


# -- what a failed call says ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "what"),
    [
        (lambda c: c.health(), "health check"),
        (lambda c: c.check_key(), "agent list"),
        (lambda c: c.get_agent(AGENT), "agent"),
    ],
    ids=["health", "check_key", "get_agent"],
)
def test_a_404_names_what_was_not_found(call, what):
    client, _ = client_for(lambda _r: httpx.Response(404, json={}))
    with pytest.raises(NotFound) as info:
        call(client)
    assert info.value.user_message == f"Not found: the {what} does not exist on this server."
    assert info.value.what == what


def test_the_key_check_asks_for_one_agent():
    client, rec = client_for(lambda _r: httpx.Response(200, json=[]))
    assert client.check_key() is None
    req = rec.requests[0]
    assert (req.method, req.url.path, dict(req.url.params)) == (
        "GET",
        "/v1/agents/",
        {"limit": "1"},
    )


def test_a_proxys_error_page_without_markup_is_still_called_an_error_page():
    """The content type says HTML even when the body has no tag to sniff."""
    page = httpx.Response(502, content=b"Bad Gateway", headers={"content-type": "text/html"})
    client, _ = client_for(lambda _r: page)
    with pytest.raises(ServerError) as info:
        client.create_conversation(AGENT)  # a write: no retries
    assert info.value.user_message == (
        "The server (or a proxy in front of it) answered with an error page (HTTP 502)."
    )


@pytest.mark.parametrize(
    ("exc_type", "error", "message"),
    [
        (
            httpx.ConnectError,
            ConnectionFailed,
            "Could not reach the server at letta.test. Check the address and your connection.",
        ),
        (
            httpx.UnsupportedProtocol,
            ConnectionFailed,
            "The server address “https://letta.test” is not a valid http(s) URL.",
        ),
        (httpx.ReadTimeout, TimeoutError_, "The server at letta.test stopped answering."),
        (httpx.ReadError, NetworkError, "The connection to letta.test broke during the request."),
    ],
    ids=["connect", "bad-url", "timeout", "read"],
)
def test_a_broken_request_says_what_happened_in_words(exc_type, error, message):
    client, _ = client_for(failing(exc_type))
    with pytest.raises(error) as info:
        client.create_conversation(AGENT)  # a write: no retries
    assert type(info.value) is error
    assert info.value.user_message == message


def test_a_reply_cut_mid_stream_says_so():
    def body():
        yield b'data: {"message_type": "assistant_message", "content": "Half"}\n\n'
        raise httpx.ReadError("connection reset by peer")

    client, _ = client_for(
        lambda _r: httpx.Response(
            200, headers={"content-type": "text/event-stream"}, content=body()
        )
    )
    with pytest.raises(NetworkError) as info:
        list(client.stream_message(AGENT, TEXT, "otid-1"))
    assert info.value.user_message == "The connection broke while the reply was streaming."


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        (b"<!doctype html><title>Welcome to nginx!</title>", "a web page"),
        (b"Service is up", "something that is not JSON"),
    ],
)
def test_an_answer_that_is_not_the_api_points_at_the_server_url(content, kind):
    client, _ = client_for(lambda _r: httpx.Response(200, content=content))
    with pytest.raises(ServerError) as info:
        client.health()
    assert info.value.user_message == (
        f"The server at https://letta.test answered with {kind} instead of the Letta API;"
        " check the server URL."
    )
