"""Command line and environment: what a user types to start the app."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from desktop import __version__
from desktop.app import build_parser
from desktop.compose import create_window
from tests.memory_keyring import memory_secrets

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.parametrize("flag", ["--version", "--help"])
def test_version_and_help_work_without_a_display(flag):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "QT_QPA_PLATFORM")}
    out = subprocess.run(
        [sys.executable, "-m", "desktop", flag],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert (__version__ in out.stdout) if flag == "--version" else ("--agent" in out.stdout)


def _start(qtbot, monkeypatch, argv, env):
    for name in ("LETTA_BASE_URL", "LETTA_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    window, base_url, key = create_window(build_parser().parse_args(argv), secrets=memory_secrets())
    qtbot.addWidget(window)
    window.workers.shutdown()
    return base_url, key


def test_environment_overrides_the_stored_connection(qtbot, monkeypatch):
    base_url, key = _start(
        qtbot,
        monkeypatch,
        [],
        {"LETTA_BASE_URL": "http://localhost:8283", "LETTA_API_KEY": "sk-env-123456"},
    )
    assert (base_url, key) == ("http://localhost:8283", "sk-env-123456")


def test_command_line_base_url_wins_over_the_environment(qtbot, monkeypatch):
    base_url, key = _start(
        qtbot,
        monkeypatch,
        ["--base-url", "https://letta.example.org", "--agent", "agent-1"],
        {"LETTA_BASE_URL": "http://localhost:8283"},
    )
    assert base_url == "https://letta.example.org" and key is None


def test_files_on_the_command_line_are_parsed_as_attachments():
    args = build_parser().parse_args(["--agent", "agent-9", "a.png", "b c.jpg"])
    assert args.agent == "agent-9" and args.files == ["a.png", "b c.jpg"]
