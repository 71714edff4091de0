"""The message parts as the server receives them: the JSON text of the POST body, key order
included (what tests/e2e saw the real server take)."""

from __future__ import annotations

import json

import httpx

from desktop.core.images import PreparedImage
from desktop.core.letta import ApprovalDecision, LettaClient
from desktop.core.letta.parts import (
    image_base64_part,
    image_bytes_part,
    image_url_part,
    text_part,
    user_content,
)

PNG = b"\x89PNG\r\n\x1a\n"  # base64: iVBORw0KGgo=
DONE = b'data: {"message_type": "stop_reason", "stop_reason": "end_turn"}\n\ndata: [DONE]\n\n'


def sent_messages(send) -> str:
    """The `messages` of the POST body as the server reads them, re-serialised compactly in the
    order the keys arrived."""
    bodies: list[bytes] = []

    def answer(request: httpx.Request) -> httpx.Response:
        bodies.append(request.content)
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=DONE)

    client = LettaClient("https://letta.test", "key-123456", transport=httpx.MockTransport(answer))
    list(send(client))
    (body,) = bodies
    return json.dumps(json.loads(body)["messages"], separators=(",", ":"))


def test_a_user_message_with_text_and_every_kind_of_image():
    prepared = PreparedImage("image/png", PNG, 1, 1, 1, 1, "image/png", len(PNG))
    content = user_content(
        "look",
        [
            prepared.to_content_part(),
            image_bytes_part("image/jpeg", PNG),
            image_base64_part("image/webp", "AAAA"),
            prepared.to_content_part("low"),
            image_url_part("https://example.org/cat.png"),
        ],
    )
    wire = sent_messages(lambda c: c.stream_message("agent-1", content, "otid-1"))
    assert wire == (
        '[{"type":"message","role":"user","otid":"otid-1","content":['
        '{"type":"text","text":"look"},'
        '{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}},'
        '{"type":"image","source":{"type":"base64","media_type":"image/jpeg","data":"iVBORw0KGgo="}},'
        '{"type":"image","source":{"type":"base64","media_type":"image/webp","data":"AAAA"}},'
        '{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo=",'
        '"detail":"low"}},'
        '{"type":"image","source":{"type":"url","url":"https://example.org/cat.png"}}]}]'
    )


def test_whitespace_only_text_sends_no_text_part():
    assert user_content("  \n\t", [image_url_part("https://example.org/a.png")]) == [
        {"type": "image", "source": {"type": "url", "url": "https://example.org/a.png"}}
    ]
    assert user_content(" \n") == []
    wire = sent_messages(lambda c: c.stream_message("agent-1", user_content(" hi \n"), "o"))
    text = '{"type":"text","text":" hi \\n"}'
    assert wire == '[{"type":"message","role":"user","otid":"o","content":[' + text + "]}]"


def test_text_part_keeps_the_text_as_typed():
    assert text_part("a\u00a0b ") == {"type": "text", "text": "a\u00a0b "}


def test_one_approval_message_answers_every_call_and_an_empty_reason_is_null():
    decisions = [
        ApprovalDecision("call_1", True),
        ApprovalDecision("call_2", False, "not today"),
        ApprovalDecision("call_3", False, ""),
    ]
    wire = sent_messages(lambda c: c.stream_approval("agent-1", decisions))
    assert wire == (
        '[{"type":"approval","approvals":['
        '{"type":"approval","tool_call_id":"call_1","approve":true,"reason":null},'
        '{"type":"approval","tool_call_id":"call_2","approve":false,"reason":"not today"},'
        '{"type":"approval","tool_call_id":"call_3","approve":false,"reason":null}]}]'
    )
