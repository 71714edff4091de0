"""Who sees images: the ✓/✗/? badge, the banner before sending, the model switcher, the limits.

A real LettaClient talks to the in-memory FakeLetta (tests/fake_letta.py), which serves the agents,
their history, `GET /v1/models/` and `PATCH /v1/agents/{id}`, and answers like a provider that
refuses images when the agent's model is text-only.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication

from desktop.core.attachments import Attachment, State
from desktop.core.capabilities import capability_for
from desktop.core.images import PreparedImage
from desktop.settings import Settings
from desktop.ui.notice import Tone
from desktop.ui.style.tones import tone
from desktop.ui.transcript import KindRole, RowKind, TextRole
from desktop.ui.vision.banner import MAX_CHARS, REANNOUNCE_MS, Mode, VisionBanner
from desktop.ui.window.main_window import MainWindow
from tests.fake_letta import FakeLetta
from tests.memory_keyring import memory_secrets
from tests.qt.attachments_support import png_bytes, wait_settled

VISION = "openai-proxy/gpt-4o-mini"
TEXT = "openai-proxy/gpt-3.5-turbo"
UNKNOWN = "letta/auto"
CLAUDE = "anthropic/claude-sonnet-4-5-20250929"
MODELS = [TEXT, UNKNOWN, VISION]  # the server's order: the dialog must sort vision first


def image_part(data: str = "iVBORw0KGgo=") -> dict[str, Any]:
    return {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": data}}


def add_agent(server: FakeLetta, model: str, images_in_history: int = 0) -> str:
    """An agent on `model` whose history holds that many messages with an image."""
    agent_id = f"agent-{len(server.agents) + 1}"
    server.add_agent(f"Agent on {model}", model, agent_id=agent_id)
    server.messages[agent_id] += [
        {
            "id": f"message-{agent_id}-{i}",
            "message_type": "user_message",
            "otid": f"o{i}",
            "date": f"2026-01-01T10:00:{i:02d}+00:00",
            "content": [{"type": "text", "text": f"picture {i}"}, image_part()],
        }
        for i in range(images_in_history)
    ]
    return agent_id


@pytest.fixture
def server() -> FakeLetta:
    """The server's models in its own order (the dialog must sort vision first); any key."""
    models = [
        {
            "handle": h,
            "name": h.split("/")[1],
            "display_name": h.split("/")[1],
            "provider_type": "openai",
            "provider_name": h.split("/")[0],
        }
        for h in MODELS
    ]
    return FakeLetta(key=None, models=models)


@pytest.fixture
def open_window(qtbot, workers, server):
    windows: list[MainWindow] = []

    def make(agent_id: str, settings: Settings | None = None) -> MainWindow:
        window = MainWindow(workers, settings or Settings(), memory_secrets(), server.factory)
        qtbot.addWidget(window)
        window.resize(900, 700)
        window.show()
        window.start("https://letta.test", "good-key", agent_id)
        qtbot.waitUntil(
            lambda: (
                window.session is not None
                and window.session.agent is not None
                and window.vision.badge.isVisible()
            ),
            timeout=5000,
        )
        workers.wait()
        qtbot.wait(10)
        windows.append(window)
        return window

    yield make
    for window in windows:
        if window.vision.switcher is not None:
            window.vision.switcher.reject()
        window.close()
    workers.wait()


def attach(qtbot, window: MainWindow, n: int = 1, size: tuple[int, int] = (320, 200)) -> None:
    for i in range(n):
        window.attachments.add_bytes(png_bytes(*size), f"photo{i + 1}.png")
    wait_settled(qtbot, window.attachments)
    qtbot.wait(10)


def rows(window: MainWindow) -> list[tuple[RowKind, str]]:
    m = window.transcript_model
    return [
        (m.index(r, 0).data(KindRole), m.index(r, 0).data(TextRole) or "")
        for r in range(m.rowCount())
    ]


# -- the badge --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "mark", "status", "colour"),
    [
        (VISION, "✓", "sees images", Tone.OK),
        (TEXT, "✗", "cannot see images", Tone.ERROR),
        (UNKNOWN, "?", "unknown whether it sees images", Tone.WARNING),
    ],
)
def test_badge_shows_whether_the_model_sees_images(
    qtbot, server, open_window, model, mark, status, colour
):
    window = open_window(add_agent(server, model))
    badge = window.vision.badge
    assert badge.isVisible() and badge.text().startswith(mark)
    # green, red or amber text
    assert f"color: {tone(QApplication.palette(), colour).name()};" in badge.styleSheet()
    assert status in badge.toolTip() and "Source:" in badge.toolTip()
    assert status in badge.accessibleName()
    assert model.split("/")[1] in window.model_label.text()
    assert not window.vision.banner.isVisible()  # nothing pending: nothing to warn about


