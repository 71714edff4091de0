"""The real window, driven like a user, against the real Letta server (walking skeleton)."""

from __future__ import annotations

from PySide6.QtCore import Qt

from desktop.ui.transcript import KindRole, OtidRole, RowKind, RowState, StateRole, TextRole
from tests.stall import StallMeter


def _rows(window) -> list[tuple[RowKind, str, str | None, RowState]]:
    model = window.transcript_model
    out = []
    for row in range(model.rowCount()):
        index = model.index(row, 0)
        out.append(
            (
                index.data(KindRole),
                index.data(TextRole) or "",
                index.data(OtidRole),
                index.data(StateRole),
            )
        )
    return out


def _send(qtbot, window, text: str) -> None:
    window.composer.setFocus()
    qtbot.keyClicks(window.composer, text)
    qtbot.keyClick(window.composer, Qt.Key.Key_Return)


def test_hello_streams_a_reply_and_the_server_stores_the_message_once(
    qtbot, letta_stack, open_window
):
    agent = letta_stack.create_agent(name="e2e-hello")
    window = open_window(agent["id"])
    assert window.windowTitle().startswith("e2e-hello")
    assert window.composer.hasFocus() or window.focusWidget() is window.composer

    with StallMeter() as meter:
        _send(qtbot, window, "hello")
        assert window.composer.text() == ""  # it moved into the transcript
        qtbot.waitUntil(lambda: not window.session.busy, timeout=60000)
    rows = _rows(window)
    user_rows = [r for r in rows if r[0] is RowKind.USER]
    assert user_rows, rows
    assert user_rows[-1][1] == "hello" and user_rows[-1][3] is RowState.SENT
    replies = [r for r in rows if r[0] is RowKind.ASSISTANT]
    assert replies and "Echo: hello" in replies[-1][1]
    assert meter.max_stall_ms < 250, f"GUI stalled {meter.max_stall_ms:.0f} ms"

    # The server has the message exactly once, with the otid the window sent.
    otid = user_rows[-1][2]
    with letta_stack.http() as http:
        history = http.get(
            f"/v1/agents/{agent['id']}/messages", params={"limit": 50, "order": "desc"}
        ).json()
    stored = [
        m for m in history if m.get("message_type") == "user_message" and m.get("otid") == otid
    ]
    assert len(stored) == 1
    content = stored[0]["content"]
    text = content if isinstance(content, str) else "".join(p.get("text", "") for p in content)
    assert text == "hello"
    # The fake LLM really received it (the reply was not made up by the client).
    assert any("hello" in str(body.get("messages", [])[-1]) for body in letta_stack.chat_requests())


def test_reopening_the_window_loads_the_history(qtbot, letta_stack, open_window):
    agent = letta_stack.create_agent(name="e2e-history")
    first = open_window(agent["id"])
    _send(qtbot, first, "remember the tulips")
    qtbot.waitUntil(lambda: not first.session.busy, timeout=60000)
    first.close()

    second = open_window(agent["id"])
    qtbot.waitUntil(lambda: any(r[0] is RowKind.ASSISTANT for r in _rows(second)), timeout=30000)
    rows = _rows(second)
    kinds = [r[0] for r in rows]
    assert (RowKind.USER, "remember the tulips") in [(r[0], r[1]) for r in rows]
    # newest at the bottom: the reply comes after the user's message
    assert kinds.index(RowKind.ASSISTANT) > [r[1] for r in rows].index("remember the tulips")
    assert "Echo: remember the tulips" in [r[1] for r in rows if r[0] is RowKind.ASSISTANT][-1]


def test_a_reply_can_be_stopped_with_escape(qtbot, letta_stack, open_window):
    agent = letta_stack.create_agent(name="e2e-stop")
    window = open_window(agent["id"])
    _send(qtbot, window, "tell me a long story [[long 400]] [[slow 0.05]]")
    qtbot.waitUntil(
        lambda: any(r[0] is RowKind.ASSISTANT and r[1] for r in _rows(window)), timeout=60000
    )
    qtbot.keyClick(window.composer, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not window.session.busy, timeout=15000)
    reply = [r for r in _rows(window) if r[0] is RowKind.ASSISTANT][-1][1]
    assert 0 < len(reply.split()) < 400  # it stopped before the end
    assert window.send_button.text() == "Send"
