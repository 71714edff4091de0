"""The draft store: atomic, per agent, images copied in, unsent messages with their otid."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from desktop.core import drafts as drafts_mod
from desktop.core.drafts import Draft, DraftImage, DraftStore, UnsentMessage, atomic_write

ROOT = Path(__file__).resolve().parents[2]


def test_round_trip_text_images_and_unsent(tmp_path):
    store = DraftStore(tmp_path / "drafts")
    photo = tmp_path / "photo ☀ é.png"
    photo.write_bytes(b"\x89PNG file bytes")
    draft = Draft(
        text="half a thought…",
        images=[
            DraftImage("pasted.png", data=b"pasted bytes"),
            DraftImage(photo.name, path=str(photo)),
            DraftImage("cat.png", url="https://example.org/cat.png"),
        ],
        unsent=[
            UnsentMessage(
                "otid-1",
                "did it arrive?",
                [
                    DraftImage(
                        "a.jpg", b64=base64.b64encode(b"jpeg").decode(), media_type="image/jpeg"
                    )
                ],
                "broke",
                sent_at=1764000000.5,
            )
        ],
    )
    assert store.save("agent-1", draft)
    loaded = store.load("agent-1")
    assert loaded is not None and loaded.text == "half a thought…"
    assert [(i.name, i.data, i.url) for i in loaded.images] == [
        ("pasted.png", b"pasted bytes", None),
        (photo.name, b"\x89PNG file bytes", None),
        ("cat.png", None, "https://example.org/cat.png"),
    ]
    [unsent] = loaded.unsent
    assert (unsent.otid, unsent.text, unsent.error) == ("otid-1", "did it arrive?", "broke")
    assert unsent.sent_at == 1764000000.5  # Retry's history check looks back to there
    assert unsent.images[0].data == b"jpeg" and unsent.images[0].media_type == "image/jpeg"
    # the file was copied in: the draft survives the original being deleted
    photo.unlink()
    assert store.load("agent-1").images[1].data == b"\x89PNG file bytes"
    # other agents are separate
    assert store.load("agent-2") is None


def test_an_empty_draft_removes_everything(tmp_path):
    store = DraftStore(tmp_path)
    store.save("agent-1", Draft("x", [DraftImage("a", data=b"1")]))
    store.save("agent-1", Draft())
    assert store.load("agent-1") is None
    assert not store.folder("agent-1").exists()


def test_images_no_longer_named_are_removed_and_temp_files_too(tmp_path):
    store = DraftStore(tmp_path)
    store.save("a", Draft("x", [DraftImage("1", data=b"one"), DraftImage("2", data=b"two")]))
    (store.folder("a") / "images" / ".junk.tmp").write_bytes(b"left by a crash")
    store.save("a", Draft("x", [DraftImage("2", data=b"two")]))
    assert len(list((store.folder("a") / "images").iterdir())) == 1


def test_a_file_deleted_before_the_save_is_left_out(tmp_path):
    store = DraftStore(tmp_path / "d")
    store.save("a", Draft("text", [DraftImage("gone.png", path=str(tmp_path / "gone.png"))]))
    draft = store.load("a")
    assert draft.text == "text" and draft.images == []


def test_a_failed_write_leaves_the_old_draft_whole(tmp_path, monkeypatch):
    store = DraftStore(tmp_path)
    store.save("a", Draft("old text"))

    def boom(*_a):
        raise OSError("disk full")

    monkeypatch.setattr(drafts_mod.os, "replace", boom)
    with pytest.raises(OSError):
        store.save("a", Draft("new text"))
    monkeypatch.undo()
    assert store.load("a").text == "old text"
    assert [p.name for p in store.folder("a").iterdir()] == ["draft.json"]  # no temp left


def test_older_saves_never_overwrite_newer_ones(tmp_path):
    store = DraftStore(tmp_path)
    assert store.save("a", Draft("newer"), seq=2)
    assert not store.save("a", Draft("older"), seq=1)
    assert store.load("a").text == "newer"


def test_damaged_files_are_survived(tmp_path):
    store = DraftStore(tmp_path)
    store.save("a", Draft("t", [DraftImage("x", data=b"image")]))
    folder = store.folder("a")
    [image] = (folder / "images").iterdir()
    image.write_bytes(b"flipped bits")  # no longer matches its hash: left out, never sent
    assert store.load("a").images == []
    (folder / "draft.json").write_text("{not json")
    assert store.load("a") is None
    (folder / "draft.json").write_text(json.dumps({"text": 5, "unsent": [{"no": "otid"}]}))
    assert store.load("a").text == "5"


def test_agent_ids_become_safe_distinct_folder_names(tmp_path):
    store = DraftStore(tmp_path)
    a, b = store.folder("../../etc/passwd"), store.folder("..%2F..%2Fetc%2Fpasswd")
    assert a.parent == tmp_path and b.parent == tmp_path and a != b
    assert store.folder("agent-123") == tmp_path / "agent-123"


def test_atomic_write_replaces(tmp_path):
    target = tmp_path / "sub" / "f.json"
    atomic_write(target, b"1")
    atomic_write(target, b"2")
    assert target.read_bytes() == b"2" and os.listdir(target.parent) == ["f.json"]


_WRITER = textwrap.dedent("""
    import sys
    sys.path.insert(0, {root!r})
    from desktop.core.drafts import Draft, DraftImage, DraftStore
    store = DraftStore({folder!r})
    i = 0
    print("ready", flush=True)
    while True:
        i += 1
        text = f"version {{i}} " + "x" * (i % 5000)
        store.save("agent", Draft(text, [DraftImage("img", data=bytes([i % 256]) * 200_000)]))
