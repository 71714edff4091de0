"""The messages the app sends to Letta and their content parts, built in one place.

The dicts go out as JSON exactly as built here (key order included), so a change here is a change
on the wire: tests/unit/test_letta_parts.py pins every shape, tests/e2e proves the real server
takes them.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from typing import Any

from desktop.core.letta.models import ApprovalDecision

Part = dict[str, Any]


def text_part(text: str) -> Part:
    return {"type": "text", "text": text}


def image_url_part(url: str) -> Part:
    """An image the server downloads itself; the app never fetches it."""
    return {"type": "image", "source": {"type": "url", "url": url}}


def image_base64_part(media_type: str, data: str, detail: str | None = None) -> Part:
    """An image inline; `data` is raw base64 (no ``data:`` prefix). `detail` (`low`, `high`,
    `auto`) is OpenAI's setting: the server stores it with the image and forwards it to the
    provider (absent: the server sends `auto`)."""
    source: Part = {"type": "base64", "media_type": media_type, "data": data}
    if detail is not None:
        source["detail"] = detail
    return {"type": "image", "source": source}


def image_bytes_part(media_type: str, data: bytes) -> Part:
    return image_base64_part(media_type, base64.b64encode(data).decode("ascii"))


def user_content(text: str, images: Iterable[Part] = ()) -> list[Part]:
    """A user message's parts: the text first (none when it is only whitespace), then the
    images. Empty when there is nothing to send."""
    content = [text_part(text)] if text.strip() else []
    content.extend(images)
    return content


def user_message(otid: str, content: list[Part]) -> dict[str, Any]:
    """`otid` is the app's own id for the message: Retry finds it in the history by it."""
    return {"type": "message", "role": "user", "otid": otid, "content": content}


def approval_message(decisions: Iterable[ApprovalDecision]) -> dict[str, Any]:
    """One message answering every pending tool call (an empty reason goes out as null)."""
    answers = [
        {
            "type": "approval",
            "tool_call_id": d.tool_call_id,
            "approve": d.approve,
            "reason": d.reason or None,
        }
        for d in decisions
    ]
    return {"type": "approval", "approvals": answers}
