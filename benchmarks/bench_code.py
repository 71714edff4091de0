"""A reply with a 30,000-character Python block: the GUI thread's longest stall while it is shown
and coloured by Pygments, vs the same block without a language tag (shown plain, never lexed).

A real MainWindow (offscreen) gets the reply as history; the stall meter (tests/stall.py, 5 ms
timer) runs from setting it until the block is painted with its colours (the baseline: until it
is painted, and as long again). Each run's code differs in its first line, so no run finds
another's colours cached. Pygments and the Python lexer are loaded once before measuring.
"""

from __future__ import annotations

import inspect
import sys
import time

from benchmarks.bench_stream import _window
from benchmarks.common import isolate_app_dirs, median, module_main, row, spin_until


def _code(chars: int, run: int) -> str:
    import pygments.lexers.python as source_module

    source = inspect.getsource(source_module)
    body = (source * (chars // len(source) + 1))[:chars].rsplit("\n", 1)[0]
    return f"# run {run}\n{body}"


def _shown(window, tag: str, code: str) -> float:
    """Max GUI stall (ms) from setting the reply until it is painted (coloured when tagged)."""
    from PySide6.QtWidgets import QStyleOptionViewItem

    from desktop.core.letta.models import Message
    from desktop.ui.transcript import EntryRole
    from tests.stall import StallMeter

    view, model = window.transcript, window.transcript_model
    model.clear()
    view.doItemsLayout()
    spin_until(lambda: True)
    delegate = view.itemDelegate()

    def coloured() -> bool:
        index = model.index(0, 0)
        if not index.isValid() or index.data(EntryRole) is None:
            return False
        option = QStyleOptionViewItem()
        view.initViewItemOption(option)
        layout = delegate.row_layout(option, index)
        return layout is not None and layout.rich is not None and not layout.rich.waiting

    meter = StallMeter().start()
    started = time.perf_counter()
    model.set_history(
        [Message("m-code", "assistant", "assistant_message", text=f"{tag}\n{code}\n```\n")]
    )
    view.doItemsLayout()
    view.viewport().repaint()
    spin_until(coloured)
    view.viewport().repaint()
    # The same span of time for both: the plain block is done at once, the coloured one later.
    spin_until(lambda: time.perf_counter() - started > 0.3)
    return meter.stop()


def run(quick: bool) -> list[dict]:
    isolate_app_dirs()
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    chars = 3_000 if quick else 30_000
    runs = 1 if quick else 7
    window = _window()
    _shown(window, "```python", _code(chars, -1))  # warm up: Pygments, lexer, fonts
    window.workers.wait()
    coloured, plain = [], []
    for i in range(runs):  # alternate, so machine noise hits both sides
        plain.append(_shown(window, "```", _code(chars, i)))
        coloured.append(_shown(window, "```python", _code(chars, i)))
    window.close()
    window.workers.shutdown()
    del app
    return [
        row(
            "code_stall",
            f"max GUI stall, a {chars:,}-character Python block shown and coloured",
            median(coloured),
            "ms",
            baseline=median(plain),
            budget="≤ 1.5× showing it plain (no language tag)",
            limit=1.5,
            by="ratio",
            runs=runs,
            samples=coloured,
            note="plain: " + ", ".join(f"{p:.0f}" for p in plain) + " ms",
        )
    ]


if __name__ == "__main__":
    sys.exit(module_main(run, __doc__))
