"""Cost control per image: a chip's menu offers Low detail where the agent's model has OpenAI's
`detail` setting; the image is then fitted to 512 px, sent with `detail: low`, and the estimate
drops to the model's fixed low-detail cost. The default stays automatic."""

from __future__ import annotations

import base64
import io

from PIL import Image
from PySide6.QtGui import QAction

from desktop.ui.window.main_window import MainWindow

from .attachments_support import png_bytes, wait_settled
from .test_capability_ui import CLAUDE, VISION, add_agent, open_window, server

__all__ = ["open_window", "server"]  # fixtures


def _menu_actions(window: MainWindow) -> dict[str, QAction]:
    [att] = window.attachments.items
    menu = window.strip.chip_for(att).context_menu()
    return {a.text(): a for a in menu.actions() if not a.isSeparator()}


def _paste_5k(qtbot, window: MainWindow) -> None:
    window.attachments.add_bytes(png_bytes(5120, 2880), "screen.png")
    wait_settled(qtbot, window.attachments)
    qtbot.wait(10)  # the guard's coalesced refresh


def _sent_image(server) -> tuple[dict, tuple[int, int]]:
    content = server.posts[-1]["messages"][0]["content"]
    [part] = [p for p in content if p["type"] == "image"]
    size = Image.open(io.BytesIO(base64.b64decode(part["source"]["data"]))).size
    return part["source"], size


def test_low_detail_from_the_chip_menu_shrinks_the_image_and_the_estimate(
    qtbot, server, open_window
):
    window = open_window(add_agent(server, VISION))  # openai-proxy/gpt-4o-mini
    _paste_5k(qtbot, window)
    [att] = window.attachments.items
    chip = window.strip.chip_for(att)
    label = window.vision.tokens_label
    assert (att.prepared.width, att.prepared.height) == (1365, 768)  # what OpenAI keeps
    assert label.text() == "1 image · ≈ 36,835 tokens"  # 2833 + 5667 × 6 tiles

    actions = _menu_actions(window)
    assert list(actions) == ["Crop and redact…", "Low detail", "Remove"]
    low = actions["Low detail"]
    assert low.isCheckable() and not low.isChecked()  # the default stays automatic
    low.trigger()
    wait_settled(qtbot, window.attachments)
    qtbot.wait(10)
    assert (att.prepared.width, att.prepared.height) == (512, 288)
    assert label.text() == "1 image · ≈ 2,833 tokens"  # gpt-4o-mini's fixed low-detail cost
    summary = att.prepared.summary()  # 5120×2880 PNG → 512×288 PNG, 37 KB → 2 KB
    assert summary.startswith("5120×2880 PNG → 512×288 PNG, ")
    assert chip.toolTip() == f"screen.png\n{summary}, low detail, ≈ 2,833 tokens"
    assert _menu_actions(window)["Low detail"].isChecked()

    window.composer.set_text("cheap look")
    window.send()
    qtbot.waitUntil(lambda: bool(server.posts) and not window.session.busy, timeout=10000)
    source, size = _sent_image(server)
    assert source["detail"] == "low" and size == (512, 288)


def test_unchecking_low_detail_goes_back_to_automatic(qtbot, server, open_window):
    window = open_window(add_agent(server, VISION))
    _paste_5k(qtbot, window)
    [att] = window.attachments.items
    _menu_actions(window)["Low detail"].trigger()
    wait_settled(qtbot, window.attachments)
    _menu_actions(window)["Low detail"].trigger()  # unchecked again
    wait_settled(qtbot, window.attachments)
    qtbot.wait(10)
    assert (att.prepared.width, att.prepared.height) == (1365, 768)
    assert window.vision.tokens_label.text() == "1 image · ≈ 36,835 tokens"
    assert "low detail" not in window.strip.chip_for(att).toolTip()
    window.send()
    qtbot.waitUntil(lambda: bool(server.posts) and not window.session.busy, timeout=10000)
    source, size = _sent_image(server)
    assert "detail" not in source and size == (1365, 768)


def test_no_low_detail_for_a_model_without_the_setting(qtbot, server, open_window):
    window = open_window(add_agent(server, CLAUDE))
    _paste_5k(qtbot, window)
    assert list(_menu_actions(window)) == ["Crop and redact…", "Remove"]
    [att] = window.attachments.items
    assert (att.prepared.width, att.prepared.height) == (1430, 804)  # 1568 px, ≈1.15 MP
    _menu_actions(window)["Remove"].trigger()
    assert window.attachments.items == []
