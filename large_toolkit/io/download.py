"""The one place large-tk downloads anything: zoo names and ``https://`` URLs into a checked cache.

Why this shape:

* **pooch** owns the cache write: it streams into a temporary file in the cache folder and moves it into
  place only when the downloader returns, so a failed or refused download never leaves a file under the
  final name.  **requests** does the HTTP inside a pooch downloader (:class:`ResumableDownloader`) because
  pooch itself cannot resume: an interrupted transfer is kept as ``NAME.part`` and the next attempt asks
  for the rest with a ``Range`` header.
* **Integrity**: the sha256 (and size) published for a zoo entry is checked before the move; where nothing
  is published (NVIDIA's pickles, any plain URL) the first download's sha256 is recorded in
  ``trust.json`` in the cache (trust-on-first-use) and every later download or use must match it.  A
  mismatch keeps nothing and says, in one line, what was expected, what arrived, and what to do.
* **Where**: ``$LARGE_TK_CACHE/models`` when set, else the platform cache (``~/.cache/large-tk/models`` on
  Linux).  Zoo files go to ``models/NAME/FILE``, URLs to ``models/url/<sha256(url)[:16]>/FILE``.
* **Only https**: plain ``http://`` is refused except for 127.0.0.1/localhost (the tests' loopback server).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from large_toolkit.errors import CheckpointError, LargeTkError, UserInputError
from large_toolkit.io import zoo
from large_toolkit.io.atomic import write_text_atomic

__all__ = [
    "CACHE_ENV",
    "ChecksumError",
    "DownloadError",
    "Source",
    "cache_dir",
    "fetch",
    "file_sha256",
    "resolve_checkpoint",
    "source_for",
    "status",
    "verify",
]

CACHE_ENV = "LARGE_TK_CACHE"
TRUST_FILE = "trust.json"
STAMP_FILE = "checked.json"  # (size, mtime) of files whose sha256 last matched
_LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
_CHUNK = 1 << 20
_NET_CHUNK = 1 << 16  # a dropped connection loses at most this much of what arrived
_MANUAL = "download it yourself and pass --checkpoint PATH"


class DownloadError(LargeTkError):
    """The file could not be fetched (no network, HTTP error, transfer cut short)."""


class ChecksumError(CheckpointError):
    """The bytes do not match the published or recorded sha256 / size (exit 2)."""


def cache_dir() -> Path:
    """``$LARGE_TK_CACHE/models``, else the platform user cache's ``large-tk/models``."""
    root = os.environ.get(CACHE_ENV, "").strip()
    if root:
        return Path(root).expanduser() / "models"
    import pooch

    return Path(pooch.os_cache("large-tk")) / "models"


@dataclass(frozen=True)
class Source:
    """What to fetch and where it lands; ``sha256``/``size`` are the published values, if any.

    The file lands in ``cache_dir()/SUBDIR/FILENAME``, ``SUBDIR`` being ``subdir`` or else ``name``.
    """

    name: str
    url: str
    filename: str
    sha256: str | None = None
    size: int | None = None
    subdir: str = ""

    @property
    def path(self) -> Path:
        return cache_dir() / (self.subdir or self.name) / self.filename

    @property
    def part(self) -> Path:
        return self.path.with_name(self.path.name + ".part")


def _is_url(text: str) -> bool:
    return text.startswith(("https://", "http://"))


def _check_url(url: str) -> None:
    parsed = urlparse(url)
    if parsed.scheme == "https" and parsed.hostname:
        return
    if parsed.scheme == "http" and parsed.hostname in _LOCAL_HOSTS:
        return
    raise UserInputError(
        f"refusing to download {url}", hint="only https:// URLs are fetched; http:// only from localhost"
    )


def url_source(url: str) -> Source:
    _check_url(url)
    filename = Path(unquote(urlparse(url).path)).name or "download"
    key = hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]
    return Source(name=url, url=url, filename=filename, subdir=f"url/{key}")


def entry_source(entry: zoo.ZooEntry) -> Source:
    _check_url(entry.url)
    return Source(entry.name, entry.url, entry.filename, entry.sha256, entry.size)


def source_for(spec: str) -> Source | None:
    """The download a spec names (zoo name or URL), or None for anything else (a path)."""
    if _is_url(spec):
        return url_source(spec)
    entry = zoo.find(spec)
    return entry_source(entry) if entry else None


# -- trust-on-first-use record --------------------------------------------------------------------------------


def _trust_path() -> Path:
    return cache_dir() / TRUST_FILE


def _trust() -> dict[str, dict[str, Any]]:
    path = _trust_path()
    if not path.exists():
        return {}
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, json.JSONDecodeError, TypeError, ValueError) as exc:
        raise UserInputError(f"cannot read the hash record {path}: {exc}", hint="delete it to start over") from None


def _record(src: Source, sha256: str, size: int) -> None:
    trust = _trust()
    now = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    trust[src.url] = {"sha256": sha256, "size": size, "name": src.name, "recorded": now}
    write_text_atomic(_trust_path(), json.dumps(trust, indent=1, sort_keys=True) + "\n")


