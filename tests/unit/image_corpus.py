"""A hostile and ordinary image corpus, generated on the fly (no downloads).

``build_corpus(folder)`` writes every item into ``folder`` and returns ``{name: Item}``; each
item says what the pipeline should do with it: ``ok`` (prepare it) or the ``reason`` code of the
rejection. Everything is small and fast to make except ``screenshot_5k.png`` (the one realistic
big input). The 2 GB sparse file takes no disk space and must never be read.
"""

from __future__ import annotations

import io
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, PngImagePlugin

EXIF_ORIENTATION = 0x0112
EXIF_GPS_IFD = 0x8825
SPARSE_SIZE = 2 * 1024**3


@dataclass(frozen=True)
class Item:
    path: Path
    reason: str | None = None
    """None: the pipeline must prepare it; otherwise the ImageRejected.reason expected."""
    note: str = ""


# --- pictures ---------------------------------------------------------------------------------


def photo(size: tuple[int, int] = (1200, 900), seed: int = 7) -> Image.Image:
    """Camera-like content: smooth gradients plus sensor noise (thousands of colours)."""
    w, h = size
    gradient = Image.linear_gradient("L").resize((w, h))
    base = Image.merge(
        "RGB",
        (
            gradient,
            gradient.transpose(Image.Transpose.ROTATE_180),
            Image.radial_gradient("L").resize((w, h)),
        ),
    )
    noise = Image.frombytes("RGB", (w, h), _noise_bytes(w * h * 3, seed))
    noise = noise.filter(ImageFilter.GaussianBlur(1.2))
    return Image.blend(base, noise, 0.35)


def _noise_bytes(n: int, seed: int) -> bytes:
    # Deterministic and fast: a repeating PRNG block is fine for "looks like a photo".
    block = bytes((i * 1103515245 + seed * 12345 >> 7) & 0xFF for i in range(65521))
    reps = n // len(block) + 1
    return (block * reps)[:n]


