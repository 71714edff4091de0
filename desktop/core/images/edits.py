"""What the user did to an image before sending it: a crop and solid boxes over private parts.

An `Edit` is kept in the source image's pixel coordinates, upright (EXIF orientation applied):
what the editor showed. The pipeline applies it to the decoded, oriented pixels before fitting,
so a crop keeps every source pixel the limits allow, and a box replaces the pixels under it
before any resampling or encoding: nothing under a box can be recovered from what is sent.
Boxes are filled with opaque black, never blurred (a blur can be undone).

Plain data and geometry only; `apply_edit` works on a Pillow image without importing Pillow,
so the attachment type can carry an Edit without loading Pillow at start-up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PIL import Image

FILL = 0
"""The redaction colour, per channel: black."""
MAX_BOXES = 500
"""More boxes than anyone draws by hand; a draft file asking for more is refused."""
MAX_COORDINATE = 1 << 20


@dataclass(frozen=True)
class Rect:
    """A rectangle of whole pixels: left, top, width, height."""

    x: int
    y: int
    w: int
    h: int

    @property
    def right(self) -> int:
        return self.x + self.w

    @property
    def bottom(self) -> int:
        return self.y + self.h

    @property
    def empty(self) -> bool:
        return self.w <= 0 or self.h <= 0

    def intersected(self, other: Rect) -> Rect:
        x, y = max(self.x, other.x), max(self.y, other.y)
        right, bottom = min(self.right, other.right), min(self.bottom, other.bottom)
        return Rect(x, y, max(0, right - x), max(0, bottom - y))

    def clamped(self, width: int, height: int) -> Rect:
        """This rectangle inside a ``width``×``height`` image (possibly empty)."""
        return self.intersected(Rect(0, 0, width, height))

    def moved_inside(self, width: int, height: int) -> Rect:
        """Shifted (not shrunk, unless it is larger than the image) to lie inside it."""
        w, h = min(self.w, width), min(self.h, height)
        x = min(max(0, self.x), width - w)
        y = min(max(0, self.y), height - h)
        return Rect(x, y, w, h)

    @classmethod
    def from_corners(cls, x0: int, y0: int, x1: int, y1: int) -> Rect:
        """The rectangle between two corners given in any order."""
        return cls(min(x0, x1), min(y0, y1), abs(x1 - x0), abs(y1 - y0))

    def to_json(self) -> list[int]:
        return [self.x, self.y, self.w, self.h]

    @classmethod
    def from_json(cls, data: Any) -> Rect | None:
        if not isinstance(data, list) or len(data) != 4:
            return None
        if not all(type(v) is int and 0 <= v <= MAX_COORDINATE for v in data):
            return None
        rect = cls(*data)
        return None if rect.empty else rect


@dataclass(frozen=True)
class Edit:
    """A crop (None: the whole image) and boxes to fill, in ``source`` pixels (upright).

    ``source`` is the size the coordinates refer to. Applied to pixels of another size (a JPEG
    decoded at a reduced scale, an SVG drawn at another size) they are scaled, boxes outward."""

    source: tuple[int, int]
    crop: Rect | None = None
    boxes: tuple[Rect, ...] = field(default=())

    # -- reading ------------------------------------------------------------------------------

    @property
    def identity(self) -> bool:
        """Changes nothing (no crop short of the whole image, no box)."""
        return self.crop_rect == self.full and not self.boxes

    @property
    def full(self) -> Rect:
        return Rect(0, 0, *self.source)

    @property
    def crop_rect(self) -> Rect:
        """The part that is kept (the whole image when there is no crop)."""
        return self.crop.clamped(*self.source) if self.crop is not None else self.full

    @property
    def cropped(self) -> bool:
        return self.crop_rect != self.full

    def visible_boxes(self) -> list[Rect]:
        """The boxes that cover something of the kept part."""
        keep = self.crop_rect
        return [b for b in self.boxes if not b.intersected(keep).empty]

    def size(self) -> tuple[int, int]:
        """The size of the edited image, in source pixels (before fitting to the limits)."""
        rect = self.crop_rect
        return rect.w, rect.h

    def describe(self) -> str:
        """What was done, for the chip's summary: ``cropped, 2 areas blacked out``."""
        words = []
        if self.cropped:
            words.append("cropped")
        n = len(self.visible_boxes())
        if n:
            words.append(f"{n} area{'s' if n != 1 else ''} blacked out")
        return ", ".join(words)

    # -- changing (each returns a new Edit) ---------------------------------------------------

    def with_crop(self, rect: Rect | None) -> Edit:
        if rect is not None:
            rect = rect.clamped(*self.source)
            if rect.empty or rect == self.full:
                rect = None
        return replace(self, crop=rect)

    def with_box(self, rect: Rect) -> Edit:
        rect = rect.clamped(*self.source)
        if rect.empty or len(self.boxes) >= MAX_BOXES:
            return self
        return replace(self, boxes=(*self.boxes, rect))

    def normalized(self) -> Edit | None:
        """None when this changes nothing, else itself."""
        return None if self.identity else self

    # -- storing ------------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"source": list(self.source)}
        if self.crop is not None:
            out["crop"] = self.crop.to_json()
        if self.boxes:
            out["boxes"] = [b.to_json() for b in self.boxes]
        return out

    @classmethod
    def from_json(cls, data: Any) -> Edit | None:
        """An Edit from a draft file, or None when the data is not one (never raises)."""
        if not isinstance(data, dict):
            return None
        source = data.get("source")
        if (
            not isinstance(source, list)
            or len(source) != 2
            or not all(type(v) is int and 0 < v <= MAX_COORDINATE for v in source)
        ):
            return None
        crop = None
        if data.get("crop") is not None:
            crop = Rect.from_json(data["crop"])
            if crop is None:
                return None
        raw_boxes = data.get("boxes") or []
        if not isinstance(raw_boxes, list) or len(raw_boxes) > MAX_BOXES:
            return None
        boxes = [Rect.from_json(b) for b in raw_boxes]
        if any(b is None for b in boxes):
            return None  # a box that cannot be read must not be dropped silently
        return cls((source[0], source[1]), crop, tuple(b for b in boxes if b is not None))


