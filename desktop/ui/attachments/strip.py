"""The pending strip under the composer: one rounded chip per attachment, plus a caption for
problems and URL notes. Chips appear the moment an attachment is added (a placeholder until its
preview arrives from a worker; of a big drop, the first batch at once and the rest over the next
few event-loop turns); they only paint small, already-decoded previews."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QEvent, QPointF, QRect, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QContextMenuEvent,
    QFont,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPalette,
    QPen,
    QPixmap,
    QPixmapCache,
)
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QBoxLayout,
    QFrame,
    QHBoxLayout,
    QMenu,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from desktop.core.attachments import Attachment, Kind, State
from desktop.core.images.sniff import short_name
from desktop.ui.attachments.chip_menu import chip_menu
from desktop.ui.attachments.controller import AttachmentController
from desktop.ui.imaging.device_pixels import device_length, snapped
from desktop.ui.imaging.tiles import cover_tile
from desktop.ui.plain_text import plain_tip
from desktop.ui.style.tones import blend, error_color

CHIP = 68
QWIDGETSIZE_MAX = (1 << 24) - 1
RADIUS = 10.0


def _round_pen(color: QColor, width: float) -> QPen:
    pen = QPen(color, width)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    return pen


def _blank(width: int, height: int, dpr: float) -> QPixmap:
    """A transparent pixmap of that logical size at the screen's pixel ratio."""
    pm = QPixmap(device_length(width, dpr), device_length(height, dpr))
    pm.setDevicePixelRatio(dpr)
    pm.fill(Qt.GlobalColor.transparent)
    return pm


class _RemoveButton(QAbstractButton):
    """The round × in a chip's corner."""

    SIZE = 20

    def __init__(self, parent: QWidget):
        super().__init__(parent)
        self.setFixedSize(self.SIZE, self.SIZE)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_Hover)

    def paintEvent(self, event: QPaintEvent) -> None:
        hover = self.underMouse() or self.parentWidget().underMouse()
        dpr = self.devicePixelRatioF()
        key = f"chip-remove:{hover}:{dpr:g}"  # one look per state, shared by every chip
        face = QPixmapCache.find(key)
        if face is None:
            face = _blank(self.SIZE, self.SIZE, dpr)
            self._paint_face(QPainter(face), hover)
            QPixmapCache.insert(key, face)
        p = QPainter(self)
        p.drawPixmap(0, 0, face)
        p.end()

    def _paint_face(self, p: QPainter, hover: bool) -> None:
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(QPen(QColor(255, 255, 255, 200), 1.0))
        p.setBrush(QColor(20, 20, 20, 210 if hover else 130))
        p.drawEllipse(QRectF(0.5, 0.5, self.SIZE - 1, self.SIZE - 1))
        p.setPen(_round_pen(QColor("white"), 1.6))
        c, r = self.SIZE / 2, 4.0
        p.drawLine(QPointF(c - r, c - r), QPointF(c + r, c + r))
        p.drawLine(QPointF(c - r, c + r), QPointF(c + r, c - r))
        p.end()