""")


def test_kill_9_at_any_moment_leaves_a_whole_draft(tmp_path):
    """A writer saving as fast as it can is killed with SIGKILL, again and again: every time,
    the draft on disk loads whole (text consistent, image present and matching its hash)."""
    folder = tmp_path / "drafts"
    for round_ in range(6):
        proc = subprocess.Popen(
            [sys.executable, "-c", _WRITER.format(root=str(ROOT), folder=str(folder))],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert proc.stdout.readline().strip() == "ready"
            time.sleep(0.15 + 0.05 * round_)
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            proc.stdout.close()
        draft = DraftStore(folder).load("agent")
        assert draft is not None, f"round {round_}: nothing loadable"
        n = int(draft.text.split()[1])
        assert draft.text == f"version {n} " + "x" * (n % 5000)
        assert [i.data for i in draft.images] == [bytes([n % 256]) * 200_000]


def test_an_unsent_message_from_an_older_draft_has_no_send_time():
    assert UnsentMessage.from_json({"otid": "o", "text": "t"}).sent_at is None
    assert UnsentMessage.from_json({"otid": "o", "sent_at": "soon"}).sent_at is None
    assert UnsentMessage.from_json({"otid": "o", "sent_at": True}).sent_at is None


def test_an_images_edit_is_kept_and_an_unreadable_one_leaves_the_image_out(tmp_path):
    from desktop.core.images.edits import Edit, Rect

    store = DraftStore(tmp_path / "drafts")
    edit = Edit((640, 480)).with_crop(Rect(10, 20, 300, 200)).with_box(Rect(50, 60, 70, 80))
    draft = Draft(
        text="",
        images=[
            DraftImage("secret.png", data=b"source bytes", edit=edit),
            DraftImage("b.png", data=b"b"),
        ],
    )
    assert store.save("agent-1", draft)
    loaded = store.load("agent-1")
    assert [(i.name, i.data, i.edit) for i in loaded.images] == [
        ("secret.png", b"source bytes", edit),
        ("b.png", b"b", None),
    ]
    # A damaged edit: restoring that image unedited could send what was blacked out.
    path = store.folder("agent-1") / "draft.json"
    saved = json.loads(path.read_text())
    saved["images"][0]["edit"]["boxes"] = [[50, 60, "70", 80]]
    path.write_text(json.dumps(saved))
    assert [i.name for i in store.load("agent-1").images] == ["b.png"]
