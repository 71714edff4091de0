"""The chat transcript: QListView + list model + delegate (no widget per message).

- `TranscriptModel` holds display rows built from core `Message`s, the user's local messages
  and the reply stream (batched: one repaint per changed row every ~40 ms).
- `TranscriptDelegate` paints and measures rows, caching layouts per (row, width, revision).
- `TranscriptView` handles scrolling (stick to bottom, keep position on older pages, ask for
  older pages at the top), clicks (Retry/Edit/Discard, thumbnails, links, folding) and copying.
- `RowKind`, `RowState` and `RowAction` say what a row is, where it stands and what a click
  on it does.
- `ThumbnailCache` decodes history images on workers into a bounded LRU; never fetches URLs.
"""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from desktop.ui.transcript.delegate import TranscriptDelegate
    from desktop.ui.transcript.history_thumbnails import Thumb, ThumbnailCache
    from desktop.ui.transcript.model import (
        CollapsedRole,
        DateRole,
        EntryRole,
        ErrorRole,
        ImagesRole,
        KindRole,
        LevelRole,
        MessageIdRole,
        MessageTypeRole,
        NoteRole,
        OtidRole,
        RevisionRole,
        StateRole,
        TextRole,
        ThumbnailsRole,
        ToolNameRole,
        TranscriptModel,
    )
    from desktop.ui.transcript.rows import RowAction, RowKind, RowState
    from desktop.ui.transcript.view import TranscriptView

# Each name loads its module on first use: the first frame shows only the stand-in
# (placeholder.py), and the delegate loads with the first row (TranscriptView._delegate).
_HOMES = {
    "Thumb": "history_thumbnails",
    "ThumbnailCache": "history_thumbnails",
    "RowAction": "rows",
    "RowKind": "rows",
    "RowState": "rows",
    "TranscriptView": "view",
    "TranscriptDelegate": "delegate",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name, "model" if name.endswith("Role") or name == "TranscriptModel" else "")
    if not home or name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


__all__ = [
    "CollapsedRole",
    "DateRole",
    "EntryRole",
    "ErrorRole",
    "ImagesRole",
    "KindRole",
    "LevelRole",
    "MessageIdRole",
    "MessageTypeRole",
    "NoteRole",
    "OtidRole",
    "RevisionRole",
    "RowAction",
    "RowKind",
    "RowState",
    "StateRole",
    "TextRole",
    "Thumb",
    "ThumbnailCache",
    "ThumbnailsRole",
    "ToolNameRole",
    "TranscriptDelegate",
    "TranscriptModel",
    "TranscriptView",
]
