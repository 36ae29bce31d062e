"""A loopback Hugging Face Hub for tests: no test may reach the internet."""

from tests.fakehub.repos import (
    MODEL_COMMIT,
    MODEL_FILENAME,
    MODEL_REPO,
    SPLIT_COMMIT,
    SPLIT_REPO,
    FakeFile,
    FakeRepo,
    locate_test_model,
    tiny_gguf,
)
from tests.fakehub.server import FakeHub, Faults, Seen

__all__ = [
    "MODEL_COMMIT",
    "MODEL_FILENAME",
    "MODEL_REPO",
    "SPLIT_COMMIT",
    "SPLIT_REPO",
    "FakeFile",
    "FakeHub",
    "FakeRepo",
    "Faults",
    "Seen",
    "locate_test_model",
    "tiny_gguf",
]
