"""The warning above the composer when pending images meet a model that cannot (or may not) see.

Four modes (`Mode`): the model cannot see, may not see, or would refuse the images as they are;
or the images are being described for it (with Cancel). When a describing model is known, the
first two modes also offer Describe with ‹model› (`set_describe_offer`).
Announced to assistive technology when it appears or changes mode; a
new text in the same mode is announced once it stops changing (REANNOUNCE_MS), and showing the
same thing again does nothing (no relayout, no announcement). The text is kept
short (the guard summarises; MAX_CHARS cuts anything longer): word-wrapping a long text is laid
out again on every change: 40–90 ms a time for a 200-image drop.
"""

from __future__ import annotations

from enum import Enum

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QPaintEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from desktop.ui.accessibility import announce
from desktop.ui.notice import Tone
from desktop.ui.plain_text import plain_label
from desktop.ui.style.tones import paint_surface

# Notice levels (colours come from the palette: desktop/ui/style/tones.py).
_WARNING, _SOFT, _ERROR = Tone.WARNING, Tone.INFO, Tone.ERROR


class Mode(str, Enum):
    CANNOT = "cannot"  # the model cannot see: Switch model…, Send anyway, Remove images
    UNKNOWN = "unknown"  # it may not: the override choices
    LIMITS = "limits"  # images it would refuse as they are: Remove images
    DESCRIBING = "describing"  # a vision model describes them as text: Cancel


_ICONS = {Mode.CANNOT: "⚠", Mode.UNKNOWN: "?", Mode.LIMITS: "⛔", Mode.DESCRIBING: "…"}

MAX_CHARS = 1000
REANNOUNCE_MS = (
    1500  # a changed text in the same mode is announced once it has been still this long
)
"""Longest text the banner shows; past it the text is cut at a word and ends with "…"."""


def _bounded(text: str, limit: int = MAX_CHARS) -> str:
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > limit // 2 else limit - 1].rstrip(" ,;:") + "…"


def _split(text: str) -> tuple[str, str]:
    """(bold headline, the rest): the first sentence or the part before the first colon."""
    cut = min((i for i in (text.find(". "), text.find(": ")) if i >= 0), default=-1)
    if cut < 0:
        return text.rstrip("."), ""
    return text[:cut], text[cut + 2 :]


