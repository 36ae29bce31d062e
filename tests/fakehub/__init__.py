"""A loopback Hugging Face Hub for tests: no test may reach the internet."""

from desktop.library.transfer import TransferSettings
from tests.fakehub.repos import (
    MODEL_COMMIT,
    MODEL_FILENAME,
    MODEL_REPO,
    SPLIT_COMMIT,
    SPLIT_REPO,
    FakeFile,
    FakeRepo,
    catalog_entry_for_test_model,
    locate_test_model,
    tiny_gguf,
)
from tests.fakehub.server import FakeHub, Faults, Seen

# Transfers against the loopback Hub: short timeouts and back-off, so fault tests take moments.
FAST_TRANSFERS = TransferSettings(
    read_timeout=1.0,
    connect_timeout=2.0,
    max_attempts=4,
    backoff_base=0.05,
    backoff_max=0.2,
    commit_bytes=1 << 20,
    commit_seconds=0.05,
    free_space_margin=0,
)

__all__ = [
    "FAST_TRANSFERS",
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
    "catalog_entry_for_test_model",
    "tiny_gguf",
]
