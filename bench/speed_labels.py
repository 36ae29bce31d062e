"""The catalog's fit and speed labels for this computer, and the estimate checked against a
measured speed.

    .venv/bin/python bench/speed_labels.py [--rounds N]

Measures the memory bandwidth the way the app does (a few times, to show how much a busy
machine moves it), lists each catalog model's estimated tokens/s and label with the threads
the app generates on (automatic: one core left free), and puts the estimates for the test
model beside what was measured for it: on every core by bench/engine.py, and on the app's
threads by bench/threads.py (results/engine.json, results/threads.json, when present).
Writes results/speed-labels.json and .md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from desktop.engine.threads import automatic_threads  # noqa: E402
from desktop.library.bandwidth import measure_memory_bandwidth  # noqa: E402
from desktop.library.catalog import load_catalog, recommend_entry  # noqa: E402
from desktop.library.hardware import detect_machine  # noqa: E402
from desktop.library.speed import estimate_speed  # noqa: E402
from tests.fakehub import locate_test_model  # noqa: E402

RESULTS = ROOT / "bench" / "results"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="bandwidth measurements to take")
    args = parser.parse_args()
    machine = detect_machine()
    threads = machine.cpu_cores or os.cpu_count() or 1
    measured = []
    for _ in range(args.rounds):
        started = time.perf_counter()
        measured.append((measure_memory_bandwidth(threads), time.perf_counter() - started))
    best = max(value for value, _ in measured)
    every_core = replace(machine, memory_bandwidth=best)
    machine = every_core.with_threads(automatic_threads())  # as the app estimates by default
    rows = []
    for entry in load_catalog():
        fit = entry.fit(machine)
        rows.append(
            {
                "name": entry.name,
                "size_bytes": entry.size_bytes,
                "fit": fit.label,
                "speed": fit.speed.label if fit.speed else None,
                "tokens_per_s": round(fit.speed.tokens_per_s, 1) if fit.speed else None,
                "reasoning": entry.reasoning_style != "none",
            }
        )
    choice = recommend_entry(load_catalog(), machine)
    test_model = locate_test_model().stat().st_size
    estimate_all = estimate_speed(test_model, test_model, every_core).tokens_per_s
    estimate = estimate_speed(test_model, test_model, machine).tokens_per_s
    engine, threads = RESULTS / "engine.json", RESULTS / "threads.json"
    measured_all = json.loads(engine.read_text()).get("gen_tps_app") if engine.exists() else None
    after = json.loads(threads.read_text())["summary"]["after_policy"] if threads.exists() else {}
    measured_tps = after.get("idle_tps") if after.get("threads") == machine.threads else None
    results = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "cpu_cores": machine.cpu_cores,
        "ram_bytes": machine.ram_bytes,
        "gpus": [g.name for g in machine.gpus],
        "load_before": os.getloadavg()[0],
        "bandwidth_gbps_each": [round(v / 1e9, 2) for v, _ in measured],
        "bandwidth_seconds_each": [round(s, 3) for _, s in measured],
        "bandwidth_gbps_used": round(best / 1e9, 2),
        "threads": machine.threads,
        "recommended": choice[0].name if choice else None,
        "test_model_estimate_tps": round(estimate, 1),
        "test_model_measured_tps": measured_tps,
        "test_model_estimate_every_core_tps": round(estimate_all, 1),
        "test_model_measured_every_core_tps": measured_all,
        "catalog": rows,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "speed-labels.json").write_text(json.dumps(results, indent=2) + "\n")
    lines = [
        "# Fit and speed labels on this computer",
        "",
        f"{results['date']} · {machine.cpu_cores} cores · {machine.ram_bytes / 1e9:.1f} GB · "
        f"GPUs: {', '.join(results['gpus']) or 'none'} · load before {results['load_before']:.1f}",
        "",
        f"Memory bandwidth measured {args.rounds} times (GB/s): "
        f"{', '.join(str(v) for v in results['bandwidth_gbps_each'])}; the best is used. "
        f"Each measurement took {max(results['bandwidth_seconds_each']):.2f} s at most.",
        "",
        f"Test model (SmolLM2-135M Q4_1, {test_model / 1e6:.0f} MB) on the app's "
        f"{machine.threads} thread(s): estimated {estimate:.0f} tokens/s, bench/threads.py "
        f"measured {measured_tps if measured_tps is not None else 'nothing yet'}; on every core: "
        f"estimated {estimate_all:.0f}, bench/engine.py measured "
        f"{measured_all if measured_all is not None else 'nothing yet'}.",
        "",
        f"Recommended on the welcome page: {results['recommended']}.",
        "",
        "| model | size | fit | speed | est. tokens/s | reasons first |",
        "|---|---:|---|---|---:|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['name']} | {row['size_bytes'] / 1e9:.2f} GB | {row['fit']} | "
            f"{row['speed'] or ''} | {row['tokens_per_s'] if row['tokens_per_s'] else ''} | "
            f"{'yes' if row['reasoning'] else ''} |"
        )
    text = "\n".join(lines) + "\n"
    (RESULTS / "speed-labels.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