# -- applying ---------------------------------------------------------------------------------


def _scaled_out(rect: Rect, sx: float, sy: float, width: int, height: int) -> Rect:
    """`rect` in pixels scaled by (sx, sy), grown to whole pixels: it covers at least as much."""
    x0, y0 = math.floor(rect.x * sx), math.floor(rect.y * sy)
    x1, y1 = math.ceil(rect.right * sx), math.ceil(rect.bottom * sy)
    return Rect(x0, y0, x1 - x0, y1 - y0).clamped(width, height)


def _scaled_round(rect: Rect, sx: float, sy: float, width: int, height: int) -> Rect:
    x0, y0 = round(rect.x * sx), round(rect.y * sy)
    x1, y1 = round(rect.right * sx), round(rect.bottom * sy)
    return Rect(x0, y0, max(1, x1 - x0), max(1, y1 - y0)).clamped(width, height)


def fill_for(mode: str) -> int | tuple[int, ...]:
    """Opaque black in an image mode (alpha, where there is one, made fully opaque)."""
    if mode in ("L", "1", "P", "I", "F"):
        return FILL
    if mode == "LA":
        return (FILL, 255)
    if mode == "RGBA":
        return (FILL, FILL, FILL, 255)
    if mode == "CMYK":
        return (0, 0, 0, 255)
    return (FILL, FILL, FILL)


def apply_edit(im: Image.Image, edit: Edit, *, in_place: bool = False) -> Image.Image:
    """The upright image `im` with the boxes filled and the crop taken.

    `im` may be another size than ``edit.source`` (a reduced decode): the coordinates are
    scaled, each box grown to whole pixels so that it never covers less. The boxes are filled
    before cropping, on a copy unless `in_place` (an 8K image is ~130 MB a copy)."""
    width, height = im.size
    sx, sy = width / edit.source[0], height / edit.source[1]
    boxes = [_scaled_out(b, sx, sy, width, height) for b in edit.visible_boxes()]
    boxes = [b for b in boxes if not b.empty]
    if boxes:
        im = im if in_place else im.copy()
        fill = fill_for(im.mode)
        for box in boxes:
            im.paste(fill, (box.x, box.y, box.right, box.bottom))
    if edit.cropped:
        keep = _scaled_round(edit.crop_rect, sx, sy, width, height)
        if not keep.empty and (keep.w, keep.h) != (width, height):
            im = im.crop((keep.x, keep.y, keep.right, keep.bottom))
    return im


def crop_fraction(edit: Edit | None) -> tuple[float, float]:
    """The kept part's width and height as fractions of the source (1, 1: no crop)."""
    if edit is None or not edit.cropped:
        return 1.0, 1.0
    w, h = edit.size()
    return w / edit.source[0], h / edit.source[1]


# -- an editing session: the current edit, undo and redo ---------------------------------------


class EditHistory:
    """The editor's states: every change is a step that Undo takes back and Redo repeats."""

    def __init__(self, start: Edit):
        self._states: list[Edit] = [start]
        self._at = 0

    @property
    def current(self) -> Edit:
        return self._states[self._at]

    @property
    def initial(self) -> Edit:
        return self._states[0]

    def push(self, edit: Edit) -> bool:
        """Make `edit` current (forgetting what Redo would have repeated); False if no change."""
        if edit == self.current:
            return False
        del self._states[self._at + 1 :]
        self._states.append(edit)
        self._at += 1
        return True

    @property
    def can_undo(self) -> bool:
        return self._at > 0

    @property
    def can_redo(self) -> bool:
        return self._at < len(self._states) - 1

    def undo(self) -> bool:
        if not self.can_undo:
            return False
        self._at -= 1
        return True

    def redo(self) -> bool:
        if not self.can_redo:
            return False
        self._at += 1
        return True
