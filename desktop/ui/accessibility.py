"""Accessible names for every interactive control, and the helpers the tests use to check them.

Widgets get explicit names where they are built; `fill_accessible_names` is the safety net for
the ones Qt builds for us (standard dialog buttons, a line edit's clear button, a combo box's
list): it names them after their text, placeholder or tooltip, and uses the tooltip as the
description where there is none.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSpinBox,
    QComboBox,
    QHeaderView,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)

INTERACTIVE = (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSpinBox,
    QComboBox,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
)


def interactive_widgets(root: QWidget) -> list[QWidget]:
    widgets = [root] if isinstance(root, INTERACTIVE) else []
    widgets += [w for w in root.findChildren(QWidget) if isinstance(w, INTERACTIVE)]
    return widgets


def clean_label(text: str) -> str:
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&").strip().rstrip("…").strip()


def _fallback_name(widget: QWidget) -> str:
    if isinstance(widget, QAbstractButton) and clean_label(widget.text()):
        return clean_label(widget.text())
    if isinstance(widget, QLineEdit | QPlainTextEdit | QTextEdit) and widget.placeholderText():
        return widget.placeholderText()
    if widget.toolTip():
        return widget.toolTip().split("\n", 1)[0]
    parent = widget.parentWidget()
    if isinstance(widget, QAbstractItemView) and parent is not None:
        combo = parent.parentWidget()  # a combo box's popup list
        if isinstance(combo, QComboBox) and combo.accessibleName():
            return f"{combo.accessibleName()} choices"
    special = {"qt_menubar_ext_button": "More menus", "qt_tableview_cornerbutton": "Select all"}
    if widget.objectName() in special:
        return special[widget.objectName()]
    if isinstance(widget, QHeaderView):
        vertical = widget.orientation() == Qt.Orientation.Vertical
        return "Row headers" if vertical else "Column headers"
    if isinstance(widget, QAbstractButton) and isinstance(parent, QLineEdit):
        return "Clear" if parent.isClearButtonEnabled() else "Field action"
    return ""


def fill_accessible_names(root: QWidget) -> list[QWidget]:
    """Name every unnamed interactive widget under `root`; returns those still without a name."""
    missing = []
    for widget in interactive_widgets(root):
        if not widget.accessibleName():
            name = _fallback_name(widget)
            if name:
                widget.setAccessibleName(name)
            else:
                missing.append(widget)
        if not widget.accessibleDescription() and widget.toolTip():
            widget.setAccessibleDescription(widget.toolTip())
    return missing


def announce(widget: QWidget, text: str, *, assertive: bool = False) -> None:
    """Have screen readers say `text` now. An announcement event (Qt 6.8+): AT-SPI's
    `object:announcement`, UIA notifications, NSAccessibility announcements. Qt's Linux bridge
    drops the older Alert event, so nothing was said at all."""
    # Imported here: QAccessible's Python type (~1.7 ms) is not needed for the first frame.
    from PySide6.QtGui import QAccessible, QAccessibleAnnouncementEvent

    if not QAccessible.isActive() or not text:
        return
    event = QAccessibleAnnouncementEvent(widget, text)
    if assertive:
        event.setPoliteness(QAccessible.AnnouncementPoliteness.Assertive)
    QAccessible.updateAccessibility(event)
