"""Shared test fixtures."""

from __future__ import annotations

import hashlib
import lzma
import os
import shutil
import tarfile
import tempfile
from functools import lru_cache
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent / "fixtures"
REFERENCE_ARCHIVE = FIXTURES / "reference.tar.xz"


@lru_cache(maxsize=1)
def reference_dir() -> Path:
    """The upstream reference fixtures (``official/``, ``encoders/``, ``formats/``), unpacked once.

    They ship as one ``tests/fixtures/reference.tar.xz`` because xz's long-range matching stores the
    weights the pickles, state dicts and converted checkpoints share only once (20 MB -> 9 MB), while
    every file comes back byte for byte.  The unpacked copy is cached in the temp folder under the
    archive's hash, so a changed archive never meets a stale copy; unpacking goes to a private folder
    first and is renamed into place, so parallel sessions never see half a tree.
    """
    digest = hashlib.sha256(REFERENCE_ARCHIVE.read_bytes()).hexdigest()[:16]
    target = Path(tempfile.gettempdir()) / f"large-tk-reference-{digest}"
    if target.is_dir():
        return target
    staging = Path(tempfile.mkdtemp(prefix="large-tk-reference-", dir=target.parent))
    with lzma.open(REFERENCE_ARCHIVE) as raw, tarfile.open(fileobj=raw, mode="r|") as tar:
        tar.extractall(staging, filter="data")
    try:
        staging.rename(target)
    except OSError:  # another session won the race; its copy is identical
        shutil.rmtree(staging, ignore_errors=True)
    return target


@pytest.fixture
def shared_fixtures() -> Path:
    """The reference fixtures shipped with the tests (see tests/fixtures/README.md); never skipped."""
    return reference_dir()


def _ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


_NON_CUDA_SKIPS: list[str] = []


def _record_skip(report) -> None:
    if not report.skipped or hasattr(report, "wasxfail"):
        return
    reason = str(report.longrepr[-1] if isinstance(report.longrepr, tuple) else report.longrepr)
    if "cuda" not in reason.lower():
        _NON_CUDA_SKIPS.append(f"{report.nodeid}: {reason}")


def pytest_runtest_logreport(report) -> None:
    _record_skip(report)


def pytest_collectreport(report) -> None:
    _record_skip(report)


def pytest_sessionfinish(session, exitstatus) -> None:
    """On CI (``CI=true``) a skip is a failure unless it is for a missing CUDA device.

    A skipped parity or safety test proves nothing, so CI must not pass with one.
    """
    if _ci() and _NON_CUDA_SKIPS and exitstatus == 0:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.ensure_newline()
            reporter.write_line(f"CI: {len(_NON_CUDA_SKIPS)} non-CUDA skip(s) count as failures:", red=True)
            for line in _NON_CUDA_SKIPS:
                reporter.write_line(f"  {line}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture
def one_torch_thread():
    """Torch on one intra-op thread for the test, then restored.

    Tiny nets on a busy 2-core box: OpenMP barriers make two threads many times slower than one,
    and one thread keeps float reductions in a fixed order.  Modules opt in with
    ``pytestmark = pytest.mark.usefixtures("one_torch_thread")``.
    """
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def toy_generator():
    from large_toolkit.testing import ToyGenerator

    return ToyGenerator()


@pytest.fixture(autouse=True)
def _fresh_plugin_host(monkeypatch):
    """Every test starts with a freshly discovered plugin host."""
    from large_toolkit.plugins import reset_host

    monkeypatch.delenv("LARGE_TK_PLUGINS", raising=False)
    monkeypatch.delenv("LARGE_TK_DISABLE_PLUGINS", raising=False)
    reset_host()
    yield
    reset_host()
