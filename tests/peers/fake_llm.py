"""A deterministic OpenAI-compatible fake LLM for the end-to-end tests (stdlib only).

Run it stand-alone::

    python -m tests.peers.fake_llm --port 0 --record /tmp/llm.jsonl

(it prints ``fake-llm listening on http://127.0.0.1:<port>/v1`` once it accepts requests), or
start it as a child process with :func:`start_subprocess`.

Endpoints
---------
- ``GET /v1/models``: ``gpt-4o-mini`` (vision) and ``gpt-3.5-turbo`` (text only).
- ``POST /v1/chat/completions``: ``stream`` false (one JSON body) or true (SSE chunks, the reply
  split in several small deltas, then ``data: [DONE]``).
- ``POST /v1/embeddings``: deterministic unit vectors (1536 dims unless ``dimensions`` is given),
  as float lists or base64 float32 (``encoding_format``).

Every response carries ``Connection: close`` (works around a Letta 0.16.8 bug: the server never
closes its per-call OpenAI clients, and a late close of a kept-alive socket stalls a database
connection for ~60 s).

Every request is appended to the record file as one JSON line
``{"ts": <unix time>, "method": ..., "path": ..., "headers": {...}, "body": <parsed JSON>}``
and flushed at once.

The reply
---------
It describes the LAST user message of the request::

    Echo: <the text parts, joined with a newline, magic words left in>
    image 1: image/png 1568x882 412345 bytes sha256=<64 hex digits>
    image 2: ...

(an image whose data URL cannot be decoded shows ``image N: <media type> undecodable``; an
``http(s)`` URL that was not turned into a data URL shows ``image N: url <url>``.)
When the last message of the request is a tool result (the agent loop calls the LLM again after a
tool ran), the reply is ``Tool result: <content>`` instead, as plain content (after parallel calls,
one such line per trailing tool result, in order).

Magic words in the user text
----------------------------
- ``[[long N]]``: append N words (``w1 w2 ... wN``) on a new line; streamed one word per delta.
- ``[[slow S]]``: sleep S seconds (float) before every streamed delta (cancel tests).
- ``[[approval]]`` or ``[[approval TOOL]]``: answer with a call of tool TOOL (default: the first
  offered tool that is not one of Letta's built-ins, else the first offered tool); arguments are
  filled from the tool's JSON schema (see :func:`approval_tool_call`, the hook to adapt).
- ``[[parallel_approval]]`` or ``[[parallel_approval TOOL_A TOOL_B]]``: answer with TWO tool calls
  in ONE response (each with its own ``call_…`` id; streamed as OpenAI streams parallel calls:
  call 0's head and argument pieces, then call 1's, ``index`` 0 and 1). Default tools: the first
  two offered tools that are not Letta built-ins (the same one twice when only one is offered);
  string arguments are the reply plus `` (call 1)`` / `` (call 2)`` (see
  :func:`parallel_approval_tool_calls`). The server sends ``parallel_tool_calls: false``; the
  fake LLM ignores that, like a provider that does not honour it.
- ``[[status N]]``: answer HTTP N with an OpenAI-style error body (e.g. 429, 500, 400).

Models
------
``gpt-3.5-turbo`` is text-only: a request with any image part gets HTTP 400 exactly as OpenAI
answers it (``Invalid content type. image_url is only supported by certain models.``).

Forced tools
------------
When the request forces a tool (``tool_choice`` ``"required"`` or ``{"type": "function",
"function": {"name": ...}}``), the answer is a call of that tool (``send_message`` when offered
and not named otherwise) carrying the reply as its ``message`` argument.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import os
import re
import struct
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

VISION_MODEL = "gpt-4o-mini"
TEXT_MODEL = "gpt-3.5-turbo"
MODELS = {VISION_MODEL: True, TEXT_MODEL: False}  # id -> accepts images
DEFAULT_EMBEDDING_DIM = 1536
LETTA_BUILTIN_TOOLS = {
    "send_message",
    "conversation_search",
    "archival_memory_search",
    "archival_memory_insert",
    "memory_insert",
    "memory_replace",
    "memory_rethink",
    "memory_finish_edits",
    "core_memory_append",
    "core_memory_replace",
}

_LONG_RE = re.compile(r"\[\[long\s+(\d+)\]\]")
_SLOW_RE = re.compile(r"\[\[slow\s+([0-9]*\.?[0-9]+)\]\]")
_APPROVAL_RE = re.compile(r"\[\[approval(?:\s+([A-Za-z0-9_\-]+))?\]\]")
_PARALLEL_RE = re.compile(
    r"\[\[parallel_approval(?:\s+([A-Za-z0-9_\-]+)\s+([A-Za-z0-9_\-]+))?\s*\]\]"
)
_STATUS_RE = re.compile(r"\[\[status\s+(\d{3})\]\]")
_DATA_URL_RE = re.compile(r"^data:([^;,]*)(;[^,]*)?,(.*)$", re.DOTALL)


# --------------------------------------------------------------------------------------------
# Image inspection (headers only, stdlib)
# --------------------------------------------------------------------------------------------


def image_dimensions(data: bytes) -> tuple[int, int] | None:
    """Width and height from a PNG, JPEG, GIF or WebP header; None when not recognised."""
    try:
        if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR":
            w, h = struct.unpack(">II", data[16:24])
            return w, h
        if data[:6] in (b"GIF87a", b"GIF89a"):
            w, h = struct.unpack("<HH", data[6:10])
            return w, h
        if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
            chunk = data[12:16]
            if chunk == b"VP8X":
                w = int.from_bytes(data[24:27], "little") + 1
                h = int.from_bytes(data[27:30], "little") + 1
                return w, h
            if chunk == b"VP8 ":
                # frame tag (3) + start code (3) then 14-bit width/height
                w, h = struct.unpack("<HH", data[26:30])
                return w & 0x3FFF, h & 0x3FFF
            if chunk == b"VP8L":
                b = data[21:25]
                w = 1 + (((b[1] & 0x3F) << 8) | b[0])
                h = 1 + (((b[3] & 0x0F) << 10) | (b[2] << 2) | ((b[1] & 0xC0) >> 6))
                return w, h
            return None
        if data[:2] == b"\xff\xd8":
            i = 2
            n = len(data)
            while i + 4 <= n:
                if data[i] != 0xFF:
                    i += 1
                    continue
                marker = data[i + 1]
                if marker == 0xFF:
                    i += 1
                    continue
                if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
                    i += 2
                    continue
                seg_len = struct.unpack(">H", data[i + 2 : i + 4])[0]
                if marker in (
                    0xC0,
                    0xC1,
                    0xC2,
                    0xC3,
                    0xC5,
                    0xC6,
                    0xC7,
                    0xC9,
                    0xCA,
                    0xCB,
                    0xCD,
                    0xCE,
                    0xCF,
                ):
                    h, w = struct.unpack(">HH", data[i + 5 : i + 9])
                    return w, h
                i += 2 + seg_len
            return None
    except (struct.error, IndexError):
        return None
    return None


def describe_image(index: int, url: str) -> tuple[str, dict[str, Any]]:
    """One reply line and a machine-readable dict for an image_url part."""
    m = _DATA_URL_RE.match(url or "")
    if not m:
        return f"image {index}: url {url}", {"index": index, "url": url}
    media_type = m.group(1) or "text/plain"
    params = m.group(2) or ""
    payload = m.group(3)
    try:
        if ";base64" in params:
            data = base64.b64decode(payload, validate=False)
        else:
            from urllib.parse import unquote_to_bytes

            data = unquote_to_bytes(payload)
    except (binascii.Error, ValueError):
        info = {"index": index, "media_type": media_type}
        return f"image {index}: {media_type} undecodable", info
    dims = image_dimensions(data)
    digest = hashlib.sha256(data).hexdigest()
    dim_text = f"{dims[0]}x{dims[1]}" if dims else "?x?"
    line = f"image {index}: {media_type} {dim_text} {len(data)} bytes sha256={digest}"
    info = {
        "index": index,
        "media_type": media_type,
        "width": dims[0] if dims else None,
        "height": dims[1] if dims else None,
        "size": len(data),
        "sha256": digest,
    }
    return line, info


# --------------------------------------------------------------------------------------------
# Request analysis
# --------------------------------------------------------------------------------------------


def _parts(content: Any) -> list[dict[str, Any]]:
    if content is None:
        return []
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    if isinstance(content, list):
        return [p if isinstance(p, dict) else {"type": "text", "text": str(p)} for p in content]
    return [{"type": "text", "text": str(content)}]


def last_user_message(messages: list[dict[str, Any]]) -> tuple[int, dict[str, Any] | None]:
    for i in range(len(messages) - 1, -1, -1):
        if messages[i].get("role") == "user":
            return i, messages[i]
    return -1, None


def first_image_position(messages: list[dict[str, Any]]) -> tuple[int, int] | None:
    for mi, msg in enumerate(messages):
        for pi, part in enumerate(_parts(msg.get("content"))):
            if part.get("type") == "image_url":
                return mi, pi
    return None


def user_text(msg: dict[str, Any] | None) -> str:
    if not msg:
        return ""
    return "\n".join(
        str(p.get("text", "")) for p in _parts(msg.get("content")) if p.get("type") == "text"
    )


def compose_reply(body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The reply text and the parsed directives for a chat request."""
    messages = body.get("messages") or []
    _, msg = last_user_message(messages)
    text = user_text(msg)
    directives: dict[str, Any] = {
        "long": 0,
        "slow": 0.0,
        "approval": None,
        "parallel_approval": None,
        "status": None,
    }
    if m := _LONG_RE.search(text):
        directives["long"] = int(m.group(1))
    if m := _SLOW_RE.search(text):
        directives["slow"] = float(m.group(1))
    if m := _APPROVAL_RE.search(text):
        directives["approval"] = m.group(1) or ""
    if m := _PARALLEL_RE.search(text):
        directives["parallel_approval"] = [m.group(1), m.group(2)] if m.group(1) else []
    if m := _STATUS_RE.search(text):
        directives["status"] = int(m.group(1))

    if messages and messages[-1].get("role") == "tool":
        # The agent loop came back with a tool's result: finish the turn with plain content.
        directives["tool_result"] = True
        results = []
        for m in reversed(messages):
            if m.get("role") != "tool":
                break
            content = m.get("content")
            results.append(content if isinstance(content, str) else json.dumps(content))
        return "\n".join(f"Tool result: {c}" for c in reversed(results)), directives

    lines = [f"Echo: {text}"]
    images = []
    n = 0
    for part in _parts(msg.get("content") if msg else None):
        if part.get("type") == "image_url":
            n += 1
            iu = part.get("image_url")
            url = iu.get("url") if isinstance(iu, dict) else iu
            line, info = describe_image(n, str(url or ""))
            lines.append(line)
            images.append(info)
    directives["images"] = images
    if directives["long"]:
        lines.append(" ".join(f"w{i}" for i in range(1, directives["long"] + 1)))
    return "\n".join(lines), directives


