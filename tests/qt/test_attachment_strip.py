"""The pending strip under load: a 200-file drop makes its chips over a few event-loop turns
without stalling the GUI, and removing, clearing or restoring attachments while chips are still
being made leaves exactly one chip per attachment, in order. Also the caption's lines and the
workers' preview decoding."""

from __future__ import annotations

import io
import time

import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, QUrl
from PySide6.QtGui import QColor, QImage, QPalette

from desktop.core.attachments import Attachment, Kind, State
from desktop.ui.attachments import AttachmentController, AttachmentStrip, Chip
from desktop.ui.attachments import controller as controller_module
from desktop.ui.attachments.controller import decode_preview
from desktop.ui.style.theme import dark_palette, light_palette
from desktop.ui.style.tones import error_color
from tests.stall import StallMeter

from . import attachments_support as support
from .attachments_support import jpeg_bytes, png_bytes, wait_settled, write
from .test_paste_drop import _drag

server, window = support.server, support.window  # fixtures (workers: tests/qt/conftest.py)


def _files(folder, n: int, w: int = 320, h: int = 200) -> list[str]:
    folder.mkdir(exist_ok=True)
    data = png_bytes(w, h)
    return [write(folder / f"shot {i:03}.png", data) for i in range(n)]


def _noise_png(w: int, h: int) -> bytes:
    """A PNG over 300 kB (noise does not compress): prepared by one decode, preview first."""
    import os

    out = io.BytesIO()
    Image.frombytes("RGB", (w, h), os.urandom(w * h * 3)).save(out, "PNG")
    assert len(out.getvalue()) > 300_000
    return out.getvalue()


def _strip(qtbot, workers) -> tuple[AttachmentController, AttachmentStrip]:
    controller = AttachmentController(workers)
    strip = AttachmentStrip(controller)
    qtbot.addWidget(strip)
    strip.resize(900, 120)
    strip.show()
    return controller, strip


def _assert_one_chip_each(qtbot, controller, strip) -> None:
    """Once the strip has caught up: one chip per attachment, in order, and no other chip."""
    qtbot.waitUntil(lambda: strip.waiting == 0, timeout=5000)
    made = strip.chips_made()
    assert [c.attachment for c in made] == controller.items
    assert strip.chips() == made  # nothing was left to make
    shown = [c for c in strip.findChildren(Chip) if c.isVisibleTo(strip)]
    assert {id(c) for c in shown} == {id(c) for c in made}  # no orphan left in the row
    assert strip.isVisible() == bool(controller.items)
    qtbot.waitUntil(lambda: not strip._turn.isActive(), timeout=1000)  # the turn timer stops


def test_a_200_file_drop_makes_its_chips_over_a_few_turns_without_stalling(qtbot, window, tmp_path):
    paths = _files(tmp_path, 200)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(p) for p in paths])
    strip = window.strip
    with StallMeter() as meter:
        assert _drag(window, mime)
        first = len(strip.chips_made())
        assert 0 < first <= AttachmentStrip.BATCH and strip.waiting == 200 - first
        assert strip.isVisible() and len(window.attachments) == 200  # the drop is all there
        qtbot.waitUntil(lambda: strip.waiting == 0, timeout=10000)
        wait_settled(qtbot, window.attachments, timeout=60000)
    items = window.attachments.items
    assert [c.attachment for c in strip.chips()] == items
    assert [a.name for a in items] == [f"shot {i:03}.png" for i in range(200)]
    # the model takes 100 images per request: the rest say why, one caption line each
    assert all(a.state is State.PROBLEM for a in items[100:])
    caption = strip.caption  # written once per turn: the last changes show a turn later
    qtbot.waitUntil(lambda: caption.lines() == strip.caption_text().split("\n"), timeout=2000)
    assert len(caption.lines()) == 100
    # Measured on the 2-core test machine (median of 7 runs): 45–60 ms with other test runs
    # sharing the cores, most of it the drop itself (200 attachments, 400 worker jobs) in its
    # first 200 ms; after that ~20 ms (16–28) since the vision banner shows a bounded summary
    # (40–70 ms when it listed every problem); 90 ms the worst seen. Making all 200 chips at
    # once stalled 280–560 ms. 200 ms leaves room for a loaded machine and still catches that.
    assert meter.max_stall_ms < 200, f"GUI stalled {meter.max_stall_ms:.0f} ms"


