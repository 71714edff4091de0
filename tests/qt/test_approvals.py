"""Tool approvals: the panel with one call or several (parallel tool calls), what it sends, and
the pending request found in history or collected from the stream; then in the window — the panel
from a streamed requires_approval, from history and from a 409; Approve and Deny (with a reason)
send the approval message and stream the rest."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from desktop.core.letta import ApprovalDecision, Message, StreamChunk, ToolCall
from desktop.settings import Settings
from desktop.ui.accessibility import interactive_widgets
from desktop.ui.chat.approvals import (
    FOREIGN_REASON,
    Approval,
    ApprovalPanel,
    StreamedApproval,
    answer_notice,
    pending_in,
)
from desktop.ui.transcript import KindRole, RowKind, TextRole
from desktop.ui.window.main_window import MainWindow
from tests.fake_letta import FakeLetta
from tests.memory_keyring import memory_secrets

URL = "https://letta.test"

WATER = ToolCall("call_water", "water_plants", '{"plant": "fern", "litres": 2}')
LIGHT = ToolCall("call_light", "set_lights", '{"room": "greenhouse", "on": true}')
BASH = ToolCall("call_bash", "Bash", '{"command": "rm -rf ~/plants"}')
AGENT_TOOLS = frozenset({"water_plants", "set_lights"})


@pytest.fixture
def panel(qtbot):
    widget = ApprovalPanel()
    qtbot.addWidget(widget)
    widget.resize(640, 400)
    return widget


def answers(qtbot, panel, click) -> list[ApprovalDecision]:
    """What the panel sends when `click()` is done (it must send exactly once)."""
    sent: list[list[ApprovalDecision]] = []
    panel.answered.connect(sent.append)
    click()
    assert len(sent) == 1
    return sent[0]


# -- the panel -------------------------------------------------------------------------------


def test_two_parallel_calls_are_shown_and_answered_with_mixed_choices(qtbot, panel):
    panel.show_approval(Approval.of([WATER, LIGHT], AGENT_TOOLS))
    assert panel.isVisible()
    assert "2 tool calls" in panel.title.text()
    first, second = panel.calls
    assert first.name_label.isVisible() and first.name_label.text() == "water_plants"
    assert second.name_label.text() == "set_lights"
    assert json.loads(first.arguments.toPlainText()) == {"plant": "fern", "litres": 2}
    assert second.arguments.toPlainText() == '{\n  "room": "greenhouse",\n  "on": true\n}'
    assert first.arguments.isReadOnly() and second.arguments.isReadOnly()
    assert panel.approve_button.text() == "Approve all"
    assert panel.deny_button.text() == "Deny all"
    assert panel.send_button.isVisible()

    # nothing is chosen for the user: Send answers waits for a choice on every call
    assert not panel.send_button.isEnabled()
    first.approve.click()
    assert not panel.send_button.isEnabled()
    assert "1 more tool call" in panel.send_button.toolTip()
    second.deny.click()
    assert panel.send_button.isEnabled()
    qtbot.keyClicks(panel.reason, "the lights stay off at night")

    sent = answers(qtbot, panel, panel.send_button.click)
    assert sent == [
        ApprovalDecision("call_water", True, "the lights stay off at night"),
        ApprovalDecision("call_light", False, "the lights stay off at night"),
    ]
    # answered once: nothing more can be sent until the session asks again
    assert not any(
        w.isEnabled()
        for w in (panel.send_button, panel.approve_button, panel.deny_button, first.approve)
    )
    assert answer_notice(panel.approval, sent) == (
        "You approved water_plants and denied set_lights: the lights stay off at night"
    )


@pytest.mark.parametrize("approve", [True, False])
def test_approve_all_and_deny_all_answer_every_call(qtbot, panel, approve):
    panel.show_approval(Approval.of([WATER, LIGHT], AGENT_TOOLS))
    panel.calls[1].deny.click()  # a choice made on one call does not matter to "… all"
    button = panel.approve_button if approve else panel.deny_button
    sent = answers(qtbot, panel, button.click)
    assert sent == [
        ApprovalDecision("call_water", approve, None),
        ApprovalDecision("call_light", approve, None),
    ]


def test_a_tool_of_another_client_can_only_be_denied(qtbot, panel):
    panel.show_approval(Approval.of([WATER, BASH], AGENT_TOOLS))
    own, foreign = panel.calls
    assert not own.note.isVisible()
    assert foreign.note.isVisible() and "only deny it" in foreign.note.text()
    assert foreign.deny.isChecked() and not foreign.approve.isEnabled()
    assert own.approve.isEnabled()
    # "Approve all" approves the agent's own tool and still denies the other client's,
    # telling the agent why
    assert "other app's tools are denied" in panel.approve_button.toolTip()
    sent = answers(qtbot, panel, panel.approve_button.click)
    assert sent == [
        ApprovalDecision("call_water", True, None),
        ApprovalDecision("call_bash", False, FOREIGN_REASON),
    ]


def test_a_single_foreign_call_offers_deny_only(qtbot, panel):
    panel.show_approval(Approval.of([BASH], AGENT_TOOLS))
    assert "Bash" in panel.title.text() and "another app" in panel.title.text()
    assert panel.calls[0].note.isVisible()
    assert not panel.approve_button.isEnabled()
    panel.set_enabled(True)  # the session becoming idle again must not enable it either
    assert not panel.approve_button.isEnabled()
    qtbot.keyClicks(panel.reason, "use the desktop tools")
    sent = answers(qtbot, panel, panel.deny_button.click)
    assert sent == [ApprovalDecision("call_bash", False, "use the desktop tools")]


def test_with_unknown_agent_tools_nothing_counts_as_foreign(qtbot, panel):
    panel.show_approval(Approval.of([BASH]))
    assert panel.approve_button.isEnabled() and not panel.calls[0].note.isVisible()
    assert answers(qtbot, panel, panel.approve_button.click) == [
        ApprovalDecision("call_bash", True, None)
    ]


def test_a_single_call_looks_and_works_as_before(qtbot, panel):
    panel.show_approval(Approval.of([WATER], AGENT_TOOLS))
    assert panel.title.text() == "The agent wants to run water_plants. Approve it?"
    assert panel.arguments.toPlainText().startswith("{\n  ")
    assert not panel.send_button.isVisible()
    assert not panel.calls[0].approve.isVisible()  # the buttons below are the choice
    assert panel.approve_button.text() == "Approve"
    assert panel.approve_button.accessibleName() == "Approve tool call"
    assert panel.deny_button.accessibleName() == "Deny tool call"
    sent = answers(qtbot, panel, panel.deny_button.click)
    assert sent == [ApprovalDecision("call_water", False, None)]
    panel.show_approval(None)
    assert not panel.isVisible()


def test_bidi_and_zero_width_characters_are_shown_not_obeyed(qtbot, panel):
    sneaky = ToolCall(
        "call_x", "invoice\u202efdp.sh", '{"path": "/tmp/a\u200bb", "note": "x\u2066y\u2069"}'
    )
    panel.show_approval(Approval.of([sneaky, WATER]))
    call = panel.calls[0]
    assert call.name_label.text() == "invoice⟨U+202E⟩fdp.sh"
    assert call.name_label.textFormat() == Qt.TextFormat.PlainText
    args = call.arguments.toPlainText()
    assert "/tmp/a⟨U+200B⟩b" in args and "x⟨U+2066⟩y⟨U+2069⟩" in args
    hidden = ("\u202e", "\u200b", "\u2066", "\u2069")
    for text in (call.name_label.text(), args, call.approve.accessibleName()):
        assert not any(ch in text for ch in hidden)
    panel.show_approval(Approval.of([sneaky]))
    assert "invoice⟨U+202E⟩fdp.sh" in panel.title.text()


def test_names_and_arguments_are_plain_text_never_markup(qtbot, panel):
    panel.show_approval(Approval.of([ToolCall("c1", "<b>rm</b>", '"<img src=x>"')]))
    assert panel.title.textFormat() == Qt.TextFormat.PlainText
    assert "<b>rm</b>" in panel.title.text()
    assert panel.arguments.toPlainText() == '"<img src=x>"'


def test_many_calls_scroll_and_every_control_is_named(qtbot, panel):
    calls = [ToolCall(f"c{i}", "water_plants", json.dumps({"pot": i})) for i in range(12)]
    panel.show()
    panel.show_approval(Approval.of(calls, AGENT_TOOLS))
    qtbot.waitUntil(lambda: panel.list.verticalScrollBar().maximum() > 0)
    assert panel.list.height() <= 300
    unnamed = [w for w in interactive_widgets(panel) if w.isVisible() and not w.accessibleName()]
    assert not unnamed
    names = {w.accessibleName() for w in interactive_widgets(panel)}
    assert {"Approve call 3 of 12, water_plants", "Deny call 12 of 12, water_plants"} <= names
    assert "Arguments of call 1 of 12, water_plants" in names
    assert {"Approve all tool calls", "Deny all tool calls", "Send answers"} <= names


def test_tab_goes_through_each_call_then_the_reason_and_the_answers(qtbot, panel):
    panel.show_approval(Approval.of([WATER, LIGHT], AGENT_TOOLS))
    panel.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is panel)
    first, second = panel.calls
    first.arguments.setFocus()
    order = [QApplication.focusWidget()]
    for _ in range(7):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        order.append(QApplication.focusWidget())
    # the radios of one call are one stop (arrow keys move between them), like any radio group
    expected = [first.arguments, first.approve, second.arguments, second.approve]
    expected += [panel.reason, panel.deny_button, panel.approve_button]
    assert order[:7] == expected


def test_the_same_request_again_keeps_the_choices_and_the_reason(qtbot, panel):
    approval = Approval.of([WATER, LIGHT], AGENT_TOOLS)
    panel.show_approval(approval)
    panel.calls[0].approve.click()
    qtbot.keyClicks(panel.reason, "fine")
    panel.show_approval(Approval.of([WATER, LIGHT], AGENT_TOOLS))
    assert panel.calls[0].approve.isChecked() and panel.reason.text() == "fine"
    panel.show_approval(Approval.of([LIGHT], AGENT_TOOLS))  # a different request: fresh
    assert panel.reason.text() == "" and len(panel.calls) == 1


# -- finding the pending request -------------------------------------------------------------


def _request(calls: list[dict], mid: str = "message-req") -> Message:
    return Message.from_json(
        {"id": mid, "message_type": "approval_request_message", "tool_calls": calls}
    )


def test_pending_in_finds_every_call_of_the_request_at_the_end_of_history():
    history = [  # newest first
        Message.from_json({"id": "r", "message_type": "reasoning_message", "reasoning": "hm"}),
        _request(
            [
                {"tool_call_id": "call_water", "name": "water_plants", "arguments": "{}"},
                {"tool_call_id": "call_bash", "name": "Bash", "arguments": '{"command": "ls"}'},
            ]
        ),
        Message.from_json({"id": "u", "message_type": "user_message", "content": "go"}),
    ]
    approval = pending_in(history[1:], AGENT_TOOLS)
    assert approval is not None
    assert approval.ids == ("call_water", "call_bash")
    assert [c.name for c in approval.calls] == ["water_plants", "Bash"]
    assert approval.calls[1].arguments == '{"command": "ls"}'
    assert approval.foreign == frozenset({"call_bash"})
    assert pending_in(history[1:]).foreign == frozenset()  # tools unknown: none foreign


def test_pending_in_merges_a_request_listed_one_call_per_row_and_skips_answered_ones():
    one = _request([{"tool_call_id": "a", "name": "water_plants", "arguments": "{}"}])
    two = _request([{"tool_call_id": "b", "name": "set_lights", "arguments": "{}"}])
    assert pending_in([two, one]).ids == ("a", "b")  # newest first in, oldest first out
    answered = Message.from_json(
        {
            "id": "resp",
            "message_type": "approval_response_message",
            "approvals": [{"tool_call_id": "a", "approve": True}],
        }
    )
    assert pending_in([answered, two, one]) is None
    older = _request([{"tool_call_id": "z", "name": "old", "arguments": "{}"}], mid="message-0")
    assert pending_in([two, one, older]).ids == ("a", "b")
    assert pending_in([]) is None


def _piece(call_id: str | None, text: str, name: str | None = None) -> StreamChunk:
    return StreamChunk(
        key=f"approval_request_message:req:{call_id or ''}",
        kind="approval",
        message_type="approval_request_message",
        text=text,
        id="req",
        tool_name=name,
        tool_call_id=call_id,
    )


def test_streamed_approval_collects_interleaved_pieces_per_call():
    streamed = StreamedApproval()
    streamed.add(_piece("call_water", "", "water_plants"))
    streamed.add(_piece("call_bash", '{"comm', "Bash"))
    streamed.add(_piece("call_water", '{"plant": '))
    streamed.add(_piece("call_bash", 'and": "ls"}'))
    streamed.add(_piece("call_water", '"fern"}'))
    streamed.add(  # another message type never joins the approval
        StreamChunk("tool_call_message:t:x", "tool_call", "tool_call_message", "{}", "t", None, "x")
    )
    approval = streamed.result(AGENT_TOOLS)
    assert approval == Approval(
        (
            ToolCall("call_water", "water_plants", '{"plant": "fern"}'),
            ToolCall("call_bash", "Bash", '{"command": "ls"}'),
        ),
        frozenset({"call_bash"}),
    )
    assert StreamedApproval().result() is None


@pytest.fixture
def fake():
    server = FakeLetta()
    server.add_agent("Gardener")
    return server


@pytest.fixture
def window(qtbot, workers, fake):
    win = MainWindow(workers, Settings(), memory_secrets(), fake.factory)
    qtbot.addWidget(win)
    win.show()
    yield win
    win.close()


def rows(window) -> list[tuple[RowKind, str]]:
    model = window.transcript_model
    return [
        (model.index(r, 0).data(KindRole), model.index(r, 0).data(TextRole))
        for r in range(model.rowCount())
    ]


def start(qtbot, window, fake):
    window.start(URL, fake.key, fake.agents[0]["id"])
    qtbot.waitUntil(
        lambda: (
            window.session is not None
            and window.session.agent is not None
            and window.session._history_task is None
        ),
        timeout=5000,
    )
    qtbot.waitUntil(lambda: window.conversations.isVisible(), timeout=5000)


def send(qtbot, window, text):
    window.composer.set_text(text)
    qtbot.keyClick(window.composer, Qt.Key.Key_Return)


def test_streamed_approval_shows_the_call_and_approve_runs_it(qtbot, window, fake):
    start(qtbot, window, fake)
    panel = window.approval
    assert not panel.isVisible()
    send(qtbot, window, "water the fern [[approval]]")
    qtbot.waitUntil(panel.isVisible, timeout=5000)
    assert "water_plants" in panel.title.text()
    assert json.loads(panel.arguments.toPlainText()) == {"plant": "fern", "litres": 2}
    assert panel.arguments.toPlainText().startswith("{\n  ")  # pretty-printed
    assert (RowKind.APPROVAL, '{"plant": "fern", "litres": 2}') in rows(window)
    qtbot.waitUntil(lambda: not window.session.busy, timeout=5000)

    panel.approve_button.click()
    qtbot.waitUntil(
        lambda: (RowKind.ASSISTANT, "Tool result: watered fern") in rows(window), timeout=5000
    )
    assert not panel.isVisible()
    sent = fake.approvals[-1]
    call_id = sent["approvals"][0]["tool_call_id"]
    assert sent["route"] in (fake.agents[0]["id"], "default")  # the default conversation
    assert {**sent, "route": None} == {
        "route": None,
        "type": "approval",
        "approvals": [
            {"type": "approval", "tool_call_id": call_id, "approve": True, "reason": None}
        ],
    }
    assert (RowKind.TOOL_RETURN, "watered fern") in rows(window)
    assert any(k is RowKind.NOTICE and "approved water_plants" in t for k, t in rows(window))


def test_deny_sends_the_reason(qtbot, window, fake):
    start(qtbot, window, fake)
    panel = window.approval
    send(qtbot, window, "[[approval]] please")
    qtbot.waitUntil(panel.isVisible, timeout=5000)
    qtbot.waitUntil(lambda: not window.session.busy, timeout=5000)
    qtbot.keyClicks(panel.reason, "too wet already")
    panel.deny_button.click()
    qtbot.waitUntil(lambda: not panel.isVisible() and bool(fake.approvals), timeout=5000)
    answer = fake.approvals[-1]["approvals"][0]
    assert answer["approve"] is False and answer["reason"] == "too wet already"
    qtbot.waitUntil(
        lambda: any("denied" in t for k, t in rows(window) if k is RowKind.ASSISTANT), timeout=5000
    )


def test_an_unanswered_request_in_history_shows_the_panel(qtbot, window, fake, workers):
    start(qtbot, window, fake)
    send(qtbot, window, "[[approval]]")
    qtbot.waitUntil(window.approval.isVisible, timeout=5000)
    qtbot.waitUntil(lambda: not window.session.busy, timeout=5000)
    window.close()

    again = MainWindow(workers, Settings(), memory_secrets(), fake.factory)
    qtbot.addWidget(again)
    again.show()
    start(qtbot, again, fake)
    panel = again.approval
    qtbot.waitUntil(panel.isVisible, timeout=5000)
    assert panel.approval.ids == (fake.pending[fake.agents[0]["id"]],)
    panel.approve_button.click()
    qtbot.waitUntil(lambda: not fake.pending, timeout=5000)
    qtbot.waitUntil(lambda: not again.session.busy, timeout=5000)
    again.close()


def test_a_409_pending_approval_on_send_brings_the_panel_back(qtbot, window, fake):
    start(qtbot, window, fake)
    send(qtbot, window, "[[approval]]")
    panel = window.approval
    qtbot.waitUntil(panel.isVisible, timeout=5000)
    qtbot.waitUntil(lambda: not window.session.busy, timeout=5000)
    window.session._set_approval(None)  # as if the panel had been lost (another client, …)
    assert not panel.isVisible()
    send(qtbot, window, "are you there?")
    qtbot.waitUntil(panel.isVisible, timeout=5000)
    assert "approve or deny" in window.banner.label.text().lower()


def test_approvals_in_a_conversation_go_to_its_route(qtbot, window, fake):
    agent_id = fake.agents[0]["id"]
    conv = fake.add_conversation(agent_id, "Greenhouse")
    window.settings.set_last_conversation(URL, agent_id, conv["id"])
    start(qtbot, window, fake)
    assert window.session.conversation_id == conv["id"]
    send(qtbot, window, "[[approval]]")
    qtbot.waitUntil(window.approval.isVisible, timeout=5000)
    qtbot.waitUntil(lambda: not window.session.busy, timeout=5000)
    window.approval.approve_button.click()
    qtbot.waitUntil(lambda: bool(fake.approvals), timeout=5000)
    assert fake.approvals[-1]["route"] == conv["id"]
    qtbot.waitUntil(lambda: not window.session.busy, timeout=5000)


# -- parallel tool calls in the window ---------------------------------------------------------


def test_parallel_calls_from_the_stream_are_answered_together(qtbot, workers):
    fake = FakeLetta()
    agent = fake.add_agent("Gardener")
    agent["tools"] = [{"name": "water_plants"}, {"name": "send_message"}]
    win = MainWindow(workers, Settings(), memory_secrets(), fake.factory)
    qtbot.addWidget(win)
    win.show()
    start(qtbot, win, fake)
    panel = win.approval
    send(qtbot, win, "water and look around [[parallel]]")
    qtbot.waitUntil(panel.isVisible, timeout=5000)
    qtbot.waitUntil(lambda: not win.session.busy, timeout=5000)
    assert [c.name_label.text() for c in panel.calls] == ["water_plants", "Bash"]
    assert json.loads(panel.calls[0].arguments.toPlainText()) == {"plant": "fern"}
    assert json.loads(panel.calls[1].arguments.toPlainText()) == {"command": "ls ~"}
    assert panel.calls[1].note.isVisible()  # Bash is not the agent's: deny only
    # both calls are in the transcript too (a row per call while streamed)
    shown = "\n".join(t for k, t in rows(win) if k is RowKind.APPROVAL)
    assert '{"plant": "fern"}' in shown and '{"command": "ls ~"}' in shown

    panel.calls[0].approve.click()
    panel.send_button.click()
    qtbot.waitUntil(lambda: (RowKind.ASSISTANT, "Done with both.") in rows(win), timeout=5000)
    assert fake.approvals[-1]["approvals"] == [
        {"type": "approval", "tool_call_id": "call_w", "approve": True, "reason": None},
        {"type": "approval", "tool_call_id": "call_b", "approve": False, "reason": FOREIGN_REASON},
    ]
    assert not panel.isVisible()
    qtbot.waitUntil(lambda: not win.session.busy, timeout=5000)
    win.close()
