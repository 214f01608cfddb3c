"""Shared test fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED_FIXTURES = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures"


@pytest.fixture
def shared_fixtures() -> Path:
    """``../shared/fixtures`` beside the project root; tests using it skip when it is absent."""
    if not SHARED_FIXTURES.is_dir():
        pytest.skip("../shared/fixtures is not present")
    return SHARED_FIXTURES


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