class Chip(QWidget):
    """One attachment: preview (cover-cropped, rounded), ×, state and problem badge.

    Click or Space: preview (the lightbox). Double-click or Enter: edit (crop, redact). The
    click's preview waits for the double-click interval, so a double-click opens only the
    editor."""

    removeRequested = Signal(object)  # Attachment
    previewRequested = Signal(object)  # Attachment
    editRequested = Signal(object)  # Attachment

    def __init__(self, att: Attachment, controller: AttachmentController, parent=None):
        super().__init__(parent)
        self.attachment = att
        self._controller = controller
        self._pixmap: QPixmap | None = None
        self._pixmap_source: object = None
        self._face: QPixmap | None = None  # the chip as last drawn, and what it showed
        self._face_key: tuple = ()
        self.setFixedSize(CHIP, CHIP)  # its size hint (no Python override: layouts ask often)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_Hover)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.remove_button = _RemoveButton(self)
        self.remove_button.move(CHIP - _RemoveButton.SIZE - 3, 3)
        self.remove_button.setToolTip("Remove")
        self.remove_button.setAccessibleName(f"Remove {att.name}")
        self.remove_button.clicked.connect(lambda: self.removeRequested.emit(self.attachment))
        self._click = QTimer(self)  # a child: it dies with the chip
        self._click.setSingleShot(True)
        self._click.timeout.connect(lambda: self.previewRequested.emit(self.attachment))
        self._after_double = False  # the release that ends a double-click is no click
        self.refresh()

    # -- state --------------------------------------------------------------------------------

    @property
    def has_problem(self) -> bool:
        return self.attachment.state is State.PROBLEM

    @property
    def has_thumbnail(self) -> bool:
        return self._pixmap is not None

    def refresh(self) -> None:
        att = self.attachment
        tip = self._controller.describe(att)
        self.setToolTip(plain_tip(tip))
        self.setAccessibleName(f"Attachment {att.name}")
        self.setAccessibleDescription(tip.replace("\n", ". "))
        if att.preview is not None and att.preview is not self._pixmap_source:
            # A ≤240-px preview decoded on a worker; converting it here is a small copy.
            self._pixmap = QPixmap.fromImage(att.preview)
            self._pixmap_source = att.preview
        self.update()

    # -- input --------------------------------------------------------------------------------

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.rect().contains(
            event.position().toPoint()
        ):
            if not self._after_double:
                self._click.start(QApplication.doubleClickInterval())
            self._after_double = False
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def context_menu(self) -> QMenu:
        return chip_menu(
            self,
            self._controller,
            self.attachment,
            on_edit=lambda: self.editRequested.emit(self.attachment),
        )

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        menu = self.context_menu()
        menu.exec(event.globalPos())
        menu.deleteLater()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._click.stop()
            self._after_double = True
            self.editRequested.emit(self.attachment)
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self.removeRequested.emit(self.attachment)
        elif event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.editRequested.emit(self.attachment)
        elif event.key() == Qt.Key.Key_Space:
            self.previewRequested.emit(self.attachment)
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    # -- painting -----------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        # The chip is drawn once per look (state, preview, hover, focus, palette) into a pixmap
        # and blitted after: while images are prepared and sent the strip is repainted often,
        # and its antialiased paths and scaled previews cost ~0.5–1 ms per chip each time.
        att = self.attachment
        dpr = self.devicePixelRatioF()
        key = (
            dpr,
            self._pixmap.cacheKey() if self._pixmap is not None else 0,
            att.preparing,
            self.has_problem,
            self.underMouse(),
            self.hasFocus(),
            self.palette().cacheKey(),
            self.font().key(),
        )
        if self._face is None or key != self._face_key:
            face = _blank(self.width(), self.height(), dpr)
            self._paint_face(QPainter(face))
            self._face, self._face_key = face, key
        p = QPainter(self)
        p.drawPixmap(0, 0, self._face)
        p.end()

    def _paint_face(self, p: QPainter) -> None:
        att = self.attachment
        pal = self.palette()
        base = pal.color(QPalette.ColorRole.Base)
        text = pal.color(QPalette.ColorRole.WindowText)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        # On device pixels: the preview tile is then blitted 1:1 (at 125 % the 1-px inset is
        # 1.25 device px, and a tile drawn there is resampled soft), and the fill, the tile and
        # the border follow one outline with no hairline between them.
        rect = snapped(p, QRectF(self.rect()).adjusted(1, 1, -1, -1))
        path = QPainterPath()
        path.addRoundedRect(rect, RADIUS, RADIUS)
        p.fillPath(path, blend(base, text, 0.06))

        if self._pixmap is not None:  # the preview covering the chip, centre-cropped
            dpr = p.device().devicePixelRatioF()
            tile = cover_tile(self._pixmap, rect.width(), rect.height(), RADIUS, dpr)
            p.drawPixmap(rect.topLeft(), tile)
        else:
            if self.has_problem:
                wash = error_color(pal)
                wash.setAlpha(22)
                p.fillPath(path, wash)
            self._paint_placeholder(p, rect, text)

        if att.preparing:
            p.fillPath(path, QColor(base.red(), base.green(), base.blue(), 150))
            self._paint_progress(p, rect, pal.color(QPalette.ColorRole.Highlight))

        hovered = self.underMouse() or self.hasFocus()
        if self.has_problem:
            pen = QPen(error_color(pal), 2.0)
        elif self.hasFocus():
            pen = QPen(pal.color(QPalette.ColorRole.Highlight), 2.0)
        else:
            border = QColor(text)
            border.setAlpha(70 if hovered else 40)
            pen = QPen(border, 1.0)
        p.setPen(pen)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawPath(path)

        if self.has_problem:
            self._paint_badge(p, rect)
        p.end()

    def _paint_placeholder(self, p: QPainter, rect: QRectF, text: QColor) -> None:
        att = self.attachment
        muted = QColor(text)
        muted.setAlpha(150)
        font = QFont(self.font())
        font.setPixelSize(11)
        font.setBold(True)
        p.setFont(font)
        p.setPen(muted)
        if att.kind is Kind.URL:
            host = p.fontMetrics().elidedText(
                att.host, Qt.TextElideMode.ElideMiddle, int(rect.width()) - 10
            )
            label = f"URL\n{host}"
        else:
            ext = att.name.rsplit(".", 1)[-1].upper() if "." in att.name else ""
            label = ext[:5] or short_name(None).upper()
        p.drawText(rect.adjusted(4, 4, -4, -4), Qt.AlignmentFlag.AlignCenter, label)

    def _paint_progress(self, p: QPainter, rect: QRectF, color: QColor) -> None:
        c = rect.center()
        ring = QRectF(c.x() - 10, c.y() - 10, 20, 20)
        track = QColor(color)
        track.setAlpha(60)
        p.setPen(QPen(track, 3.0))
        p.drawEllipse(ring)
        p.setPen(_round_pen(color, 3.0))
        p.drawArc(ring, 90 * 16, -110 * 16)

    def _paint_badge(self, p: QPainter, rect: QRectF) -> None:
        d = 20.0
        badge = QRectF(rect.left() + 4, rect.bottom() - d - 4, d, d)
        p.setPen(QPen(QColor("white"), 1.5))
        p.setBrush(error_color(self.palette()))
        p.drawEllipse(badge)
        font = QFont(self.font())
        font.setPixelSize(13)
        font.setBold(True)
        p.setFont(font)
        p.drawText(badge, Qt.AlignmentFlag.AlignCenter, "!")


