"""The API key's only home: the OS keyring, or this process's memory when no keyring works.

Every call may block (the Secret Service talks over D-Bus and may prompt), so the UI calls these
from a worker. Keys are stored per server URL, under one service name.
"""

from __future__ import annotations

import logging
import threading

import keyring
import keyring.backend
import keyring.errors

log = logging.getLogger(__name__)

SERVICE = "letta-desktop"


def _usable_backend() -> keyring.backend.KeyringBackend | None:
    try:
        backend = keyring.get_keyring()
    except Exception:  # a broken keyring config must not stop the app from starting
        log.warning("keyring: could not load a backend", exc_info=True)
        return None
    name = type(backend).__module__ + "." + type(backend).__name__
    if "fail" in name.split(".") or getattr(backend, "priority", 1) <= 0:
        return None
    # The chainer is usable only when it has real backends behind it.
    if hasattr(backend, "backends") and not backend.backends:
        return None
    return backend


class SecretStore:
    """Get/set/delete the key for a server; falls back to memory with `persistent == False`."""

    def __init__(self, *, use_keyring: bool = True):
        self._memory: dict[str, str] = {}
        self._lock = threading.Lock()
        self._backend = _usable_backend() if use_keyring else None
        self.problem: str | None = None if self._backend else (
            "No system keyring is available, so the API key is kept in memory for this session "
            "only and must be entered again next time.")

    @property
    def persistent(self) -> bool:
        return self._backend is not None

    @property
    def backend_name(self) -> str:
        if self._backend is None:
            return "memory (this session only)"
        return str(getattr(self._backend, "name", type(self._backend).__name__))

    def _fail(self, action: str, exc: Exception) -> None:
        # Never include the key; the exception text from keyring backends doesn't carry it.
        log.warning("keyring %s failed: %s", action, type(exc).__name__)
        self._backend = None
        self.problem = ("The system keyring stopped working, so the API key is kept in memory "
                        "for this session only.")

    def get(self, server_url: str) -> str | None:
        with self._lock:
            if server_url in self._memory:
                return self._memory[server_url]
            if self._backend is None:
                return None
            try:
                return self._backend.get_password(SERVICE, server_url)
            except keyring.errors.KeyringError as exc:
                self._fail("read", exc)
                return None

    def set(self, server_url: str, key: str) -> bool:
        """Store the key; returns True when it went to the keyring, False when memory only."""
        with self._lock:
            if self._backend is not None:
                try:
                    self._backend.set_password(SERVICE, server_url, key)
                    self._memory.pop(server_url, None)
                    return True
                except keyring.errors.KeyringError as exc:
                    self._fail("write", exc)
            self._memory[server_url] = key
            return False

    def delete(self, server_url: str) -> None:
        with self._lock:
            self._memory.pop(server_url, None)
            if self._backend is None:
                return
            try:
                self._backend.delete_password(SERVICE, server_url)
            except keyring.errors.PasswordDeleteError:
                pass  # nothing stored: already the state we want
            except keyring.errors.KeyringError as exc:
                self._fail("delete", exc)
