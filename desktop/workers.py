"""The one way to run work off the GUI thread.

`Workers.submit(fn, ...)` runs `fn` on a QThreadPool thread and delivers its result or exception
back on the GUI thread, through a queued signal on a relay object that lives there. Generators can
be run with `submit_iter`, which delivers each item as it is produced (used for the reply stream).
Workers never touch widgets; they return plain data.

Results that only matter until the user moves on (another agent opened, an image prepared again
for other limits, the transcript cleared) are submitted through an `Epoch`: `renew()` drops
everything submitted before it, so no callback has to ask whether its result is still wanted.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import sys
import threading
import traceback
from collections.abc import Callable, Iterable, Iterator
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
    epoch: Epoch | None = None


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


class Epoch:
    """Work that is wanted until the next `renew()`.

    `renew()` cancels every task submitted through this epoch so far: their results, items and
    errors are dropped (even those already on their way to the GUI thread), and a generator
    stops at its next item. Their `on_finished` still runs, once, as for any cancelled task: it
    is for bookkeeping that must happen however the work ended. Renewing costs nothing when
    nothing is running, so callers renew whenever what they show changes.

    One epoch per thing whose results can go stale: the open agent, one attachment's
    preparation, the transcript's thumbnails. Submitting also binds `owner` (results are dropped
    once it is deleted), so a call site reads `self._for_agent.submit(fn, arg, on_result=...)`.
    """

    def __init__(self, workers: Workers, owner: QObject | None = None):
        self._workers = workers
        self._owner = owner
        self._live: set[Task] = set()

    def renew(self) -> None:
        """Start a new epoch: whatever was submitted before is no longer wanted."""
        for task in self._live:
            task.cancel()
        self._live.clear()

    @property
    def busy(self) -> bool:
        """Work submitted in the current epoch has not finished yet."""
        return bool(self._live)

    def submit(
        self,
        fn: Callable[..., Any],
        *args: Any,
        on_result: Callback | None = None,
        on_error: Callback | None = None,
        on_finished: Callable[[], None] | None = None,
        **kwargs: Any,
    ) -> Task:
        return self._workers._start(
            lambda: fn(*args, **kwargs),
            False,
            _Callbacks(on_result, on_error, None, on_finished, self._owner, self),
        )

    def submit_iter(
        self,
        fn: Callable[..., Iterable[Any]],
        *args: Any,
        on_item: Callback | None = None,
        on_result: Callback | None = None,
        on_error: Callback | None = None,
        on_finished: Callable[[], None] | None = None,
        **kwargs: Any,
    ) -> Task:
        return self._workers._start(
            lambda: fn(*args, **kwargs),
            True,
            _Callbacks(on_result, on_error, on_item, on_finished, self._owner, self),
        )


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
        self._held: list[_Runnable] | None = None

    def epoch(self, owner: QObject | None = None) -> Epoch:
        """A new `Epoch` on this pool whose work delivers only while `owner` lives."""
        return Epoch(self, owner)

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """Submit many, then start them all at the end, in order.

        A job started in the middle of handling one user action is a busy worker thread taking
        the GIL back each time the GUI thread lets go of it (most Qt calls do): handling a
        200-file drop took ~60 ms (up to 130) instead of 10–30 ms on a 2-core machine. Tasks
        exist (and can be cancelled) at once; only their threads wait. Nested uses start at
        the end of the outermost."""
        if self._held is not None:
            yield
            return
        self._held = []
        try:
            yield
        finally:
            held, self._held = self._held, None
            for runnable in held:
                self._pool.start(runnable)

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
            lambda: fn(*args, **kwargs),
            False,
            _Callbacks(on_result, on_error, None, on_finished, owner),
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
            lambda: fn(*args, **kwargs),
            True,
            _Callbacks(on_result, on_error, on_item, on_finished, owner),
        )

    def _start(self, fn: Callable[[], Any], iterate: bool, callbacks: _Callbacks) -> Task:
        task = Task(next(self._ids))
        self._callbacks[task.id] = callbacks
        self._tasks[task.id] = task
        if callbacks.epoch is not None:
            callbacks.epoch._live.add(task)
        runnable = _Runnable(self._relay, task, fn, iterate)
        if self._held is not None:
            self._held.append(runnable)
        else:
            self._pool.start(runnable)
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
            if cbs.epoch is not None:
                cbs.epoch._live.discard(task)
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
