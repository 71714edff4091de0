"""File ▸ Server: the saved server profiles to switch to, and “Manage servers…”."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QActionGroup
from PySide6.QtWidgets import QMenu, QWidget

from desktop.ui.connection.profiles import Profiles
from desktop.ui.plain_text import plain_tip


class ServerMenu(QMenu):
    switchRequested = Signal(str)  # a profile's name
    manageRequested = Signal()

    def __init__(self, profiles: Profiles, parent: QWidget | None = None):
        super().__init__("Ser&ver", parent)
        self._profiles = profiles
        self._connected = ""
        self.aboutToShow.connect(self._fill)

    def set_connected(self, base_url: str) -> None:
        """The server the app is connected to (its profile gets the check mark)."""
        self._connected = base_url

    def _fill(self) -> None:
        self.clear()
        group = QActionGroup(self)
        current = self._profiles.current()
        for profile in self._profiles.all():
            action = self.addAction(profile.name)
            action.setCheckable(True)
            action.setChecked(
                current is not None
                and profile.name == current.name
                and profile.base_url == self._connected
            )
            action.setToolTip(plain_tip(profile.base_url))
            group.addAction(action)
            action.triggered.connect(lambda _c=False, n=profile.name: self.switchRequested.emit(n))
        if self._profiles.all():
            self.addSeparator()
        manage = self.addAction("&Manage servers…")
        manage.triggered.connect(self.manageRequested.emit)
