from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


class Openweight:
    """Runs the real command line in a separate process, with its own data folder."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.env.pop("OPENWEIGHT_HOME", None)

    def argv(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "desktop", "--data-dir", str(self.data_dir), *args]

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.argv(*args), capture_output=True, text=True, timeout=timeout,
                              cwd=ROOT, env=self.env)

    def start(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(self.argv(*args), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, cwd=ROOT, env=self.env)


@pytest.fixture
def openweight(tmp_path: Path) -> Openweight:
    return Openweight(tmp_path / "profile")


@pytest.fixture
def with_model(openweight: Openweight, test_model_path: Path) -> Openweight:
    result = openweight.run("models", "import", str(test_model_path))
    assert result.returncode == 0, result.stderr
    return openweight
