"""The loopback Hub runs on its own too (python -m tests.fakehub), for end-to-end tests by hand."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_standalone_hub_prints_its_url_and_can_be_steered() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fakehub", "--port", "0", "--throttle", "1000000"],
        cwd=ROOT,
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(f"{url}/api/models?search=tiny&filter=gguf", timeout=10) as r:
            assert [m["id"] for m in json.load(r)] == ["openweight-test/Tiny-Split-GGUF"]
        change = urllib.request.Request(
            f"{url}/_fakehub/faults",
            data=json.dumps({"ignore_range": True}).encode(),
            method="POST",
        )
        urllib.request.urlopen(change, timeout=10).close()
        with urllib.request.urlopen(f"{url}/_fakehub/requests", timeout=10) as r:
            (seen,) = json.load(r)
        assert seen["path"] == "/api/models" and seen["query"]["search"] == ["tiny"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()
