"""Atomic file writes: a crash or an error never leaves a partial output file.

Everything is written to a temporary file ``.<name>.<pid>.<random>.tmp`` in the
destination folder and renamed into place only when complete (rename is atomic on
POSIX and Windows).  The temporary file is created with mode ``0o666`` filtered by
the process umask -- exactly what a plain ``open(path, "w")`` gives -- so every output
gets the same permissions without reading the umask (``os.umask`` is process-wide and
racy).  A write killed before its rename leaves its temporary behind; the next write
of the same name sweeps temporaries whose writer process is gone.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

#: Temporaries without a live writer older than this are swept even when their pid cannot be read.
STALE_AFTER_S = 3600.0


def _tmp_pattern(name: str) -> re.Pattern[str]:
    return re.compile(rf"^\.{re.escape(name)}\.(?:(\d+)\.)?[\w-]+\.tmp$")


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def sweep_stale_temps(path: str | os.PathLike[str]) -> list[Path]:
    """Remove ``.<name>.*.tmp`` left beside ``path`` by killed writers; return what was removed."""
    target = Path(path)
    pattern = _tmp_pattern(target.name)
    removed: list[Path] = []
    try:
        entries = list(target.parent.iterdir())
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        match = pattern.match(entry.name)
        if match is None:
            continue
        pid = match.group(1)
        try:
            stale = (not _pid_alive(int(pid))) if pid else now - entry.stat().st_mtime > STALE_AFTER_S
            if stale and entry.is_file():
                entry.unlink()
                removed.append(entry)
        except OSError:
            continue
    return removed


def _create_temp(target: Path) -> Path:
    """A new empty file beside ``target`` with the permissions a normal ``open`` would give."""
    for _ in range(100):
        tmp = target.parent / f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
        try:
            fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
        except FileExistsError:
            continue
        os.close(fd)
        return tmp
    raise FileExistsError(f"could not create a temporary file beside {target}")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path``, on error it is removed."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    sweep_stale_temps(target)
    tmp = _create_temp(target)
    mode = tmp.stat().st_mode & 0o777  # 0o666 & ~umask, applied by the kernel
    try:
        yield tmp
        if tmp.stat().st_mode & 0o777 != mode:  # writers that re-create the file (safetensors) make it 0600
            os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text_atomic(path: str | os.PathLike[str], text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
