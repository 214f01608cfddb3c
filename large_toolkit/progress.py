"""Progress reporting that works on a terminal and off it.

On a terminal a rich progress bar is drawn on stderr. Off a terminal (a job under ``nohup``, CI, a notebook,
a pipe) a bar is invisible, and a long command would look hung; there the same calls print a plain line every
few seconds instead: ``desc: done/total (rate/s, ETA ...)``. Both go to stderr, so ``--json`` on stdout stays
clean. ``LARGE_TK_PROGRESS=plain|rich|off`` forces a style; ``LARGE_TK_PROGRESS_INTERVAL`` sets the seconds
between plain lines (default 5).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO

__all__ = ["PlainProgress", "make_progress", "named_tasks"]


def _interval() -> float:
    try:
        return max(0.0, float(os.environ.get("LARGE_TK_PROGRESS_INTERVAL", "5")))
    except ValueError:
        return 5.0


def _format_seconds(value: float) -> str:
    seconds: int = round(value)
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


@dataclass
class _Task:
    description: str
    total: float | None
    completed: float = 0.0
    started: float = field(default_factory=time.monotonic)
    last_print: float = 0.0
    finished_printed: bool = False


class PlainProgress:
    """The subset of ``rich.progress.Progress`` large-tk uses, printing plain lines at a fixed interval."""

    def __init__(self, stream: TextIO | None = None, interval: float | None = None) -> None:
        self._stream = stream if stream is not None else sys.stderr
        self._interval = _interval() if interval is None else interval
        self._tasks: dict[int, _Task] = {}

    def __enter__(self) -> PlainProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None:
            for task in self._tasks.values():
                self._finish(task)

    def add_task(self, description: str, total: float | None = None, completed: float = 0, **_: Any) -> int:
        task_id = len(self._tasks)
        self._tasks[task_id] = _Task(description=description, total=total, completed=float(completed))
        self._tasks[task_id].last_print = time.monotonic()
        return task_id

    def update(
        self,
        task_id: int,
        *,
        total: float | None = None,
        completed: float | None = None,
        advance: float | None = None,
        description: str | None = None,
        **_: Any,
    ) -> None:
        task = self._tasks[task_id]
        if total is not None:
            task.total = total
        if description is not None:
            task.description = description
        if completed is not None:
            task.completed = float(completed)
        if advance is not None:
            task.completed += float(advance)
        self._maybe_print(task)

    def advance(self, task_id: int, advance: float = 1) -> None:
        self.update(task_id, advance=advance)

    def _maybe_print(self, task: _Task) -> None:
        now = time.monotonic()
        if task.total is not None and task.completed >= task.total:
            self._finish(task)
        elif now - task.last_print >= self._interval:
            task.last_print = now
            self._print(task, now)

    def _finish(self, task: _Task) -> None:
        if not task.finished_printed and task.completed > 0:
            task.finished_printed = True
            self._print(task, time.monotonic())

    def _print(self, task: _Task, now: float) -> None:
        elapsed = max(now - task.started, 1e-9)
        rate = task.completed / elapsed
        done = f"{task.completed:g}" if task.total is None else f"{task.completed:g}/{task.total:g}"
        parts = [f"{rate:.3g}/s", f"elapsed {_format_seconds(elapsed)}"]
        if task.total is not None and rate > 0 and task.completed < task.total:
            parts.append(f"ETA {_format_seconds((task.total - task.completed) / rate)}")
        print(f"{task.description}: {done} ({', '.join(parts)})", file=self._stream, flush=True)


def _style(disable: bool) -> str:
    forced = os.environ.get("LARGE_TK_PROGRESS", "").strip().lower()
    if disable or forced == "off":
        return "off"
    if forced in {"plain", "rich"}:
        return forced
    return "rich" if sys.stderr.isatty() else "plain"


def make_progress(disable: bool = False) -> Any:
    """A progress reporter on stderr: a rich bar on a terminal, plain lines off it, nothing when ``disable``."""
    style = _style(disable)
    if style == "plain":
        return PlainProgress()
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True, force_terminal=True if style == "rich" and not sys.stderr.isatty() else None),
        transient=True,
        disable=style == "off",
    )


def named_tasks(progress: Any) -> Callable[[str, int, int], None]:
    """A ``report(description, done, total)`` callback (what finders call) that shows one bar per description."""
    tasks: dict[str, Any] = {}

    def report(description: str, done: int, total: int) -> None:
        if description not in tasks:
            tasks[description] = progress.add_task(description, total=total)
        progress.update(tasks[description], completed=done)

    return report
