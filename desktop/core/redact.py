"""Keeps secrets out of log lines: the known key, bearer tokens, and key-shaped strings."""

from __future__ import annotations

import logging
import re

_BEARER = re.compile(r"(?i)(bearer\s+)[^\s'\"]+")
_KEYLIKE = re.compile(r"\b(sk-[A-Za-z0-9_\-]{8,}|[A-Za-z0-9_\-]{40,})\b")

_known: set[str] = set()


def register_secret(secret: str | None) -> None:
    """Remember a secret so it is masked wherever it would appear in a log line."""
    if secret and len(secret) >= 4:
        _known.add(secret)


def redact(text: str) -> str:
    for secret in _known:
        text = text.replace(secret, "«redacted»")
    text = _BEARER.sub(r"\1«redacted»", text)
    return _KEYLIKE.sub("«redacted»", text)


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True
