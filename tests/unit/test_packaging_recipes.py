"""The packaging recipes under build/ and app.spec: structure, one version source, no drift."""

from __future__ import annotations

import configparser
import plistlib
import runpy
import shutil
import subprocess
from pathlib import Path

import pytest

from desktop import __version__
from desktop.core.images.guard import PILLOW_FORMATS

ROOT = Path(__file__).resolve().parents[2]
DESKTOP_ENTRY = ROOT / "build" / "linux" / "letta-desktop.desktop"


def _entry() -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # keys are case-sensitive
    parser.read_string(DESKTOP_ENTRY.read_text(encoding="utf-8"))
    assert parser.sections() == ["Desktop Entry"]
    return dict(parser["Desktop Entry"])


def test_desktop_entry_has_the_keys_a_menu_and_open_with_need():
    entry = _entry()
    for key in ("Type", "Name", "Comment", "Exec", "Icon", "Categories", "MimeType", "Terminal"):
        assert entry.get(key), f"{key} missing"
    assert entry["Type"] == "Application"
    assert entry["Exec"] == "letta-desktop %F"  # %F: "Open with" passes every selected file
    assert entry["Icon"] == "letta-desktop"
    assert entry["Terminal"] == "false"
    for key in ("Categories", "MimeType", "Keywords"):
        assert entry[key].endswith(";"), f"{key} list must end with ';'"
    assert entry["Categories"] == "Network;Chat;InstantMessaging;"


def test_desktop_entry_mime_types_are_images_the_pipeline_decodes():
    types = _entry()["MimeType"].rstrip(";").split(";")
    assert len(types) == len(set(types))
    decodable = set(PILLOW_FORMATS) | {"image/svg+xml"}
    assert set(types) <= decodable
    for wanted in (
        "image/png",
        "image/jpeg",
        "image/webp",
        "image/gif",
        "image/heic",
        "image/heif",
        "image/bmp",
        "image/tiff",
        "image/svg+xml",
    ):
        assert wanted in types


@pytest.mark.skipif(
    shutil.which("desktop-file-validate") is None,
    reason="desktop-file-validate (desktop-file-utils) not installed",
)
def test_desktop_entry_passes_desktop_file_validate():
    result = subprocess.run(
        ["desktop-file-validate", str(DESKTOP_ENTRY)], capture_output=True, text=True
    )
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def test_spec_takes_the_version_from_the_package_and_stays_one_dir():
    spec = (ROOT / "app.spec").read_text()
    assert "from desktop import" in spec and "__version__" in spec
    assert "COLLECT(" in spec and "exclude_binaries=True" in spec  # one-dir
    assert "console=False" in spec
    assert '(str(ROOT / "resources"), "resources")' in spec  # desktop/paths.py finds it
    for plugin in (
        '"qxcb"',
        '"qwayland"',
        '"qoffscreen"',
        '"qsvg"',
        '"qjpeg"',
        '"qgif"',
        '"qico"',
        '"qsvgicon"',
    ):
        assert plugin in spec


def test_windows_version_resource_comes_from_the_package():
    module = runpy.run_path(str(ROOT / "build" / "windows" / "version_info.py"))
    text = module["render"]()
    assert f"StringStruct('ProductVersion', '{__version__}')" in text
    assert module["version_tuple"]("1.2.3rc1") == (1, 2, 3, 0)
    assert module["version_tuple"]("2.10") == (2, 10, 0, 0)
    iss = (ROOT / "build" / "windows" / "letta-desktop.iss").read_text()
    assert "GetStringFileInfo" in iss and "AppVersion=" in iss  # no version typed into the script
    assert __version__ not in iss.replace("{#AppVersion}", "")


def test_macos_info_plist_declares_images_and_high_dpi():
    info = runpy.run_path(str(ROOT / "build" / "macos" / "info_plist.py"))["info_plist"]("9.8.7")
    assert info["CFBundleIdentifier"] == "com.letta-desktop.app"
    assert info["CFBundleShortVersionString"] == "9.8.7"
    assert info["NSHighResolutionCapable"] is True
    utis = {uti for doc in info["CFBundleDocumentTypes"] for uti in doc["LSItemContentTypes"]}
    assert {"public.png", "public.jpeg", "public.heic", "public.svg-image"} <= utis
    plistlib.dumps(info)  # serialisable as written by PyInstaller's BUNDLE


def test_generated_files_stay_out_of_git():
    assert "/build/out/" in (ROOT / ".gitignore").read_text().splitlines()
