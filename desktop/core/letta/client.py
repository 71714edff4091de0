"""A small synchronous client for the Letta REST API.

Synchronous on purpose: every call runs on a worker thread (desktop/workers.py), and a plain
httpx.Client is easy to reason about there. One client is shared; httpx.Client is thread-safe for
concurrent requests.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
import socket
import ssl
import threading
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

import httpx
from httpx_sse import EventSource

from .errors import (
    ConnectionFailed,
    LettaError,
    NetworkError,
    ServerError,
    StreamCut,
    TimeoutError_,
    error_for_status,
)
from .models import Agent, Conversation, Message, ModelInfo, StreamEvent, StreamStop
from .stream import parse_stream
from .urls import DEFAULT_CONVERSATION, normalize_base_url

# The legacy server only streams `POST /v1/agents/{id}/messages` for clients that declare the v1
# wire format (which is what this client speaks); the official SDKs declare it with this header.
_V1_WIRE_HEADERS = {"X-Stainless-Package-Version": "1.0.0"}


_SPLICE_MIN = 32 * 1024
_SPLICE = re.compile(r'"@@splice-(\d+)-([0-9a-f]{12})@@"')


def json_body(body: Any) -> bytes:
    """`json.dumps(body).encode()`, with long plain strings (base64 images) spliced in as bytes.

    The C JSON encoder holds the GIL for the whole call: for ten 5K screenshots (~14 MB of
    base64) that is ~50 ms during which the GUI thread cannot run. Here only the small skeleton
    goes through json; strings that need no escaping are joined in as they are."""
    nonce = uuid.uuid4().hex[:12]
    big: list[str] = []

    def swap(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: swap(v) for k, v in value.items()}
        if isinstance(value, list):
            return [swap(v) for v in value]
        if (
            isinstance(value, str)
            and len(value) >= _SPLICE_MIN
            and value.isascii()
            and value.isprintable()
            and '"' not in value
            and "\\" not in value
        ):
            big.append(value)
            return f"@@splice-{len(big) - 1}-{nonce}@@"
        return value

    skeleton = json.dumps(swap(body))
    if not big:
        return skeleton.encode("utf-8")
    out: list[bytes] = []
    pos = 0
    for m in _SPLICE.finditer(skeleton):
        if m.group(2) != nonce:
            continue
        out += [
            skeleton[pos : m.start()].encode("utf-8"),
            b'"',
            big[int(m.group(1))].encode("ascii"),
            b'"',
        ]
        pos = m.end()
    out.append(skeleton[pos:].encode("utf-8"))
    return b"".join(out)


class MessageStream:
    """An open streamed send. Iterate for events; `cancel()` may be called from any thread."""

    def __init__(
        self,
        client: LettaClient,
        agent_id: str,
        body: dict[str, Any],
        conversation_id: str | None = None,
    ):
        self._client = client
        self._agent_id = agent_id
        self._body = body
        self._conversation_id = _thread(conversation_id)
        self._path = (
            f"/v1/conversations/{self._conversation_id}/messages"
            if self._conversation_id
            else f"/v1/agents/{agent_id}/messages"
        )
        self._response: httpx.Response | None = None
        self._cancelled = threading.Event()
        self._lock = threading.Lock()
        self._accepted = False

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    @property
    def accepted(self) -> bool:
        """True once the server answered the send with a 2xx stream: it has the message, so a
        break after this point cut the *reply*, not the send."""
        return self._accepted

    def close(self) -> None:
        """Stop reading at once (any thread, never blocks on the network)."""
        self._cancelled.set()
        with self._lock:
            response = self._response
        if response is not None:
            # Closing a socket does not wake a thread blocked in recv() on it: without a
            # shutdown the reader would sit there until the next ping (~20 s) or read timeout.
            _shutdown_socket(response)
            response.close()

    def cancel(self) -> None:
        """Close our end, then ask the server to stop the run. Makes a request: call it off
        the GUI thread."""
        self.close()
        # 409 when nothing runs, or no Redis on a self-hosted server: closing was the fallback.
        with contextlib.suppress(LettaError):
            self._client.cancel_run(self._agent_id, self._conversation_id)

    def __iter__(self) -> Iterator[StreamEvent]:
        try:
            yield from self._iter_events()
        except LettaError as exc:
            self._client._scrub(exc)
            raise

    def _iter_events(self) -> Iterator[StreamEvent]:
        if self._cancelled.is_set():
            yield StreamStop("cancelled")  # closed before anything was sent
            return
        http = self._client._http
        request = http.build_request(
            "POST",
            self._path,
            content=json_body(self._body),
            headers={
                "Accept": "text/event-stream",
                "Content-Type": "application/json",
                **_V1_WIRE_HEADERS,
            },
            timeout=self._client.stream_timeout,
        )
        with self._client._translate_errors(sending=True):
            response = http.send(request, stream=True)
        with self._lock:
            self._response = response
            # close() sets the flag before it takes the lock: either it saw this response
            # (and closed it) or we see the flag here. Without this check a close() that
            # came while the headers were on their way was ignored and the reply ran on.
            closed_early = self._cancelled.is_set()
        try:
            if closed_early:
                yield StreamStop("cancelled")
                return
            try:
                with self._client._translate_errors(
                    sending=True, stream=True, cancelled=self._cancelled
                ):
                    yield from self._read_response(response)
            except (_Cancelled, StreamCut, NetworkError, httpx.StreamError):
                if not self._cancelled.is_set():
                    raise
                yield StreamStop("cancelled")  # we closed the stream ourselves
        finally:
            response.close()

    def _read_response(self, response: httpx.Response) -> Iterator[StreamEvent]:
        if response.status_code >= 300:
            body = response.read()
            raise error_for_status(
                response.status_code,
                body,
                response.headers.get("content-type", ""),
                response.headers,
                what="agent",
            )
        self._accepted = True
        ctype = response.headers.get("content-type", "")
        if "text/event-stream" not in ctype:
            # Some servers answer a non-streamed JSON body; accept it rather than fail.
            body = response.read()
            yield from self._events_from_json(body, ctype)
            return
        source = EventSource(response)
        pairs = ((sse.event, sse.data) for sse in source.iter_sse())
        yield from parse_stream(pairs)

    def _events_from_json(self, body: bytes, ctype: str) -> Iterator[StreamEvent]:
        data = self._client._decode_json(body, ctype)
        if not isinstance(data, dict):
            raise ServerError("The server sent a reply the app could not read.")
        messages = data.get("messages")
        lines = (
            [("message", json.dumps(m)) for m in messages if isinstance(m, dict)]
            if isinstance(messages, list)
            else []
        )
        if isinstance(data.get("stop_reason"), dict):
            lines.append(("message", json.dumps(data["stop_reason"])))
        yield from parse_stream(lines)


SEND_CLOCK_SKEW_S = 15 * 60  # how far behind ours a server's clock may run (retry's history check)


def _epoch(date: str | None) -> float | None:
    """A message's ISO date as epoch seconds (None if missing or unreadable)."""
    if not date:
        return None
    try:
        parsed = datetime.fromisoformat(date.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:  # the server writes UTC
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()


class LettaClient:
    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        *,
        project: str | None = None,
        transport: httpx.BaseTransport | None = None,
        verify: bool | str | ssl.SSLContext = True,
        user_agent: str | None = None,
        timeout: httpx.Timeout | None = None,
        stream_timeout: httpx.Timeout | None = None,
    ):
        """`verify`: TLS verification, always on; a path names a custom CA bundle.
        `timeout`: plain requests; `stream_timeout`: the streamed send (its read timeout is the
        longest silence tolerated — the server pings every ~20 s)."""
        from desktop import __version__

        self.base_url = normalize_base_url(base_url)
        self.stream_timeout = stream_timeout or httpx.Timeout(
            connect=15.0, write=120.0, read=90.0, pool=15.0
        )
        # History pages carry inline base64 images: give them longer than other requests.
        self._history_timeout = timeout or httpx.Timeout(60.0, connect=10.0)
        # Kept only to scrub it out of error text a server might echo back.
        self._secret = api_key if api_key and len(api_key) >= 6 else None
        headers = {
            "User-Agent": user_agent or f"letta-desktop/{__version__}",
            "Accept": "application/json",
        }
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        if project:
            headers["X-Project"] = project
        if isinstance(verify, str):  # a CA bundle: verification stays on, with these roots
            verify = ssl.create_default_context(cafile=verify)
        self._http = httpx.Client(
            base_url=self.base_url,
            headers=headers,
            transport=transport,
            verify=verify,
            timeout=timeout or httpx.Timeout(connect=10.0, read=30.0, write=60.0, pool=10.0),
            follow_redirects=False,  # a redirect to another origin must never carry the key
        )

    def close(self) -> None:
        self._http.close()

    def set_project(self, project: str | None) -> None:
        """Letta Cloud's `X-Project` header for later requests (a server profile's project)."""
        if project:
            self._http.headers["X-Project"] = project
        else:
            self._http.headers.pop("X-Project", None)

    # -- plumbing ------------------------------------------------------------------------

    class _ErrorScope:
        def __init__(
            self,
            client: LettaClient,
            sending: bool,
            stream: bool,
            cancelled: threading.Event | None,
        ):
            self.client, self.sending, self.stream, self.cancelled = (
                client,
                sending,
                stream,
                cancelled,
            )

        def __enter__(self) -> None:
            return None

        def __exit__(self, exc_type, exc, tb) -> bool:
            if exc is None or isinstance(exc, LettaError) or not isinstance(exc, httpx.HTTPError):
                return False
            if self.cancelled is not None and self.cancelled.is_set():
                raise _Cancelled() from None
            raise self.client._map_transport_error(exc, self.stream) from None

    def _translate_errors(
        self,
        *,
        sending: bool = False,
        stream: bool = False,
        cancelled: threading.Event | None = None,
    ) -> _ErrorScope:
        return self._ErrorScope(self, sending, stream, cancelled)

    def _map_transport_error(self, exc: httpx.HTTPError, stream: bool) -> LettaError:
        where = urlsplit(self.base_url).netloc or self.base_url
        if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout)):
            return ConnectionFailed(
                f"Could not reach the server at {where}. Check the address and your connection."
            )
        if isinstance(exc, (httpx.UnsupportedProtocol, httpx.InvalidURL)):
            return ConnectionFailed(
                f"The server address “{self.base_url}” is not a valid http(s) URL."
            )
        if isinstance(exc, httpx.TimeoutException):
            return TimeoutError_(f"The server at {where} stopped answering.")
        if stream:
            return NetworkError("The connection broke while the reply was streaming.")
        return NetworkError(f"The connection to {where} broke during the request.")

    def _scrub(self, err: LettaError) -> LettaError:
        """Remove the API key from an error's text, in place (a server may echo it back)."""
        secret = self._secret
        if secret:
            err.args = tuple(
                a.replace(secret, "[API key]") if isinstance(a, str) else a for a in err.args
            )
            if err.detail:
                err.detail = err.detail.replace(secret, "[API key]")
        return err

    def _decode_json(self, body: bytes, ctype: str) -> Any:
        try:
            return json.loads(body)
        except ValueError:
            kind = "a web page" if b"<" in body[:200] else "something that is not JSON"
            raise ServerError(
                f"The server at {self.base_url} answered with {kind} instead of the Letta API;"
                " check the server URL."
            ) from None

    def _request(self, method: str, path: str, *, what: str = "request", **kwargs: Any) -> Any:
        try:
            with self._translate_errors():
                response = self._http.request(method, path, **kwargs)
            ctype = response.headers.get("content-type", "")
            if response.status_code >= 300:
                raise error_for_status(
                    response.status_code, response.content, ctype, response.headers, what=what
                )
            if not response.content:
                return None
            return self._decode_json(response.content, ctype)
        except LettaError as exc:
            self._scrub(exc)
            raise

    # -- API -----------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        data = self._request("GET", "/v1/health/", what="health check")
        return data if isinstance(data, dict) else {}

    def check_key(self) -> None:
        """A cheap authenticated call; raises AuthError for a bad key."""
        self._request("GET", "/v1/agents/", params={"limit": 1}, what="agent list")

    def list_agents(
        self, *, limit: int = 50, after: str | None = None, query: str | None = None
    ) -> list[Agent]:
        params: dict[str, Any] = {"limit": limit}
        if after:
            params["after"] = after
        if query:
            params["query_text"] = query
        data = self._request("GET", "/v1/agents/", params=params, what="agent list")
        return [Agent.from_json(a) for a in _as_list(data) if isinstance(a, dict) and "id" in a]

    def get_agent(self, agent_id: str) -> Agent:
        data = self._request("GET", f"/v1/agents/{agent_id}", what="agent")
        return _agent(data)

    def update_agent_model(self, agent_id: str, handle: str) -> Agent:
        data = self._request(
            "PATCH", f"/v1/agents/{agent_id}", json={"model": handle}, what="agent"
        )
        return _agent(data)

    def list_models(self) -> list[ModelInfo]:
        data = self._request("GET", "/v1/models/", what="model list")
        return [ModelInfo.from_json(m) for m in _as_list(data) if isinstance(m, dict)]

    def list_messages(
        self,
        agent_id: str,
        *,
        limit: int = 30,
        before: str | None = None,
        conversation_id: str | None = None,
    ) -> list[Message]:
        """One page of history, newest first.

        `conversation_id` None: the agent route, which on 0.16.8 lists the messages of *every*
        conversation of the agent. "default": only the default conversation's
        (`/v1/conversations/default/messages?agent_id=…`; 0.16.8 returns that page oldest-first
        like the agent route); a conversation id: that thread (0.16.8 returns it newest-first).
        """
        params: dict[str, Any] = {"limit": limit, "order": "desc"}
        if before:
            params["before"] = before
        path = f"/v1/agents/{agent_id}/messages"
        if conversation_id:
            path = f"/v1/conversations/{conversation_id}/messages"
            if conversation_id == DEFAULT_CONVERSATION:
                params["agent_id"] = agent_id
        data = self._request(
            "GET",
            path,
            params=params,
            what="agent",
            timeout=self._history_timeout,
        )
        page = [Message.from_json(m) for m in _as_list(data) if isinstance(m, dict)]
        return newest_first(page)

    def find_user_message(
        self,
        agent_id: str,
        otid: str,
        *,
        sent_at: float | None = None,
        page_size: int = 100,
        max_pages: int = 10,
        conversation_id: str | None = None,
    ) -> Message | None:
        """The user message carrying `otid`, if the server has it (retry safety).

        Pages back through the history: an agent that ran many tool steps after the message
        can have put far more than one page on top of it. It stops at the start of the history,
        at `max_pages`, or — when `sent_at` (the send's time, epoch seconds) is known — at
        the first page that is entirely older than it (less SEND_CLOCK_SKEW_S, for a server
        clock that runs behind ours).
        """
        before: str | None = None
        for _ in range(max_pages):
            page = self.list_messages(
                agent_id, limit=page_size, before=before, conversation_id=conversation_id
            )
            for message in page:
                if message.kind == "user" and message.otid == otid:
                    return message
            if len(page) < page_size or not page[-1].id:
                return None  # the start of the history
            oldest = _epoch(page[-1].date)
            if sent_at is not None and oldest is not None and oldest < sent_at - SEND_CLOCK_SKEW_S:
                return None  # everything further back is older than the send
            before = page[-1].id
        return None

    def stream_message(
        self,
        agent_id: str,
        content: list[dict[str, Any]],
        otid: str,
        conversation_id: str | None = None,
    ) -> MessageStream:
        """Send and stream the reply. The default conversation (None or "default") goes through
        `POST /v1/agents/{id}/messages`: on 0.16.8 that stores into the default conversation,
        exactly like `POST /v1/conversations/default/messages` with `agent_id`, and it is the
        route every other part of the app (retry checks, cancel, fault tests) was proven on.
        Another conversation goes through `POST /v1/conversations/{id}/messages`."""
        message = {"type": "message", "role": "user", "otid": otid, "content": content}
        return MessageStream(self, agent_id, _stream_body([message]), conversation_id)

    def stream_approval(
        self,
        agent_id: str,
        tool_call_id: str,
        approve: bool,
        reason: str | None = None,
        conversation_id: str | None = None,
    ) -> MessageStream:
        """Answer a pending tool approval and stream the continuation (the tool's result, then
        the agent's reply). Shape checked against 0.16.8 on both routes."""
        answer = {
            "type": "approval",
            "tool_call_id": tool_call_id,
            "approve": approve,
            "reason": reason or None,
        }
        message = {"type": "approval", "approvals": [answer]}
        return MessageStream(self, agent_id, _stream_body([message]), conversation_id)

    def cancel_run(self, agent_id: str, conversation_id: str | None = None) -> None:
        thread = _thread(conversation_id)
        if thread:
            self._request(
                "POST", f"/v1/conversations/{thread}/cancel", json={}, what="conversation"
            )
            return
        self._request("POST", f"/v1/agents/{agent_id}/messages/cancel", json={}, what="agent")

    # -- conversations (threads inside one agent) -------------------------------------------

    def list_conversations(self, agent_id: str, *, limit: int = 50) -> list[Conversation]:
        """The agent's conversations, newest first. The default conversation is not listed
        (0.16.8 lists only the ones created with `create_conversation`)."""
        data = self._request(
            "GET",
            "/v1/conversations/",
            params={"agent_id": agent_id, "limit": limit, "order": "desc"},
            what="conversation list",
        )
        items = [c for c in _as_list(data) if isinstance(c, dict) and "id" in c]
        return [Conversation.from_json(c) for c in items]

    def create_conversation(self, agent_id: str, summary: str | None = None) -> Conversation:
        body = {"summary": summary} if summary else {}
        data = self._request(
            "POST",
            "/v1/conversations/",
            params={"agent_id": agent_id},
            json=body,
            what="conversation",
        )
        if not isinstance(data, dict) or "id" not in data:
            raise ServerError("The server sent a conversation the app could not read.")
        return Conversation.from_json(data)

    def create_agent(self, name: str, model: str, **extra: Any) -> Agent:
        data = self._request(
            "POST", "/v1/agents/", json={"name": name, "model": model, **extra}, what="agent"
        )
        return _agent(data)


