"""Server profiles: named connections (Letta Cloud, a self-hosted URL, …) with an optional project.

A profile is a name, a server URL and a Letta Cloud project (`X-Project`); its key lives in the
keyring under the URL (desktop/core/secrets.py), so profiles that share a URL share a key. The
current profile is remembered; File ▸ Server switches, the Servers dialog (profiles_dialog.py)
adds, renames and removes. --base-url / LETTA_BASE_URL / LETTA_API_KEY still override the
connection for one run.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from urllib.parse import urlsplit

from desktop.core.letta import LETTA_CLOUD_URL, normalize_base_url
from desktop.settings import Settings


@dataclass(frozen=True)
class Profile:
    name: str
    base_url: str
    project: str = ""


def default_name(base_url: str) -> str:
    if normalize_base_url(base_url) == LETTA_CLOUD_URL:
        return "Letta Cloud"
    return urlsplit(base_url).netloc or base_url


class Profiles:
    """The stored profiles (in Settings); names are unique."""

    def __init__(self, settings: Settings):
        self._settings = settings
        if not settings.profiles() and settings.base_url:  # before profiles: the one server
            self.ensure(settings.base_url)
        current = self.current()
        if current is not None:  # a --base-url run may have left its URL as the last one
            settings.base_url = current.base_url

    def all(self) -> list[Profile]:
        return [Profile(**p) for p in self._settings.profiles()]

    def get(self, name: str) -> Profile | None:
        return next((p for p in self.all() if p.name == name), None)

    def current(self) -> Profile | None:
        name = self._settings.current_profile
        found = self.get(name) if name else None
        if found is None and self.all():
            found = self.all()[0]
        return found

    def set_current(self, name: str) -> Profile | None:
        profile = self.get(name)
        if profile is not None:
            self._settings.current_profile = name
            self._settings.base_url = profile.base_url
        return profile

    def save(self, profiles: list[Profile]) -> None:
        self._settings.set_profiles([asdict(p) for p in profiles])

    def put(self, profile: Profile, old_name: str | None = None) -> None:
        """Add, or replace the profile called `old_name` (a rename) or `profile.name`."""
        profile = Profile(
            profile.name.strip(), normalize_base_url(profile.base_url), profile.project.strip()
        )
        replace = old_name or profile.name
        items = self.all()
        names = [p.name for p in items]
        if replace in names:
            items[names.index(replace)] = profile
        else:
            items.append(profile)
        self.save(items)
        if old_name and self._settings.current_profile == old_name:
            self._settings.current_profile = profile.name

    def remove(self, name: str) -> None:
        self.save([p for p in self.all() if p.name != name])
        if self._settings.current_profile == name:
            self._settings.current_profile = None

    def unique_name(self, wanted: str) -> str:
        names = {p.name for p in self.all()}
        name, n = wanted, 2
        while name in names:
            name, n = f"{wanted} ({n})", n + 1
        return name

    def ensure(self, base_url: str) -> Profile:
        """The current profile if it is for this URL, else the first for it, else a new one;
        it becomes the current profile (a connection made through the connect dialog)."""
        url = normalize_base_url(base_url)
        current = self.current()
        if current is not None and current.base_url == url:
            found: Profile | None = current
        else:
            found = next((p for p in self.all() if p.base_url == url), None)
        if found is None:
            found = Profile(self.unique_name(default_name(url)), url)
            self.put(found)
        self.set_current(found.name)
        return found

    def project_for(self, base_url: str) -> str | None:
        url = normalize_base_url(base_url)
        current = self.current()
        if current is not None and current.base_url == url:
            return current.project or None
        found = next((p for p in self.all() if p.base_url == url), None)
        return (found.project or None) if found else None