def forced_tool_name(body: dict[str, Any]) -> str | None:
    """The tool name a request forces, or None when the model may answer with plain content."""
    choice = body.get("tool_choice")
    tools = body.get("tools") or []
    names = [t.get("function", {}).get("name") for t in tools if isinstance(t, dict)]
    if isinstance(choice, dict):
        fn = choice.get("function") or {}
        if fn.get("name"):
            return fn["name"]
        if choice.get("name"):
            return choice["name"]
    if choice in ("required", "any") and names:
        return "send_message" if "send_message" in names else names[0]
    return None


def _tool_schema(body: dict[str, Any], name: str) -> dict[str, Any]:
    for t in body.get("tools") or []:
        fn = t.get("function", {}) if isinstance(t, dict) else {}
        if fn.get("name") == name:
            return fn.get("parameters") or {}
    return {}


def fill_arguments(schema: dict[str, Any], message: str) -> dict[str, Any]:
    """Arguments satisfying a tool's JSON schema; string fields get ``message``."""
    props = schema.get("properties") or {}
    required = schema.get("required") or list(props)
    args: dict[str, Any] = {}
    for key in required:
        spec = props.get(key, {})
        typ = spec.get("type")
        if isinstance(typ, list):
            typ = next((t for t in typ if t != "null"), "string")
        if key == "message" or typ == "string":
            args[key] = message
        elif typ == "boolean":
            args[key] = False
        elif typ in ("integer", "number"):
            args[key] = 1
        elif typ == "array":
            args[key] = []
        elif typ == "object":
            args[key] = {}
        else:
            args[key] = message
    if "message" in props:
        args["message"] = message
    return args


