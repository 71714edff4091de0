"""Server addresses and ids: constants and pure helpers, importable without httpx."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

LETTA_CLOUD_URL = "https://api.letta.com"
DEFAULT_SELF_HOSTED_URL = "http://localhost:8283"
DEFAULT_CONVERSATION = "default"


def normalize_base_url(url: str) -> str:
    url = url.strip().rstrip("/")
    if url.endswith("/v1"):
        url = url[:-3]
    if url and "://" not in url:
        # A bare local address is a self-hosted server, which speaks plain http (TLS to it
        # would fail with a confusing "could not reach"); anything else gets https.
        url = ("http://" if is_loopback_url("http://" + url) else "https://") + url
    return _without_userinfo(url)


def _without_userinfo(url: str) -> str:
    """`https://user:pass@host` → `https://host`. httpx would turn the pair into Basic auth in
    place of the Bearer key, and the password would be shown and stored with the address;
    Letta authenticates with the API key only."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return parts._replace(netloc=host).geturl()


def is_loopback_url(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def sends_key_in_clear(url: str) -> bool:
    """True when the key would cross a network unencrypted (http:// to a non-loopback host)."""
    return urlsplit(url).scheme == "http" and not is_loopback_url(url)


def new_otid() -> str:
    import uuid  # with platform, ~2.5 ms: at the first send, not with the main window

    return str(uuid.uuid4())
