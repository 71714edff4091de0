"""First-start (and re-enter key) dialog: which server, which key, and a real connection test."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from desktop.core.letta import (
    DEFAULT_SELF_HOSTED_URL,
    LETTA_CLOUD_URL,
    normalize_base_url,
    sends_key_in_clear,
)
from desktop.ui.accessibility import announce, fill_accessible_names
from desktop.ui.notice import Tone
from desktop.ui.plain_text import plain_label
from desktop.ui.screen_fit import keep_on_screen
from desktop.ui.style.tones import tone
from desktop.ui.user_errors import describe
from desktop.workers import Workers

if TYPE_CHECKING:
    from desktop.core.letta import LettaClient

ClientFactory = Callable[[str, str | None], "LettaClient"]


def _probe(client: LettaClient) -> str:
    """Runs on a worker: a real authenticated call; returns a line for the user."""
    try:
        version = client.health().get("version")
        client.check_key()
    finally:
        client.close()
    return f"Connected{f' to Letta {version}' if version else ''}. The key works."


class ConnectDialog(QDialog):
    def __init__(
        self,
        workers: Workers,
        client_factory: ClientFactory,
        *,
        base_url: str | None,
        api_key: str | None = None,
        message: str | None = None,
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        keep_on_screen(self)
        self._workers = workers
        self._factory = client_factory
        self._test_task = None
        self._testing = False
        self.setWindowTitle("Connect to Letta")
        self.setMinimumWidth(480)

        intro = plain_label(message or "Connect to Letta Cloud or to your own Letta server.")
        intro.setWordWrap(True)

        self.cloud_radio = QRadioButton("Letta Cloud (api.letta.com)")
        self.self_radio = QRadioButton("Self-hosted server")
        group = QButtonGroup(self)
        group.addButton(self.cloud_radio)
        group.addButton(self.self_radio)
        self.url_edit = QLineEdit()
        self.url_edit.setPlaceholderText(DEFAULT_SELF_HOSTED_URL)
        self.url_edit.setAccessibleName("Server URL")
        self.key_edit = QLineEdit()
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_edit.setPlaceholderText(
            "API key (a self-hosted server without a password accepts any)"
        )
        self.key_edit.setAccessibleName("API key")
        show_key = QPushButton("Show")
        show_key.setCheckable(True)
        show_key.setAccessibleName("Show API key")
        show_key.toggled.connect(
            lambda on: self.key_edit.setEchoMode(
                QLineEdit.EchoMode.Normal if on else QLineEdit.EchoMode.Password
            )
        )
        key_row = QHBoxLayout()
        key_row.addWidget(self.key_edit, 1)
        key_row.addWidget(show_key)

        self.test_button = QPushButton("Test connection")
        self.test_button.setAccessibleName("Test connection")
        self.result_label = plain_label()
        self.result_label.setWordWrap(True)
        self.result_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.result_label.setAccessibleDescription("Connection test result")
        self.warning_label = plain_label()
        self.warning_label.setWordWrap(True)
        self.warning_label.setStyleSheet(f"color: {tone(self.palette(), Tone.WARNING).name()};")
        self.warning_label.hide()

        form = QFormLayout()
        form.addRow(self.cloud_radio)
        form.addRow(self.self_radio)
        form.addRow("Server URL", self.url_edit)
        form.addRow("API key", key_row)

        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Connect")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self._ok = buttons.button(QDialogButtonBox.StandardButton.Ok)

        test_row = QHBoxLayout()
        test_row.addWidget(self.test_button)
        test_row.addWidget(self.result_label, 1)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.warning_label)
        layout.addLayout(test_row)
        layout.addStretch(1)
        layout.addWidget(buttons)

        url = normalize_base_url(base_url) if base_url else LETTA_CLOUD_URL
        if url == LETTA_CLOUD_URL:
            self.cloud_radio.setChecked(True)
        else:
            self.self_radio.setChecked(True)
            self.url_edit.setText(url)
        if api_key:
            self.key_edit.setText(api_key)
        self.cloud_radio.toggled.connect(self._sync)
        self.url_edit.textChanged.connect(self._sync)
        self.key_edit.textChanged.connect(self._sync)
        self.test_button.clicked.connect(self.test_connection)
        self._sync()
        (self.key_edit if self.cloud_radio.isChecked() or url else self.url_edit).setFocus()
        fill_accessible_names(self)

    # -- values ---------------------------------------------------------------------------

    def base_url(self) -> str:
        if self.cloud_radio.isChecked():
            return LETTA_CLOUD_URL
        return normalize_base_url(self.url_edit.text() or DEFAULT_SELF_HOSTED_URL)

    def api_key(self) -> str | None:
        return self.key_edit.text().strip() or None

    def _sync(self) -> None:
        self.url_edit.setEnabled(self.self_radio.isChecked())
        self.result_label.clear()
        cloud_needs_key = self.cloud_radio.isChecked() and not self.api_key()
        self._ok.setEnabled(not cloud_needs_key)
        self.test_button.setEnabled(not cloud_needs_key)
        if sends_key_in_clear(self.base_url()) and self.api_key():
            self.warning_label.setText(
                "This server uses plain http:// over the network: the key "
                "would travel unencrypted. Use https:// if you can."
            )
            self.warning_label.show()
        else:
            self.warning_label.hide()

    # -- test -----------------------------------------------------------------------------

    def test_connection(self) -> None:
        # The button stays enabled (disabling it would throw keyboard focus to Connect and the
        # result would go unheard); a second press while a test runs does nothing.
        if self._testing:
            return
        self._testing = True
        self.result_label.setText("Testing…")
        client = self._factory(self.base_url(), self.api_key())
        self._test_task = self._workers.submit(
            _probe,
            client,
            on_result=self._on_test_ok,
            on_error=self._on_test_failed,
            on_finished=self._on_test_finished,
            owner=self,
        )

    def _on_test_finished(self) -> None:
        self._testing = False

    def _on_test_ok(self, text: str) -> None:
        self._testing = False  # shown: a press right after it tests again
        self.result_label.setStyleSheet(f"color: {tone(self.palette(), Tone.OK).name()};")
        self.result_label.setText("✓ " + text)
        announce(self.result_label, text)

    def _on_test_failed(self, exc: BaseException) -> None:
        self._testing = False
        self.result_label.setStyleSheet(f"color: {tone(self.palette(), Tone.ERROR).name()};")
        text = describe(exc).text
        self.result_label.setText("✗ " + text)
        announce(self.result_label, text, assertive=True)

    def done(self, result: int) -> None:
        if self._test_task is not None:
            self._test_task.cancel()
        super().done(result)
