"""The draft store's files as they lie on disk, and what a restart gets back from them.

The folder name and `draft.json` are the on-disk contract: a draft written by one run must be
found by the next. A damaged, missing or strange file loses that one thing and nothing else."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat

import pytest

from desktop.core import drafts as drafts_mod
from desktop.core.drafts import Draft, DraftImage, DraftStore, UnsentMessage, atomic_write


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _saved_json(store: DraftStore, agent: str) -> dict:
    return json.loads((store.folder(agent) / "draft.json").read_text("utf-8"))


def _write_json(store: DraftStore, agent: str, data: object) -> None:
    folder = store.folder(agent)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "draft.json").write_text(json.dumps(data), "utf-8")


# -- names and files on disk -------------------------------------------------------------------


def test_folder_names_are_stable_across_runs(tmp_path):
    store = DraftStore(tmp_path)
    assert store.folder("agent-1a2b.c_d") == tmp_path / "agent-1a2b.c_d"
    cleaned = "agent/1 ü"
    assert store.folder(cleaned) == tmp_path / f"agent_1__-{_sha(cleaned.encode())[:12]}"
    safe_but_long = "a" * 100
    long_key = f"{'a' * 80}-{_sha(safe_but_long.encode())[:12]}"
    assert store.folder(safe_but_long) == tmp_path / long_key
    assert store.folder("a" * 80) == tmp_path / ("a" * 80)
    assert store.folder("") == tmp_path / f"_-{_sha(b'')[:12]}"


def test_draft_json_is_readable_utf8_and_private(tmp_path):
    store = DraftStore(tmp_path / "drafts")
    image = b"\x89PNG pixels"
    draft = Draft(
        "Grüße ☀",
        [DraftImage("shot.png", data=image, media_type="image/png")],
        [UnsentMessage("otid-1", "sent?", [], "offline", sent_at=12.5)],
    )
    assert store.save("agent", draft)
    folder = store.folder("agent")
    raw = (folder / "draft.json").read_bytes()
    expected = {
        "format": 1,
        "text": "Grüße ☀",
        "images": [{"name": "shot.png", "sha256": _sha(image), "media_type": "image/png"}],
        "unsent": [
            {"otid": "otid-1", "text": "sent?", "error": "offline", "images": [], "sent_at": 12.5}
        ],
    }
    # The user's words stay legible in the file (UTF-8, one key a line), not \u escapes.
    assert raw == json.dumps(expected, ensure_ascii=False, indent=1).encode("utf-8")
    assert "Grüße ☀".encode() in raw
    assert sorted(p.name for p in folder.iterdir()) == ["draft.json", "images"]
    assert [p.name for p in (folder / "images").iterdir()] == [_sha(image)]
    assert (folder / "images" / _sha(image)).read_bytes() == image
    for path in (folder / "draft.json", folder / "images" / _sha(image)):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for path in (folder, folder / "images"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o700


def test_atomic_write_goes_through_a_hidden_temp_file_next_to_the_target(tmp_path, monkeypatch):
    """The temp file is in the same folder (a rename within one file system is atomic), named
    `.<name>.*.tmp`: what a crash leaves behind is recognisable and never taken for a draft."""
    renames = []
    real_replace = os.replace

    def watch(src, dst):
        renames.append((src, dst))
        real_replace(src, dst)

    monkeypatch.setattr(drafts_mod.os, "replace", watch)
    target = tmp_path / "agent" / "draft.json"
    atomic_write(target, b"{}")
    [(src, dst)] = renames
    assert dst == target and os.path.dirname(src) == str(target.parent)
    name = os.path.basename(src)
    assert name.startswith(".draft.json.") and name.endswith(".tmp")
    assert target.read_bytes() == b"{}"


def test_a_failed_write_reports_its_own_error(tmp_path, monkeypatch):
    """Even when the temp file is already gone, the caller sees why the write failed."""

    def lost(src, _dst):
        os.unlink(src)
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(drafts_mod.os, "replace", lost)
    with pytest.raises(OSError, match="Input/output error"):
        atomic_write(tmp_path / "draft.json", b"{}")
    assert os.listdir(tmp_path) == []


# -- saving ------------------------------------------------------------------------------------


def test_save_order_by_seq(tmp_path):
    store = DraftStore(tmp_path)
    assert store.save("a", Draft("first"), seq=0)  # any first save is written
    assert store.save("a", Draft("same seq again"), seq=0)  # not older: written
    assert store.load("a").text == "same seq again"
    assert store.save("b", Draft("b's own count"), seq=0)  # per agent


def test_saving_an_empty_draft_succeeds_and_leaves_nothing(tmp_path):
    store = DraftStore(tmp_path)
    store.save("a", Draft("x", [DraftImage("i", data=b"1")]))
    assert store.save("a", Draft()) is True
    assert not store.folder("a").exists()


def test_clearing_removes_only_that_agent_and_never_fails(tmp_path):
    store = DraftStore(tmp_path)
    store.save("a", Draft("mine", [DraftImage("i", data=b"1")]))
    store.save("b", Draft("other"))
    store.clear("never-saved")  # no folder at all
    store.save("text-only", Draft("no images folder"))
    store.clear("text-only")
    assert not store.folder("text-only").exists()
    # Something in images/ that cannot be unlinked (a folder) does not stop the rest.
    (store.folder("a") / "images" / "stray").mkdir()
    store.clear("a")
    assert store.load("a") is None
    assert not (store.folder("a") / "draft.json").exists()
    assert store.load("b").text == "other"


def test_a_stray_folder_among_the_images_does_not_stop_a_save(tmp_path):
    store = DraftStore(tmp_path)
    store.save("a", Draft("v1", [DraftImage("i", data=b"1")]))
    (store.folder("a") / "images" / "stray").mkdir()
    assert store.save("a", Draft("v2", [DraftImage("j", data=b"2")]))
    assert [(i.name, i.data) for i in store.load("a").images] == [("j", b"2")]


def test_bytes_given_are_stored_even_with_a_path(tmp_path):
    store = DraftStore(tmp_path / "d")
    store.save("a", Draft("t", [DraftImage("x.png", data=b"given", path=str(tmp_path / "none"))]))
    assert [i.data for i in store.load("a").images] == [b"given"]


def test_damaged_base64_is_left_out_of_the_file(tmp_path):
    store = DraftStore(tmp_path)
    good = base64.b64encode(b"jpeg").decode()
    images = [DraftImage("bad.jpg", b64="aGVs*bG8="), DraftImage("ok.jpg", b64=good)]
    store.save("a", Draft("", [], [UnsentMessage("o", "t", images)]))
    [message] = _saved_json(store, "a")["unsent"]
    assert message["images"] == [{"name": "ok.jpg", "sha256": _sha(b"jpeg")}]
    assert [i.data for i in store.load("a").unsent[0].images] == [b"jpeg"]


def test_an_image_known_by_its_hash_is_kept_while_its_bytes_are_stored(tmp_path):
    store = DraftStore(tmp_path)
    store.save("a", Draft("t", [DraftImage("one", data=b"1")]))
    stored, missing = DraftImage("one", sha256=_sha(b"1")), DraftImage("two", sha256=_sha(b"2"))
    store.save("a", Draft("t", [stored, missing]))
    assert [i["name"] for i in _saved_json(store, "a")["images"]] == ["one"]
    assert [(i.name, i.data) for i in store.load("a").images] == [("one", b"1")]


# -- attached files ----------------------------------------------------------------------------


def _draft_with_copied_photo(tmp_path):
    """A draft saved with an attached file, which is then deleted from its folder."""
    store = DraftStore(tmp_path / "d")
    photo = tmp_path / "photo.png"
    photo.write_bytes(b"photo bytes")
    store.save("a", Draft("v1", [DraftImage("photo.png", path=str(photo))]))
    photo.unlink()
    return store, photo


def test_a_file_deleted_after_it_was_copied_in_stays_in_the_draft(tmp_path):
    store, photo = _draft_with_copied_photo(tmp_path)
    store.save("a", Draft("v2", [DraftImage("photo.png", path=str(photo))]))
    assert _saved_json(store, "a")["images"] == [
        {"name": "photo.png", "sha256": _sha(b"photo bytes")}
    ]
    assert [(i.name, i.data) for i in store.load("a").images] == [("photo.png", b"photo bytes")]


def test_a_file_replaced_by_a_fifo_is_left_out(tmp_path):
    store, photo = _draft_with_copied_photo(tmp_path)
    os.mkfifo(photo)  # not a regular file: never read, and not "deleted" either
    store.save("a", Draft("v2", [DraftImage("photo.png", path=str(photo))]))
    assert _saved_json(store, "a")["images"] == []
    assert store.load("a").images == []


def test_a_missing_file_is_left_out_of_the_file_and_the_others_kept(tmp_path):
    store = DraftStore(tmp_path / "d")
    kept = tmp_path / "kept.png"
    kept.write_bytes(b"kept")
    images = [DraftImage(n, path=str(tmp_path / n)) for n in ("gone1.png", "kept.png", "gone2.png")]
    store.save("a", Draft("t", images))
    assert _saved_json(store, "a")["images"] == [{"name": "kept.png", "sha256": _sha(b"kept")}]


def test_unchanged_attached_files_are_read_once(tmp_path, monkeypatch):
    """Typing saves every few hundred ms: a big attached file must not be read each time."""
    store = DraftStore(tmp_path / "d")
    files = []
    for n in range(3):
        path = tmp_path / f"p{n}.png"
        path.write_bytes(b"image %d" % n)
        files.append(path)
    reads = []
    real_read = drafts_mod.read_capped

    def counting(fh, st, cap):
        reads.append(st.st_ino)
        return real_read(fh, st, cap)

    monkeypatch.setattr(drafts_mod, "read_capped", counting)
    for text in ("a", "ab", "abc"):
        store.save("a", Draft(text, [DraftImage(p.name, path=str(p)) for p in files]))
        loaded = store.load("a")
        assert [(i.name, i.data) for i in loaded.images] == [
            (p.name, p.read_bytes()) for p in files
        ]
    assert len(reads) == 3
    files[1].write_bytes(b"edited, longer")  # changed: read again
    store.save("a", Draft("abcd", [DraftImage(p.name, path=str(p)) for p in files]))
    assert len(reads) == 4
    assert store.load("a").images[1].data == b"edited, longer"


# -- loading: what a restart gets back ---------------------------------------------------------


def test_one_bad_image_loses_nothing_else(tmp_path):
    store = DraftStore(tmp_path)
    images = [DraftImage(n, data=n.encode()) for n in ("deleted", "damaged", "fine1", "fine2")]
    store.save("a", Draft("t", images))
    (store.folder("a") / "images" / _sha(b"deleted")).unlink()
    (store.folder("a") / "images" / _sha(b"damaged")).write_bytes(b"flipped")
    assert [(i.name, i.data) for i in store.load("a").images] == [
        ("fine1", b"fine1"),
        ("fine2", b"fine2"),
    ]


def test_missing_fields_load_as_empty_or_plain_defaults(tmp_path):
    store = DraftStore(tmp_path)
    store.save("a", Draft("", [DraftImage("x", data=b"bytes")]))
    sha = _sha(b"bytes")
    _write_json(
        store,
        "a",
        {
            "images": [{"sha256": sha, "media_type": 5}],
            "unsent": [{"otid": "o"}],
        },
    )
    draft = store.load("a")
    assert draft.text == ""
    [image] = draft.images
    assert (image.name, image.data, image.media_type, image.url) == ("image", b"bytes", None, None)
    [message] = draft.unsent
    assert (message.otid, message.text, message.error, message.images) == ("o", "", "", [])


def test_an_image_entry_is_a_url_only_when_the_url_is_real_text(tmp_path):
    store = DraftStore(tmp_path)
    store.save("a", Draft("", [DraftImage("x", data=b"bytes")]))
    sha = _sha(b"bytes")
    _write_json(
        store,
        "a",
        {
            "text": "t",
            "images": [
                {"name": "empty url", "url": "", "sha256": sha},
                {"name": "number url", "url": 7, "sha256": sha},
                {"name": "bad hash", "sha256": 12345},
                {"name": "not a hash", "sha256": "../draft.json"},
                {"name": "web", "url": "https://x.org/cat.png"},
            ],
        },
    )
    assert [(i.name, i.url, i.data) for i in store.load("a").images] == [
        ("empty url", None, b"bytes"),
        ("number url", None, b"bytes"),
        ("web", "https://x.org/cat.png", None),
    ]
    assert DraftImage.from_json({"name": "n", "sha256": "../draft.json"}) is None


def test_a_draft_whose_contents_are_all_gone_loads_as_none(tmp_path):
    store = DraftStore(tmp_path)
    store.save("a", Draft("", [DraftImage("x", data=b"bytes")]))
    (store.folder("a") / "images" / _sha(b"bytes")).unlink()
    assert store.load("a") is None
    _write_json(store, "b", {"format": 1, "text": "", "images": [], "unsent": []})
    assert store.load("b") is None
