"""Make untrusted SVG safe to hand to a renderer: bounded, self-contained, re-serialised.

The renderer (Qt) has no limits of its own: 2 KB of nested ``<use>`` took it 10 s (each extra
level ×10), ``data:`` PNGs of 8000×8000 cost ~245 MB each, and ``<image href="/home/me/x.png">``
drew a local file into the picture that is sent. So before anything is drawn:

- no DOCTYPE (hence no entities), no more than ``MAX_ELEMENTS`` elements, ``MAX_DEPTH`` levels;
- the tree as drawn, with every ``<use>`` expanded, stays under ``MAX_EXPANDED``;
- every ``href`` is a ``#fragment`` or, on ``<image>``, a base64 ``data:`` raster whose header
  says it is small enough (each and all together); every other reference — a path, a URL, a
  ``url(…)`` in a style that is not ``#…`` — refuses the whole file;
- the renderer gets our own serialisation of the parsed tree (SVG and xlink names only, no
  comments or processing instructions), never the original bytes, so it cannot read anything
  the checks did not see.

Qt-free; Pillow is imported only when an embedded raster has to be measured.
"""

from __future__ import annotations

import base64
import binascii
import re
from xml.etree import ElementTree as ET
from xml.parsers import expat
from xml.sax.saxutils import escape, quoteattr

from desktop.core.images import errors
from desktop.core.images.errors import ImageRejected
from desktop.core.images.sniff import sniff_media_type

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
XML_NS = "http://www.w3.org/XML/1998/namespace"

MAX_SVG_BYTES = 20_000_000
MAX_ELEMENTS = 20_000
MAX_DEPTH = 200
MAX_EXPANDED = 50_000
"""Elements drawn once every <use> is expanded. Qt draws ~1 M use-expanded rects per second
here; 50 k keeps a legal-looking SVG well under a second."""
MAX_EMBEDDED_IMAGES = 16
MAX_EMBEDDED_PIXELS = 16_000_000
"""Per data: image (4000×4000): Qt decodes each one whole, 4 bytes a pixel."""
MAX_EMBEDDED_TOTAL_PIXELS = 32_000_000
# The tag of the stand-in for an id defined more than once: with a space, it is no XML name,
# so no parsed element has it.
_DUPLICATES = "duplicate ids"

_DATA_IMAGE = re.compile(r"data:image/[a-z+.-]+(;[a-z-]+=[^;,]*)*;base64,", re.IGNORECASE)
_URL_REF = re.compile(r"url\(\s*['\"]?\s*([^)'\"\s]*)", re.IGNORECASE)
_EMBEDDED_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp"}


def _refuse(message: str) -> ImageRejected:
    return ImageRejected(errors.UNSAFE_SVG, message)


class _TooBig(Exception):
    pass


def _no_doctype(*_args: object) -> None:
    raise _refuse("The SVG image declares a DOCTYPE, which is not allowed.")


def _qualified(name: str) -> str:
    uri, sep, local = name.rpartition(" ")  # expat's "uri local" (namespace_separator=" ")
    return f"{{{uri}}}{local}" if sep else name


def _parse(data: bytes) -> ET.Element:
    """Expat straight into a TreeBuilder, counting as it goes: a bomb stops at the cap."""
    builder = ET.TreeBuilder()
    depth = count = 0

    def start(name: str, attrs: dict[str, str]) -> None:
        nonlocal depth, count
        count += 1
        depth += 1
        if count > MAX_ELEMENTS or depth > MAX_DEPTH:
            raise _TooBig
        builder.start(_qualified(name), {_qualified(k): v for k, v in attrs.items()})

    def end(name: str) -> None:
        nonlocal depth
        depth -= 1
        builder.end(_qualified(name))

    parser = expat.ParserCreate(namespace_separator=" ")
    parser.buffer_text = True
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = _no_doctype
    parser.EntityDeclHandler = _no_doctype
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = builder.data
    try:
        for pos in range(0, len(data), 65536):  # chunks: other threads get the GIL between
            parser.Parse(data[pos : pos + 65536], False)
        parser.Parse(b"", True)
        return builder.close()
    except _TooBig:
        raise _refuse(
            f"The SVG image has too many elements or is nested too deeply (the limits are "
            f"{MAX_ELEMENTS:,} elements, {MAX_DEPTH} levels)."
        ) from None
    except (expat.ExpatError, AssertionError, IndexError):  # broken XML; close() with no root
        raise ImageRejected(errors.DAMAGED, "The SVG image is damaged or can't be drawn.") from None


def _local(name: str) -> tuple[str, str]:
    if name.startswith("{"):
        ns, _, local = name[1:].partition("}")
        return ns, local
    return "", name


def _href(el: ET.Element) -> str | None:
    for key, value in el.attrib.items():
        if _local(key)[1] == "href":
            return value.strip()
    return None