def approval_tool_call(body: dict[str, Any], wanted: str, reply: str) -> tuple[str, dict] | None:
    """HOOK for ``[[approval]]``: which tool to call and with what arguments.

    ``wanted`` is the name after ``[[approval NAME]]`` ("" when none). Default: that tool if
    offered, else the first offered tool that is not a Letta built-in, else the first tool.
    The agent-side tool (one that requires approval) is set up by the tests.
    """
    tools = body.get("tools") or []
    names = [t.get("function", {}).get("name") for t in tools if isinstance(t, dict)]
    names = [n for n in names if n]
    if not names:
        return None
    if wanted and wanted in names:
        name = wanted
    elif wanted:
        name = wanted  # not offered: call it anyway, the server reports it
    else:
        custom = [n for n in names if n not in LETTA_BUILTIN_TOOLS]
        name = custom[0] if custom else names[0]
    return name, fill_arguments(_tool_schema(body, name), reply)


def parallel_approval_tool_calls(
    body: dict[str, Any], wanted: list[str], reply: str
) -> list[tuple[str, dict]]:
    """HOOK for ``[[parallel_approval]]``: the two tool calls of one response.

    ``wanted`` is ``[TOOL_A, TOOL_B]`` from ``[[parallel_approval TOOL_A TOOL_B]]`` (called even
    when not offered, like :func:`approval_tool_call`) or ``[]``: then the first two offered tools
    that are not Letta built-ins, the only one twice, or the first offered tool twice. String
    arguments get ``reply`` plus `` (call 1)`` / `` (call 2)`` so the calls differ.
    """
    tools = body.get("tools") or []
    names = [t.get("function", {}).get("name") for t in tools if isinstance(t, dict)]
    names = [n for n in names if n]
    if wanted:
        chosen = list(wanted[:2])
    else:
        if not names:
            return []
        custom = [n for n in names if n not in LETTA_BUILTIN_TOOLS] or names[:1]
        chosen = (custom * 2)[:2]
    return [
        (name, fill_arguments(_tool_schema(body, name), f"{reply} (call {i})"))
        for i, name in enumerate(chosen, 1)
    ]


