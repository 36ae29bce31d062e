"""`openweight models download` as a person runs it: killed with -9 mid-way, run again, then chat."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from desktop.store import Store
from tests.fakehub import MODEL_FILENAME, MODEL_REPO, FakeHub

pytest_plugins = ["tests.fakehub.fixtures"]

ROOT = Path(__file__).resolve().parents[2]
COMMAND = [sys.executable, "-m", "desktop", "models"]


def _hear_ctrl_c() -> None:
    # A suite started in the background (nohup, `&`) ignores Ctrl+C, and a child inherits
    # that; the download must hear it as a person's terminal would deliver it.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start(args: list[str], data: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*COMMAND, *args, "--data-dir", str(data)],
        cwd=ROOT,
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_hear_ctrl_c if os.name == "posix" else None,  # noqa: PLW1509 - no threads use it
    )


def run(args: list[str], data: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*COMMAND, *args, "--data-dir", str(data)],
        cwd=ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def committed(sidecar: Path) -> int:
    try:
        return int(json.loads(sidecar.read_text())["committed"])
    except (OSError, ValueError, KeyError):
        return 0


def wait_until(condition: Any, proc: subprocess.Popen[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"the download ended early ({proc.returncode}): {out} {err}")
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_download_survives_kill_9_resumes_verifies_and_chats(
    hub_env: FakeHub, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    folder = data / "models" / MODEL_REPO
    sidecar = folder / f"{MODEL_FILENAME}.part.json"
    hub_env.faults.throttle_bps = 4_000_000

    first = start(["download", MODEL_REPO, MODEL_FILENAME], data)
    wait_until(lambda: committed(sidecar) >= 8_000_000, first)
    first.send_signal(signal.SIGKILL)
    _, progress = first.communicate(timeout=10)
    assert first.returncode == -signal.SIGKILL
    kept = committed(sidecar)
    assert (folder / f"{MODEL_FILENAME}.part").stat().st_size >= kept > 0
    assert "/ 98.4 MB" in progress and "MB/s" in progress  # the progress line: bytes, speed, eta

    hub_env.faults.throttle_bps = None
    second = run(["download", MODEL_REPO, MODEL_FILENAME], data)
    assert second.returncode == 0, second.stderr
    assert "SHA-256 verified" in second.stdout
    starts = hub_env.range_starts()
    assert starts[0] == 0 and starts[-1] >= kept  # resumed from the part, not from zero
    final = folder / MODEL_FILENAME
    expected = hub_env.repos[MODEL_REPO].files[MODEL_FILENAME].sha256
    assert hashlib.sha256(final.read_bytes()).hexdigest() == expected
    assert sorted(p.name for p in folder.iterdir()) == [MODEL_FILENAME]

    listed = run(["list", "--json"], data)
    assert listed.returncode == 0, listed.stderr
    assert "SmolLM2-135M-Instruct.Q4_1" in listed.stdout

    chat = subprocess.run(
        [
            sys.executable,
            "-m",
            "desktop",
            "chat",
            "What is the capital of France?",
            "--model",
            "SmolLM2-135M-Instruct.Q4_1",
            "--temperature",
            "0",
            "--max-tokens",
            "24",
            "--data-dir",
            str(data),
        ],
        cwd=ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert chat.returncode == 0, chat.stderr
    assert "Paris" in chat.stdout


def test_ctrl_c_pauses_and_keeps_the_part(hub_env: FakeHub, tmp_path: Path) -> None:
    data = tmp_path / "data"
    sidecar = data / "models" / MODEL_REPO / f"{MODEL_FILENAME}.part.json"
    hub_env.faults.throttle_bps = 4_000_000
    proc = start(["download", MODEL_REPO, MODEL_FILENAME], data)
    wait_until(lambda: committed(sidecar) >= 2_000_000, proc)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert "Paused at" in err and "run the same command again" in err.lower()
    assert committed(sidecar) >= 2_000_000


def test_offline_mode_refuses_from_the_command_line(hub_env: FakeHub, tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = Store(data / "openweight.sqlite3")
    store.settings.set("offline_mode", True)
    store.close()
    for args in (
        ["search", "smol"],
        ["files", MODEL_REPO],
        ["download", MODEL_REPO, MODEL_FILENAME],
    ):
        done = run(args, data)
        assert done.returncode == 1
        assert done.stderr.startswith("openweight: Offline mode is on")
        assert len(done.stderr.strip().splitlines()) == 1
    assert hub_env.seen() == []


def test_search_files_and_catalog_print_json(hub_env: FakeHub, tmp_path: Path) -> None:
    data = tmp_path / "data"
    found = json.loads(run(["search", "openweight-test", "--json"], data).stdout)
    assert [r["repo_id"] for r in found][0] == MODEL_REPO
    files = json.loads(run(["files", MODEL_REPO, "--json"], data).stdout)
    assert files["models"][0]["filename"] == MODEL_FILENAME
    assert files["models"][0]["fit"]["level"] == "runs_well"
    assert files["models"][0]["recommended"] is True
    catalog = json.loads(run(["catalog", "--json"], data).stdout)
    assert catalog[0]["name"] == "gpt-oss-20b" and catalog[0]["fit"]["label"]
    small = next(e for e in catalog if e["name"] == "SmolLM2-135M-Instruct")  # fits anywhere
    speed = small["speed"]  # estimated for this computer, so only its shape is known
    assert speed["level"] in ("fast", "usable", "slow") and speed["tokens_per_s"] > 0
    assert "tokens/s" in speed["reason"] or "token/s" in speed["reason"]
    missing = run(["files", "nobody/nothing"], data)
    assert missing.returncode == 1 and "no such repository" in missing.stderr


def test_remove_deletes_the_file_and_says_what_it_freed(hub_env: FakeHub, tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert run(["download", MODEL_REPO, MODEL_FILENAME], data).returncode == 0
    removed = run(["remove", "SmolLM2-135M-Instruct.Q4_1"], data)
    assert removed.returncode == 0, removed.stderr
    assert "freeing 98.4 MB" in removed.stdout
    assert not (data / "models" / MODEL_REPO).exists()
    again = run(["remove", "SmolLM2-135M-Instruct.Q4_1"], data)
    assert again.returncode == 1 and "No installed model" in again.stderr
