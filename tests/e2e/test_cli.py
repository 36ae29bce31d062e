"""The `openweight` command as a user runs it."""

from __future__ import annotations

import json
import signal
import sqlite3
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import Openweight
from tests.helpers import end

QUESTION = "What is the capital of France?"
STORY = "Write a very long story about a dragon and a knight."


def test_import_chat_and_history(with_model: Openweight) -> None:
    ow = with_model
    listed = ow.run("models", "list")
    assert "SmolLM2-135M-Instruct.Q4_1" in listed.stdout and "Q4_1" in listed.stdout

    chat = ow.run("chat", "--temperature", "0", QUESTION)
    assert chat.returncode == 0, chat.stderr
    assert "Paris" in chat.stdout
    assert chat.stderr == ""  # nothing from llama.cpp spills onto the terminal

    shown = ow.run("history", "show", "--last")
    assert QUESTION in shown.stdout and "Paris" in shown.stdout

    listing = json.loads(ow.run("history", "list", "--json").stdout)
    assert listing[0]["title"] == QUESTION and listing[0]["message_count"] == 2
    conv_id = listing[0]["id"]

    follow = ow.run("chat", "--temperature", "0", "--conversation", str(conv_id), "--json",
                    "And what is the capital of Italy?")
    events = [json.loads(line) for line in follow.stdout.splitlines()]
    assert events[0]["type"] == "loaded" and events[0]["device"].startswith("CPU")  # where it ran
    assert events[1]["type"] == "started" and events[1]["prompt_tokens"] > 20
    assert any(e["type"] == "delta" for e in events)
    assert events[-1]["type"] == "final" and events[-1]["status"] == "complete"
    assert events[-1]["stats"]["generated_tokens"] > 0

    hits = json.loads(ow.run("history", "search", "capital", "--json").stdout)
    assert {h["conversation_id"] for h in hits} == {conv_id}

    md = ow.run("history", "export", str(conv_id), "--format", "md")
    assert md.stdout.startswith("# What is the capital of France?") and "Paris" in md.stdout
    exported = json.loads(ow.run("history", "export", str(conv_id), "--format", "json").stdout)
    assert len(exported["messages"]) == 4

    assert ow.run("history", "delete", str(conv_id)).returncode == 0
    assert "No conversations" in ow.run("history", "list").stdout


def test_bad_files_give_one_line_errors(openweight: Openweight, tmp_path: Path,
                                        test_model_path: Path, crashing_model_path: Path) -> None:
    truncated = tmp_path / "truncated.gguf"
    truncated.write_bytes(test_model_path.read_bytes()[:2_000_000])
    corrupt = tmp_path / "corrupt.gguf"
    corrupt.write_bytes(b"\x00" * 4096)
    for path in (truncated, corrupt, tmp_path / "missing.gguf"):
        result = openweight.run("models", "import", str(path))
        assert result.returncode == 1
        assert result.stderr.startswith("openweight: ") and result.stderr.count("\n") == 1
        assert "Traceback" not in result.stderr

    # A file whose header reads fine but makes llama.cpp abort: the CLI survives and says so.
    assert openweight.run("models", "import", str(crashing_model_path)).returncode == 0
    result = openweight.run("chat", "hello")
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "stopped while loading" in result.stderr
    assert "Traceback" not in result.stderr
    db = sqlite3.connect(openweight.data_dir / "openweight.sqlite3")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    statuses = [r[0] for r in db.execute("SELECT status FROM messages ORDER BY id")]
    assert statuses == ["complete", "failed"]  # the question is kept; the answer says it failed


def test_a_chat_that_never_starts_leaves_no_empty_chat_behind(openweight: Openweight) -> None:
    result = openweight.run("chat", "hello")
    assert result.returncode == 1 and "No model is installed yet" in result.stderr
    assert openweight.run("history", "list").stdout.startswith("No conversations yet.")


def _wait_for_answer_text(proc, seconds: float = 60.0) -> list[dict]:  # type: ignore[no-untyped-def]
    events = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        event = json.loads(line)
        events.append(event)
        if event["type"] == "delta" and sum(len(e.get("answer", "")) for e in events) > 80:
            return events
    raise AssertionError(f"no streamed answer: {events} {proc.stderr.read()}")


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_keeps_the_partial_answer_as_stopped(with_model: Openweight) -> None:
    proc = with_model.start("chat", "--temperature", "0", "--max-tokens", "3000", "--json", STORY)
    _wait_for_answer_text(proc)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    final = json.loads(out.splitlines()[-1])
    assert final["type"] == "final" and final["status"] == "stopped"
    assert len(final["content"]) > 80 and final["stats"]["generated_tokens"] < 3000
    shown = with_model.run("history", "show", "--last", "--json")
    messages = json.loads(shown.stdout)["messages"]
    assert messages[-1]["status"] == "stopped" and messages[-1]["content"] == final["content"]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_kill_9_mid_answer_loses_nothing_flushed(with_model: Openweight) -> None:
    proc = with_model.start("chat", "--temperature", "0", "--max-tokens", "3000", "--json", STORY)
    events = _wait_for_answer_text(proc)
    time.sleep(1.2)  # at least one 0.5 s flush has happened since text arrived
    end(proc, signal.SIGKILL)
    streamed = "".join(e.get("answer", "") for e in events)
    db_path = with_model.data_dir / "openweight.sqlite3"
    db = sqlite3.connect(db_path)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()
    # The next start marks the orphaned answer as interrupted and keeps its text.
    shown = json.loads(with_model.run("history", "show", "--last", "--json").stdout)
    answer = shown["messages"][-1]
    assert answer["status"] == "interrupted"
    assert answer["content"].startswith(streamed[:80]) and len(answer["content"]) >= 80


def test_interactive_session_with_new_and_quit(with_model: Openweight) -> None:
    proc = with_model.start("chat", "--temperature", "0")
    out, err = proc.communicate(
        "What is the capital of France?\n/new\nWhat is the capital of France?\n/quit\n", timeout=120
    )
    assert proc.returncode == 0, err
    assert out.count("Paris") == 2 and "Started a new chat." in err
    listing = json.loads(with_model.run("history", "list", "--json").stdout)
    assert [c["message_count"] for c in listing] == [2, 2]  # /new started a second chat
