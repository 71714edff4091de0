"""Help ▸ Keyboard shortcuts: a table made from the window's own QActions, so it cannot drift,
plus the keys the message box handles itself."""

from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QMainWindow,
    QMenu,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.ui.accessibility import clean_label
from desktop.ui.screen_fit import keep_on_screen
from desktop.ui.transcript.view import TRANSCRIPT_KEYS

#: Keys handled inside the message box (not actions, so listed here).
COMPOSER_KEYS = (
    ("Send the message", "Enter"),
    ("New line", "Shift+Enter"),
    ("Bring back the last message (empty message box)", "Up"),
    ("Remove the last pending image (empty message box)", "Backspace"),
    ("Preview a pending image (on its chip)", "Space"),
    ("Crop or black out parts of a pending image (on its chip)", "Enter"),
    ("Next / previous control", "Tab / Shift+Tab"),
)


def _menu_actions(menu: QMenu) -> list[QAction]:
    out: list[QAction] = []
    for action in menu.actions():
        sub = action.menu()
        if isinstance(sub, QMenu):
            out += _menu_actions(sub)
        else:
            out.append(action)
    return out


def window_actions(window: QMainWindow) -> list[QAction]:
    """The window's actions that have a shortcut: menu order first, then the others."""
    ordered: list[QAction] = []
    for top in window.menuBar().actions():
        if isinstance(top.menu(), QMenu):
            ordered += _menu_actions(top.menu())
    ordered += window.actions() + window.findChildren(QAction)
    seen: set[int] = set()
    out = []
    for action in ordered:
        if id(action) in seen or not action.shortcuts() or not action.text():
            continue
        seen.add(id(action))
        out.append(action)
    return out


def shortcut_rows(window: QMainWindow) -> list[tuple[str, str]]:
    rows = []
    for action in window_actions(window):
        keys = ", ".join(
            s.toString(QKeySequence.SequenceFormat.NativeText) for s in action.shortcuts()
        )
        rows.append((clean_label(action.text()), keys))
    return rows


class ShortcutsDialog(QDialog):
    def __init__(self, window: QMainWindow, parent: QWidget | None = None):
        super().__init__(parent or window)
        keep_on_screen(self)
        self.setWindowTitle("Keyboard shortcuts")
        self.resize(480, 460)
        rows = shortcut_rows(window) + list(COMPOSER_KEYS) + list(TRANSCRIPT_KEYS)
        self.table = QTableWidget(len(rows), 2)
        self.table.setHorizontalHeaderLabels(["Action", "Keys"])
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(
            1, QHeaderView.ResizeMode.ResizeToContents
        )
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setAccessibleName("Keyboard shortcuts")
        self.table.setAccessibleDescription("Each row: an action and its keys")
        for row, (what, keys) in enumerate(rows):
            self.table.setItem(row, 0, QTableWidgetItem(what))
            self.table.setItem(row, 1, QTableWidgetItem(keys))
        self.rows = rows
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.StandardButton.Close).setAccessibleName("Close")
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
