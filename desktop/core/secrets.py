"""The API key's only home: the OS keyring, or this process's memory when no keyring works.

Every call may block (the Secret Service talks over D-Bus and may prompt), so the UI calls these
from a worker. Keys are stored per server URL, under one service name.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # keyring (~0.1 s with its backends) is imported on first use, on a worker
    import keyring.backend

log = logging.getLogger(__name__)

SERVICE = "letta-desktop"


def _usable_backend() -> keyring.backend.KeyringBackend | None:
    import keyring

    try:
        backend = keyring.get_keyring()
        # keyring's stand-ins for "no keyring" say so by their priority: fail 0, null -1, and
        # the chainer -1 unless two keyrings are behind it. Reading it may ask D-Bus again (the
        # Secret Service probes on every read) and raise when the service has gone since.
        usable = backend.priority > 0
    except Exception:  # a broken keyring config must not stop the app from starting
        log.warning("keyring: could not load a backend", exc_info=True)
        return None
    return backend if usable else None


_NO_KEYRING = (
    "No system keyring is available, so the API key is kept in memory for this "
    "session only and must be entered again next time."
)


class SecretStore:
    """Get/set/delete the key for a server; falls back to memory with `persistent == False`.

    `backend` is a keyring backend to use instead of the system's (tests bring one that keeps
    keys in memory but behaves as a working keyring); `use_keyring=False` means no keyring."""

    def __init__(
        self,
        *,
        use_keyring: bool = True,
        backend: keyring.backend.KeyringBackend | None = None,
    ):
        self._memory: dict[str, str] = {}
        self._lock = threading.Lock()
        # Finding the backend imports every keyring backend and may talk to D-Bus (~0.1 s):
        # done on first use (a worker reads the key), not while the window is being built.
        self._resolve_lock = threading.Lock()
        self._resolved = not use_keyring or backend is not None
        self._backend_value: keyring.backend.KeyringBackend | None = backend
        self._problem: str | None = None if use_keyring or backend else _NO_KEYRING

    def _resolve(self) -> None:
        with self._resolve_lock:
            if not self._resolved:
                self._backend_value = _usable_backend()
                if self._backend_value is None:
                    self._problem = _NO_KEYRING
                self._resolved = True

    @property
    def _backend(self) -> keyring.backend.KeyringBackend | None:
        if not self._resolved:
            self._resolve()
        return self._backend_value

    @_backend.setter
    def _backend(self, value: keyring.backend.KeyringBackend | None) -> None:
        self._resolve()
        self._backend_value = value

    @property
    def problem(self) -> str | None:
        """Why the key is kept in memory only (None while the keyring works)."""
        if not self._resolved:
            self._resolve()
        return self._problem

    @problem.setter
    def problem(self, text: str | None) -> None:
        self._resolve()
        self._problem = text

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
        self.problem = (
            "The system keyring stopped working, so the API key is kept in memory "
            "for this session only."
        )

    def get(self, server_url: str) -> str | None:
        import keyring.errors

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
        import keyring.errors

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
        import keyring.errors

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
