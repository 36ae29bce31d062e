"""kill -9 at random moments: answers streaming, questions being edited, chats being
deleted, models being imported, documents being indexed. After each kill the database must pass integrity_check and
hold every message committed before it. Shared by the test and bench/reliability.py."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.helpers import end

ROOT = Path(__file__).resolve().parents[2]
DRIVER = ROOT / "tests" / "e2e" / "kill_driver.py"
ACTIONS = ("stream", "stream", "edit", "delete", "import", "index")
WORDS = "lighthouse island umbrella meeting harbour lantern rope anchor tide gull".split()
PROMPTS = ["Write a long story about a dragon.", "List ten fruits.", "Explain rain.",
           "What is the capital of France?"]


@dataclass
class KillReport:
    kills: int = 0
    integrity_failures: int = 0
    lost_messages: int = 0
    mid_answer: int = 0  # kills that left an answer half-written ('streaming')
    after_commits: int = 0  # kills of a process that had already committed something
    by_action: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, object]:
        return {"kills": self.kills, "integrity_failures": self.integrity_failures,
                "lost_messages": self.lost_messages, "mid_answer": self.mid_answer,
                "after_commits": self.after_commits, "by_action": self.by_action,
                "seconds": round(self.seconds, 1)}


class Killer:
    def __init__(self, data_dir: Path, model: Path, seed: int = 0) -> None:
        self.data_dir = data_dir
        self.db = data_dir / "openweight.sqlite3"
        self.model = model
        self.rng = random.Random(seed)
        self.env = {k: v for k, v in os.environ.items() if k != "OPENWEIGHT_HOME"}
        self.env["PYTHONPATH"] = os.pathsep.join([str(ROOT), self.env.get("PYTHONPATH", "")])
        self.env["PYTHONUNBUFFERED"] = "1"
        self.report = KillReport()
        self.seen_streaming: set[int] = set()

    def cli(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "desktop", "--data-dir", str(self.data_dir), *args]

    def prepare(self) -> None:
        result = subprocess.run(self.cli("models", "import", str(self.model)), env=self.env,
                                capture_output=True, text=True, timeout=120, cwd=ROOT)
        assert result.returncode == 0, result.stderr
        self.corpus = self.data_dir.parent / "corpus"
        self.corpus.mkdir(parents=True, exist_ok=True)
        for n in range(200):
            self.write_note(n)
        result = subprocess.run(self.cli("docs", "add", "corpus", str(self.corpus)),
                                env=self.env, capture_output=True, text=True, timeout=120, cwd=ROOT)
        assert result.returncode == 0, result.stderr

    def write_note(self, n: int) -> None:
        text = "\n\n".join(" ".join(self.rng.choices(WORDS, k=120)) for _ in range(8))
        (self.corpus / f"note-{n:03d}.txt").write_text(text, encoding="utf-8")

    def snapshot(self) -> dict[int, str]:
        """Every message that is no longer being written: id -> content."""
        conn = sqlite3.connect(self.db)
        try:
            return dict(conn.execute("SELECT id, content FROM messages WHERE status != 'streaming'"))
        finally:
            conn.close()

    def argv_for(self, action: str) -> list[str]:
        if action == "stream":
            return self.cli("chat", "--json", "--max-tokens", "48", "--temperature", "0.8",
                            self.rng.choice(PROMPTS))
        if action == "import":
            copy = self.data_dir / "imports" / f"model-{self.report.kills}.gguf"
            copy.parent.mkdir(exist_ok=True)
            os.link(self.model, copy)  # a new file each time, without copying 100 MB
            return self.cli("models", "import", str(copy))
        if action == "index":
            for n in self.rng.sample(range(200), 60):  # changed files give the index work
                self.write_note(n)
            return self.cli("docs", "index", "corpus")
        return [sys.executable, str(DRIVER), action, str(self.data_dir)]

    def one_round(self) -> None:
        action = self.rng.choice(ACTIONS)
        before = self.snapshot()
        proc = subprocess.Popen(self.argv_for(action), stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True, cwd=ROOT, env=self.env)
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.extend(proc.stdout or []), daemon=True)
        reader.start()
        time.sleep(self.rng.uniform(0.3, 2.5))  # a random moment: start-up, loading, mid-work
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        reader.join(timeout=10)  # it has read to the end: the pipe can be closed
        end(proc)
        self.report.kills += 1
        self.report.by_action[action] = self.report.by_action.get(action, 0) + 1
        self.check(action, before, lines)

    def check(self, action: str, before: dict[int, str], lines: list[str]) -> None:
        documents = self.data_dir / "documents.sqlite3"
        if documents.exists():
            docs = sqlite3.connect(documents)
            try:
                verdict = docs.execute("PRAGMA integrity_check").fetchone()[0]
            except sqlite3.DatabaseError as exc:
                verdict = str(exc)
            finally:
                docs.close()
            if verdict != "ok":
                self.report.integrity_failures += 1
                self.report.problems.append(f"{action}: documents integrity {verdict}")
        conn = sqlite3.connect(self.db)
        try:
            verdict = conn.execute("PRAGMA integrity_check").fetchone()[0]
            conn.execute("INSERT INTO messages_fts(messages_fts) VALUES('integrity-check')")
        except sqlite3.DatabaseError as exc:
            verdict = str(exc)
        if verdict != "ok":
            self.report.integrity_failures += 1
            self.report.problems.append(f"{action}: integrity {verdict}")
        committed: set[int] = set()
        deleted: set[int] = set()
        for line in lines:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            committed.update(event.get("committed", []))
            if event.get("deleting") is not None:
                deleted.add(event["deleting"])
            if event.get("event") == "message":  # the CLI: question and answer rows exist
                committed.update(i for i in (event.get("parent_id"), event.get("message_id")) if i)
        rows = dict(conn.execute("SELECT id, conversation_id FROM messages"))
        streaming = {r[0] for r in conn.execute("SELECT id FROM messages WHERE status = 'streaming'")}
        self.report.mid_answer += bool(streaming - self.seen_streaming)
        self.seen_streaming |= streaming
        self.report.after_commits += bool(committed)
        now = dict(conn.execute("SELECT id, content FROM messages"))
        conn.close()
        gone_chats = deleted
        for message_id, content in before.items():
            if message_id not in now:
                self.report.lost_messages += 1
                self.report.problems.append(f"{action}: message {message_id} lost")
            elif now[message_id] != content:
                self.report.lost_messages += 1
                self.report.problems.append(f"{action}: message {message_id} changed")
        for message_id in committed:
            if message_id not in rows and not self._in_deleted(message_id, lines, gone_chats):
                self.report.lost_messages += 1
                self.report.problems.append(f"{action}: committed message {message_id} lost")

    @staticmethod
    def _in_deleted(message_id: int, lines: list[str], deleted: set[int]) -> bool:
        for line in lines:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if message_id in event.get("committed", []) and event.get("conversation") in deleted:
                return True
        return False

    def run(self, rounds: int) -> KillReport:
        started = time.monotonic()
        self.prepare()
        for _ in range(rounds):
            self.one_round()
        self.report.seconds = time.monotonic() - started
        return self.report
