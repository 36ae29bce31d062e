"""Reliability figures from corpora that try to break the app.

    .venv/bin/python bench/reliability_models.py [--only models|templates|downloads]

  damaged_models     every file of tests/damaged_models.py through one engine: how many were
                     tried, how many took the app down, how many got a message outside the
                     known plain-language set (desktop/modelfile/problems.py)
  hostile_templates  tests/hostile_templates.py rendered as the engine renders them: escapes
                     (a marker file created or Python internals printed) and hangs
  download_faults    faults injected into downloads from the loopback Hub (tests/fakehub):
                     drop, stall, wrong bytes, disk full, kill -9; files registered although
                     bad; downloads that resumed instead of starting over

Writes its keys into bench/results/reliability.json, keeping keys other scripts wrote.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import errno
import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from desktop.engine.client import EngineClient  # noqa: E402
from desktop.engine.templates import ChatTemplateError, render_chat_prompt  # noqa: E402
from tests.damaged_models import iter_damaged, try_model_file  # noqa: E402
from tests.helpers import test_model_path  # noqa: E402
from tests.hostile_templates import ENDLESS_LOOPS, HUGE_OUTPUTS, escape_templates  # noqa: E402

RESULTS = HERE / "results"


def _engine_hosts_of(pid: int) -> int:
    count = 0
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and b"desktop.engine.host" in (entry / "cmdline").read_bytes():
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                count += ppid == pid
        except (OSError, ValueError):
            continue
    return count


def damaged_models(folder: Path) -> dict[str, Any]:
    started = time.perf_counter()
    client = EngineClient()
    outcomes = []
    app_crashes = 0
    try:
        for case, path in iter_damaged(test_model_path(), folder / "corpus"):
            try:
                outcomes.append(try_model_file(client, case, path))
            except Exception as exc:  # noqa: BLE001 - this is what the figure counts
                app_crashes += 1
                print(f"  {case.name}: the app itself failed: {exc!r}", flush=True)
    finally:
        client.close()
    left_over = _engine_hosts_of(os.getpid()) if Path("/proc").exists() else None
    by = collections.Counter(o.problem or "UNCLEAR" for o in outcomes)
    unclear = [o.case for o in outcomes if o.problem is None]
    return {
        "tried": len(outcomes) + app_crashes,
        "app_crashes": app_crashes,
        "unclear_messages": len(unclear),
        "unclear_cases": unclear,
        "generic_messages": by.get("not_loadable", 0),  # known, but not specific
        "engine_host_restarts": sum(o.crashed for o in outcomes),
        "loaded_and_answered": sum(o.answered for o in outcomes),
        "leftover_engine_processes": left_over,
        "by_explanation": dict(by.most_common()),
        "seconds": round(time.perf_counter() - started, 1),
    }


def hostile_templates(folder: Path, deadline: float = 5.0) -> dict[str, Any]:
    marker = folder / "escaped"
    chat = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    kinds = {"escape": escape_templates(marker), "endless_loop": ENDLESS_LOOPS,
             "huge_output": HUGE_OUTPUTS}
    escapes = hangs = refused = 0
    slowest = 0.0
    for kind, templates in kinds.items():
        for template in templates:
            started = time.perf_counter()
            try:
                out = render_chat_prompt(template, chat, bos_token="", eos_token="",
                                         max_seconds=deadline)
            except ChatTemplateError:
                refused += 1
                out = ""
            took = time.perf_counter() - started
            slowest = max(slowest, took)
            if marker.exists() or "<class" in out or "subclasses" in out:
                escapes += 1
                marker.unlink(missing_ok=True)
            if took > deadline + 5 or (kind != "escape" and out):
                hangs += 1  # ran past its deadline, or was allowed to finish
    return {"tried": sum(len(t) for t in kinds.values()),
            "by_kind": {k: len(v) for k, v in kinds.items()},
            "escapes": escapes, "hangs": hangs, "refused": refused,
            "deadline_s": deadline, "slowest_s": round(slowest, 2)}


_KILL_SCRIPT = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from desktop.library.downloads import DownloadManager
    from desktop.library.jobs import DownloadRequest
    from tests.fakehub import FAST_TRANSFERS, MODEL_FILENAME, MODEL_REPO
    m = DownloadManager(Path(sys.argv[1]), Path(sys.argv[2]), settings=FAST_TRANSFERS)
    job = m.enqueue(DownloadRequest(MODEL_REPO, MODEL_FILENAME))
    deadline = time.monotonic() + 60
    while m.get(job).downloaded_bytes < 8_000_000 and time.monotonic() < deadline:
        time.sleep(0.02)
    print("halfway", flush=True)
    time.sleep(60)
""")