# --------------------------------------------------------------------------------------------
# Embeddings
# --------------------------------------------------------------------------------------------


def embedding_vector(text: str, dims: int) -> list[float]:
    """A deterministic unit vector for ``text``."""
    out: list[float] = []
    counter = 0
    seed = text.encode("utf-8")
    while len(out) < dims:
        block = hashlib.sha256(seed + counter.to_bytes(4, "big")).digest()
        for i in range(0, len(block), 2):
            out.append((int.from_bytes(block[i : i + 2], "big") / 65535.0) * 2.0 - 1.0)
        counter += 1
    out = out[:dims]
    norm = sum(x * x for x in out) ** 0.5 or 1.0
    return [x / norm for x in out]


# --------------------------------------------------------------------------------------------
# HTTP server
# --------------------------------------------------------------------------------------------


class FakeLLMServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr: tuple[str, int], record_path: str | os.PathLike | None):
        super().__init__(addr, _Handler)
        self.record_path = Path(record_path) if record_path else None
        self._record_lock = threading.Lock()
        self._record_file = open(self.record_path, "a", encoding="utf-8") if record_path else None  # noqa: SIM115

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/v1"

    def record(self, entry: dict[str, Any]) -> None:
        if self._record_file is None:
            return
        line = json.dumps(entry, ensure_ascii=False)
        with self._record_lock:
            self._record_file.write(line + "\n")
            self._record_file.flush()

    def server_close(self) -> None:
        super().server_close()
        if self._record_file is not None:
            self._record_file.close()
            self._record_file = None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FakeLLMServer
    server_version = "fake-llm/1"

    def log_message(self, format: str, *args: Any) -> None:
        if os.environ.get("FAKE_LLM_VERBOSE"):
            super().log_message(format, *args)

    # -- helpers ---------------------------------------------------------------------------

    def _read_body(self) -> tuple[Any, bytes]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            return (json.loads(raw) if raw else None), raw
        except ValueError:
            return None, raw

    def _record(self, body: Any, raw: bytes) -> None:
        entry = {
            "ts": time.time(),
            "method": self.command,
            "path": self.path,
            "headers": {
                k.lower(): v for k, v in self.headers.items() if k.lower() != "authorization"
            },
            "body": body if body is not None else raw.decode("utf-8", "replace"),
        }
        self.server.record(entry)

    def _send_json(self, status: int, obj: Any) -> None:
        data = json.dumps(obj).encode("utf-8")
        self.close_connection = True
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def _error(
        self,
        status: int,
        message: str,
        typ: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
    ) -> None:
        self._send_json(
            status, {"error": {"message": message, "type": typ, "param": param, "code": code}}
        )

    # -- routes ----------------------------------------------------------------------------

    def do_GET(self) -> None:
        self._record(None, b"")
        path = self.path.split("?", 1)[0].rstrip("/")
        if path in ("/v1/models", "/models"):
            now = int(time.time())
            data = [
                {"id": mid, "object": "model", "created": now, "owned_by": "fake-llm"}
                for mid in MODELS
            ]
            self._send_json(200, {"object": "list", "data": data})
        elif path.startswith(("/v1/models/", "/models/")):
            mid = path.rsplit("/", 1)[1]
            if mid in MODELS:
                self._send_json(
                    200, {"id": mid, "object": "model", "created": 0, "owned_by": "fake-llm"}
                )
            else:
                self._error(404, f"The model `{mid}` does not exist", code="model_not_found")
        elif path in ("", "/health", "/v1/health"):
            self._send_json(200, {"status": "ok"})
        else:
            self._error(404, f"Unknown path {self.path}")

    def do_POST(self) -> None:
        body, raw = self._read_body()
        self._record(body, raw)
        path = self.path.split("?", 1)[0].rstrip("/")
        if not isinstance(body, dict):
            self._error(400, "We could not parse the JSON body of your request.")
            return
        if path in ("/v1/chat/completions", "/chat/completions"):
            self._chat(body)
        elif path in ("/v1/embeddings", "/embeddings"):
            self._embeddings(body)
        else:
            self._error(404, f"Unknown path {self.path}")

    # -- embeddings -------------------------------------------------------------------------

    def _embeddings(self, body: dict[str, Any]) -> None:
        inputs = body.get("input")
        if isinstance(inputs, str) or (
            isinstance(inputs, list) and inputs and isinstance(inputs[0], int)
        ):
            inputs = [inputs]
        inputs = list(inputs or [])
        dims = int(body.get("dimensions") or DEFAULT_EMBEDDING_DIM)
        b64 = body.get("encoding_format") == "base64"
        data = []
        tokens = 0
        for i, item in enumerate(inputs):
            text = item if isinstance(item, str) else json.dumps(item)
            tokens += max(1, len(text.split()))
            vec = embedding_vector(text, dims)
            emb: Any = vec
            if b64:
                emb = base64.b64encode(struct.pack(f"<{dims}f", *vec)).decode("ascii")
            data.append({"object": "embedding", "index": i, "embedding": emb})
        self._send_json(
            200,
            {
                "object": "list",
                "data": data,
                "model": body.get("model", "text-embedding-3-small"),
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            },
        )

    # -- chat ------------------------------------------------------------------------------

    def _chat(self, body: dict[str, Any]) -> None:
        model = body.get("model") or VISION_MODEL
        messages = body.get("messages") or []
        if model not in MODELS:
            self._error(
                404,
                f"The model `{model}` does not exist or you do not have access to it.",
                code="model_not_found",
            )
            return
        if not MODELS[model]:
            pos = first_image_position(messages)
            if pos is not None:
                self._error(
                    400,
                    "Invalid content type. image_url is only supported by certain models.",
                    param=f"messages.[{pos[0]}].content.[{pos[1]}].type",
                )
                return
        reply, directives = compose_reply(body)
        status = directives.get("status")
        if status and not directives.get("tool_result"):
            typ = {429: "rate_limit_error", 401: "authentication_error"}.get(
                status, "server_error" if status >= 500 else "invalid_request_error"
            )
            self._error(status, f"Scripted error {status} from fake LLM.", typ=typ)
            return

        tool_calls: list[tuple[str, dict]] = []
        if not directives.get("tool_result"):
            if directives.get("parallel_approval") is not None:
                tool_calls = parallel_approval_tool_calls(
                    body, directives["parallel_approval"], reply
                )
            if not tool_calls and directives.get("approval") is not None:
                one = approval_tool_call(body, directives["approval"], reply)
                tool_calls = [one] if one else []
            if not tool_calls and (forced := forced_tool_name(body)):
                tool_calls = [(forced, fill_arguments(_tool_schema(body, forced), reply))]
        elif forced := forced_tool_name(body):
            tool_calls = [(forced, fill_arguments(_tool_schema(body, forced), reply))]

        prompt_tokens = max(1, len(json.dumps(messages)) // 4)
        completion_tokens = max(1, len(reply.split()))
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }
        cid = "chatcmpl-" + uuid.uuid4().hex[:24]
        created = int(time.time())
        if body.get("stream"):
            self._stream(
                cid,
                created,
                model,
                reply,
                tool_calls,
                directives,
                usage,
                bool((body.get("stream_options") or {}).get("include_usage")),
            )
            return
        message: dict[str, Any] = {"role": "assistant", "content": reply, "refusal": None}
        finish = "stop"
        if tool_calls:
            message["content"] = None
            message["tool_calls"] = [
                {
                    "id": "call_" + uuid.uuid4().hex[:24],
                    "type": "function",
                    "function": {"name": name, "arguments": json.dumps(args)},
                }
                for name, args in tool_calls
            ]
            finish = "tool_calls"
        self._send_json(
            200,
            {
                "id": cid,
                "object": "chat.completion",
                "created": created,
                "model": model,
                "choices": [
                    {"index": 0, "message": message, "logprobs": None, "finish_reason": finish}
                ],
                "usage": usage,
                "system_fingerprint": "fp_fake",
            },
        )

    @staticmethod
    def _split(text: str, by_word: bool) -> list[str]:
        if by_word:
            return re.findall(r"\S+\s*|\s+", text) or [text]
        size = max(1, min(12, len(text) // 4 or 1))
        return [text[i : i + size] for i in range(0, len(text), size)] or [""]

    def _stream(
        self,
        cid: str,
        created: int,
        model: str,
        reply: str,
        tool_calls: list[tuple[str, dict]],
        directives: dict[str, Any],
        usage: dict[str, int],
        include_usage: bool,
    ) -> None:
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        slow = float(directives.get("slow") or 0.0)

        def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            return {
                "id": cid,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "system_fingerprint": "fp_fake",
                "choices": [
                    {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
                ],
            }

        def send(obj: Any) -> None:
            payload = obj if isinstance(obj, str) else json.dumps(obj)
            self.wfile.write(f"data: {payload}\n\n".encode())
            self.wfile.flush()

        try:
            if not tool_calls:
                send(chunk({"role": "assistant", "content": "", "refusal": None}))
                for piece in self._split(reply, by_word=bool(directives.get("long"))):
                    if slow:
                        time.sleep(slow)
                    send(chunk({"content": piece}))
                send(chunk({}, "stop"))
            else:
                # One call after the other, as OpenAI streams parallel calls: the call's head
                # (index, id, name), then its argument pieces.
                for index, (name, args) in enumerate(tool_calls):
                    head: dict[str, Any] = {
                        "tool_calls": [
                            {
                                "index": index,
                                "id": "call_" + uuid.uuid4().hex[:24],
                                "type": "function",
                                "function": {"name": name, "arguments": ""},
                            }
                        ]
                    }
                    if index == 0:
                        head = {"role": "assistant", "content": None, **head}
                    send(chunk(head))
                    for piece in self._split(json.dumps(args), by_word=False):
                        if slow:
                            time.sleep(slow)
                        send(
                            chunk(
                                {"tool_calls": [{"index": index, "function": {"arguments": piece}}]}
                            )
                        )
                send(chunk({}, "tool_calls"))
            if include_usage:
                send(
                    {
                        "id": cid,
                        "object": "chat.completion.chunk",
                        "created": created,
                        "model": model,
                        "choices": [],
                        "usage": usage,
                    }
                )
            send("[DONE]")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client went away (cancel); nothing more to do


# --------------------------------------------------------------------------------------------
# Running it
# --------------------------------------------------------------------------------------------


def make_server(
    port: int = 0, record: str | os.PathLike | None = None, host: str = "127.0.0.1"
) -> FakeLLMServer:
    return FakeLLMServer((host, port), record)


def start_in_thread(
    port: int = 0, record: str | os.PathLike | None = None
) -> tuple[FakeLLMServer, threading.Thread]:
    """Serve in a daemon thread of this process (for quick unit tests); stop with
    ``server.shutdown(); server.server_close()``."""
    server = make_server(port, record)
    thread = threading.Thread(target=server.serve_forever, name="fake-llm", daemon=True)
    thread.start()
    return server, thread


def start_subprocess(
    record: str | os.PathLike,
    port: int = 0,
    python: str | None = None,
    log: str | os.PathLike | None = None,
    timeout: float = 15.0,
) -> tuple[subprocess.Popen, str]:
    """Start the fake LLM as a child process; returns (process, base URL ending in /v1).

    The caller stops it with ``proc.terminate()`` / ``proc.kill()`` (by PID).
    """
    repo_root = Path(__file__).resolve().parents[2]
    cmd = [
        python or sys.executable,
        "-u",
        "-m",
        "tests.peers.fake_llm",
        "--port",
        str(port),
        "--record",
        str(record),
    ]
    env = dict(os.environ)
    env["PYTHONPATH"] = str(repo_root) + os.pathsep + env.get("PYTHONPATH", "")
    stderr = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115
    try:
        proc = subprocess.Popen(
            cmd,
            cwd=str(repo_root),
            env=env,
            stdout=subprocess.PIPE,
            stderr=stderr,
            stdin=subprocess.DEVNULL,
        )
    finally:
        if log:
            stderr.close()
    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    line = b""
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        m = re.search(rb"listening on (http://\S+)", line)
        if m:
            # Keep draining stdout in the background so the child never blocks on a full pipe.
            threading.Thread(target=lambda: proc.stdout.read(), daemon=True).start()
            return proc, m.group(1).decode()
    proc.kill()
    proc.wait()
    raise RuntimeError(f"fake LLM did not start (last output {line!r})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 = pick a free port")
    parser.add_argument("--record", default=None, help="append every request here (JSON lines)")
    args = parser.parse_args(argv)
    server = make_server(args.port, args.record, args.host)
    print(f"fake-llm listening on {server.base_url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
