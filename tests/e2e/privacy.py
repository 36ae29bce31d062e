"""Runs the app's processes with an audit hook in each (tests/e2e/audit/sitecustomize.py)
and reads back every network attempt they made. Shared by the privacy test and bench/."""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
AUDIT = Path(__file__).resolve().parent / "audit"
QUESTION = "What is the capital of France?"
NETWORK_EVENTS = ("socket.__new__", "socket.connect", "socket.getaddrinfo", "socket.bind",
                  "socket.sendto", "socket.gethostbyname", "socket.gethostbyname_ex",
                  "socket.gethostbyaddr", "socket.getnameinfo")


@dataclass
class Audited:
    data_dir: Path
    log: Path
    results: list[subprocess.CompletedProcess[str]] = field(default_factory=list)

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k != "OPENWEIGHT_HOME"}
        env["PYTHONPATH"] = os.pathsep.join([str(AUDIT), str(ROOT), env.get("PYTHONPATH", "")])
        env["OPENWEIGHT_AUDIT_LOG"] = str(self.log)
        env["QT_QPA_PLATFORM"] = "offscreen"
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def cli(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "desktop", "--data-dir", str(self.data_dir), *args]
        result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                                cwd=ROOT, env=self.env)
        self.results.append(result)
        return result

    def script(self, path: Path, *args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([sys.executable, str(path), *args], capture_output=True,
                                text=True, timeout=timeout, cwd=ROOT, env=self.env)
        self.results.append(result)
        return result

    def records(self) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text(encoding="utf-8").splitlines()]

    def processes(self) -> dict[int, list[str]]:
        """pid -> argv of every process whose hook was installed."""
        return {r["pid"]: r["argv"] for r in self.records() if r["event"] == "installed"}

    def network(self) -> list[dict[str, Any]]:
        return [r for r in self.records() if r["event"] in NETWORK_EVENTS]


def is_local(record: dict[str, Any]) -> bool:
    """Loopback or a local (AF_UNIX) socket; anything else would leave the computer."""
    family = record.get("family")
    if family == int(socket.AF_UNIX):
        return True
    address = record.get("address")
    if record["event"] == "socket.__new__":
        return family in (int(socket.AF_INET), int(socket.AF_INET6))  # judged at connect
    if isinstance(address, str):  # an AF_UNIX path
        return True
    if not address:
        return False
    host = address[0]
    if isinstance(host, bytes):
        host = host.decode()
    if host in ("localhost", "", None):
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


DOC_QUESTION = "Where is the secret meeting place?"


def whole_session(run: Audited, model: Path, export_file: Path) -> dict[str, Any]:
    """Window and CLI chats, history search and export, model import, document Q&A;
    returns what ran."""
    window = run.script(ROOT / "tests" / "e2e" / "privacy_window.py", str(run.data_dir),
                        str(model), str(export_file))
    notes = run.data_dir.parent / "notes"
    notes.mkdir(parents=True, exist_ok=True)
    (notes / "plan.txt").write_text(
        "The secret meeting place is the old lighthouse on Gull Island.\n", encoding="utf-8")
    steps = [
        run.cli("docs", "add", "notes", str(notes)),
        run.cli("docs", "index", "notes"),
        run.cli("chat", "--temperature", "0", "--max-tokens", "24", "--docs", "notes",
                DOC_QUESTION),
        run.cli("chat", "--temperature", "0", "--max-tokens", "16", QUESTION),
        run.cli("history", "search", "capital"),
        run.cli("history", "export", "1", "--format", "json"),
        run.cli("history", "backup"),
        run.cli("info"),
    ]
    return {"window": window, "steps": steps}


def offline_session(run: Audited) -> list[subprocess.CompletedProcess[str]]:
    """With Offline mode on: Hub search, a repository listing, downloads (catalog and Hub)."""
    from desktop.library.network import OFFLINE_SETTING
    from desktop.store import Store

    run.data_dir.mkdir(parents=True, exist_ok=True)
    store = Store(run.data_dir / "openweight.sqlite3")
    store.settings.set(OFFLINE_SETTING, True)
    store.close()
    return [
        run.cli("models", "search", "qwen"),
        run.cli("models", "files", "bartowski/Qwen_Qwen3-8B-GGUF"),
        run.cli("models", "download", "bartowski/Qwen_Qwen3-8B-GGUF", "Qwen_Qwen3-8B-Q4_K_M.gguf"),
        run.cli("models", "download", "SmolLM2-135M-Instruct"),
    ]
