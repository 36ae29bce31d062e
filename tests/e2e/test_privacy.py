"""Privacy, proven: every network attempt of a whole session is recorded in each process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from desktop.library.network import NETWORK_USE
from tests.e2e.privacy import Audited, is_local, offline_session, whole_session

pytestmark = pytest.mark.slow


def test_a_whole_session_attempts_no_connection_off_this_computer(
    tmp_path: Path, test_model_path: Path
) -> None:
    run = Audited(tmp_path / "profile", tmp_path / "audit.jsonl")
    export_file = tmp_path / "chat.md"
    session = whole_session(run, test_model_path, export_file)
    window = session["window"]
    assert window.returncode == 0, window.stderr
    shown = json.loads(window.stdout.splitlines()[-1])
    assert shown["answered"] and "Paris" in shown["exported"]
    for step in session["steps"]:
        assert step.returncode == 0, step.stderr
    assert "lighthouse" in session["steps"][2].stdout  # answered from the documents
    assert "Paris" in session["steps"][3].stdout
    info = " ".join(session["steps"][-1].stdout.split())  # wrapped for the terminal
    assert NETWORK_USE in info  # `openweight info` says it plainly

    processes = run.processes()
    hosts = [pid for pid, argv in processes.items() if "desktop.engine.host" in argv]
    assert len(processes) >= 10, processes  # the window, eight commands, their engine hosts
    assert hosts, "the audit hook did not reach an engine host"
    attempts = run.network()
    leaving = [r for r in attempts if not is_local(r)]
    assert not leaving, leaving


def test_the_audit_hook_sees_an_attempt_to_leave(tmp_path: Path) -> None:
    """The control: the same set-up does record a look-up and a connection that would leave."""
    run = Audited(tmp_path / "profile", tmp_path / "audit.jsonl")
    code = ("import socket\n"
            "try: socket.getaddrinfo('example.invalid', 443)\n"
            "except OSError: pass\n"
            "s = socket.socket()\n"
            "try: s.connect(('192.0.2.1', 443))\n"  # refused by the hook before any packet
            "except PermissionError: print('refused')\n")
    script = tmp_path / "leave.py"
    script.write_text(code)
    result = run.script(script)
    assert result.returncode == 0 and result.stdout == "refused\n", result.stderr
    leaving = [r for r in run.network() if not is_local(r)]
    assert {r["event"] for r in leaving} == {"socket.getaddrinfo", "socket.connect"}


def test_offline_mode_refuses_before_opening_any_socket(tmp_path: Path) -> None:
    run = Audited(tmp_path / "profile", tmp_path / "audit.jsonl")
    for result in offline_session(run):
        assert result.returncode == 1, result
        assert "Offline mode is on" in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
    assert len(run.processes()) == 4
    assert run.network() == []  # not one socket made, not one name looked up
