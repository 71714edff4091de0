"""A fault-injecting HTTP proxy for the tests (stdlib only, threads, 127.0.0.1).

It sits between the app and the real Letta server. Requests pass through unchanged unless a
rule matches: rules are matched by method + path (a regular expression searched in the path)
and consumed in order, one rule per request. Every response goes out close-delimited with
``Connection: close`` (upstream chunking is decoded), so a stream can be cut, stalled or rewritten
at event boundaries.

Actions (``Rule.action``):

``close``            read the request head, then close the connection (no answer; nothing forwarded)
``reset_upload``     read the head and ``upload_bytes`` of the body, then reset (RST); nothing
                     forwarded
``status``           answer ``status`` with ``body``/``headers`` (e.g. 429 + Retry-After, a 502
                     HTML page); nothing forwarded
``stall_headers``    forward the request; the server's answer is read and dropped; the client
                     gets nothing for ``stall`` seconds, then the connection closes
``stall_stream``     forward; pass the head and ``events`` SSE events, then nothing for ``stall``
                     seconds (the server's rest is read and dropped), then close
``cut``              forward; pass the head and ``events`` events; let the server finish (read
                     and drop the rest), then close the client's connection
``garbage``          forward; pass the head, then send junk instead of events; let the server
                     finish, then close
``inject_error``     forward; pass ``events`` events; let the server finish, then send an
                     ``event: error`` + ``error_message`` and ``[DONE]``, then close
``cloud``            answer like Letta Cloud refusing the request (see below); nothing forwarded

Cloud-shaped refusals (``Rule("cloud", reason=...)``), modelled on the fields Letta Code's
error formatter reads (``reasons``, ``reason_text``, ``timeToQuotaResetMs``; Cloud's exact
wording is not known here). ``reason`` is one of :data:`CLOUD_REASONS` (or a list of them, e.g.
``["basic-usage-exceeded", "not-enough-credits"]``; the first decides the default status)::

    Rule("cloud", reason="not-enough-credits")        # 402 {"error": "...",
                                                      #      "reasons": ["not-enough-credits"],
                                                      #      "reason_text": "..."}
    Rule("cloud", reason="exceeded-quota")            # 429, + "timeToQuotaResetMs": 3600000
    Rule("cloud", reason="exceeded-quota", reset_ms=90_000, retry_after_date=2)
                                                      # + Retry-After: <HTTP date, now + 2 s>
    Rule("cloud", reason="agents-limit-exceeded", retry_after=1)   # 429 + Retry-After: 1
    Rule("cloud", reason="model-unknown", status=429) # any reason with another status
    Rule("cloud", reason="free-usage-exceeded", reason_text="")    # no reason_text
    Rule("cloud", reason="byok-not-available-on-free-tier", nested=True)
                                                      # {"error": {"message": "...",
                                                      #   "reasons": [...], "reason_text": ...}}
    Rule("cloud", reason="cloud_api_shutting_down")   # 503 {"errorCode":
                                                      #   "cloud_api_shutting_down",
                                                      #   "admitted": false, "retryable": true}

Default statuses: 429 for ``exceeded-quota`` and ``agents-limit-exceeded``, 402 for the other
reasons (``status`` overrides; the Rule default 200 means "the reason's default").
``reason_text=None`` gives a default sentence per reason. ``retry_after`` (seconds, or a string
sent as is) and ``retry_after_date`` (seconds from now, sent as an HTTP date) add a
``Retry-After`` header to any cloud answer.

Counting: ``forwarded_count(path=None, method=None)`` is how many requests the proxy actually
sent to the server (all, or those whose path matches the regular expression ``path``);
``forwarded`` maps ``"METHOD /path"`` (no query) to that count; ``reset_counts()`` clears it.
A request answered by a rule without forwarding (``close``, ``reset_upload``, ``status``,
``cloud``) is not counted; ``seen`` lists every request with the action taken.

``refuse_connections()`` closes the listening socket (connection refused) until
``accept_connections()`` opens it again on the same port. ``wait_idle()`` waits until every
connection (including the drained upstream side) is over, so a server run a fault left behind
has finished before the next case.
"""

