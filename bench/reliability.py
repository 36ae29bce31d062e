"""Reliability figures for the history and privacy: kill -9s, database faults, sockets.

    .venv/bin/python bench/reliability.py [--kills N] [--skip-kills]

Merges its keys into bench/results/reliability.json (other scripts write other keys there;
theirs are kept) and writes bench/results/reliability_history.md:
  kill9           kill -9s at random moments (streaming, editing, deleting, importing) /
                  integrity failures / messages lost
  database_faults faults tried (read-only folder, full disk twice over, locked, damaged at
                  start-up, damaged backup) / how many got a clear one-line message
  privacy         network attempts in a whole audited session, and how many left loopback;
                  sockets opened during an offline session (Hub search, listing, downloads)
No assertions: the tests in tests/e2e assert; this prints and saves.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.e2e.killing import Killer  # noqa: E402
from tests.e2e.privacy import Audited, is_local, offline_session, whole_session  # noqa: E402
from tests.helpers import test_model_path  # noqa: E402

RESULTS = HERE / "results"
QUESTION = "What is the capital of France?"


def cli(data_dir: Path, *args: str, prefix: list[str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "OPENWEIGHT_HOME"}
    argv = [*(prefix or []), sys.executable, "-m", "desktop", "--data-dir", str(data_dir), *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=300, cwd=ROOT, env=env)


def clear(result: subprocess.CompletedProcess[str], words: str) -> bool:
    """One line for the person, the expected explanation, no traceback."""
    err = result.stderr
    return (result.returncode == 1 and err.startswith("openweight: ") and err.count("\n") == 1
            and words in err and "Traceback" not in err)


def fresh(base: Path, name: str, model: Path) -> Path:
    data = base / name
    assert cli(data, "models", "import", str(model)).returncode == 0
    assert cli(data, "chat", "--temperature", "0", "--max-tokens", "16", QUESTION).returncode == 0
    return data


def database_faults(base: Path, model: Path) -> dict[str, Any]:
    outcomes: dict[str, bool] = {}

    data = fresh(base, "readonly", model)
    db = data / "openweight.sqlite3"
    prefix: list[str] = []
    if os.geteuid() == 0 and shutil.which("setpriv"):
        prefix = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner"]
    db.chmod(0o444)
    data.chmod(0o555)
    try:
        outcomes["read-only folder"] = clear(cli(data, "chat", "hi", prefix=prefix),
                                             "cannot write to its history database")
    finally:
        data.chmod(0o755)
        db.chmod(0o644)

    data = fresh(base, "full-rlimit", model)
    limit = (data / "openweight.sqlite3").stat().st_size
    script = ("import resource, signal, sys; signal.signal(signal.SIGXFSZ, signal.SIG_IGN);"
              f"resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}));"
              "from desktop.cli import main; sys.exit(main(sys.argv[1:]))")
    result = subprocess.run([sys.executable, "-c", script, "--data-dir", str(data), "chat",
                             "--max-tokens", "16", "Tell me about Rome"], capture_output=True,
                            text=True, timeout=300, cwd=ROOT)
    outcomes["disk full (file-size limit), CLI"] = clear(result, "the disk is full")

    outcomes["disk full mid-answer (max_page_count)"] = _full_mid_answer(base, model)

    data = fresh(base, "locked", model)
    other = sqlite3.connect(data / "openweight.sqlite3", isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        from desktop.store import Store
        from desktop.store.errors import LockedError

        store = Store(data / "openweight.sqlite3", busy_timeout=0.3)
        try:
            store.history.create_conversation()
            outcomes["locked by another program"] = False
        except LockedError as exc:
            outcomes["locked by another program"] = "another program" in str(exc)
        store.close()
    finally:
        other.execute("ROLLBACK")
        other.close()

    data = fresh(base, "damaged", model)
    db = data / "openweight.sqlite3"
    raw = bytearray(db.read_bytes())
    raw[:16] = b"\0" * 16
    db.write_bytes(bytes(raw))
    result = cli(data, "history", "show", "--last")
    outcomes["damaged at start-up"] = (result.returncode == 0 and "Paris" in result.stdout
                                       and "was damaged" in result.stderr)

    junk = base / "junk.sqlite3"
    junk.write_bytes(b"not a database" * 100)
    outcomes["restoring a damaged backup"] = clear(cli(data, "history", "restore", str(junk)),
                                                   "cannot be restored")
    return {"tried": len(outcomes), "clear_messages": sum(outcomes.values()),
            "cases": outcomes}


def _full_mid_answer(base: Path, model: Path) -> bool:
    from desktop.chat.session import ChatSession
    from desktop.engine.engines import build_engines
    from desktop.library.importing import import_model
    from desktop.store import Store
    from desktop.store.errors import DiskFullError
    from desktop.store.records import ChatSettings

    store = Store(base / "full-pages.sqlite3")
    import_model(store, str(model))
    conv = store.history.create_conversation(settings=ChatSettings(temperature=0.0, max_tokens=400))
    engines = build_engines(store)
    session = ChatSession(store, engines)
    try:
        question = session.add_user_message(conv.id, "Write a very long story about a dragon.")
        store.db.conn.execute("VACUUM")
        pages = store.db.conn.execute("PRAGMA page_count").fetchone()[0]
        store.db.conn.execute(f"PRAGMA max_page_count = {pages}")
        session.answer(conv.id, question, session.resolve_model(conv.id))
        return False
    except DiskFullError as exc:
        return "disk is full" in str(exc)
    finally:
        engines.close()
        store.close()


def privacy(base: Path, model: Path) -> dict[str, Any]:
    run = Audited(base / "privacy", base / "privacy.jsonl")
    whole_session(run, model, base / "chat.md")
    attempts = run.network()
    offline = Audited(base / "offline", base / "offline.jsonl")
    refused = offline_session(offline)
    return {
        "session_processes_audited": len(run.processes()),
        "session_network_attempts": len(attempts),
        "session_attempts_off_this_computer": sum(not is_local(r) for r in attempts),
        "offline_actions": len(refused),
        "offline_actions_refused": sum("Offline mode is on" in r.stderr for r in refused),
        "offline_sockets_opened": sum(r["event"] == "socket.__new__" for r in offline.network()),
        "offline_network_attempts": len(offline.network()),
    }


def merge(path: Path, figures: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    if path.exists():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            data = {}
    data.update(figures)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return data


def markdown(figures: dict[str, Any]) -> str:
    lines = ["# Reliability: history and privacy", "",
             f"Measured {figures['history_measured_at']} on {figures['history_machine']}.", "",
             "| figure | value |", "|---|---|"]
    kill = figures.get("kill9")
    if kill:
        lines.append(f"| kill -9s (stream/edit/delete/import/index) | {kill['kills']} "
                     f"({', '.join(f'{k} {v}' for k, v in sorted(kill['by_action'].items()))}) |")
        lines.append(f"| … of which mid-answer / after commits | {kill['mid_answer']} / "
                     f"{kill['after_commits']} |")
        lines.append(f"| integrity failures | {kill['integrity_failures']} |")
        lines.append(f"| messages lost | {kill['lost_messages']} |")
    faults = figures["database_faults"]
    lines.append(f"| database faults tried / clear messages | {faults['tried']} / "
                 f"{faults['clear_messages']} |")
    for case, ok in faults["cases"].items():
        lines.append(f"| · {case} | {'clear' if ok else 'UNCLEAR'} |")
    p = figures["privacy"]
    lines.append(f"| network attempts in a whole session (off this computer) | "
                 f"{p['session_network_attempts']} ({p['session_attempts_off_this_computer']}) |")
    lines.append(f"| sockets opened during an offline session | {p['offline_sockets_opened']} |")
    lines.append(f"| offline Hub actions refused | {p['offline_actions_refused']} / "
                 f"{p['offline_actions']} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=60)
    parser.add_argument("--skip-kills", action="store_true")
    args = parser.parse_args()
    model = test_model_path()
    figures: dict[str, Any] = {
        "history_measured_at": dt.datetime.now().isoformat(timespec="seconds"),
        "history_machine": f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}",
    }
    with tempfile.TemporaryDirectory(prefix="openweight-reliability-") as tmp:
        base = Path(tmp)
        if not args.skip_kills:
            started = time.monotonic()
            figures["kill9"] = Killer(base / "kills", model, seed=int(time.time())).run(
                args.kills).as_dict()
            print(f"kill -9: {figures['kill9']} ({time.monotonic() - started:.0f} s)")
        figures["database_faults"] = database_faults(base, model)
        print(f"database faults: {figures['database_faults']}")
        figures["privacy"] = privacy(base, model)
        print(f"privacy: {figures['privacy']}")
    RESULTS.mkdir(exist_ok=True)
    merge(RESULTS / "reliability.json", figures)
    (RESULTS / "reliability_history.md").write_text(markdown(figures), encoding="utf-8")
    print(markdown(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
