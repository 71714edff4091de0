"""The real window warns about a text-only agent and switches its model on the real server."""

from __future__ import annotations

import json

from tests.e2e.conftest import TEXT_MODEL, VISION_MODEL
from tests.qt.attachments_support import png_bytes, wait_settled


def test_text_only_agent_warns_then_switches_and_the_image_reaches_the_llm(
    qtbot, letta_stack, open_window
):
    agent = letta_stack.create_agent(name="e2e-switch", model=TEXT_MODEL)
    window = open_window(agent["id"])
    window.resize(900, 700)
    assert window.vision.badge.text().startswith("✗")

    window.attachments.add_bytes(png_bytes(640, 400), "chart.png")
    wait_settled(qtbot, window.attachments, timeout=30000)
    banner = window.vision.banner
    qtbot.waitUntil(banner.isVisible, timeout=5000)
    assert banner.mode == "cannot" and "gpt-3.5-turbo cannot see images" in banner.message

    # Enter is held back: nothing reaches the server while the warning stands.
    before = len(letta_stack.chat_requests())
    window.composer.set_text("what is in this chart?")
    window.send()
    assert not window.session.busy and len(letta_stack.chat_requests()) == before

    banner.switch_button.click()
    dialog = window.vision.switcher
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.list.count() >= 2, timeout=30000)
    handles = dialog.handles()
    assert VISION_MODEL in handles and TEXT_MODEL in handles
    assert handles.index(VISION_MODEL) < handles.index(TEXT_MODEL)  # vision first
    assert dialog.list.item(handles.index(VISION_MODEL)).text().startswith("✓")
    assert dialog.list.item(handles.index(TEXT_MODEL)).text().startswith("✗")

    dialog.confirm = lambda _question: True
    dialog.select(VISION_MODEL)
    dialog.switch_button.click()
    qtbot.waitUntil(lambda: window.vision.switcher is None, timeout=30000)
    assert window.session.agent.model == VISION_MODEL
    assert window.vision.badge.text().startswith("✓")
    with letta_stack.http() as http:
        stored = http.get(f"/v1/agents/{agent['id']}").json()
    assert stored["model"] == VISION_MODEL or stored["llm_config"]["handle"] == VISION_MODEL

    wait_settled(qtbot, window.attachments, timeout=30000)
    assert not banner.isVisible()
    window.send()
    qtbot.waitUntil(lambda: window.session.busy, timeout=5000)
    qtbot.waitUntil(lambda: not window.session.busy, timeout=60000)
    assert len(window.attachments) == 0
    requests = letta_stack.chat_requests()
    assert len(requests) > before
    last_user = [m for m in requests[-1]["messages"] if m.get("role") == "user"][-1]
    content = json.dumps(last_user.get("content"))
    assert "image_url" in content and "what is in this chart?" in content
