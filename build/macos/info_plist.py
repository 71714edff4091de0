"""The macOS Info.plist for Letta Desktop.app, used by app.spec's BUNDLE (darwin only).

PyInstaller fills CFBundleExecutable/Name/PackageType itself; these keys are merged over its
defaults. Document types let Finder's "Open With" hand image files to the app (desktop/app.py
attaches the paths it is given).
"""

from __future__ import annotations

BUNDLE_ID = "com.letta-desktop.app"

# (type name, UTIs, extensions): what the composer can attach.
IMAGE_TYPES = (
    ("PNG image", ["public.png"], ["png"]),
    ("JPEG image", ["public.jpeg"], ["jpg", "jpeg"]),
    ("GIF image", ["com.compuserve.gif"], ["gif"]),
    ("WebP image", ["org.webmproject.webp"], ["webp"]),
    ("HEIC image", ["public.heic", "public.heif"], ["heic", "heif"]),
    ("BMP image", ["com.microsoft.bmp"], ["bmp"]),
    ("TIFF image", ["public.tiff"], ["tif", "tiff"]),
    ("SVG image", ["public.svg-image"], ["svg"]),
)


def info_plist(version: str, name: str = "Letta Desktop") -> dict:
    return {
        "CFBundleIdentifier": BUNDLE_ID,
        "CFBundleName": name,
        "CFBundleDisplayName": name,
        "CFBundleShortVersionString": version,
        "CFBundleVersion": version,
        "CFBundleDevelopmentRegion": "en",
        "LSMinimumSystemVersion": "11.0",
        "LSApplicationCategoryType": "public.app-category.social-networking",
        "NSHighResolutionCapable": True,
        "NSRequiresAquaSystemAppearance": False,  # follow the system's dark mode
        "NSHumanReadableCopyright": "Apache-2.0",
        "CFBundleDocumentTypes": [
            {
                "CFBundleTypeName": type_name,
                "CFBundleTypeRole": "Viewer",
                "LSHandlerRank": "Alternate",  # offered in "Open With", never the default
                "LSItemContentTypes": utis,
                "CFBundleTypeExtensions": extensions,
            }
            for type_name, utis, extensions in IMAGE_TYPES
        ],
    }
