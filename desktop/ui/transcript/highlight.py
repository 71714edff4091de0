"""A small regex highlighter for fenced code blocks: keywords, strings, comments and numbers.

Deliberately simple and fast: one combined regex per language family, applied once when a block's
document is built (never while painting). Unknown languages get generic rules that suit most
C-like and script languages without colouring prose-like text too eagerly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from PySide6.QtGui import QColor, QTextCharFormat, QTextCursor

#: Code longer than this stays plain: colouring it would cost more than it helps.
MAX_HIGHLIGHT = 40_000

_PY = (
    "and as assert async await break class continue def del elif else except finally for from "
    "global if import in is lambda match case nonlocal not or pass raise return try while with "
    "yield None True False self"
)
_JS = (
    "async await break case catch class const continue debugger default delete do else export "
    "extends finally for from function if import in instanceof interface let new of return "
    "static super switch this throw try type typeof var void while with yield null undefined "
    "true false enum implements private protected public readonly"
)
_SH = (
    "if then else elif fi for while until do done case esac in function return export local "
    "echo exit set unset source alias cd sudo"
)
_JSON = "true false null"

_STRINGS_PY = r'"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|' r'"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\''
_STRINGS_JS = r'"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'|`(?:\\.|[^`\\])*`'
_STRINGS_C = r'"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\''
_HASH_COMMENT = r"(?:(?<=\s)|^)#[^\n]*"
_SLASH_COMMENT = r"(?:(?<=\s)|^)//[^\n]*|/\*[\s\S]*?\*/"
_NUMBER = r"\b(?:0[xX][0-9a-fA-F]+|\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)\b"

_FAMILY = {
    **dict.fromkeys(("python", "py", "python3", "ipython", "pycon"), "python"),
    **dict.fromkeys(
        ("js", "javascript", "jsx", "ts", "typescript", "tsx", "mjs", "cjs", "node"), "js"
    ),
    **dict.fromkeys(("sh", "bash", "shell", "zsh", "console", "shell-session", "fish"), "shell"),
    **dict.fromkeys(("json", "jsonc", "json5"), "json"),
}


@dataclass(frozen=True)
class SyntaxColors:
    keyword: QColor
    string: QColor
    comment: QColor
    number: QColor

    @classmethod
    def for_background(cls, base: QColor) -> SyntaxColors:
        """Colours readable on `base` (light or dark)."""
        if base.lightnessF() < 0.5:
            return cls(QColor("#c792ea"), QColor("#a5d68a"), QColor("#8b949e"), QColor("#f4a261"))
        return cls(QColor("#7c3aed"), QColor("#1f7a1f"), QColor("#6a737d"), QColor("#b35900"))


def family(language: str) -> str:
    lang = language.strip().lower().split()[0] if language.strip() else ""
    return _FAMILY.get(lang, "generic")


@cache
def _pattern(fam: str) -> re.Pattern[str]:
    if fam == "python":
        comment, strings, words = _HASH_COMMENT, _STRINGS_PY, _PY
    elif fam == "js":
        comment, strings, words = _SLASH_COMMENT, _STRINGS_JS, _JS
    elif fam == "shell":
        comment, strings, words = _HASH_COMMENT, _STRINGS_C, _SH
    elif fam == "json":
        comment, strings, words = _SLASH_COMMENT, _STRINGS_C, _JSON
    else:
        comment = f"{_HASH_COMMENT}|{_SLASH_COMMENT}"
        strings = _STRINGS_C
        words = " ".join(sorted(set(f"{_PY} {_JS} {_SH}".split())))
    keywords = r"\b(?:" + "|".join(sorted(set(words.split()), key=len, reverse=True)) + r")\b"
    return re.compile(
        f"(?P<comment>{comment})|(?P<string>{strings})|(?P<number>{_NUMBER})|(?P<keyword>{keywords})",
        re.MULTILINE,
    )


def tokens(code: str, language: str = "") -> list[tuple[int, int, str]]:
    """(start, end, kind) spans to colour; kind is keyword/string/comment/number."""
    if len(code) > MAX_HIGHLIGHT:
        return []
    out = []
    for m in _pattern(family(language)).finditer(code):
        kind = m.lastgroup
        if kind is not None and m.end() > m.start():
            out.append((m.start(), m.end(), kind))
    return out


def apply(cursor: QTextCursor, start: int, code: str, language: str, colors: SyntaxColors) -> None:
    """Colours `code`, which sits at document position `start` (one position per character)."""
    formats: dict[str, QTextCharFormat] = {}
    for kind in ("keyword", "string", "comment", "number"):
        fmt = QTextCharFormat()
        fmt.setForeground(getattr(colors, kind))
        if kind == "comment":
            fmt.setFontItalic(True)
        formats[kind] = fmt
    spans = tokens(code, language)
    if not spans:
        return
    to_qt = _utf16_offsets(code)
    for s, e, kind in spans:
        cursor.setPosition(start + to_qt(s))
        cursor.setPosition(start + to_qt(e), QTextCursor.MoveMode.KeepAnchor)
        cursor.mergeCharFormat(formats[kind])


def _utf16_offsets(text: str):
    """Maps a Python string index to a Qt (UTF-16) position: they differ after an emoji."""
    if text.isascii() or all(ord(c) <= 0xFFFF for c in text):
        return lambda i: i
    table = [0]
    for c in text:
        table.append(table[-1] + (2 if ord(c) > 0xFFFF else 1))
    return table.__getitem__
