"""The Servers dialog (File ▸ Server ▸ Manage servers…): add, rename, edit, remove profiles."""

from __future__ import annotations

from collections.abc import Callable

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
from desktop.ui.accessibility import fill_accessible_names
from desktop.ui.connection.profiles import Profile, Profiles
from desktop.ui.plain_text import plain_label
from desktop.ui.screen_fit import keep_on_screen


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
