"""End-to-end fixtures: the real Letta server (0.16.8), PostgreSQL, Redis and the fake LLM, once a
session.

Fixtures
--------
``letta_stack`` (session): an :class:`E2EStack` with

- ``base_url``       Letta REST root, ``http://127.0.0.1:<port>`` (append ``/v1/...``)
- ``llm_base_url``   the fake LLM, ``http://127.0.0.1:<port>/v1``
- ``record_path``    the fake LLM's request log (JSON lines)
- ``requests(path=None)``  recorded fake-LLM requests, oldest first; ``path`` filters by substring,
  e.g. ``letta_stack.requests("/chat/completions")[-1]["body"]["messages"]``
- ``chat_requests()``      shortcut for the chat-completion bodies
- ``http(**kw)``     a new ``httpx.Client`` on ``base_url`` (caller closes it; ``with`` works)
- ``create_agent(name=None, model=VISION_MODEL, **fields)`` → agent JSON, via plain
  ``POST /v1/agents/`` with ``{"name", "model", "embedding"}``
- ``delete_agent(agent_id)``
- ``embedding_handle``  the embedding handle the server offers (``openai/text-embedding-3-small``)
- ``server_log_tail(n)``, ``timings`` (start-up seconds per part)
- ``has_redis``      whether the server runs with Redis (conversation locks, otid→run mapping,
  run-scoped cancel, ``background: true`` streams and their resume)

``letta_agent`` (session): one agent on ``openai-proxy/gpt-4o-mini`` shared by tests that do not
change it (create your own for model switches).

Constants: ``VISION_MODEL = "openai-proxy/gpt-4o-mini"``,
``TEXT_MODEL = "openai-proxy/gpt-3.5-turbo"``,
``SDK_HEADERS`` (the header that lets raw HTTP stream on the agents route).

When the server is not installed (tests/peers/install_server.sh), e2e tests skip, or FAIL when
``LETTA_E2E_REQUIRED=1`` (set by tests/run_all.sh and CI). Every test under tests/e2e gets the
``e2e`` marker.

Redis: the session stack runs with Redis unless ``LETTA_TEST_NO_REDIS=1`` (tests/run_all.sh runs
a chat/fault subset a second time that way, to prove the client's fallback). A test that only
makes sense with Redis takes ``@pytest.mark.redis``: it is skipped on a stack without it; one
about the server without Redis takes ``@pytest.mark.no_redis``: it only runs then.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.memory_keyring import memory_secrets
from tests.peers import letta_server

VISION_MODEL = "openai-proxy/gpt-4o-mini"
TEXT_MODEL = "openai-proxy/gpt-3.5-turbo"
PREFERRED_EMBEDDING = "openai/text-embedding-3-small"
# Any value works; the 0.16.8 server only checks that the header is present.
SDK_HEADERS = {"X-Stainless-Package-Version": "1.12.1"}

_E2E_DIR = Path(__file__).resolve().parent


def no_redis() -> bool:
    """True when this session's stack runs without Redis (``LETTA_TEST_NO_REDIS=1``)."""
    return os.environ.get("LETTA_TEST_NO_REDIS") == "1"


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "redis: needs the server's Redis (skipped with LETTA_TEST_NO_REDIS=1)"
    )
    config.addinivalue_line(
        "markers", "no_redis: about a server without Redis (runs only with LETTA_TEST_NO_REDIS=1)"
    )


def pytest_collection_modifyitems(config, items):
    marker = pytest.mark.e2e
    skip_redis = pytest.mark.skip(reason="LETTA_TEST_NO_REDIS=1: the stack runs without Redis")
    skip_no_redis = pytest.mark.skip(reason="the stack runs with Redis (LETTA_TEST_NO_REDIS unset)")
    for item in items:
        try:
            Path(str(item.path)).resolve().relative_to(_E2E_DIR)
        except ValueError:
            continue
        item.add_marker(marker)
        if no_redis() and item.get_closest_marker("redis") is not None:
            item.add_marker(skip_redis)
        if not no_redis() and item.get_closest_marker("no_redis") is not None:
            item.add_marker(skip_no_redis)