class Caption(QWidget):
    """The notes under the chips: one word-wrapped line per problem or URL, in its colour.

    Painted here rather than by a rich-text QLabel: a layout pass asks for the height at a width
    several times and a QLabel lays out all of its text again for each question, ~50 ms per
    change once a 200-file drop has a hundred problems. Heights are kept per line and width, so
    a new problem lays out its own line only, and painting draws only the exposed lines."""

    FLAGS = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap
    WIDTHS = 4  # widths whose line heights are kept (a layout pass asks for a few)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._lines: list[tuple[str, QColor]] = []
        self._heights: dict[int, dict[str, int]] = {}  # width → line → height
        self._words: dict[str, int] = {}  # line → width of its longest word
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Minimum)

    def set_lines(self, lines: Sequence[tuple[str, QColor]]) -> None:
        if len(lines) == len(self._lines) and all(
            a == b and QColor(c) == d for (a, c), (b, d) in zip(lines, self._lines, strict=True)
        ):
            return
        self._lines = [(text, QColor(color)) for text, color in lines]
        live = {text for text, _ in self._lines}
        for heights in self._heights.values():
            for text in [t for t in heights if t not in live]:
                del heights[text]
        self._words = {t: w for t, w in self._words.items() if t in live}
        self.setAccessibleDescription("\n".join(text for text, _ in self._lines))
        self.updateGeometry()
        self.update()

    def lines(self) -> list[str]:
        return [text for text, _ in self._lines]

    def colors(self) -> list[QColor]:
        return [QColor(color) for _, color in self._lines]

    def _line_height(self, text: str, width: int) -> int:
        heights = self._heights.get(width)
        if heights is None:
            if len(self._heights) >= self.WIDTHS:
                del self._heights[next(iter(self._heights))]
            heights = self._heights[width] = {}
        height = heights.get(text)
        if height is None:
            box = QRect(0, 0, max(1, width), 1 << 20)
            height = heights[text] = self.fontMetrics().boundingRect(box, self.FLAGS, text).height()
        return height

    def _longest_word(self, text: str) -> int:
        width = self._words.get(text)
        if width is None:
            box = QRect(0, 0, 0, 1 << 20)
            width = self._words[text] = (
                self.fontMetrics().boundingRect(box, self.FLAGS, text).width()
            )
        return width

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return sum(self._line_height(text, width) for text, _ in self._lines)

    def minimumSizeHint(self) -> QSize:
        # as a word-wrapped label: as narrow as its longest word, each line unwrapped
        width = max((self._longest_word(text) for text, _ in self._lines), default=0)
        return QSize(width, self.heightForWidth(QWIDGETSIZE_MAX))

    def sizeHint(self) -> QSize:
        width = max(self.minimumSizeHint().width(), 80 * self.fontMetrics().averageCharWidth())
        return QSize(width, self.heightForWidth(width))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._heights.clear()
            self._words.clear()
            self.updateGeometry()
        super().changeEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        exposed = event.rect()
        width, y = self.width(), 0
        for text, color in self._lines:
            height = self._line_height(text, width)
            if y > exposed.bottom():
                break
            if y + height >= exposed.top():
                p.setPen(color)
                p.drawText(QRect(0, y, width, height), self.FLAGS, text)
            y += height
        p.end()


