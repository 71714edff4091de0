"""Make every app icon from the one source image, resources/icons/letta-desktop.svg.

    python build/make_icons.py [--out build/out/icons]

QtSvg renders the SVG offscreen at each size (no downscaling of a big raster: small sizes stay
crisp); Pillow then writes the Windows .ico and the macOS .icns from those PNGs. Output (all
generated, gitignored):

    build/out/icons/hicolor/<n>x<n>/apps/letta-desktop.png   n = 16 24 32 48 64 128 256 512
    build/out/icons/hicolor/scalable/apps/letta-desktop.svg
    build/out/icons/letta-desktop.ico                         16 24 32 48 64 128 256
    build/out/icons/letta-desktop.icns                        16 … 1024 (incl. @2x)
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "resources" / "icons" / "letta-desktop.svg"
NAME = "letta-desktop"
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
ICNS_SIZES = (16, 32, 64, 128, 256, 512, 1024)


def render(svg: bytes, size: int) -> bytes:
    """The SVG drawn into a size×size transparent square, as PNG bytes."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF, Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(QByteArray(svg))
    if not renderer.isValid():
        raise SystemExit(f"{SOURCE} is not a valid SVG")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    buffer.close()
    return bytes(data.data())


def make_icons(out: Path) -> dict[str, Path]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PIL import Image
    from PySide6.QtGui import QGuiApplication

    _app = QGuiApplication.instance() or QGuiApplication([sys.argv[0]])
    svg = SOURCE.read_bytes()
    sizes = sorted(set(PNG_SIZES) | set(ICO_SIZES) | set(ICNS_SIZES))
    rendered = {n: render(svg, n) for n in sizes}
    images = {n: Image.open(io.BytesIO(data)).convert("RGBA") for n, data in rendered.items()}

    made: dict[str, Path] = {}
    for n in PNG_SIZES:
        path = out / "hicolor" / f"{n}x{n}" / "apps" / f"{NAME}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(rendered[n])
        made[f"png{n}"] = path
    scalable = out / "hicolor" / "scalable" / "apps" / f"{NAME}.svg"
    scalable.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(SOURCE, scalable)
    made["svg"] = scalable

    # .ico: Pillow stores one entry per requested size; give it each rendered size directly.
    ico = out / f"{NAME}.ico"
    biggest = images[max(ICO_SIZES)]
    biggest.save(
        ico,
        format="ICO",
        sizes=[(n, n) for n in ICO_SIZES],
        append_images=[images[n] for n in ICO_SIZES if n != max(ICO_SIZES)],
    )
    made["ico"] = ico
    # .icns: Pillow picks the exact-size images from append_images for each icns slot.
    icns = out / f"{NAME}.icns"
    images[1024].save(
        icns, format="ICNS", append_images=[images[n] for n in ICNS_SIZES if n != 1024]
    )
    made["icns"] = icns
    return made


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "out" / "icons")
    args = parser.parse_args()
    made = make_icons(args.out)
    for key, path in made.items():
        print(f"{key:6} {path} ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
