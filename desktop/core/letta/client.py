"""The Letta REST API through the official SDK (`letta-client`), seen as our own small types.

The SDK carries every call: routes, query and body shapes, its `X-Stainless-*` / user-agent
headers (without them the server treats us as a legacy client), SSE parsing, status errors and
retries. This module only turns its answers into `models` types and its exceptions into
`errors` types, and keeps what a desktop needs on top: a stream that survives a dropped
connection (background runs, resumed from the last `seq_id`), run-scoped cancel, and the
retry-safety checks.

Synchronous on purpose: every call runs on a worker thread (desktop/workers.py). One client is
shared; httpx.Client is thread-safe for concurrent requests.
"""

from __future__ import annotations

import codecs
import contextlib
import itertools
import json
import os
import re
import socket
import ssl
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

import httpx

from desktop.core.letta import parts
from desktop.core.letta.errors import (
    ConnectionFailed,
    LettaError,
    NetworkError,
    ServerError,
    ServiceUnavailable,
    StreamCut,
    TimeoutError_,
    error_for_status,
)
from desktop.core.letta.models import (
    Agent,
    ApprovalDecision,
    Conversation,
    Message,
    ModelInfo,
    StreamEvent,
    StreamReconnecting,
    StreamStop,
)
from desktop.core.letta.stream import StreamParser
from desktop.core.letta.urls import DEFAULT_CONVERSATION, normalize_base_url

if TYPE_CHECKING:
    from letta_client import Letta, Stream

_SDK_IMPORT = threading.Lock()


def load_sdk() -> Any:
    """The official SDK's module, imported by one thread at a time (on a worker: ~0.3 s).

    Two workers importing it at once (the warm-up after the first frame and a first request)
    meet each other's half-imported pydantic modules, and Python breaks that import deadlock
    by handing one of them a partially initialised module: "cannot import name 'import_string'
    from partially initialized module 'pydantic._internal._validators'" (seen in the Qt tests,
    about 1 run in 4 of a file whose first test connects)."""
    with _SDK_IMPORT:
        import letta_client

    return letta_client


