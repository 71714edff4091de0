"""Where SecretStore keeps the API key: which system keyring it trusts, what it tells the user and
the log when a keyring is missing or breaks, forgetting a key, and many workers at once.

The system keyring is swapped for keyring's own backends (fail, null) or a MemoryKeyring, the way
keyring itself would hand them out; the real Secret Service is tested in tests/e2e.
"""

from __future__ import annotations

import logging
import threading
import time

import keyring.core
import keyring.errors
import pytest
from keyring.compat import properties

from desktop.core.secrets import SERVICE, SecretStore
from tests.memory_keyring import MemoryKeyring

MEMORY_ONLY = (
    "No system keyring is available, so the API key is kept in memory for this "
    "session only and must be entered again next time."
)
STOPPED_WORKING = (
    "The system keyring stopped working, so the API key is kept in memory for this session only."
)
URL = "https://letta.test"
KEY = "sk-let-0123456789abcdef"


@pytest.fixture
def system_keyring(monkeypatch):
    """Makes keyring hand out the given backend (or, with None, look for one again)."""

    def use(backend: keyring.backend.KeyringBackend | None) -> None:
        monkeypatch.setattr(keyring.core, "_keyring_backend", backend)

    return use


def test_a_working_system_keyring_is_found_and_keeps_the_key(system_keyring):
    found = MemoryKeyring()  # priority 1: what keyring calls "recommended"
    system_keyring(found)
    store = SecretStore()
    assert store.problem is None and store.persistent
    assert store.set(URL, KEY) is True
    assert found.passwords == {(SERVICE, URL): KEY}
    assert SecretStore().get(URL) == KEY  # the next start of the app finds it


@pytest.mark.parametrize("name", ["keyring.backends.null.Keyring", "keyring.backends.fail.Keyring"])
def test_keyrings_stand_ins_for_no_keyring_mean_memory_only(system_keyring, monkeypatch, name):
    # PYTHON_KEYRING_BACKEND=…null.Keyring is keyring's documented way to turn it off; the null
    # keyring accepts every key and forgets it, so trusting it would lose the key silently.
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", name)
    system_keyring(None)
    store = SecretStore()
    assert store.problem == MEMORY_ONLY and not store.persistent
    assert store.backend_name == "memory (this session only)"
    assert store.set(URL, KEY) is False
    assert store.get(URL) == KEY


def test_a_mistyped_keyring_setting_means_memory_only_and_the_log_says_why(
    system_keyring, monkeypatch, caplog
):
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.SecretServce.Keyring")
    system_keyring(None)
    with caplog.at_level(logging.WARNING, logger="desktop.core.secrets"):
        store = SecretStore()
        assert store.problem == MEMORY_ONLY and not store.persistent
    [record] = caplog.records
    assert record.getMessage() == "keyring: could not load a backend"
    assert record.exc_info is not None and record.exc_info[0] is ModuleNotFoundError


def test_without_the_keyring_the_user_is_told_the_key_is_for_this_session_only():
    store = SecretStore(use_keyring=False)
    assert store.problem == MEMORY_ONLY and not store.persistent
    assert store.backend_name == "memory (this session only)"


def _breaking_on(action: str) -> MemoryKeyring:
    """A keyring that works until it is asked to `action` (a locked or crashed Secret Service)."""

    class Breaking(MemoryKeyring):
        def get_password(self, service, username):
            if action == "read":
                raise keyring.errors.KeyringLocked("locked")
            return super().get_password(service, username)

        def set_password(self, service, username, password):
            if action == "write":
                raise keyring.errors.KeyringLocked("locked")
            super().set_password(service, username, password)

        def delete_password(self, service, username):
            if action == "delete":
                raise keyring.errors.KeyringLocked("locked")
            super().delete_password(service, username)

    return Breaking()


@pytest.mark.parametrize("action", ["read", "write", "delete"])
def test_a_keyring_that_breaks_is_logged_without_the_key_and_the_user_is_told(action, caplog):
    store = SecretStore(backend=_breaking_on(action))
    with caplog.at_level(logging.WARNING, logger="desktop.core.secrets"):
        if action == "read":
            assert store.get(URL) is None
        elif action == "write":
            assert store.set(URL, KEY) is False
            assert store.get(URL) == KEY  # kept in memory, not lost
        else:
            store.delete(URL)
    assert [r.getMessage() for r in caplog.records] == [f"keyring {action} failed: KeyringLocked"]
    assert KEY not in caplog.text
    assert store.problem == STOPPED_WORKING and not store.persistent
    assert store.set(URL, KEY) is False  # no second try at a keyring that broke


def test_forgetting_a_key_removes_it_from_the_keyring_and_leaves_other_servers_keys():
    kept = MemoryKeyring()
    store = SecretStore(backend=kept)
    store.set(URL, KEY)
    store.set("https://other.test", "sk-other")
    store.delete(URL)
    store.delete("https://never-stored.test")
    assert store.get(URL) is None and SecretStore(backend=kept).get(URL) is None
    assert kept.passwords == {(SERVICE, "https://other.test"): "sk-other"}
    assert store.problem is None and store.persistent


def test_forgetting_a_key_kept_in_memory():
    store = SecretStore(use_keyring=False)
    store.set(URL, KEY)
    store.set("https://other.test", "sk-other")
    store.delete(URL)
    store.delete("https://never-stored.test")
    assert store.get(URL) is None
    assert store.get("https://other.test") == "sk-other"


def test_forgetting_a_key_the_keyring_never_had_keeps_the_keyring():
    class SecretServiceLike(MemoryKeyring):  # it raises for a key it does not hold
        def delete_password(self, service, username):
            if (service, username) not in self.passwords:
                raise keyring.errors.PasswordDeleteError("not found")
            super().delete_password(service, username)

    store = SecretStore(backend=SecretServiceLike())
    store.delete(URL)
    assert store.problem is None and store.persistent
    assert store.set(URL, KEY) is True


def test_workers_starting_together_look_for_the_keyring_once_and_keep_every_key(system_keyring):
    probes: list[int] = []

    class Probing(MemoryKeyring):
        @properties.classproperty
        def priority(cls) -> float:
            # The Secret Service asks D-Bus on every read of its priority (~ms, may hang on a
            # stuck bus): once per store is what the user waits for.
            probes.append(1)
            time.sleep(0.02)
            return 5

    found = Probing()
    system_keyring(found)
    store = SecretStore()
    start = threading.Barrier(8)
    answers: list[tuple[str | None, bool]] = []

    def worker(n: int) -> None:
        start.wait()
        # What the window asks on its thread while workers read and store keys.
        answers.append((store.problem, store.persistent))
        store.get(f"https://s{n}.test")
        store.set(f"https://s{n}.test", f"sk-{n}")

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(probes) == 1
    assert answers == [(None, True)] * 8
    assert found.passwords == {(SERVICE, f"https://s{n}.test"): f"sk-{n}" for n in range(8)}
    assert store.problem is None and store.persistent