def _drop(order: list[Any], widget: QWidget) -> None:
    del order[next(i for i, w in enumerate(order) if w is widget)]


def _place(layout: QBoxLayout, order: list[Any], wanted: Sequence[QWidget]) -> None:
    """Make `layout` (whose widgets are `order`, kept in step) start with `wanted`, in order,
    touching only what is out of place. New widgets are shown as they join."""
    for i, widget in enumerate(wanted):
        if i < len(order) and order[i] is widget:
            continue
        at = next((j for j in range(i + 1, len(order)) if order[j] is widget), None)
        if at is not None:  # out of place (e.g. attachments restored in front of it)
            del order[at]
            layout.removeWidget(widget)
        layout.insertWidget(i, widget)
        order.insert(i, widget)
        if at is None:
            widget.show()


class AttachmentStrip(QWidget):
    """Chips in a horizontal row (scrolls when many) with a caption for problems/notes.

    Chips are made a batch per event-loop turn: the first `BATCH` of a burst at once (a paste or
    a small drop looks exactly as before), the rest on the following turns, so a drop of 200
    files never blocks the GUI for the ~280 ms that making 200 widgets in one go takes. The row
    always holds chips for attachments that are still there, in the controller's order; one
    removed or cleared before its chip was made never gets one. `chips()` and `chip_for()`
    make any chips still waiting (callers asking for them want them)."""

    previewRequested = Signal(object)  # Attachment
    editRequested = Signal(object)  # Attachment

    BATCH = 16  # chips made per event-loop turn at most (~0.4 ms each on an idle 2-core machine)
    TURN_S = 0.008  # …and for at most this long: busy workers can make each chip much slower

    def __init__(self, controller: AttachmentController, parent: QWidget | None = None):
        super().__init__(parent)
        self.controller = controller
        self._chips: dict[str, Chip] = {}
        self._order: list[Chip] = []  # the chips as they sit in the row, left to right
        self._budget = self.BATCH  # chips this turn may still make
        self._turn_start: float | None = None  # when this turn made its first chip
        self._dirty = False  # an attachment has no chip yet (or its chip is out of place)
        self._caption_dirty = False
        # One zero-timer per strip (a child: it dies with the strip) ends the turn: it renews
        # the budget, makes the next batch and writes the caption once for a burst of signals.
        self._turn = QTimer(self)
        self._turn.setSingleShot(True)
        self._turn.setInterval(0)
        self._turn.timeout.connect(self._next_turn)
        self.setAccessibleName("Pending attachments")
        self._row_host = row_host = QWidget()
        self._row = QHBoxLayout(row_host)
        self._row.setContentsMargins(0, 2, 0, 2)
        self._row.setSpacing(8)
        self._row.addStretch(1)
        self._scroll = QScrollArea()
        self._scroll.setFrameShape(QFrame.Shape.NoFrame)
        self._scroll.setWidgetResizable(True)
        self._scroll.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self._scroll.setWidget(row_host)
        self._scroll.setFixedHeight(CHIP + 8)
        self._scroll.viewport().setAutoFillBackground(False)
        row_host.setAutoFillBackground(False)
        self.caption = Caption()
        self.caption.setAccessibleName("Attachment notes")
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addWidget(self._scroll)
        column.addWidget(self.caption)
        controller.added.connect(self._on_added)
        controller.removed.connect(self._on_removed)
        controller.changed.connect(self._on_changed)
        controller.set_preview_scale(self.devicePixelRatioF())
        self._dirty = True
        self._reconcile()
        self._update_caption()
        self.setVisible(len(controller) > 0)

    # -- reading ------------------------------------------------------------------------------

    def chips(self) -> list[Chip]:
        """The chips, in the attachments' order (any still waiting are made now)."""
        self._make_all()
        return [self._chips[a.id] for a in self.controller.items if a.id in self._chips]

    def chip_for(self, att: Attachment) -> Chip | None:
        if att.id not in self._chips:
            self._make_all()
        return self._chips.get(att.id)

    def chips_made(self) -> list[Chip]:
        """The chips in the row now, left to right (none is made for asking)."""
        return list(self._order)

    @property
    def waiting(self) -> int:
        """Attachments whose chip a later turn will make."""
        return len(self.controller) - len(self._chips) if self._dirty else 0

    # -- following the controller -------------------------------------------------------------

    def _on_added(self, _att: Attachment) -> None:
        self._dirty = True
        if self._budget > 0:
            self._reconcile()
        elif not self._turn.isActive():
            self._turn.start()
        self._caption_later()
        self.setVisible(True)

    def _on_removed(self, att: Attachment) -> None:
        chip = self._chips.pop(att.id, None)
        if chip is not None:
            _drop(self._order, chip)
            self._row.removeWidget(chip)
            chip.hide()
            chip.deleteLater()
        self._caption_later()
        self.setVisible(len(self.controller) > 0)

    def _on_changed(self, att: Attachment) -> None:
        chip = self._chips.get(att.id)
        if chip is not None:
            chip.refresh()  # a chip made later reads the attachment as it is then
        self._caption_later()

    def _next_turn(self) -> None:
        self._budget = self.BATCH
        self._turn_start = None
        if self._dirty:
            self._reconcile()
        if self._caption_dirty:
            self._update_caption()

    def _make_all(self) -> None:
        if self._dirty:
            self._reconcile(everything=True)

    def _reconcile(self, *, everything: bool = False) -> None:
        """Make the missing chips this turn may still make (all of them with `everything`) and
        put the row in the controller's order: one pass, the row touched only where it differs."""
        wanted: list[Chip] = []
        made = 0
        complete = True
        for att in self.controller.items:
            chip = self._chips.get(att.id)
            if chip is None:
                if not (everything or self._may_make()):
                    complete = False
                    continue
                chip = self._make_chip(att)
                made += 1
            wanted.append(chip)
        _place(self._row, self._order, wanted)
        self._dirty = not complete
        if (made or self._dirty) and not self._turn.isActive():
            self._turn.start()

    def _may_make(self) -> bool:
        """One more chip this turn? At most `BATCH`, and none after `TURN_S`."""
        if self._budget <= 0:
            return False
        now = time.perf_counter()
        if self._turn_start is None:
            self._turn_start = now
        elif now - self._turn_start > self.TURN_S:
            self._budget = 0  # the rest of a burst only queues (no pass over the list per add)
            return False
        self._budget -= 1
        return True

    def _make_chip(self, att: Attachment) -> Chip:
        # Made inside the row's host: joining the row is then no re-parenting of a top-level.
        chip = Chip(att, self.controller, self._row_host)
        chip.removeRequested.connect(self.controller.remove)
        chip.previewRequested.connect(self.previewRequested)
        chip.editRequested.connect(self.editRequested)
        self._chips[att.id] = chip
        return chip

    def _caption_later(self) -> None:
        self._caption_dirty = True
        if not self._turn.isActive():
            self._turn.start()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self._caption_later()  # problems in the new scheme's red
        super().changeEvent(event)

    def event(self, event: QEvent) -> bool:
        if event.type() in (QEvent.Type.DevicePixelRatioChange, QEvent.Type.Show):
            # The window moved to a screen of another ratio (or the strip shows on one):
            # previews are asked for at its device pixels, the chips redraw by themselves.
            self.controller.set_preview_scale(self.devicePixelRatioF())
        return super().event(event)

    def _update_caption(self) -> None:
        """Problems in red, URL notes muted: one line each, so every bad file says why."""
        self._caption_dirty = False
        muted = self.palette().color(QPalette.ColorRole.PlaceholderText)
        red = error_color(self.palette())
        lines = []
        for att in self.controller.items:
            if att.state is State.PROBLEM:
                color = red
            elif att.kind is Kind.URL:
                color = muted
            else:
                continue
            lines.append((" ".join(att.note().split()), color))  # white space as rich text had it
        self.caption.set_lines(lines)
        self.caption.setVisible(bool(lines))

    def caption_text(self) -> str:
        """The caption as plain text (for tests and accessibility)."""
        return "\n".join(
            a.note()
            for a in self.controller.items
            if a.state is State.PROBLEM or a.kind is Kind.URL
        )
