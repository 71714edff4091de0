"""The one way to run work off the GUI thread.

`Workers.submit(fn, ...)` runs `fn` on a QThreadPool thread and delivers its result or exception
back on the GUI thread, through a queued signal on a relay object that lives there. Generators can
be run with `submit_iter`, which delivers each item as it is produced (used for the reply stream).
Workers never touch widgets; they return plain data.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import sys
import threading
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

log = logging.getLogger(__name__)

Callback = Callable[[Any], None]

_RESULT, _ERROR, _ITEM, _FINISHED = range(4)


@dataclass
class _Callbacks:
    on_result: Callback | None
    on_error: Callback | None
    on_item: Callback | None
    on_finished: Callable[[], None] | None
    owner: QObject | None


class Task:
    """A handle on submitted work; `cancelled` is a flag the work may poll."""

    def __init__(self, task_id: int):
        self.id = task_id
        self._cancel = threading.Event()
        self.done = False

    def cancel(self) -> None:
        """Drop any results still to come (and signal `is_cancelled` to cooperative work)."""
        self._cancel.set()

    @property
    def is_cancelled(self) -> bool:
        return self._cancel.is_set()


class _Relay(QObject):
    """Lives on the GUI thread; worker threads emit, the slot runs callbacks on the GUI thread."""

    event = Signal(int, int, object)

    def __init__(self, workers: Workers):
        super().__init__()
        self._workers = workers
        self.event.connect(self._dispatch)

    @Slot(int, int, object)
    def _dispatch(self, task_id: int, what: int, payload: object) -> None:
        self._workers._deliver(task_id, what, payload)


WORKER_NICE = 10
"""Niceness of pool threads (Linux): on a 2-core machine four decodes would otherwise take the
GUI thread's turn for tens of milliseconds; the GUI thread must win every time it has work."""
_niced = threading.local()


def _lower_thread_priority() -> None:
    """Once per pool thread: `setpriority` on a thread id changes only that thread (Linux)."""
    if getattr(_niced, "done", False):
        return
    _niced.done = True
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), WORKER_NICE)


class _Runnable(QRunnable):
    def __init__(self, relay: _Relay, task: Task, fn: Callable[[], Any], iterate: bool):
        super().__init__()
        self.setAutoDelete(True)
        self._relay, self._task, self._fn, self._iterate = relay, task, fn, iterate

    def run(self) -> None:
        _lower_thread_priority()
        emit = self._relay.event.emit
        tid = self._task.id
        try:
            if self._iterate:
                for item in self._fn():
                    if self._task.is_cancelled:
                        break
                    emit(tid, _ITEM, item)
                emit(tid, _RESULT, None)
            else:
                emit(tid, _RESULT, self._fn())
        except BaseException as exc:  # delivered, never swallowed: the GUI decides what to say
            exc.__traceback_text__ = traceback.format_exc()  # type: ignore[attr-defined]
            emit(tid, _ERROR, exc)
        finally:
            emit(tid, _FINISHED, None)


class Workers:
    """A small pool for I/O and CPU work (HTTP, decoding, base64)."""

    def __init__(self, max_threads: int = 4):
        self._pool = QThreadPool()
        self._pool.setMaxThreadCount(max_threads)
        self._relay = _Relay(self)
        self._ids = itertools.count(1)
        self._callbacks: dict[int, _Callbacks] = {}
        self._tasks: dict[int, Task] = {}

    def submit(
        self,
        fn: Callable[..., Any],
        *args: Any,
        on_result: Callback | None = None,
        on_error: Callback | None = None,
        on_finished: Callable[[], None] | None = None,
        owner: QObject | None = None,
        **kwargs: Any,
    ) -> Task:
        return self._start(
            lambda: fn(*args, **kwargs), False, on_result, on_error, None, on_finished, owner
        )

    def submit_iter(
        self,
        fn: Callable[..., Iterable[Any]],
        *args: Any,
        on_item: Callback | None = None,
        on_result: Callback | None = None,
        on_error: Callback | None = None,
        on_finished: Callable[[], None] | None = None,
        owner: QObject | None = None,
        **kwargs: Any,
    ) -> Task:
        return self._start(
            lambda: fn(*args, **kwargs), True, on_result, on_error, on_item, on_finished, owner
        )

    def _start(
        self,
        fn: Callable[[], Any],
        iterate: bool,
        on_result: Callback | None,
        on_error: Callback | None,
        on_item: Callback | None,
        on_finished: Callable[[], None] | None,
        owner: QObject | None,
    ) -> Task:
        task = Task(next(self._ids))
        self._callbacks[task.id] = _Callbacks(on_result, on_error, on_item, on_finished, owner)
        self._tasks[task.id] = task
        self._pool.start(_Runnable(self._relay, task, fn, iterate))
        return task

    def _deliver(self, task_id: int, what: int, payload: object) -> None:
        cbs = self._callbacks.get(task_id)
        task = self._tasks.get(task_id)
        if cbs is None or task is None:
            return
        if what == _FINISHED:
            task.done = True
            del self._callbacks[task_id]
            del self._tasks[task_id]
        owner_gone = cbs.owner is not None and not shiboken6.isValid(cbs.owner)
        if owner_gone or (task.is_cancelled and what != _FINISHED):
            return
        if what == _RESULT and cbs.on_result:
            cbs.on_result(payload)
        elif what == _ITEM and cbs.on_item:
            cbs.on_item(payload)
        elif what == _ERROR:
            if cbs.on_error:
                cbs.on_error(payload)
            else:
                log.error(
                    "unhandled worker error: %s", getattr(payload, "__traceback_text__", payload)
                )
        elif what == _FINISHED and cbs.on_finished and not owner_gone:
            cbs.on_finished()

    @property
    def active_count(self) -> int:
        return len(self._tasks)

    def wait(self, msecs: int = 30000) -> bool:
        """Block until all work is done (used at shutdown and in tests)."""
        return self._pool.waitForDone(msecs)

    def shutdown(self, msecs: int = 5000) -> None:
        for task in list(self._tasks.values()):
            task.cancel()
        self._pool.clear()
        self._pool.waitForDone(msecs)
