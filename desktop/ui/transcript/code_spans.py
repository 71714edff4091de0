"""A code block → coloured spans, by Pygments. Qt-free: runs on a worker (see code_colors.py).

Pygments is imported on first use, never at start-up. Only the fence's language tag picks a
lexer (`get_lexer_by_name`); a block without a tag, or with a tag Pygments does not know, stays
plain. Guessing was measured and left out: `guess_lexer` imports every lexer module on first use
(221 ms on the 2-core test machine) and guesses short snippets of prose-like output wrongly.

Spans are computed for one Pygments style at a time and carry what the style says (colour,
weight, slant, underline, background), with positions in UTF-16 units, the document's own.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

#: Styles matched to the app's palettes (desktop/ui/style/theme.py) by contrast: on the
#: transcript's code background every common token colour of these two reads at ≥ 4.7:1
#: (xcode on #f0f0f0, github-dark on #28292c).
LIGHT_STYLE = "xcode"
DARK_STYLE = "github-dark"
#: Characters lexed per block; the rest of a longer block stays plain. The transcript shows at
#: most 50,000 characters of a row (delegate.py); lexing that much Python takes ~60 ms.
MAX_LEX = 50_000
#: A lexer that is still busy after this long stops; what it reached is coloured.
DEADLINE_S = 2.0


def style_name(dark: bool) -> str:
    return DARK_STYLE if dark else LIGHT_STYLE


@dataclass(frozen=True)
class Look:
    """How a span looks: what the Pygments style says for its token type."""

    color: str | None = None  # "#rrggbb"
    background: str | None = None
    bold: bool = False
    italic: bool = False
    underline: bool = False


@dataclass(frozen=True)
class Spans:
    """(start, end, look number) runs, in UTF-16 positions from the start of the code."""

    runs: tuple[tuple[int, int, int], ...]
    looks: tuple[Look, ...]


PLAIN = Spans((), ())

# Filled by whichever thread first resolves a language or a style; read without locks (a dict
# assignment is atomic), so the GUI thread can ask whether using one would import anything.
_lexers: dict[str, Any] = {}  # language → lexer class, or None when Pygments has none
_looks: dict[str, dict[Any, Look | None]] = {}  # style → token type → look (None: plain)
_styles: dict[str, Any] = {}  # style name → style class


def language_of(tag: str) -> str:
    """The language named by a fence's info string ("Python title=x" → "python"; "" if none)."""
    words = tag.strip().split()
    return words[0].strip("{}.").lower() if words else ""


def is_ready(language: str, style: str) -> bool:
    """Whether lexing `language` in `style` needs no import (so the GUI thread may do it)."""
    return language in _lexers and style in _styles


def is_known(language: str) -> bool | None:
    """True/False once the language has been looked up, None before."""
    if language not in _lexers:
        return None
    return _lexers[language] is not None


def _lexer_class(language: str) -> Any:
    if language not in _lexers:
        from pygments.lexers import get_lexer_by_name
        from pygments.util import ClassNotFound

        try:
            _lexers[language] = type(get_lexer_by_name(language))
        except ClassNotFound:
            _lexers[language] = None
    return _lexers[language]


def _look_table(style: str) -> dict[Any, Look | None]:
    if style not in _styles:
        from pygments.styles import get_style_by_name

        _looks.setdefault(style, {})
        _styles[style] = get_style_by_name(style)
    return _looks[style]


def _look(style: str, table: dict[Any, Look | None], ttype: Any) -> Look | None:
    look = table.get(ttype, False)
    if look is not False:
        return look  # type: ignore[return-value]
    from pygments.token import Error, Token

    cls = _styles[style]
    base = cls.style_for_token(Token)
    got = cls.style_for_token(ttype)
    # The style's text colour (github-dark's light grey; black where it names none, as a page
    # shows it) is left to the palette's text colour. A mis-tagged block must not flag its
    # "errors" in red either.
    text_color = (base["color"] or "000000").lower()
    color = (got["color"] or "").lower()
    keys = ("bgcolor", "bold", "italic", "underline")
    if ttype in Error or (color in ("", text_color) and all(got[k] == base[k] for k in keys)):
        result = None
    else:
        result = Look(
            f"#{color}" if color and color != text_color else None,
            f"#{got['bgcolor']}" if got["bgcolor"] else None,
            bool(got["bold"]),
            bool(got["italic"]),
            bool(got["underline"]),
        )
    table[ttype] = result
    return result


def lex(code: str, language: str, style: str, max_chars: int = MAX_LEX) -> Spans:
    """Spans of `code` lexed as `language` (a fence tag, see `language_of`) in `style`.

    Only the first `max_chars` characters are lexed, for at most DEADLINE_S seconds."""
    cls = _lexer_class(language) if language else None
    if cls is None:
        return PLAIN
    table = _look_table(style)
    text = code[:max_chars]
    # Unprocessed tokens keep positions in `text` as given (get_tokens would strip and convert
    # newlines first). A final newline ends a last-line comment the way lexers expect.
    lexer = cls(stripnl=False, ensurenl=False)
    deadline = time.monotonic() + DEADLINE_S
    looks: dict[Look, int] = {}
    runs: list[list[int]] = []
    end_of_text = len(text)
    for n, (pos, ttype, value) in enumerate(lexer.get_tokens_unprocessed(text + "\n")):
        if n & 255 == 0 and n and time.monotonic() > deadline:
            break
        end = min(pos + len(value), end_of_text)
        if end <= pos:
            continue
        look = _look(style, table, ttype)
        if look is None:
            continue
        number = looks.setdefault(look, len(looks))
        last = runs[-1] if runs else None
        # Neighbours that look the same become one run (fewer formats to apply on the GUI
        # thread: ~2,000 instead of ~6,600 for 30,000 characters of Python), also across
        # white space when nothing there would show (a background or an underline would).
        if (
            last is not None
            and last[2] == number
            and (last[1] == pos or (not _shows_space(look) and text[last[1] : pos].isspace()))
        ):
            last[1] = end
        else:
            runs.append([pos, end, number])
    to_qt = utf16_offsets(text)
    return Spans(
        tuple((to_qt(s), to_qt(e), k) for s, e, k in runs),
        tuple(looks),
    )


def _shows_space(look: Look) -> bool:
    return look.background is not None or look.underline


def utf16_offsets(text: str):
    """Maps a Python string index to a Qt (UTF-16) position: they differ after an emoji."""
    if text.isascii() or max(text) <= "\uffff":
        return lambda i: i
    table = [0]
    for c in text:
        table.append(table[-1] + (2 if ord(c) > 0xFFFF else 1))
    return table.__getitem__
