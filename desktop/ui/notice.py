"""What a feature says to the user: one `Notice` type, shown by the window's one banner.

Features emit notices (a `notice` signal carrying one); the wiring sends them all to the banner
(desktop/ui/window/banner.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum


class Tone(str, Enum):
    """How serious a notice is (its colour, and whether a screen reader interrupts); also the
    signal colour of a smaller thing (desktop/ui/style/tones.py)."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    OK = "ok"  # all is well: the badge's ✓, a connection test that passed


@dataclass(frozen=True)
class Notice:
    text: str
    tone: Tone = Tone.ERROR
    action: str | None = None  # the button's label
    callback: Callable[[], None] | None = None
    #: Who raised it: a source can withdraw its own notice without hiding someone else's.
    source: str = ""