def test_override_from_the_badge_wins_and_survives_a_restart(qtbot, server, open_window):
    agent = add_agent(server, TEXT)
    window = open_window(agent)
    window.vision.badge.yes_action.trigger()  # "This model can see images"
    assert window.vision.badge.text().startswith("✓")
    assert "your setting" in window.vision.badge.toolTip()
    assert Settings().vision_overrides() == {TEXT: True}  # a fresh instance reads the file

    again = open_window(agent, Settings())  # "restart": new settings object, new window
    assert again.vision.badge.text().startswith("✓")
    assert again.vision.badge.yes_action.isChecked()
    again.vision.badge.builtin_action.trigger()  # "Use built-in data"
    assert again.vision.badge.text().startswith("✗")
    assert Settings().vision_overrides() == {}


# -- the banner -------------------------------------------------------------------------------


def test_text_only_model_with_an_image_pending_shows_the_banner(qtbot, server, open_window):
    window = open_window(add_agent(server, TEXT))
    attach(qtbot, window)
    banner = window.vision.banner
    assert banner.isVisible() and banner.mode is Mode.CANNOT
    assert "gpt-3.5-turbo cannot see images" in banner.message
    assert "reject" in banner.message and "only be told" not in banner.message
    assert "told that an image exists" in banner.message
    assert banner.accessibleName().startswith("Warning")
    assert banner.accessibleDescription() == banner.message
    for button in (banner.switch_button, banner.send_button, banner.remove_button):
        assert button.isVisible()

    # Enter does not send: the banner stays, nothing reached the server.
    window.composer.set_text("what is this?")
    window.send()
    assert server.posts == [] and banner.isVisible()


def test_remove_images_clears_the_strip(qtbot, server, open_window):
    window = open_window(add_agent(server, TEXT))
    attach(qtbot, window, 2)
    window.vision.banner.remove_button.click()
    assert len(window.attachments) == 0
    assert not window.strip.isVisible() and not window.vision.banner.isVisible()
    window.composer.set_text("text only then")
    window.send()
    qtbot.waitUntil(lambda: not window.session.busy, timeout=5000)
    assert server.posts[-1]["messages"][0]["content"] == [
        {"type": "text", "text": "text only then"}
    ]


def test_send_anyway_sends_and_a_provider_refusal_names_the_image(qtbot, server, open_window):
    window = open_window(add_agent(server, TEXT))
    attach(qtbot, window)
    window.composer.set_text("look")
    window.vision.banner.send_button.click()
    qtbot.waitUntil(lambda: len(server.posts) == 1, timeout=5000)
    qtbot.waitUntil(lambda: not window.session.busy, timeout=5000)
    content = server.posts[0]["messages"][0]["content"]
    assert [p["type"] for p in content] == ["text", "image"]
    assert len(window.attachments) == 0 and not window.vision.banner.isVisible()
    notices = [text for kind, text in rows(window) if kind is RowKind.NOTICE]
    assert any("image was the likely cause" in t and "gpt-3.5-turbo" in t for t in notices)
    assert "likely cause" in window.banner.label.text()

    # The next image is guarded again: "Send anyway" was for that one message only.
    attach(qtbot, window)
    assert window.vision.banner.isVisible() and window.vision.banner.mode is Mode.CANNOT


def test_switch_model_lists_vision_first_and_patches_the_agent(qtbot, server, open_window):
    agent = add_agent(server, TEXT)
    window = open_window(agent)
    attach(qtbot, window)
    window.vision.banner.switch_button.click()
    dialog = window.vision.switcher
    assert dialog is not None and dialog.isVisible()
    qtbot.waitUntil(lambda: dialog.list.count() == 3, timeout=5000)
    assert dialog.handles() == [VISION, UNKNOWN, TEXT]
    texts = [dialog.list.item(i).text() for i in range(3)]
    assert texts[0].startswith("✓") and texts[1].startswith("?") and texts[2].startswith("✗")
    assert "(current)" in texts[2]

    questions: list[str] = []
    dialog.confirm = lambda q: questions.append(q) or False  # the user says no first
    dialog.select(VISION)
    dialog.switch_button.click()
    assert questions and "gpt-4o-mini" in questions[0] and server.patches == []

    dialog.confirm = lambda q: True
    dialog.switch_button.click()
    qtbot.waitUntil(lambda: window.vision.switcher is None, timeout=5000)
    assert server.patches == [(agent, {"model": VISION})]
    assert window.session.agent.model == VISION
    assert "gpt-4o-mini" in window.model_label.text()
    assert window.vision.badge.text().startswith("✓")
    wait_settled(qtbot, window.attachments)
    assert not window.vision.banner.isVisible()  # re-evaluated at once

    window.composer.set_text("now describe it")
    window.send()
    qtbot.waitUntil(lambda: len(server.posts) == 1 and not window.session.busy, timeout=5000)
    assert [p["type"] for p in server.posts[0]["messages"][0]["content"]] == ["text", "image"]