class VisionBanner(QFrame):
    switchRequested = Signal()
    sendAnywayRequested = Signal()
    removeRequested = Signal()
    overrideChosen = Signal(object)  # True / False
    describeRequested = Signal()
    cancelRequested = Signal()  # stop describing

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("visionBanner")
        self.mode: Mode | None = None
        self.level = _SOFT
        # Appearing or changing mode is announced at once; a new text in the same mode (the
        # count of images over a limit while a big drop is taken in) only once it has been
        # still for a moment, so a screen reader says the final text once, not every step.
        self._reannounce = QTimer(self)
        self._reannounce.setSingleShot(True)
        self._reannounce.setInterval(REANNOUNCE_MS)
        self._reannounce.timeout.connect(self._announce)
        self.message = ""
        """The whole text shown (headline and details), also the accessible description."""
        self.title = plain_label()
        self.title.setWordWrap(True)
        self.title.setStyleSheet("font-weight: 600;")
        self.label = plain_label()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.switch_button = QPushButton("Switch model…")
        self.send_button = QPushButton("Send anyway")
        self.remove_button = QPushButton("Remove images")
        self.yes_button = QPushButton("It can see images")
        self.no_button = QPushButton("It cannot")
        self.describe_button = QPushButton("Describe")
        self.cancel_button = QPushButton("Cancel")
        self._describe_offer: str | None = None
        self.switch_button.clicked.connect(self.switchRequested)
        self.send_button.clicked.connect(self.sendAnywayRequested)
        self.remove_button.clicked.connect(self.removeRequested)
        self.yes_button.clicked.connect(lambda: self.overrideChosen.emit(True))
        self.no_button.clicked.connect(lambda: self.overrideChosen.emit(False))
        self.describe_button.clicked.connect(self.describeRequested)
        self.cancel_button.clicked.connect(self.cancelRequested)
        self.cancel_button.setToolTip("Stop describing; the images stay in the message")
        self.send_button.setToolTip("Send the images to this model as they are")
        self.remove_button.setToolTip("Take the images out of this message")
        self.switch_button.setToolTip("Choose another model for this agent")
        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        buttons.setSpacing(6)
        buttons.addStretch(1)
        for button in (
            self.yes_button,
            self.no_button,
            self.remove_button,
            self.send_button,
            self.describe_button,
            self.switch_button,
            self.cancel_button,
        ):
            button.setAccessibleName(button.text().rstrip("…"))
            buttons.addWidget(button)
        column = QVBoxLayout(self)
        column.setContentsMargins(12, 8, 8, 8)
        column.setSpacing(6)
        column.addWidget(self.title)
        column.addWidget(self.label)
        column.addLayout(buttons)
        self.hide()

    def show_cannot(self, text: str) -> None:
        self._show(Mode.CANNOT, text, _WARNING, "Warning: model cannot see images")
        self.switch_button.setDefault(True)

    def show_unknown(self, text: str) -> None:
        self._show(Mode.UNKNOWN, text, _SOFT, "Notice: model may not see images")

    def show_describing(self, text: str) -> None:
        self._show(Mode.DESCRIBING, text, _SOFT, "Describing images")
        self.cancel_button.setDefault(True)

    def set_describe_offer(self, label: str | None, tooltip: str = "") -> None:
        """Offer Describe with ‹model› in the cannot / unknown modes (None: no offer)."""
        if label == self._describe_offer and tooltip == self.describe_button.toolTip():
            return
        self._describe_offer = label
        if label:
            self.describe_button.setText(label)
            self.describe_button.setAccessibleName(label)
        self.describe_button.setToolTip(tooltip)
        self._place_describe()

    def _place_describe(self) -> None:
        offered = self._describe_offer is not None and self.mode in (Mode.CANNOT, Mode.UNKNOWN)
        self.describe_button.setVisible(offered)

    def show_limits(self, text: str) -> None:
        self._show(Mode.LIMITS, text, _ERROR, "Images cannot be sent as they are")

    def _show(self, mode: Mode, text: str, level: Tone, name: str) -> None:
        text = _bounded(text)
        if mode == self.mode and text == self.message and not self.isHidden():
            return  # already showing just this: no relayout, no second announcement
        new_mode = mode != self.mode or not self.isVisible()
        new_text = text != self.message
        self.mode = mode
        self.message = text
        self.level = level
        self.update()
        headline, rest = _split(text)
        self.title.setText(f"{_ICONS[mode]} {headline}")
        self.label.setText(rest)
        self.label.setVisible(bool(rest))
        cannot, unknown = mode is Mode.CANNOT, mode is Mode.UNKNOWN
        self.switch_button.setVisible(cannot or unknown)
        self.send_button.setVisible(cannot)
        self.remove_button.setVisible(cannot or mode is Mode.LIMITS)
        self.yes_button.setVisible(unknown)
        self.no_button.setVisible(unknown)
        self.cancel_button.setVisible(mode is Mode.DESCRIBING)
        self._place_describe()
        self.setAccessibleName(name)
        self.setAccessibleDescription(text)
        self.title.setAccessibleName(headline)
        self.show()
        if new_mode:
            self._reannounce.stop()
            self._announce()
        elif new_text:
            self._reannounce.start()  # restarts: announced once the text stops changing

    def clear(self) -> None:
        self._reannounce.stop()
        self.mode = None
        self.message = ""
        self.hide()

    def paintEvent(self, event: QPaintEvent) -> None:
        paint_surface(self, self.level)

    def _announce(self) -> None:
        """Screen readers say the banner's headline and text."""
        announce(self, f"{self.title.text()} {self.message}".strip())
