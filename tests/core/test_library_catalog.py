"""The curated catalog: shipped as package data, pinned, and faithful to the gathered facts."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from desktop.library.catalog import find_entry, load_catalog, parse_catalog
from desktop.library.errors import CatalogError
from desktop.library.jobs import DownloadRequest

ROOT = Path(__file__).resolve().parents[2]
SHARED_FACTS = ROOT.parent / "shared" / "catalog-facts.json"
# The gathered facts as of the catalog's last change, so a clone alone (CI) checks it too.
FACTS = ROOT / "tests" / "data" / "catalog-facts.json"


def test_catalog_loads_from_package_data_and_is_led_by_gpt_oss_20b() -> None:
    entries = load_catalog()
    assert entries[0].name == "gpt-oss-20b"
    assert entries[0].reasoning_style == "harmony"
    families = {e.family for e in entries}
    assert {"Qwen3", "Llama 3", "Gemma 3", "Phi-4", "Mistral", "DeepSeek-R1", "SmolLM2"} <= families
    assert any(e.kind == "embedding" for e in entries)
    assert len({e.name for e in entries}) == len(entries)


def test_every_entry_is_pinned_and_verifiable() -> None:
    for entry in load_catalog():
        assert re.fullmatch(r"[0-9a-f]{40}", entry.revision), entry.name
        assert entry.reasoning_style in ("harmony", "think", "none")
        assert entry.description and len(entry.description) < 120
        for file in entry.files:
            assert re.fullmatch(r"[0-9a-f]{64}", file.sha256), entry.name
            assert file.size_bytes > 1_000_000
            assert file.filename.endswith(".gguf")


def test_root_resources_copy_matches_the_package_data() -> None:
    shipped = (ROOT / "desktop" / "resources" / "catalog.json").read_bytes()
    assert (ROOT / "resources" / "catalog.json").read_bytes() == shipped


def test_entries_state_only_facts_that_were_gathered() -> None:
    facts = {m["name"]: m for m in json.loads(FACTS.read_text())["models"]}
    for entry in load_catalog():
        fact = facts[entry.name]
        assert entry.repo_id == fact["repo_id"]
        assert entry.filename == fact["filename"]
        assert entry.files[0].size_bytes == fact["size_bytes"]
        assert entry.files[0].sha256 == fact["sha256"]
        assert fact["revision"].startswith(entry.revision)
        assert entry.context_length in (None, fact["context_length"])


@pytest.mark.skipif(not SHARED_FACTS.exists(), reason="shared/ is not beside this checkout")
def test_the_copied_facts_are_the_gathered_ones() -> None:
    # Where the gathered facts are beside the checkout, the copy must not have fallen behind.
    assert json.loads(FACTS.read_text()) == json.loads(SHARED_FACTS.read_text())


def test_find_entry_by_name_display_name_or_unique_prefix() -> None:
    assert find_entry("GPT-OSS-20B").name == "gpt-oss-20b"
    assert find_entry("Qwen3 8B").name == "Qwen3-8B"
    assert find_entry("Phi-4").name == "Phi-4-mini-instruct"
    with pytest.raises(CatalogError, match="several"):
        find_entry("Qwen3")
    with pytest.raises(CatalogError, match="openweight models catalog"):
        find_entry("no-such-model")


def test_parameter_counts_come_from_the_names() -> None:
    assert find_entry("Qwen3-0.6B").parameter_count == 600_000_000
    assert find_entry("SmolLM2-135M-Instruct").parameter_count == 135_000_000
    assert find_entry("Phi-4-mini-instruct").parameter_count is None


def test_a_damaged_catalog_is_reported_plainly() -> None:
    with pytest.raises(CatalogError, match="damaged"):
        parse_catalog('{"models": [{"name": "x"}]}')
    unpinned = {
        "models": [
            load_catalog()[0].to_dict() | {"revision": "main"},
        ]
    }
    with pytest.raises(CatalogError, match="commit"):
        parse_catalog(json.dumps(unpinned))


def test_catalog_download_requests_carry_pinned_files() -> None:
    request = DownloadRequest.from_catalog(find_entry("gpt-oss-20b"))
    assert request.revision == "b97cbb20d1995efd41dce8c4dd1ddf86e8db375b"
    assert request.known_files[0].filename == "gpt-oss-20b-MXFP4.gguf"
    assert request.source == "catalog"
    assert DownloadRequest.from_json(request.to_json()) == request
