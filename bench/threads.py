"""Generation speed when the computer is busy: thread counts and OpenMP's wait policy.

    .venv/bin/python bench/threads.py [--tokens N] [--rounds N] [--busy N]

For each setting (threads, OMP_WAIT_POLICY) it measures tokens/s with no competing process
and with --busy processes that each spin one core, and compares the app's automatic choice
before (every physical core, spinning threads) and after (desktop/engine/threads.py).
Figures go to bench/results/threads.json and threads.md. No assertions.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from desktop.engine.client import EngineClient  # noqa: E402
from desktop.engine.options import GenerateOptions, LoadOptions  # noqa: E402
from desktop.engine.system import physical_cores  # noqa: E402
from desktop.engine.threads import automatic_threads  # noqa: E402
from tests.helpers import test_model_path  # noqa: E402

RESULTS = HERE / "results"
PROMPT = [{"role": "user", "content": "Count from 1 to 1000, writing every number as digits "
           "separated by commas. Do not stop early."}]


def _spin(stop: Any) -> None:
    while not stop.is_set():
        sum(range(10_000))


def measure(threads: int, wait_policy: str | None, busy: int, tokens: int, rounds: int) -> dict[str, Any]:
    env = dict(os.environ)
    # An empty value is libgomp's default (spin a while, then sleep); the app's client would
    # otherwise fill in its own choice.
    env["OMP_WAIT_POLICY"] = wait_policy or ""
    client = EngineClient(env=env)
    stop = multiprocessing.Event()
    spinners = [multiprocessing.Process(target=_spin, args=(stop,), daemon=True) for _ in range(busy)]
    speeds: list[float] = []
    try:
        client.load(LoadOptions(path=str(test_model_path()), n_ctx=2048, n_threads=threads))
        for spinner in spinners:
            spinner.start()
        time.sleep(0.5 if busy else 0)
        for _ in range(rounds):
            for event in client.generate(GenerateOptions(messages=PROMPT, temperature=0,
                                                         max_tokens=tokens)):
                if event.get("event") == "done":
                    speeds.append(float(event["stats"]["tokens_per_s"]))
    finally:
        stop.set()
        for spinner in spinners:
            spinner.join(timeout=5)
        client.close()
    return {"threads": threads, "omp_wait_policy": wait_policy or "default", "busy": busy,
            "tokens_per_s": round(statistics.median(speeds), 1) if speeds else None,
            "rounds": speeds}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tokens", type=int, default=96)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--busy", type=int, default=1, help="competing busy processes")
    args = parser.parse_args()
    cores = physical_cores()
    logical = os.cpu_count() or 1
    auto = automatic_threads()
    auto_env = None  # the engine host keeps OpenMP's own wait policy
    thread_counts = sorted({1, max(1, cores - 1), cores, logical})
    rows = []
    for threads in thread_counts:
        for policy in (None, "passive"):
            for busy in (0, args.busy):
                row = measure(threads, policy, busy, args.tokens, args.rounds)
                rows.append(row)
                print(f"threads={threads} wait={row['omp_wait_policy']:8} busy={busy}: "
                      f"{row['tokens_per_s']} tok/s", flush=True)

    def pick(threads: int, policy: str | None, busy: int) -> float | None:
        for row in rows:
            if (row["threads"], row["omp_wait_policy"], row["busy"]) == (threads, policy or "default", busy):
                return row["tokens_per_s"]
        return None

    summary = {
        "before_policy": {"threads": cores, "omp_wait_policy": "default",
                          "idle_tps": pick(cores, None, 0), "busy_tps": pick(cores, None, args.busy)},
        "after_policy": {"threads": auto, "omp_wait_policy": auto_env or "default",
                         "idle_tps": pick(auto, auto_env, 0), "busy_tps": pick(auto, auto_env, args.busy)},
    }
    result = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "physical_cores": cores, "logical_cpus": logical,
                    "load_avg_at_start": os.getloadavg() if hasattr(os, "getloadavg") else None},
        "model": test_model_path().name,
        "tokens": args.tokens,
        "busy_processes": args.busy,
        "summary": summary,
        "rows": rows,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "threads.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = ["| threads | OMP_WAIT_POLICY | busy processes | tokens/s |", "|---|---|---|---|"]
    lines += [f"| {r['threads']} | {r['omp_wait_policy']} | {r['busy']} | {r['tokens_per_s']} |" for r in rows]
    lines += ["", "| policy | threads | wait | idle tok/s | busy tok/s |", "|---|---|---|---|---|"]
    lines += [f"| {k} | {v['threads']} | {v['omp_wait_policy']} | {v['idle_tps']} | {v['busy_tps']} |"
              for k, v in summary.items()]
    (RESULTS / "threads.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
