"""With no usable keyring the key lives in memory only, and the user is told so."""

from __future__ import annotations

import keyring
import keyring.backends.fail
import keyring.errors
import pytest

from desktop.core.secrets import SERVICE, SecretStore
from tests.memory_keyring import MemoryKeyring


@pytest.fixture
def no_keyring():
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    yield
    keyring.set_keyring(previous)


def test_without_a_backend_the_key_is_kept_in_memory_and_the_user_is_told(no_keyring):
    store = SecretStore()
    assert not store.persistent
    assert "memory" in (store.problem or "")
    assert store.set("https://api.letta.com", "sk-secret-1234") is False
    assert store.get("https://api.letta.com") == "sk-secret-1234"
    # A second store (the next start of the app) has nothing: memory only, no file.
    assert SecretStore().get("https://api.letta.com") is None


def test_a_keyring_that_fails_on_use_falls_back_to_memory_without_losing_the_key():
    # Defined here, not at module level: keyring discovers every backend subclass that exists,
    # and a module-level one would wrap the real keyring in a chainer for later tests.
    class _BrokenBackend(keyring.backends.fail.Keyring):
        priority = 5  # looks usable, then fails on use (a locked or crashed Secret Service)

        def get_password(self, service, username):
            raise keyring.errors.KeyringLocked("locked")

        def set_password(self, service, username, password):
            raise keyring.errors.PasswordSetError("cannot store")

    previous = keyring.get_keyring()
    keyring.set_keyring(_BrokenBackend())
    try:
        store = SecretStore()
        assert store.persistent
        assert store.set("https://x.test", "sk-abcdef123456") is False
        assert store.get("https://x.test") == "sk-abcdef123456"
        assert not store.persistent
        assert "memory" in (store.problem or "")
    finally:
        keyring.set_keyring(previous)


def test_a_given_keyring_is_used_and_nothing_is_said_about_memory():
    keyring_ = MemoryKeyring()
    store = SecretStore(backend=keyring_)
    assert store.problem is None and store.persistent
    assert store.set("https://letta.test", "k-1") is True  # went to the keyring
    assert keyring_.passwords == {(SERVICE, "https://letta.test"): "k-1"}
    assert SecretStore(backend=keyring_).get("https://letta.test") == "k-1"  # kept across stores