def _check_embedded(value: str, budget: list[int]) -> None:
    """A data: raster on <image>: base64, a format we decode, a header size within the caps."""
    match = _DATA_IMAGE.match(value)
    if not match:
        raise _refuse("The SVG image embeds data that is not a base64 PNG, JPEG, GIF or WebP.")
    budget[0] += 1
    if budget[0] > MAX_EMBEDDED_IMAGES:
        raise _refuse(f"The SVG image embeds more than {MAX_EMBEDDED_IMAGES} images.")
    try:
        raw = base64.b64decode("".join(value[match.end() :].split()), validate=True)
    except (binascii.Error, ValueError):
        raise _refuse("The SVG image embeds an image whose data is damaged.") from None
    media_type = sniff_media_type(raw)
    if media_type not in _EMBEDDED_TYPES:
        raise _refuse("The SVG image embeds data that is not a PNG, JPEG, GIF or WebP image.")
    from desktop.core.images.guard import header_size  # Pillow, on first need

    try:
        width, height = header_size(raw, media_type, MAX_EMBEDDED_PIXELS)
    except ImageRejected as exc:
        inner = exc.message.removeprefix("The image is ")
        raise ImageRejected(exc.reason, f"The SVG image embeds an image {inner}") from None
    budget[1] += width * height
    if budget[1] > MAX_EMBEDDED_TOTAL_PIXELS:
        raise _refuse("The images embedded in the SVG are too large together to draw safely.")


def _check_styles(el: ET.Element) -> None:
    texts = list(el.attrib.values())
    if _local(el.tag)[1] == "style" and el.text:
        texts.append(el.text)
    for text in texts:
        if "@import" in text.lower():
            raise _refuse("The SVG image imports a style sheet from elsewhere.")
        for target in _URL_REF.findall(text):
            if not target.startswith("#"):
                raise _refuse("The SVG image refers to a file or address outside itself.")


def _check_references(root: ET.Element) -> dict[str, ET.Element]:
    """Refuse outside references; the element each id names.

    Qt takes the earlier or the later of duplicate ids depending on where the <use> is, so an
    id defined more than once names a stand-in holding every definition: a decoy defined first
    cannot hide a bomb, and the definitions are counted once, not once per <use> (N of each
    would be N² steps)."""
    ids: dict[str, ET.Element] = {}
    budget = [0, 0]  # embedded images, their pixels
    for el in root.iter():
        ident = el.get("id")
        if ident:
            known = ids.get(ident)
            if known is None:
                ids[ident] = el
            elif known.tag == _DUPLICATES:
                known.append(el)
            else:
                stand_in = ids[ident] = ET.Element(_DUPLICATES)
                stand_in.extend((known, el))
        _check_styles(el)
        href = _href(el)
        if href is None or href.startswith("#"):
            continue
        if _local(el.tag)[1] == "image" and href[:5].lower() == "data:":
            _check_embedded(href, budget)
            continue
        raise _refuse("The SVG image refers to a file or address outside itself.")
    return ids


def _expanded_size(root: ET.Element, ids: dict[str, ET.Element]) -> int:
    """Elements drawn with every <use> expanded (iterative: use chains can be long).

    Counts saturate at MAX_EXPANDED + 1, so a 10-level ×10 bomb costs a few steps, not 10¹⁰.
    """
    cap = MAX_EXPANDED + 1

    def deps(el: ET.Element) -> list[ET.Element]:
        out = list(el)
        if _local(el.tag)[1] == "use":
            href = _href(el)
            target = ids.get(href[1:]) if href and href.startswith("#") else None
            if target is not None:
                out.append(target)
        return out

    memo: dict[int, int] = {}
    active: set[int] = set()
    stack: list[tuple[ET.Element, bool]] = [(root, False)]
    while stack:
        el, done = stack.pop()
        key = id(el)
        if done:
            memo[key] = min(cap, 1 + sum(memo[id(d)] for d in deps(el)))
            active.discard(key)
            continue
        if key in memo:
            continue
        active.add(key)
        stack.append((el, True))
        for dep in deps(el):
            if id(dep) in active:
                raise _refuse("The SVG image refers to itself in a loop.")
            if id(dep) not in memo:
                stack.append((dep, False))
    return memo[id(root)]


def _serialise(el: ET.Element, out: list[str], top: bool = False) -> None:
    ns, local = _local(el.tag)
    if ns not in ("", SVG_NS):
        return  # editor metadata (Inkscape, Sodipodi, RDF …): the renderer ignores it anyway
    attrs = []
    if top:
        attrs.append(f' xmlns="{SVG_NS}" xmlns:xlink="{XLINK_NS}"')
    for key, value in el.attrib.items():
        ans, name = _local(key)
        if ans == XLINK_NS:
            name = f"xlink:{name}"
        elif ans == XML_NS:
            name = f"xml:{name}"
        elif ans:
            continue
        attrs.append(f" {name}={quoteattr(value)}")
    out.append(f"<{local}{''.join(attrs)}>")
    if el.text:
        out.append(escape(el.text))
    for child in el:
        _serialise(child, out)
        if child.tail:
            out.append(escape(child.tail))
    out.append(f"</{local}>")


def sanitize_svg(data: bytes) -> bytes:
    """The SVG rebuilt from its parsed tree, or ImageRejected saying what made it unsafe."""
    if len(data) > MAX_SVG_BYTES:
        raise _refuse(f"The SVG image is too large (over {MAX_SVG_BYTES // 1_000_000} MB).")
    root = _parse(data)
    if _local(root.tag) not in (("", "svg"), (SVG_NS, "svg")):
        raise ImageRejected(errors.DAMAGED, "The SVG image is damaged or can't be drawn.")
    ids = _check_references(root)
    if _expanded_size(root, ids) > MAX_EXPANDED:
        raise _refuse(
            f"The SVG image repeats its shapes too often to draw safely (over "
            f"{MAX_EXPANDED:,} once every <use> is expanded)."
        )
    out: list[str] = ['<?xml version="1.0" encoding="UTF-8"?>\n']
    _serialise(root, out, top=True)
    return "".join(out).encode("utf-8")