def test_removing_while_chips_are_being_made_leaves_one_chip_per_attachment(
    qtbot, workers, tmp_path
):
    # two that went out with a message that failed to send (ready; Edit brings them back)
    sent = AttachmentController(workers)
    failed = sent.add_files(_files(tmp_path / "sent", 2, 40, 30))
    wait_settled(qtbot, sent)
    sent.clear()
    controller, strip = _strip(qtbot, workers)
    added = controller.add_files(_files(tmp_path, 120, 40, 30))
    made = strip.chips_made()
    assert 0 < len(made) < 120 and strip.waiting == 120 - len(made)
    made[1].remove_button.click()  # a chip's ×
    controller.remove(added[0])  # one with a chip
    controller.remove(added[100])  # one whose chip is not made yet
    controller.remove_last()  # Backspace on an empty composer: no chip yet either
    assert [c.attachment for c in strip.chips_made()] == added[2 : len(made)]
    qtbot.wait(1)  # a turn or so later, more chips exist
    controller.remove(added[60])
    controller.restore(failed)  # in front of the others, while chips are still being made
    _assert_one_chip_each(qtbot, controller, strip)
    assert controller.items[:2] == failed and len(controller) == 117
    assert [c.attachment for c in strip.chips()[:2]] == failed
    wait_settled(qtbot, controller, timeout=30000)


def _removed_then_done(qtbot, workers, controller, att) -> None:
    """Remove `att` while it is preparing and let its worker jobs end while it is gone."""
    assert att.preparing
    controller.remove(att)
    qtbot.waitUntil(lambda: workers.active_count == 0, timeout=10000)  # results delivered


@pytest.mark.parametrize("source", ["file", "big bytes", "pasted QImage"])
def test_restoring_one_removed_while_it_was_preparing_makes_it_ready(
    qtbot, workers, tmp_path, source
):
    controller, strip = _strip(qtbot, workers)
    settled: list[int] = []
    controller.settled.connect(lambda: settled.append(1))
    if source == "file":
        att = controller.add_files([write(tmp_path / "a.png", png_bytes(400, 300))])[0]
    elif source == "big bytes":  # < 4 cores: one decode hands out the preview, then the result
        att = controller.add_bytes(_noise_png(700, 500), "noise.png")
    else:
        att = controller.add_qimage(QImage.fromData(png_bytes(400, 300)), "Pasted image.png")
    _removed_then_done(qtbot, workers, controller, att)
    assert settled == [1]  # the strip was empty: nothing was preparing any more
    controller.restore([att])  # Edit brings it back (the same object)
    qtbot.waitUntil(lambda: len(settled) == 2, timeout=10000)
    assert att.ready and att.prepared is not None and att.problem is None
    assert controller.items == [att] and not controller.preparing
    chip = strip.chip_for(att)
    assert chip is not None
    qtbot.waitUntil(lambda: chip.has_thumbnail, timeout=5000)
    qtbot.waitUntil(lambda: workers.active_count == 0, timeout=5000)


def test_restoring_one_preparing_with_no_run_here_prepares_it(qtbot, workers, tmp_path):
    controller, _ = _strip(qtbot, workers)
    att = controller.add_files([write(tmp_path / "a.png", png_bytes(40, 30))])[0]
    controller.remove(att)
    qtbot.waitUntil(lambda: workers.active_count == 0, timeout=10000)
    # "preparing" for a run that will never report here (another controller's, since dropped)
    att.state, att.prepared = State.PREPARING, None
    elsewhere = AttachmentController(workers)
    settled: list[int] = []
    elsewhere.settled.connect(lambda: settled.append(1))
    elsewhere.restore([att])
    qtbot.waitUntil(lambda: bool(settled), timeout=10000)
    assert att.ready and att.prepared is not None
    qtbot.waitUntil(lambda: workers.active_count == 0, timeout=5000)