from __future__ import annotations

import collections
import contextlib
import email.utils
import json
import re
import select
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

_EVENT_END = re.compile(rb"\r?\n\r?\n")
_HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "proxy-connection"}

# reason -> (default status, default reason_text, short error)
CLOUD_REASONS: dict[str, tuple[int, str, str]] = {
    "not-enough-credits": (
        402,
        "Your account does not have enough credits for this model.",
        "Not enough credits",
    ),
    "exceeded-quota": (429, "You have exceeded your usage quota.", "Quota exceeded"),
    "free-usage-exceeded": (
        402,
        "You have reached the Free plan hosted model usage limit.",
        "Free usage exceeded",
    ),
    "premium-usage-exceeded": (
        402,
        "You have reached your Premium model usage limit.",
        "Premium usage exceeded",
    ),
    "standard-usage-exceeded": (
        402,
        "You have reached your Standard model usage limit.",
        "Standard usage exceeded",
    ),
    "basic-usage-exceeded": (
        402,
        "You have reached your Basic model usage limit.",
        "Basic usage exceeded",
    ),
    "agents-limit-exceeded": (
        429,
        "You have reached the maximum number of agents for your plan.",
        "Agents limit exceeded",
    ),
    "byok-not-available-on-free-tier": (
        402,
        "Bring-your-own-key models are not available on the Free plan.",
        "BYOK not available on the free tier",
    ),
    "model-unknown": (
        402,
        "The selected model is not available for this account.",
        "Model unknown",
    ),
    "context-window-size-not-supported": (
        402,
        "The selected context window size is not supported for this model.",
        "Context window size not supported",
    ),
}
CLOUD_SHUTTING_DOWN = "cloud_api_shutting_down"
DEFAULT_QUOTA_RESET_MS = 3_600_000


@dataclass
class Rule:
    action: str
    method: str = "POST"
    path: str = r"/messages$"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    events: int = 2
    stall: float = 5.0
    upload_bytes: int = 1024
    error: dict | None = None
    # action "cloud" (see the module docstring)
    reason: str | list[str] = ""
    reason_text: str | None = None
    reset_ms: int | None = None
    nested: bool = False
    retry_after: int | float | str | None = None
    retry_after_date: float | None = None

    def __post_init__(self) -> None:
        if self.action == "cloud":
            cloud_answer(self)  # a wrong reason fails in the test, not in the proxy thread

    def matches(self, method: str, path: str) -> bool:
        return method.upper() == self.method.upper() and re.search(self.path, path) is not None


@dataclass
class Seen:
    method: str
    path: str
    action: str


