"""The transcript widget: a QListView over TranscriptModel, painted by TranscriptDelegate.

Scrolling rules: new content keeps the view pinned to the bottom only if the user was already
there (or just sent a message); an older page inserted above keeps the row the user was looking
at in place; reaching the top asks for the next older page once.

Selecting part of a message: dragging across a message's text, double-clicking it, F2 (or Enter
on a message that does not fold) or the context menu's "Select text" opens one read-only
`SelectableText` over that row (a persistent item editor made by the delegate). Esc, clicking
elsewhere or moving focus away closes it and the list keeps its current row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import (
    QEvent,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QPointF,
    QRectF,
    Qt,
    QTimer,
    QUrl,
    Signal,
)
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
from PySide6.QtWidgets import (
    QAbstractItemDelegate,
    QAbstractItemView,
    QApplication,
    QFrame,
    QListView,
    QMenu,
    QStyleOptionViewItem,
    QWidget,
)

from desktop.ui.transcript.model import (
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
from desktop.ui.transcript.placeholder import EMPTY_TEXT, paint_note
from desktop.ui.transcript.rows import RowAction, RowKind, RowState
from desktop.ui.transcript.style import Theme
from desktop.workers import Workers

if TYPE_CHECKING:
    from desktop.ui.transcript.delegate import Hit, TranscriptDelegate
    from desktop.ui.transcript.selection import SelectableText

TOP_THRESHOLD = 48  # px from the top that counts as "at the top"
BOTTOM_SLACK = 8  # px from the bottom that still counts as "at the bottom"
COPIED_MS = 1500  # how long a code block's button says "Copied"
FOLDABLE = COLLAPSIBLE | {RowKind.APPROVAL}  # rows with a header that folds
_SAFE_SCHEMES = frozenset({"http", "https"})
#: Changes to these roles never change a row's height, so they need no relayout.
_PAINT_ONLY_ROLES = frozenset({ThumbnailsRole})
DRAG_SCROLL_MS = 30  # while a text selection is dragged past the edge, the list scrolls this often

#: Keys the transcript handles itself, for Help ▸ Keyboard shortcuts: (what, keys).
TRANSCRIPT_KEYS = (
    ("Previous / next message", "Up / Down"),
    ("Fold or unfold a thinking or tool row", "Space / Enter"),
    ("Select text in the current message", "F2 (Enter on a message)"),
    ("Copy the message, or the selected text", "Ctrl+C"),
    ("Select all of the message's text (while selecting)", "Ctrl+A"),
    ("Stop selecting text, back to the messages", "Esc"),
    ("Retry / edit / discard a message that was not sent", "R / E / Delete"),
)


class TranscriptView(QListView):
    olderRequested = Signal()
    imageActivated = Signal(object)  # ImageRef (history) or QImage (just sent)
    retryRequested = Signal(str)
    editRequested = Signal(str)
    discardRequested = Signal(str)
    linkActivated = Signal(str)  # an http(s) link that was opened
    pixelRatioChanged = Signal(float)  # moved to a screen of another device pixel ratio

    def __init__(
        self,
        model: TranscriptModel | None = None,
        parent=None,
        workers: Workers | None = None,
    ):
        """`workers` lex code blocks (one at a time); without them the view uses its own."""
        super().__init__(parent)
        # State first: Qt calls the overridden doItemsLayout while the view is being set up.
        self._follow = True
        self._in_layout = False
        self._anchor: tuple[int, int] | None = None  # (entry uid, top offset) kept on prepend
        self._has_more = True
        self._loading_older = False
        self._older_asked = False
        self._placeholder = EMPTY_TEXT
        self._press: QPoint | None = None
        # Selecting text: the row with the editor; a press on text that may become a drag;
        # the editor a drag is being forwarded to, and where the mouse is.
        self._selecting: QPersistentModelIndex | None = None
        self._text_press: tuple[QPersistentModelIndex, QPoint] | None = None
        self._forwarding: SelectableText | None = None
        self._drag_pos = QPoint()
        self._drag_scroll = QTimer(self)
        self._drag_scroll.setInterval(DRAG_SCROLL_MS)
        self._drag_scroll.timeout.connect(self._drag_scroll_step)
        # A code block's copy button says "Copied" for a moment after a click.
        self._copied_timer = QTimer(self)
        self._copied_timer.setSingleShot(True)
        self._copied_timer.setInterval(COPIED_MS)
        self._copied_timer.timeout.connect(self._clear_copied)
        self._workers = workers
        self._made_delegate: TranscriptDelegate | None = None  # see `_delegate`
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
        # The current message is marked only while the focus is in here (delegate.py): repaint
        # when it comes or goes, also from the text-selection editor inside the viewport.
        QApplication.instance().focusChanged.connect(self._on_focus_changed)
        # Asking for older rows when the first page does not even fill the view is done from
        # the event loop, never from inside a layout pass.
        self._older_timer = QTimer(self)
        self._older_timer.setSingleShot(True)
        self._older_timer.setInterval(0)
        self._older_timer.timeout.connect(self._maybe_request_older)
        # The delegate is made right after the first paint (see `_delegate`).
        self._delegate_timer = QTimer(self)
        self._delegate_timer.setSingleShot(True)
        self._delegate_timer.setInterval(0)
        self._delegate_timer.timeout.connect(lambda: self._delegate)
        self.verticalScrollBar().valueChanged.connect(self._on_scrolled)
        if model is not None:
            self.setModel(model)

    @property
    def _delegate(self) -> TranscriptDelegate:
        """The row painter, made and set right after the view's first paint, or earlier on first
        need: before the first row arrives (see `setModel`), or when asked for. An empty
        transcript — the first frame's — paints no row, so the delegate's modules (Markdown,
        syntax colours, text selection: ~15 ms of imports on the 2-core machine) load after the
        first frame, and not in the middle of the first reply either."""
        if self._made_delegate is None:
            from desktop.ui.transcript.delegate import TranscriptDelegate

            self._made_delegate = TranscriptDelegate(self, self._workers)
            self._made_delegate.rowRecolored.connect(self._row_recolored)
            self.setItemDelegate(self._made_delegate)
        return self._made_delegate

    def itemDelegate(self, *args) -> QAbstractItemDelegate:
        if args:  # Qt's deprecated per-index overload
            return super().itemDelegate(*args)
        return self._delegate

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
            old.modelAboutToBeReset.disconnect(self._model_about_to_be_reset)
            old.modelReset.disconnect(self._model_reset)
        if model is not None and model.rowCount() > 0:
            _ = self._delegate  # rows to lay out: the delegate must be there first
        super().setModel(model)
        if model is not None:
            model.rowsAboutToBeInserted.connect(self._rows_about_to_be_inserted)
            model.modelAboutToBeReset.connect(self._model_about_to_be_reset)
            model.modelReset.connect(self._model_reset)

    def _model_about_to_be_reset(self) -> None:
        _ = self._delegate  # the reset may bring rows: lay them out with the delegate

    def _model_reset(self) -> None:
        self.close_text_selection()
        self._delegate.forget_rows()  # all rows are new: none still waits for code colours
        self._follow = True
        self._anchor = None
        self._older_asked = False

    def _rows_about_to_be_inserted(self, _parent: QModelIndex, first: int, _last: int) -> None:
        _ = self._delegate  # before the list lays the new rows out
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
        if last.data(KindRole) is RowKind.USER and last.data(StateRole) is RowState.SENDING:
            self._follow = True  # the user just sent something: show it
        if start == 0 and end < model.rowCount() - 1:
            self._older_asked = False  # a new older page arrived

    def dataChanged(self, top_left, bottom_right, roles=()) -> None:
        paint_only = bool(roles) and set(roles) <= _PAINT_ONLY_ROLES
        rows = range(top_left.row(), bottom_right.row() + 1)
        # Heights before: updating the selection editor (in super) already lays the row out.
        before = (
            []
            if paint_only
            else [self._delegate.last_height(self.model().index(r, 0)) for r in rows]
        )
        super().dataChanged(top_left, bottom_right, roles)
        if paint_only:
            return
        selecting = self._selecting
        if (
            selecting is not None
            and selecting.isValid()
            and selecting.row() in rows
            and not self._has_text(self.model().index(selecting.row(), 0))
        ):
            self.close_text_selection()  # folded, or its text is gone
        # Only the changed rows are measured; the whole list is re-laid out (cheap: cached
        # sizes) only when one of them actually changed height.
        option = QStyleOptionViewItem()
        self.initViewItemOption(option)
        for row, height in zip(rows, before, strict=True):
            index = self.model().index(row, 0)
            if self._delegate.sizeHint(option, index).height() != height:
                self.scheduleDelayedItemsLayout()
                break

    def _row_recolored(self, row: QPersistentModelIndex) -> None:
        """A row's code colours arrived: paint it again (a bold token may change its height)."""
        if not row.isValid():
            return
        index = QModelIndex(row)
        before = self._delegate.last_height(index)
        option = QStyleOptionViewItem()
        self.initViewItemOption(option)
        layout = self._delegate.row_layout(option, index)  # laid out again, coloured
        if layout is not None and layout.height != before:
            self.scheduleDelayedItemsLayout()
        self.update(index)
        if self._selecting is not None and self._selecting == row:
            editor = self.selection_editor()
            if editor is not None:  # it shows a copy of the row's documents
                self._delegate.setEditorData(editor, index)

    def rowsAboutToBeRemoved(self, parent: QModelIndex, start: int, end: int) -> None:
        selecting = self._selecting
        if selecting is not None and selecting.isValid() and start <= selecting.row() <= end:
            self.close_text_selection()
        super().rowsAboutToBeRemoved(parent, start, end)

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

    # -- selecting text --------------------------------------------------------------------------

    def selection_editor(self) -> SelectableText | None:
        """The open text selection editor, if any (there is never more than one)."""
        index = self._selecting
        if index is None or not index.isValid():
            return None
        from desktop.ui.transcript.selection import SelectableText

        editor = self.indexWidget(QModelIndex(index))
        return editor if isinstance(editor, SelectableText) else None

    def _row_option(self, index: QModelIndex) -> QStyleOptionViewItem:
        option = QStyleOptionViewItem()
        self.initViewItemOption(option)
        option.rect = self.visualRect(index)
        return option

    def _text_rect(self, index: QModelIndex) -> QRectF | None:
        if not index.isValid():
            return None
        return self._delegate.text_rect(self._row_option(index), index)

    def _has_text(self, index: QModelIndex) -> bool:
        """Whether the row shows text to select (asked without the row's place: no layout)."""
        if not index.isValid():
            return False
        option = QStyleOptionViewItem()
        self.initViewItemOption(option)
        return self._delegate.text_rect(option, index) is not None

    def open_text_selection(self, index: QModelIndex, focus: bool = True) -> SelectableText | None:
        """Lets the user select part of `index`'s text (a folded row is unfolded first); returns
        the editor, or None if the row has no text to select."""
        model = self.model()
        if model is None or not index.isValid():
            return None
        if self._selecting is not None and self._selecting == index:
            editor = self.selection_editor()
            if editor is not None:
                if focus:
                    editor.setFocus(Qt.FocusReason.OtherFocusReason)
                return editor
        self.close_text_selection()
        if index.data(KindRole) in FOLDABLE and index.data(CollapsedRole):
            model.setData(index, False, CollapsedRole)
            self.executeDelayedItemsLayout()
        if not self._has_text(index):
            return None
        if self.currentIndex() != index:
            self.setCurrentIndex(index)
        self._selecting = QPersistentModelIndex(index)
        self._delegate.set_selecting(index.data(EntryRole).uid)
        self.openPersistentEditor(index)
        editor = self.selection_editor()
        if editor is None:  # the delegate made none
            self._selecting = None
            self._delegate.set_selecting(None)
            return None
        editor.passThroughClicked.connect(self._pass_through_click)
        editor.anchorClicked.connect(lambda url: self._open_link(url.toString()))
        editor.cursorPositionChanged.connect(self._reveal_caret)
        self.update(index)
        if focus:
            editor.setFocus(Qt.FocusReason.OtherFocusReason)
        return editor

    def close_text_selection(self) -> None:
        """Closes the selection editor (if open); focus goes back to the list if it had it."""
        index, self._selecting = self._selecting, None
        if self._made_delegate is not None:
            self._made_delegate.set_selecting(None)
        self._forwarding = None
        self._text_press = None
        self._drag_scroll.stop()
        if index is None or not index.isValid():
            return
        editor = self.indexWidget(QModelIndex(index))
        had_focus = editor is not None and editor.hasFocus()
        if had_focus:
            self.setFocus(Qt.FocusReason.OtherFocusReason)
        self.closePersistentEditor(QModelIndex(index))
        self.update(QModelIndex(index))

    def closeEditor(self, editor: QWidget, hint: QAbstractItemDelegate.EndEditHint) -> None:
        # The delegate asks for this on Esc and when focus leaves the editor.
        super().closeEditor(editor, hint)
        if editor is not None and editor is self.selection_editor():
            self.close_text_selection()

    def currentChanged(self, current: QModelIndex, previous: QModelIndex) -> None:
        super().currentChanged(current, previous)
        if self._selecting is not None and self._selecting != current:
            self.close_text_selection()

    def _pass_through_click(self, pos: QPointF) -> None:
        """A click on the editor where the row draws a button (a code block's Copy)."""
        index, hit = self._hit(pos.toPoint())
        if hit is not None and hit.action is RowAction.COPY_CODE:
            self._activate(index, hit)

    def _reveal_caret(self) -> None:
        """Keyboard selection past the visible part of a tall message scrolls the list."""
        editor = self.selection_editor()
        if editor is None or self._forwarding is not None or not editor.hasFocus():
            return
        caret = editor.cursorRect()
        top = editor.viewport().mapTo(self.viewport(), caret.topLeft()).y()
        bottom = top + caret.height()
        bar, height = self.verticalScrollBar(), self.viewport().height()
        if top < 0:
            bar.setValue(bar.value() + top - 4)
        elif bottom > height:
            bar.setValue(bar.value() + bottom - height + 4)

    def _forward(self, editor: SelectableText, kind: QEvent.Type, pos: QPoint, buttons) -> None:
        """Sends a mouse event at `pos` (viewport) to the editor, kept inside the part of the
        editor that is on screen: dragging past it selects up to the edge, and the list
        scrolls (see _drag_scroll_step) to go further."""
        visible = editor.geometry().intersected(self.viewport().rect())
        if visible.isEmpty():
            return
        x = min(max(pos.x(), visible.left()), visible.right())
        y = min(max(pos.y(), visible.top()), visible.bottom())
        local = QPointF(x - editor.x(), y - editor.y())
        button = Qt.MouseButton.NoButton
        if kind != QEvent.Type.MouseMove:
            button = Qt.MouseButton.LeftButton
        event = QMouseEvent(
            kind,
            local,
            QPointF(self.viewport().mapToGlobal(QPoint(x, y))),
            button,
            buttons,
            Qt.KeyboardModifier.NoModifier,
        )
        QApplication.sendEvent(editor.viewport(), event)

    def _over_text(self, index: QModelIndex, pos: QPoint, hit: Hit | None) -> bool:
        if hit is not None and hit.action is not RowAction.LINK:
            return False
        rect = self._text_rect(index)
        return rect is not None and rect.contains(QPointF(pos))

    def _drag_scroll_step(self) -> None:
        editor = self._forwarding
        pos = self._drag_pos
        height = self.viewport().height()
        past = pos.y() if pos.y() < 0 else max(0, pos.y() - height)
        if editor is None or editor is not self.selection_editor() or past == 0:
            self._drag_scroll.stop()
            return
        bar = self.verticalScrollBar()
        step = max(2, min(60, abs(past) // 2))
        bar.setValue(bar.value() + (step if past > 0 else -step))
        self._forward(editor, QEvent.Type.MouseMove, pos, Qt.MouseButton.LeftButton)

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
        pos = event.position().toPoint()
        self._press = pos
        self._text_press = None
        # The editor takes the clicks on itself: a press that reaches the list is elsewhere.
        self.close_text_selection()
        plain = event.modifiers() == Qt.KeyboardModifier.NoModifier
        if event.button() == Qt.MouseButton.LeftButton and plain:
            index, hit = self._hit(pos)
            if index.isValid() and self._over_text(index, pos, hit):
                self._text_press = (QPersistentModelIndex(index), pos)
        super().mousePressEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        pos = event.position().toPoint()
        plain = event.modifiers() == Qt.KeyboardModifier.NoModifier
        if event.button() == Qt.MouseButton.LeftButton and plain:
            index, hit = self._hit(pos)
            if index.isValid() and self._over_text(index, pos, hit):
                editor = self.open_text_selection(index)
                if editor is not None:  # the editor selects the word
                    left = Qt.MouseButton.LeftButton
                    self._forward(editor, QEvent.Type.MouseButtonPress, pos, left)
                    self._forward(editor, QEvent.Type.MouseButtonDblClick, pos, left)
                    self._forwarding = editor
                    self._drag_pos = pos
                    event.accept()
                    return
        super().mouseDoubleClickEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        pos = event.position().toPoint()
        editor = self._forwarding
        if editor is not None:  # the end of a text selection by mouse
            self._forwarding = None
            self._text_press = None
            self._press = None
            self._drag_scroll.stop()
            if editor is self.selection_editor():
                self._forward(editor, QEvent.Type.MouseButtonRelease, pos, Qt.MouseButton.NoButton)
            self.setState(QAbstractItemView.State.NoState)
            event.accept()
            return
        self._text_press = None
        super().mouseReleaseEvent(event)
        press, self._press = self._press, None
        if event.button() != Qt.MouseButton.LeftButton or press is None:
            return
        if (pos - press).manhattanLength() > 6:
            return  # a drag, not a click
        index, hit = self._hit(pos)
        if hit is not None:
            self._activate(index, hit)

    def _activate(self, index: QModelIndex, hit: Hit) -> None:
        if hit.action is RowAction.TOGGLE:
            self.model().setData(index, not index.data(CollapsedRole), CollapsedRole)
        elif hit.action is RowAction.RETRY:
            self.retryRequested.emit(str(hit.payload))
        elif hit.action is RowAction.EDIT:
            self.editRequested.emit(str(hit.payload))
        elif hit.action is RowAction.DISCARD:
            self.discardRequested.emit(str(hit.payload))
        elif hit.action is RowAction.IMAGE:
            images = index.data(ImagesRole) or []
            if isinstance(hit.payload, int) and hit.payload < len(images):
                self.imageActivated.emit(images[hit.payload])
        elif hit.action is RowAction.COPY_CODE:
            number, code = hit.payload  # type: ignore[misc]
            QGuiApplication.clipboard().setText(str(code))
            self._delegate.set_copied((index.data(EntryRole).uid, int(number)))
            self._copied_timer.start()
            self._repaint_buttons()
        elif hit.action is RowAction.LINK:
            self._open_link(str(hit.payload))

    def _open_link(self, href: str) -> None:
        url = QUrl(href)
        if url.scheme().lower() in _SAFE_SCHEMES and url.host():
            QDesktopServices.openUrl(url)
            self.linkActivated.emit(url.toString())

    def _clear_copied(self) -> None:
        self._delegate.set_copied(None)
        self._repaint_buttons()

    def _repaint_buttons(self) -> None:
        self.viewport().update()
        editor = self.selection_editor()
        if editor is not None:  # it paints the Copy buttons of the row it covers
            editor.viewport().update()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = event.position().toPoint()
        dragging = bool(event.buttons() & Qt.MouseButton.LeftButton)
        if self._text_press is not None and dragging and self._drag_text(pos):
            event.accept()
            return
        super().mouseMoveEvent(event)
        index, hit = self._hit(pos)
        link = hit is not None and hit.action is RowAction.LINK
        clickable = hit is not None and (
            not link or QUrl(str(hit.payload)).scheme().lower() in _SAFE_SCHEMES
        )
        if clickable:
            self.viewport().setCursor(Qt.CursorShape.PointingHandCursor)
        elif index.isValid() and self._over_text(index, pos, hit):
            self.viewport().setCursor(Qt.CursorShape.IBeamCursor)
        else:
            self.viewport().unsetCursor()

    def _drag_text(self, pos: QPoint) -> bool:
        """A drag that began on a message's text selects text; True if it is handled."""
        assert self._text_press is not None
        index, start = self._text_press
        editor = self._forwarding
        left = Qt.MouseButton.LeftButton
        if editor is None:
            if (pos - start).manhattanLength() < QApplication.startDragDistance():
                return True  # not a drag yet; the row does not start a row selection either
            editor = self.open_text_selection(QModelIndex(index)) if index.isValid() else None
            if editor is None:
                self._text_press = None
                return False
            self._text_press = (index, start)  # opening closed any older selection
            self._forwarding = editor
            self._forward(editor, QEvent.Type.MouseButtonPress, start, left)
        elif editor is not self.selection_editor():
            self._forwarding = self._text_press = None
            return False
        self._drag_pos = pos
        self._forward(editor, QEvent.Type.MouseMove, pos, left)
        outside = pos.y() < 0 or pos.y() > self.viewport().height()
        if outside and not self._drag_scroll.isActive():
            self._drag_scroll.start()
        elif not outside:
            self._drag_scroll.stop()
        return True

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
        """Up/Down move the current row; Space/Enter fold a thinking/tool row; F2 (or Enter on a
        row that does not fold) selects text; R/E/Delete retry, edit or discard a failed
        message. True if the key was used."""
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
        from desktop.ui.transcript.delegate import Hit  # a row is current: already loaded

        kind = current.data(KindRole)
        if key == Qt.Key.Key_F2:
            self.scrollTo(current)
            return self.open_text_selection(current) is not None
        if key in (Qt.Key.Key_Space, Qt.Key.Key_Return, Qt.Key.Key_Enter):
            if kind in FOLDABLE:
                self._activate(current, Hit(RowAction.TOGGLE))
                return True
            if key != Qt.Key.Key_Space:
                self.scrollTo(current)
                return self.open_text_selection(current) is not None
            return False
        if kind is RowKind.USER and current.data(StateRole) is RowState.FAILED:
            action = {
                Qt.Key.Key_R: RowAction.RETRY,
                Qt.Key.Key_E: RowAction.EDIT,
                Qt.Key.Key_Delete: RowAction.DISCARD,
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
        row = QPersistentModelIndex(index)
        select = menu.addAction("Select text", lambda: self.open_text_selection(QModelIndex(row)))
        select.setShortcut(QKeySequence(Qt.Key.Key_F2))
        select.setEnabled(
            self._has_text(index)
            or (index.data(KindRole) in FOLDABLE and bool(index.data(TextRole)))
        )
        if hit is not None and hit.action is RowAction.LINK:
            href = str(hit.payload)
            menu.addAction("Copy link address", lambda: QGuiApplication.clipboard().setText(href))
        menu.exec(event.globalPos())
        menu.deleteLater()

    # -- painting --------------------------------------------------------------------------------

    def _on_focus_changed(self, old: QWidget | None, new: QWidget | None) -> None:
        if any(w is not None and (w is self or self.isAncestorOf(w)) for w in (old, new)):
            self.viewport().update()

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.DevicePixelRatioChange:
            self.pixelRatioChanged.emit(self.devicePixelRatioF())
        return super().event(event)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.FontChange):
            if self._made_delegate is not None:
                self._made_delegate.invalidate()
            self.scheduleDelayedItemsLayout()
            editor = self.selection_editor()
            if editor is not None and self._selecting is not None:  # new colours and fonts
                self._delegate.setEditorData(editor, QModelIndex(self._selecting))
        super().changeEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if self._made_delegate is None and not self._delegate_timer.isActive():
            self._delegate_timer.start()
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
            paint_note(painter, self.viewport().rect(), self.palette(), self.font(), words)
        painter.end()
