"""An inline message strip above the composer: what went wrong and the one thing to do next."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

_COLORS = {
    "error": ("#fdecec", "#7f1d1d", "#f5c2c2"),
    "warning": ("#fff6e0", "#78350f", "#f3d98b"),
    "info": ("#e8f1fd", "#1e3a5f", "#bcd3f2"),
}


class Banner(QFrame):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("banner")
        self.setAccessibleName("Notice")
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.action_button = QPushButton()
        self.close_button = QPushButton("✕")
        self.close_button.setFlat(True)
        self.close_button.setAccessibleName("Dismiss notice")
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

    def show_message(self, text: str, level: str = "error", action: str | None = None,
                     callback: Callable[[], None] | None = None) -> None:
        bg, fg, border = _COLORS.get(level, _COLORS["info"])
        self.setStyleSheet(f"QFrame#banner {{ background: {bg}; border: 1px solid {border}; "
                           f"border-radius: 8px; }} QFrame#banner QLabel {{ color: {fg}; }}")
        self.label.setText(text)
        self.setAccessibleDescription(text)
        self._callback = callback
        self.action_button.setVisible(bool(action and callback))
        self.action_button.setText(action or "")
        self.action_button.setAccessibleName(action or "")
        self.show()

    def _run_action(self) -> None:
        callback = self._callback
        self.hide()
        if callback is not None:
            callback()
