"""Attachments in the UI: reading pastes and drops, preparing on workers, the pending strip."""

from desktop.ui.attachments import clipboard_fallback
from desktop.ui.attachments.controller import AttachmentController, Outgoing
from desktop.ui.attachments.mime import MimeRead, Source, has_attachment, read_mime
from desktop.ui.attachments.strip import AttachmentStrip, Chip

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
