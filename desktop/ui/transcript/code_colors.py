"""Colours of the transcript's code blocks: Pygments spans (code_spans.py), cached, mostly lexed
off the GUI thread, applied as QTextCharFormats (the text itself stays plain text).

Measured on the 2-core test machine:
- Lexing 30,000 characters of Python takes 37–72 ms (65–112 ms under load): too long for the GUI
  thread. Such a block is lexed on a worker, one block at a time, and shows plain until its
  colours arrive; then its row is rebuilt (delegate.py). While a worker lexes it the GUI thread's
  longest stall was 1.6 ms.
- A block of up to SYNC_MAX characters lexes in ~3 ms. Once a worker has loaded its lexer and
  style (importing the Python lexer alone takes 28 ms), such a block is lexed at once, within
  SYNC_BUDGET_S of GUI time per SYNC_WINDOW_S: a reply's short snippets never flash plain, and a
  streamed block is coloured as it grows. Past the budget, blocks go to the worker.
- A longer block that grows (a streamed reply) keeps the colours of the longest beginning of it
  already lexed while the worker lexes the rest.
- Applying spans costs ~6 µs each: 30,000 characters of Python are ~2,000 spans, ~12 ms.
- benchmarks/bench_code.py, a 30,000-character Python reply shown then coloured: the GUI's
  longest stall is 20 ms (24 ms for the same block untagged, plain); lexing it on the GUI thread
  instead made it 66 ms.

A result is used only by rows still showing that very code (the `wanted` check, before lexing and
again when the colours arrive); colours are looked up by the code's exact text, so they can never
land on other text.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QTextCharFormat, QTextCursor

from desktop.ui.transcript.code_spans import (
    PLAIN,
    Look,
    Spans,
    is_known,
    is_ready,
    language_of,
    lex,
)
from desktop.workers import Workers

log = logging.getLogger(__name__)

#: (Pygments style, language, code): what a block's colours depend on.
Key = tuple[str, str, str]

SYNC_MAX = 2_000
SYNC_WINDOW_S = 0.1
SYNC_BUDGET_S = 0.008
#: Results kept (most recently used first out of the way last), and their code's total length.
MAX_CACHED = 256
MAX_CACHED_CHARS = 2_000_000
#: How many recent results are searched for the beginning of a growing block.
_PREFIX_SEARCH = 32


@dataclass(frozen=True, eq=False)
class CodeLook:
    """What one row's documents need to colour code blocks: the shared colours, the Pygments
    style of the current theme and the row asking (its id, for re-rendering)."""

    colors: CodeColors
    style: str
    row: int


class CodeColors(QObject):
    """Pygments colours by (style, language, code), shared by the rows of one transcript."""

    arrived = Signal(object)  # set of row ids whose awaited colours are now known

    def __init__(
        self,
        workers: Workers | None = None,
        wanted: Callable[[int, Key], bool] | None = None,
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        # One block at a time, so lexing never holds more than one core (nor the GIL from two
        # threads): a private single-thread pool unless the app's is given.
        self._workers = workers if workers is not None else Workers(max_threads=1)
        self._wanted = wanted or (lambda _row, _key: True)
        self._cache: OrderedDict[Key, Spans] = OrderedDict()
        self._cached_chars = 0
        self._queue: OrderedDict[Key, set[int]] = OrderedDict()
        self._running: tuple[Key, set[int]] | None = None
        self._formats: dict[Look, QTextCharFormat] = {}
        self._window = 0.0
        self._spent = 0.0
        # Requests made while a document is being built are sent once it is in place (the
        # `wanted` check looks at the row's documents) and after any more in the same turn.
        self._pump_timer = QTimer(self)
        self._pump_timer.setSingleShot(True)
        self._pump_timer.setInterval(0)
        self._pump_timer.timeout.connect(self._pump)

    # -- asking ----------------------------------------------------------------------------------

    def request(self, code: str, tag: str, style: str, row: int) -> tuple[Spans | None, Key | None]:
        """Colours for `code` under a fence tagged `tag`: (spans to apply now or None, the key
        whose colours are still to come or None). `arrived` names `row` when they come."""
        language = language_of(tag)
        if not language or is_known(language) is False or not code:
            return None, None
        key = (style, language, code)
        spans = self.known(key)
        if spans is not None:
            return spans, None
        if len(code) <= SYNC_MAX and is_ready(language, style) and self._may_lex_here():
            started = time.perf_counter()
            spans = self._lex(key)
            self._spent += time.perf_counter() - started
            return spans, None
        self._enqueue(key, row)
        return self._beginning(key), key

    def known(self, key: Key) -> Spans | None:
        spans = self._cache.get(key)
        if spans is not None:
            self._cache.move_to_end(key)
        return spans

    def apply(self, cursor: QTextCursor, start: int, spans: Spans) -> None:
        """Colours the code at document position `start` (spans are relative to it)."""
        formats = [self._format(look) for look in spans.looks]
        for s, e, k in spans.runs:
            cursor.setPosition(start + s)
            cursor.setPosition(start + e, QTextCursor.MoveMode.KeepAnchor)
            cursor.mergeCharFormat(formats[k])

    # -- inside --------------------------------------------------------------------------------

    def _may_lex_here(self) -> bool:
        now = time.perf_counter()
        if now - self._window > SYNC_WINDOW_S:
            self._window, self._spent = now, 0.0
        return self._spent < SYNC_BUDGET_S

    def _lex(self, key: Key) -> Spans:
        style, language, code = key
        try:
            spans = lex(code, language, style)
        except Exception:  # a lexer's own bug must not cost the reply: it stays plain
            log.exception("lexing a %s block failed", language)
            spans = PLAIN
        self._store(key, spans)
        return spans

    def _store(self, key: Key, spans: Spans) -> None:
        if key in self._cache:
            return
        self._cache[key] = spans
        self._cached_chars += len(key[2])
        while len(self._cache) > MAX_CACHED or (
            self._cached_chars > MAX_CACHED_CHARS and len(self._cache) > 1
        ):
            old, _ = self._cache.popitem(last=False)
            self._cached_chars -= len(old[2])

    def _beginning(self, key: Key) -> Spans | None:
        """The colours of the longest recently lexed beginning of this code (a growing block)."""
        style, language, code = key
        best: tuple[int, Spans] | None = None
        for n, (k, spans) in enumerate(reversed(self._cache.items())):
            if n >= _PREFIX_SEARCH:
                break
            longer = best is None or len(k[2]) > best[0]
            if longer and k[0] == style and k[1] == language and code.startswith(k[2]):
                best = (len(k[2]), spans)
        return best[1] if best is not None else None

    def _enqueue(self, key: Key, row: int) -> None:
        if self._running is not None and self._running[0] == key:
            self._running[1].add(row)
            return
        # A block that grew replaces its shorter self still waiting in the queue.
        for old, rows in list(self._queue.items()):
            if row in rows and old[:2] == key[:2] and key[2].startswith(old[2]):
                rows.discard(row)
                if not rows:
                    del self._queue[old]
        self._queue.setdefault(key, set()).add(row)
        self._queue.move_to_end(key)
        self._pump_timer.start()

    def _pump(self) -> None:
        while self._running is None and self._queue:
            # Newest first: the block being streamed, or the rows just scrolled into view.
            key, rows = self._queue.popitem(last=True)
            rows = {row for row in rows if self._wanted(row, key)}
            if not rows:
                continue  # the row changed or went away: its old code is not lexed
            if key in self._cache:
                self.arrived.emit(rows)
                continue
            self._running = (key, rows)
            self._workers.submit(
                lex,
                key[2],
                key[1],
                key[0],
                on_result=self._lexed,
                on_error=self._failed,
                on_finished=self._next,
                owner=self,
            )

    def _lexed(self, spans: Spans) -> None:
        assert self._running is not None
        key, rows = self._running
        self._store(key, spans)
        self.arrived.emit(set(rows))

    def _failed(self, exc: BaseException) -> None:
        assert self._running is not None
        key, rows = self._running
        log.warning("lexing a %s block failed: %s", key[1], exc)
        self._store(key, PLAIN)
        self.arrived.emit(set(rows))

    def _next(self) -> None:
        self._running = None
        if self._queue:
            self._pump_timer.start()

    def _format(self, look: Look) -> QTextCharFormat:
        fmt = self._formats.get(look)
        if fmt is None:
            fmt = QTextCharFormat()
            if look.color:
                fmt.setForeground(QColor(look.color))
            if look.background:
                fmt.setBackground(QColor(look.background))
            if look.bold:
                fmt.setFontWeight(QFont.Weight.Bold)
            if look.italic:
                fmt.setFontItalic(True)
            if look.underline:
                fmt.setFontUnderline(True)
            self._formats[look] = fmt
        return fmt
