"""Drafts that survive a crash, a `kill -9` or a reboot (Qt-free).

One folder per agent under the app's data dir::

    <data>/drafts/<agent key>/draft.json     the composer's text, its images, unsent messages
    <data>/drafts/<agent key>/images/<sha256>  image bytes, named by content (shared, deduplicated)

Every file is written atomically: a temp file in the same folder, fsync, `os.replace`, fsync of
the folder. The images are written before the JSON that names them, and images no JSON names any
more are removed after it, so a crash at any point leaves either the old or the new draft whole.

An unsent message keeps its `otid`: after a restart it is shown as failed, and Retry first looks
for that otid in the server's history (it may have arrived after all).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import functools
import json
import os
import re
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from desktop.core.images import ImageRejected, errors
from desktop.core.images.edits import Edit
from desktop.core.private_files import private_dir
from desktop.core.regular_file import open_regular, read_capped, read_regular_file

FORMAT = 1
MAX_IMAGE_BYTES = 64 * 1024 * 1024
"""Larger files are not copied into a draft (the image pipeline refuses them anyway)."""
_SAFE = re.compile(r"[^A-Za-z0-9_.-]")


def _sha256(data: bytes) -> str:
    """Hex SHA-256. hashlib (OpenSSL, ~2.5 ms to load) is imported at the first draft read or
    write, not with the main window before its first frame."""
    import hashlib

    return hashlib.sha256(data).hexdigest()


@dataclass
class DraftImage:
    """One image of a draft: stored bytes (`sha256`), or a URL the server fetches."""

    name: str
    sha256: str | None = None
    url: str | None = None
    media_type: str | None = None
    data: bytes | None = field(default=None, repr=False)
    """The bytes: given when saving (not yet stored), filled by `DraftStore.load`."""
    path: str | None = None
    """Saving only: a local file to copy in (read by `save`, on the worker)."""
    b64: str | None = field(default=None, repr=False)
    """Saving only: the bytes as base64 (a prepared image part), decoded by `save`."""
    edit: Edit | None = None
    """The user's crop and blacked-out boxes (the bytes stay the source; a few numbers)."""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name}
        if self.url:
            out["url"] = self.url
        if self.sha256:
            out["sha256"] = self.sha256
        if self.media_type:
            out["media_type"] = self.media_type
        if self.edit is not None:
            out["edit"] = self.edit.to_json()
        return out

    @classmethod
    def from_json(cls, data: Any) -> DraftImage | None:
        if not isinstance(data, dict):
            return None
        name, sha, url = data.get("name"), data.get("sha256"), data.get("url")
        if isinstance(url, str) and url:
            return cls(str(name or url), url=url)
        if isinstance(sha, str) and re.fullmatch(r"[0-9a-f]{64}", sha):
            media_type = data.get("media_type")
            edit = Edit.from_json(data["edit"]) if "edit" in data else None
            if "edit" in data and edit is None:
                return None  # restored unedited, it could send what the user blacked out
            return cls(
                str(name or "image"),
                sha256=sha,
                media_type=media_type if isinstance(media_type, str) else None,
                edit=edit,
            )
        return None


@dataclass
class UnsentMessage:
    """A message the server did not confirm: shown as failed, with Retry, after a restart."""

    otid: str
    text: str
    images: list[DraftImage] = field(default_factory=list)
    error: str = ""
    sent_at: float | None = None  # epoch s; older drafts have none

    def to_json(self) -> dict[str, Any]:
        return {
            "otid": self.otid,
            "text": self.text,
            "error": self.error,
            "images": [i.to_json() for i in self.images],
            "sent_at": self.sent_at,
        }

    @classmethod
    def from_json(cls, data: Any) -> UnsentMessage | None:
        if not isinstance(data, dict) or not isinstance(data.get("otid"), str):
            return None
        images = [i for i in map(DraftImage.from_json, data.get("images") or []) if i]
        sent_at = data.get("sent_at")
        if not isinstance(sent_at, int | float) or isinstance(sent_at, bool):
            sent_at = None
        return cls(
            data["otid"],
            str(data.get("text") or ""),
            images,
            str(data.get("error") or ""),
            float(sent_at) if sent_at is not None else None,
        )