def _thread(conversation_id: str | None) -> str | None:
    """The conversation id to use in a path, or None for the default conversation."""
    if not conversation_id or conversation_id == DEFAULT_CONVERSATION:
        return None
    return conversation_id


def _stream_body(messages: list[dict[str, Any]]) -> dict[str, Any]:
    return {"messages": messages, "streaming": True, "stream_tokens": True, "include_pings": True}


def _shutdown_socket(response: httpx.Response) -> None:
    """Wake a reader blocked on this response's socket (best effort; any thread)."""
    stream = response.extensions.get("network_stream")
    get_info = getattr(stream, "get_extra_info", None)
    if get_info is None:
        return
    try:
        sock = get_info("socket")
    except Exception:
        return
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):
            # The plain socket's shutdown: SSLSocket.shutdown() would also drop its SSL object
            # under the feet of the reading thread.
            socket.socket.shutdown(sock, socket.SHUT_RDWR)


def newest_first(page: list[Message]) -> list[Message]:
    """The page with the newest message first, whatever order the server used.

    `order=desc` selects the newest messages on every server, but the legacy server (0.16.8)
    returns that page oldest-first while the docs (and Cloud) say newest-first. Dates have
    one-second resolution there, so they often tie; the user message of a run comes before the
    replies of the same run, and the system message is the oldest of all — those decide then.
    """
    rising = falling = 0
    # System messages are rewritten in place (their date moves), so they don't vote on dates.
    dates = [d for m in page if m.kind != "system" and (d := _parse_date(m.date)) is not None]
    for a, b in itertools.pairwise(dates):
        rising += a < b
        falling += a > b
    if rising == falling:
        for i, message in enumerate(page):
            run = message.raw.get("run_id")
            if message.kind != "user" or not run:
                continue
            for j, other in enumerate(page):
                if j != i and other.raw.get("run_id") == run:
                    rising += j > i
                    falling += j < i
    if rising == falling and len(page) > 1:
        rising += page[0].kind == "system"
        falling += page[-1].kind == "system"
    return page[::-1] if rising > falling else page


def _parse_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


class _Cancelled(Exception):
    """Internal: the stream broke because the user cancelled it."""


def _agent(data: Any) -> Agent:
    if not isinstance(data, dict) or "id" not in data:
        raise ServerError("The server sent an agent the app could not read.")
    return Agent.from_json(data)


def _as_list(data: Any) -> list[Any]:
    if isinstance(data, list):
        return data
    if isinstance(data, dict):  # some deployments wrap pages
        for key in ("items", "data", "agents", "messages"):
            if isinstance(data.get(key), list):
                return data[key]
    if data is None:
        return []
    raise ServerError("The server sent a list the app could not read.")