def test_unknown_model_gets_a_softer_notice_with_the_override(qtbot, server, open_window):
    window = open_window(add_agent(server, UNKNOWN))
    attach(qtbot, window)
    banner = window.vision.banner
    assert banner.isVisible() and banner.mode is Mode.UNKNOWN
    assert "not known whether auto can see images" in banner.message
    assert banner.yes_button.isVisible() and not banner.send_button.isVisible()
    banner.no_button.click()  # "It cannot": stored, and now the real warning
    assert Settings().vision_overrides() == {UNKNOWN: False}
    assert banner.mode is Mode.CANNOT and window.vision.badge.text().startswith("✗")
    banner.no_button.setVisible(False)
    window.vision.set_override(UNKNOWN, True)
    assert not banner.isVisible()


def test_unknown_model_does_not_block_the_send(qtbot, server, open_window):
    window = open_window(add_agent(server, UNKNOWN))
    attach(qtbot, window)
    window.composer.set_text("hi")
    window.send()
    qtbot.waitUntil(lambda: len(server.posts) == 1 and not window.session.busy, timeout=5000)


# -- limits before the POST -------------------------------------------------------------------


def _oversized(window: MainWindow, edge: int = 2400) -> Attachment:
    """A ready attachment fitted earlier to a larger profile (2400 px long edge)."""
    att = Attachment.from_bytes(b"not used", "big.png")
    att.prepared = PreparedImage(
        "image/png",
        b"\x89PNG" + b"0" * 1000,
        edge,
        edge * 2 // 3,
        edge,
        edge * 2 // 3,
        "image/png",
        1004,
    )
    att.state = State.READY
    att.limits = window.attachments.limits()  # nothing to re-fit: the guard must catch it
    window.attachments.restore([att])
    return att


def test_a_21st_image_over_2000_px_on_claude_gets_a_badge(qtbot, server, open_window):
    window = open_window(add_agent(server, CLAUDE, images_in_history=20))
    qtbot.waitUntil(lambda: window.vision.history_image_count() == 20, timeout=5000)
    att = _oversized(window)
    qtbot.waitUntil(lambda: att.state is State.PROBLEM, timeout=2000)  # next event-loop turn
    assert "2000 px" in att.problem and "more than 20 images" in att.problem
    chip = window.strip.chip_for(att)
    assert chip is not None and chip.has_problem and "2000 px" in chip.toolTip()
    banner = window.vision.banner
    assert banner.isVisible() and banner.mode is Mode.LIMITS
    window.composer.set_text("and this one")
    window.send()
    assert server.posts == []  # nothing that would poison the history goes out
    banner.remove_button.click()  # removes the offending image only
    assert len(window.attachments) == 0 and not banner.isVisible()


def test_the_same_image_is_fine_in_a_short_conversation(qtbot, server, open_window):
    window = open_window(add_agent(server, CLAUDE, images_in_history=2))
    qtbot.waitUntil(lambda: window.vision.history_image_count() == 2, timeout=5000)
    att = _oversized(window)
    assert att.state is State.READY and att.problem is None
    assert not window.vision.banner.isVisible()


def test_limits_follow_the_conversation_and_tokens_are_shown(qtbot, server, open_window):
    window = open_window(add_agent(server, CLAUDE, images_in_history=20))
    qtbot.waitUntil(lambda: window.vision.history_image_count() == 20, timeout=5000)
    assert window.vision.limits().max_long_edge <= 2000
    attach(qtbot, window, 2, size=(1092, 1092))
    label = window.vision.tokens_label
    assert label.isVisible() and "2 images" in label.text()
    # Claude keeps ≈1.15 MP: 1092×1092 is sent as 1072×1072, ≈ 1,533 tokens each
    assert "1,533" in label.toolTip()
    assert "3,066" in label.text()
    assert "tokens" in window.strip.chip_for(window.attachments.items[0]).toolTip()