@dataclass
class Draft:
    text: str = ""
    images: list[DraftImage] = field(default_factory=list)
    unsent: list[UnsentMessage] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.text and not self.images and not self.unsent

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "text": self.text,
            "images": [i.to_json() for i in self.images],
            "unsent": [u.to_json() for u in self.unsent],
        }


@dataclass
class _Source:
    """An attached file as read for one save: its cache key and bytes, or why there are none."""

    key: tuple[str, int, int] | None
    sha256: str = ""
    data: bytes | None = None
    gone: bool = False
    """Refused because it no longer exists (the earlier copy may stand in)."""


def _fsync_dir(folder: Path) -> None:
    # Windows cannot open a folder for fsync; there, os.replace is what we get.
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write(path: Path, data: bytes) -> None:
    """Replace `path` with `data` so that a crash leaves the old or the new file, never a mix."""
    private_dir(path.parent)
    # mkstemp creates the file 0600: os.replace keeps that mode.
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


class DraftStore:
    """Saves and loads per-agent drafts under `root`. Thread-safe; every call does file I/O, so
    the UI calls it from a worker."""

    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root)
        self._lock = threading.Lock()
        self._seq: dict[str, int] = {}
        # (path, size, mtime) → sha256 of files already copied in: typing must not re-read them.
        self._copied: dict[tuple[str, int, int], str] = {}
        self._by_path: dict[str, str] = {}

    def folder(self, agent_id: str) -> Path:
        key = _SAFE.sub("_", agent_id)[:80] or "_"
        if key != agent_id:  # keep distinct ids distinct after cleaning
            key += "-" + _sha256(agent_id.encode())[:12]
        return self.root / key

    def save(self, agent_id: str, draft: Draft, seq: int | None = None) -> bool:
        """Write the draft (images first, then the JSON); an empty draft removes the folder's
        files. With `seq`, a save older than one already written is skipped (returns False).
        Images that cannot be read any more (a file deleted since it was attached) are left
        out, and so is anything that is not a regular file (a FIFO, a device)."""
        folder = self.folder(agent_id)
        # Attached files are read before taking the lock: a slow or huge file must never hold
        # up another save, a load, or the closing window's flush.
        sources = self._read_sources(folder, draft)
        with self._lock:
            if seq is not None:
                if seq < self._seq.get(agent_id, -1):
                    return False
                self._seq[agent_id] = seq
            keep = functools.partial(self._store_image, folder, sources)
            draft.images = [i for i in draft.images if keep(i)]
            for message in draft.unsent:
                message.images = [i for i in message.images if keep(i)]
            if draft.empty:
                self._remove(folder)
                return True
            payload = json.dumps(draft.to_json(), ensure_ascii=False, indent=1)
            atomic_write(folder / "draft.json", payload.encode("utf-8"))
            self._collect(folder, draft)
            return True

    def load(self, agent_id: str) -> Draft | None:
        """The saved draft with image bytes filled in; images that vanished are left out."""
        with self._lock:
            folder = self.folder(agent_id)
            try:
                raw = read_regular_file(folder / "draft.json", MAX_IMAGE_BYTES)
            except ImageRejected:
                return None
            try:
                data = json.loads(raw)
            except ValueError:
                return None
            if not isinstance(data, dict):
                return None
            draft = Draft(
                text=str(data.get("text") or ""),
                images=[i for i in map(DraftImage.from_json, data.get("images") or []) if i],
                unsent=[u for u in map(UnsentMessage.from_json, data.get("unsent") or []) if u],
            )
            draft.images = self._fill(folder, draft.images)
            for message in draft.unsent:
                message.images = self._fill(folder, message.images)
            return None if draft.empty else draft

    def clear(self, agent_id: str) -> None:
        with self._lock:
            self._remove(self.folder(agent_id))

    # -- internals ----------------------------------------------------------------------------

    def _read_sources(self, folder: Path, draft: Draft) -> dict[str, _Source]:
        """Each attached file's bytes (or the copy already stored), read without the lock.

        Only regular files are read (checked on the open descriptor, so a FIFO never blocks);
        a file already copied in, unchanged since, is not read again (typing saves often).
        """
        images = [*draft.images, *(i for u in draft.unsent for i in u.images)]
        paths = {i.path for i in images if i.path and i.data is None and not i.url}
        out: dict[str, _Source] = {}
        for path in paths:
            try:
                with open_regular(path) as (fh, st):
                    key = (path, st.st_size, st.st_mtime_ns)
                    known = self._copied.get(key)  # a stale miss only costs a re-read
                    if known and (folder / "images" / known).is_file():
                        out[path] = _Source(key, sha256=known)
                        continue
                    data = read_capped(fh, st, MAX_IMAGE_BYTES)
            except ImageRejected as exc:
                out[path] = _Source(None, gone=exc.reason == errors.NOT_FOUND)
                continue
            out[path] = _Source(key, sha256=_sha256(data), data=data)
        return out

    def _store_image(self, folder: Path, sources: dict[str, _Source], image: DraftImage) -> bool:
        """Make sure the image's bytes are in `folder/images`; False when there are none."""
        if image.url:
            return True
        if image.b64 is not None and image.data is None:
            try:
                image.data = base64.b64decode(image.b64, validate=True)
            except (binascii.Error, ValueError):
                return False
        if image.data is None and image.path:
            source = sources.get(image.path)
            if source is None or source.key is None:
                # Deleted since it was attached: the copy made then stands in.
                known = self._by_path.get(image.path) if source and source.gone else None
                if known and (folder / "images" / known).is_file():
                    image.sha256 = known
                    return True
                return False
            image.sha256, image.data = source.sha256, source.data
            self._copied[source.key] = self._by_path[image.path] = source.sha256
            if image.data is None:  # already stored, unchanged
                return (folder / "images" / source.sha256).is_file()
        if image.data is not None:
            if not image.sha256:
                image.sha256 = _sha256(image.data)
            target = folder / "images" / image.sha256
            if not target.is_file():
                atomic_write(target, image.data)
            return True
        return bool(image.sha256 and (folder / "images" / image.sha256).is_file())

    @staticmethod
    def _fill(folder: Path, images: list[DraftImage]) -> list[DraftImage]:
        out = []
        for image in images:
            if image.sha256:
                try:
                    stored = folder / "images" / image.sha256
                    image.data = read_regular_file(stored, MAX_IMAGE_BYTES)
                except ImageRejected:
                    continue
                if _sha256(image.data) != image.sha256:
                    continue  # damaged on disk: leave it out rather than send garbage
            out.append(image)
        return out

    @staticmethod
    def _collect(folder: Path, draft: Draft) -> None:
        keep = {i.sha256 for i in draft.images if i.sha256}
        keep |= {i.sha256 for u in draft.unsent for i in u.images if i.sha256}
        with contextlib.suppress(OSError):
            for path in (folder / "images").iterdir():
                if path.name not in keep:
                    with contextlib.suppress(OSError):
                        path.unlink()

    @staticmethod
    def _remove(folder: Path) -> None:
        with contextlib.suppress(OSError):
            (folder / "draft.json").unlink()
        _fsync_dir(folder)
        with contextlib.suppress(OSError):
            for path in (folder / "images").iterdir():
                with contextlib.suppress(OSError):
                    path.unlink()
        for path in (folder / "images", folder):
            with contextlib.suppress(OSError):
                path.rmdir()
