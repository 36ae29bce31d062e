"""A handful of the damaged-model corpus through the real command line, as a user runs it."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from desktop.modelfile.problems import which_problem
from tests.damaged_models import damaged_cases, iter_damaged
from tests.e2e.conftest import Openweight

CASES = {
    "truncated-half": "incomplete",
    "header-magic-ggml": "not_gguf",
    "tensors-dims-overflow-product": "damaged",
    "metadata-llama.block_count-0": "crashed_loading",
    "template-endless-loop": None,  # answers, with a notice that the template was replaced
}


def _processes_with(tag: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and tag.encode() in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="reads /proc")
def test_damaged_files_through_the_cli(openweight: Openweight, test_model_path: Path,
                                       tmp_path: Path) -> None:
    tag = f"OPENWEIGHT_TEST_TAG={uuid.uuid4().hex}"
    key, value = tag.split("=")
    openweight.env[key] = value
    half = f"truncated-at-{test_model_path.stat().st_size // 2}"  # cut in the tensor data
    names = {half if n == "truncated-half" else n: problem for n, problem in CASES.items()}
    cases = [c for c in damaged_cases(test_model_path) if c.name in names]
    assert len(cases) == len(CASES)
    for case, path in iter_damaged(test_model_path, tmp_path / "corpus", cases):
        result = openweight.run("chat", "--model", str(path), "--max-tokens", "4", "--verbose", "Hi")
        assert "Traceback" not in result.stderr, result.stderr
        expected = names[case.name]
        if expected is None:
            assert result.returncode == 0, result.stderr
            assert "chat template" in result.stderr and "standard layout" in result.stderr
            assert result.stdout.strip()
        else:
            assert result.returncode == 1, (case.name, result.stderr)
            first, *rest = result.stderr.splitlines()
            assert first.startswith("openweight: ")
            assert which_problem(first.removeprefix("openweight: ")) == expected, first
            assert rest and rest[0].startswith("Details: "), result.stderr  # --verbose
        assert _processes_with(tag) == [], f"{case.name}: an engine host was left running"
