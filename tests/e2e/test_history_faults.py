"""The CLI facing a read-only data folder, a full disk, a damaged database; backups."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import ROOT, Openweight

QUESTION = "What is the capital of France?"
# Root ignores file permissions; drop the capabilities that let it, so chmod really bites.
NO_OVERRIDE = ["--bounding-set=-dac_override,-dac_read_search,-fowner"]


def messages(data_dir: Path) -> list[tuple[int, str, str]]:
    conn = sqlite3.connect(data_dir / "openweight.sqlite3")
    try:
        return list(conn.execute("SELECT id, role, content FROM messages ORDER BY id"))
    finally:
        conn.close()


def one_clear_line(result: subprocess.CompletedProcess[str], words: str) -> None:
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("openweight: ") and result.stderr.count("\n") == 1, result.stderr
    assert words in result.stderr


@pytest.fixture
def chatted(with_model: Openweight) -> Openweight:
    result = with_model.run("chat", "--temperature", "0", "--max-tokens", "16", QUESTION)
    assert result.returncode == 0, result.stderr
    return with_model


def unprivileged(argv: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return argv
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: permissions cannot be made to bite")
    probe = subprocess.run([setpriv, *NO_OVERRIDE, "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("cannot drop root's permission override here (no CAP_SETPCAP)")
    return [setpriv, *NO_OVERRIDE, *argv]


def test_read_only_data_folder(chatted: Openweight) -> None:
    before = messages(chatted.data_dir)
    db = chatted.data_dir / "openweight.sqlite3"
    db.chmod(0o444)
    chatted.data_dir.chmod(0o555)
    try:
        for args in (["chat", "--max-tokens", "4", "Hello"], ["history", "list"]):
            result = subprocess.run(unprivileged(chatted.argv(*args)), capture_output=True,
                                    text=True, timeout=120, cwd=ROOT, env=chatted.env)
            one_clear_line(result, "cannot write to its history database")
    finally:
        chatted.data_dir.chmod(0o755)
        db.chmod(0o644)
    assert messages(chatted.data_dir) == before


def test_disk_full_says_so_and_keeps_what_was_saved(chatted: Openweight) -> None:
    before = messages(chatted.data_dir)
    db = chatted.data_dir / "openweight.sqlite3"
    # A real write failure from the operating system: no file may grow past its present size.
    limit = db.stat().st_size
    script = (
        "import resource, signal, sys;"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN);"
        f"resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}));"
        "from desktop.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    argv = [sys.executable, "-c", script, "--data-dir", str(chatted.data_dir),
            "chat", "--max-tokens", "16", "Tell me about Rome"]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=ROOT,
                            env=chatted.env)
    one_clear_line(result, "the disk is full")
    after = messages(chatted.data_dir)
    assert after[: len(before)] == before
    assert sqlite3.connect(db).execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_damaged_database_at_start_up(chatted: Openweight) -> None:
    db = chatted.data_dir / "openweight.sqlite3"
    data = bytearray(db.read_bytes())
    data[:16] = b"\x00" * 16
    db.write_bytes(bytes(data))
    result = chatted.run("history", "show", "--last")
    assert result.returncode == 0, result.stderr
    assert "openweight: Your history database was damaged" in result.stderr
    assert "Paris" in result.stdout  # salvaged
    kept = [p for p in chatted.data_dir.iterdir() if ".damaged-" in p.name]
    assert len(kept) == 1 and kept[0].read_bytes() == bytes(data)
    assert chatted.run("history", "list").stderr == ""  # the notice is shown once


def test_backup_commands(chatted: Openweight) -> None:
    assert "No backups yet" in chatted.run("history", "backups").stdout
    chatted.run("history", "list")  # start-up with a history and no backup: the daily one
    made = chatted.run("history", "backup")
    assert made.returncode == 0 and "Backed up your history" in made.stdout
    listed = chatted.run("history", "backups")
    assert listed.stdout.count("openweight-") == 2  # today's automatic one and this one
    conv = chatted.run("history", "list", "--json")
    assert chatted.run("history", "delete", "1").returncode == 0, conv.stdout
    restored = chatted.run("history", "restore", "--latest")
    assert restored.returncode == 0, restored.stderr
    assert "kept as" in restored.stdout
    assert "Paris" in chatted.run("history", "show", "--last").stdout
    wrong = chatted.run("history", "restore")
    one_clear_line(wrong, "Say which backup")
