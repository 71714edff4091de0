"""Streaming a long reply in small deltas: batched updates, the right text at the end.

The time ratio (streamed vs rendered once, budget ≤ 2×) is measured in benchmarks/, not here:
timed assertions flake on a loaded 2-core machine. This test checks the mechanism that keeps
the cost linear — one model update per flush, not per token.
"""

from __future__ import annotations

from benchmarks.bench_stream import tokens as _tokens  # the benchmark's reply, same mix
from desktop.core.letta.models import StreamChunk
from desktop.ui.transcript import TextRole, TranscriptModel, TranscriptView


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


def test_streaming_20000_tokens_updates_the_view_in_batches(qtbot):
    tokens = _tokens(20000)
    final = "".join(tokens)
    model = TranscriptModel()
    view = _shown(qtbot, model)
    changes: list[int] = []
    model.dataChanged.connect(lambda *_: changes.append(1))
    for i, tok in enumerate(tokens):
        model.apply_chunk(StreamChunk("k", "assistant", "assistant_message", tok))
        if i % 100 == 99:
            qtbot.wait(1)  # timers fire, the view repaints, as in real use
    model.finish_stream()
    _render(view)

    assert model.rowCount() == 1
    assert model.index(0, 0).data(TextRole) == final
    # 20,000 chunks, processed in 200 bursts: at most a few updates per burst, never per token.
    assert 0 < len(changes) <= 2 * 200 + 5, len(changes)
