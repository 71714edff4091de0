"""The pending strip under the composer: one rounded chip per attachment, plus a caption for
problems and URL notes. Chips appear the moment an attachment is added (a placeholder until its
preview arrives from a worker); they only paint small, already-decoded previews."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPalette,
    QPen,
    QPixmap,
)
from PySide6.QtWidgets import (
    QAbstractButton,
    QFrame,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from desktop.core.attachments import Attachment, Kind, State
from desktop.core.images.sniff import short_name

from .controller import AttachmentController

CHIP = 68
RADIUS = 10.0
PROBLEM_RED = QColor("#d93025")


def _round_pen(color: QColor, width: float) -> QPen:
    pen = QPen(color, width)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    return pen


def _blend(a: QColor, b: QColor, t: float) -> QColor:
    return QColor(
        round(a.red() + (b.red() - a.red()) * t),
        round(a.green() + (b.green() - a.green()) * t),
        round(a.blue() + (b.blue() - a.blue()) * t),
    )


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
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        hover = self.underMouse() or self.parentWidget().underMouse()
        p.setPen(QPen(QColor(255, 255, 255, 200), 1.0))
        p.setBrush(QColor(20, 20, 20, 210 if hover else 130))
        p.drawEllipse(QRectF(0.5, 0.5, self.SIZE - 1, self.SIZE - 1))
        p.setPen(_round_pen(QColor("white"), 1.6))
        c, r = self.SIZE / 2, 4.0
        p.drawLine(QPointF(c - r, c - r), QPointF(c + r, c + r))
        p.drawLine(QPointF(c - r, c + r), QPointF(c + r, c - r))
        p.end()


class Chip(QWidget):
    """One attachment: preview (cover-cropped, rounded), ×, state and problem badge."""

    removeRequested = Signal(object)  # Attachment
    previewRequested = Signal(object)  # Attachment

    def __init__(self, att: Attachment, controller: AttachmentController, parent=None):
        super().__init__(parent)
        self.attachment = att
        self._controller = controller
        self._pixmap: QPixmap | None = None
        self._pixmap_source: object = None
        self.setFixedSize(CHIP, CHIP)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_Hover)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.remove_button = _RemoveButton(self)
        self.remove_button.move(CHIP - _RemoveButton.SIZE - 3, 3)
        self.remove_button.setToolTip("Remove")
        self.remove_button.setAccessibleName(f"Remove {att.name}")
        self.remove_button.clicked.connect(lambda: self.removeRequested.emit(self.attachment))
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
        self.setToolTip(tip)
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
            self.previewRequested.emit(self.attachment)
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self.removeRequested.emit(self.attachment)
        elif event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            self.previewRequested.emit(self.attachment)
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    # -- painting -----------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        att = self.attachment
        pal = self.palette()
        base = pal.color(QPalette.ColorRole.Base)
        text = pal.color(QPalette.ColorRole.WindowText)
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        rect = QRectF(self.rect()).adjusted(1, 1, -1, -1)
        path = QPainterPath()
        path.addRoundedRect(rect, RADIUS, RADIUS)
        p.fillPath(path, _blend(base, text, 0.06))

        if self._pixmap is not None:
            p.save()
            p.setClipPath(path)
            pm = self._pixmap
            scale = max(rect.width() / pm.width(), rect.height() / pm.height())
            w, h = pm.width() * scale, pm.height() * scale
            p.drawPixmap(
                QRectF(rect.center().x() - w / 2, rect.center().y() - h / 2, w, h),
                pm,
                QRectF(pm.rect()),
            )
            p.restore()
        else:
            if self.has_problem:
                p.fillPath(
                    path, QColor(PROBLEM_RED.red(), PROBLEM_RED.green(), PROBLEM_RED.blue(), 22)
                )
            self._paint_placeholder(p, rect, text)

        if att.preparing:
            p.fillPath(path, QColor(base.red(), base.green(), base.blue(), 150))
            self._paint_progress(p, rect, pal.color(QPalette.ColorRole.Highlight))

        hovered = self.underMouse() or self.hasFocus()
        if self.has_problem:
            pen = QPen(PROBLEM_RED, 2.0)
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
        p.setBrush(PROBLEM_RED)
        p.drawEllipse(badge)
        font = QFont(self.font())
        font.setPixelSize(13)
        font.setBold(True)
        p.setFont(font)
        p.drawText(badge, Qt.AlignmentFlag.AlignCenter, "!")

    def sizeHint(self) -> QSize:
        return QSize(CHIP, CHIP)


class AttachmentStrip(QWidget):
    """Chips in a horizontal row (scrolls when many) with a caption for problems/notes."""

    previewRequested = Signal(object)  # Attachment

    def __init__(self, controller: AttachmentController, parent: QWidget | None = None):
        super().__init__(parent)
        self.controller = controller
        self._chips: dict[str, Chip] = {}
        self.setAccessibleName("Pending attachments")
        row_host = QWidget()
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
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        self.caption.setTextFormat(Qt.TextFormat.RichText)
        self.caption.setAccessibleName("Attachment notes")
        self.caption.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Minimum)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addWidget(self._scroll)
        column.addWidget(self.caption)
        controller.added.connect(self._sync)
        controller.removed.connect(self._sync)
        controller.changed.connect(self._on_changed)
        self._sync()

    def chips(self) -> list[Chip]:
        return [self._chips[a.id] for a in self.controller.items if a.id in self._chips]

    def chip_for(self, att: Attachment) -> Chip | None:
        return self._chips.get(att.id)

    def _sync(self, *_args: object) -> None:
        items = self.controller.items
        wanted = {a.id for a in items}
        for att_id in [k for k in self._chips if k not in wanted]:
            chip = self._chips.pop(att_id)
            self._row.removeWidget(chip)
            chip.hide()
            chip.deleteLater()
        for i, att in enumerate(items):
            chip = self._chips.get(att.id)
            if chip is None:
                chip = Chip(att, self.controller)
                chip.removeRequested.connect(self.controller.remove)
                chip.previewRequested.connect(self.previewRequested)
                self._chips[att.id] = chip
            if self._row.indexOf(chip) != i:
                self._row.removeWidget(chip)
                self._row.insertWidget(i, chip)
            chip.show()
        self._update_caption()
        self.setVisible(bool(items))

    def _on_changed(self, att: Attachment) -> None:
        chip = self._chips.get(att.id)
        if chip is not None:
            chip.refresh()
        self._update_caption()

    def _update_caption(self) -> None:
        """Problems in red, URL notes muted: one line each, so every bad file says why."""
        c = self.palette().color(QPalette.ColorRole.PlaceholderText)
        muted = f"rgba({c.red()},{c.green()},{c.blue()},{c.alpha()})"
        lines = []
        for att in self.controller.items:
            if att.state is State.PROBLEM:
                lines.append(
                    f'<span style="color:{PROBLEM_RED.name()}">{escape(att.note())}</span>'
                )
            elif att.kind is Kind.URL:
                lines.append(f'<span style="color:{muted}">{escape(att.note())}</span>')
        self.caption.setText("<br>".join(lines))
        self.caption.setVisible(bool(lines))

    def caption_text(self) -> str:
        """The caption as plain text (for tests and accessibility)."""
        return "\n".join(
            a.note()
            for a in self.controller.items
            if a.state is State.PROBLEM or a.kind is Kind.URL
        )
