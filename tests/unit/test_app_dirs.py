"""The app's folders on each platform (settings, drafts, logs), the overrides tests rely on, and
owner-only creation."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from desktop.core import app_dirs
from desktop.core.app_dirs import for_platform


def answer(platform: str, home: str, **environ: str) -> tuple[str, str, str, str]:
    dirs = for_platform(platform, environ, home)
    return str(dirs.config), str(dirs.data), str(dirs.drafts), str(dirs.logs)


def test_linux_follows_the_xdg_variables():
    assert answer(
        "linux",
        "/home/ada",
        XDG_CONFIG_HOME="/cfg",
        XDG_DATA_HOME="/dat",
        XDG_STATE_HOME="/st",
    ) == (
        "/cfg/letta-desktop",
        "/dat/letta-desktop",
        "/dat/letta-desktop/drafts",
        "/st/letta-desktop",
    )


def test_linux_defaults_when_the_xdg_variables_are_unset_empty_or_relative():
    expected = (
        "/home/ada/.config/letta-desktop",
        "/home/ada/.local/share/letta-desktop",
        "/home/ada/.local/share/letta-desktop/drafts",
        "/home/ada/.local/state/letta-desktop",
    )
    assert answer("linux", "/home/ada") == expected
    assert answer("freebsd14", "/home/ada") == expected
    relative = dict(XDG_CONFIG_HOME="", XDG_DATA_HOME="share", XDG_STATE_HOME="./state")
    assert answer("linux", "/home/ada", **relative) == expected
    # Windows-looking values (a profile copied over) are relative on Linux too.
    windows_like = dict(XDG_CONFIG_HOME="C:\\cfg", XDG_DATA_HOME="\\share", XDG_STATE_HOME="D:/st")
    assert answer("linux", "/home/ada", **windows_like) == expected


def test_macos_uses_application_support_and_logs_and_ignores_xdg():
    assert answer("darwin", "/Users/ada", XDG_CONFIG_HOME="/cfg", XDG_DATA_HOME="/dat") == (
        "/Users/ada/Library/Application Support/letta-desktop",
        "/Users/ada/Library/Application Support/letta-desktop",
        "/Users/ada/Library/Application Support/letta-desktop/drafts",
        "/Users/ada/Library/Logs/letta-desktop",
    )


def test_windows_keeps_settings_roaming_and_drafts_and_logs_local():
    assert answer(
        "win32",
        r"C:\Users\ada",
        APPDATA=r"D:\Profiles\ada\Roaming",
        LOCALAPPDATA=r"E:\Local\ada",
    ) == (
        r"D:\Profiles\ada\Roaming\letta-desktop",
        r"E:\Local\ada\letta-desktop",
        r"E:\Local\ada\letta-desktop\drafts",
        r"E:\Local\ada\letta-desktop\logs",
    )


def test_windows_without_the_variables_uses_the_profile_folders():
    assert answer("win32", r"C:\Users\ada") == (
        r"C:\Users\ada\AppData\Roaming\letta-desktop",
        r"C:\Users\ada\AppData\Local\letta-desktop",
        r"C:\Users\ada\AppData\Local\letta-desktop\drafts",
        r"C:\Users\ada\AppData\Local\letta-desktop\logs",
    )


@pytest.mark.parametrize(
    ("platform", "home"), [("linux", "/h"), ("darwin", "/h"), ("win32", "C:\\h")]
)
def test_the_test_variables_move_every_folder_on_every_platform(platform, home):
    """What tests/conftest.py and benchmarks/common.py set: nothing may land elsewhere."""
    sep = "\\" if platform == "win32" else "/"
    config, data = sep.join(["", "tmp", "config"]), sep.join(["", "tmp", "data"])
    if platform == "win32":
        config, data = "C:" + config, "C:" + data
    assert answer(
        platform,
        home,
        LETTA_DESKTOP_CONFIG_DIR=config,
        LETTA_DESKTOP_DATA_DIR=data,
        XDG_STATE_HOME="/st",
        LOCALAPPDATA="C:\\Local",
    ) == (config, data, sep.join([data, "drafts"]), sep.join([data, "logs"]))


def test_this_process_answers_with_its_own_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("LETTA_DESKTOP_CONFIG_DIR", str(tmp_path / "c"))
    monkeypatch.setenv("LETTA_DESKTOP_DATA_DIR", str(tmp_path / "d"))
    assert app_dirs.config_dir() == tmp_path / "c"
    assert app_dirs.data_dir() == tmp_path / "d"
    assert app_dirs.drafts_dir() == tmp_path / "d" / "drafts"
    assert app_dirs.log_dir() == tmp_path / "d" / "logs"
    assert not (tmp_path / "c").exists() and not (tmp_path / "d").exists()  # only asked


def test_this_process_answers_for_its_own_platform_and_home(tmp_path, monkeypatch):
    monkeypatch.delenv("LETTA_DESKTOP_CONFIG_DIR")
    monkeypatch.delenv("LETTA_DESKTOP_DATA_DIR")
    monkeypatch.setenv("HOME", str(tmp_path / "ada"))
    monkeypatch.setattr(sys, "platform", "darwin")
    support = tmp_path / "ada" / "Library" / "Application Support" / "letta-desktop"
    assert (app_dirs.config_dir(), app_dirs.data_dir()) == (support, support)
    assert app_dirs.log_dir() == tmp_path / "ada" / "Library" / "Logs" / "letta-desktop"


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask():
    old = os.umask(0o022)  # the common default: folders 0755
    yield
    os.umask(old)


def test_created_folders_are_owner_only(tmp_path, monkeypatch, open_umask):
    home = tmp_path / "home"
    home.mkdir(mode=0o755)
    monkeypatch.setenv("LETTA_DESKTOP_CONFIG_DIR", str(home / "new" / "config"))
    monkeypatch.setenv("LETTA_DESKTOP_DATA_DIR", str(home / "data"))
    (home / "data").mkdir(mode=0o755)  # left open by an older version
    config = app_dirs.config_dir(create=True)
    logs = app_dirs.log_dir(create=True)
    assert [mode_of(p) for p in (home / "new", config, home / "data", logs)] == [0o700] * 4
    assert mode_of(home) == 0o755  # never a folder above the app's own


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="the XDG folders are Linux's")
def test_the_xdg_log_folder_is_created_owner_only_without_touching_the_state_folder(
    tmp_path, monkeypatch, open_umask
):
    monkeypatch.delenv("LETTA_DESKTOP_DATA_DIR")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    (tmp_path / "state").mkdir(mode=0o755)
    logs = app_dirs.log_dir(create=True)
    assert logs == tmp_path / "state" / "letta-desktop"
    assert mode_of(logs) == 0o700 and mode_of(tmp_path / "state") == 0o755
    assert not (tmp_path / "share").exists()
