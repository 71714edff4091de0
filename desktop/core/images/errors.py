"""The one error the image pipeline raises: a rejection the user can read."""

from __future__ import annotations


class ImageRejected(Exception):
    """An image the pipeline will not send, with the reason in plain words.

    ``str(exc)`` is the message to show the user. ``reason`` is a short stable code for code that
    needs to branch (``"empty"``, ``"not_image"``, ``"damaged"``, ``"too_many_pixels"`` …).
    ``filename`` is set when the image came from a file; the message then names it.
    """

    def __init__(self, reason: str, message: str, *, filename: str | None = None) -> None:
        self.reason = reason
        self.message = message
        self.filename = filename
        super().__init__(self.__str__())

    def __str__(self) -> str:
        if self.filename:
            return f"{self.filename}: {self.message}"
        return self.message

    def for_file(self, filename: str) -> ImageRejected:
        """The same rejection, naming the file it came from."""
        return ImageRejected(self.reason, self.message, filename=filename)

    def __reduce__(self):  # keep it picklable across process pools
        return (_rebuild, (self.reason, self.message, self.filename))


def _rebuild(reason: str, message: str, filename: str | None) -> ImageRejected:
    return ImageRejected(reason, message, filename=filename)


# Reason codes, for callers that branch on them.
EMPTY = "empty"
NOT_IMAGE = "not_image"
UNSUPPORTED = "unsupported_format"
DAMAGED = "damaged"
TOO_MANY_PIXELS = "too_many_pixels"
FILE_TOO_LARGE = "file_too_large"
SVG_UNAVAILABLE = "svg_unavailable"
CANNOT_FIT = "cannot_fit"
NO_FORMAT = "no_allowed_format"
NOT_FOUND = "not_found"
IS_FOLDER = "is_folder"
PERMISSION = "permission_denied"
UNREADABLE = "unreadable"
BAD_DATA = "bad_base64"
UNSAFE_SVG = "unsafe_svg"
NOT_A_FILE = "not_a_file"
