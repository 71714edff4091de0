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

from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    from desktop.ui.transcript.delegate import TranscriptDelegate


def __getattr__(name: str) -> Any:
    # The delegate loads with the first row (see TranscriptView._delegate), not with the package.
    if name == "TranscriptDelegate":
        from desktop.ui.transcript.delegate import TranscriptDelegate

        return TranscriptDelegate
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
