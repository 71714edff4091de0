"""Streaming cost: a long reply in small deltas must not cost much more than rendering it once."""

from __future__ import annotations

import random
import time

from PySide6.QtWidgets import QApplication

from desktop.core.letta.models import Message, StreamChunk
from desktop.ui.transcript import TextRole, TranscriptModel, TranscriptView


def _tokens(n: int) -> list[str]:
    rng = random.Random(7)
    words = ["the", "agent", "streams", "**bold**", "and", "`code`", "while", "a", "list"]
    out = []
    for i in range(n):
        tok = rng.choice(words) + " "
        if i % 60 == 59:
            tok += "\n\n"
        if i % 900 == 0:
            tok += "\n\n```python\nx = 1\nprint(x)\n```\n\n- item a\n- item b\n\n"
        out.append(tok)
    return out


def _shown(qtbot, model: TranscriptModel) -> TranscriptView:
    view = TranscriptView(model)
    qtbot.addWidget(view)
    view.resize(800, 600)
    view.show()
    qtbot.waitExposed(view)
    return view


def _render(view: TranscriptView) -> None:
    view.doItemsLayout()
    view.viewport().repaint()


def test_streaming_20000_tokens_costs_at_most_twice_one_render(qtbot):
    tokens = _tokens(20000)
    final = "".join(tokens)

    once_model = TranscriptModel()
    once_view = _shown(qtbot, once_model)
    start = time.perf_counter()
    once_model.set_history([Message("a", "assistant", "assistant_message", text=final)])
    _render(once_view)
    once = time.perf_counter() - start
    once_view.close()

    model = TranscriptModel()
    view = _shown(qtbot, model)
    start = time.perf_counter()
    for i, tok in enumerate(tokens):
        model.apply_chunk(StreamChunk("k", "assistant", "assistant_message", tok))
        if i % 100 == 99:
            QApplication.processEvents()  # timers fire, the view repaints, as in real use
    model.finish_stream()
    _render(view)
    streamed = time.perf_counter() - start

    assert model.index(0, 0).data(TextRole) == final
    assert streamed <= 2 * once, f"streamed {streamed:.3f}s vs once {once:.3f}s"