def cloud_answer(rule: Rule) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and JSON body of a ``cloud`` rule (see the module docstring)."""
    reasons = [rule.reason] if isinstance(rule.reason, str) else list(rule.reason)
    if not reasons or not reasons[0]:
        raise ValueError("Rule('cloud') needs a reason")
    headers: dict[str, str] = {"Content-Type": "application/json"}
    if rule.retry_after is not None:
        value = rule.retry_after
        headers["Retry-After"] = value if isinstance(value, str) else str(int(value))
    if rule.retry_after_date is not None:
        headers["Retry-After"] = email.utils.formatdate(
            time.time() + rule.retry_after_date, usegmt=True
        )
    if reasons == [CLOUD_SHUTTING_DOWN]:
        status = rule.status if rule.status != 200 else 503
        body: dict = {"errorCode": CLOUD_SHUTTING_DOWN, "admitted": False, "retryable": True}
        return status, headers, json.dumps(body).encode()
    unknown = [r for r in reasons if r not in CLOUD_REASONS]
    if unknown:
        raise ValueError(f"unknown cloud reason(s) {unknown}; known: {sorted(CLOUD_REASONS)}")
    default_status, default_text, error = CLOUD_REASONS[reasons[0]]
    status = rule.status if rule.status != 200 else default_status
    fields: dict = {"error": error, "reasons": reasons}
    text = default_text if rule.reason_text is None else rule.reason_text
    if text:
        fields["reason_text"] = text
    if rule.reset_ms is not None:
        fields["timeToQuotaResetMs"] = rule.reset_ms
    elif "exceeded-quota" in reasons:
        fields["timeToQuotaResetMs"] = DEFAULT_QUOTA_RESET_MS
    if rule.nested:  # the shape Letta Code also reads: {"error": {"message", "reasons", ...}}
        fields["message"] = fields.pop("error")
        body = {"error": fields}
    else:
        body = fields
    return status, headers, json.dumps(body).encode()


class _Request:
    def __init__(
        self, method: str, target: str, version: str, headers: list[tuple[str, str]], rest: bytes
    ):
        self.method, self.target, self.version = method, target, version
        self.headers, self.rest = headers, rest

    def header(self, name: str) -> str | None:
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    @property
    def path(self) -> str:
        return urlsplit(self.target).path


class FaultProxy:
    def __init__(self, upstream: str):
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._rules: list[Rule] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._listener: socket.socket | None = None
        self._port = 0
        self._threads: list[threading.Thread] = []
        self._sockets: set[socket.socket] = set()
        self._active = 0
        self.seen: list[Seen] = []
        self.forwarded: collections.Counter[str] = collections.Counter()

    # -- control ----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    def start(self) -> FaultProxy:
        self._listen()
        thread = threading.Thread(target=self._accept_loop, name="fault-proxy-accept", daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def add(self, *rules: Rule) -> None:
        with self._lock:
            self._rules.extend(rules)

    def clear_rules(self) -> None:
        with self._lock:
            self._rules.clear()

    def forwarded_count(self, path: str | None = None, method: str | None = None) -> int:
        """Requests sent on to the server: all, or those whose path (no query) matches the
        regular expression ``path`` (searched) and whose method is ``method``."""
        with self._lock:
            items = list(self.forwarded.items())
        total = 0
        for key, n in items:
            m, _, p = key.partition(" ")
            if method is not None and m.upper() != method.upper():
                continue
            if path is not None and re.search(path, p) is None:
                continue
            total += n
        return total

    def reset_counts(self) -> None:
        with self._lock:
            self.forwarded.clear()
            self.seen.clear()

    @property
    def pending_rules(self) -> int:
        with self._lock:
            return len(self._rules)

    def refuse_connections(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
        if listener is not None:
            # shutdown() stops the listening at once; a plain close() would leave the socket
            # listening while the accept thread's select() still holds it.
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()

    def accept_connections(self) -> None:
        with self._lock:
            if self._listener is None:
                self._listen_locked()

    @property
    def idle(self) -> bool:
        with self._lock:
            return self._active == 0

    def wait_idle(self, timeout: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if self._active == 0:
                    return True
            time.sleep(0.02)
        return False

    def stop(self) -> None:
        self._stop.set()
        self.refuse_connections()
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()
        for thread in list(self._threads):
            thread.join(10)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- plumbing ---------------------------------------------------------------------------

    def _listen(self) -> None:
        with self._lock:
            self._listen_locked()

    def _listen_locked(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self._port))
        sock.listen(64)
        self._port = sock.getsockname()[1]
        self._listener = sock

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                listener = self._listener
            if listener is None:
                time.sleep(0.02)
                continue
            try:
                ready, _, _ = select.select([listener], [], [], 0.05)
                if not ready:
                    continue
                conn, _ = listener.accept()
            except (OSError, ValueError):
                continue  # closed under us (refuse_connections)
            with self._lock:
                self._active += 1
                self._sockets.add(conn)
            thread = threading.Thread(
                target=self._serve, args=(conn,), name="fault-proxy-conn", daemon=True
            )
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
            thread.start()

    def _track(self, sock: socket.socket) -> socket.socket:
        with self._lock:
            self._sockets.add(sock)
        return sock

    def _forget(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.discard(sock)
        with contextlib.suppress(OSError):
            sock.close()

    def _serve(self, conn: socket.socket) -> None:
        upstream: socket.socket | None = None
        try:
            conn.settimeout(30)
            request = _read_head(conn)
            if request is None:
                return
            rule = self._take_rule(request.method, request.path)
            action = rule.action if rule else "pass"
            self.seen.append(Seen(request.method, request.path, action))
            if rule is not None and rule.action == "close":
                return
            if rule is not None and rule.action == "reset_upload":
                _read_body_part(conn, request, rule.upload_bytes)
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                return
            body = _read_body(conn, request)
            if rule is not None and rule.action == "status":
                _send_status(conn, rule)
                return
            if rule is not None and rule.action == "cloud":
                status, headers, payload = cloud_answer(rule)
                _send_status(conn, Rule("status", status=status, headers=headers, body=payload))
                return
            upstream = self._track(socket.create_connection(self.upstream, timeout=120))
            _forward_request(upstream, request, body)
            with self._lock:
                self.forwarded[f"{request.method.upper()} {request.path}"] += 1
            self._relay(conn, upstream, rule)
        except OSError:
            pass
        finally:
            if upstream is not None:
                self._forget(upstream)
            self._forget(conn)
            with self._lock:
                self._active -= 1

    def _take_rule(self, method: str, path: str) -> Rule | None:
        with self._lock:
            for i, rule in enumerate(self._rules):
                if rule.matches(method, path):
                    return self._rules.pop(i)
        return None

    def _relay(self, conn: socket.socket, upstream: socket.socket, rule: Rule | None) -> None:
        reader = _ResponseReader(upstream)
        status_line, headers = reader.head()
        action = rule.action if rule else "pass"
        if action == "stall_headers":
            reader.drain()
            self._sleep(rule.stall)  # type: ignore[union-attr]
            return
        out_headers = [(k, v) for k, v in headers if k.lower() not in _HOP_HEADERS]
        if reader.chunked:  # we send it decoded, delimited by the close
            out_headers = [(k, v) for k, v in out_headers if k.lower() != "content-length"]
        conn.sendall(_head_bytes(status_line, out_headers))
        if action == "pass" or rule is None:
            for piece in reader.body():
                conn.sendall(piece)
            return
        if action == "garbage":
            reader.drain()
            conn.sendall(
                b"data: {not json at all\n\n"
                b"data: \xff\xfe\x00binary\n\n"
                b"event: mystery\ndata: [[[\n\n"
                b": a comment line\n\n"
                b'data: {"message_type": 42}\n\n'
                b"garbage without a field name\n\n"
            )
            return
        sent = 0
        buffer = b""
        body = reader.body()
        for piece in body:
            buffer += piece
            while sent < rule.events:
                match = _EVENT_END.search(buffer)
                if match is None:
                    break
                event, buffer = buffer[: match.end()], buffer[match.end() :]
                conn.sendall(event)
                sent += 1
            if sent >= rule.events:
                break
        for _ in body:  # the rest of the server's answer: read and dropped (the run finishes)
            if action == "stall_stream" and self._stop.is_set():
                break
        if action == "stall_stream":
            self._sleep(rule.stall)
        elif action == "inject_error":
            error = rule.error or {
                "message_type": "error_message",
                "error_type": "internal_error",
                "message": "Injected failure from the fault proxy.",
                "detail": "fault_proxy: in-stream error",
            }
            conn.sendall(
                b"event: error\ndata: " + json.dumps(error).encode() + b"\n\ndata: [DONE]\n\n"
            )

    def _sleep(self, seconds: float) -> None:
        self._stop.wait(seconds)


# -- HTTP/1.1 helpers -----------------------------------------------------------------------------


def _read_head(conn: socket.socket) -> _Request | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
        if len(data) > 1 << 20:
            return None
    head, rest = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    method, target, version = lines[0].split(" ", 2)
    headers = [tuple(x.strip() for x in line.split(":", 1)) for line in lines[1:] if ":" in line]
    return _Request(method, target, version, headers, rest)  # type: ignore[arg-type]


def _read_body(conn: socket.socket, request: _Request) -> bytes:
    length = int(request.header("content-length") or 0)
    body = request.rest
    while len(body) < length:
        chunk = conn.recv(min(1 << 20, length - len(body)))
        if not chunk:
            break
        body += chunk
    return body[:length]


def _read_body_part(conn: socket.socket, request: _Request, limit: int) -> None:
    got = len(request.rest)
    while got < limit:
        chunk = conn.recv(limit - got)
        if not chunk:
            return
        got += len(chunk)


def _head_bytes(status_line: str, headers: list[tuple[str, str]]) -> bytes:
    lines = [status_line] + [f"{k}: {v}" for k, v in headers] + ["Connection: close", "", ""]
    return "\r\n".join(lines).encode("latin-1")


def _send_status(conn: socket.socket, rule: Rule) -> None:
    from http import HTTPStatus

    reason = "Error"
    with contextlib.suppress(ValueError):
        reason = HTTPStatus(rule.status).phrase
    headers = {"Content-Length": str(len(rule.body))}
    if "content-type" not in {k.lower() for k in rule.headers}:
        headers["Content-Type"] = "application/json"
    headers.update(rule.headers)
    conn.sendall(_head_bytes(f"HTTP/1.1 {rule.status} {reason}", list(headers.items())) + rule.body)


def _forward_request(upstream: socket.socket, request: _Request, body: bytes) -> None:
    headers = [
        (k, v)
        for k, v in request.headers
        if k.lower() not in _HOP_HEADERS and k.lower() != "content-length"
    ]
    headers.append(("Content-Length", str(len(body))))
    upstream.sendall(_head_bytes(f"{request.method} {request.target} HTTP/1.1", headers) + body)


class _ResponseReader:
    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.buffer = b""
        self.chunked = False
        self.length: int | None = None

    def _more(self) -> bool:
        chunk = self.sock.recv(65536)
        if not chunk:
            return False
        self.buffer += chunk
        return True

    def head(self) -> tuple[str, list[tuple[str, str]]]:
        while b"\r\n\r\n" not in self.buffer:
            if not self._more():
                raise OSError("upstream closed before the answer")
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        headers = [
            tuple(x.strip() for x in line.split(":", 1)) for line in lines[1:] if ":" in line
        ]
        for k, v in headers:
            if k.lower() == "transfer-encoding" and "chunked" in v.lower():
                self.chunked = True
            if k.lower() == "content-length":
                self.length = int(v)
        return lines[0], headers  # type: ignore[return-value]

    def body(self):
        """The decoded body, piece by piece, as it arrives."""
        if self.chunked:
            while True:
                while b"\r\n" not in self.buffer:
                    if not self._more():
                        return
                size_line, self.buffer = self.buffer.split(b"\r\n", 1)
                size = int(size_line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    return
                while len(self.buffer) < size + 2:
                    if not self._more():
                        yield self.buffer
                        return
                piece, self.buffer = self.buffer[:size], self.buffer[size + 2 :]
                yield piece
        remaining = self.length
        while True:
            if self.buffer:
                piece = self.buffer if remaining is None else self.buffer[:remaining]
                self.buffer = b""
                if remaining is not None:
                    remaining -= len(piece)
                yield piece
            if remaining is not None and remaining <= 0:
                return
            if not self._more():
                return

    def drain(self) -> None:
        for _ in self.body():
            pass
