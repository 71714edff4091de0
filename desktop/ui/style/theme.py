"""Light / dark: follow the OS colour scheme live, or the user's choice (System, Light, Dark).

Qt 6.5+ reports the platform's scheme (QStyleHints.colorScheme) and tells when it changes. Styles
that draw dark themselves (macOS, Windows 11) are left alone under "System"; elsewhere, and for
an explicit choice, the app uses Fusion with a palette of its own. The transcript, banners and
badges derive their colours from the palette, so they follow.
"""

from __future__ import annotations

import logging

import shiboken6
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

log = logging.getLogger(__name__)

CHOICES = ("system", "light", "dark")
LABELS = {"system": "Same as the system", "light": "Light", "dark": "Dark"}
_NATIVE_DARK_STYLES = frozenset({"macos", "windows11"})

_ROLE = QPalette.ColorRole
_GROUP = QPalette.ColorGroup


def dark_palette() -> QPalette:
    """A calm dark palette for Fusion (neutral greys, a blue accent, readable disabled text)."""
    p = QPalette()
    colors = {
        _ROLE.Window: "#202226",
        _ROLE.WindowText: "#e6e6e6",
        _ROLE.Base: "#18191c",
        _ROLE.AlternateBase: "#24262b",
        _ROLE.ToolTipBase: "#2b2d33",
        _ROLE.ToolTipText: "#e6e6e6",
        _ROLE.PlaceholderText: "#8d9299",
        _ROLE.Text: "#e6e6e6",
        _ROLE.Button: "#2b2d33",
        _ROLE.ButtonText: "#e6e6e6",
        _ROLE.BrightText: "#ff6b6b",
        _ROLE.Light: "#3a3d44",
        _ROLE.Midlight: "#31343a",
        _ROLE.Mid: "#26282d",
        _ROLE.Dark: "#141518",
        _ROLE.Shadow: "#000000",
        _ROLE.Highlight: "#3d7be0",
        _ROLE.HighlightedText: "#ffffff",
        _ROLE.Link: "#7aa7f5",
        _ROLE.LinkVisited: "#b39cf0",
        _ROLE.Accent: "#4d8cf0",
    }
    for role, value in colors.items():
        p.setColor(role, QColor(value))
    for role, value in {
        _ROLE.WindowText: "#7b7f86",
        _ROLE.Text: "#7b7f86",
        _ROLE.ButtonText: "#7b7f86",
        _ROLE.Highlight: "#3a3d44",
        _ROLE.HighlightedText: "#9a9ea5",
    }.items():
        p.setColor(_GROUP.Disabled, role, QColor(value))
    return p


def light_palette() -> QPalette:
    palette = QStyleFactory.create("Fusion").standardPalette()
    palette.setColor(_ROLE.Accent, QColor("#2f6fdb"))
    palette.setColor(_ROLE.Highlight, QColor("#2f6fdb"))
    return palette


def system_is_dark() -> bool:
    app = QGuiApplication.instance()
    return app is not None and app.styleHints().colorScheme() == Qt.ColorScheme.Dark


class ThemeManager(QObject):
    """One per application (see `theme_manager()`): applies a choice and follows the system."""

    changed = Signal()  # after the palette changed (widgets with computed colours restyle)

    def __init__(self, app: QApplication):
        super().__init__(app)
        self._app = app
        self._platform_style: str | None = None  # the style the app started with, read on need
        self._restyled = False  # a style or palette of ours may be in place
        self.choice = "system"
        app.styleHints().colorSchemeChanged.connect(self._on_scheme_changed)

    @property
    def dark(self) -> bool:
        return self.choice == "dark" or (self.choice == "system" and system_is_dark())

    def apply(self, choice: str) -> None:
        self.choice = choice if choice in CHOICES else "system"
        hints = self._app.styleHints()
        if self.choice == "system":
            hints.unsetColorScheme()
        else:  # native parts (title bars, native dialogs) follow where the platform can
            hints.setColorScheme(
                Qt.ColorScheme.Dark if self.choice == "dark" else Qt.ColorScheme.Light
            )
        self._restyle()

    def _on_scheme_changed(self, _scheme: Qt.ColorScheme) -> None:
        if self.choice == "system":
            self._restyle()

    def _original_style(self) -> str:
        # Read when first needed, before any style of ours is set: wrapping the app's QStyle
        # builds PySide's QStyle type (~5 ms of enums), which the first frame does not need.
        if self._platform_style is None:
            self._platform_style = self._app.style().name()
        return self._platform_style

    def _restyle(self) -> None:
        system = self.choice == "system"
        if system and not self._restyled and not system_is_dark():
            return  # the platform's own style and palette are still in place: nothing to undo
        self._restyled = True
        original = self._original_style()
        if system and (not system_is_dark() or original.lower() in _NATIVE_DARK_STYLES):
            self._set_style(original)
            self._app.setPalette(QPalette())  # an empty palette: the platform's, kept live
        else:
            self._set_style("Fusion")
            self._app.setPalette(dark_palette() if self.dark else light_palette())
            log.info("theme: %s (%s)", self.choice, "dark" if self.dark else "light")
        self._repolish()
        self.changed.emit()

    def _repolish(self) -> None:
        """Style sheets resolve `palette(...)` when applied: apply them again."""
        for widget in self._app.allWidgets():
            sheet = widget.styleSheet()
            if sheet:
                widget.setStyleSheet(sheet)

    def _set_style(self, name: str) -> None:
        if self._app.style().name().lower() != name.lower():
            self._app.setStyle(name)


_manager: ThemeManager | None = None


def theme_manager() -> ThemeManager | None:
    """The application's theme manager (created on first use); None without a QApplication.

    Kept here, not looked up with `app.findChild`: that wraps every child of the application,
    its QStyle among them (~5 ms of PySide enums before the first frame)."""
    global _manager
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        return None
    if _manager is None or not shiboken6.isValid(_manager):  # none yet, or its app is gone
        _manager = ThemeManager(app)
    return _manager


def apply_theme(choice: str) -> None:
    manager = theme_manager()
    if manager is not None:
        manager.apply(choice)
