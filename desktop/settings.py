"""Typed preferences on top of QSettings; window state kept apart from preferences.

Never stores the API key (that lives in desktop/core/secrets.py). The file is an INI in the
app's config folder (desktop/core/app_dirs.py; LETTA_DESKTOP_CONFIG_DIR moves it, for tests).
"""

from __future__ import annotations

import json

from PySide6.QtCore import QByteArray, QSettings

from desktop import APP_ID
from desktop.core import app_dirs
from desktop.core.letta import LETTA_CLOUD_URL

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def _open() -> QSettings:
    ini = app_dirs.config_dir(create=True) / f"{APP_ID}.ini"
    return QSettings(str(ini), QSettings.Format.IniFormat)


class Settings:
    def __init__(self, qsettings: QSettings | None = None):
        self._s = qsettings or _open()

    @property
    def path(self) -> str:
        return self._s.fileName()

    def sync(self) -> None:
        self._s.sync()

    # -- connection -------------------------------------------------------------------------

    @property
    def base_url(self) -> str | None:
        value = self._s.value("connection/base_url")
        return str(value) if value else None

    @base_url.setter
    def base_url(self, url: str) -> None:
        self._s.setValue("connection/base_url", url)

    @property
    def default_base_url(self) -> str:
        return self.base_url or LETTA_CLOUD_URL

    def last_agent(self, base_url: str) -> str | None:
        value = self._s.value(f"last_agent/{_key(base_url)}")
        return str(value) if value else None

    def set_last_agent(self, base_url: str, agent_id: str) -> None:
        self._s.setValue(f"last_agent/{_key(base_url)}", agent_id)

    def last_conversation(self, base_url: str, agent_id: str) -> str | None:
        value = self._s.value(f"last_conversation/{_key(base_url)}_{_key(agent_id)}")
        return str(value) if value else None

    def set_last_conversation(self, base_url: str, agent_id: str, conversation_id: str) -> None:
        self._s.setValue(f"last_conversation/{_key(base_url)}_{_key(agent_id)}", conversation_id)

    # -- server profiles: [{"name", "base_url", "project"}] (keys stay in the keyring per URL) ---

    def profiles(self) -> list[dict[str, str]]:
        try:
            data = json.loads(str(self._s.value("profiles/list", "[]")))
        except ValueError:
            return []
        if not isinstance(data, list):
            return []
        return [
            {
                "name": str(p["name"]),
                "base_url": str(p["base_url"]),
                "project": str(p.get("project") or ""),
            }
            for p in data
            if isinstance(p, dict) and p.get("name") and p.get("base_url")
        ]

    def set_profiles(self, profiles: list[dict[str, str]]) -> None:
        self._s.setValue("profiles/list", json.dumps(profiles))

    @property
    def current_profile(self) -> str | None:
        value = self._s.value("profiles/current")
        return str(value) if value else None

    @current_profile.setter
    def current_profile(self, name: str | None) -> None:
        self._s.setValue("profiles/current", name or "")

    # -- model capability overrides (handle -> True/False) ------------------------------------

    def vision_overrides(self) -> dict[str, bool]:
        raw = self._s.value("capabilities/vision_overrides", "{}")
        try:
            data = json.loads(str(raw))
        except ValueError:
            return {}
        return {str(k): bool(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def set_vision_override(self, handle: str, value: bool | None) -> None:
        data = self.vision_overrides()
        if value is None:
            data.pop(handle, None)
        else:
            data[handle] = value
        self._s.setValue("capabilities/vision_overrides", json.dumps(data, sort_keys=True))

    # -- the model that describes images for agents that cannot see (per server) ------------

    def describer_model(self, base_url: str) -> str | None:
        """The user's choice for this server (None: automatic, a vision model of the agent's
        provider)."""
        value = self._s.value(f"describer/model_{_key(base_url)}")
        return str(value) if value else None

    def set_describer_model(self, base_url: str, handle: str | None) -> None:
        if handle:
            self._s.setValue(f"describer/model_{_key(base_url)}", handle)
        else:
            self._s.remove(f"describer/model_{_key(base_url)}")

    # -- appearance and diagnostics -------------------------------------------------------

    @property
    def theme(self) -> str:
        """ "system", "light" or "dark"."""
        value = str(self._s.value("appearance/theme", "system"))
        return value if value in ("system", "light", "dark") else "system"

    @theme.setter
    def theme(self, value: str) -> None:
        self._s.setValue("appearance/theme", value)

    @property
    def reasoning_expanded(self) -> bool:
        return str(self._s.value("appearance/reasoning_expanded", "false")).lower() == "true"

    @reasoning_expanded.setter
    def reasoning_expanded(self, value: bool) -> None:
        self._s.setValue("appearance/reasoning_expanded", "true" if value else "false")

    @property
    def log_level(self) -> str:
        value = str(self._s.value("diagnostics/log_level", "WARNING")).upper()
        return value if value in LOG_LEVELS else "WARNING"

    @log_level.setter
    def log_level(self, value: str) -> None:
        self._s.setValue("diagnostics/log_level", value.upper())

    # -- window state ---------------------------------------------------------------------

    def window_geometry(self) -> QByteArray | None:
        value = self._s.value("window/geometry")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def set_window_geometry(self, geometry: QByteArray) -> None:
        self._s.setValue("window/geometry", geometry)


def _key(url: str) -> str:
    """A QSettings-safe key for a URL (slashes would make groups)."""
    return url.replace("://", "_").replace("/", "_").replace(":", "_")
