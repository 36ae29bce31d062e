"""pytest fixtures for the loopback Hub. Import them into a test module (or a conftest)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakehub.server import FakeHub


@pytest.fixture(scope="session")
def _shared_fake_hub() -> Iterator[FakeHub]:
    # One server per session: hashing the 98 MB test model once is enough.
    with FakeHub() as hub:
        yield hub


@pytest.fixture
def fake_hub(_shared_fake_hub: FakeHub) -> Iterator[FakeHub]:
    """The loopback Hub with no faults and an empty request log."""
    _shared_fake_hub.clear()
    yield _shared_fake_hub
    _shared_fake_hub.clear()


@pytest.fixture
def hub_env(fake_hub: FakeHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeHub:
    """Point huggingface_hub (and the app) at the loopback Hub, with a throwaway HF_HOME."""
    monkeypatch.setenv("HF_ENDPOINT", fake_hub.url)
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    monkeypatch.delenv("HF_TOKEN", raising=False)
    return fake_hub
