"""Describe with ‹vision model› in the real window, against the in-memory server: the offer with
its cost, the text in the composer, Cancel, failures in words, and the model chosen in Settings.
(tests/e2e/test_describer.py proves the same against the real server.)"""

from __future__ import annotations

import threading

import httpx

from desktop.core.describer import HELPER_NAME, HELPER_TAG, SYSTEM_PROMPT
from desktop.settings import Settings
from desktop.ui.dialogs.settings import AUTOMATIC, SettingsDialog
from tests.qt import test_capability_ui as vision_ui
from tests.qt.test_capability_ui import TEXT, UNKNOWN, VISION, add_agent, attach

# The in-memory server with vision, text-only and unknown models, and the real window on it.
server = vision_ui.server
open_window = vision_ui.open_window

CLAUDE_HAIKU = "anthropic/claude-haiku-4-5"


def _helper_posts(server) -> list[dict]:
    return [p for p in server.posts if p["route"].startswith("conv-")]


def test_a_blind_agent_gets_the_images_described_as_text(qtbot, server, open_window):
    agent = add_agent(server, TEXT)
    window = open_window(agent)
    window.composer.set_text("Here:")
    attach(qtbot, window, n=2)
    banner = window.vision.banner
    qtbot.waitUntil(banner.describe_button.isVisible, timeout=5000)
    # 320×200 on gpt-4o-mini: 2,833 + 5,667 (one tile) + 550 for the prompt, twice.
    assert banner.describe_button.text() == "Describe with gpt-4o-mini (≈ 18,100 tokens)"
    assert banner.describe_button.accessibleName() == banner.describe_button.text()

    banner.describe_button.click()
    qtbot.waitUntil(lambda: len(window.attachments) == 0, timeout=5000)
    assert window.composer.text() == (
        "Here:\n\n"
        f"[Image “photo1.png”, described by {VISION}]\n"
        "Echo: Describe the image “photo1.png” and transcribe any text in it.\n\n"
        f"[Image “photo2.png”, described by {VISION}]\n"
        "Echo: Describe the image “photo2.png” and transcribe any text in it."
    )
    assert not banner.isVisible()
    # The helper: made once, on the vision model, with no tools and no memory blocks.
    assert len(server.created) == 1
    spec = server.created[0]
    assert spec["name"] == HELPER_NAME and spec["model"] == VISION
    assert spec["tags"] == [HELPER_TAG] and spec["system"] == SYSTEM_PROMPT
    assert spec["include_base_tools"] is False and spec["tool_ids"] == []
    assert spec["memory_blocks"] == []
    # One conversation per image, each deleted afterwards; nothing went to the blind agent.
    posts = _helper_posts(server)
    assert [[p["type"] for p in post["messages"][0]["content"]] for post in posts] == [
        ["text", "image"],
        ["text", "image"],
    ]
    assert server.deleted == [post["route"] for post in posts]
    assert len(set(server.deleted)) == 2
    assert not [p for p in server.posts if p["route"] == agent]

    # Described again later: the same helper, found by its tag.
    attach(qtbot, window)
    qtbot.waitUntil(banner.describe_button.isVisible, timeout=5000)
    banner.describe_button.click()
    qtbot.waitUntil(lambda: len(window.attachments) == 0, timeout=5000)
    assert len(server.created) == 1 and len(_helper_posts(server)) == 3