GET_RETRIES = 2
"""The SDK's own retries for reads (connection errors, 408/409/429/5xx, with its backoff).
Anything that writes goes out once: a retry could store the user's message twice."""
RESUME_ATTEMPTS = 5
"""Reattaching to a background run after the stream dropped, at most this many times in a row."""
_RESUME_BACKOFF = (0.5, 1.0, 2.0, 4.0, 8.0)

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
    """An open streamed send (or approval answer). Iterate for events; `close()` / `cancel()`
    may be called from any thread.

    Sends go to `POST /v1/conversations/{id}/messages` (`agent_id` in the body for the default
    conversation: the route that takes the conversation lock and maps the `otid` to its run) with
    `background: true`, so the run goes on server-side when the connection drops. The stream
    keeps the run id and the last `seq_id`; when the connection breaks (or ends without a stop
    reason) it reattaches from there and goes on, so the reply arrives once and whole. A server
    that cannot run in the background (self-hosted without Redis: 503) gets the same send again
    without it, which is safe because that server refuses before it stores anything.
    """

    def __init__(
        self,
        client: LettaClient,
        agent_id: str,
        body: dict[str, Any] | None,
        conversation_id: str | None = None,
        *,
        resume_otid: str | None = None,
    ):
        self._client = client
        self._agent_id = agent_id
        self._body = body
        self._conversation_id = conversation_id or DEFAULT_CONVERSATION
        self._resume_otid = resume_otid
        # The otid that names this send's run: a cut before any chunk named the run id
        # reattaches by it.
        messages = (body or {}).get("messages") or [{}]
        self._otid = resume_otid or messages[0].get("otid")
        self._response: httpx.Response | None = None
        self._cancelled = threading.Event()
        self._lock = threading.Lock()
        self._accepted = False
        self._parser = StreamParser()
        self._pending_json: list[StreamEvent] = []
        self.background = client.background_supported is not False

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    @property
    def accepted(self) -> bool:
        """True once the server answered the send with a 2xx stream: it has the message, so a
        break after this point cut the *reply*, not the send."""
        return self._accepted

    @property
    def run_id(self) -> str | None:
        """The server's run for this send, once a chunk named it."""
        return self._parser.run_id

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
        """Close our end, then ask the server to stop this run — only this one: another
        conversation of the same agent (another app, Letta Code) keeps running. Makes a
        request: call it off the GUI thread."""
        self.close()
        # 409 when nothing runs, or no Redis on a self-hosted server: closing was the fallback.
        with contextlib.suppress(LettaError):
            self._client.cancel_run(self._agent_id, self._conversation_id, self.run_id)

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
        opened = self._open_first()
        resumes = 0
        while True:
            try:
                done = yield from self._read(opened)
            except (NetworkError, StreamCut) as exc:
                if self._cancelled.is_set() and self._parser.stop_reason is None:
                    yield StreamStop("cancelled")  # we closed the stream ourselves
                    return
                if self._parser.stop_reason is not None or self._parser.error is not None:
                    # The run had ended; only the usage and `[DONE]` after it were lost.
                    self._parser.finish(done=False)
                    return
                if not self._can_resume(resumes):
                    raise
                done, cut = False, exc
            else:
                if self._cancelled.is_set() and self._parser.stop_reason is None:
                    yield StreamStop("cancelled")
                    return
                if self._parser.stop_reason is not None or self._parser.error is not None:
                    self._parser.finish(done=done)
                    return
                if not self._can_resume(resumes):
                    self._parser.finish(done=done)
                    return
                cut = None
            # The connection dropped (or the server ended the stream early) mid-run: reattach.
            resumes += 1
            yield StreamReconnecting(resumes)
            if self._cancelled.wait(_RESUME_BACKOFF[min(resumes, len(_RESUME_BACKOFF)) - 1]):
                yield StreamStop("cancelled")
                return
            try:
                opened = self._client._open_resume(
                    self._agent_id,
                    self._conversation_id,
                    run_id=self._parser.run_id,
                    otid=self._otid,
                    starting_after=self._parser.seq_id if self._parser.run_id else None,
                )
            except LettaError as exc:
                transient = isinstance(exc, (NetworkError, ServerError, ServiceUnavailable))
                if transient and resumes < RESUME_ATTEMPTS:
                    opened = None  # try again after the next backoff
                    continue
                # The run can no longer be reattached (gone from the server's stream store):
                # what the user has is a cut reply, not whatever this refusal says.
                raise cut or StreamCut(
                    "The connection broke while the reply was streaming; the reply may be"
                    " incomplete."
                ) from None

    def _can_resume(self, resumes: int) -> bool:
        return (
            self.background
            and self._accepted
            # by run id from the last seq_id; by otid only while nothing was shown, since
            # that replays the run from its start
            and (
                self._parser.run_id is not None
                or (self._otid is not None and self._parser.chunks == 0)
            )
            and resumes < RESUME_ATTEMPTS
        )

    def _open_first(self) -> Stream[object] | None:
        client = self._client
        if self._body is None:  # a Retry reattaching to the run that carries this otid
            return client._open_resume(
                self._agent_id, self._conversation_id, otid=self._resume_otid
            )
        try:
            return client._open_send(
                self._agent_id, self._conversation_id, self._body, background=self.background
            )
        except ServiceUnavailable as exc:
            if not (self.background and _no_background_mode(exc)):
                raise
            client.background_supported = False
            self.background = False
            return client._open_send(
                self._agent_id, self._conversation_id, self._body, background=False
            )

    def _read(self, opened: Stream[object] | None) -> Iterator[StreamEvent]:
        """Read one HTTP stream to its end; returns True when it ended with `[DONE]`."""
        if opened is None:
            return False
        response = opened.response
        with self._lock:
            self._response = response
            # close() sets the flag before it takes the lock: either it saw this response
            # (and closed it) or we see the flag here.
            closed_early = self._cancelled.is_set()
        if closed_early:
            response.close()
            return False
        self._accepted = True
        try:
            with self._client._translate_errors(stream=True):
                if "text/event-stream" not in response.headers.get("content-type", ""):
                    # Some servers answer a non-streamed JSON body; accept it rather than fail.
                    self._feed_json(response.read())
                    yield from self._pending_json
                    return True
                return (yield from self._read_sse(response))
        finally:
            response.close()

    def _read_sse(self, response: httpx.Response) -> Iterator[StreamEvent]:
        # The SDK's SSE decoder frames the events; each event's JSON is decoded here, one at a
        # time, so one garbage line does not end a reply (the SDK's own Stream raises on it).
        parser = self._parser
        decoder = self._client._sdk._make_sse_decoder()
        for sse in decoder.iter_bytes(_valid_utf8(response.iter_bytes())):
            if self._cancelled.is_set():
                return False
            if sse.data.strip() == "[DONE]":
                return True
            try:
                data = json.loads(sse.data)
            except ValueError:
                if sse.event == "error":
                    parser.error = {"message": sse.data}
                continue
            if sse.event == "error" and isinstance(data, dict):
                inner = data.get("error")
                parser.error = inner if isinstance(inner, dict) else data
                continue
            yield from parser.feed(data)
        return False

    def _feed_json(self, body: bytes) -> None:
        data = self._client._decode_json(body)
        if not isinstance(data, dict):
            raise ServerError("The server sent a reply the app could not read.")
        events: list[StreamEvent] = []
        messages = data.get("messages")
        for message in messages if isinstance(messages, list) else []:
            events.extend(self._parser.feed(message))
        if isinstance(data.get("stop_reason"), dict):
            events.extend(self._parser.feed(data["stop_reason"]))
        self._pending_json = events


