"""Paints transcript rows: user bubbles, Markdown replies, collapsible thinking/tool rows, notices.

Layout of a row (text documents, bubble, thumbnails, action links) is computed once per
(row, width, revision) and cached; paint and hit-testing reuse the same `RowLayout`, so what is
clickable is exactly what is drawn.

The delegate is also the item editor's factory: the one row whose text the user is selecting gets
a `SelectableText` (see selection.py) placed over its text, and the row then paints everything
but that text (the editor paints it, with the code blocks' Copy buttons above it).
"""

from __future__ import annotations

import contextlib
import json
import math
import re
from collections import OrderedDict
from dataclasses import dataclass, field

from PySide6.QtCore import (
    QAbstractItemModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    QPointF,
    QRect,
    QRectF,
    QSize,
    QSizeF,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QFocusEvent, QFont, QFontMetricsF, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractScrollArea,
    QApplication,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from desktop.ui.imaging.device_pixels import snapped
from desktop.ui.imaging.tiles import cover_tile
from desktop.ui.notice import Tone
from desktop.ui.style.tones import blend
from desktop.ui.transcript import style as S
from desktop.ui.transcript.code_colors import CodeColors, CodeLook, Key
from desktop.ui.transcript.history_thumbnails import Thumb
from desktop.ui.transcript.model import (
    CALL_KINDS,
    COLLAPSIBLE,
    NOTICE_KINDS,
    EntryRole,
    ThumbnailsRole,
    ToolNameRole,
    calls_text,
    who_label,
)
from desktop.ui.transcript.model import Entry as _Entry
from desktop.ui.transcript.richtext import DocStyle, RichText
from desktop.ui.transcript.rows import RowAction, RowKind, RowState
from desktop.ui.transcript.selection import SelectableText
from desktop.ui.transcript.style import Theme
from desktop.ui.visible_text import tool_label, visible_text
from desktop.workers import Workers

Index = QModelIndex | QPersistentModelIndex
_CACHE_ROWS = 600  # laid-out rows kept; others are rebuilt when scrolled back into view
_TOOL_TEXT_MAX = 20000  # a huge tool result is shown truncated; Copy still gives all of it
# A row is laid out on the GUI thread at once, within the 30 ms budget. Measured on the 2-core
# test machine: 40,000 characters of prose 12 ms, 1,000 lines of highlighted code 26 ms, 2,000
# list items 53 ms (a list is one block run), a 5 MB reply minutes. The rest is one Copy away.
_TEXT_MAX = 50_000
_LINES_MAX = 1_000
_MD_NOISE = re.compile(r"[*_`#>|]+")
_TOOL_KINDS = CALL_KINDS | {RowKind.TOOL_RETURN}  # their text is JSON
#: A failed message's buttons, left to right.
_ACTIONS = ((RowAction.RETRY, "Retry"), (RowAction.EDIT, "Edit"), (RowAction.DISCARD, "Discard"))
_LABELS = dict(_ACTIONS)


@dataclass
class RowLayout:
    """Geometry of one row, relative to the row's top-left corner."""

    height: float
    rich: RichText | None = None
    text_pos: QPointF = field(default_factory=QPointF)
    text_width: float = 0.0
    bubble: QRectF | None = None
    header: QRectF | None = None
    panel: QRectF | None = None
    thumbs: list[QRectF] = field(default_factory=list)
    # small text lines: (rect, text, tone, alignment flags); INFO is the muted grey
    lines: list[tuple[QRectF, str, Tone, int]] = field(default_factory=list)
    actions: list[tuple[RowAction, QRectF]] = field(default_factory=list)
    # copy buttons of code blocks: (button rect, code text)
    code_buttons: list[tuple[QRectF, str]] = field(default_factory=list)
    column: QRectF = field(default_factory=QRectF)


@dataclass
class _RowCache:
    rich: RichText | None = None
    style_key: str = ""
    layouts: dict[tuple[int, int], RowLayout] = field(default_factory=dict)
    revision: int = -1  # of the text `rich` shows
    # The row, while code colours are still to come for it (to re-render it when they do).
    index: QPersistentModelIndex | None = None


@dataclass(frozen=True)
class Hit:
    """What is under the mouse, and what a click there does (payloads: see `RowAction`)."""

    action: RowAction
    payload: object = None


def _pretty_json(text: str) -> str:
    stripped = text.strip()
    if stripped[:1] in "{[" and len(stripped) < _TOOL_TEXT_MAX:
        with contextlib.suppress(ValueError, RecursionError):  # not JSON: show it as it is
            return json.dumps(json.loads(stripped), indent=2, ensure_ascii=False)
    return text


def display_text(e: _Entry) -> str:
    """The text as shown (tool JSON pretty-printed once complete, each call of a row with
    several; huge outputs truncated; invisible characters in tool calls marked)."""
    text = e.text
    if e.kind in _TOOL_KINDS and e.state is not RowState.STREAMING:
        if len(e.tool_calls) > 1:
            text = calls_text(e.tool_calls, [_pretty_json(c.arguments) for c in e.tool_calls])
        else:
            text = _pretty_json(text)
        if len(text) > _TOOL_TEXT_MAX:
            more = len(text) - _TOOL_TEXT_MAX
            text = f"{text[:_TOOL_TEXT_MAX]}\n… ({more:,} more characters; Copy gives all)"
    if e.kind in CALL_KINDS:
        text = visible_text(text)
    cut = _shown_length(text)
    if cut < len(text):
        # While streaming the note stays the same, so each flush leaves the laid-out part alone.
        more = "" if e.state is RowState.STREAMING else f"{len(text) - cut:,} "
        text = f"{text[:cut]}\n\n… ({more}more characters not shown; Copy gives all)"
    return text


def _shown_length(text: str) -> int:
    """How much of `text` a row lays out: at most _TEXT_MAX characters and _LINES_MAX lines."""
    cut = min(len(text), _TEXT_MAX)
    pos = -1
    for _ in range(_LINES_MAX):
        pos = text.find("\n", pos + 1, cut)
        if pos < 0:
            return cut
    return pos


def summary_line(text: str, markdown: bool = True) -> str:
    """The first line with words, for a folded row (Markdown marks dropped when `markdown`)."""
    for line in text[:600].splitlines():
        line = (_MD_NOISE.sub("", line) if markdown else line).strip()
        if line:
            return " ".join(line.split())
    return ""


def folded_summary(e: _Entry) -> str:
    """What a folded row shows after its label: the first line of its text. Tool rows keep
    their JSON as it is (`file_path` stays `file_path`) with invisible characters marked; a row
    with several calls shows none (its label names them all)."""
    if len(e.tool_calls) > 1:
        return ""
    if e.kind in CALL_KINDS:
        return visible_text(summary_line(e.text, markdown=False))
    return summary_line(e.text, markdown=e.kind is not RowKind.TOOL_RETURN)


def _has_focus_within(widget: QWidget | None) -> bool:
    focus = QApplication.focusWidget()
    return (
        widget is not None and focus is not None and (focus is widget or widget.isAncestorOf(focus))
    )


class TranscriptDelegate(QStyledItemDelegate):
    #: A row's code colours arrived and its documents were rebuilt (paint it, measure it again).
    rowRecolored = Signal(QPersistentModelIndex)

    def __init__(self, parent=None, workers: Workers | None = None):
        super().__init__(parent)
        self._colors = CodeColors(workers, self._row_waits, self)
        self._colors.arrived.connect(self._colors_arrived)
        self._rows: OrderedDict[int, _RowCache] = OrderedDict()
        # uid → (width, revision, height): the list's layout pass asks every row's size, and a
        # row whose layout left the bounded cache must not be rebuilt just to be measured.
        self._heights: dict[int, tuple[int, int, float]] = {}
        self._theme: Theme | None = None
        self._theme_key: tuple[int, str] | None = None
        # (entry uid, code block number) whose button says "Copied" for a moment
        self._copied: tuple[int, int] | None = None
        # uid of the row whose text a SelectableText shows (the row does not paint it)
        self._selecting: int | None = None

    def set_copied(self, key: tuple[int, int] | None) -> None:
        self._copied = key

    def set_selecting(self, uid: int | None) -> None:
        self._selecting = uid

    # -- cache -----------------------------------------------------------------------------------

    def invalidate(self) -> None:
        """Forget all layouts (palette or font changed)."""
        self._rows.clear()
        self._heights.clear()
        self._theme = None

    def forget_rows(self) -> None:
        """Forget every row's layout (the model was reset: its rows are gone)."""
        self._rows.clear()
        self._heights.clear()

    def theme(self, option: QStyleOptionViewItem) -> Theme:
        key = (option.palette.cacheKey(), option.font.key())
        if self._theme is None or key != self._theme_key:
            if self._theme is not None:
                self._rows.clear()
                self._heights.clear()
            self._theme = Theme.from_palette(option.palette, option.font)
            self._theme_key = key
        return self._theme

    def last_height(self, index: Index) -> float | None:
        entry = index.data(EntryRole)
        known = None if entry is None else self._heights.get(entry.uid)
        return None if known is None else known[2]

    def row_layout(self, option: QStyleOptionViewItem, index: Index) -> RowLayout | None:
        entry: _Entry | None = index.data(EntryRole)
        if entry is None:
            return None
        width = self._width(option)
        cache = self._rows.get(entry.uid)
        if cache is None:
            cache = self._rows[entry.uid] = _RowCache()
            while len(self._rows) > _CACHE_ROWS:
                self._rows.popitem(last=False)
        else:
            self._rows.move_to_end(entry.uid)
        key = (width, entry.revision)
        layout = cache.layouts.get(key)
        if layout is None:
            layout = self._layout(entry, index, width, self.theme(option), cache)
            if len(cache.layouts) > 2:
                cache.layouts.clear()
            cache.layouts[key] = layout
        self._heights[entry.uid] = (width, entry.revision, layout.height)
        waiting = layout.rich is not None and layout.rich.waiting
        cache.index = QPersistentModelIndex(index) if waiting else None
        return layout

    # -- code colours ------------------------------------------------------------------------------

    def _row_waits(self, uid: int, key: Key) -> bool:
        cache = self._rows.get(uid)
        return cache is not None and cache.rich is not None and cache.rich.waits_for(key)

    def _colors_arrived(self, uids: set[int]) -> None:
        """Re-render the rows still showing the code whose colours arrived. A row that changed
        meanwhile takes them when it is laid out again; one that went away drops them."""
        for uid in uids:
            cache = self._rows.get(uid)
            index = None if cache is None else cache.index
            if cache is None or cache.rich is None or index is None or not index.isValid():
                continue
            entry: _Entry | None = index.data(EntryRole)
            if entry is None or entry.uid != uid or entry.revision != cache.revision:
                continue
            if cache.rich.recolor():
                cache.layouts.clear()
                self.rowRecolored.emit(QPersistentModelIndex(index))

    @staticmethod
    def _width(option: QStyleOptionViewItem) -> int:
        widget = option.widget
        if isinstance(widget, QAbstractScrollArea):
            return max(120, widget.viewport().width())
        return max(120, option.rect.width())

    # -- layout ----------------------------------------------------------------------------------

    def _rich(self, cache: _RowCache, theme: Theme, e: _Entry) -> RichText:
        if e.kind in (RowKind.USER, RowKind.SYSTEM, RowKind.UNKNOWN):
            font, markdown = (theme.font if e.kind is RowKind.USER else theme.small), False
        elif e.kind is RowKind.ASSISTANT:
            font, markdown = theme.font, True
        elif e.kind in (RowKind.REASONING, RowKind.SUMMARY):
            font, markdown = theme.small, True
        else:
            font, markdown = theme.mono, False
        key = f"{font.key()}|{markdown}|{theme.code_style}"
        if cache.rich is None or cache.style_key != key:
            gap = QFontMetricsF(font).height() * 0.6
            code = CodeLook(self._colors, theme.code_style, e.uid) if markdown else None
            cache.rich = RichText(DocStyle(font, theme.code, theme.link, markdown, code), gap)
            cache.style_key = key
        cache.rich.set_text(display_text(e))
        cache.rich.recolor()  # colours that arrived while the row was changing
        cache.revision = e.revision
        return cache.rich

    def _layout(
        self, e: _Entry, index: Index, width: int, theme: Theme, cache: _RowCache
    ) -> RowLayout:
        col_w = float(min(width - 2 * S.SIDE, S.COLUMN_MAX))
        # Whole pixels: the selection editor, a widget, sits exactly where the text is painted.
        column = QRectF(math.floor((width - col_w) / 2), 0, col_w, 0)
        if e.kind is RowKind.USER:
            layout = self._layout_user(e, column, theme, cache)
        elif e.kind in NOTICE_KINDS:
            layout = self._layout_notice(e, column, theme)
        elif e.kind in COLLAPSIBLE or e.kind is RowKind.APPROVAL:
            layout = self._layout_fold(e, column, theme, cache)
        else:
            layout = self._layout_reply(e, column, theme, cache)
        layout.column = QRectF(column.left(), 0, col_w, layout.height)
        return layout

    def _small_lines(
        self,
        layout: RowLayout,
        y: float,
        column: QRectF,
        text: str,
        tone: Tone,
        theme: Theme,
        right: bool = False,
    ) -> float:
        """Adds a wrapped line of small text; returns the y below it."""
        fm = QFontMetricsF(theme.small)
        flags = int(Qt.TextFlag.TextWordWrap) | int(
            Qt.AlignmentFlag.AlignRight if right else Qt.AlignmentFlag.AlignLeft
        )
        box = fm.boundingRect(QRectF(0, 0, column.width(), 10_000), flags, text)
        rect = QRectF(column.left(), y, column.width(), math.ceil(box.height()))
        layout.lines.append((rect, text, tone, flags))
        return rect.bottom()

    def _layout_user(self, e: _Entry, column: QRectF, theme: Theme, cache: _RowCache) -> RowLayout:
        layout = RowLayout(height=0)
        top = 10.0
        bubble_max = math.floor(max(60.0, column.width() * S.BUBBLE_MAX_FRACTION))
        inner_max = bubble_max - 2 * S.BUBBLE_PAD_X
        text_w = text_h = 0.0
        if e.text:
            rich = self._rich(cache, theme, e)
            rich.set_width(inner_max)
            text_w = min(math.ceil(rich.ideal_width()) + 1.0, inner_max)
            rich.set_width(text_w)
            text_h = rich.height()
            layout.rich, layout.text_width = rich, text_w
        n = len(e.images)
        per_line = _thumbs_per_line(inner_max)
        thumbs_w = min(n, per_line) * (S.THUMB_W + S.THUMB_GAP) - S.THUMB_GAP if n else 0.0
        lines = math.ceil(n / per_line)
        thumbs_h = lines * (S.THUMB_H + S.THUMB_GAP) - S.THUMB_GAP if n else 0.0
        inner_w = max(text_w, thumbs_w)
        inner_h = text_h + thumbs_h + (8 if text_h and thumbs_h else 0)
        bubble = QRectF(
            column.right() - inner_w - 2 * S.BUBBLE_PAD_X,
            top,
            inner_w + 2 * S.BUBBLE_PAD_X,
            inner_h + 2 * S.BUBBLE_PAD_Y,
        )
        layout.bubble = bubble
        layout.text_pos = QPointF(bubble.left() + S.BUBBLE_PAD_X, top + S.BUBBLE_PAD_Y)
        ty = top + S.BUBBLE_PAD_Y + text_h + (8 if text_h and thumbs_h else 0)
        for i in range(n):
            r, c = divmod(i, per_line)
            x = bubble.right() - S.BUBBLE_PAD_X - thumbs_w + c * (S.THUMB_W + S.THUMB_GAP)
            y = ty + r * (S.THUMB_H + S.THUMB_GAP)
            layout.thumbs.append(QRectF(x, y, S.THUMB_W, S.THUMB_H))
        y = bubble.bottom() + 4
        status = QRectF(column.left(), y, column.width(), 0)
        if e.state is RowState.SENDING:
            y = self._small_lines(layout, y, status, "Sending…", Tone.INFO, theme, right=True)
        elif e.state is RowState.FAILED:
            words = f"Not sent: {e.error}" if e.error else "Not sent."
            y = self._small_lines(layout, y, status, words, Tone.ERROR, theme, right=True)
            y = self._layout_actions(layout, y + 2, column, theme)
        layout.height = math.ceil(y + 6)
        return layout

    def _layout_actions(self, layout: RowLayout, y: float, column: QRectF, theme: Theme) -> float:
        fm = QFontMetricsF(theme.small)
        h = fm.height() + 6
        x = column.right()
        for action, label in reversed(_ACTIONS):  # right to left
            w = fm.horizontalAdvance(label) + 16
            x -= w
            layout.actions.insert(0, (action, QRectF(x, y, w, h)))
            x -= 4
        return y + h

    def _layout_reply(self, e: _Entry, column: QRectF, theme: Theme, cache: _RowCache) -> RowLayout:
        layout = RowLayout(height=0)
        top = 6.0
        rich = self._rich(cache, theme, e)
        rich.set_width(column.width())
        layout.rich, layout.text_width = rich, column.width()
        layout.text_pos = QPointF(column.left(), top)
        h = rich.height() if e.text else QFontMetricsF(theme.font).height()
        if e.kind is RowKind.ASSISTANT and e.text:
            fm = QFontMetricsF(theme.small)
            bw, bh = math.ceil(fm.horizontalAdvance("Copied")) + 14, math.ceil(fm.height()) + 4
            for box, code in rich.code_blocks():
                box = box.translated(layout.text_pos)
                # the box includes the frame's 4 px top margin
                button = QRectF(box.right() - bw - 4, box.top() + 7, bw, bh)
                layout.code_buttons.append((button, code))
        y = top + h
        if e.note:
            y = self._small_lines(layout, y + 6, column, f"⚠ {e.note}", Tone.WARNING, theme)
        layout.height = math.ceil(y + 6)
        return layout

    def _layout_fold(self, e: _Entry, column: QRectF, theme: Theme, cache: _RowCache) -> RowLayout:
        layout = RowLayout(height=0)
        top = 3.0
        fm = QFontMetricsF(theme.small)
        layout.header = QRectF(column.left(), top, column.width(), math.ceil(fm.height()) + 8)
        y = layout.header.bottom()
        if not e.collapsed and e.text:
            rich = self._rich(cache, theme, e)
            inner = column.width() - 2 * S.PANEL_PAD - 14
            rich.set_width(inner)
            panel = QRectF(column.left() + 14, y + 2, inner + 2 * S.PANEL_PAD, 0)
            panel.setHeight(rich.height() + 2 * S.PANEL_PAD)
            layout.panel = panel
            layout.rich, layout.text_width = rich, inner
            layout.text_pos = QPointF(panel.left() + S.PANEL_PAD, panel.top() + S.PANEL_PAD)
            y = panel.bottom()
        if e.images:  # a tool's images show folded or not: they are what it returned
            left = column.left() + 14
            per_line = _thumbs_per_line(column.width() - 14)
            y += 6
            for i in range(len(e.images)):
                r, c = divmod(i, per_line)
                x = left + c * (S.THUMB_W + S.THUMB_GAP)
                top = y + r * (S.THUMB_H + S.THUMB_GAP)
                layout.thumbs.append(QRectF(x, top, S.THUMB_W, S.THUMB_H))
            y = layout.thumbs[-1].bottom()
        if e.note:
            y = self._small_lines(layout, y + 4, column, f"⚠ {e.note}", Tone.WARNING, theme)
        layout.height = math.ceil(y + 3)
        return layout

    def _layout_notice(self, e: _Entry, column: QRectF, theme: Theme) -> RowLayout:
        layout = RowLayout(height=0)
        width = column.width() * 0.8
        flags = int(Qt.TextFlag.TextWordWrap) | int(Qt.AlignmentFlag.AlignCenter)
        fm = QFontMetricsF(theme.small)
        box = fm.boundingRect(QRectF(0, 0, width - 24, 10_000), flags, e.text)
        pill_w = min(width, math.ceil(box.width()) + 24)
        pill = QRectF(column.center().x() - pill_w / 2, 8, pill_w, math.ceil(box.height()) + 10)
        layout.panel = pill
        layout.lines.append((pill, e.text, e.level or Tone.INFO, flags))
        layout.height = math.ceil(pill.bottom() + 8)
        return layout

    # -- Qt API ----------------------------------------------------------------------------------

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        entry: _Entry | None = index.data(EntryRole)
        known = None if entry is None else self._heights.get(entry.uid)
        if known is not None and entry is not None:
            width = self._width(option)
            if known[0] == width and known[1] == entry.revision:
                return QSize(width, int(known[2]))
        layout = self.row_layout(option, index)
        if layout is None:
            return QSize(0, 0)
        return QSize(self._width(option), int(layout.height))

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        layout = self.row_layout(option, index)
        entry: _Entry | None = index.data(EntryRole)
        if layout is None or entry is None:
            return
        theme = self.theme(option)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.translate(option.rect.topLeft())
        clip = QRectF(0, 0, option.rect.width(), option.rect.height())
        viewport = getattr(option.widget, "viewport", None)
        if callable(viewport):  # a row taller than the view: draw only its visible part
            top_left = option.rect.topLeft()
            clip = clip.intersected(
                QRectF(viewport().rect()).translated(-top_left.x(), -top_left.y())
            )
        if option.state & QStyle.StateFlag.State_Selected and _has_focus_within(option.widget):
            # The current message is marked while the list (or its text selection) has the
            # focus — not after the user has moved on to the message box.
            sel = layout.column.adjusted(-8, 2, 8, -2)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(theme.selection)
            painter.drawRoundedRect(sel, 10, 10)
        hovered = bool(option.state & QStyle.StateFlag.State_MouseOver)
        selecting = entry.uid == self._selecting  # the editor above paints the text
        if entry.kind is RowKind.USER:
            self._paint_user(painter, option, index, entry, layout, theme, clip, selecting)
        elif entry.kind in NOTICE_KINDS:
            self._paint_notice(painter, entry, layout, theme)
        else:
            if layout.header is not None:
                self._paint_header(painter, index, entry, layout, theme, hovered)
            if layout.panel is not None:
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(theme.panel)
                painter.drawRoundedRect(layout.panel, 10, 10)
            color = text_color(entry, theme)
            if selecting:
                pass
            elif layout.rich is not None and (entry.text or entry.kind is not RowKind.ASSISTANT):
                layout.rich.set_width(layout.text_width)
                layout.rich.draw(painter, layout.text_pos, option.palette, color, clip)
            elif entry.kind is RowKind.ASSISTANT and entry.state is RowState.STREAMING:
                painter.setFont(theme.font)
                painter.setPen(theme.muted)
                painter.drawText(layout.text_pos + QPointF(0, theme_ascent(theme)), "…")
            if layout.code_buttons and not selecting:
                self._paint_code_buttons(painter, entry, layout, theme, clip)
            if layout.thumbs:
                thumbs: list[Thumb | None] = index.data(ThumbnailsRole) or []
                for rect, thumb in zip(layout.thumbs, thumbs, strict=False):
                    if rect.intersects(clip):
                        self._paint_thumb(painter, rect, thumb, theme)
        self._paint_lines(painter, layout, theme)
        painter.restore()

    def _paint_user(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: Index,
        e: _Entry,
        layout: RowLayout,
        theme: Theme,
        clip: QRectF,
        selecting: bool = False,
    ) -> None:
        if e.state is RowState.SENDING:
            painter.setOpacity(0.6)
        if layout.bubble is not None:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(theme.bubble)
            painter.drawRoundedRect(layout.bubble, S.BUBBLE_RADIUS, S.BUBBLE_RADIUS)
        if layout.rich is not None and not selecting:
            layout.rich.set_width(layout.text_width)
            layout.rich.draw(painter, layout.text_pos, option.palette, theme.text, clip)
        if layout.thumbs:
            thumbs: list[Thumb | None] = index.data(ThumbnailsRole) or []
            for rect, thumb in zip(layout.thumbs, thumbs, strict=False):
                self._paint_thumb(painter, rect, thumb, theme)
        painter.setOpacity(1.0)
        for action, rect in layout.actions:
            retry = action is RowAction.RETRY
            painter.setPen(QPen(theme.accent if retry else theme.muted, 1))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(rect.adjusted(0.5, 0.5, -0.5, -0.5), 8, 8)
            painter.setFont(theme.small)
            painter.setPen(theme.accent if retry else theme.text)
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, _LABELS[action])

    def _paint_code_buttons(
        self, painter: QPainter, e: _Entry, layout: RowLayout, theme: Theme, clip: QRectF
    ) -> None:
        painter.setFont(theme.small)
        for i, (rect, _code) in enumerate(layout.code_buttons):
            if not rect.intersects(clip):
                continue
            copied = self._copied == (e.uid, i)
            painter.setPen(QPen(theme.accent if copied else theme.muted, 1))
            painter.setBrush(theme.base)
            painter.drawRoundedRect(rect.adjusted(0.5, 0.5, -0.5, -0.5), 6, 6)
            painter.setPen(theme.accent if copied else theme.text)
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, "Copied" if copied else "Copy")

    def _paint_thumb(self, painter: QPainter, rect: QRectF, thumb: Thumb | None, theme: Theme):
        image = thumb.image if thumb is not None else None
        if image is not None and not image.isNull():
            # Cover the cell, cropping the centre: cells stay one size so rows never jump. The
            # rounded tile is rendered once per size (tiles.py) and blitted on every repaint.
            # Snapped to device pixels: at 125 %/150 % a cell's corner often falls between two,
            # and the tile would be resampled soft where it is drawn.
            dpr = painter.device().devicePixelRatioF()
            cell = snapped(painter, rect)
            painter.drawPixmap(
                cell.topLeft(), cover_tile(image, cell.width(), cell.height(), 10, dpr)
            )
            return
        path = QPainterPath()
        path.addRoundedRect(rect, 10, 10)
        painter.save()
        painter.setClipPath(path, Qt.ClipOperation.IntersectClip)
        painter.fillRect(rect, theme.panel)
        words = "Loading…" if thumb is None else thumb.label
        painter.setFont(theme.small)
        painter.setPen(theme.error if thumb is not None and thumb.failed else theme.muted)
        flags = int(Qt.AlignmentFlag.AlignCenter) | int(Qt.TextFlag.TextWordWrap)
        painter.drawText(rect.adjusted(8, 8, -8, -8), flags, words)
        painter.restore()

    def _paint_header(
        self,
        painter: QPainter,
        index: Index,
        e: _Entry,
        layout: RowLayout,
        theme: Theme,
        hovered: bool,
    ) -> None:
        header = layout.header
        assert header is not None
        fm = QFontMetricsF(theme.small)
        label = header_label(e, index.data(ToolNameRole))
        tone = theme.error if _tool_failed(e) else theme.muted
        chevron = QRectF(header.left() + 2, header.center().y() - 5, 10, 10)
        pen = QPen(tone, 1.4)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        path = QPainterPath()
        if e.collapsed:
            path.moveTo(chevron.left() + 3, chevron.top() + 1)
            path.lineTo(chevron.left() + 7, chevron.center().y())
            path.lineTo(chevron.left() + 3, chevron.bottom() - 1)
        else:
            path.moveTo(chevron.left() + 1, chevron.top() + 3)
            path.lineTo(chevron.center().x(), chevron.top() + 7)
            path.lineTo(chevron.right() - 1, chevron.top() + 3)
        painter.drawPath(path)
        x = chevron.right() + 6
        font = theme.small
        bold = QFont(font)
        bold.setWeight(bold.Weight.DemiBold)
        painter.setFont(bold)
        painter.setPen(theme.text if hovered else tone)
        text_rect = QRectF(x, header.top(), header.right() - x, header.height())
        flags = int(Qt.AlignmentFlag.AlignLeft) | int(Qt.AlignmentFlag.AlignVCenter)
        painter.drawText(text_rect, flags, label)
        if e.collapsed:
            used = QFontMetricsF(bold).horizontalAdvance(label) + 10
            rest = text_rect.adjusted(used, 0, 0, 0)
            summary = folded_summary(e)
            if summary and rest.width() > 40:
                painter.setFont(font)
                painter.setPen(theme.muted)
                elided = fm.elidedText(summary, Qt.TextElideMode.ElideRight, rest.width())
                painter.drawText(rest, flags, elided)

    def _paint_notice(self, painter: QPainter, e: _Entry, layout: RowLayout, theme: Theme):
        if layout.panel is None:
            return
        tone = tone_color(theme, e.level or Tone.INFO)
        fill = blend(theme.base, tone, 0.12 if e.level in (Tone.WARNING, Tone.ERROR) else 0.06)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(fill)
        painter.drawRoundedRect(layout.panel, layout.panel.height() / 2, layout.panel.height() / 2)

    def _paint_lines(self, painter: QPainter, layout: RowLayout, theme: Theme) -> None:
        painter.setFont(theme.small)
        for rect, text, tone, flags in layout.lines:
            painter.setPen(tone_color(theme, tone))
            painter.drawText(rect, flags, text)

    # -- selecting text: the item editor ----------------------------------------------------------

    def text_rect(self, option: QStyleOptionViewItem, index: Index) -> QRectF | None:
        """Where the row's selectable text is (viewport coordinates; option.rect is the row), or
        None if it shows no text to select (a folded row, a notice, a reply not yet begun)."""
        layout = self.row_layout(option, index)
        entry: _Entry | None = index.data(EntryRole)
        if layout is None or entry is None or layout.rich is None or not entry.text:
            return None
        layout.rich.set_width(layout.text_width)
        size = QSizeF(layout.text_width, layout.rich.height())
        return QRectF(layout.text_pos + QPointF(option.rect.topLeft()), size)

    @staticmethod
    def _view_option(widget: QWidget | None) -> QStyleOptionViewItem:
        option = QStyleOptionViewItem()
        while widget is not None and not isinstance(widget, QAbstractItemView):
            widget = widget.parentWidget()
        if widget is not None:
            widget.initViewItemOption(option)  # type: ignore[attr-defined]
        return option

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem, index: Index) -> QWidget:
        editor = SelectableText(parent)
        editor.setObjectName("transcriptSelection")
        return editor

    def setEditorData(self, editor: QWidget, index: Index) -> None:
        if not isinstance(editor, SelectableText):
            return
        option = self._view_option(editor)
        layout = self.row_layout(option, index)
        entry: _Entry | None = index.data(EntryRole)
        if layout is None or entry is None or layout.rich is None:
            return
        theme = self.theme(option)
        color = QColor(text_color(entry, theme))
        if entry.kind is RowKind.USER and entry.state is RowState.SENDING:
            color.setAlphaF(color.alphaF() * 0.6)  # the row paints a sending message faded
        layout.rich.set_width(layout.text_width)
        who = who_label(entry.kind)
        editor.show_text(layout.rich, layout.rich.style.font, color, option.palette, who)
        editor.whole_text = entry.text
        origin = layout.text_pos
        editor.hotspots = [rect.translated(-origin) for rect, _code in layout.code_buttons]
        if layout.code_buttons:
            row = QPersistentModelIndex(index)
            editor.overlay = lambda painter: self._paint_editor_overlay(painter, editor, row)
        else:
            editor.overlay = None
        date = index.data(Qt.ItemDataRole.ToolTipRole)
        editor.setToolTip(str(date) if date else "")

    def _paint_editor_overlay(
        self, painter: QPainter, editor: QWidget, index: QPersistentModelIndex
    ) -> None:
        """The code blocks' Copy buttons, above the text the editor paints."""
        if not index.isValid():
            return
        option = self._view_option(editor)
        layout = self.row_layout(option, index)
        entry: _Entry | None = index.data(EntryRole)
        if layout is None or entry is None or not layout.code_buttons:
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.translate(-layout.text_pos)
        clip = QRectF(editor.rect()).translated(layout.text_pos)
        self._paint_code_buttons(painter, entry, layout, self.theme(option), clip)

    def updateEditorGeometry(
        self, editor: QWidget, option: QStyleOptionViewItem, index: Index
    ) -> None:
        rect = self.text_rect(option, index)
        if rect is None:
            editor.setGeometry(QRect(option.rect.topLeft(), QSize(0, 0)))
            return
        # Whole pixels (the layout keeps the text origin on them); a fraction more height so
        # the editor never needs to scroll its own text.
        top_left = QPoint(round(rect.left()), round(rect.top()))
        size = QSize(math.ceil(rect.width()), math.ceil(rect.height() + 0.5))
        editor.setGeometry(QRect(top_left, size))

    def setModelData(self, editor: QWidget, model: QAbstractItemModel, index: Index) -> None:
        pass  # read-only: nothing to write back

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        # The editor stays when the window loses focus (the user switches to paste what they
        # copied) or a context menu opens; any other focus change ends the selection.
        if (
            event.type() == QEvent.Type.FocusOut
            and isinstance(obj, SelectableText)
            and isinstance(event, QFocusEvent)
            and event.reason()
            in (Qt.FocusReason.ActiveWindowFocusReason, Qt.FocusReason.PopupFocusReason)
        ):
            return False
        return super().eventFilter(obj, event)

    # -- hit testing -------------------------------------------------------------------------------

    def hit_test(self, option: QStyleOptionViewItem, index: Index, pos: QPointF) -> Hit | None:
        """What a click at `pos` (viewport coordinates; option.rect is the row) would do."""
        layout = self.row_layout(option, index)
        entry: _Entry | None = index.data(EntryRole)
        if layout is None or entry is None:
            return None
        p = pos - QPointF(option.rect.topLeft())
        for action, rect in layout.actions:
            if rect.contains(p):
                return Hit(action, entry.otid)
        for i, rect in enumerate(layout.thumbs):
            if rect.contains(p):
                return Hit(RowAction.IMAGE, i)
        for i, (rect, code) in enumerate(layout.code_buttons):
            if rect.contains(p):
                return Hit(RowAction.COPY_CODE, (i, code))
        if layout.header is not None and layout.header.contains(p):
            return Hit(RowAction.TOGGLE)
        in_text = entry.kind is not RowKind.USER or layout.bubble is not None
        if layout.rich is not None and in_text:
            layout.rich.set_width(layout.text_width)
            href = layout.rich.anchor_at(p - layout.text_pos)
            if href:
                return Hit(RowAction.LINK, href)
        if entry.kind in COLLAPSIBLE and entry.collapsed and layout.column.contains(p):
            return Hit(RowAction.TOGGLE)
        return None