def test_cancel_keeps_the_images_and_the_text(qtbot, server, open_window):
    agent = add_agent(server, TEXT)
    window = open_window(agent)
    release = threading.Event()

    def slow_list(request: httpx.Request) -> httpx.Response:
        release.wait(10)
        return httpx.Response(200, json=[])

    server.routes[("GET", "/v1/agents/")] = slow_list
    window.composer.set_text("typed")
    attach(qtbot, window)
    banner = window.vision.banner
    qtbot.waitUntil(banner.describe_button.isVisible, timeout=5000)
    banner.describe_button.click()
    window.vision.refresh()  # anything that re-checks the images meanwhile leaves it be
    assert banner.mode == "describing" and banner.cancel_button.isVisible()
    assert banner.message == "Describing “photo1.png” with gpt-4o-mini…"
    assert not banner.describe_button.isVisible()

    banner.cancel_button.click()
    assert banner.mode == "cannot" and banner.describe_button.isVisible()
    release.set()
    window.workers.wait()
    qtbot.wait(20)
    assert window.composer.text() == "typed"
    assert [a.name for a in window.attachments.items] == ["photo1.png"]
    assert server.created == [] and _helper_posts(server) == []


def test_a_failure_is_told_in_words_and_the_images_stay(qtbot, server, open_window):
    agent = add_agent(server, TEXT)
    window = open_window(agent)
    server.routes[("POST", "/v1/agents/")] = httpx.Response(
        429, json={"error": "Agents limit", "reasons": ["agents-limit-exceeded"]}
    )
    attach(qtbot, window)
    banner = window.vision.banner
    qtbot.waitUntil(banner.describe_button.isVisible, timeout=5000)
    banner.describe_button.click()
    qtbot.waitUntil(lambda: banner.mode == "cannot", timeout=5000)
    assert window.banner.label.text() == (
        "The images were not described with gpt-4o-mini: Your Letta plan's agent limit is"
        " reached: delete an agent or upgrade the plan to create another."
    )
    assert [a.name for a in window.attachments.items] == ["photo1.png"]
    assert window.composer.text() == ""


def test_no_offer_without_a_vision_model_or_for_a_model_that_sees(qtbot, server, open_window):
    window = open_window(add_agent(server, VISION))
    attach(qtbot, window)
    assert not window.vision.banner.isVisible()

    server.models[:] = [m for m in server.models if m["handle"] != VISION]
    blind = open_window(add_agent(server, TEXT))
    attach(qtbot, blind)
    blind.workers.wait()
    qtbot.wait(20)
    assert blind.vision.banner.mode == "cannot"
    assert not blind.vision.banner.describe_button.isVisible()


def test_an_unknown_model_is_offered_describe_once_its_provider_refused_an_image(
    qtbot, server, open_window
):
    agent = add_agent(server, UNKNOWN)
    window = open_window(agent)
    # The provider refuses images for this one (the fake refuses by the capability data).
    server.agents[-1]["model"] = TEXT
    attach(qtbot, window)
    banner = window.vision.banner
    assert banner.mode == "unknown" and not banner.describe_button.isVisible()
    window.composer.set_text("look")
    window.send()
    qtbot.waitUntil(lambda: not window.session.busy and len(server.posts) == 1, timeout=5000)
    assert window.banner.action_button.text() == "Switch model…"
    attach(qtbot, window)
    qtbot.waitUntil(banner.describe_button.isVisible, timeout=5000)
    assert banner.mode == "unknown"


def test_the_describing_model_is_chosen_in_settings(qtbot, server, open_window, workers):
    server.models.append(
        {"handle": CLAUDE_HAIKU, "name": "claude-haiku-4-5", "provider_type": "anthropic"}
    )
    agent = add_agent(server, TEXT)
    settings = Settings()
    window = open_window(agent, settings)
    client = window.session.client
    dialog = SettingsDialog(
        settings,
        server="letta.test",
        open_connection=lambda: None,
        base_url="https://letta.test",
        list_models=client.list_models,
        workers=workers,
    )
    qtbot.addWidget(dialog)
    combo = dialog.describer_combo
    qtbot.waitUntil(lambda: combo.count() == 3, timeout=5000)
    assert [combo.itemText(i) for i in range(3)] == [AUTOMATIC, CLAUDE_HAIKU, VISION]
    combo.setCurrentIndex(1)
    assert settings.describer_model("https://letta.test") == CLAUDE_HAIKU
    dialog.reject()

    attach(qtbot, window)
    banner = window.vision.banner
    qtbot.waitUntil(banner.describe_button.isVisible, timeout=5000)
    # Claude: 320×200 / 750 px per token = 86, + 550 for the prompt.
    assert banner.describe_button.text() == "Describe with claude-haiku-4-5 (≈ 636 tokens)"
    banner.describe_button.click()
    qtbot.waitUntil(lambda: len(window.attachments) == 0, timeout=5000)
    assert window.composer.text().startswith(f"[Image “photo1.png”, described by {CLAUDE_HAIKU}]")
    assert [c["model"] for c in server.created] == [CLAUDE_HAIKU]

    settings.set_describer_model("https://letta.test", None)
    assert settings.describer_model("https://letta.test") is None


