"""Background work: a QRunnable job with signals, and the latest-request-wins renderer.

All model calls run on ``QThreadPool`` threads; results come back as queued
signals on the GUI thread, so the UI never waits on torch.  Errors are caught in
the worker and delivered as text (the StyleGAN3 visualizer's ``CapturedException``
idea) instead of killing the thread silently.
"""

from __future__ import annotations

import functools
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from large_gui.render import render_request
from large_gui.state import RenderRequest


class JobSignals(QObject):
    """Signals of one job; a QRunnable is not a QObject, so it carries this one."""

    result = Signal(object)
    error = Signal(str)
    progress = Signal(int, int)
    finished = Signal()


class CancelToken:
    """Checked by long jobs between steps; set from the GUI thread by Cancel."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()


class Job(QRunnable):
    """Run ``fn(progress, token)`` in the pool; ``progress(done, total)`` may be called from it.

    A cancelled job still runs to its next check (torch calls cannot be interrupted),
    but its result is never delivered.
    """

    def __init__(self, fn: Callable[[Callable[[int, int], None], CancelToken], Any]) -> None:
        super().__init__()
        self.fn = fn
        self.signals = JobSignals()
        self.token = CancelToken()
        self.setAutoDelete(False)  # we keep a reference; Qt must not free it under us

    def cancel(self) -> None:
        self.token.cancel()

    @Slot()
    def run(self) -> None:
        try:
            value = self.fn(self._progress, self.token)
        except Exception as exc:  # delivered to the GUI as text, never swallowed
            if not self.token.cancelled:
                detail = str(exc).strip().splitlines()
                self.signals.error.emit(f"{type(exc).__name__}: {detail[0] if detail else ''}")
                traceback.print_exc()
        else:
            if not self.token.cancelled:
                self.signals.result.emit(value)
        finally:
            self.signals.finished.emit()

    def _progress(self, done: int, total: int) -> None:
        if not self.token.cancelled:
            self.signals.progress.emit(int(done), int(total))


class _Keeper(QObject):
    """Holds running jobs and lets go of each on the GUI thread once its ``finished`` arrives.

    Releasing from the worker thread could free the Job (and its signals object)
    while ``run`` is still on that thread's stack, and queued signals could be lost.
    """

    def __init__(self) -> None:
        super().__init__()
        self.jobs: dict[int, Job] = {}

    def keep(self, job: Job) -> None:
        self.jobs[id(job.signals)] = job
        job.signals.finished.connect(self.release)

    @Slot()
    def release(self) -> None:
        sender = self.sender()
        if sender is not None:
            self.jobs.pop(id(sender), None)


@functools.cache
def _keeper() -> _Keeper:
    """The one keeper, made on first use (after the QApplication exists)."""
    return _Keeper()


class ErrorHub(QObject):
    """Every job's error, whichever panel started it, so the window can show it in its status bar."""

    error = Signal(str)


@functools.cache
def error_hub() -> ErrorHub:
    """The one hub, made on first use, so every job and the window share it."""
    return ErrorHub()


def start_job(job: Job, pool: QThreadPool | None = None) -> Job:
    """Start ``job`` and keep it alive until it has finished (the pool does not own it)."""
    _keeper().keep(job)
    job.signals.error.connect(error_hub().error)
    (pool or QThreadPool.globalInstance()).start(job)
    return job


class RenderService(QObject):
    """Renders requests one at a time; while one is in flight only the newest waits.

    ``rendered(stamp, frame, milliseconds)`` fires only for the newest stamp seen so
    far; an older result (a slow render overtaken by slider moves) is dropped and
    counted in ``dropped``.  ``failed(stamp, message)`` carries render errors.
    """

    rendered = Signal(int, object, float)
    failed = Signal(int, str)

    def __init__(self, parent: QObject | None = None, pool: QThreadPool | None = None) -> None:
        super().__init__(parent)
        self.generator: Any = None
        self.pool = pool or QThreadPool.globalInstance()
        self.latest = 0
        self.dropped = 0
        self._busy = False
        self._pending: RenderRequest | None = None
        self._job: Job | None = None

    def submit(self, request: RenderRequest) -> None:
        """Ask for a frame; supersedes every earlier request that has not started."""
        self.latest = max(self.latest, request.stamp)
        if self._busy:
            self._pending = request
            return
        self._start(request)

    @property
    def busy(self) -> bool:
        return self._busy

    def _start(self, request: RenderRequest) -> None:
        generator = self.generator
        if generator is None:
            return
        self._busy = True

        def work(_progress: Callable[[int, int], None], _token: CancelToken) -> tuple[int, Any, float]:
            start = time.perf_counter()
            frame = render_request(generator, request)
            return request.stamp, frame, (time.perf_counter() - start) * 1000.0

        job = Job(work)
        job.signals.result.connect(self.deliver)
        job.signals.error.connect(self._error)
        job.signals.finished.connect(self._next)
        self._job = job
        start_job(job, self.pool)

    @Slot(object)
    def deliver(self, payload: tuple[int, Any, float]) -> None:
        """Show a finished frame unless a newer request exists (latest wins)."""
        stamp, frame, ms = payload
        if stamp < self.latest:
            self.dropped += 1
            return
        self.rendered.emit(stamp, frame, ms)

    @Slot(str)
    def _error(self, message: str) -> None:
        self.failed.emit(self.latest, message)

    @Slot()
    def _next(self) -> None:
        self._busy = False
        pending, self._pending = self._pending, None
        if pending is not None:
            self._start(pending)
