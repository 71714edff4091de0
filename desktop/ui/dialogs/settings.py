"""Settings (Ctrl+,): connection, appearance, reasoning rows, the model that describes images for
agents that cannot see (per server), log level. Changes apply at once."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop import diagnostics
from desktop.core import app_dirs
from desktop.settings import LOG_LEVELS, Settings
from desktop.ui.plain_text import plain_label, plain_tip
from desktop.ui.screen_fit import keep_on_screen
from desktop.ui.style.theme import CHOICES, LABELS, apply_theme

if TYPE_CHECKING:
    from desktop.core.letta import ModelInfo
    from desktop.workers import Task, Workers

AUTOMATIC = "Automatic: a vision model of the agent's provider"


class SettingsDialog(QDialog):
    def __init__(
        self,
        settings: Settings,
        *,
        server: str,
        open_connection: Callable[[], None],
        reasoning_changed: Callable[[bool], None] | None = None,
        parent: QWidget | None = None,
        base_url: str | None = None,
        list_models: Callable[[], list[ModelInfo]] | None = None,
        workers: Workers | None = None,
    ):
        """`base_url`, `list_models` and `workers` (the connected server's): the describing
        model's choices come from its model list, fetched on a worker."""
        super().__init__(parent)
        keep_on_screen(self)
        self._settings = settings
        self._open_connection = open_connection
        self._reasoning_changed = reasoning_changed
        self.setWindowTitle("Settings")
        self.setMinimumWidth(440)

        self.server_label = plain_label(server)
        self.server_label.setAccessibleDescription("Current server")
        self.connection_button = QPushButton("Connection…")
        self.connection_button.setAccessibleName("Change connection")
        self.connection_button.setAccessibleDescription("Choose the server and the API key")
        self.connection_button.clicked.connect(self._connection)
        server_row = QHBoxLayout()
        server_row.addWidget(self.server_label, 1)
        server_row.addWidget(self.connection_button)

        self.theme_combo = QComboBox()
        for choice in CHOICES:
            self.theme_combo.addItem(LABELS[choice], choice)
        self.theme_combo.setCurrentIndex(CHOICES.index(settings.theme))
        self.theme_combo.setAccessibleName("Appearance")
        self.theme_combo.setAccessibleDescription(
            "Follow the system's light or dark scheme, or choose one"
        )
        self.theme_combo.currentIndexChanged.connect(self._theme)

        self.reasoning_check = QCheckBox("Show the agent's reasoning expanded")
        self.reasoning_check.setChecked(settings.reasoning_expanded)
        self.reasoning_check.setAccessibleName("Show reasoning expanded")
        self.reasoning_check.setAccessibleDescription(
            "New reasoning rows start open instead of folded"
        )
        self.reasoning_check.toggled.connect(self._reasoning)

        self.log_combo = QComboBox()
        self.log_combo.addItems([level.title() for level in LOG_LEVELS])
        self.log_combo.setCurrentIndex(LOG_LEVELS.index(settings.log_level))
        self.log_combo.setAccessibleName("Log level")
        self.log_combo.setAccessibleDescription("How much goes into the log file (never the key)")
        self.log_combo.currentIndexChanged.connect(self._log_level)
        self.log_button = QPushButton("Open log folder")
        self.log_button.setAccessibleName("Open log folder")
        self.log_button.setToolTip(plain_tip(str(app_dirs.log_dir())))
        self.log_button.clicked.connect(self._open_logs)
        self._base_url = base_url
        self._models_task: Task | None = None
        self.describer_combo = QComboBox()
        self.describer_combo.setAccessibleName("Describe images with")
        self.describer_combo.setAccessibleDescription(
            "The vision model that describes images as text for an agent that cannot see them"
        )
        self.describer_combo.addItem(AUTOMATIC, "")
        chosen = settings.describer_model(base_url) if base_url else None
        if chosen:
            self.describer_combo.addItem(chosen, chosen)
            self.describer_combo.setCurrentIndex(1)
        self.describer_combo.setEnabled(base_url is not None)
        self.describer_combo.currentIndexChanged.connect(self._describer)
        if base_url and list_models is not None and workers is not None:
            self._models_task = workers.submit(
                list_models, on_result=self._on_models, on_error=lambda _e: None, owner=self
            )

        log_row = QHBoxLayout()
        log_row.addWidget(self.log_combo, 1)
        log_row.addWidget(self.log_button)

        form = QFormLayout()
        form.addRow("Server", server_row)
        form.addRow("Appearance", self.theme_combo)
        form.addRow("", self.reasoning_check)
        form.addRow("Describe images with", self.describer_combo)
        form.addRow("Log level", log_row)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.StandardButton.Close).setAccessibleName("Close settings")
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addStretch(1)
        layout.addWidget(buttons)

    def _connection(self) -> None:
        self.accept()
        self._open_connection()

    def _theme(self, index: int) -> None:
        choice = CHOICES[index]
        self._settings.theme = choice
        apply_theme(choice)

    def _reasoning(self, on: bool) -> None:
        self._settings.reasoning_expanded = on
        if self._reasoning_changed is not None:
            self._reasoning_changed(on)

    def _on_models(self, models: list[ModelInfo]) -> None:
        """The server's vision models as choices (the current choice stays selected)."""
        from desktop.core.describer import vision_models

        self._models_task = None
        combo = self.describer_combo
        current = combo.currentData()
        combo.blockSignals(True)
        try:
            for handle in vision_models(models, self._settings.vision_overrides()):
                if combo.findData(handle) < 0:
                    combo.addItem(handle, handle)
            combo.setCurrentIndex(max(0, combo.findData(current)))
        finally:
            combo.blockSignals(False)

    def _describer(self, index: int) -> None:
        if self._base_url is None:
            return
        handle = self.describer_combo.itemData(index) or None
        self._settings.set_describer_model(self._base_url, handle)

    def done(self, result: int) -> None:
        if self._models_task is not None:
            self._models_task.cancel()
            self._models_task = None
        super().done(result)

    def _log_level(self, index: int) -> None:
        level = LOG_LEVELS[index]
        self._settings.log_level = level
        diagnostics.set_log_level(level)

    def _open_logs(self) -> None:
        folder = app_dirs.log_dir(create=True)  # owner-only, like the log it holds
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))