def download_faults(folder: Path) -> dict[str, Any]:
    from desktop.library import transfer
    from desktop.library.downloads import DownloadManager
    from desktop.library.jobs import DownloadRequest, DownloadState
    from desktop.store import Store
    from tests.fakehub import FAST_TRANSFERS, MODEL_FILENAME, MODEL_REPO, FakeHub

    request = DownloadRequest(MODEL_REPO, MODEL_FILENAME)
    injected: collections.Counter[str] = collections.Counter()
    outcome: dict[str, str] = {}
    bad_registered = resumed = 0
    with FakeHub() as hub:
        os.environ.update(HF_ENDPOINT=hub.url, HF_HUB_OFFLINE="0", HF_HUB_DISABLE_TELEMETRY="1",
                          HF_HOME=str(folder / "hf-home"))
        os.environ.pop("HF_TOKEN", None)
        good_sha = hub.repos[MODEL_REPO].files[MODEL_FILENAME].sha256

        def check(data: Path, fault: str, state: Any, message: str) -> None:
            nonlocal bad_registered, resumed
            injected[fault] += 1
            outcome[fault] = f"{state.value}: {message}"[:200]
            store = Store(data / "db.sqlite3")
            try:
                for model in store.models.all():
                    digest = hashlib.sha256(Path(model.path).read_bytes()).hexdigest()
                    bad_registered += digest != good_sha
            finally:
                store.close()
            starts = hub.range_starts()
            if state == DownloadState.COMPLETED and len(starts) > 1 and starts[-1] > 0:
                resumed += 1

        def run(fault: str, setup: Any = None, then_resume: bool = False) -> None:
            data = folder / fault
            hub.clear()
            if setup:
                setup()
            manager = DownloadManager(data / "models", data / "db.sqlite3", settings=FAST_TRANSFERS)
            try:
                result = manager.wait(manager.enqueue(request), timeout=120)
                if then_resume and result.state == DownloadState.FAILED:
                    restore_open()
                    hub.faults = type(hub.faults)()
                    manager.resume(result.job_id)
                    result = manager.wait(result.job_id, timeout=120)
                check(data, fault, result.state, result.message)
            finally:
                manager.close()
                restore_open()

        real_open = open

        def restore_open() -> None:
            transfer.open = real_open  # type: ignore[attr-defined]

        def fill_disk() -> None:
            class FillingFile:
                def __init__(self, fh: Any) -> None:
                    self.fh = fh

                def write(self, data: bytes) -> int:
                    if self.fh.tell() + len(data) > 20_000_000:
                        raise OSError(errno.ENOSPC, "No space left on device")
                    return int(self.fh.write(data))

                def __getattr__(self, name: str) -> Any:
                    return getattr(self.fh, name)

            def filling_open(path: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
                fh = real_open(path, mode, *args, **kwargs)
                return FillingFile(fh) if str(path).endswith(".part") else fh

            transfer.open = filling_open  # type: ignore[attr-defined]

        def faults(**values: Any) -> Any:
            return lambda: [setattr(hub.faults, k, v) for k, v in values.items()]

        run("drop", faults(drop_after=5_000_000, drop_times=2))
        run("stall", faults(stall_after=3_000_000, stall_seconds=3.0, stall_times=1))
        run("wrong_bytes", faults(corrupt_offsets={12_345_678}))
        run("disk_full", fill_disk, then_resume=True)

        # kill -9 of the app mid-download, then a new start resumes the part.
        data = folder / "kill"
        hub.clear()
        hub.faults.throttle_bps = 20_000_000
        child = subprocess.Popen([sys.executable, "-c", _KILL_SCRIPT, str(data / "models"),
                                  str(data / "db.sqlite3")], stdout=subprocess.PIPE, text=True,
                                 cwd=ROOT, env=os.environ.copy())
        assert child.stdout is not None
        child.stdout.readline()
        child.send_signal(signal.SIGKILL)
        child.wait()
        hub.faults.throttle_bps = None
        manager = DownloadManager(data / "models", data / "db.sqlite3", settings=FAST_TRANSFERS)
        try:
            jobs = manager.restore()
            state, message = DownloadState.FAILED, "nothing to resume after the kill"
            if jobs:
                manager.resume(jobs[0])
                done = manager.wait(jobs[0], timeout=120)
                state, message = done.state, done.message
            check(data, "kill", state, message)
        finally:
            manager.close()
    return {"injected": dict(injected), "total_injected": sum(injected.values()),
            "bad_files_registered": bad_registered, "resumed": resumed, "outcomes": outcome}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=["models", "templates", "downloads"])
    args = parser.parse_args()
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if args.only in (None, "models"):
            figures["damaged_models"] = damaged_models(folder)
            print("damaged models:", json.dumps(figures["damaged_models"]), flush=True)
        if args.only in (None, "templates"):
            figures["hostile_templates"] = hostile_templates(folder)
            print("hostile templates:", json.dumps(figures["hostile_templates"]), flush=True)
        if args.only in (None, "downloads"):
            figures["download_faults"] = download_faults(folder)
            print("download faults:", json.dumps(figures["download_faults"]), flush=True)
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / "reliability.json"
    # Other scripts add their own keys to this file: merge, never replace it.
    existing = json.loads(path.read_text()) if path.exists() else {}
    existing.update(figures)
    existing.setdefault("measured", {})
    for key in figures:
        existing["measured"][key] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    path.write_text(json.dumps(existing, indent=2) + "\n")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