class E2EStack:
    """What e2e tests get: URLs, the fake LLM's record, and small HTTP helpers."""

    def __init__(self, stack: letta_server.LettaStack):
        self._stack = stack
        self.base_url = stack.base_url
        self.llm_base_url = stack.llm_base_url
        self.record_path = stack.record_path
        self.password = stack.password
        self.has_redis = stack.has_redis
        self.timings = dict(stack.timings)
        self._embedding: str | bool | None = False  # False = not looked up yet

    # -- fake LLM record ---------------------------------------------------------------------

    def requests(self, path: str | None = None) -> list[dict[str, Any]]:
        return self._stack.requests(path)

    def chat_requests(self) -> list[dict[str, Any]]:
        return [r["body"] for r in self.requests("/chat/completions")]

    def server_log_tail(self, lines: int = 60) -> str:
        return self._stack.server_log_tail(lines)

    # -- HTTP --------------------------------------------------------------------------------

    def http(self, **kwargs: Any) -> httpx.Client:
        headers = dict(self._stack.auth_headers)
        headers.update(kwargs.pop("headers", {}) or {})
        kwargs.setdefault("timeout", httpx.Timeout(120.0, connect=5.0))
        return httpx.Client(base_url=self.base_url, headers=headers, **kwargs)

    @property
    def embedding_handle(self) -> str | None:
        if self._embedding is False:
            with self.http() as c:
                r = c.get("/v1/models/embedding")
                r.raise_for_status()
                handles = [m.get("handle") for m in r.json()]
            if PREFERRED_EMBEDDING in handles:
                self._embedding = PREFERRED_EMBEDDING
            else:
                local = [h for h in handles if h and not h.startswith("letta/")]
                self._embedding = local[0] if local else None
        return self._embedding or None

    def create_agent(
        self, name: str | None = None, model: str = VISION_MODEL, **fields: Any
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"name": name or f"e2e-{uuid.uuid4().hex[:8]}", "model": model}
        if self.embedding_handle:
            body["embedding"] = self.embedding_handle
        body.update(fields)
        with self.http() as c:
            r = c.post("/v1/agents/", json=body)
        if r.status_code != 200:
            raise AssertionError(f"POST /v1/agents/ → {r.status_code}: {r.text}")
        return r.json()

    def delete_agent(self, agent_id: str) -> None:
        with self.http() as c:
            c.delete(f"/v1/agents/{agent_id}")


@pytest.fixture(scope="session")
def letta_stack():
    if not letta_server.is_installed():
        reason = letta_server.not_installed_reason()
        if os.environ.get("LETTA_E2E_REQUIRED") == "1":
            pytest.fail(f"LETTA_E2E_REQUIRED=1 but {reason}", pytrace=False)
        pytest.skip(reason)
    try:
        stack = letta_server.start_stack(
            timeout=float(os.environ.get("LETTA_START_TIMEOUT", "120")), redis=not no_redis()
        )
    except letta_server.StackError as e:
        pytest.fail(f"could not start the Letta test stack: {e}", pytrace=False)
    try:
        yield E2EStack(stack)
    finally:
        stack.stop()


@pytest.fixture(scope="session")
def letta_agent(letta_stack: E2EStack) -> dict[str, Any]:
    return letta_stack.create_agent(name="e2e-shared")


APP_KEY = "e2e-any-key"  # the test server runs without a password: any key works


@pytest.fixture
def open_window(qtbot, letta_stack: E2EStack):
    """Opens the real main window on an agent of the real server, like `letta-desktop --agent`.

    `open_window(agent_id, ready=None)` waits until the agent and its history are loaded (and
    `ready(window)`, when given); every window is closed and its workers shut down after the test.
    """
    import argparse

    from desktop.compose import create_window

    windows = []

    def make(agent_id: str, ready=None):
        args = argparse.Namespace(base_url=letta_stack.base_url, agent=agent_id, files=[])
        window, base_url, _ = create_window(args, secrets=memory_secrets())
        qtbot.addWidget(window)
        window.show()
        window.start(base_url, APP_KEY, agent_id)
        qtbot.waitUntil(
            lambda: (
                window.session is not None
                and window.session.agent is not None
                and window.session.history_loaded
                and (ready is None or ready(window))
            ),
            timeout=30000,
        )
        windows.append(window)
        return window

    yield make
    for window in windows:
        switcher = getattr(getattr(window, "vision", None), "switcher", None)
        if switcher is not None:
            switcher.reject()
        window.close()
        window.workers.shutdown()
