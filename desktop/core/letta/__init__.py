"""The Letta REST API: client, typed errors, message and stream types.

The client (and with it httpx, ~70 ms to import) loads on first use of ``LettaClient`` or
``MessageStream`` (module ``__getattr__``), so importing the types for the UI stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from desktop.core.letta.errors import (
    AuthError,
    BadRequest,
    Conflict,
    ConnectionFailed,
    LettaError,
    NetworkError,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    RedirectRefused,
    ServerError,
    ServiceUnavailable,
    StreamCut,
    StreamFailed,
)
from desktop.core.letta.models import (
    Agent,
    ApprovalDecision,
    Conversation,
    ImageRef,
    Message,
    ModelInfo,
    StreamChunk,
    StreamReconnecting,
    StreamStop,
    StreamUsage,
    ToolCall,
)
from desktop.core.letta.urls import (
    DEFAULT_CONVERSATION,
    DEFAULT_SELF_HOSTED_URL,
    LETTA_CLOUD_URL,
    is_loopback_url,
    new_otid,
    normalize_base_url,
    sends_key_in_clear,
)

if TYPE_CHECKING:
    from desktop.core.letta.client import LettaClient, MessageStream

_LAZY = {"LettaClient", "MessageStream"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from desktop.core.letta import client

        return getattr(client, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DEFAULT_CONVERSATION",
    "DEFAULT_SELF_HOSTED_URL",
    "LETTA_CLOUD_URL",
    "Agent",
    "ApprovalDecision",
    "AuthError",
    "BadRequest",
    "Conflict",
    "ConnectionFailed",
    "Conversation",
    "ImageRef",
    "LettaClient",
    "LettaError",
    "Message",
    "MessageStream",
    "ModelInfo",
    "NetworkError",
    "NotFound",
    "PayloadTooLarge",
    "RateLimited",
    "RedirectRefused",
    "ServerError",
    "ServiceUnavailable",
    "StreamChunk",
    "StreamCut",
    "StreamFailed",
    "StreamReconnecting",
    "StreamStop",
    "StreamUsage",
    "ToolCall",
    "is_loopback_url",
    "new_otid",
    "normalize_base_url",
    "sends_key_in_clear",
]