def test_restoring_one_whose_job_is_still_running_waits_for_it(qtbot, workers, tmp_path):
    controller, _ = _strip(qtbot, workers)
    att = controller.add_files([write(tmp_path / "a.png", png_bytes(40, 30))])[0]
    jobs = workers.active_count
    controller.remove(att)
    controller.restore([att])  # before its results came back: they still count
    assert workers.active_count == jobs  # nothing started twice
    wait_settled(qtbot, controller)
    assert att.ready and controller.items == [att]
    qtbot.waitUntil(lambda: workers.active_count == 0, timeout=5000)


def test_clearing_while_chips_are_being_made_leaves_none_behind(qtbot, workers, tmp_path):
    controller, strip = _strip(qtbot, workers)
    paths = _files(tmp_path, 100, 40, 30)
    controller.add_files(paths)
    controller.clear()  # before a single turn
    assert strip.chips_made() == [] and strip.waiting == 0 and not strip.isVisible()
    controller.add_files(paths)
    qtbot.wait(1)
    assert strip.waiting > 0
    controller.clear()  # what a send does, here in the middle of making chips
    _assert_one_chip_each(qtbot, controller, strip)
    again = controller.add_files(paths[:3])
    _assert_one_chip_each(qtbot, controller, strip)
    assert [c.attachment for c in strip.chips()] == again
    wait_settled(qtbot, controller, timeout=30000)


def test_chips_and_chip_for_make_waiting_chips_on_demand(qtbot, workers, tmp_path):
    controller, strip = _strip(qtbot, workers)
    added = controller.add_files(_files(tmp_path, 60, 40, 30))
    assert strip.waiting > 0
    chip = strip.chip_for(added[-1])
    assert chip is not None and chip.attachment is added[-1] and strip.waiting == 0
    assert [c.attachment for c in strip.chips()] == added
    assert chip.accessibleName() == f"Attachment {added[-1].name}"
    assert chip.toolTip().startswith(f"{added[-1].name}\n")
    wait_settled(qtbot, controller, timeout=30000)
    _assert_one_chip_each(qtbot, controller, strip)


def test_a_burst_of_adds_starts_its_worker_jobs_after_the_last_add(
    qtbot, workers, tmp_path, monkeypatch
):
    controller = AttachmentController(workers)
    added: list[Attachment] = []
    adds_when_a_job_ran: list[int] = []
    real_thumbnail, real_prepare = controller_module.thumbnail_job, Attachment.prepare

    def thumbnail_job(att, edge):
        adds_when_a_job_ran.append(len(added))
        return real_thumbnail(att, edge)

    def prepare(att, limits):
        adds_when_a_job_ran.append(len(added))
        return real_prepare(att, limits)

    monkeypatch.setattr(controller_module, "thumbnail_job", thumbnail_job)
    monkeypatch.setattr(Attachment, "prepare", prepare)

    def slow_add(att: Attachment) -> None:
        added.append(att)
        time.sleep(0.005)  # time enough for a job started now to run on a worker

    controller.added.connect(slow_add)
    controller.add_files(_files(tmp_path, 5, 40, 30))
    assert workers.active_count == 10  # an early thumbnail and a preparation each
    assert all(a.limits is not None for a in controller.items)  # limits taken at each add
    wait_settled(qtbot, controller)
    assert all(a.ready and isinstance(a.preview, QImage) for a in controller.items)
    assert adds_when_a_job_ran == [5] * 10