def header_label(e: _Entry, tool_name: str | None) -> str:
    streaming = "…" if e.state is RowState.STREAMING else ""
    if tool_name:
        tool_name = tool_label(tool_name)
    several = len(e.tool_calls) > 1
    if e.kind is RowKind.REASONING:
        return f"Thinking{streaming}"
    if e.kind is RowKind.TOOL_CALL:
        word = "Tools" if several else "Tool"
        return f"{word}: {tool_name}{streaming}" if tool_name else f"Tool call{streaming}"
    if e.kind is RowKind.TOOL_RETURN:
        word = "Tool error" if _tool_failed(e) else "Result"
        return f"{word}: {tool_name}" if tool_name else f"{word} of a tool"
    if e.kind is RowKind.APPROVAL:
        if e.message_type == "approval_response_message":
            return f"Your answer: {tool_name}" if tool_name else "Your answer"
        return f"Approval requested: {tool_name}{streaming}" if tool_name else "Approval requested"
    if e.kind is RowKind.SYSTEM:
        return "System"
    if e.kind is RowKind.SUMMARY:
        return who_label(RowKind.SUMMARY)
    return "Other message"


def _thumbs_per_line(width: float) -> int:
    return max(1, int((width + S.THUMB_GAP) // (S.THUMB_W + S.THUMB_GAP)))


def _tool_failed(e: _Entry) -> bool:
    # The server's own word for a tool result's status ("success" / "error").
    return e.kind is RowKind.TOOL_RETURN and e.status == "error"


def tone_color(theme: Theme, tone: Tone) -> QColor:
    """Colour of small text in a row: errors red, warnings amber, the rest muted."""
    return {Tone.ERROR: theme.error, Tone.WARNING: theme.warning}.get(tone, theme.muted)


def text_color(e: _Entry, theme: Theme) -> QColor:
    """Colour of a row's text: replies and the user's words in full, the rest secondary."""
    return theme.text if e.kind in (RowKind.ASSISTANT, RowKind.USER) else blend_muted(theme)


def blend_muted(theme: Theme) -> QColor:
    """Body text of thinking/tool rows: readable but clearly secondary."""
    return blend(theme.text, theme.base, 0.25)


def theme_ascent(theme: Theme) -> float:
    return QFontMetricsF(theme.font).ascent()
