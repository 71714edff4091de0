"""Where the app keeps its own files: settings, drafts and logs, one answer per platform.

Each folder is the app's own (named letta-desktop):

- Linux and the BSDs (XDG): config $XDG_CONFIG_HOME/letta-desktop (~/.config/…), data
  $XDG_DATA_HOME/letta-desktop (~/.local/share/…), logs $XDG_STATE_HOME/letta-desktop
  (~/.local/state/…: the specification's place for logs).
- macOS: config and data ~/Library/Application Support/letta-desktop, logs
  ~/Library/Logs/letta-desktop (where Console.app looks).
- Windows: config %APPDATA%\\letta-desktop, data %LOCALAPPDATA%\\letta-desktop, logs
  %LOCALAPPDATA%\\letta-desktop\\logs.

Windows, deliberately: the settings (server profiles, theme, a few hundred bytes) go to the
roaming %APPDATA%, so they follow the user to another machine of the domain, as preferences
should. Drafts go to the machine's own %LOCALAPPDATA%: they hold megabytes of pasted images and
messages unconfirmed by this machine's last session, and a roaming profile would copy that private
bulk to the profile server at every sign-out and slow every sign-in. Logs describe this machine:
local too.

LETTA_DESKTOP_CONFIG_DIR moves the config folder; LETTA_DESKTOP_DATA_DIR moves the data folder
and the logs with it (into its `logs` folder), so a test, a benchmark or a portable run that sets
both never writes anywhere else.

Not platformdirs: its answers have moved between releases (XDG variables on macOS, the log folder's
name), and a folder that moves under an upgrade loses the user's unsent drafts. These few lines pin
the answers; tests/unit/test_app_dirs.py holds them to this list.
"""

from __future__ import annotations

import ntpath
import os
import posixpath
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePath, PurePosixPath, PureWindowsPath

from desktop import APP_ID
from desktop.core.private_files import private_dir

CONFIG_ENV = "LETTA_DESKTOP_CONFIG_DIR"
DATA_ENV = "LETTA_DESKTOP_DATA_DIR"


@dataclass(frozen=True)
class AppDirs:
    config: PurePath
    data: PurePath
    logs: PurePath

    @property
    def drafts(self) -> PurePath:
        return self.data / "drafts"


def for_platform(platform: str, environ: Mapping[str, str], home: str) -> AppDirs:
    """The folders on `platform` (a `sys.platform` value) for this environment and home folder.
    Pure paths of that platform's flavour, so every platform's answer can be checked anywhere."""
    windows = platform == "win32"
    pure = PureWindowsPath if windows else PurePosixPath
    isabs = ntpath.isabs if windows else posixpath.isabs

    def absolute(name: str) -> PurePath | None:
        """A variable's folder; unset, empty or relative ones are ignored, as the XDG
        specification asks (a relative one would follow the working directory)."""
        value = environ.get(name)
        return pure(value) if value and isabs(value) else None

    base = pure(home)
    if windows:
        roaming = absolute("APPDATA") or base / "AppData" / "Roaming"
        local = absolute("LOCALAPPDATA") or base / "AppData" / "Local"
        dirs = AppDirs(roaming / APP_ID, local / APP_ID, local / APP_ID / "logs")
    elif platform == "darwin":
        support = base / "Library" / "Application Support" / APP_ID
        dirs = AppDirs(support, support, base / "Library" / "Logs" / APP_ID)
    else:  # Linux, the BSDs: the XDG Base Directory Specification

        def xdg(name: str, default: str) -> PurePath:
            return (absolute(name) or base / default) / APP_ID

        dirs = AppDirs(
            xdg("XDG_CONFIG_HOME", ".config"),
            xdg("XDG_DATA_HOME", ".local/share"),
            xdg("XDG_STATE_HOME", ".local/state"),
        )
    config = environ.get(CONFIG_ENV)
    data = environ.get(DATA_ENV)
    return AppDirs(
        pure(config) if config else dirs.config,
        pure(data) if data else dirs.data,
        pure(data) / "logs" if data else dirs.logs,
    )


def current() -> AppDirs:
    return for_platform(sys.platform, os.environ, str(Path.home()))


def _made_private(path: PurePath, owner: PurePath) -> Path:
    """Create `path` owner-only (0700), and `owner`, the app's folder holding it, too: one an
    older version created 0755 is tightened as well."""
    if owner in path.parents:
        private_dir(Path(owner))
    return private_dir(Path(path))


def config_dir(*, create: bool = False) -> Path:
    """The settings' folder; `create` makes it (owner-only) when missing."""
    path = current().config
    return private_dir(Path(path)) if create else Path(path)


def data_dir() -> Path:
    return Path(current().data)


def drafts_dir() -> Path:
    """The drafts' folder (DraftStore creates it owner-only on the first save)."""
    return Path(current().drafts)


def log_dir(*, create: bool = False) -> Path:
    """The log file's folder; `create` makes it (owner-only) when missing."""
    dirs = current()
    return _made_private(dirs.logs, dirs.data) if create else Path(dirs.logs)
