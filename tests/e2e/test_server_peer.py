"""Plain-HTTP proof that the peer stack behaves as the client expects (no Qt).

Facts pinned here (Letta 0.16.8 + tests/peers/fake_llm.py):
- token streaming on POST /v1/agents/{id}/messages, the 422 trap for raw HTTP clients,
- base64 images reach the LLM byte-identical and come back from history as ``source.type: letta``,
- a text-only model's 400 becomes an in-stream ``llm_api_error`` + ``error_message``,
- cancel works on the self-hosted server without Redis.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import threading
import time
import uuid
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import SDK_HEADERS, TEXT_MODEL, VISION_MODEL

STREAM_FLAGS = {"streaming": True, "stream_tokens": True, "include_pings": True}


def user_message(text: str, *images: tuple[str, bytes]) -> dict[str, Any]:
    content: list[dict[str, Any]] = [{"type": "text", "text": text}]
    for media_type, data in images:
        content.append(
            {
                "type": "image",
                "source": {
                    "type": "base64",
                    "media_type": media_type,
                    "data": base64.b64encode(data).decode(),
                },
            }
        )
    return {"type": "message", "role": "user", "otid": str(uuid.uuid4()), "content": content}


def read_sse(response: httpx.Response) -> list[tuple[str, str]]:
    """(event name, data) pairs; event name is "message" unless an ``event:`` line set it."""
    events: list[tuple[str, str]] = []
    name, data = "message", []
    for line in response.iter_lines():
        if line == "":
            if data:
                events.append((name, "\n".join(data)))
            name, data = "message", []
        elif line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].lstrip())
    if data:
        events.append((name, "\n".join(data)))
    return events


def stream_message(
    client: httpx.Client,
    agent_id: str,
    message: dict[str, Any],
    headers: dict[str, str] | None = None,
) -> list[tuple[str, Any]]:
    """POST a streaming message; returns [(event, parsed JSON or "[DONE]")]."""
    with client.stream(
        "POST",
        f"/v1/agents/{agent_id}/messages",
        json={"messages": [message], **STREAM_FLAGS},
        headers=SDK_HEADERS if headers is None else headers,
    ) as r:
        assert r.status_code == 200, r.read().decode()
        assert r.headers["content-type"].startswith("text/event-stream")
        raw = read_sse(r)
    return [(ev, data if data == "[DONE]" else json.loads(data)) for ev, data in raw]


def assistant_text(events: list[tuple[str, Any]]) -> str:
    parts = []
    for _, e in events:
        if isinstance(e, dict) and e.get("message_type") == "assistant_message":
            c = e.get("content")
            parts.append(c if isinstance(c, str) else "".join(p.get("text", "") for p in c))
    return "".join(parts)


def make_png(width: int = 320, height: int = 200) -> bytes:
    from PIL import Image

    img = Image.new("RGB", (width, height))
    img.putdata(
        [
            ((x * 255) // width, (y * 255) // height, (x ^ y) & 255)
            for y in range(height)
            for x in range(width)
        ]
    )
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def http(letta_stack):
    with letta_stack.http() as c:
        yield c


# -------------------------------------------------------------------------------------------


def test_health(http):
    r = http.get("/v1/health/")
    assert r.status_code == 200
    assert r.json() == {"version": "0.16.8", "status": "ok"}


def test_models_list_shows_fake_llm_models(http):
    r = http.get("/v1/models/")
    assert r.status_code == 200
    handles = {m["handle"] for m in r.json()}
    assert {VISION_MODEL, TEXT_MODEL} <= handles
    # The server also lists Letta's hosted free model (unreachable here) – clients must cope.
    assert handles - {VISION_MODEL, TEXT_MODEL} <= {"letta/letta-free"}


def test_create_agent(letta_stack, letta_agent):
    assert letta_agent["id"].startswith("agent-")
    assert letta_agent["agent_type"] == "letta_v1_agent"
    assert letta_agent["model"] == VISION_MODEL
    assert letta_agent["embedding"] == letta_stack.embedding_handle
    with letta_stack.http() as c:
        got = c.get(f"/v1/agents/{letta_agent['id']}").json()
    assert got["llm_config"]["handle"] == VISION_MODEL


def test_stream_tokens(letta_stack, letta_agent, http):
    msg = user_message("hello streaming world")
    t0 = time.monotonic()
    events = stream_message(http, letta_agent["id"], msg)
    elapsed = time.monotonic() - t0
    kinds = [e.get("message_type") if isinstance(e, dict) else e for _, e in events]
    chunks = [
        e for _, e in events if isinstance(e, dict) and e.get("message_type") == "assistant_message"
    ]
    assert len(chunks) >= 3, kinds
    assert len({(c["id"], c["otid"]) for c in chunks}) == 1  # one message, many pieces
    assert assistant_text(events) == "Echo: hello streaming world"
    # Normal end: stop_reason end_turn, usage_statistics, then [DONE].
    assert kinds[-3:] == ["stop_reason", "usage_statistics", "[DONE]"], kinds
    stop = next(
        e for _, e in events if isinstance(e, dict) and e.get("message_type") == "stop_reason"
    )
    assert stop["stop_reason"] == "end_turn"
    # The fake LLM saw the text as the last user message, streamed, with tool_choice auto.
    body = letta_stack.chat_requests()[-1]
    assert body["stream"] is True and body["model"] == "gpt-4o-mini"
    assert body["tool_choice"] == "auto"
    assert body["messages"][-1] == {"role": "user", "content": "hello streaming world"}
    assert elapsed < 20, f"a streamed message took {elapsed:.1f} s (stalled connection?)"


def test_long_reply_streams_in_many_deltas(letta_agent, http):
    events = stream_message(http, letta_agent["id"], user_message("count [[long 40]]"))
    chunks = [
        e for _, e in events if isinstance(e, dict) and e.get("message_type") == "assistant_message"
    ]
    text = assistant_text(events)
    assert text.endswith(" ".join(f"w{i}" for i in range(1, 41)))
    assert len(chunks) >= 40


@pytest.mark.parametrize(
    "user_agent",
    ["python-httpx/0.28.1", "letta-desktop/0.1.0", "LettaDesktop", "letta-client/0.1.9"],
)
def test_streaming_without_sdk_header_is_refused(letta_agent, http, user_agent):
    """The raw-HTTP trap: 422 before any agent step runs (nothing reaches the LLM)."""
    r = http.post(
        f"/v1/agents/{letta_agent['id']}/messages",
        json={"messages": [user_message("trap")], **STREAM_FLAGS},
        headers={"User-Agent": user_agent},
    )
    assert r.status_code == 422
    assert r.json() == {"detail": "streaming=true is only supported for SDK v1.0+ clients."}


def test_streaming_allowed_for_sdk_user_agent(letta_agent, http):
    events = stream_message(
        http,
        letta_agent["id"],
        user_message("ua ok"),
        headers={"User-Agent": "letta-client/1.12.1"},
    )
    assert assistant_text(events) == "Echo: ua ok"


def test_non_streaming_needs_no_header(letta_agent, http):
    r = http.post(
        f"/v1/agents/{letta_agent['id']}/messages", json={"messages": [user_message("plain json")]}
    )
    assert r.status_code == 200
    body = r.json()
    assert body["stop_reason"]["stop_reason"] == "end_turn"
    texts = [m["content"] for m in body["messages"] if m["message_type"] == "assistant_message"]
    assert texts == ["Echo: plain json"]
    # Streaming options without streaming=true are a 422 too.
    r = http.post(
        f"/v1/agents/{letta_agent['id']}/messages",
        json={"messages": [user_message("x")], "stream_tokens": True},
    )
    assert r.status_code == 422


def test_base64_image_reaches_llm_and_history(letta_stack, letta_agent, http):
    png = make_png()
    digest = hashlib.sha256(png).hexdigest()
    msg = user_message("what is this?", ("image/png", png))
    events = stream_message(http, letta_agent["id"], msg)
    assert assistant_text(events) == (
        f"Echo: what is this?\nimage 1: image/png 320x200 {len(png)} bytes sha256={digest}"
    )

    # The recorded request: an OpenAI image_url part with a data URL of the identical bytes.
    last_user = letta_stack.chat_requests()[-1]["messages"][-1]
    assert last_user["role"] == "user"
    parts = last_user["content"]
    assert parts[0] == {"type": "text", "text": "what is this?"}
    assert parts[1]["type"] == "image_url"
    url = parts[1]["image_url"]["url"]
    prefix = "data:image/png;base64,"
    assert url.startswith(prefix)
    assert base64.b64decode(url[len(prefix) :]) == png

    # History, newest first: the stored image comes back as source.type "letta" with inline data.
    r = http.get(f"/v1/agents/{letta_agent['id']}/messages", params={"order": "desc", "limit": 10})
    assert r.status_code == 200
    mine = [
        m for m in r.json() if m.get("otid") == msg["otid"] and m["message_type"] == "user_message"
    ]
    assert len(mine) == 1, [m.get("message_type") for m in r.json()]
    image_parts = [p for p in mine[0]["content"] if p["type"] == "image"]
    assert len(image_parts) == 1
    source = image_parts[0]["source"]
    assert source["type"] == "letta"
    assert source["file_id"].startswith("file-")
    assert source["media_type"] == "image/png"
    assert base64.b64decode(source["data"]) == png


def test_text_only_model_image_is_in_stream_llm_api_error(letta_stack, http):
    agent = letta_stack.create_agent(model=TEXT_MODEL)
    try:
        events = stream_message(
            http, agent["id"], user_message("see?", ("image/png", make_png(16, 16)))
        )
    finally:
        letta_stack.delete_agent(agent["id"])
    dicts = [e for _, e in events if isinstance(e, dict)]
    stops = [e["stop_reason"] for e in dicts if e.get("message_type") == "stop_reason"]
    assert stops == ["llm_api_error"]
    errors = [
        (ev, e)
        for ev, e in events
        if isinstance(e, dict) and e.get("message_type") == "error_message"
    ]
    assert len(errors) == 1
    ev, err = errors[0]
    assert ev == "error"
    assert err["error_type"] == "llm_error"
    assert "image_url is only supported by certain models" in err["detail"]
    assert events[-1][1] == "[DONE]"
    assert assistant_text(events) == ""


def test_cancel_stops_a_slow_stream(letta_stack, letta_agent, http):
    """Cancel works on the self-hosted server without Redis (stop_reason cancelled)."""
    agent_id = letta_agent["id"]
    result: dict[str, Any] = {}

    def cancel_soon() -> None:
        time.sleep(1.5)
        with letta_stack.http() as c:
            r = c.post(f"/v1/agents/{agent_id}/messages/cancel")
        result["status"] = r.status_code
        result["body"] = r.json()

    t = threading.Thread(target=cancel_soon)
    t.start()
    t0 = time.monotonic()
    events = stream_message(http, agent_id, user_message("slowly [[slow 0.25]] [[long 60]]"))
    elapsed = time.monotonic() - t0
    t.join()
    assert result["status"] == 200
    assert list(result["body"].values()) == ["cancelled"]
    stops = [
        e["stop_reason"]
        for _, e in events
        if isinstance(e, dict) and e.get("message_type") == "stop_reason"
    ]
    assert stops == ["cancelled"]
    # Observed: a cancelled stream ends right after that stop_reason (no usage, no [DONE]).
    assert events[-1][1]["message_type"] == "stop_reason"
    assert elapsed < 10  # 60 deltas x 0.25 s would take 15 s
    # Nothing runs now: without Redis a second cancel is a 409; with Redis the server finds the
    # agent's last run there and answers 200 {"<that run>": "cancelled"} again.
    r = http.post(f"/v1/agents/{agent_id}/messages/cancel")
    assert r.status_code == (200 if letta_stack.has_redis else 409)


def test_history_order_desc_is_newest_page_in_ascending_order(letta_stack, http):
    """0.16.8 quirk: order=desc selects the NEWEST `limit` messages but returns them oldest
    first (the server reverses twice); order=asc gives the oldest page, oldest first."""
    agent = letta_stack.create_agent()
    try:
        for text in ("first", "second"):
            r = http.post(
                f"/v1/agents/{agent['id']}/messages", json={"messages": [user_message(text)]}
            )
            assert r.status_code == 200
        url = f"/v1/agents/{agent['id']}/messages"
        desc = http.get(url, params={"order": "desc", "limit": 2}).json()
        asc = http.get(url, params={"order": "asc", "limit": 2}).json()
        everything = http.get(url, params={"order": "asc", "limit": 50}).json()
    finally:
        letta_stack.delete_agent(agent["id"])

    assert [m["message_type"] for m in everything] == [
        "system_message",
        "user_message",
        "assistant_message",
        "user_message",
        "assistant_message",
    ]
    assert [m["id"] for m in asc] == [m["id"] for m in everything[:2]]
    assert [m["id"] for m in desc] == [m["id"] for m in everything[-2:]]
