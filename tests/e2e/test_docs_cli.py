"""`openweight docs` and `openweight chat --docs` as a user runs them."""

from __future__ import annotations

import json
import signal
import sqlite3
import sys
import time
from pathlib import Path

import pytest

from tests.documents_corpus import write_pdf
from tests.e2e.conftest import Openweight
from tests.helpers import end


def _corpus(folder: Path) -> Path:
    folder.mkdir()
    (folder / "heron.md").write_text(
        "# Grey heron\n\nThe grey heron nests in colonies called heronries, high in tall trees.\n")
    (folder / "boats.txt").write_text("Sailing boats use the wind; rowing boats use oars.\n")
    write_pdf(folder / "almanac.pdf", ["Tides follow the moon.", "The lighthouse keeper logs storms."])
    (folder / "empty.txt").write_bytes(b"")
    return folder


def test_docs_commands_and_chat_with_sources(with_model: Openweight, tmp_path: Path,
                                             embedding_model_path: Path) -> None:
    ow = with_model
    folder = _corpus(tmp_path / "notes")
    added = ow.run("docs", "add", "Notes", str(folder))
    assert added.returncode == 0 and "Created collection 'Notes'" in added.stdout
    missing = ow.run("docs", "add", "Notes", str(tmp_path / "nowhere"))
    assert missing.returncode == 1 and missing.stderr.count("\n") == 1

    indexed = ow.run("docs", "index")
    assert indexed.returncode == 0, indexed.stderr
    assert "3 files indexed" in indexed.stdout and "skipped" in indexed.stdout
    assert "keywords only" in indexed.stderr  # no embedding model yet, and it says how to get one
    [status] = json.loads(ow.run("docs", "list", "--json").stdout)
    assert (status["files"], status["embedded_passages"]) == (3, 0)
    assert status["skipped"] == [{"path": str(folder / "empty.txt"), "reason": "empty file"}]

    hits = json.loads(ow.run("docs", "search", "Notes", "lighthouse storms", "--json").stdout)
    assert hits[0]["path"] == str(folder / "almanac.pdf") and hits[0]["page"] == 2
    text = ow.run("docs", "search", "Notes", "lighthouse storms").stdout
    assert text.startswith(f"1. {folder / 'almanac.pdf'}, page 2") and "[lighthouse]" in text

    imported = ow.run("models", "import", str(embedding_model_path))
    assert imported.returncode == 0 and "embedding model" in imported.stdout
    assert "(embedding model)" in ow.run("models", "list").stdout
    again = json.loads(ow.run("docs", "index", "Notes", "--json").stdout)
    assert again[0]["indexed"] == 3  # cut again in the model's own tokens, and embedded
    hybrid = json.loads(ow.run("docs", "search", "Notes", "where do big grey birds breed",
                               "--json").stdout)
    assert hybrid[0]["path"] == str(folder / "heron.md") and hybrid[0]["vector_rank"] == 1

    chat = ow.run("chat", "--docs", "Notes", "--max-tokens", "4", "--temperature", "0", "--json",
                  "Where does the grey heron nest?", timeout=300)
    assert chat.returncode == 0, chat.stderr
    events = [json.loads(line) for line in chat.stdout.splitlines()]
    kinds = [e["type"] for e in events]
    assert kinds.index("sources") < kinds.index("started")
    final = events[-1]
    assert final["type"] == "final" and final["sources"][0]["path"] == str(folder / "heron.md")

    plain = ow.run("chat", "--docs", "notes", "--max-tokens", "4", "--temperature", "0",
                   "How do sailing boats move?", timeout=300)
    assert plain.returncode == 0, plain.stderr
    assert "\nSources:\n[1] boats.txt (" in plain.stdout
    assert "[1] boats.txt" in ow.run("history", "show", "--last").stdout
    exported = ow.run("history", "export", "--format", "json",
                      str(json.loads(ow.run("history", "list", "--json").stdout)[0]["id"]))
    assert json.loads(exported.stdout)["messages"][-1]["sources"]

    unknown = ow.run("chat", "--docs", "Nope", "hello")
    assert unknown.returncode == 1 and "no collection called 'Nope'" in unknown.stderr

    assert ow.run("docs", "remove", "Notes").returncode == 0
    assert "No collections yet" in ow.run("docs", "list").stdout
    assert (folder / "heron.md").is_file()  # the user's files are never touched


def _indexed_files(db: Path) -> int:
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return int(conn.execute("SELECT count(*) FROM files WHERE state = 'indexed'"
                                    ).fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_kill_9_during_indexing_loses_nothing_finished(openweight: Openweight, tmp_path: Path,
                                                       embedding_model_path: Path) -> None:
    ow = openweight
    folder = tmp_path / "many"
    folder.mkdir()
    total = 240
    for i in range(total):
        (folder / f"note{i:03}.txt").write_text(f"Note {i}: the river rose {i} centimetres today.")
    assert ow.run("models", "import", str(embedding_model_path)).returncode == 0
    assert ow.run("docs", "add", "River", str(folder)).returncode == 0
    db = ow.data_dir / "documents.sqlite3"
    proc = ow.start("docs", "index")
    deadline = time.monotonic() + 240
    while _indexed_files(db) == 0 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    end(proc, signal.SIGKILL)
    done = _indexed_files(db)
    assert 0 < done < total, "the kill should land mid-run"

    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.execute("INSERT INTO passages_fts(passages_fts) VALUES ('integrity-check')")
    # Every file marked done has all its passages, each with a vector.
    rows = conn.execute("SELECT f.passages, count(p.id), count(p.vector) FROM files f"
                        " LEFT JOIN passages p ON p.file_id = f.id GROUP BY f.id").fetchall()
    assert rows and all(a == b == c == 1 for a, b, c in rows)
    conn.close()

    resumed = ow.run("docs", "index", "--json", timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    [summary] = json.loads(resumed.stdout)
    assert summary["unchanged"] == done and summary["indexed"] == total - done
    [status] = json.loads(ow.run("docs", "list", "--json").stdout)
    assert status["files"] == status["passages"] == status["embedded_passages"] == total


def test_matching_words_are_bold_on_a_terminal_and_bracketed_elsewhere(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from desktop.commands.common import marked

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    spans = [(4, 9)]
    assert marked("the heron nests", spans, Terminal()) == "the \x1b[1mheron\x1b[0m nests"
    assert marked("the heron nests", spans, io.StringIO()) == "the [heron] nests"  # piped
    monkeypatch.setenv("NO_COLOR", "1")
    assert marked("the heron nests", spans, Terminal()) == "the [heron] nests"
