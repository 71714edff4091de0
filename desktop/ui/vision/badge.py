"""The header's "does this model see images?" badge (✓ / ✗ / ?) and its override menu.

Always visible once an agent is open. The tooltip says what the app believes and where that came
from; clicking offers "This model can see images" / "cannot" / "Use built-in data", which the
owner stores with Settings.set_vision_override (overrides win and persist).
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QApplication, QMenu, QToolButton, QWidget

from desktop.core.capabilities import ModelCapability, short_status
from desktop.core.send_guard import data_source, model_name, vision_mark
from desktop.ui.notice import Tone
from desktop.ui.plain_text import plain_tip
from desktop.ui.style.theme import theme_manager
from desktop.ui.style.tones import surface, tone

_LEVEL = {True: Tone.OK, False: Tone.ERROR, None: Tone.WARNING}  # colours: tones.py
_LABEL = {True: "sees images", False: "no images", None: "images?"}


class CapabilityBadge(QToolButton):
    """Shows one model's vision status; `overrideChosen(handle, True|False|None)` on a choice."""

    overrideChosen = Signal(str, object)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.setAutoRaise(True)
        self.capability: ModelCapability | None = None
        self.setAccessibleName("Images: no agent open")
        self.setAccessibleDescription("Whether the agent's model can see images; click to correct")
        menu = QMenu(self)
        group = QActionGroup(self)
        self.yes_action = QAction("This model can see images", self, checkable=True)
        self.no_action = QAction("This model cannot see images", self, checkable=True)
        self.builtin_action = QAction("Use built-in data", self, checkable=True)
        for action, value in (
            (self.yes_action, True),
            (self.no_action, False),
            (self.builtin_action, None),
        ):
            group.addAction(action)
            menu.addAction(action)
            action.triggered.connect(lambda _c=False, v=value: self._choose(v))
        self.setMenu(menu)
        manager = theme_manager()
        if manager is not None:  # light/dark switched: the colours are computed, so recompute
            manager.changed.connect(self._restyle)
        self.hide()

    @property
    def mark(self) -> str:
        return vision_mark(self.capability) if self.capability else ""

    def set_capability(self, cap: ModelCapability | None) -> None:
        self.capability = cap
        if cap is None:
            self.hide()
            return
        self.setText(f"{vision_mark(cap)} {_LABEL[cap.vision]}")
        self._restyle()
        status = f"{model_name(cap)} {short_status(cap)}"
        tip = f"{status}.\nSource: {data_source(cap)}.\nClick to correct it."
        self.setToolTip(plain_tip(tip))
        self.setAccessibleName(f"Images: {status}")
        self.setAccessibleDescription(tip)
        if cap.overridden:
            (self.yes_action if cap.vision else self.no_action).setChecked(True)
        else:
            self.builtin_action.setChecked(True)
        self.show()

    def _restyle(self) -> None:
        if self.capability is None:
            return
        palette = QApplication.palette()
        level = _LEVEL[self.capability.vision]
        fg = tone(palette, level).name()
        bg = surface(palette, level)[0].name()
        self.setStyleSheet(
            f"QToolButton {{ color: {fg}; background: {bg}; border-radius: 9px; "
            "padding: 1px 8px; font-size: 12px; } QToolButton::menu-indicator { image: none; }"
        )

    def _choose(self, value: bool | None) -> None:
        if self.capability is not None:
            self.overrideChosen.emit(self.capability.handle, value)
