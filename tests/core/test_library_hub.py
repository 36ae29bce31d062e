"""Hub search and file listing through the real huggingface_hub client, against a loopback Hub."""

from __future__ import annotations

import pytest

from desktop.library.errors import HubNotFoundError, OfflineError
from desktop.library.hardware import Machine
from desktop.library.hub import HubClient, HubModelFile, RemoteFile, recommend
from tests.fakehub import (
    MODEL_COMMIT,
    MODEL_FILENAME,
    MODEL_REPO,
    SPLIT_COMMIT,
    SPLIT_REPO,
    FakeHub,
)

pytest_plugins = ["tests.fakehub.fixtures"]

GB = 1_000_000_000


def test_search_finds_gguf_repositories_most_downloaded_first(hub_env: FakeHub) -> None:
    results = HubClient().search("openweight-test")
    assert [r.repo_id for r in results] == [
        MODEL_REPO,
        SPLIT_REPO,
    ]  # the safetensors repo is left out
    assert results[0].downloads == 5000 and results[0].likes == 40
    assert results[0].last_modified is not None and results[0].last_modified.year == 2026
    (request,) = hub_env.seen("hub")
    assert request.path == "/api/models"
    assert request.query["filter"] == ["gguf"] and request.query["sort"] == ["downloads"]


def test_search_with_no_match_is_empty(hub_env: FakeHub) -> None:
    assert HubClient().search("nothing-like-this") == []


def test_file_listing_has_sizes_hashes_and_the_commit(hub_env: FakeHub) -> None:
    listing = HubClient().list_files(MODEL_REPO)
    assert listing.revision == MODEL_COMMIT
    (model,) = listing.models  # README.md is not a model
    assert model.filename == MODEL_FILENAME
    assert model.quantization == "Q4_1"
    assert model.size_bytes == hub_env.repos[MODEL_REPO].files[MODEL_FILENAME].size
    assert model.parts[0].sha256 == hub_env.repos[MODEL_REPO].files[MODEL_FILENAME].sha256
    assert f"/resolve/{MODEL_COMMIT}/" in model.parts[0].url  # downloads pin the listed commit


def test_split_files_are_one_model_grouped_by_quantization(hub_env: FakeHub) -> None:
    listing = HubClient().list_files(SPLIT_REPO, revision=SPLIT_COMMIT)
    groups = listing.by_quantization()
    assert sorted(groups) == ["Q4_K_M", "Q8_0"]
    (split,) = groups["Q4_K_M"]
    assert split.is_split and len(split.parts) == 3
    assert split.name == "Tiny-Q4_K_M"
    assert split.size_bytes == sum(p.size_bytes or 0 for p in split.parts)
    assert [p.filename for p in listing.projectors] == ["mmproj-Tiny-F16.gguf"]
    assert listing.incomplete_splits == ("Tiny-F16-00001-of-00002.gguf",)
    assert listing.find("Tiny-Q4_K_M-00003-of-00003.gguf") is split


def test_resolving_a_file_with_missing_parts_says_so(hub_env: FakeHub) -> None:
    with pytest.raises(HubNotFoundError, match="parts of that split model are missing"):
        HubClient().resolve(SPLIT_REPO, "Tiny-F16-00001-of-00002.gguf")


def test_unknown_repository_revision_and_file_are_explained(hub_env: FakeHub) -> None:
    client = HubClient()
    with pytest.raises(HubNotFoundError, match="no such repository"):
        client.list_files("nobody/nothing-GGUF")
    with pytest.raises(HubNotFoundError, match="version of the repository does not exist"):
        client.list_files(MODEL_REPO, revision="f" * 40)
    with pytest.raises(HubNotFoundError, match="openweight models files"):
        client.resolve(MODEL_REPO, "missing.gguf")


def test_unreachable_hub_is_a_network_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # the discard port: nothing listens
    with pytest.raises(Exception, match="could not be reached|did not answer") as caught:
        HubClient(timeout=2).list_files(MODEL_REPO)
    assert type(caught.value).__name__ == "NetworkError"


def test_offline_mode_makes_no_connection(hub_env: FakeHub) -> None:
    client = HubClient(is_offline=lambda: True)
    with pytest.raises(OfflineError, match="Offline mode is on.*Settings"):
        client.search("smol")
    with pytest.raises(OfflineError):
        client.list_files(MODEL_REPO)
    assert hub_env.seen() == []


def _model(name: str, size: int) -> HubModelFile:
    part = RemoteFile("r/r", f"{name}.gguf", "c" * 40, size, None, "http://x")
    return HubModelFile(name, name.rsplit("-", 1)[-1], (part,))


def test_recommend_picks_the_largest_file_that_runs_well() -> None:
    files = [_model("m-Q2_K", 3 * GB), _model("m-Q4_K_M", 5 * GB), _model("m-Q8_0", 9 * GB)]
    assert recommend(files, Machine(ram_bytes=16 * GB)).name == "m-Q4_K_M"  # type: ignore[union-attr]
    assert recommend(files, Machine(ram_bytes=64 * GB)).name == "m-Q8_0"  # type: ignore[union-attr]
    assert recommend(files, Machine(ram_bytes=2 * GB)) is None
    # Nothing runs well on 6 GB, but the 3 GB file is tight: offer it rather than nothing.
    assert recommend(files, Machine(ram_bytes=6 * GB)).name == "m-Q2_K"  # type: ignore[union-attr]
