"""Progress off a terminal: plain lines with done/total, rate and ETA instead of an invisible bar."""

from __future__ import annotations

import io
import subprocess
import sys

from large_toolkit.progress import PlainProgress, make_progress


def test_plain_progress_prints_done_total_rate_and_eta() -> None:
    stream = io.StringIO()
    with PlainProgress(stream=stream, interval=0.0) as progress:
        task = progress.add_task("inverting", total=4)
        progress.advance(task, 1)
        progress.update(task, advance=3)
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("inverting: 1/4 (")
    assert "ETA" in lines[0] and "/s" in lines[0]
    assert lines[-1].startswith("inverting: 4/4 (")
    assert "ETA" not in lines[-1]
    assert len(lines) == 2  # the final line is printed once, not again on exit


def test_plain_progress_respects_interval() -> None:
    stream = io.StringIO()
    with PlainProgress(stream=stream, interval=3600.0) as progress:
        task = progress.add_task("training", total=10)
        for _ in range(9):
            progress.advance(task)
        assert stream.getvalue() == ""
        progress.advance(task)
    assert stream.getvalue().count("\n") == 1
    assert stream.getvalue().startswith("training: 10/10")


def test_make_progress_is_plain_off_a_terminal_and_silent_when_disabled() -> None:
    code = (
        "from large_toolkit.progress import make_progress\n"
        "with make_progress() as p:\n"
        "    t = p.add_task('rendering', total=3)\n"
        "    for _ in range(3): p.advance(t)\n"
        "with make_progress(disable=True) as p:\n"
        "    t = p.add_task('hidden', total=1)\n"
        "    p.advance(t)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "rendering: 3/3" in done.stderr
    assert "hidden" not in done.stderr
    assert done.stdout == ""


def test_forced_off_style(monkeypatch) -> None:
    monkeypatch.setenv("LARGE_TK_PROGRESS", "off")
    progress = make_progress()
    assert not isinstance(progress, PlainProgress)
    assert progress.disable


def test_named_tasks_open_one_bar_per_description() -> None:
    from large_toolkit.progress import named_tasks

    stream = io.StringIO()
    with PlainProgress(stream=stream, interval=0.0) as progress:
        report = named_tasks(progress)
        report("sampling", 1, 2)
        report("sampling", 2, 2)
        report("decomposing", 1, 1)
    lines = stream.getvalue().splitlines()
    assert [line.split(":")[0] for line in lines] == ["sampling", "sampling", "decomposing"]
    assert lines[1].startswith("sampling: 2/2")