def test_the_caption_has_a_line_per_problem_or_url_in_its_colour(qtbot, workers, tmp_path):
    controller, strip = _strip(qtbot, workers)
    controller.add_files([write(tmp_path / "broken.png", png_bytes(400, 300)[:200])])
    controller.add_url("https://images.example.org/cat.png")
    controller.add_files([write(tmp_path / "fine.png", png_bytes(40, 30))])
    wait_settled(qtbot, controller)
    caption = strip.caption
    qtbot.waitUntil(lambda: caption.lines() == strip.caption_text().split("\n"), timeout=2000)
    assert len(caption.lines()) == 2 and caption.lines()[0].startswith("broken.png: ")
    muted = strip.palette().color(QPalette.ColorRole.PlaceholderText)
    assert caption.colors() == [error_color(strip.palette()), muted]
    strip.setPalette(dark_palette())  # the dark theme's red: readable on a dark window
    dark_red = error_color(dark_palette())
    assert dark_red.lightnessF() > error_color(light_palette()).lightnessF()
    qtbot.waitUntil(lambda: caption.colors()[0] == dark_red, timeout=2000)
    assert caption.isVisible() and caption.accessibleName() == "Attachment notes"
    assert caption.accessibleDescription() == strip.caption_text()
    # word-wrapped: narrower is taller, and the height at a width is what the lines need
    assert caption.heightForWidth(120) > caption.heightForWidth(2000) > 0
    assert caption.height() >= caption.heightForWidth(caption.width())
    strip.grab()  # painting must not warn
    controller.remove(controller.items[0])
    controller.remove(next(a for a in controller.items if a.kind is Kind.URL))
    qtbot.waitUntil(lambda: not caption.isVisible(), timeout=2000)
    assert caption.lines() == []


# -- preview decoding on the workers -----------------------------------------------------------


def _solid(fmt: str, size=(600, 300), color=(30, 140, 90)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, fmt)
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_previews_decode_small_and_in_colour(fmt):
    image = decode_preview(_solid(fmt))
    assert (image.width(), image.height()) == (240, 120)
    assert image.format() == QImage.Format.Format_ARGB32_Premultiplied
    got = image.pixelColor(120, 60)
    assert max(abs(got.red() - 30), abs(got.green() - 140), abs(got.blue() - 90)) <= 3
    assert decode_preview(jpeg_bytes(100, 50)).size().toTuple() == (100, 50)  # never enlarged


def test_a_preview_that_cannot_be_decoded_is_a_value_error():
    with pytest.raises(ValueError, match="preview could not be decoded"):
        decode_preview(b"\x89PNG\r\n\x1a\n not really")


def test_a_transparent_preview_keeps_its_alpha():
    out = io.BytesIO()
    Image.new("RGBA", (40, 20), (255, 0, 0, 0)).save(out, "PNG")
    assert decode_preview(out.getvalue()).pixelColor(5, 5) == QColor(0, 0, 0, 0)


def test_a_chip_is_redrawn_when_its_look_changes_and_only_then(qtbot, workers):
    controller, strip = _strip(qtbot, workers)
    buf = io.BytesIO()
    Image.new("RGB", (400, 300), (200, 20, 30)).save(buf, "PNG")
    att = controller.add_bytes(buf.getvalue())
    chip = strip.chip_for(att)
    qtbot.waitUntil(lambda: chip.has_thumbnail and not att.preparing, timeout=5000)
    chip.repaint()
    face = chip._face
    ready = chip.grab().toImage()
    centre = ready.pixelColor(ready.width() // 2, ready.height() // 2)
    assert centre.red() > 150 and centre.green() < 80  # the preview, not a placeholder
    chip.repaint()
    assert chip._face is face  # same look: blitted, not drawn again
    att.state, att.problem = State.PROBLEM, "Too big."
    chip.refresh()
    chip.repaint()
    assert chip._face is not face
    edge = chip.grab().toImage().pixelColor(chip.width() // 2, 1)
    assert edge.red() > 150 and edge.green() < 100  # the problem's red border
