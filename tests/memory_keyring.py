"""A working keyring that keeps its keys in memory, for tests of windows that store a key.

Without it a test's `SecretStore(use_keyring=False)` is a machine with no keyring, and the app
rightly warns that the key is kept for this session only; tests that are not about that warning
use `memory_secrets()` so that what they see is what a user with a keyring sees.
"""

from __future__ import annotations

import keyring.backend

from desktop.core.secrets import SecretStore


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A keyring that works (priority > 0) and keeps its passwords in this object."""

    priority = 1  # type: ignore[assignment]
    # Defining a backend class registers it with keyring; a viable one would be chained with
    # the real Secret Service for every later test in this process (test_keyring_real saw
    # "ChainerBackend"). Handed to SecretStore directly, it never needs to be discovered.
    viable = False  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.passwords: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.passwords.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.passwords[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.passwords.pop((service, username), None)


def memory_secrets(keyring_: MemoryKeyring | None = None) -> SecretStore:
    """A SecretStore on a working keyring of its own (no warning that keys are not kept)."""
    return SecretStore(backend=keyring_ or MemoryKeyring())
