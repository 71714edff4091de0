"""Bugs a user would notice that the rest of the suite let through (issue 17, mutation gaps).

Each test here failed with its bug planted by hand: a constant otid, the API key written to
the settings file, and a history page that shows the message being sent a second time.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import httpx
import pytest
from PySide6.QtCore import Qt

from desktop.core.letta.models import Message
from desktop.core.secrets import SERVICE, SecretStore
from desktop.settings import Settings
from desktop.ui.transcript import (
    KindRole,
    OtidRole,
    RowKind,
    RowState,
    StateRole,
    TextRole,
    TranscriptModel,
)
from desktop.ui.window.main_window import MainWindow
from tests.fake_letta import FakeLetta
from tests.memory_keyring import MemoryKeyring, memory_secrets

KEY = "lk-remember-me-4f1c9a7e2b"  # made up; never a real key


@pytest.fixture
def fake():
    server = FakeLetta(key=KEY)
    server.add_agent("Research helper")
    return server


def _window(qtbot, workers, fake, secrets: SecretStore | None = None) -> MainWindow:
    window = MainWindow(workers, Settings(), secrets or memory_secrets(), fake.factory)
    qtbot.addWidget(window)
    window.show()
    return window


def _rows(model) -> list[tuple[RowKind, str, RowState]]:
    out = []
    for r in range(model.rowCount()):
        i = model.index(r, 0)
        out.append((i.data(KindRole), i.data(TextRole), i.data(StateRole)))
    return out


def _send(qtbot, window: MainWindow, text: str) -> None:
    qtbot.keyClicks(window.composer, text)
    qtbot.keyClick(window.composer, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not window.session.busy, timeout=5000)


# -- every message gets its own otid -----------------------------------------------------------


def test_a_retried_message_is_sent_even_after_an_earlier_message_was_stored(qtbot, workers, fake):
    """Retry looks for the failed message's otid in the history: an otid shared with an earlier
    message would make it report the failed one as delivered, and it would never be sent."""
    agent = fake.agents[0]
    window = _window(qtbot, workers, fake)
    window.start("https://letta.test", KEY, agent["id"])
    qtbot.waitUntil(
        lambda: window.session is not None and window.session.agent is not None, timeout=5000
    )
    _send(qtbot, window, "first question")
    fake.fail_next_send = 500
    _send(qtbot, window, "second question")
    first, second = (post["messages"][0]["otid"] for post in fake.posts)
    assert first != second
    assert (RowKind.USER, "second question", RowState.FAILED) in _rows(window.transcript_model)

    window.transcript.retryRequested.emit(second)
    qtbot.waitUntil(
        lambda: (
            (RowKind.ASSISTANT, "Echo: second question", RowState.DONE)
            in _rows(window.transcript_model)
        ),
        timeout=5000,
    )
    stored = [
        (m["content"][0]["text"], m["otid"])
        for m in fake.messages[agent["id"]]
        if m["message_type"] == "user_message"
    ]
    assert stored == [("first question", first), ("second question", second)]
    users = [r for r in _rows(window.transcript_model) if r[0] is RowKind.USER]
    assert [text for _, text, _ in users] == ["first question", "second question"]
    assert RowState.FAILED not in {state for _, _, state in users}


# -- the key never lands in the settings file -------------------------------------------------


def _files_under(*folders: str) -> list[Path]:
    return [p for folder in folders for p in Path(folder).rglob("*") if p.is_file()]


def test_remembering_the_key_puts_it_in_the_keyring_and_nowhere_on_disk(qtbot, workers, fake):
    keyring_ = MemoryKeyring()
    secrets = memory_secrets(keyring_)  # a working keyring, without touching the real one
    window = _window(qtbot, workers, fake, secrets)
    window.settings.set_last_agent("https://letta.test", fake.agents[0]["id"])
    window.connect_to("https://letta.test", KEY, remember=True)
    qtbot.waitUntil(
        lambda: window.session is not None and window.session.agent is not None, timeout=5000
    )
    qtbot.waitUntil(lambda: bool(keyring_.passwords), timeout=5000)
    assert keyring_.passwords == {(SERVICE, "https://letta.test"): KEY}
    window.close()
    window.settings.sync()

    ini = Path(window.settings.path)
    assert ini.is_file() and "base_url=https://letta.test" in ini.read_text("utf-8")
    folders = (os.environ["LETTA_DESKTOP_CONFIG_DIR"], os.environ["LETTA_DESKTOP_DATA_DIR"])
    files = _files_under(*folders)
    assert ini in files
    holding_key = [str(p) for p in files if KEY.encode() in p.read_bytes()]
    assert holding_key == []


# -- a history page arriving during a send ----------------------------------------------------


def test_a_history_reload_during_a_send_shows_the_message_once(qtbot):
    model = TranscriptModel()
    model.add_local_user("otid-typed", "is this shown twice?", [])
    # The page the server returns while the reply is still on its way already holds the message
    # (same otid, the server's own id).
    model.set_history(
        [
            Message(
                id="message-1",
                kind="assistant",
                message_type="assistant_message",
                text="Hello! Ask me anything.",
            ),
            Message(
                id="message-2",
                kind="user",
                message_type="user_message",
                text="is this shown twice?",
                otid="otid-typed",
            ),
        ]
    )
    assert _rows(model) == [
        (RowKind.ASSISTANT, "Hello! Ask me anything.", RowState.DONE),
        (RowKind.USER, "is this shown twice?", RowState.DONE),
    ]
    assert [model.index(r, 0).data(OtidRole) for r in range(model.rowCount())] == [
        None,
        "otid-typed",
    ]


def test_a_history_reload_keeps_a_message_the_server_does_not_have_yet(qtbot):
    model = TranscriptModel()
    model.add_local_user("otid-new", "typed just now", [])
    model.set_history(
        [
            Message(
                id="message-1",
                kind="user",
                message_type="user_message",
                text="an older question",
                otid="otid-old",
            )
        ]
    )
    assert _rows(model) == [
        (RowKind.USER, "an older question", RowState.DONE),
        (RowKind.USER, "typed just now", RowState.SENDING),
    ]


# -- a history page that arrives after the reply -----------------------------------------------


def test_a_history_page_older_than_a_send_does_not_hide_it(qtbot, workers, fake):
    """The first history page is still on its way when the user sends (they type fast); it was
    read before the message existed, and it arrives after the reply: the message and the reply
    stay on screen."""
    agent = fake.agents[0]
    gate = threading.Event()
    first_page = {"held": False}
    real_handle = fake.handle

    def handle(request):
        response = real_handle(request)  # the page as it is now, before the send
        is_page = request.method == "GET" and request.url.path.endswith("/messages")
        if is_page and not first_page["held"]:
            first_page["held"] = True
            gate.wait(10)
        return response

    fake.handle = handle
    window = _window(qtbot, workers, fake)
    window.start("https://letta.test", KEY, agent["id"])
    qtbot.waitUntil(lambda: first_page["held"] and window.session.agent is not None, timeout=5000)
    _send(qtbot, window, "quick question")
    gate.set()
    qtbot.wait(300)  # the old page comes back
    qtbot.waitUntil(lambda: window.session._history_task is None, timeout=5000)
    rows = _rows(window.transcript_model)
    assert [(kind, text) for kind, text, state in rows if state is not RowState.FAILED] == [
        (RowKind.USER, "quick question"),
        (RowKind.ASSISTANT, "Echo: quick question"),
    ]
    assert (RowKind.ASSISTANT, "Echo: quick question", RowState.DONE) in rows


def test_a_history_page_during_a_reply_does_not_split_it(qtbot, workers, fake):
    """The agent's conversations arrive while the first reply is still streaming (the user sent
    at once): the newest page that follows would hold the whole reply and replace the rows under
    the stream, and the rest of the stream would make a second, partial reply row."""
    agent = fake.agents[0]
    conversations_gate, stream_gate = threading.Event(), threading.Event()
    real_handle = fake.handle

    def held_stream(body: bytes):
        events = body.split(b"\n\n")
        half = len(events) // 2
        yield b"\n\n".join(events[:half]) + b"\n\n"
        stream_gate.wait(10)
        yield b"\n\n".join(events[half:])

    def handle(request):
        response = real_handle(request)
        path = request.url.path.rstrip("/")
        if request.method == "GET" and path.endswith("/conversations"):
            conversations_gate.wait(10)
        if request.method == "POST" and path.endswith("/messages"):
            body = response.read()
            return httpx.Response(200, headers=response.headers, content=held_stream(body))
        return response

    fake.handle = handle
    window = _window(qtbot, workers, fake)
    window.start("https://letta.test", KEY, agent["id"])
    qtbot.waitUntil(lambda: window.session is not None and window.session.agent is not None)
    qtbot.keyClicks(window.composer, "are you there?")
    qtbot.keyClick(window.composer, Qt.Key.Key_Return)
    qtbot.waitUntil(
        lambda: any(kind is RowKind.ASSISTANT for kind, _, _ in _rows(window.transcript_model)),
        timeout=5000,
    )
    conversations_gate.set()  # the list lands mid-reply
    qtbot.wait(300)
    stream_gate.set()
    qtbot.waitUntil(lambda: not window.session.busy, timeout=5000)
    qtbot.waitUntil(lambda: window.session._history_task is None, timeout=5000)
    qtbot.wait(100)
    replies = [
        text for kind, text, _ in _rows(window.transcript_model) if kind is RowKind.ASSISTANT
    ]
    assert replies == ["Echo: are you there?"]
