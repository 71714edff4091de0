"""Text of one transcript row, laid out as a stack of small QTextDocuments.

Why segments: a streamed reply grows token by token. Re-parsing and re-laying out the whole
Markdown text on every repaint is quadratic over a long reply. Instead the text is cut at safe
block boundaries (a blank line outside a code fence, not followed by a list item or indented
continuation); finished segments are parsed and laid out once, and only the short growing tail is
re-parsed on each flush. History rows use the same path, so a reply looks the same streamed or
reloaded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, QUrl
from PySide6.QtGui import (
    QAbstractTextDocumentLayout,
    QColor,
    QFont,
    QPainter,
    QPalette,
    QTextBlock,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
    QTextDocumentFragment,
    QTextFormat,
    QTextFrame,
    QTextFrameFormat,
    QTextOption,
)

from desktop.ui.transcript.code_colors import CodeLook, Key

#: A line that continues the previous block even after a blank line (list item, indented text).
_CONTINUATION = re.compile(r"(\s|[-*+]\s|\d{1,9}[.)](\s|$))")
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
#: Plain text is cut at a newline once a segment holds this many characters.
_PLAIN_SEGMENT = 2000
#: A markdown segment is cut only once it holds this many characters: 50,000 one-line
#: paragraphs would otherwise be 50,000 documents (~1 GB); the tail re-parsed per flush stays
#: short.
_MIN_SEGMENT = 1000
#: A run this long with no break opportunity is laid out in time quadratic in its length (400,000
#: characters: 4.6 s); its segment wraps anywhere instead (linear).
_UNBROKEN = re.compile(r"\S{500}")
#: A table row with more cells than this is shown as plain text (20,000 columns: 8.7 s).
_TABLE_CELLS = 64
#: Headings from setMarkdown are huge (h1 = xx-large); a chat reply wants them modest.
_HEADING_ADJUST = {1: 2, 2: 1, 3: 1}


class SafeTextDocument(QTextDocument):
    """A document that never loads any resource (remote or local): Markdown images stay empty.

    The transcript must never fetch remote content; thumbnails are painted by the delegate, not
    loaded through the document, so nothing here needs a resource at all. Names asked for are
    recorded so tests (and debugging) can see what was refused.
    """

    def __init__(self) -> None:
        super().__init__()
        self.refused: list[str] = []
        #: Code blocks in order: the frame that boxes each and its code text (no fences).
        self.code_blocks: list[tuple[QTextFrame, str]] = []
        #: Code colours still to come (code_colors.py): the document is rebuilt when they do.
        self.waiting: list[Key] = []

    def loadResource(self, type: int, name: QUrl) -> object:
        self.refused.append(name.toString())
        return None


@dataclass(frozen=True)
class DocStyle:
    """What a document needs from the palette and fonts when it is built."""

    font: QFont
    code_background: QColor
    link: QColor
    markdown: bool = True
    #: Where code blocks get their colours; None leaves code plain.
    code: CodeLook | None = None


def make_document(text: str, style: DocStyle) -> SafeTextDocument:
    doc = SafeTextDocument()
    doc.setUndoRedoEnabled(False)
    doc.setDocumentMargin(0)
    doc.setDefaultFont(style.font)
    if _UNBROKEN.search(text):
        option = doc.defaultTextOption()
        option.setWrapMode(QTextOption.WrapMode.WrapAnywhere)
        doc.setDefaultTextOption(option)
    if style.markdown and not _wide_table(text):
        # Raw HTML is shown as the characters it is: "Use the <br> tag" stays whole, and no
        # span can hide or restyle text.
        doc.setMarkdown(
            text,
            QTextDocument.MarkdownFeature.MarkdownDialectGitHub
            | QTextDocument.MarkdownFeature.MarkdownNoHTML,
        )
        _polish_markdown(doc, style)
    else:
        doc.setPlainText(text)
    _trim_outer_margins(doc)
    return doc


def _wide_table(text: str) -> bool:
    return text.count("|") > _TABLE_CELLS and any(
        line.count("|") > _TABLE_CELLS for line in text.splitlines()
    )


def _polish_markdown(doc: SafeTextDocument, style: DocStyle) -> None:
    """Code blocks in a padded, syntax-coloured box, inline code on a soft background, calmer
    headings, and Markdown images replaced by a link: nothing is ever loaded, the user may open
    it."""
    cursor = QTextCursor(doc)
    code_runs: list[tuple[int, int, str]] = []  # start, end, language
    block = doc.begin()
    while block.isValid():
        fmt = block.blockFormat()
        if fmt.hasProperty(QTextFormat.Property.BlockCodeFence) or fmt.nonBreakableLines():
            end = block.position() + block.length() - 1
            lang = fmt.stringProperty(QTextFormat.Property.BlockCodeLanguage)
            # The lines of one block follow each other; so do two fences with nothing between
            # them, which only their languages tell apart.
            if code_runs and code_runs[-1][1] == block.position() - 1 and code_runs[-1][2] == lang:
                code_runs[-1] = (code_runs[-1][0], end, lang)
            else:
                code_runs.append((block.position(), end, lang))
        else:
            _polish_fragments(cursor, block, fmt.headingLevel(), style)
        block = block.next()
    codes: list[str] = []
    for start, end, lang in code_runs:
        cursor.setPosition(start)
        cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
        code = QTextDocumentFragment(cursor).toPlainText()
        codes.append(code)
        if style.code is not None:
            colors = style.code.colors
            spans, waiting = colors.request(code, lang, style.code.style, style.code.row)
            if spans is not None:
                colors.apply(cursor, start, spans)
            if waiting is not None:
                doc.waiting.append(waiting)
    # Wrap from the end so earlier positions stay valid.
    frames: list[QTextFrame] = []
    for start, end, _lang in reversed(code_runs):
        frame = QTextFrameFormat()
        frame.setBackground(style.code_background)
        frame.setPadding(8)
        frame.setBorder(0)
        frame.setTopMargin(4)
        frame.setBottomMargin(4)
        cursor.setPosition(start)
        cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
        inserted = cursor.insertFrame(frame)
        frames.append(inserted)
        # A frame always sits between two blocks; empty ones would show as blank lines.
        _flatten_if_empty(cursor, inserted.firstCursorPosition().block().previous())
        _flatten_if_empty(cursor, inserted.lastCursorPosition().block().next())
    doc.code_blocks = list(zip(reversed(frames), codes, strict=True))


def _flatten_if_empty(cursor: QTextCursor, block: QTextBlock) -> None:
    if not block.isValid() or block.length() > 1:
        return
    fmt = QTextBlockFormat(block.blockFormat())
    fmt.setLineHeight(0, QTextBlockFormat.LineHeightTypes.FixedHeight.value)
    fmt.setTopMargin(0)
    fmt.setBottomMargin(0)
    cursor.setPosition(block.position())
    cursor.setBlockFormat(fmt)


def _polish_fragments(cursor: QTextCursor, block: QTextBlock, level: int, style: DocStyle) -> None:
    images: list[tuple[int, str]] = []
    # textFormats() rather than the block iterator: PySide's `iterator += 1` corrupts refcounts.
    for part in block.textFormats():
        cf, start = part.format, block.position() + part.start
        change = QTextCharFormat()
        if cf.isImageFormat():
            images.append((start, cf.toImageFormat().name()))
            continue
        if level in _HEADING_ADJUST:
            change.setProperty(QTextFormat.Property.FontSizeAdjustment, _HEADING_ADJUST[level])
        elif cf.fontFixedPitch():
            change.setBackground(style.code_background)
        else:
            continue
        cursor.setPosition(start)
        cursor.setPosition(start + part.length, QTextCursor.MoveMode.KeepAnchor)
        cursor.mergeCharFormat(change)
    for pos, name in reversed(images):
        url = QUrl(name)
        link = QTextCharFormat()
        if url.scheme() in ("http", "https"):
            link.setAnchor(True)
            link.setAnchorHref(name)
            link.setForeground(style.link)
            link.setFontUnderline(True)
        words = f"[image: {url.host() or name}]"
        cursor.setPosition(pos)
        cursor.setPosition(pos + 1, QTextCursor.MoveMode.KeepAnchor)  # the object character
        cursor.insertText(words, link)


def _trim_outer_margins(doc: QTextDocument) -> None:
    """No margin above the first block or below the last: the row decides the spacing."""
    cursor = QTextCursor(doc)
    first, last = doc.begin(), doc.lastBlock()
    fmt = QTextBlockFormat(first.blockFormat())
    if fmt.topMargin():
        fmt.setTopMargin(0)
        cursor.setPosition(first.position())
        cursor.setBlockFormat(fmt)
    fmt = QTextBlockFormat(last.blockFormat())
    if fmt.bottomMargin():
        fmt.setBottomMargin(0)
        cursor.setPosition(last.position())
        cursor.setBlockFormat(fmt)


class _Splitter:
    """Finds segment boundaries in append-only text, scanning each line once."""

    def __init__(self, markdown: bool):
        self.markdown = markdown
        self.starts: list[int] = [0]  # offsets where segments start
        self._pos = 0  # first character of the first line not yet scanned
        self._fence: str | None = None
        self._blank_before = False

    def feed(self, text: str) -> None:
        pos = self._pos
        while True:
            nl = text.find("\n", pos)
            if nl < 0:
                break  # the last line may still grow: scan it when it is complete
            if self.markdown:
                self._markdown_line(text, pos, nl)
            elif nl + 1 - self.starts[-1] >= _PLAIN_SEGMENT:
                self.starts.append(nl + 1)
            pos = nl + 1
        self._pos = pos

    def _markdown_line(self, text: str, start: int, end: int) -> None:
        line = text[start:end]
        stripped = line.strip()
        if self._fence is not None:
            if stripped.startswith(self._fence) and set(stripped) == {self._fence[0]}:
                self._fence = None
            return
        if not stripped:
            self._blank_before = True
            return
        if (
            self._blank_before
            and start - self.starts[-1] >= _MIN_SEGMENT
            and not _CONTINUATION.match(line)
        ):
            self.starts.append(start)
        self._blank_before = False
        fence = _FENCE.match(line)
        if fence:
            self._fence = fence.group(1)


class RichText:
    """The text of one row as stacked documents; `set_text` is cheap when text only grew."""

    def __init__(self, style: DocStyle, gap: float):
        self.style = style
        self.gap = gap if style.markdown else 0.0
        self._text = ""
        self._splitter = _Splitter(style.markdown)
        self._docs: list[SafeTextDocument] = []  # finished segments, then the tail
        self._tail_text: str | None = None
        self._width = -1.0
        # Heights of the documents at `_width` (None = not measured): finished segments are
        # measured once per width, so a flush only measures the tail.
        self._heights: list[float | None] = []

    @property
    def documents(self) -> list[SafeTextDocument]:
        return list(self._docs)

    def set_text(self, text: str) -> None:
        if text == self._text:
            return
        if not text.startswith(self._text):  # edited, not appended: start over
            self._splitter = _Splitter(self.style.markdown)
            self._docs, self._heights = [], []
            self._tail_text = None
        self._text = text
        finished = len(self._docs) - (1 if self._tail_text is not None else 0)
        if self._tail_text is not None:
            self._docs.pop()
            self._heights.pop()
        self._splitter.feed(text)
        starts = self._splitter.starts
        for i in range(finished, len(starts) - 1):
            self._docs.append(self._make(self._segment(text, starts[i], starts[i + 1])))
            self._heights.append(None)
        self._tail_text = text[starts[-1] :]
        self._docs.append(self._make(self._tail_text))
        self._heights.append(None)

    @property
    def waiting(self) -> bool:
        """Whether code colours are still to come for some document."""
        return any(doc.waiting for doc in self._docs)

    def waits_for(self, key: Key) -> bool:
        return any(key in doc.waiting for doc in self._docs)

    def recolor(self) -> bool:
        """Rebuilds the documents whose awaited code colours are now known; True if any was."""
        code = self.style.code
        if code is None:
            return False
        changed = False
        starts = self._splitter.starts
        for i, doc in enumerate(self._docs):
            if not doc.waiting:
                continue
            known = [code.colors.known(key) for key in doc.waiting]
            if not any(spans is not None and spans.runs for spans in known):
                # Nothing to colour (an unknown language): no rebuild, just stop waiting.
                doc.waiting = [k for k, s in zip(doc.waiting, known, strict=True) if s is None]
                continue
            if i < len(starts) - 1:
                text = self._segment(self._text, starts[i], starts[i + 1])
            else:
                text = self._tail_text or ""
            self._docs[i] = self._make(text)
            self._heights[i] = None
            changed = True
        return changed

    def _segment(self, text: str, start: int, end: int) -> str:
        seg = text[start:end]
        if not self.style.markdown and seg.endswith("\n"):
            seg = seg[:-1]  # the break between stacked documents is that newline
        return seg

    def _make(self, text: str) -> SafeTextDocument:
        doc = make_document(text, self.style)
        if self._width > 0:
            doc.setTextWidth(self._width)
        return doc

    def set_width(self, width: float) -> None:
        if width == self._width:
            return
        self._width = width
        for doc in self._docs:
            doc.setTextWidth(width)
        self._heights = [None] * len(self._docs)

    def _measured(self) -> list[float]:
        heights = self._heights
        for i, h in enumerate(heights):
            if h is None:
                heights[i] = self._docs[i].size().height()
        return heights  # type: ignore[return-value]

    def height(self) -> float:
        if not self._docs:
            return 0.0
        return sum(self._measured()) + self.gap * (len(self._docs) - 1)

    def ideal_width(self) -> float:
        return max((d.idealWidth() for d in self._docs), default=0.0)

    def _placed(self):
        y = 0.0
        for doc, h in zip(self._docs, self._measured(), strict=True):
            yield doc, y, h
            y += h + self.gap

    def draw(
        self,
        painter: QPainter,
        origin: QPointF,
        palette: QPalette,
        text_color: QColor,
        clip: QRectF,
    ) -> None:
        """Paints at `origin` (painter coordinates); `clip` limits work to what is exposed."""
        ctx = QAbstractTextDocumentLayout.PaintContext()
        palette = QPalette(palette)
        palette.setColor(QPalette.ColorRole.Text, text_color)
        ctx.palette = palette
        for doc, y, h in self._placed():
            top = origin.y() + y
            if top > clip.bottom() or top + h < clip.top():
                continue
            painter.save()
            painter.translate(origin.x(), top)
            ctx.clip = clip.translated(-origin.x(), -top)
            doc.documentLayout().draw(painter, ctx)
            painter.restore()

    def code_blocks(self) -> list[tuple[QRectF, str]]:
        """Each code block's box (relative to the text origin) and its code, in order."""
        out = []
        for doc, y, _h in self._placed():
            layout = doc.documentLayout()
            for frame, code in doc.code_blocks:
                out.append((layout.frameBoundingRect(frame).translated(0, y), code))
        return out

    def anchor_at(self, pos: QPointF) -> str:
        """The link target under `pos` (relative to the text origin), or ""."""
        for doc, y, h in self._placed():
            if y <= pos.y() <= y + h:
                return doc.documentLayout().anchorAt(QPointF(pos.x(), pos.y() - y))
        return ""
