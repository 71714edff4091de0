"""Selecting part of one message's text: a read-only text view laid over the row.

The list paints rows itself (no widget per message), so there is no text widget to drag across.
When the user starts selecting (a drag or double-click on the text, F2/Enter, or the context
menu), the view opens one `SelectableText` over that row's text: a QTextBrowser showing a copy
of the row's own documents, merged into one so a selection can span paragraphs and code blocks.
The copy is made from the same laid-out segments with the same fonts, colours, wrap width and
gaps, so nothing moves when it appears. Only one exists at a time; it goes away on Esc, when
focus leaves it, or when another row is clicked.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QMimeData, QPointF, QRectF, Qt, QUrl, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QGuiApplication,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QTextBlock,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
    QTextDocumentFragment,
    QTextFormat,
    QTextOption,
    QWheelEvent,
)
from PySide6.QtWidgets import QAbstractScrollArea, QApplication, QFrame, QTextBrowser, QWidget

from desktop.ui.transcript.richtext import RichText, SafeTextDocument

ACCESSIBLE_NAME = "Message text, selectable"
_OWN_KEYS = (
    QKeySequence.StandardKey.Cancel,
    QKeySequence.StandardKey.Copy,
    QKeySequence.StandardKey.SelectAll,
)
_HOW = "Select with the mouse or Shift+arrow keys. Ctrl+C copies, Esc returns to the conversation."


class MirrorDocument(SafeTextDocument):
    """One document holding a copy of every segment of a `RichText`, stacked with its gaps.

    `sync` is incremental: segments that are still the same objects (finished parts of a reply
    that is still streaming) are kept, only the changed tail is copied again.
    """

    def __init__(self, parent=None) -> None:
        super().__init__()
        if parent is not None:
            self.setParent(parent)
        self.setUndoRedoEnabled(False)
        self.setDocumentMargin(0)
        self._sources: list[SafeTextDocument] = []
        self._starts: list[int] = []  # where each source begins in this document
        self._gap = 0.0
        self._markdown = False

    def sync(self, rich: RichText) -> bool:
        """Make this document a copy of `rich`; True if anything changed."""
        docs = rich.documents
        keep = 0
        if rich.gap == self._gap and docs and self.defaultFont() == docs[0].defaultFont():
            limit = min(len(docs), len(self._sources))
            while keep < limit and docs[keep] is self._sources[keep]:
                keep += 1
        if keep == len(docs) == len(self._sources):
            return False
        cursor = QTextCursor(self)
        cursor.beginEditBlock()
        if keep == 0:
            if docs:
                self.setDefaultFont(docs[0].defaultFont())
                self.setDefaultTextOption(docs[0].defaultTextOption())
            cursor.select(QTextCursor.SelectionType.Document)
            cursor.removeSelectedText()
            cursor.setBlockFormat(QTextBlockFormat())
            cursor.setBlockCharFormat(QTextCharFormat())
            self._starts = []
        else:
            # From the end of the last kept segment; removing the block break leaves that block
            # with the formats of the document's last block, so they are put back.
            cursor.setPosition(self._starts[keep] - 1)
            block_format, char_format = cursor.blockFormat(), cursor.blockCharFormat()
            cursor.movePosition(QTextCursor.MoveOperation.End, QTextCursor.MoveMode.KeepAnchor)
            cursor.removeSelectedText()
            cursor.setBlockFormat(block_format)
            cursor.setBlockCharFormat(char_format)
            del self._starts[keep:]
        for i in range(keep, len(docs)):
            cursor.movePosition(QTextCursor.MoveOperation.End)
            if i:
                cursor.insertBlock(QTextBlockFormat(), QTextCharFormat())
            start = cursor.position()
            self._starts.append(start)
            cursor.insertFragment(QTextDocumentFragment(docs[i]))
            self._copy_block_formats(docs[i], start, rich.gap if i else 0.0)
        cursor.endEditBlock()
        self._sources = docs
        self._gap = rich.gap
        self._markdown = rich.style.markdown
        return True

    def plain_text(self, cursor: QTextCursor) -> str:
        """The selected text as plain text: a newline after each line, and a blank line between
        paragraphs the transcript shows apart (as a browser copies them). The empty spacer
        blocks around code boxes count as such a gap, never as text."""
        if not cursor.hasSelection() or cursor.document() is not self:
            return ""
        markdown = self._markdown
        starts = set(self._starts[1:]) if self._gap > 0 else set()
        start, end = cursor.selectionStart(), cursor.selectionEnd()
        parts: list[str] = []
        prev: QTextBlock | None = None
        gap = False
        block = self.findBlock(start)
        piece = QTextCursor(self)
        while block.isValid() and block.position() <= end:
            first = block.position()
            if markdown and _is_spacer(block):
                gap = True
            else:
                piece.setPosition(max(start, first))
                last = min(end, first + block.length() - 1)
                piece.setPosition(last, QTextCursor.MoveMode.KeepAnchor)
                text = piece.selectedText().replace("\u2028", "\n").replace("\xa0", " ")
                if prev is not None:
                    parts.append(_separator(prev, block, gap or first in starts))
                parts.append(text.replace("\ufffc", ""))
                prev, gap = block, False
            block = block.next()
        return "".join(parts)

    def _copy_block_formats(self, source: SafeTextDocument, start: int, gap: float) -> None:
        """Inserting a fragment into an existing block keeps that block's format; give every
        block the format it has in the source (lists stay this document's own), and the first
        one the gap that separates stacked segments."""
        src, dst = source.begin(), self.findBlock(start)
        first = True
        cursor = QTextCursor(self)
        while src.isValid() and dst.isValid():
            fmt = QTextBlockFormat(src.blockFormat())
            own = dst.blockFormat()
            if own.hasProperty(QTextFormat.Property.ObjectIndex):
                fmt.setObjectIndex(own.objectIndex())
            else:
                fmt.clearProperty(QTextFormat.Property.ObjectIndex)
            if first and gap:
                fmt.setTopMargin(fmt.topMargin() + gap)
            if fmt != own:
                cursor.setPosition(dst.position())
                cursor.setBlockFormat(fmt)
            first = False
            src, dst = src.next(), dst.next()


def _is_spacer(block: QTextBlock) -> bool:
    """An empty block of a Markdown document outside any box: the importer puts one before a
    table, and a code box needs one on each side. It shows as space, never as a line of text
    (an empty line inside a code box is text, and is kept)."""
    if block.length() != 1:
        return False
    return QTextCursor(block).currentFrame() == block.document().rootFrame()


def _separator(above: QTextBlock, below: QTextBlock, apart: bool) -> str:
    """What goes between two copied lines: a tab between cells of one table row, a blank line
    between paragraphs shown apart (not between items of one list), else a newline."""
    table = QTextCursor(below).currentTable()
    if table is not None and table == QTextCursor(above).currentTable():
        same_row = table.cellAt(above.position()).row() == table.cellAt(below.position()).row()
        return "\t" if same_row else "\n"
    one_list = above.textList() is not None and above.textList() == below.textList()
    if not apart and not one_list:
        margins = above.blockFormat().bottomMargin() > 0 or below.blockFormat().topMargin() > 0
        apart = margins and bool(above.text()) and bool(below.text())
    return "\n\n" if apart else "\n"


class SelectableText(QTextBrowser):
    """Read-only, selectable text of one transcript row, placed exactly over where the row
    paints it. Owned by the list's viewport; created and placed by the delegate."""

    #: A click on something the row draws above its text (a code block's Copy button), in the
    #: coordinates of the list's viewport: the list handles it as if the editor were not there.
    passThroughClicked = Signal(QPointF)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.mirror = MirrorDocument(self)
        self.setDocument(self.mirror)
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self.setReadOnly(True)
        self.setUndoRedoEnabled(False)
        self.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.TextSelectableByKeyboard
            | Qt.TextInteractionFlag.LinksAccessibleByMouse
        )
        self.setTabChangesFocus(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setViewportMargins(0, 0, 0, 0)
        self.setContentsMargins(0, 0, 0, 0)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSizeAdjustPolicy(QAbstractScrollArea.SizeAdjustPolicy.AdjustIgnored)
        self.setLineWrapMode(QTextBrowser.LineWrapMode.WidgetWidth)
        self.setAutoFillBackground(False)
        self.viewport().setAutoFillBackground(False)
        self.viewport().setCursor(Qt.CursorShape.IBeamCursor)
        self.setAccessibleName(ACCESSIBLE_NAME)
        self.setAccessibleDescription(_HOW)
        #: Rectangles (editor coordinates) that belong to the row, not to the text.
        self.hotspots: list[QRectF] = []
        #: Paints what the row draws above its text (called after the text, editor coordinates).
        self.overlay: Callable[[QPainter], None] | None = None
        #: What Ctrl+C copies when nothing is selected: the whole message, as on the list.
        self.whole_text = ""

    # -- content -----------------------------------------------------------------------------

    def show_text(
        self, rich: RichText, font: QFont, color: QColor, palette: QPalette, who: str
    ) -> None:
        """Show (or bring up to date) the text of `rich`, keeping the user's selection."""
        pal = QPalette(palette)
        for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive):
            pal.setColor(group, QPalette.ColorRole.Text, color)
            pal.setColor(group, QPalette.ColorRole.Base, QColor(Qt.GlobalColor.transparent))
            pal.setColor(group, QPalette.ColorRole.Window, QColor(Qt.GlobalColor.transparent))
        if pal != self.palette():
            self.setPalette(pal)
        if font != self.font():
            self.setFont(font)
        docs = rich.documents
        if docs:
            wrap = docs[0].defaultTextOption().wrapMode()
            if self.wordWrapMode() != wrap:
                self.setWordWrapMode(QTextOption.WrapMode(wrap))
        cursor = self.textCursor()
        anchor, position = cursor.anchor(), cursor.position()
        # Quietly: new text is not the user moving the caret (the list would scroll to it).
        blocked = self.blockSignals(True)
        try:
            if self.mirror.sync(rich):
                self.mirror.setDefaultFont(font)
                end = max(0, self.mirror.characterCount() - 1)
                cursor = QTextCursor(self.mirror)
                cursor.setPosition(min(anchor, end))
                cursor.setPosition(min(position, end), QTextCursor.MoveMode.KeepAnchor)
                self.setTextCursor(cursor)
        finally:
            self.blockSignals(blocked)
        self.setAccessibleDescription(f"{who}. {_HOW}" if who else _HOW)

    def loadResource(self, type: int, name: QUrl) -> object:
        return None  # never anything remote or local: the mirror holds all there is

    # -- copying -----------------------------------------------------------------------------

    def createMimeDataFromSelection(self) -> QMimeData:
        # Qt's own data (HTML, Markdown, ODF, made from the selection when first read) with our
        # plain text. Made by Qt, not here: the clipboard owns it, and one created in Python
        # crashes the app at exit while it is still on the clipboard.
        data = super().createMimeDataFromSelection()
        data.text()  # Qt fills in all its formats now, so ours below is not overwritten
        data.setText(self.mirror.plain_text(self.textCursor()))
        return data

    def canInsertFromMimeData(self, source: QMimeData) -> bool:
        return False

    # -- events ------------------------------------------------------------------------------

    def event(self, event: QEvent) -> bool:
        # Esc leaves the selection (the window's Esc would stop the reply); copying and
        # selecting all are this widget's, not a window shortcut's.
        if (
            event.type() == QEvent.Type.ShortcutOverride
            and isinstance(event, QKeyEvent)
            and any(event.matches(key) for key in _OWN_KEYS)
        ):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.matches(QKeySequence.StandardKey.Copy):
            if self.textCursor().hasSelection():
                self.copy()
            elif self.whole_text:
                QGuiApplication.clipboard().setText(self.whole_text)
            event.accept()
            return
        super().keyPressEvent(event)

    def _hotspot(self, pos: QPointF) -> bool:
        return any(rect.contains(pos) for rect in self.hotspots)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        if event.button() == Qt.MouseButton.LeftButton and self._hotspot(pos):
            self.passThroughClicked.emit(QPointF(self.mapToParent(pos.toPoint())))
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        super().mouseMoveEvent(event)
        if event.buttons():
            return
        # A read-only QTextBrowser shows an arrow over text; this text is selectable.
        pos = event.position()
        clickable = self._hotspot(pos) or bool(self.anchorAt(pos.toPoint()))
        shape = Qt.CursorShape.PointingHandCursor if clickable else Qt.CursorShape.IBeamCursor
        if self.viewport().cursor().shape() != shape:
            self.viewport().setCursor(shape)

    def wheelEvent(self, event: QWheelEvent) -> None:
        # Never scrolled or zoomed itself (it is as tall as its text): the list scrolls. Handed
        # over explicitly: Qt does not pass a wheel event on to the parent unless it came from
        # the system.
        parent = self.parentWidget()
        if parent is None:
            event.ignore()
            return
        pos = self.viewport().mapTo(parent, event.position().toPoint())
        forwarded = QWheelEvent(
            QPointF(pos),
            event.globalPosition(),
            event.pixelDelta(),
            event.angleDelta(),
            event.buttons(),
            event.modifiers(),
            event.phase(),
            event.inverted(),
            event.source(),
        )
        QApplication.sendEvent(parent, forwarded)
        event.setAccepted(forwarded.isAccepted())

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if self.overlay is not None:
            painter = QPainter(self.viewport())
            try:
                self.overlay(painter)
            finally:
                painter.end()