# -- what the limits are computed from --------------------------------------------------------


def _count_override_reads(monkeypatch, settings: Settings) -> list[int]:
    """Each read of the stored overrides (a QSettings value and a JSON parse) appends a 1."""
    reads: list[int] = []
    real = settings.vision_overrides

    def counting() -> dict[str, bool]:
        reads.append(1)
        return real()

    monkeypatch.setattr(settings, "vision_overrides", counting)
    return reads


def test_adding_50_images_reads_the_settings_once_and_changes_still_apply_at_once(
    qtbot, server, open_window, monkeypatch
):
    window = open_window(add_agent(server, UNKNOWN))
    reads = _count_override_reads(monkeypatch, window.settings)
    for i in range(50):  # one at a time: each add takes the limits for its preparation
        window.attachments.add_bytes(png_bytes(40, 30), f"photo{i + 1}.png")
    wait_settled(qtbot, window.attachments)
    qtbot.wait(10)  # the guard's coalesced refreshes ran too
    items = window.attachments.items
    assert len(items) == 50 and all(a.ready for a in items)
    assert all(a.limits.max_long_edge == 1568 for a in items)  # letta/auto's profile
    assert len(reads) <= 1, f"the overrides were read {len(reads)} times for 50 adds"

    # The user's override takes effect at once (badge, banner), read again exactly once.
    banner = window.vision.banner
    assert banner.mode is Mode.UNKNOWN
    before = len(reads)
    window.vision.badge.no_action.trigger()  # "This model cannot see images"
    assert window.vision.badge.text().startswith("✗") and banner.mode is Mode.CANNOT
    assert Settings().vision_overrides() == {UNKNOWN: False}
    window.vision.badge.yes_action.trigger()
    assert window.vision.badge.text().startswith("✓") and not banner.isVisible()
    assert len(reads) - before <= 4  # per change: once to store it, once to use it

    # Another model: its limits apply to the very next call, and the pending images are refit.
    session = window.session
    session.agent = replace(session.agent, model=VISION)
    session.agentLoaded.emit(session.agent)
    assert window.vision.limits().max_long_edge == 2000  # gpt-4o-mini (OpenAI profile)
    assert window.vision.badge.text().startswith("✓") and "gpt-4o-mini" in window.model_label.text()
    wait_settled(qtbot, window.attachments)
    assert all(a.ready and a.limits.max_long_edge == 2000 for a in window.attachments.items)


def test_the_limits_follow_the_number_of_images_in_the_request(
    qtbot, server, open_window, monkeypatch
):
    """The many-image rule: past its threshold (history included) every image gets smaller."""
    import desktop.ui.vision.vision_guard as guard_module

    def few_images(handle: str, overrides: Any = None):
        cap = capability_for(handle, overrides)
        return replace(cap, many_image_threshold=3, many_image_max_edge=1000)

    monkeypatch.setattr(guard_module, "capability_for", few_images)
    window = open_window(add_agent(server, CLAUDE, images_in_history=2))
    qtbot.waitUntil(lambda: window.vision.history_image_count() == 2, timeout=5000)
    assert window.vision.limits().max_long_edge == 1568  # 2 earlier + 1: not past 3
    first = window.attachments.add_bytes(png_bytes(40, 30), "first.png")
    assert first.limits.max_long_edge == 1568
    second = window.attachments.add_bytes(png_bytes(40, 30), "second.png")  # 4 in the request
    assert second.limits.max_long_edge == 1000
    window.attachments.remove(second)
    assert window.vision.limits().max_long_edge == 1568
    window.transcript_model.clear()  # a history with no images (e.g. another conversation)
    assert window.vision.history_image_count() == 0
    window.attachments.add_bytes(png_bytes(40, 30), "third.png")
    window.attachments.add_bytes(png_bytes(40, 30), "fourth.png")  # 3 in the request
    assert window.vision.limits().max_long_edge == 1568
    wait_settled(qtbot, window.attachments)


# -- the limits banner under a big drop -------------------------------------------------------


def _ready(window: MainWindow, name: str, size=(800, 600), media_type="image/png") -> Attachment:
    """A ready attachment, prepared for the window's limits (restore() takes it as it is)."""
    att = Attachment.from_bytes(b"not used", name)
    att.prepared = PreparedImage(media_type, b"0" * 1000, *size, *size, media_type, 1000)
    att.state, att.limits = State.READY, window.vision.limits()
    return att


