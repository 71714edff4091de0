"""The transcript widget: a QListView over TranscriptModel, painted by TranscriptDelegate.

Scrolling rules: new content keeps the view pinned to the bottom only if the user was already
there (or just sent a message); an older page inserted above keeps the row the user was looking
at in place; reaching the top asks for the next older page once.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QModelIndex, QPoint, QPointF, QRectF, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import (
    QContextMenuEvent,
    QDesktopServices,
    QGuiApplication,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPaintEvent,
)
from PySide6.QtWidgets import QAbstractItemView, QFrame, QListView, QMenu, QStyleOptionViewItem

from .delegate import Hit, TranscriptDelegate
from .model import (
    COLLAPSIBLE,
    CollapsedRole,
    EntryRole,
    ImagesRole,
    KindRole,
    OtidRole,
    StateRole,
    TextRole,
    ThumbnailsRole,
    TranscriptModel,
)
from .style import Theme

TOP_THRESHOLD = 48  # px from the top that counts as "at the top"
BOTTOM_SLACK = 8  # px from the bottom that still counts as "at the bottom"
COPIED_MS = 1500  # how long a code block's button says "Copied"
FOLDABLE = COLLAPSIBLE | {"approval"}  # rows with a header that folds
_SAFE_SCHEMES = frozenset({"http", "https"})
#: Changes to these roles never change a row's height, so they need no relayout.
_PAINT_ONLY_ROLES = frozenset({ThumbnailsRole})


class TranscriptView(QListView):
    olderRequested = Signal()
    imageActivated = Signal(object)  # ImageRef (history) or QImage (just sent)
    retryRequested = Signal(str)
    editRequested = Signal(str)
    discardRequested = Signal(str)
    linkActivated = Signal(str)  # an http(s) link that was opened

    def __init__(self, model: TranscriptModel | None = None, parent=None):
        super().__init__(parent)
        # State first: Qt calls the overridden doItemsLayout while the view is being set up.
        self._follow = True
        self._in_layout = False
        self._anchor: tuple[int, int] | None = None  # (entry uid, top offset) kept on prepend
        self._has_more = True
        self._loading_older = False
        self._older_asked = False
        self._placeholder = "No messages yet"
        self._press: QPoint | None = None
        # A code block's copy button says "Copied" for a moment after a click.
        self._copied_timer = QTimer(self)
        self._copied_timer.setSingleShot(True)
        self._copied_timer.setInterval(COPIED_MS)
        self._copied_timer.timeout.connect(self._clear_copied)
        self._delegate = TranscriptDelegate(self)
        self.setItemDelegate(self._delegate)
        self.setUniformItemSizes(False)
        self.setWordWrap(True)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.verticalScrollBar().setSingleStep(24)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setMouseTracking(True)
        self.setAutoScroll(False)
        self.setAccessibleName("Conversation")
        # Asking for older rows when the first page does not even fill the view is done from
        # the event loop, never from inside a layout pass.
        self._older_timer = QTimer(self)
        self._older_timer.setSingleShot(True)
        self._older_timer.setInterval(0)
        self._older_timer.timeout.connect(self._maybe_request_older)
        self.verticalScrollBar().valueChanged.connect(self._on_scrolled)
        if model is not None:
            self.setModel(model)

    # -- public ----------------------------------------------------------------------------------

    def transcript_model(self) -> TranscriptModel | None:
        model = self.model()
        return model if isinstance(model, TranscriptModel) else None

    def set_loading_older(self, loading: bool) -> None:
        self._loading_older = loading
        if not loading:
            self._older_asked = False
        self.viewport().update()

    def set_has_more(self, has_more: bool) -> None:
        self._has_more = has_more
        self.viewport().update()

    def set_placeholder_text(self, text: str) -> None:
        self._placeholder = text
        self.viewport().update()

    def is_at_bottom(self) -> bool:
        bar = self.verticalScrollBar()
        return bar.value() >= bar.maximum() - BOTTOM_SLACK

    def scroll_to_bottom(self) -> None:
        self._follow = True
        self.scrollToBottom()

    def copy_text(self, rows: list[int] | None = None) -> str:
        """Copies the text of `rows` (default: the selection) to the clipboard; returns it."""
        model = self.model()
        if model is None:
            return ""
        if rows is None:
            rows = sorted(i.row() for i in self.selectionModel().selectedIndexes())
        text = "\n\n".join(str(model.index(r, 0).data(TextRole) or "") for r in rows)
        if text:
            QGuiApplication.clipboard().setText(text)
        return text

    # -- model wiring ----------------------------------------------------------------------------

    def setModel(self, model) -> None:
        old = self.model()
        if old is not None:
            old.rowsAboutToBeInserted.disconnect(self._rows_about_to_be_inserted)
            old.modelReset.disconnect(self._model_reset)
        super().setModel(model)
        if model is not None:
            model.rowsAboutToBeInserted.connect(self._rows_about_to_be_inserted)
            model.modelReset.connect(self._model_reset)

    def _model_reset(self) -> None:
        self._follow = True
        self._anchor = None
        self._older_asked = False

    def _rows_about_to_be_inserted(self, _parent: QModelIndex, first: int, _last: int) -> None:
        model = self.model()
        if first == 0 and model.rowCount() > 0 and not self._follow:
            # Remember which row is at the top of the viewport, to put it back there later.
            top = self.indexAt(QPoint(self.viewport().width() // 2, 1))
            if top.isValid():
                entry = top.data(EntryRole)
                self._anchor = (entry.uid, self.visualRect(top).top())

    def rowsInserted(self, parent: QModelIndex, start: int, end: int) -> None:
        super().rowsInserted(parent, start, end)
        model = self.model()
        last = model.index(end, 0)
        if last.data(KindRole) == "user" and last.data(StateRole) == "sending":
            self._follow = True  # the user just sent something: show it
        if start == 0 and end < model.rowCount() - 1:
            self._older_asked = False  # a new older page arrived

    def dataChanged(self, top_left, bottom_right, roles=()) -> None:
        super().dataChanged(top_left, bottom_right, roles)
        if roles and set(roles) <= _PAINT_ONLY_ROLES:
            return
        # Only the changed rows are measured; the whole list is re-laid out (cheap: cached
        # sizes) only when one of them actually changed height.
        option = QStyleOptionViewItem()
        self.initViewItemOption(option)
        for row in range(top_left.row(), bottom_right.row() + 1):
            index = self.model().index(row, 0)
            before = self._delegate.last_height(index)
            if self._delegate.sizeHint(option, index).height() != before:
                self.scheduleDelayedItemsLayout()
                break

    def doItemsLayout(self) -> None:
        self._in_layout = True
        try:
            super().doItemsLayout()
            self._restore_scroll()
        finally:
            self._in_layout = False
        bar = self.verticalScrollBar()
        if bar.maximum() == 0 and self._wants_older():
            self._older_timer.start()

    def _restore_scroll(self) -> None:
        bar = self.verticalScrollBar()
        anchor, self._anchor = self._anchor, None
        if anchor is not None:
            uid, offset = anchor
            model = self.model()
            for row in range(model.rowCount()):
                index = model.index(row, 0)
                if index.data(EntryRole).uid == uid:
                    bar.setValue(bar.value() + self.visualRect(index).top() - offset)
                    return
        if self._follow:
            bar.setValue(bar.maximum())

    # -- scrolling -------------------------------------------------------------------------------

    def _on_scrolled(self, value: int) -> None:
        if self._in_layout:
            return  # values set while laying out are not the user's doing
        self._follow = self.is_at_bottom()
        if value <= TOP_THRESHOLD and self.verticalScrollBar().maximum() > 0:
            self._maybe_request_older()

    def _wants_older(self) -> bool:
        model = self.model()
        return bool(
            model is not None
            and model.rowCount() > 0
            and self._has_more
            and not self._loading_older
            and not self._older_asked
        )

    def _maybe_request_older(self) -> None:
        if self._wants_older():
            self._older_asked = True
            self.olderRequested.emit()

    # -- mouse and keys --------------------------------------------------------------------------

    def _hit(self, pos: QPoint) -> tuple[QModelIndex, Hit | None]:
        index = self.indexAt(pos)
        if not index.isValid():
            return index, None
        option = QStyleOptionViewItem()
        self.initViewItemOption(option)
        option.rect = self.visualRect(index)
        return index, self._delegate.hit_test(option, index, QPointF(pos))

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self._press = event.position().toPoint()
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        super().mouseReleaseEvent(event)
        press, self._press = self._press, None
        pos = event.position().toPoint()
        if event.button() != Qt.MouseButton.LeftButton or press is None:
            return
        if (pos - press).manhattanLength() > 6:
            return  # a drag, not a click
        index, hit = self._hit(pos)
        if hit is not None:
            self._activate(index, hit)

    def _activate(self, index: QModelIndex, hit: Hit) -> None:
        if hit.action == "toggle":
            self.model().setData(index, not index.data(CollapsedRole), CollapsedRole)
        elif hit.action == "retry":
            self.retryRequested.emit(str(hit.payload))
        elif hit.action == "edit":
            self.editRequested.emit(str(hit.payload))
        elif hit.action == "discard":
            self.discardRequested.emit(str(hit.payload))
        elif hit.action == "image":
            images = index.data(ImagesRole) or []
            if isinstance(hit.payload, int) and hit.payload < len(images):
                self.imageActivated.emit(images[hit.payload])
        elif hit.action == "copy_code":
            number, code = hit.payload  # type: ignore[misc]
            QGuiApplication.clipboard().setText(str(code))
            self._delegate.set_copied((index.data(EntryRole).uid, int(number)))
            self._copied_timer.start()
            self.viewport().update()
        elif hit.action == "link":
            url = QUrl(str(hit.payload))
            if url.scheme().lower() in _SAFE_SCHEMES and url.host():
                QDesktopServices.openUrl(url)
                self.linkActivated.emit(url.toString())

    def _clear_copied(self) -> None:
        self._delegate.set_copied(None)
        self.viewport().update()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        super().mouseMoveEvent(event)
        _, hit = self._hit(event.position().toPoint())
        clickable = hit is not None and (
            hit.action != "link" or QUrl(str(hit.payload)).scheme().lower() in _SAFE_SCHEMES
        )
        if clickable:
            self.viewport().setCursor(Qt.CursorShape.PointingHandCursor)
        else:
            self.viewport().unsetCursor()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.matches(QKeySequence.StandardKey.Copy):
            current = self.currentIndex()
            self.copy_text([current.row()] if current.isValid() else None)
            event.accept()
            return
        mods = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        if mods == Qt.KeyboardModifier.NoModifier and self._key_action(event.key()):
            event.accept()
            return
        super().keyPressEvent(event)

    def _key_action(self, key: int | Qt.Key) -> bool:
        """Up/Down move the current row; Space/Enter fold a thinking/tool row; R/E/Delete
        retry, edit or discard a failed message. True if the key was used."""
        model = self.model()
        if model is None or model.rowCount() == 0:
            return False
        current = self.currentIndex()
        if key in (Qt.Key.Key_Up, Qt.Key.Key_Down):
            step = -1 if key == Qt.Key.Key_Up else 1
            if current.isValid():
                row = min(max(current.row() + step, 0), model.rowCount() - 1)
            else:  # nothing current yet: start from the newest row
                row = model.rowCount() - 1
            index = model.index(row, 0)
            self.setCurrentIndex(index)
            self.scrollTo(index)
            self._follow = self.is_at_bottom()
            return True
        if not current.isValid():
            return False
        kind = current.data(KindRole)
        if key in (Qt.Key.Key_Space, Qt.Key.Key_Return, Qt.Key.Key_Enter):
            if kind in FOLDABLE:
                self._activate(current, Hit("toggle"))
                return True
            return False
        if kind == "user" and current.data(StateRole) == "failed":
            action = {
                Qt.Key.Key_R: "retry",
                Qt.Key.Key_E: "edit",
                Qt.Key.Key_Delete: "discard",
            }.get(key)
            if action is not None:
                self._activate(current, Hit(action, current.data(OtidRole)))
                return True
        return False

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        index, hit = self._hit(event.pos())
        if not index.isValid():
            return
        menu = QMenu(self)
        menu.addAction("Copy text", lambda: self.copy_text([index.row()]))
        if hit is not None and hit.action == "link":
            href = str(hit.payload)
            menu.addAction("Copy link address", lambda: QGuiApplication.clipboard().setText(href))
        menu.exec(event.globalPos())
        menu.deleteLater()

    # -- painting --------------------------------------------------------------------------------

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.FontChange):
            self._delegate.invalidate()
            self.scheduleDelayedItemsLayout()
        super().changeEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        model = self.model()
        words = ""
        if self._loading_older:
            words = "Loading earlier messages…"
        elif model is None or model.rowCount() == 0:
            words = self._placeholder
        if not words:
            return
        theme = Theme.from_palette(self.palette(), self.font())
        painter = QPainter(self.viewport())
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setFont(theme.small)
        fm = painter.fontMetrics()
        if self._loading_older:
            w, h = fm.horizontalAdvance(words) + 28, fm.height() + 12
            pill = QRectF((self.viewport().width() - w) / 2, 8, w, h)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(theme.panel)
            painter.drawRoundedRect(pill, h / 2, h / 2)
            painter.setPen(theme.muted)
            painter.drawText(pill, Qt.AlignmentFlag.AlignCenter, words)
        else:
            painter.setPen(theme.muted)
            painter.drawText(self.viewport().rect(), Qt.AlignmentFlag.AlignCenter, words)
        painter.end()