def _no_background_mode(exc: ServiceUnavailable) -> bool:
    """The 503 a self-hosted server without Redis gives a `background: true` send."""
    text = f"{exc} {exc.detail or ''}".lower()
    return "redis" in text or "background" in text


SEND_CLOCK_SKEW_S = 15 * 60  # how far behind ours a server's clock may run (retry's history check)


def _epoch(date: str | None) -> float | None:
    """A message's ISO date as epoch seconds (None if missing or unreadable)."""
    parsed = _parse_date(date)
    return parsed.timestamp() if parsed else None


class LettaClient:
    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        *,
        project: str | None = None,
        transport: httpx.BaseTransport | None = None,
        verify: bool | str | ssl.SSLContext = True,
        timeout: httpx.Timeout | None = None,
        stream_timeout: httpx.Timeout | None = None,
    ):
        """`verify`: TLS verification, always on; a path names a custom CA bundle.
        `timeout`: plain requests; `stream_timeout`: the streamed send (its read timeout is the
        longest silence tolerated — the server pings every ~20 s)."""
        self.base_url = normalize_base_url(base_url)
        self.stream_timeout = stream_timeout or httpx.Timeout(
            connect=15.0, write=120.0, read=90.0, pool=15.0
        )
        # History pages carry inline base64 images: give them longer than other requests.
        self._history_timeout = timeout or httpx.Timeout(60.0, connect=10.0)
        #: False once the server said it cannot run sends in the background (no Redis).
        self.background_supported: bool | None = None
        # Kept only to scrub it out of error text a server might echo back.
        self._secret = api_key if api_key and len(api_key) >= 6 else None
        if isinstance(verify, str):  # a CA bundle: verification stays on, with these roots
            try:
                verify = ssl.create_default_context(cafile=verify)
            except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
                # Every request then fails with this sentence; verification is never dropped.
                transport = _Refusing(
                    ConnectionFailed(
                        f"The CA bundle “{os.path.basename(verify)}” (LETTA_CA_BUNDLE) could not"
                        f" be read as PEM certificates ({type(exc).__name__}), so no secure"
                        " connection can be made. Fix the file or unset LETTA_CA_BUNDLE."
                    )
                )
                verify = True
        self._timeout = timeout or httpx.Timeout(connect=10.0, read=30.0, write=60.0, pool=10.0)
        self._http = httpx.Client(
            transport=transport,
            verify=verify,
            timeout=self._timeout,
            follow_redirects=False,  # a redirect to another origin must never carry the key
        )
        self._api_key = api_key
        self._project: str | None = None
        self._sdk_lock = threading.Lock()
        self._sdk_pair: tuple[Letta, Letta] | None = None
        self.set_project(project)

    @property
    def _sdk(self) -> Letta:
        """The SDK client for reads (retries allowed). Built on first use — always on a worker:
        importing the SDK takes ~0.3 s (its pydantic models) and must not freeze the window."""
        return self._sdk_clients()[0]

    @property
    def _once(self) -> Letta:
        """The same SDK client with no automatic retries, for everything that writes."""
        return self._sdk_clients()[1]

    def _sdk_clients(self) -> tuple[Letta, Letta]:
        pair = self._sdk_pair
        if pair is not None:
            return pair
        with self._sdk_lock:
            if self._sdk_pair is None:
                sdk = load_sdk().Letta(
                    api_key=self._api_key or "",
                    base_url=self.base_url,
                    http_client=self._http,
                    max_retries=GET_RETRIES,
                    timeout=self._timeout,
                )
                # `with_options` builds its copy from the environment's LETTA_API_KEY when the
                # key is empty, so the copy is made first and both lose the key after.
                once = sdk.with_options(max_retries=0)
                if not self._api_key:
                    sdk.api_key = None  # no Authorization header (and never LETTA_API_KEY's)
                    once.api_key = None
                # Published only once it carries the project: the fast path above reads it
                # without the lock.
                self._apply_project((sdk, once))
                self._sdk_pair = (sdk, once)
            return self._sdk_pair

    def close(self) -> None:
        self._http.close()

    def set_project(self, project: str | None) -> None:
        """Letta Cloud's project for later requests (a server profile's project): an id goes
        out as `X-Project-Id`, a slug as the older `X-Project`."""
        with self._sdk_lock:  # not between a first build's project and its publishing
            self._project = (project or "").strip() or None
            if self._sdk_pair is not None:
                self._apply_project(self._sdk_pair)

    def _apply_project(self, pair: tuple[Letta, Letta]) -> None:
        project = self._project
        is_id = bool(project and _PROJECT_ID.match(project))
        for sdk in pair:
            sdk.project_id = project if is_id else None
            sdk.project = None if is_id else project

    # -- plumbing ------------------------------------------------------------------------

    class _ErrorScope:
        def __init__(self, client: LettaClient, stream: bool, what: str):
            self.client, self.stream, self.what = client, stream, what

        def __enter__(self) -> None:
            return None

        def __exit__(self, exc_type, exc, tb) -> bool:
            if exc is None or isinstance(exc, LettaError):
                return False
            import letta_client  # loaded already: an SDK call raised this

            if isinstance(exc, letta_client.APIStatusError):
                if exc.status_code < 300:
                    return False  # an error event inside a stream: the stream reader decides
                raise self.client._scrub(self.client._status_error(exc, self.what)) from None
            if isinstance(exc, letta_client.APIConnectionError):
                cause = exc.__cause__
                if isinstance(cause, LettaError):  # raised by our own transport
                    raise cause from None
                if isinstance(exc, letta_client.APITimeoutError) and not isinstance(
                    cause, httpx.TimeoutException
                ):
                    cause = httpx.ReadTimeout(str(exc))
                if isinstance(cause, httpx.HTTPError):
                    raise self.client._map_transport_error(cause, self.stream) from None
                raise self.client._map_transport_error(
                    httpx.ConnectError(str(exc)), self.stream
                ) from None
            if isinstance(exc, httpx.HTTPError):
                raise self.client._map_transport_error(exc, self.stream) from None
            if isinstance(exc, (json.JSONDecodeError, UnicodeDecodeError)) and self.stream:
                raise ServerError("The server sent a reply stream the app could not read.")
            return False

    def _translate_errors(self, *, stream: bool = False, what: str = "request") -> _ErrorScope:
        return self._ErrorScope(self, stream, what)

    def _status_error(self, exc: Any, what: str) -> LettaError:
        response = exc.response
        try:
            body = response.content
        except httpx.ResponseNotRead:
            body = json.dumps(exc.body).encode() if isinstance(exc.body, dict) else b""
        return error_for_status(
            response.status_code,
            body,
            response.headers.get("content-type", ""),
            response.headers,
            what=what,
        )

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

    def _decode_json(self, body: bytes) -> Any:
        try:
            return json.loads(body)
        except ValueError:
            kind = "a web page" if b"<" in body[:200] else "something that is not JSON"
            raise ServerError(
                f"The server at {self.base_url} answered with {kind} instead of the Letta API;"
                " check the server URL."
            ) from None

    def _call(
        self, method: Callable[..., Any], *args: Any, what: str = "request", **kw: Any
    ) -> Any:
        """Run one SDK call (a `with_raw_response` method) and decode its JSON answer
        defensively: a proxy's HTML page or a wrapped list must not crash the app."""
        try:
            with self._translate_errors(what=what):
                raw = method(*args, **kw)
            response: httpx.Response = raw.http_response
            if not response.content:
                return None
            return self._decode_json(response.content)
        except LettaError as exc:
            self._scrub(exc)
            raise

    def _open_send(
        self, agent_id: str, conversation_id: str, body: dict[str, Any], *, background: bool
    ) -> Stream[object]:
        payload = {**body, "background": background}
        if conversation_id == DEFAULT_CONVERSATION:
            payload["agent_id"] = agent_id
        # The SDK's own `conversations.messages.create` would serialise the body with
        # json.dumps(ensure_ascii=False), holding the GIL ~105 ms for 13 MB of base64 images
        # (measured): the GUI thread freezes that long. The same route through the SDK's
        # request machinery with our spliced bytes holds it ~1 ms.
        with self._translate_errors(what=_owner(conversation_id)):
            return self._once.post(
                f"/v1/conversations/{_path_id(conversation_id)}/messages",
                cast_to=object,
                content=json_body(payload),
                options={
                    "headers": {"Accept": "text/event-stream", "Content-Type": "application/json"},
                    "timeout": self.stream_timeout,
                },
                stream=True,
                stream_cls=_object_stream(),
            )

    def _open_resume(
        self,
        agent_id: str,
        conversation_id: str,
        *,
        run_id: str | None = None,
        otid: str | None = None,
        starting_after: int | None = None,
    ) -> Stream[object]:
        """Reattach to a background run: by `run_id` (from `starting_after`), or by the `otid`
        of the message that started it."""
        args: dict[str, Any] = {"include_pings": True, "timeout": self.stream_timeout}
        if conversation_id == DEFAULT_CONVERSATION:
            args["agent_id"] = agent_id
        if run_id:
            args["run_id"] = run_id
        elif otid:
            args["otid"] = otid
        if starting_after is not None:
            args["starting_after"] = starting_after
        with self._translate_errors(what=_owner(conversation_id)):
            return self._once.conversations.messages.stream(conversation_id, **args)

    # -- API -----------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        data = self._call(self._sdk.with_raw_response.health, what="health check")
        return data if isinstance(data, dict) else {}

    def check_key(self) -> None:
        """A cheap authenticated call; raises AuthError for a bad key."""
        self._call(self._sdk.agents.with_raw_response.list, limit=1, what="agent list")

    def list_agents(
        self, *, limit: int = 50, after: str | None = None, query: str | None = None
    ) -> list[Agent]:
        """A page of agents, the most recently used first."""
        kw: dict[str, Any] = {"limit": limit, "order_by": "last_run_completion", "order": "desc"}
        if after:
            kw["after"] = after
        if query:
            kw["query_text"] = query
        data = self._call(self._sdk.agents.with_raw_response.list, what="agent list", **kw)
        return [Agent.from_json(a) for a in _as_list(data) if isinstance(a, dict) and "id" in a]

    def find_agents(self, tag: str, *, limit: int = 20) -> list[Agent]:
        """The agents carrying `tag` (the app's own helpers), oldest first."""
        data = self._call(
            self._sdk.agents.with_raw_response.list,
            what="agent list",
            tags=[tag],
            limit=limit,
            order="asc",
            order_by="created_at",
        )
        return [Agent.from_json(a) for a in _as_list(data) if isinstance(a, dict) and "id" in a]

    def get_agent(self, agent_id: str) -> Agent:
        # With its tools: an approval request for a tool the agent lacks is another app's
        # (Letta Code's client-side tools), which this app can only deny.
        data = self._call(
            self._sdk.agents.with_raw_response.retrieve,
            agent_id,
            include=["agent.tools"],
            what="agent",
        )
        return _agent(data)

    def update_agent_model(
        self, agent_id: str, handle: str, context_window: int | None = None
    ) -> Agent:
        """Switch the agent's model. With the model's context window: without it the server
        re-derives one and clamps it to a legacy 128k default."""
        kw: dict[str, Any] = {"model": handle}
        if context_window:
            kw["context_window_limit"] = context_window
        data = self._call(self._once.agents.with_raw_response.update, agent_id, what="agent", **kw)
        return _agent(data)

    def list_models(self) -> list[ModelInfo]:
        data = self._call(self._sdk.models.with_raw_response.list, what="model list")
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
        kw: dict[str, Any] = {"limit": limit, "order": "desc", "timeout": self._history_timeout}
        if before:
            kw["before"] = before
        if conversation_id:
            if conversation_id == DEFAULT_CONVERSATION:
                kw["agent_id"] = agent_id
            data = self._call(
                self._sdk.conversations.messages.with_raw_response.list,
                conversation_id,
                what=_owner(conversation_id),
                **kw,
            )
        else:
            data = self._call(
                self._sdk.agents.messages.with_raw_response.list, agent_id, what="agent", **kw
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

        Pages back through the history of `conversation_id` (None: every conversation of the
        agent): an agent that ran many tool steps after the message can have put far more than
        one page on top of it. It stops at the start of the history, at `max_pages`, or — when
        `sent_at` (the send's time, epoch seconds) is known — at the first page that is entirely
        older than it (less SEND_CLOCK_SKEW_S, for a server clock that runs behind ours).
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
        """Send a user message and stream the reply (see MessageStream)."""
        message = parts.user_message(otid, content)
        return MessageStream(self, agent_id, _stream_body([message]), conversation_id)

    def stream_approval(
        self,
        agent_id: str,
        decisions: list[ApprovalDecision],
        conversation_id: str | None = None,
    ) -> MessageStream:
        """Answer every pending tool call in one approval message and stream the continuation
        (the tools' results, then the agent's reply). The server wants exactly the pending
        ids answered, else 400 "Invalid tool call IDs" and the agent stays waiting."""
        message = parts.approval_message(decisions)
        return MessageStream(self, agent_id, _stream_body([message]), conversation_id)

    def resume_message(
        self, agent_id: str, otid: str, conversation_id: str | None = None
    ) -> MessageStream:
        """Reattach to the run a sent message started (found by its `otid`): Retry after a cut
        shows the reply instead of sending the message again. Raises (NotFound, BadRequest)
        when the server knows no such run."""
        return MessageStream(self, agent_id, None, conversation_id, resume_otid=otid)

    def cancel_run(
        self, agent_id: str, conversation_id: str | None = None, run_id: str | None = None
    ) -> None:
        """Cancel one run. Without its id (the stream had not named it yet) the conversation's
        own cancel; never the agent-wide cancel, which stops the agent's latest run in any
        conversation — another app's included."""
        if run_id:
            self._call(
                self._once.agents.messages.with_raw_response.cancel,
                agent_id,
                run_ids=[run_id],
                what="agent",
            )
            return
        kw: dict[str, Any] = {}
        conversation_id = conversation_id or DEFAULT_CONVERSATION
        if conversation_id == DEFAULT_CONVERSATION:
            kw["agent_id"] = agent_id
        self._call(
            self._once.conversations.with_raw_response.cancel,
            conversation_id,
            what=_owner(conversation_id),
            **kw,
        )

    # -- conversations (threads inside one agent) -------------------------------------------

    def list_conversations(
        self, agent_id: str, *, limit: int = 50, after: str | None = None
    ) -> list[Conversation]:
        """A page of the agent's conversations, the most recently active first (`after`: the
        last id of the previous page). The default conversation is not listed."""
        kw: dict[str, Any] = {
            "agent_id": agent_id,
            "limit": limit,
            "order": "desc",
            "order_by": "last_message_at",
        }
        if after:
            kw["after"] = after
        data = self._call(
            self._sdk.conversations.with_raw_response.list, what="conversation list", **kw
        )
        items = [c for c in _as_list(data) if isinstance(c, dict) and "id" in c]
        return [Conversation.from_json(c) for c in items]

    def get_conversation(self, conversation_id: str) -> Conversation:
        data = self._call(
            self._sdk.conversations.with_raw_response.retrieve,
            conversation_id,
            what="conversation",
        )
        return _conversation(data)

    def update_conversation_model(
        self, conversation_id: str, handle: str, context_window: int | None = None
    ) -> Conversation:
        """Switch the model of a conversation that has its own (it overrides the agent's)."""
        kw: dict[str, Any] = {"model": handle}
        if context_window:
            kw["context_window_limit"] = context_window
        data = self._call(
            self._once.conversations.with_raw_response.update,
            conversation_id,
            what="conversation",
            **kw,
        )
        return _conversation(data)

    def create_conversation(self, agent_id: str, summary: str | None = None) -> Conversation:
        kw: dict[str, Any] = {"agent_id": agent_id}
        if summary:
            kw["summary"] = summary
        data = self._call(
            self._once.conversations.with_raw_response.create, what="conversation", **kw
        )
        return _conversation(data)

    def delete_conversation(self, conversation_id: str) -> None:
        """Delete a conversation and its messages (0.16.8: 200, then 404 on it; the agent's
        message list no longer holds them)."""
        self._call(
            self._once.conversations.with_raw_response.delete,
            conversation_id,
            what="conversation",
        )

    def create_agent(self, name: str, model: str, **extra: Any) -> Agent:
        data = self._call(
            self._once.agents.with_raw_response.create,
            name=name,
            model=model,
            what="agent",
            **extra,
        )
        return _agent(data)


_PROJECT_ID = re.compile(
    r"^(project-)?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I
)


def _object_stream() -> type[Stream[object]]:
    return load_sdk().Stream[object]


def _owner(conversation_id: str) -> str:
    """What a 404 on a conversation route means: the default conversation is the agent's own,
    so there it is the agent that is gone."""
    return "agent" if conversation_id == DEFAULT_CONVERSATION else "conversation"


def _path_id(value: str) -> str:
    """An id from the server (or the user) as one path segment: never `..` or a slash.

    `quote` leaves dots alone, and httpx resolves a `.` or `..` segment away (`/v1/conversations/
    ../messages` is `/v1/messages`), so a dot-only id has its dots escaped too."""
    segment = quote(value, safe="")
    if segment and not segment.strip("."):
        return segment.replace(".", "%2E")
    return segment


def _stream_body(messages: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "messages": messages,
        "streaming": True,
        "stream_tokens": True,
        "include_pings": True,
        # A compaction during the turn streams as summary/event rows instead of silently.
        "include_compaction_messages": True,
    }


class _Refusing(httpx.BaseTransport):
    """A transport that sends nothing and fails every request with one error."""

    def __init__(self, error: LettaError):
        self._error = error

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        raise self._error


def _valid_utf8(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """The bytes as valid UTF-8 (bad sequences become U+FFFD): the SDK's SSE decoder raises
    on them, which would end a reply at one bad line instead of skipping that event."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    for chunk in chunks:
        yield decoder.decode(chunk).encode()
    yield decoder.decode(b"", final=True).encode()


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
    """An ISO date from the server, always with a zone (the server writes UTC, with or
    without saying so), so that any two compare."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _conversation(data: Any) -> Conversation:
    if not isinstance(data, dict) or "id" not in data:
        raise ServerError("The server sent a conversation the app could not read.")
    return Conversation.from_json(data)


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
