"""One window per data folder, as a user launches it twice; the CLI works beside it."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

from tests.e2e.conftest import Openweight

QUESTION = "What is the capital of France?"


def wait_for_log(log: Path, text: str, proc: subprocess.Popen[str], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.exists() and text in log.read_text(errors="replace"):
            return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.1)
    raise AssertionError(f"{text!r} never appeared in {log}")


def test_second_launch_brings_the_first_forward_and_the_cli_works_beside(
    with_model: Openweight,
) -> None:
    ow = with_model
    ow.env["QT_QPA_PLATFORM"] = "offscreen"
    assert ow.run("chat", "--temperature", "0", "--max-tokens", "16", QUESTION).returncode == 0
    db = ow.data_dir / "openweight.sqlite3"
    damaged = bytearray(db.read_bytes())
    damaged[:16] = b"\xff" * 16  # the window starts anyway, with a notice
    db.write_bytes(bytes(damaged))
    log = ow.data_dir / "logs" / "openweight.log"

    window = ow.start()
    try:
        wait_for_log(log, "window shown", window)
        second = ow.run(timeout=60)
        assert second.returncode == 0, second.stderr
        assert "already open for this data folder; its window was brought forward" in second.stderr
        wait_for_log(log, "another launch asked this window to come forward", window)

        chat = ow.run("chat", "--temperature", "0", "--max-tokens", "16", QUESTION)
        assert chat.returncode == 0 and "Paris" in chat.stdout, chat.stderr
        listed = ow.run("history", "list")
        assert listed.stdout.count(QUESTION) == 2  # the salvaged chat and the new one
        assert window.poll() is None
    finally:
        window.send_signal(signal.SIGTERM)
        _out, err = window.communicate(timeout=60)
    assert window.returncode == 0, err
    assert "Your history database was damaged" in err
    assert "Traceback" not in err
    # Gone: the next launch is a first launch again.
    assert not (ow.data_dir / ".window.lock").exists()
