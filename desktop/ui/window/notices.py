"""An inline message strip above the composer: what went wrong and the one thing to do next.

Colours come from the palette (desktop/ui/style/tones.py), so the strip suits light and dark
schemes; showing it raises an accessibility Alert so screen readers announce it.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QPaintEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QPushButton, QWidget

from desktop.ui.accessibility import announce
from desktop.ui.plain_text import plain_label
from desktop.ui.style.tones import paint_surface

_NAMES = {"error": "Error", "warning": "Warning", "info": "Notice"}


class Banner(QFrame):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("banner")
        self.setAccessibleName("Notice")
        self.level = "info"
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

    def show_message(
        self,
        text: str,
        level: str = "error",
        action: str | None = None,
        callback: Callable[[], None] | None = None,
    ) -> None:
        self.level = level if level in _NAMES else "info"
        self.label.setText(text)
        self.setAccessibleName(_NAMES[self.level])
        self.setAccessibleDescription(text)
        self.label.setAccessibleName(text)
        self._callback = callback
        self.action_button.setVisible(bool(action and callback))
        self.action_button.setText(action or "")
        self.action_button.setAccessibleName(action or "Notice action")
        self.show()
        self.update()
        self._announce()

    def paintEvent(self, event: QPaintEvent) -> None:
        paint_surface(self, self.level)

    def _announce(self) -> None:
        """Screen readers say the notice; errors interrupt."""
        announce(self, self.label.text(), assertive=self.level == "error")

    def _run_action(self) -> None:
        callback = self._callback
        self.hide()
        if callback is not None:
            callback()
