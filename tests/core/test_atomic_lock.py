"""Atomic writes sweep temporaries of killed writers; the output lock refuses a second writer."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from large_toolkit.errors import UserInputError
from large_toolkit.io.atomic import atomic_path, sweep_stale_temps, write_text_atomic
from large_toolkit.io.lock import exclusive_output_lock, lock_path_for

ROOT = Path(__file__).resolve().parents[2]


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid  # reaped: no such process any more


def test_temps_of_killed_writers_are_swept_live_ones_kept(tmp_path):
    target = tmp_path / "out.safetensors"
    dead = tmp_path / f".out.safetensors.{_dead_pid()}.ab12cd34.tmp"
    live = tmp_path / f".out.safetensors.{os.getpid()}.ffff0000.tmp"
    old_style = tmp_path / ".out.safetensors.k3j4_x9.tmp"  # mkstemp name of an older version, no pid
    other = tmp_path / ".other.png.1.aa.tmp"
    for path in (dead, live, old_style, other):
        path.write_bytes(b"partial")
    old = time.time() - 7200
    os.utime(old_style, (old, old))
    write_text_atomic(target, "done")
    assert target.read_text() == "done"
    assert not dead.exists() and not old_style.exists()
    assert live.exists() and other.exists()  # a live writer's file and another output's file stay
    assert sweep_stale_temps(target) == []


def test_failed_write_leaves_nothing(tmp_path):
    target = tmp_path / "x.txt"
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_second_writer_is_refused_naming_the_first(tmp_path):
    target = tmp_path / "lat.safetensors"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from large_toolkit.io.lock import exclusive_output_lock\n"
            f"with exclusive_output_lock({str(target)!r}, 'invert run'):\n"
            "    print('locked', flush=True)\n"
            "    sys.stdin.readline()\n",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])},
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        refused = pytest.raises(UserInputError, match=rf"another invert run \(pid {holder.pid}\) is writing")
        with refused, exclusive_output_lock(target, "invert run"):
            pass
    finally:
        holder.communicate("\n", timeout=30)
    with exclusive_output_lock(target, "invert run") as lock:  # released: the next run gets it
        assert lock.read_text() == str(os.getpid())
    assert not lock_path_for(target).exists()
