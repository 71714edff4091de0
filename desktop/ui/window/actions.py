"""The window's commands by id, and its menus as lists of ids.

Every QAction is made here from its `ActionSpec`; features never look actions up by their
label, and the wiring connects `actions[ActionId.X].triggered` to the feature that does X.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, auto

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QMenuBar, QWidget

from desktop import APP_NAME

Key = QKeySequence.StandardKey | str


class ActionId(Enum):
    ATTACH = auto()
    CAPTURE = auto()
    SWITCH_AGENT = auto()
    NEW_CONVERSATION = auto()
    CONNECTION = auto()
    RELOAD = auto()
    SETTINGS = auto()
    QUIT = auto()
    PASTE = auto()
    STOP = auto()
    SHORTCUTS = auto()
    DEBUG_INFO = auto()
    ABOUT = auto()


@dataclass(frozen=True)
class ActionSpec:
    text: str
    keys: tuple[Key, ...] = ()
    role: QAction.MenuRole = QAction.MenuRole.TextHeuristicRole
    window_wide: bool = False  # works wherever focus is in the window, not only in menus


SPECS: dict[ActionId, ActionSpec] = {
    ActionId.ATTACH: ActionSpec("&Attach images…", (QKeySequence.StandardKey.Open,)),
    ActionId.CAPTURE: ActionSpec("Capture screen &region…", ("Ctrl+Shift+S",)),
    ActionId.SWITCH_AGENT: ActionSpec("Switch &agent…", ("Ctrl+K",)),
    ActionId.NEW_CONVERSATION: ActionSpec("&New conversation", ("Ctrl+Shift+N",)),
    ActionId.CONNECTION: ActionSpec("&Connection…"),
    ActionId.RELOAD: ActionSpec("&Reload history", (QKeySequence.StandardKey.Refresh,)),
    ActionId.SETTINGS: ActionSpec(
        "&Settings…",
        ("Ctrl+,", QKeySequence.StandardKey.Preferences),
        QAction.MenuRole.PreferencesRole,
    ),
    # Windows has no standard key for Quit.
    ActionId.QUIT: ActionSpec("&Quit", (QKeySequence.StandardKey.Quit, "Ctrl+Q")),
    ActionId.PASTE: ActionSpec("&Paste", (QKeySequence.StandardKey.Paste,)),
    ActionId.STOP: ActionSpec("Stop reply", ("Esc",), window_wide=True),
    ActionId.SHORTCUTS: ActionSpec(
        "&Keyboard shortcuts", ("Ctrl+/", QKeySequence.StandardKey.HelpContents)
    ),
    ActionId.DEBUG_INFO: ActionSpec("Copy &debug info"),
    ActionId.ABOUT: ActionSpec(f"&About {APP_NAME}", (), QAction.MenuRole.AboutRole),
}

SEPARATOR = None
SERVER_MENU = "server"
"""Where the File menu holds the Server submenu (a feature's own QMenu)."""

MenuItem = ActionId | str | None
MENUS: list[tuple[str, list[MenuItem]]] = [
    (
        "&File",
        [
            ActionId.ATTACH,
            ActionId.CAPTURE,
            ActionId.SWITCH_AGENT,
            ActionId.NEW_CONVERSATION,
            ActionId.CONNECTION,
            SERVER_MENU,
            ActionId.RELOAD,
            ActionId.SETTINGS,
            SEPARATOR,
            ActionId.QUIT,
        ],
    ),
    ("&Edit", [ActionId.PASTE]),
    ("&Help", [ActionId.SHORTCUTS, ActionId.DEBUG_INFO, SEPARATOR, ActionId.ABOUT]),
]


def key_sequences(keys: tuple[Key, ...]) -> list[QKeySequence]:
    """The given keys (standard keys expand to the platform's bindings), without duplicates."""
    out: list[QKeySequence] = []
    for key in keys:
        if isinstance(key, QKeySequence.StandardKey):
            seqs = QKeySequence.keyBindings(key)
        else:
            seqs = [QKeySequence(key)]
        out += [s for s in seqs if not s.isEmpty() and s not in out]
    return out


class Actions(dict[ActionId, QAction]):
    """Every command of the window, made once from SPECS."""

    def __init__(self, owner: QWidget):
        super().__init__()
        for action_id, spec in SPECS.items():
            action = QAction(spec.text, owner)
            action.setShortcuts(key_sequences(spec.keys))
            action.setMenuRole(spec.role)
            if spec.window_wide:
                action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            self[action_id] = action

    def build_menus(self, bar: QMenuBar, submenus: dict[str, QMenu], window: QWidget) -> None:
        """The menu bar from MENUS; actions in no menu still get their keys on `window`."""
        placed: set[ActionId] = set()
        for title, items in MENUS:
            menu = bar.addMenu(title)
            for item in items:
                if item is SEPARATOR:
                    menu.addSeparator()
                elif isinstance(item, ActionId):
                    menu.addAction(self[item])
                    placed.add(item)
                else:
                    menu.addMenu(submenus[item])
        for action_id, action in self.items():
            if action_id not in placed:
                window.addAction(action)

    def connect(self, action_id: ActionId, slot: object) -> None:
        self[action_id].triggered.connect(lambda _checked=False: slot())  # type: ignore[operator]
