"""The API key in a real Secret Service (gnome-keyring in a private D-Bus session).

tests/run_all.sh starts the session; outside it these tests skip, except under
LETTA_E2E_REQUIRED=1 (CI), where a missing Secret Service is a failure.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest

from desktop.core.secrets import SecretStore

pytestmark = pytest.mark.keyring

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def store():
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        if os.environ.get("LETTA_E2E_REQUIRED") == "1":
            pytest.fail("no D-Bus session: the test script must start gnome-keyring")
        pytest.skip("no D-Bus session with a Secret Service")
    store = SecretStore()
    assert store.persistent, f"expected a real keyring backend, got {store.backend_name}"
    return store


def test_key_round_trips_through_secret_service_and_survives_the_process(store):
    url = f"https://letta.test/{uuid.uuid4()}"
    key = "sk-let-" + uuid.uuid4().hex
    assert "SecretService" in store.backend_name
    assert store.set(url, key) is True
    # A new process (a restart of the app) finds the key in the keyring, not in any file.
    code = (
        "from desktop.core.secrets import SecretStore; import sys; "
        f"sys.stdout.write(SecretStore().get({url!r}) or '')"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=True,
    )
    assert out.stdout == key
    store.delete(url)
    assert SecretStore().get(url) is None


def test_keys_for_different_servers_stay_apart(store):
    a, b = f"https://a.test/{uuid.uuid4()}", f"http://localhost:8283/{uuid.uuid4()}"
    store.set(a, "key-a-123456")
    store.set(b, "key-b-654321")
    try:
        assert store.get(a) == "key-a-123456"
        assert store.get(b) == "key-b-654321"
    finally:
        store.delete(a)
        store.delete(b)