def test_200_images_over_the_limit_make_a_short_banner_set_once(
    qtbot, server, open_window, monkeypatch
):
    window = open_window(add_agent(server, CLAUDE))  # at most 100 images in one request
    banner = window.vision.banner
    texts: list[str] = []
    set_text = banner.label.setText
    monkeypatch.setattr(banner.label, "setText", lambda t: (texts.append(t), set_text(t)))
    atts = [_ready(window, f"shot {i:03}.png") for i in range(200)]
    window.attachments.restore(atts)  # a burst: 200 added, then 100 flagged by the guard
    qtbot.waitUntil(lambda: banner.mode is Mode.LIMITS, timeout=2000)
    qtbot.wait(20)  # the refreshes the flagging caused have run too
    assert all(a.state is State.PROBLEM and "at most 100" in a.problem for a in atts[100:])
    message = banner.message
    assert len(message) < 400, f"{len(message)} characters: {message[:200]}…"
    assert message.startswith("These can't be sent yet: 100 images are too many for claude")
    assert "at most 100 in one request" in message
    assert "shot 100.png, shot 101.png, shot 102.png and 97 more." in message
    assert "shot 103.png" not in message  # each chip's badge names its own problem
    assert banner.accessibleDescription() == message and banner.isVisible()
    assert texts == [message.split(": ", 1)[1]]  # laid out once, not once per refresh


def test_many_per_image_problems_with_long_names_stay_short(qtbot, server, open_window):
    window = open_window(add_agent(server, CLAUDE))
    long = "holiday " * 40  # 320 characters
    atts = [
        _ready(window, f"{long}{i:02}.bmp", size=(2400, 1600), media_type="image/bmp")
        for i in range(30)
    ]  # past 20 images every one must be ≤ 2000 px, and Claude takes no BMP
    window.attachments.restore(atts)
    banner = window.vision.banner
    qtbot.waitUntil(lambda: banner.mode is Mode.LIMITS, timeout=2000)
    message = banner.message
    assert len(message) < 800, f"{len(message)} characters"
    assert long not in message and "…" in message  # the names are shortened
    assert "2000 px" in message and "BMP is not a format" in message
    assert message.endswith("28 more images can't be sent as they are; each badge says why.")
    assert all(a.state is State.PROBLEM and long in a.problem for a in atts)  # badges: whole


def test_the_banner_announces_only_what_is_new_and_cuts_a_long_text(qtbot, monkeypatch):
    banner = VisionBanner()
    qtbot.addWidget(banner)
    alerts: list[Mode | None] = []
    monkeypatch.setattr(banner, "_announce", lambda: alerts.append(banner.mode))
    unknown = "It is not known whether auto can see images. Tell the app if you know."
    banner.show_unknown(unknown)
    banner.show_unknown(unknown)  # the same again: nothing new to say
    cannot = "gpt-3.5-turbo cannot see images. If you send an image, the provider may reject it."
    banner.show_cannot(cannot)
    banner.clear()
    banner.show_cannot(cannot)  # it appears again
    assert alerts == [Mode.UNKNOWN, Mode.CANNOT, Mode.CANNOT]
    endless = "These can't be sent yet: " + " ".join(f"a{i}.png: too big." for i in range(500))
    banner.show_limits(endless)
    assert len(banner.message) <= MAX_CHARS and banner.message.endswith("…")
    assert banner.accessibleDescription() == banner.message and alerts[-1] == "limits"


def test_a_text_that_keeps_changing_is_announced_once_when_it_settles(qtbot, monkeypatch):
    banner = VisionBanner()
    qtbot.addWidget(banner)
    alerts: list[str] = []
    monkeypatch.setattr(banner, "_announce", lambda: alerts.append(banner.message))
    for n in range(1, 49):  # a big drop: the count over the limit climbs step by step
        banner.show_limits(f"{n} images are too many for this model.")
    assert alerts == ["1 images are too many for this model."]  # appearing is said at once
    assert banner.accessibleDescription() == "48 images are too many for this model."
    qtbot.waitUntil(lambda: len(alerts) == 2, timeout=REANNOUNCE_MS + 2000)
    assert alerts[-1] == "48 images are too many for this model."
    qtbot.wait(REANNOUNCE_MS + 200)
    assert len(alerts) == 2  # and only once
    banner.show_limits("49 images are too many for this model.")
    banner.clear()  # gone before it settled: nothing more to say
    qtbot.wait(REANNOUNCE_MS + 200)
    assert len(alerts) == 2
