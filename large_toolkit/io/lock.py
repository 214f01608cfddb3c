"""One writer per output: an exclusive, non-blocking lock file beside the output.

Why: two runs writing the same output (two ``invert --out x`` in two terminals)
interleave their partial files and both end badly.  The second run is refused at
once with one line naming the first one's pid.  ``flock`` locks die with their
process, so a killed run never leaves a lock that blocks the next one; the lock
file itself is removed on release (the inode check below makes that safe).
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator
from pathlib import Path

from large_toolkit.errors import UserInputError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no advisory locks, runs are not guarded
    fcntl = None  # type: ignore[assignment]


def lock_path_for(target: Path) -> Path:
    return target.parent / f".{target.name}.lock"


def _holder(path: Path) -> str:
    try:
        text = path.read_text().strip()
    except OSError:
        return "another process"
    return f"pid {text}" if text.isdigit() else "another process"


@contextlib.contextmanager
def exclusive_output_lock(target: str | os.PathLike[str], what: str = "run") -> Iterator[Path]:
    """Hold ``.<name>.lock`` beside ``target`` for the block, or refuse naming the other writer."""
    target = Path(target)
    path = lock_path_for(target)
    if fcntl is None:
        yield path
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            raise UserInputError(
                f"another {what} ({_holder(path)}) is writing {target}",
                hint="wait for it to finish, or choose another --out",
            ) from None
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # the previous holder removed the file between our open and our lock: retry
    try:
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        yield path
    finally:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()  # while still locked: a waiter that opened the old inode sees it vanish and retries
        os.close(fd)
