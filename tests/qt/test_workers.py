"""The worker helper's staleness guard (`Epoch`) and its held start (`Workers.held`).

Work is gated on threading.Events so each test decides when a worker finishes; results then
travel to the GUI thread as queued signals, delivered while qtbot waits.
"""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QObject

from desktop.workers import Workers

GATE_TIMEOUT = 10.0


def _gated(gate: threading.Event, value: object) -> object:
    assert gate.wait(GATE_TIMEOUT), "the test never opened the gate"
    return value


def _gated_failure(gate: threading.Event, message: str) -> None:
    assert gate.wait(GATE_TIMEOUT), "the test never opened the gate"
    raise ValueError(message)


def _settle(qtbot, workers: Workers) -> None:
    qtbot.waitUntil(lambda: workers.active_count == 0, timeout=10000)


def test_a_result_of_an_older_epoch_is_dropped_and_the_current_one_arrives(qtbot, workers):
    epoch = workers.epoch()
    results: list[object] = []
    old_gate, new_gate = threading.Event(), threading.Event()
    epoch.submit(_gated, old_gate, "agent A's reply", on_result=results.append)
    epoch.renew()  # the user opened agent B
    epoch.submit(_gated, new_gate, "agent B's reply", on_result=results.append)
    new_gate.set()
    qtbot.waitUntil(lambda: results != [], timeout=10000)
    old_gate.set()  # A's answer comes last: it must not replace B's
    _settle(qtbot, workers)
    assert results == ["agent B's reply"]


def test_a_result_already_on_its_way_to_the_gui_thread_is_dropped(qtbot, workers):
    epoch = workers.epoch()
    results: list[object] = []
    epoch.submit(lambda: "stale page", on_result=results.append)
    # The worker is done and its result queued, but the GUI thread has not handled it yet.
    assert workers.wait(10000)
    epoch.renew()
    _settle(qtbot, workers)
    assert results == []


def test_an_error_of_an_older_epoch_is_dropped(qtbot, workers):
    epoch = workers.epoch()
    errors: list[str] = []
    gate = threading.Event()
    epoch.submit(_gated_failure, gate, "agent A is gone", on_error=lambda e: errors.append(str(e)))
    epoch.renew()
    epoch.submit(_gated_failure, gate, "agent B is gone", on_error=lambda e: errors.append(str(e)))
    gate.set()
    _settle(qtbot, workers)
    assert errors == ["agent B is gone"]


def test_items_of_an_older_epoch_stop_and_are_dropped(qtbot, workers):
    epoch = workers.epoch()
    items: list[str] = []
    produced: list[str] = []
    gate = threading.Event()

    def steps():
        for step in ("preview", "prepared", "never needed"):
            produced.append(step)
            yield step
            if step == "preview":
                assert gate.wait(GATE_TIMEOUT)

    epoch.submit_iter(steps, on_item=items.append)
    qtbot.waitUntil(lambda: items == ["preview"], timeout=10000)
    epoch.renew()  # prepared again for other limits: the rest of this run is unwanted
    gate.set()
    _settle(qtbot, workers)
    assert items == ["preview"]
    assert produced == ["preview", "prepared"]  # the worker stopped at the next item


def test_items_already_on_their_way_to_the_gui_thread_are_dropped(qtbot, workers):
    epoch = workers.epoch()
    items: list[object] = []
    results: list[object] = []
    epoch.submit_iter(
        lambda: iter(["chunk 1", "chunk 2"]), on_item=items.append, on_result=results.append
    )
    assert workers.wait(10000)  # every item is queued; none handled yet
    epoch.renew()
    _settle(qtbot, workers)
    assert items == [] and results == []


def test_on_finished_runs_once_for_stale_and_current_work(qtbot, workers):
    epoch = workers.epoch()
    finished: list[str] = []
    gate = threading.Event()
    epoch.submit(_gated, gate, 1, on_finished=lambda: finished.append("old"))
    epoch.renew()
    epoch.submit(_gated, gate, 2, on_finished=lambda: finished.append("new"))
    gate.set()
    _settle(qtbot, workers)
    assert sorted(finished) == ["new", "old"]


def test_busy_counts_only_work_of_the_current_epoch(qtbot, workers):
    epoch = workers.epoch()
    gate = threading.Event()
    assert not epoch.busy
    epoch.submit(_gated, gate, 1)
    assert epoch.busy
    epoch.renew()
    assert not epoch.busy  # the old run will report nothing: nothing to wait for
    epoch.submit(_gated, gate, 2)
    assert epoch.busy
    gate.set()
    qtbot.waitUntil(lambda: not epoch.busy, timeout=10000)
    _settle(qtbot, workers)


def test_renewing_one_epoch_leaves_another_alone(qtbot, workers):
    first, second = workers.epoch(), workers.epoch()
    results: list[object] = []
    gate = threading.Event()
    first.submit(_gated, gate, "first", on_result=results.append)
    second.submit(_gated, gate, "second", on_result=results.append)
    plain = workers.submit(_gated, gate, "plain", on_result=results.append)
    first.renew()
    gate.set()
    _settle(qtbot, workers)
    assert sorted(results) == ["plain", "second"]
    assert not plain.is_cancelled


def test_an_epochs_work_delivers_nothing_once_its_owner_is_deleted(qtbot, workers):
    owner = QObject()
    epoch = workers.epoch(owner)
    results: list[object] = []
    finished: list[int] = []
    gate = threading.Event()
    epoch.submit(
        _gated, gate, "late", on_result=results.append, on_finished=lambda: finished.append(1)
    )
    owner.deleteLater()
    qtbot.waitUntil(lambda: not _alive(owner), timeout=5000)
    gate.set()
    _settle(qtbot, workers)
    assert results == [] and finished == []


def _alive(obj: QObject) -> bool:
    import shiboken6

    return shiboken6.isValid(obj)


@pytest.mark.parametrize("nested", [False, True])
def test_held_work_starts_at_the_end_in_order(qtbot, workers, nested):
    started: list[int] = []
    lock = threading.Lock()
    solo = Workers(max_threads=1)  # one thread: the start order is the run order
    try:

        def job(n: int) -> None:
            with lock:
                started.append(n)

        with solo.held():
            for n in range(3):
                solo.submit(job, n)
            if nested:
                with solo.held():
                    solo.submit(job, 3)
                assert solo.active_count == 4
            assert solo.wait(200) and started == []  # nothing ran inside the block
        assert solo.wait(10000)
        assert started == [0, 1, 2, 3] if nested else [0, 1, 2]
    finally:
        solo.shutdown()
        solo.wait()
    qtbot.waitUntil(lambda: solo.active_count == 0, timeout=5000)


def test_held_work_of_an_epoch_renewed_before_it_started_is_dropped(qtbot, workers):
    epoch = workers.epoch()
    results: list[object] = []
    with workers.held():
        epoch.submit(lambda: "old limits", on_result=results.append)
        epoch.renew()
        epoch.submit(lambda: "new limits", on_result=results.append)
    _settle(qtbot, workers)
    assert results == ["new limits"]
