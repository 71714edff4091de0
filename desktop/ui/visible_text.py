"""Untrusted text shown so that what you see is what it is.

Tool names and tool arguments come from the server (ultimately from a model): a right-to-left
override can make `invoice\u202efdp.sh` read as "invoicehs.pdf", a zero-width space can make two
different names look equal. `visible_text` replaces every such character — bidi controls,
zero-width and other format characters, control characters, line and paragraph separators,
blank fillers — with a visible mark like ⟨U+202E⟩. Ordinary letters of any script (Arabic,
Hebrew, CJK, emoji) are left alone.
"""

from __future__ import annotations

import re
import unicodedata

#: Categories that draw nothing (or reorder what is drawn): controls, format characters (bidi
#: controls, zero-width joiners/spaces, soft hyphen, tags), surrogates, line/paragraph separators.
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
#: Letters that render as blanks (Hangul fillers, the combining grapheme joiner, Braille blank).
_BLANKS = frozenset({0x034F, 0x115F, 0x1160, 0x2800, 0x3164, 0xFFA0})
_SUSPECT = re.compile(r"[^\x20-\x7e]")
_MAX_NAME = 120


def _mark(char: str) -> str:
    return f"⟨U+{ord(char):04X}⟩"


def visible_text(text: str, *, single_line: bool = False) -> str:
    """`text` with invisible and direction-changing characters shown as ⟨U+XXXX⟩.

    Tabs and line breaks stay as they are unless `single_line` (a name, a title), where they are
    marked too, so one name cannot pretend to be two lines.
    """

    def replace(match: re.Match[str]) -> str:
        char = match.group()
        if char in "\n\t\r" and not single_line:
            return char
        if ord(char) in _BLANKS or unicodedata.category(char) in _HIDDEN_CATEGORIES:
            return _mark(char)
        return char

    return _SUSPECT.sub(replace, text)


def tool_label(name: str | None) -> str:
    """A tool name as shown: one line, invisible characters marked, cut when absurdly long."""
    if not name:
        return "an unnamed tool"
    text = visible_text(name, single_line=True)
    return text if len(text) <= _MAX_NAME else text[: _MAX_NAME - 1] + "…"


__all__ = ["tool_label", "visible_text"]
