"""Nothing leaks the key: a full session against a password-protected real server, then every
file the app wrote (settings, logs, drafts, caches — the config and data folders, and HOME) is
searched for the key.

A second stack (``LETTA_SERVER_SECURE=true``, the key as ``LETTA_SERVER_PASSWORD``) starts for
this module (~20 s).
"""

from __future__ import annotations

import argparse
import base64
import io
import logging
import os
import sys
import uuid
from pathlib import Path

import httpx
import pytest
from PIL import Image
from PySide6.QtCore import Qt

from desktop import diagnostics
from desktop.compose import create_window
from desktop.ui.transcript import KindRole, RowKind, RowState, StateRole, TextRole
from tests.e2e.conftest import SDK_HEADERS, VISION_MODEL
from tests.peers import letta_server

KEY = f"sk-letta-desktop-{uuid.uuid4().hex}-DISTINCTIVE"


@pytest.fixture(scope="module")
def secure_stack():
    if not letta_server.is_installed():
        pytest.skip(letta_server.not_installed_reason())
    stack = letta_server.start_stack(
        secure=True, password=KEY, timeout=float(os.environ.get("LETTA_START_TIMEOUT", "120"))
    )
    try:
        yield stack
    finally:
        stack.stop()


def _rows(window):
    model = window.transcript_model
    return [
        (
            model.index(r, 0).data(KindRole),
            model.index(r, 0).data(TextRole) or "",
            model.index(r, 0).data(StateRole),
        )
        for r in range(model.rowCount())
    ]


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 120, 200)).save(buf, "PNG")
    return buf.getvalue()


def _variants(key: str) -> list[bytes]:
    """The key as it could land in a file: plain, UTF-16, base64 (alone or in a Basic/JSON
    blob), URL-quoted."""
    from urllib.parse import quote

    raw = key.encode()
    out = [raw, key.encode("utf-16-le"), quote(key).encode(), base64.b64encode(raw)]
    out += [base64.b64encode(f"Bearer {key}".encode()), key[8:40].encode()]
    return out


def test_a_full_session_leaves_the_key_in_no_file(qtbot, secure_stack, tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    for var, sub in (
        ("HOME", ""),
        ("XDG_DATA_HOME", ".local/share"),
        ("XDG_CACHE_HOME", ".cache"),
        ("XDG_STATE_HOME", ".local/state"),
    ):
        monkeypatch.setenv(var, str(home / sub))
    monkeypatch.setenv("LETTA_DESKTOP_LOG_LEVEL", "DEBUG")  # as much logging as there can be
    config_dir = Path(os.environ["LETTA_DESKTOP_CONFIG_DIR"])
    data_dir = Path(os.environ["LETTA_DESKTOP_DATA_DIR"])

    # The wrong key is refused by this server: it really checks the password.
    with httpx.Client(base_url=secure_stack.base_url) as http:
        assert http.get("/v1/agents/", headers={"Authorization": "Bearer nope"}).status_code == 401
        agent = http.post(
            "/v1/agents/",
            headers={"Authorization": f"Bearer {KEY}"},
            json={
                "name": "secret-session",
                "model": VISION_MODEL,
                "embedding": "openai/text-embedding-3-small",
            },
        ).json()
    assert "id" in agent, agent

    log_path = diagnostics.setup_file_logging("DEBUG")
    reports: list[str] = []
    args = argparse.Namespace(base_url=secure_stack.base_url, agent=agent["id"], files=[])
    window, base_url, _ = create_window(args, use_keyring=False)
    hook = diagnostics.CrashHook(reports.append, window).install()
    try:
        qtbot.addWidget(window)
        window.show()
        with qtbot.waitSignal(window.drafts.restored, timeout=30000):
            # as after the connect dialog
            window.connect_to(base_url, KEY, remember=True, agent_id=agent["id"])
        qtbot.waitUntil(
            lambda: window.session is not None and window.session.agent is not None, timeout=30000
        )

        def send(text: str) -> None:
            window.composer.set_text(text)
            qtbot.keyClick(window.composer, Qt.Key.Key_Return)
            qtbot.waitUntil(
                lambda: (
                    not window.session.busy
                    and any(
                        k is RowKind.USER and t == text and s is not RowState.SENDING
                        for k, t, s in _rows(window)
                    )
                ),
                timeout=60000,
            )

        send("hello from the secret session")  # chat
        window.attachments.add_bytes(_png(), "secret-test.png")  # an image
        qtbot.waitUntil(lambda: not window.attachments.preparing, timeout=10000)
        send("what is in this picture?")
        assert any("image 1: image/png" in t for k, t, _ in _rows(window) if k is RowKind.ASSISTANT)
        send("make the provider fail [[status 500]]")  # an error, shown and logged
        assert window.banner.isVisible()
        # an exception through the log and the crash hook, carrying the key in its text
        try:
            raise RuntimeError(f"boom: Authorization: Bearer {KEY} (key={KEY})")
        except RuntimeError:
            hook.report(*sys.exc_info())
            logging.getLogger("desktop.test").exception("logged with the key %s", KEY)
        logging.getLogger("httpx").warning("headers: {'authorization': 'Bearer %s'}", KEY)
        qtbot.waitUntil(lambda: bool(reports), timeout=5000)
        assert KEY not in reports[0] and "boom" in reports[0]
        window.composer.set_text("a draft that stays")  # drafts on disk
        qtbot.waitSignal(window.drafts.saved, timeout=3000).wait()
    finally:
        hook.uninstall()
        window.close()
        window.workers.shutdown()
        diagnostics.close_file_logging()

    # What the app wrote, and that it is really there (a scan of nothing proves nothing).
    written = [p for root in (config_dir, data_dir, home) for p in root.rglob("*") if p.is_file()]
    names = {p.name for p in written}
    assert "draft.json" in names and any(n.endswith(".ini") for n in names), names
    assert log_path is not None and log_path.stat().st_size > 0
    log_text = log_path.read_text()
    assert "boom" in log_text and "«redacted»" in log_text
    hits = []
    for path in written:
        data = path.read_bytes()
        hits += [(str(path), v[:12]) for v in _variants(KEY) if v in data]
    assert hits == [], hits
    # the key did travel to the server, where it belongs (the session worked with it)
    with httpx.Client(
        base_url=secure_stack.base_url, headers={"Authorization": f"Bearer {KEY}", **SDK_HEADERS}
    ) as http:
        history = http.get(
            f"/v1/agents/{agent['id']}/messages", params={"limit": 20, "order": "desc"}
        ).json()
    assert any(m.get("message_type") == "user_message" for m in history)
