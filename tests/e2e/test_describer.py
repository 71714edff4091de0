"""Images for an agent that cannot see, on the real server: described as text by a vision model
(the image never enters the blind agent's history), and a model switch that would make a
conversation's images unreadable asks first."""

from __future__ import annotations

import base64
import json

from desktop.core.describer import HELPER_TAG
from desktop.ui.user_errors import IMAGES_REFUSED
from tests.e2e.conftest import SDK_HEADERS, TEXT_MODEL, VISION_MODEL
from tests.qt.attachments_support import png_bytes, wait_settled


def _image_requests(letta_stack, since: int) -> list[tuple[str, str]]:
    """(model, last user text) of every LLM request since `since` that carried an image."""
    out = []
    for body in letta_stack.chat_requests()[since:]:
        if "image_url" in json.dumps(body.get("messages")):
            user = [m for m in body["messages"] if m.get("role") == "user"][-1]
            content = user.get("content")
            text = content if isinstance(content, str) else json.dumps(content)
            out.append((body.get("model"), text))
    return out


def _stored_parts(letta_stack, agent_id: str) -> list[tuple[str, str]]:
    """(part type, text) of every stored user message part of the agent (every conversation)."""
    with letta_stack.http() as http:
        messages = http.get(f"/v1/agents/{agent_id}/messages", params={"limit": 100}).json()
    found = []
    for m in messages:
        if m.get("message_type") != "user_message":
            continue
        content = m.get("content")
        if isinstance(content, str):
            found.append(("text", content))
        for p in content if isinstance(content, list) else []:
            found.append((str(p.get("type")), str(p.get("text") or "")))
    return found


def test_images_for_a_blind_agent_are_described_by_a_vision_model_and_arrive_as_text(
    qtbot, letta_stack, open_window
):
    agent = letta_stack.create_agent(name="e2e-blind", model=TEXT_MODEL)
    window = open_window(agent["id"])
    window.resize(900, 700)
    before = len(letta_stack.chat_requests())

    window.composer.set_text("What do these show?")
    window.attachments.add_bytes(png_bytes(640, 400), "first.png")
    window.attachments.add_bytes(png_bytes(300, 500), "second.png")
    wait_settled(qtbot, window.attachments, timeout=30000)
    banner = window.vision.banner
    qtbot.waitUntil(lambda: banner.describe_button.isVisible(), timeout=30000)
    assert banner.mode == "cannot"
    # The cost before it runs: gpt-4o-mini's tiles (640×400: 2,833 + 5,667·2; 300×500:
    # 2,833 + 5,667) and the prompt (400 + 150 per image).
    assert banner.describe_button.text() == "Describe with gpt-4o-mini (≈ 23,767 tokens)"

    banner.describe_button.click()
    qtbot.waitUntil(lambda: len(window.attachments) == 0, timeout=60000)
    text = window.composer.text()
    assert text.startswith("What do these show?\n\n[Image “first.png”, described by ")
    first, second = text.split("\n\n", 1)[1].split("\n\n")
    assert first.splitlines()[0] == f"[Image “first.png”, described by {VISION_MODEL}]"
    assert "image 1: image/png 640x400" in first  # the fake LLM's account of what it saw
    assert second.splitlines()[0] == f"[Image “second.png”, described by {VISION_MODEL}]"
    assert "image 1: image/png 300x500" in second
    assert not banner.isVisible()

    # Only the vision model saw the images, one request each, in order.
    seen = _image_requests(letta_stack, before)
    assert [model for model, _ in seen] == ["gpt-4o-mini", "gpt-4o-mini"]
    assert "first.png" in seen[0][1] and "second.png" in seen[1][1]

    window.send()
    qtbot.waitUntil(lambda: window.session.busy, timeout=5000)
    qtbot.waitUntil(lambda: not window.session.busy, timeout=60000)
    last = letta_stack.chat_requests()[-1]
    assert last["model"] == "gpt-3.5-turbo"
    assert "image_url" not in json.dumps(last["messages"])
    assert f"[Image “second.png”, described by {VISION_MODEL}]" in json.dumps(
        last["messages"], ensure_ascii=False
    )
    # The blind agent's history (through the API) holds text only.
    stored = _stored_parts(letta_stack, agent["id"])
    assert [kind for kind, _ in stored] == ["text"]
    assert stored[0][1] == text

    # The helper: found by its tag, no tools, and its conversations deleted afterwards.
    with letta_stack.http() as http:
        helpers = http.get("/v1/agents/", params={"tags": HELPER_TAG}).json()
        assert len(helpers) == 1
        helper = http.get(
            f"/v1/agents/{helpers[0]['id']}", params={"include": "agent.tools"}
        ).json()
        conversations = http.get("/v1/conversations/", params={"agent_id": helper["id"]}).json()
    assert helper["model"] == VISION_MODEL and helper["tools"] == []
    assert conversations == []
    assert _stored_parts(letta_stack, helper["id"]) == []


def test_a_switch_to_a_blind_model_with_images_in_the_conversation_asks_first(
    qtbot, letta_stack, open_window
):
    agent = letta_stack.create_agent(name="e2e-seeing", model=VISION_MODEL)
    image = base64.b64encode(png_bytes(320, 200)).decode()
    with letta_stack.http(headers=SDK_HEADERS) as http:
        sent = http.post(
            "/v1/conversations/default/messages",
            json={
                "agent_id": agent["id"],
                "streaming": False,
                "messages": [
                    {
                        "type": "message",
                        "role": "user",
                        "content": [
                            {"type": "text", "text": "look"},
                            {
                                "type": "image",
                                "source": {
                                    "type": "base64",
                                    "media_type": "image/png",
                                    "data": image,
                                },
                            },
                        ],
                    }
                ],
            },
        )
    assert sent.status_code == 200, sent.text
    window = open_window(agent["id"], ready=lambda w: w.vision.history_image_count() == 1)

    questions: list[str] = []
    window.vision.switch_model()
    dialog = window.vision.switcher
    qtbot.waitUntil(lambda: TEXT_MODEL in dialog.handles(), timeout=30000)
    dialog.confirm = lambda q: bool(questions.append(q))  # the user says No
    dialog.select(TEXT_MODEL)
    dialog.switch_button.click()
    assert questions == [
        f"Switch e2e-seeing from {VISION_MODEL} to {TEXT_MODEL}? This changes the agent on the"
        " server, for every app that uses it.\n\nThis conversation still holds 1 image, and"
        " gpt-3.5-turbo cannot see images: the model provider may reject every later turn of"
        " it. Switch back to a model that sees images to go on with it, or start a new"
        " conversation; to show this agent an image, describe it instead."
    ]
    with letta_stack.http() as http:
        assert http.get(f"/v1/agents/{agent['id']}").json()["model"] == VISION_MODEL

    # Confirmed: the switch happens, and the next turn's refusal is explained in those words.
    dialog.confirm = lambda _q: True
    dialog.switch_button.click()
    qtbot.waitUntil(lambda: window.vision.switcher is None, timeout=30000)
    assert window.session.agent.model == TEXT_MODEL
    window.composer.set_text("hello again")
    window.send()
    qtbot.waitUntil(lambda: window.session.busy, timeout=5000)
    qtbot.waitUntil(lambda: not window.session.busy, timeout=60000)
    qtbot.waitUntil(lambda: window.banner.isVisible(), timeout=10000)
    assert window.banner.label.text() == IMAGES_REFUSED
    assert window.banner.action_button.text() == "Switch model…"
    window.banner.action_button.click()
    qtbot.waitUntil(lambda: window.vision.switcher is not None, timeout=5000)