def expected(src: Source) -> tuple[str | None, int | None, str]:
    """``(sha256, size, origin)``; origin is ``published``, ``recorded`` or ``none``."""
    if src.sha256:
        return src.sha256, src.size, "published"
    rec = _trust().get(src.url)
    if rec:
        return rec["sha256"], rec.get("size"), "recorded"
    return None, src.size, "none"


def status(src: Source) -> str:
    """Hash status for listings: published / trust-on-first-use recorded / not yet downloaded."""
    _, _, origin = expected(src)
    if origin == "published":
        return "published sha256"
    if origin == "recorded":
        return "trust-on-first-use recorded"
    return "not yet downloaded (trust-on-first-use)"


# -- hashing ----------------------------------------------------------------------------------------------------


def file_sha256(path: Path, hasher: Any = None) -> Any:
    """Feed ``path`` into ``hasher`` (a new sha256 by default) and return it."""
    hasher = hasher if hasher is not None else hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(_CHUNK), b""):
            hasher.update(block)
    return hasher


def _mismatch(src: Source, what: str, want: Any, got: Any, origin: str) -> ChecksumError:
    fix = (
        "nothing was kept; retry, or if the file really changed upstream, check it, remove its line from "
        f"{_trust_path()} and download again"
        if origin == "recorded"
        else f"nothing was kept; retry, or {_MANUAL}"
    )
    return ChecksumError(f"{src.name}: {what} mismatch for {src.url}: expected {want}, got {got}", hint=fix)


# -- the pooch downloader ---------------------------------------------------------------------------------------


@contextlib.contextmanager
def _quiet_pooch() -> Iterator[None]:
    """pooch logs every download and the hash to use next time; large-tk has its own progress and record."""
    import pooch

    logger = pooch.get_logger()
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


class ResumableDownloader:
    """A pooch downloader (``downloader(url, output_file, pooch)``) that resumes from ``src.part``.

    pooch hands it a fresh temporary file in the cache folder.  A previous partial transfer is renamed onto
    that file and only the missing bytes are requested (``Range: bytes=N-``; a server that ignores Range gets
    a full restart).  If the transfer breaks, the bytes so far go back to ``.part`` before pooch deletes its
    temporary.  The finished file is checked against the expected size and sha256 here, so a bad file raises
    before pooch moves it into place.
    """

    def __init__(self, src: Source, sha256: str | None, size: int | None, origin: str, progress: bool) -> None:
        self.src, self.sha256, self.size, self.origin, self.progress = src, sha256, size, origin, progress
        self.digest: str | None = None
        self.nbytes = 0

    def __call__(self, url: str, output_file: Any, pooch: Any = None, check_only: bool = False) -> None:
        import requests

        tmp = Path(output_file)
        offset = 0
        if self.src.part.exists():
            os.replace(self.src.part, tmp)
            offset = tmp.stat().st_size
        hasher = file_sha256(tmp) if offset else hashlib.sha256()
        headers = {"Range": f"bytes={offset}-"} if offset else {}
        server_complete = False  # the server told us its length and we hold exactly that many bytes
        stale = False
        try:
            with requests.get(url, stream=True, timeout=(15, 60), headers=headers) as resp:
                if offset and resp.status_code == 416:  # nothing after the part: complete, or a stale part
                    stale = _range_total(resp) != offset
                    server_complete = not stale
                else:
                    resp.raise_for_status()
                    if offset and resp.status_code != 206:  # Range ignored: start again
                        offset, hasher = 0, hashlib.sha256()
                    server_complete = self._stream(resp, tmp, offset, hasher)
        except requests.HTTPError as exc:
            code = exc.response.status_code if exc.response is not None else "?"
            reason = exc.response.reason if exc.response is not None else ""
            raise DownloadError(
                f"could not download {url}: HTTP {code} {reason}".strip(),
                hint=f"check the name or URL (`large-tk models list`), or {_MANUAL}",
            ) from None
        except (requests.RequestException, OSError) as exc:
            got = self._keep_partial(tmp)
            if got:
                raise DownloadError(
                    f"download of {url} stopped after {got} bytes ({type(exc).__name__})",
                    hint="run the same command again to resume",
                ) from None
            raise DownloadError(
                f"cannot reach {url} ({_reason(exc)})", hint=f"check the network, or {_MANUAL}"
            ) from None
        except BaseException:  # Ctrl-C mid-transfer: keep what arrived for the next run
            self._keep_partial(tmp)
            raise
        if stale:  # the part is longer than the file: start from zero
            tmp.write_bytes(b"")
            return self(url, output_file, pooch)
        self.nbytes = tmp.stat().st_size
        if self.size is not None and self.nbytes < self.size and not server_complete:
            self._keep_partial(tmp)
            raise DownloadError(
                f"download of {url} ended after {self.nbytes} of {self.size} bytes",
                hint="run the same command again to resume",
            )
        if self.size is not None and self.nbytes != self.size:
            raise _mismatch(self.src, "size", f"{self.size} bytes", f"{self.nbytes} bytes", self.origin)
        self.digest = hasher.hexdigest()
        if self.sha256 is not None and self.digest != self.sha256:
            raise _mismatch(self.src, "sha256", self.sha256, self.digest, self.origin)

    def _keep_partial(self, tmp: Path) -> int:
        got = tmp.stat().st_size if tmp.exists() else 0
        if got:
            os.replace(tmp, self.src.part)
        return got

    def _stream(self, resp: Any, tmp: Path, offset: int, hasher: Any) -> bool:
        """Append the body to ``tmp``; True when the server declared its length (so a short file is complete).

        A body shorter than its Content-Length raises inside requests (urllib3 enforces it), so reaching the
        end with a declared length means every byte the server has arrived.
        """
        from large_toolkit.progress import make_progress

        length = resp.headers.get("Content-Length")
        declared = bool(length and length.isdigit())
        total = offset + int(length) if declared else self.size
        mb = 1e6
        with open(tmp, "ab" if offset else "wb") as fh, make_progress(disable=not self.progress) as bar:
            task = bar.add_task(
                f"downloading {self.src.filename} (MB)",
                total=None if total is None else total / mb,
                completed=offset / mb,
            )
            for chunk in resp.iter_content(chunk_size=_NET_CHUNK):
                fh.write(chunk)
                hasher.update(chunk)
                bar.update(task, advance=len(chunk) / mb)
        return declared


