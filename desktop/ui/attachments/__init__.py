"""Attachments in the UI: reading pastes and drops, preparing on workers, the pending strip."""

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
    "has_attachment",
    "read_mime",
]
