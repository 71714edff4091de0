"""Is a pasted URL one a Letta server could fetch as an image source?"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit


def _literal_ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    # Legacy IPv4 spellings many resolvers accept: "127.1", "2130706433", "0x7f.0.0.1".
    if host and all(c in "0123456789abcdefx." for c in host) and any(c.isdigit() for c in host):
        import socket  # ~3 ms, for this rare spelling only: not with the main window

        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def is_public_image_url(text: str) -> bool:
    """True for an http(s) URL whose host is not obviously local or private.

    Checks the text only (no DNS lookup, so a public name that resolves to a private address
    still passes): the scheme must be http or https, there must be a host, and the host must not
    be ``localhost`` (or ``*.localhost``), ``*.local``, or a literal IP address that is loopback,
    private, link-local, multicast, reserved or unspecified (IPv4-mapped IPv6 included).
    Credentials in the URL (``user:pass@``) and invisible or control characters are refused too.
    """
    if not isinstance(text, str):
        return False
    text = text.strip()
    # Control and invisible characters (NUL, a zero-width space, a right-to-left override) are
    # no part of a fetchable address, and can make one look like another.
    if not text or any(c.isspace() or not c.isprintable() for c in text):
        return False
    try:
        parts = urlsplit(text)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        return False
    if parts.scheme.lower() not in ("http", "https") or not host:
        return False
    if parts.username is not None or parts.password is not None:
        return False
    host = host.rstrip(".").lower()
    if not host or host == "localhost" or host.endswith((".localhost", ".local")):
        return False
    ip = _literal_ip(host)
    if ip is None:
        return "." in host  # a bare single-label name is an intranet host
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or (isinstance(ip, ipaddress.IPv4Address) and ip in ipaddress.ip_network("100.64.0.0/10"))
    )
