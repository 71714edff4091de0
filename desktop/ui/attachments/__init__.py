"""Attachments in the UI: reading pastes and drops, preparing on workers, the pending strip."""

from . import clipboard_fallback
from .controller import AttachmentController, Outgoing
from .mime import MimeRead, Source, has_attachment, read_mime
from .strip import AttachmentStrip, Chip

__all__ = [
    "AttachmentController",
    "AttachmentStrip",
    "Chip",
    "MimeRead",
    "Outgoing",
    "Source",
    "clipboard_fallback",
    "has_attachment",
    "read_mime",
]
