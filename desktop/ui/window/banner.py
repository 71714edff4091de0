"""The one strip above the composer that shows a `Notice`: what went wrong, what to do next.

Colours come from the palette (desktop/ui/style/tones.py), so the
strip suits light and dark schemes; showing it announces the text to screen readers.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QPaintEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QPushButton, QWidget

from desktop.ui.notice import Notice, Tone
from desktop.ui.plain_text import plain_label
from desktop.ui.style.tones import paint_surface

_NAMES = {Tone.ERROR: "Error", Tone.WARNING: "Warning", Tone.INFO: "Notice", Tone.OK: "Notice"}


class Banner(QFrame):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("banner")
        self.setAccessibleName("Notice")
        self.level = Tone.INFO
        self.notice: Notice | None = None
        self.label = plain_label()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.action_button = QPushButton()
        self.action_button.setAccessibleName("Notice action")
        self.close_button = QPushButton("✕")
        self.close_button.setFlat(True)
        self.close_button.setAccessibleName("Dismiss notice")
        self.close_button.setToolTip("Dismiss")
        self.close_button.setFixedWidth(28)
        self.close_button.clicked.connect(self.hide)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 8, 8, 8)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.action_button)
        layout.addWidget(self.close_button)
        self._callback: Callable[[], None] | None = None
        self.action_button.clicked.connect(self._run_action)
        self.hide()

    def show(self, notice: Notice | None = None) -> None:  # type: ignore[override]
        if notice is None:  # QWidget.show(), as layouts and tests call it
            super().show()
            return
        self.notice = notice
        self.level = notice.tone
        text, action = notice.text, notice.action
        self.label.setText(text)
        self.setAccessibleName(_NAMES[self.level])
        self.setAccessibleDescription(text)
        self.label.setAccessibleName(text)
        self._callback = notice.callback
        self.action_button.setVisible(bool(action and notice.callback))
        self.action_button.setText(action or "")
        self.action_button.setAccessibleName(action or "Notice action")
        super().show()
        self.update()
        self._announce()

    def withdraw(self, source: str) -> None:
        """Hide the notice if `source` raised it (a countdown that is over, say)."""
        if self.notice is not None and self.notice.source == source and self.isVisible():
            self.hide()

    def withdraw_all_but(self, source: str) -> None:
        """Hide the notice unless `source` raised it (a new connection ends the last one's
        troubles, not the warning that the key is not kept)."""
        if self.notice is None or self.notice.source != source:
            self.hide()

    def paintEvent(self, event: QPaintEvent) -> None:
        paint_surface(self, self.level)

    def _announce(self) -> None:
        """Screen readers say the notice; errors interrupt."""
        from desktop.ui.accessibility import announce  # with the first notice, not the first frame

        announce(self, self.label.text(), assertive=self.level is Tone.ERROR)

    def _run_action(self) -> None:
        callback = self._callback
        self.hide()
        if callback is not None:
            callback()
