"""Owner-only folders and files (the log, drafts): what ends up on disk, also when the file system
refuses chmod and when another worker creates the same folder at the same moment."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest

from desktop.core.private_files import open_private, private_dir


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask():
    old = os.umask(0o022)  # the common default: files 0644, folders 0755
    yield
    os.umask(old)


@pytest.fixture
def chmod_refused(monkeypatch):
    """chmod fails as on a FAT or network drive, or on another account's file. (Simulated: these
    tests may run as root, whom chmod never refuses.)"""

    def refuse(path, mode, *args, **kwargs):
        raise PermissionError(errno.EPERM, "Operation not permitted", str(path))

    monkeypatch.setattr(os, "chmod", refuse)


def test_by_default_a_private_file_is_appended_to_and_made_owner_only(tmp_path, open_umask):
    path = tmp_path / "letta-desktop.log"
    path.write_text("from an older version\n")
    os.chmod(path, 0o644)
    with open_private(path) as file:
        file.write("new line\n")
        assert not os.get_inheritable(file.fileno())  # a started process doesn't hold it open
    assert path.read_text() == "from an older version\nnew line\n"
    assert mode_of(path) == 0o600


def test_writing_a_private_file_replaces_what_it_held(tmp_path):
    path = tmp_path / "draft.txt"
    path.write_text("a longer text typed before\n")
    with open_private(path, "w") as file:
        file.write("short\n")
    assert path.read_text() == "short\n"


def test_a_private_file_is_written_in_the_encoding_asked_for_not_the_locales(tmp_path):
    path = tmp_path / "latin.txt"
    with open_private(path, "a", encoding="latin-1") as file:
        file.write("café")
    assert path.read_bytes() == b"caf\xe9"


def test_where_chmod_is_refused_a_new_file_is_still_created_owner_only(
    tmp_path, open_umask, chmod_refused
):
    path = tmp_path / "letta-desktop.log"
    with open_private(path) as file:
        file.write("started\n")
    assert path.read_text() == "started\n"
    assert mode_of(path) == 0o600  # by the creating open itself, not by a chmod after


def test_where_chmod_is_refused_folders_are_still_made_and_used(tmp_path, chmod_refused):
    shared = tmp_path / "shared"
    shared.mkdir()
    assert private_dir(shared / "letta" / "drafts") == shared / "letta" / "drafts"
    assert (shared / "letta" / "drafts").is_dir()
    assert private_dir(shared) == shared


def test_a_folder_another_worker_creates_at_the_same_moment_is_no_error(
    tmp_path, monkeypatch, open_umask
):
    (tmp_path / "data").mkdir()
    target = tmp_path / "data" / "drafts"
    is_dir = Path.is_dir

    def other_worker_wins(self: Path) -> bool:
        answer = is_dir(self)
        if self == target and not answer:
            target.mkdir()  # another worker, between our look and our mkdir (umask: 0755)
        return answer

    monkeypatch.setattr(Path, "is_dir", other_worker_wins)
    assert private_dir(target) == target
    monkeypatch.undo()
    assert mode_of(target) == 0o700
