"""Server profiles: named connections (Letta Cloud, a self-hosted URL, …) with an optional project.

A profile is a name, a server URL and a Letta Cloud project (`X-Project`); its key lives in the
keyring under the URL (desktop/core/secrets.py), so profiles that share a URL share a key. The
current profile is remembered; File ▸ Server switches, the Servers dialog adds, renames and
removes. --base-url / LETTA_BASE_URL / LETTA_API_KEY still override the connection for one run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.core.letta import DEFAULT_SELF_HOSTED_URL, LETTA_CLOUD_URL, normalize_base_url
from desktop.settings import Settings
from desktop.ui.accessibility import fill_accessible_names
from desktop.ui.plain_text import plain_label
from desktop.ui.screen_fit import keep_on_screen


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


class ProfilesDialog(QDialog):
    """Add, rename, edit and remove server profiles; Connect switches to the selected one.

    `store_key(url, key)` saves a typed key in the keyring (the caller does it on a worker)."""

    def __init__(
        self,
        profiles: Profiles,
        store_key: Callable[[str, str], None],
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        keep_on_screen(self)
        self.setWindowTitle("Servers")
        self.setMinimumWidth(560)
        self._profiles = profiles
        self._store_key = store_key
        self.chosen: str | None = None
        self.list = QListWidget()
        self.list.setAccessibleName("Server profiles")
        self.name_edit = QLineEdit()
        self.name_edit.setAccessibleName("Profile name")
        self.url_edit = QLineEdit()
        self.url_edit.setAccessibleName("Server URL")
        self.url_edit.setPlaceholderText(LETTA_CLOUD_URL)
        self.project_edit = QLineEdit()
        self.project_edit.setAccessibleName("Project")
        self.project_edit.setPlaceholderText("Letta Cloud project slug (optional)")
        self.key_edit = QLineEdit()
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_edit.setAccessibleName("API key")
        self.key_edit.setPlaceholderText("Leave empty to keep the stored key")
        self.status = plain_label()
        self.status.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Name", self.name_edit)
        form.addRow("Server URL", self.url_edit)
        form.addRow("Project", self.project_edit)
        form.addRow("API key", self.key_edit)
        self.add_button = QPushButton("Add")
        self.save_button = QPushButton("Save")
        self.remove_button = QPushButton("Remove")
        buttons_row = QHBoxLayout()
        for button in (self.add_button, self.save_button, self.remove_button):
            buttons_row.addWidget(button)
        buttons_row.addStretch(1)
        right = QVBoxLayout()
        right.addLayout(form)
        right.addLayout(buttons_row)
        right.addWidget(self.status)
        right.addStretch(1)
        top = QHBoxLayout()
        top.addWidget(self.list, 1)
        top.addLayout(right, 2)
        box = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Close
        )
        self.connect_button = box.button(QDialogButtonBox.StandardButton.Ok)
        self.connect_button.setText("Connect")
        box.accepted.connect(self._connect)
        box.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(box)
        self.list.currentTextChanged.connect(self._show)
        self.add_button.clicked.connect(self.add)
        self.save_button.clicked.connect(self.save)
        self.remove_button.clicked.connect(self.remove)
        current = profiles.current()
        self._fill(current.name if current else None)
        fill_accessible_names(self)

    def _fill(self, select: str | None) -> None:
        self.list.blockSignals(True)
        self.list.clear()
        names = [p.name for p in self._profiles.all()]
        self.list.addItems(names)
        self.list.blockSignals(False)
        if select in names:
            self.list.setCurrentRow(names.index(select))
        elif names:
            self.list.setCurrentRow(0)
        else:
            self._show("")
        self.remove_button.setEnabled(bool(names))
        self.connect_button.setEnabled(bool(names))

    def selected(self) -> str | None:
        item = self.list.currentItem()
        return item.text() if item is not None else None

    def _show(self, name: str) -> None:
        profile = self._profiles.get(name) if name else None
        self.name_edit.setText(profile.name if profile else "")
        self.url_edit.setText(profile.base_url if profile else "")
        self.project_edit.setText(profile.project if profile else "")
        self.key_edit.clear()

    def add(self) -> None:
        profile = Profile(self._profiles.unique_name("Self-hosted"), DEFAULT_SELF_HOSTED_URL)
        self._profiles.put(profile)
        self._fill(profile.name)
        self.name_edit.setFocus()
        self.name_edit.selectAll()

    def save(self) -> bool:
        old = self.selected()
        name = self.name_edit.text().strip()
        url = self.url_edit.text().strip() or LETTA_CLOUD_URL
        if not name:
            self.status.setText("Give the server a name.")
            return False
        if name != old and self._profiles.get(name) is not None:
            self.status.setText(f"There is already a server called “{name}”.")
            return False
        profile = Profile(name, url, self.project_edit.text())
        self._profiles.put(profile, old_name=old)
        key = self.key_edit.text().strip()
        if key:
            self._store_key(normalize_base_url(url), key)
        self.status.setText("Saved.")
        self._fill(name)
        return True

    def remove(self) -> None:
        name = self.selected()
        if name:
            self._profiles.remove(name)
            self._fill(None)

    def _connect(self) -> None:
        if self.selected() is None or not self.save():
            return
        self.chosen = self.selected()
        self.accept()