# -- the model switch with images in the conversation ------------------------------------------


def _questions(qtbot, window, target: str) -> list[str]:
    """What the Switch model dialog asks before switching to `target` (the user says No)."""
    window.vision.switch_model()
    dialog = window.vision.switcher
    qtbot.waitUntil(lambda: target in dialog.handles(), timeout=5000)
    asked: list[str] = []
    dialog.confirm = lambda q: bool(asked.append(q))
    dialog.select(target)
    dialog.switch_button.click()
    dialog.reject()
    return asked


def test_a_switch_to_a_blind_model_says_how_many_images_the_conversation_holds(
    qtbot, server, open_window
):
    window = open_window(add_agent(server, VISION, images_in_history=3))
    qtbot.waitUntil(lambda: window.vision.history_image_count() == 3, timeout=5000)
    agent = window.session.agent.name
    assert _questions(qtbot, window, TEXT) == [
        f"Switch {agent} from {VISION} to {TEXT}? This changes the agent on the server, for every"
        " app that uses it.\n\nThis conversation still holds 3 images, and gpt-3.5-turbo cannot"
        " see images: the model provider may reject every later turn of it. Switch back to a"
        " model that sees images to go on with it, or start a new conversation; to show this"
        " agent an image, describe it instead."
    ]
    # Unknown is not "cannot": no such warning; and none without images.
    assert "images" not in _questions(qtbot, window, UNKNOWN)[0]
    assert server.patches == []
    plain = open_window(add_agent(server, VISION))
    assert "images" not in _questions(qtbot, plain, TEXT)[0]


def test_a_conversations_own_model_switch_warns_too(qtbot, server, workers):
    from desktop.core.letta import Agent, Conversation
    from desktop.ui.vision.model_switcher import ModelSwitcher

    conversation = Conversation("conv-1", "agent-1", model=VISION)
    dialog = ModelSwitcher(
        workers,
        server.client(key=""),
        Agent("agent-1", "Helper", VISION),
        conversation=conversation,
        image_count=1,
    )
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: TEXT in dialog.handles(), timeout=5000)
    asked: list[str] = []
    dialog.confirm = lambda q: bool(asked.append(q))
    dialog.select(TEXT)
    dialog.switch_button.click()
    assert asked == [
        f"Switch this conversation from {VISION} to {TEXT}? The agent and its other"
        " conversations keep their models.\n\nThis conversation still holds 1 image, and"
        " gpt-3.5-turbo cannot see images: the model provider may reject every later turn of"
        " it. Switch back to a model that sees images to go on with it, or start a new"
        " conversation; to show this agent an image, describe it instead."
    ]
    dialog.reject()


def test_the_description_is_added_after_the_typed_text_as_one_undo_step(qtbot, server, open_window):
    window = open_window(add_agent(server, TEXT))
    composer = window.composer
    composer.add_block("[Image]")
    assert composer.text() == "[Image]"
    composer.set_text("look\n")
    composer.add_block("[Image “a.png”]\nA cat.")
    assert composer.text() == "look\n\n[Image “a.png”]\nA cat."
    assert composer.textCursor().position() == len(composer.text())
    composer.undo()
    assert composer.text() == "look\n"