def _range_total(resp: Any) -> int | None:
    """The full length from a 416's ``Content-Range: bytes */N``."""
    tail = resp.headers.get("Content-Range", "").rpartition("/")[2]
    return int(tail) if tail.isdigit() else None


def _reason(exc: BaseException) -> str:
    text = str(exc)
    for marker in ("Connection refused", "Name or service not known", "timed out", "No route to host"):
        if marker.lower() in text.lower():
            return marker.lower()
    return type(exc).__name__


# -- public entry points ----------------------------------------------------------------------------------------


def verify(src: Source) -> tuple[bool, str]:
    """Check the cached file against its published or recorded sha256: ``(ok, one-line detail)``."""
    path = src.path
    if not path.exists():
        return False, "not downloaded"
    sha, _, origin = expected(src)
    got = file_sha256(path).hexdigest()
    if sha is None:
        return True, f"sha256 {got} (nothing published or recorded to compare with)"
    if got != sha:
        return False, f"sha256 mismatch: expected {sha} ({origin}), got {got}"
    return True, f"sha256 ok ({origin})"


def _stamp(path: Path) -> list[int]:
    st = path.stat()
    return [st.st_size, st.st_mtime_ns]


def _stamps() -> dict[str, Any]:
    try:
        return dict(json.loads((cache_dir() / STAMP_FILE).read_text(encoding="utf-8")))
    except (OSError, json.JSONDecodeError, TypeError, ValueError):
        return {}  # only a speed-up: without it every use re-hashes


def _mark_checked(path: Path, sha256: str) -> None:
    stamps = _stamps()
    stamps[str(path)] = {"sha256": sha256, "stat": _stamp(path)}
    write_text_atomic(cache_dir() / STAMP_FILE, json.dumps(stamps, indent=1, sort_keys=True) + "\n")


def _check_cached(src: Source, sha: str | None, origin: str) -> None:
    """Hash a cached file unless it is unchanged (size, mtime) since it last matched ``sha``."""
    path = src.path
    if sha is not None and _stamps().get(str(path)) == {"sha256": sha, "stat": _stamp(path)}:
        return
    got = file_sha256(path).hexdigest()
    if sha is None:  # cached before any record existed (e.g. trust.json deleted): trust it now
        _record(src, got, path.stat().st_size)
    elif got != sha:
        raise ChecksumError(
            f"cached {src.name} at {path} does not match: expected sha256 {sha} ({origin}), got {got}",
            hint=f"delete it, or run `large-tk models download {src.name} --force`",
        )
    _mark_checked(path, got)


def fetch(src: Source, progress: bool = True, force: bool = False) -> Path:
    """The checked local copy of ``src``, downloading (or resuming) it when absent.

    A cached file is re-hashed only when its size or mtime changed since it last matched (a 1.2 GB encoder
    costs ~3 s to hash); ``large-tk models verify`` always re-hashes.
    """
    import pooch

    path = src.path
    sha, size, origin = expected(src)
    if path.exists() and not force:
        _check_cached(src, sha, origin)
        return path
    if force:
        path.unlink(missing_ok=True)
    downloader = ResumableDownloader(src, sha, size, origin, progress)
    with _quiet_pooch():
        pooch.retrieve(src.url, known_hash=None, fname=path.name, path=path.parent, downloader=downloader)
    if downloader.digest is not None:
        if origin == "none":
            _record(src, downloader.digest, downloader.nbytes)
        _mark_checked(path, downloader.digest)
    return path


def resolve_checkpoint(spec: str | os.PathLike[str], progress: bool = True) -> Path:
    """``--checkpoint`` text to a file: an existing path stays itself; a zoo name or URL is fetched and checked.

    Anything else is returned as a path unchanged, so the loader reports a missing file as it always has.
    """
    if not isinstance(spec, str) or os.path.exists(spec):
        return Path(spec)
    src = source_for(spec)
    return fetch(src, progress=progress) if src is not None else Path(spec)
