"""The Letta REST API: client, typed errors, message and stream types.

Each name loads its submodule on first use (module ``__getattr__``): the client (and with it
httpx, ~70 ms to import) and the typed errors (email.utils, ~5 ms) stay out of a start that only
needs the URL helpers or the message types.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from desktop.core.letta.client import (
        LettaClient,
        MessageStream,
    )
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
        images_refused,
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

#: Where each name lives; a submodule is imported on first use of one of its names.
_HOME = {
    "LettaClient": "client",
    "MessageStream": "client",
    "AuthError": "errors",
    "BadRequest": "errors",
    "Conflict": "errors",
    "ConnectionFailed": "errors",
    "LettaError": "errors",
    "NetworkError": "errors",
    "NotFound": "errors",
    "PayloadTooLarge": "errors",
    "RateLimited": "errors",
    "RedirectRefused": "errors",
    "ServerError": "errors",
    "ServiceUnavailable": "errors",
    "StreamCut": "errors",
    "StreamFailed": "errors",
    "images_refused": "errors",
    "Agent": "models",
    "ApprovalDecision": "models",
    "Conversation": "models",
    "ImageRef": "models",
    "Message": "models",
    "ModelInfo": "models",
    "StreamChunk": "models",
    "StreamReconnecting": "models",
    "StreamStop": "models",
    "StreamUsage": "models",
    "ToolCall": "models",
    "DEFAULT_CONVERSATION": "urls",
    "DEFAULT_SELF_HOSTED_URL": "urls",
    "LETTA_CLOUD_URL": "urls",
    "is_loopback_url": "urls",
    "new_otid": "urls",
    "normalize_base_url": "urls",
    "sends_key_in_clear": "urls",
}


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    # __import__ rather than importlib.import_module: `python -X importtime` lists only the former
    value = getattr(__import__(f"{__name__}.{home}", fromlist=[name]), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOME))


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
    "images_refused",
    "is_loopback_url",
    "new_otid",
    "normalize_base_url",
    "sends_key_in_clear",
]
