"""A transcript row as a screen reader should say it: the words, not the Markdown marks.

`**bold**`, backticks, heading hashes, quote markers, table pipes and link syntax were read
aloud ("asterisk asterisk bold …"). This keeps the words (a link's text, an image's alt text)
and drops the marks. It runs on the GUI thread whenever a screen reader asks, so it is regex
work on a bounded prefix, not a Markdown parse.
"""

from __future__ import annotations

import re

#: A screen reader reading more than this of one row at once is of no use to anyone; the
#: whole text is one Copy away.
MAX_SPOKEN = 2000

_FENCE_LINE = re.compile(r"^\s{0,3}(`{3,}|~{3,}).*$", re.MULTILINE)
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+", re.MULTILINE)
_QUOTE = re.compile(r"^\s{0,3}(>\s?)+", re.MULTILINE)
_RULE = re.compile(r"^\s{0,3}([-*_]\s*){3,}$", re.MULTILINE)
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?[ \t]*(\n|$)", re.MULTILINE)
_EMPHASIS = re.compile(r"(\*{1,3}|~~)(?=\S)(.+?)(?<=\S)\1")
#: Underscores inside a word (snake_case) are not emphasis.
_UNDERSCORES = re.compile(r"(?<!\w)(_{1,3})(?=\S)(.+?)(?<=\S)\1(?!\w)")
_CODE = re.compile(r"`+([^`]*)`+")
_PIPES = re.compile(r"\s*\|\s*")
_BLANKS = re.compile(r"\n{3,}")


def spoken_text(text: str, *, markdown: bool = True) -> str:
    more = len(text) > MAX_SPOKEN
    text = text[:MAX_SPOKEN]
    if markdown:
        text = _FENCE_LINE.sub("", text)
        text = _IMAGE.sub(lambda m: f"image {m.group(1)}".strip(), text)
        text = _LINK.sub(r"\1", text)
        text = _TABLE_RULE.sub("", text)
        text = _RULE.sub("", text)
        text = _HEADING.sub("", text)
        text = _QUOTE.sub("", text)
        text = _EMPHASIS.sub(r"\2", text)
        text = _UNDERSCORES.sub(r"\2", text)
        text = _CODE.sub(r"\1", text)
        text = "\n".join(_PIPES.sub(", ", line).strip(", ") for line in text.split("\n"))
        text = _BLANKS.sub("\n\n", text).strip()
    return text + (" …" if more else "")