def screenshot(size: tuple[int, int] = (5120, 2880)) -> Image.Image:
    """An IDE-like screenshot: flat panels, lots of small anti-aliased text, a few shapes."""
    w, h = size
    im = Image.new("RGB", size, (246, 246, 248))
    d = ImageDraw.Draw(im)
    d.rectangle((0, 0, w, h // 24), fill=(40, 44, 52))
    d.rectangle((0, h // 24, w // 6, h), fill=(33, 37, 43))
    for y in range(h // 24 + 20, h, 36):
        d.text((20, y), f"sidebar item {y}", fill=(200, 200, 200), font_size=24)
    for y in range(h // 24 + 40, h, 28):
        d.text(
            (w // 6 + 60, y),
            f"def function_{y}(x): return x * {y}  # the quick brown fox jumps over it",
            fill=(20, 20, 20),
            font_size=20,
        )
    for x in range(w // 2, w - 200, 300):
        d.ellipse((x, 400, x + 200, 600), fill=(x % 255, 120, 200))
        d.line((x, 700, x + 250, 1200), fill=(200, 50, 50), width=3)
    return im


def quadrant_marker(size: tuple[int, int] = (200, 100)) -> Image.Image:
    """White image with a red block in the stored top-left corner (to check orientation)."""
    im = Image.new("RGB", size, (255, 255, 255))
    ImageDraw.Draw(im).rectangle((0, 0, size[0] // 4, size[1] // 4), fill=(255, 0, 0))
    return im


def encoded(im: Image.Image, fmt: str, **params) -> bytes:
    """The image saved as `fmt`, in memory."""
    out = io.BytesIO()
    im.save(out, fmt, **params)
    return out.getvalue()


def reopened(data: bytes) -> Image.Image:
    """Encoded bytes opened and decoded, to look at what a file holds."""
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


def _save(im: Image.Image, path: Path, fmt: str, **params) -> Path:
    im.save(path, fmt, **params)
    return path


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def png_bomb(width: int, height: int) -> bytes:
    """A PNG whose header claims width×height greyscale pixels, with a few rows of data."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = zlib.compress(b"\x00" * (width + 1) * 4, 9)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", rows)
        + _png_chunk(b"IEND", b"")
    )


def png_with_huge_iccp(im: Image.Image) -> bytes:
    """A valid PNG plus an iCCP chunk that inflates to 16 MB (Pillow refuses > 1 MB)."""
    buf = io.BytesIO()
    im.save(buf, "PNG")
    data = buf.getvalue()
    profile = zlib.compress(b"\x00" * (16 * 1024 * 1024), 9)
    iccp = _png_chunk(b"iCCP", b"bogus\x00\x00" + profile)
    text = _png_chunk(b"tEXt", b"Comment\x00" + b"secret " * 1000)
    ihdr_end = 8 + 12 + 13
    return data[:ihdr_end] + iccp + text + data[ihdr_end:]


def _s15(v: float) -> bytes:
    return struct.pack(">i", round(v * 65536))


def _icc_profile(kind: bytes, name: bytes, tags: list[tuple[bytes, bytes]]) -> bytes:
    """An ICC v2 profile: `kind` is the class and colour spaces (b"mntrRGB XYZ "), then a
    description, the D50 white point, `tags` and a copyright."""
    white = (0.9642, 1.0, 0.8249)
    name += b"\x00"
    desc = (
        b"desc\x00\x00\x00\x00"
        + struct.pack(">I", len(name))
        + name
        + b"\x00" * 8  # unicode language + count
        + b"\x00" * 3  # scriptcode code + count
        + b"\x00" * 67
    )
    tags = [
        (b"desc", desc),
        (b"wtpt", b"XYZ \x00\x00\x00\x00" + b"".join(_s15(c) for c in white)),
        *tags,
        (b"cprt", b"text\x00\x00\x00\x00public domain\x00\x00\x00"),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, body = [], b""
    for sig, payload in tags:
        while len(payload) % 4:
            payload += b"\x00"
        table.append(sig + struct.pack(">II", offset + len(body), len(payload)))
        body += payload
    size = offset + len(body)
    header = (
        struct.pack(">I", size)
        + b"lcms"
        + struct.pack(">I", 0x02100000)
        + kind
        + struct.pack(">6H", 2026, 1, 1, 0, 0, 0)
        + b"acsp"
        + b"APPL"
        + b"\x00" * 4  # flags
        + b"\x00" * 8  # manufacturer, model
        + b"\x00" * 8  # attributes
        + struct.pack(">I", 0)  # intent
        + b"".join(_s15(c) for c in white)
        + b"lcms"
        + b"\x00" * 44
    )
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + b"".join(table) + body


def swapped_rgb_icc() -> bytes:
    """A tiny ICC v2 display profile with sRGB's red and blue primaries swapped.

    An image tagged with it that stores (255, 0, 0) really means blue, so a pipeline that
    honours the profile turns it into sRGB blue.
    """
    red = (0.4360747, 0.2225045, 0.0139322)
    green = (0.3850649, 0.7168786, 0.0971045)
    blue = (0.1430804, 0.0606169, 0.7141733)

    def xyz(v):
        return b"XYZ \x00\x00\x00\x00" + b"".join(_s15(c) for c in v)

    curve = b"curv\x00\x00\x00\x00" + struct.pack(">IH", 1, 0x0233) + b"\x00\x00"  # gamma 2.2
    tags = [
        (b"rXYZ", xyz(blue)),  # swapped
        (b"gXYZ", xyz(green)),
        (b"bXYZ", xyz(red)),  # swapped
        (b"rTRC", curve),
        (b"gTRC", curve),
        (b"bTRC", curve),
    ]
    return _icc_profile(b"mntrRGB XYZ ", b"Swapped RGB test profile", tags)


def green_ink_cmyk_icc() -> bytes:
    """An ICC v2 CMYK printer profile whose table maps every mix of inks to one dark green.

    A CMYK image tagged with it is green once the profile is honoured; read without it, no ink
    is white."""
    ramp = bytes(range(256))
    identity = b"".join(_s15(v) for v in (1, 0, 0, 0, 1, 0, 0, 0, 1))
    clut = bytes([128, 68, 168]) * 16  # 2 grid points per ink: 16 entries of L*, a*, b*
    a2b0 = b"mft1\x00\x00\x00\x00" + bytes([4, 3, 2, 0]) + identity + ramp * 4 + clut + ramp * 3
    return _icc_profile(b"prtrCMYKLab ", b"Green ink test profile", [(b"A2B0", a2b0)])


def exif_rotated_jpeg() -> bytes:
    """200×100 JPEG, orientation 6, with GPS, XMP and a comment (all must be dropped)."""
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = 6
    exif[0x010F] = "TestCam"  # Make
    exif[EXIF_GPS_IFD] = {1: "N", 2: (52.0, 22.0, 1.5), 3: "E", 4: (4.0, 53.0, 2.5)}
    xmp = (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/'
        b'02/22-rdf-syntax-ns#"><rdf:Description about="" xmlns:dc="http://purl.org/dc/'
        b'elements/1.1/" dc:creator="Secret Person"/></rdf:RDF></x:xmpmeta>'
    )
    buf = io.BytesIO()
    quadrant_marker().save(
        buf, "JPEG", quality=95, exif=exif.tobytes(), xmp=xmp, comment=b"secret comment"
    )
    return buf.getvalue()


# --- the corpus ---------------------------------------------------------------------------------


def heif_can_encode() -> bool:
    try:
        import pillow_heif

        return bool(pillow_heif.libheif_info().get("HEIF"))
    except Exception:
        return False


def build_corpus(folder: Path, *, include_big: bool = True) -> dict[str, Item]:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    items: dict[str, Item] = {}

    def add(name: str, data: bytes | None = None, reason: str | None = None, note: str = ""):
        path = folder / name
        if data is not None:
            path.write_bytes(data)
        items[name] = Item(path, reason, note)
        return path

    def encoded(im: Image.Image, fmt: str, **params) -> bytes:
        buf = io.BytesIO()
        im.save(buf, fmt, **params)
        return buf.getvalue()

    pic = photo()
    small = photo((320, 240), seed=3)
    shot = screenshot((1600, 900))
    add("photo.jpg", encoded(pic, "JPEG", quality=92))
    add("photo_big.png", encoded(photo((2400, 1600), seed=5), "PNG"), note="photo in a PNG")
    add("ui.png", encoded(shot, "PNG"))
    add("ui_rgba_opaque.png", encoded(shot.convert("RGBA"), "PNG"))
    add("photo.webp", encoded(small, "WEBP", quality=80))
    logo = Image.new("RGBA", (300, 200), (0, 0, 0, 0))
    ImageDraw.Draw(logo).ellipse((20, 20, 280, 180), fill=(30, 120, 220, 255))
    add("logo_alpha.webp", encoded(logo, "WEBP", lossless=True))
    add("logo_alpha.png", encoded(logo, "PNG"))
    add("photo.bmp", encoded(small, "BMP"))
    add("photo.tiff", encoded(small, "TIFF", compression="tiff_lzw"))
    add("icon.ico", encoded(logo, "ICO", sizes=[(64, 64)]))
    if heif_can_encode():
        import pillow_heif

        pillow_heif.register_heif_opener()
        add("photo.heic", encoded(small, "HEIF", quality=80))
    add(
        "drawing.svg",
        b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="300" '
        b'height="150"><rect width="150" height="150" fill="#ff0000"/>'
        b'<circle cx="225" cy="75" r="60" fill="#0000ff"/></svg>',
        reason="svg_unavailable",
        note="prepared when a rasteriser is registered",
    )
    add("exif_rotated.jpg", exif_rotated_jpeg())
    add("cmyk.jpg", encoded(small.convert("CMYK"), "JPEG", quality=90))
    ramp = Image.linear_gradient("L").transpose(
        Image.Transpose.ROTATE_90
    )  # dark → light, left → right
    gray16 = ramp.resize((256, 64)).convert("I")
    gray16 = gray16.point(lambda v: v * 257).convert("I;16")
    add("gray16.png", encoded(gray16, "PNG"))
    pal = Image.new("P", (120, 80), 0)
    pal.putpalette([255, 255, 255, 200, 30, 30, 30, 30, 200] + [0] * (256 * 3 - 9))
    ImageDraw.Draw(pal).rectangle((10, 10, 60, 60), fill=1)
    ImageDraw.Draw(pal).rectangle((70, 10, 110, 60), fill=2)
    add("palette_alpha.png", encoded(pal, "PNG", transparency=0))
    add("gray_alpha.png", encoded(Image.merge("LA", (gray16.convert("L"),) * 2), "PNG"))
    add("bilevel.png", encoded(shot.convert("1"), "PNG"))
    frames = [Image.new("RGB", (96, 64), c) for c in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    add("animated.gif", encoded(frames[0], "GIF", save_all=True, append_images=frames[1:]))
    many = [Image.new("P", (64, 64), i % 200) for i in range(300)]
    add(
        "many_frames.gif",
        encoded(many[0], "GIF", save_all=True, append_images=many[1:], duration=20),
    )
    icc_tagged = Image.new("RGB", (64, 64), (255, 0, 0))
    add("swapped_icc.png", encoded(icc_tagged, "PNG", icc_profile=swapped_rgb_icc()))
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "secret text chunk")
    info.add_itxt("XML:com.adobe.xmp", "<x:xmpmeta>secret</x:xmpmeta>", zip=True)
    add("text_chunks.png", encoded(small, "PNG", pnginfo=info))
    add("huge_iccp.png", png_with_huge_iccp(small), note="metadata bomb; pixels are fine")

    # Lies, damage and hostility.
    add("png_named.jpg", encoded(small, "PNG"), note="wrong extension, real PNG")
    add("pdf_named.png", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\n", "not_image")
    add("notes.png", b"just some text, not a picture\n" * 20, "not_image")
    add("random.bin", bytes(range(256)) * 8, "not_image")
    add("empty.png", b"", "empty")
    whole_png = encoded(shot, "PNG")
    add("truncated.png", whole_png[: len(whole_png) // 2], "damaged")
    whole_jpg = encoded(pic, "JPEG", quality=90)
    add("truncated.jpg", whole_jpg[: len(whole_jpg) // 3], "damaged")
    add("header_only.png", whole_png[:40], "damaged")
    add("bomb_40000.png", png_bomb(40000, 40000), "too_many_pixels", "1.6 gigapixels")
    add("bomb_64mp.png", png_bomb(8000, 8000), "too_many_pixels", "over our 50 MP cap")
    sparse = add("sparse_2gb.png", None, "file_too_large", "2 GB sparse, never read")
    with open(sparse, "wb") as fh:
        fh.truncate(SPARSE_SIZE)
    (folder / "a_folder.png").mkdir(exist_ok=True)
    add("a_folder.png", None, "is_folder")
    items["missing.png"] = Item(folder / "missing.png", "not_found")

    if include_big:
        add("screenshot_5k.png", encoded(screenshot(), "PNG"))
    return items


if __name__ == "__main__":  # python tests/unit/image_corpus.py OUT_DIR
    import sys

    out = Path(sys.argv[1] if len(sys.argv) > 1 else "image-corpus")
    for name, item in build_corpus(out).items():
        size = os.stat(item.path).st_size if item.path.is_file() else "-"
        print(f"{name:24} {size!s:>12}  {item.reason or 'ok'}  {item.note}")
