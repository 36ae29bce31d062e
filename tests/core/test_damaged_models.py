"""Hundreds of damaged copies of the test model, each tried as the app would: every one ends
with the engine still serving, no leftover process, and a message from the known set."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from desktop.engine.client import EngineClient
from desktop.engine.options import GenerateOptions, LoadOptions
from desktop.modelfile.problems import PROBLEMS
from tests.damaged_models import Outcome, damaged_cases, iter_damaged, try_model_file


def _engine_children() -> list[int]:
    """Engine host processes this test process started that still exist (zombies included)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == os.getpid() and b"desktop.engine.host" in cmdline:
            found.append(int(entry.name))
    return found


@pytest.fixture(scope="module")
def outcomes(test_model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    client = EngineClient()
    results: dict[str, Outcome] = {}
    try:
        for case, path in iter_damaged(test_model_path, tmp_path_factory.mktemp("corpus")):
            results[case.name] = try_model_file(client, case, path)
        # After all that, the same client still answers with the real model.
        client.load(LoadOptions(path=str(test_model_path), n_ctx=1024))
        answer = "".join(
            e.get("answer", "") for e in client.generate(GenerateOptions(
                messages=[{"role": "system", "content": "You are a helpful assistant."},
                          {"role": "user", "content": "What is the capital of France?"}],
                temperature=0, max_tokens=24))
        )
        results["(the real model afterwards)"] = Outcome("after", "ok", message=answer,
                                                         answered="Paris" in answer)
    finally:
        client.close()
    if Path("/proc/self/stat").exists():  # Linux: no engine host is left behind
        assert _engine_children() == []
    return results


def test_the_corpus_is_large_and_covers_every_part(test_model_path: Path) -> None:
    cases = damaged_cases(test_model_path)
    assert len(cases) >= 150
    assert {c.part for c in cases} == {"header", "metadata", "tokenizer", "tensors", "data",
                                       "truncated", "template"}


def test_every_damaged_file_gets_a_known_plain_message(outcomes: dict[str, Outcome]) -> None:
    unclear = {name: o.message for name, o in outcomes.items() if o.problem is None}
    assert not unclear, f"messages outside the known set: {unclear}"
    for o in outcomes.values():
        assert "Traceback" not in o.message and "Error:" not in o.message
        assert o.problem == "ok" or o.problem in PROBLEMS
        if o.problem not in ("ok", "not_gguf", "old_format", "newer_format"):
            assert o.detail, f"{o.case}: no technical detail kept for {o.problem}"


def test_the_engine_survives_them_all(outcomes: dict[str, Outcome]) -> None:
    assert outcomes["(the real model afterwards)"].answered
    crashed = [o for o in outcomes.values() if o.crashed]
    # llama.cpp aborts on a few (block_count 0, a negative norm epsilon): the host restarts.
    assert crashed and all(o.problem in ("crashed_loading", "crashed_answering") for o in crashed)


def test_each_kind_of_damage_is_named_for_what_it_is(outcomes: dict[str, Outcome]) -> None:
    for name, o in outcomes.items():
        if name.startswith("truncated-"):
            assert o.problem in ("incomplete", "not_gguf"), (name, o.message)
        if name.startswith("header-magic"):
            assert o.problem == "not_gguf"
    # A tensor whose dimensions overflow is damage, not an interrupted download.
    for name in ("tensors-first-dim0-4611686018427387904", "tensors-dims-overflow-product",
                 "tensors-middle-dim0-18446744073709551615"):
        assert outcomes[name].problem == "damaged", outcomes[name]
        assert "overflow" in outcomes[name].detail
    assert outcomes["tensors-last-type-99"].problem == "unknown_quantization"
    assert outcomes["tensors-last-dim0-1099511627776"].problem == "damaged"
    assert outcomes["tensors-last-offset-98362432"].problem == "damaged"
    assert outcomes["metadata-architecture-unknown"].problem == "unsupported_architecture"
    assert "'lxyzz'" in outcomes["metadata-architecture-unknown"].message
    assert outcomes["metadata-llama.block_count-0"].problem == "crashed_loading"
    assert "GGML_ASSERT" in outcomes["metadata-llama.block_count-0"].detail


def test_broken_or_hostile_chat_templates_fall_back_with_a_notice(
    outcomes: dict[str, Outcome],
) -> None:
    for name in ("template-escape-attempt", "template-endless-loop", "template-huge-output",
                 "template-recursion"):
        assert outcomes[name].answered and outcomes[name].notice == PROBLEMS[
            "template_unsafe"].format(name=f"{name}.gguf"), outcomes[name]
    for name in ("template-syntax-error", "template-unknown-filter", "template-empty-output"):
        assert outcomes[name].answered and "cannot be used" in outcomes[name].notice, outcomes[name]
    assert outcomes["template-raises"].problem == "template_refused"
    assert "refuses every chat" in outcomes["template-raises"].message
