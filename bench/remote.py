"""Remote engine overhead: tokens/s through the app from a server ÷ that server's own
streaming rate to a bare client.

    .venv/bin/python bench/remote.py [--rounds N] [--max-tokens N] [--model PATH]

The server is llama-cpp-python's OpenAI-compatible server (`python -m llama_cpp.server`)
running the test model on 127.0.0.1. Each round asks the same question twice, interleaved:
once through the app's RemoteEngine (SSE parsing, reasoning parser, batching into deltas
about 30 times a second, what ChatSession consumes), once through a bare client (http.client,
one `json.loads` per event, nothing else). Both rates are taken the same way on the
consumer's side: (tokens - 1) ÷ (time of the last token - time of the first). The figure is
the median of the app's rates ÷ the median of the bare rates. Target: ≥ 0.97.
Saved to bench/results/remote.json and remote.md. No assertions: a miss prints MISS.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from desktop.engine.api import Delta, Done  # noqa: E402
from desktop.engine.options import GenerateOptions  # noqa: E402
from desktop.engine.remote import RemoteEngine  # noqa: E402
from desktop.store.records import ModelFile  # noqa: E402
from tests.helpers import test_model_path  # noqa: E402
from tests.openai.llama_server import start_llama_server, stop_llama_server  # noqa: E402

RESULTS = HERE / "results"
TARGET = 0.97
# Greedy decoding with the server's default sampling keeps the test model writing this one
# for well over 512 tokens (the counting prompt of bench/engine.py stops after ~50 there).
PROMPT = "Write a very long story about a dragon and a knight."
MESSAGES = [{"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": PROMPT}]


def rate(tokens: int, first: float | None, last: float | None) -> float:
    if first is None or last is None or last <= first or tokens < 2:
        return 0.0
    return (tokens - 1) / (last - first)


def through_app(engine: RemoteEngine, max_tokens: int) -> dict[str, Any]:
    options = GenerateOptions(messages=MESSAGES, temperature=0.0, max_tokens=max_tokens)
    cpu = time.process_time()
    sent = time.perf_counter()
    first = last = None
    done: Done | None = None
    for event in engine.generate(options):
        if isinstance(event, Delta) and (event.answer or event.reasoning):
            last = time.perf_counter()
            first = first or last
        elif isinstance(event, Done):
            done = event
    assert done is not None, "the answer did not finish"
    tokens = int(done.stats["generated_tokens"])
    return {"tokens": tokens, "tokens_per_s": round(rate(tokens, first, last), 2),
            "ttft_s": round((first or sent) - sent, 4),
            "client_cpu_us_per_token": round((time.process_time() - cpu) / tokens * 1e6, 1)}


def bare_client(base_url: str, api_key: str, model: str, max_tokens: int) -> dict[str, Any]:
    parts = urlsplit(base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=300)
    body = json.dumps({"model": model, "messages": MESSAGES, "stream": True,
                       "temperature": 0.0, "top_p": 0.95, "max_tokens": max_tokens})
    cpu = time.process_time()
    sent = time.perf_counter()
    conn.request("POST", parts.path + "/chat/completions", body,
                 {"Content-Type": "application/json", "Authorization": f"Bearer {api_key}"})
    response = conn.getresponse()
    first = last = None
    tokens = 0
    buffer = b""
    while chunk := response.read1(65536):
        buffer += chunk
        *lines, buffer = buffer.split(b"\n")
        for line in lines:
            if not line.startswith(b"data: ") or line.startswith(b"data: [DONE]"):
                continue
            for choice in json.loads(line[6:]).get("choices") or []:
                if (choice.get("delta") or {}).get("content"):
                    tokens += 1
                    last = time.perf_counter()
                    first = first or last
    conn.close()
    return {"tokens": tokens, "tokens_per_s": round(rate(tokens, first, last), 2),
            "ttft_s": round((first or sent) - sent, 4),
            "client_cpu_us_per_token": round((time.process_time() - cpu) / tokens * 1e6, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--max-tokens", type=int, default=512)
    parser.add_argument("--model", type=Path, default=None)
    args = parser.parse_args()
    model_path = args.model or test_model_path()
    log = Path(tempfile.mkdtemp(prefix="openweight-bench-")) / "server.log"
    server = start_llama_server(model_path, log, n_ctx=4096)
    try:
        engine = RemoteEngine.at("bench", server.base_url, server.api_key)
        engine.load(ModelFile(name=f"bench/{server.model}", path="", filename=server.model,
                              source="server:bench"))
        through_app(engine, 16)  # warm-up: the server's first request pays for set-up
        app_runs, bare_runs = [], []
        for round_no in range(1, args.rounds + 1):
            # Alternate who goes first, so that drift in the machine's load falls on both.
            order = ["app", "bare"] if round_no % 2 else ["bare", "app"]
            for who in order:
                if who == "app":
                    app_runs.append(through_app(engine, args.max_tokens))
                else:
                    bare_runs.append(bare_client(server.base_url, server.api_key, server.model,
                                                 args.max_tokens))
            print(f"round {round_no}: app {app_runs[-1]['tokens_per_s']:.1f} tok/s "
                  f"({app_runs[-1]['tokens']} tokens), bare {bare_runs[-1]['tokens_per_s']:.1f} "
                  f"tok/s ({bare_runs[-1]['tokens']} tokens)", flush=True)
    finally:
        stop_llama_server(server)
    app = statistics.median(r["tokens_per_s"] for r in app_runs)
    bare = statistics.median(r["tokens_per_s"] for r in bare_runs)
    ratio = round(app / bare, 4) if bare else None
    result = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.system()} {platform.machine()}, Python {platform.python_version()}",
        "server": "llama_cpp.server (llama-cpp-python) on 127.0.0.1",
        "model": model_path.name,
        "max_tokens": args.max_tokens,
        "rounds": args.rounds,
        "gen_tps_app": round(app, 2),
        "gen_tps_bare": round(bare, 2),
        "ratio": ratio,
        "target": TARGET,
        "ttft_app_s": round(statistics.median(r["ttft_s"] for r in app_runs), 4),
        "ttft_bare_s": round(statistics.median(r["ttft_s"] for r in bare_runs), 4),
        # The client's own CPU per token (the server runs in another process): the part of
        # the overhead that does not depend on how busy the machine is.
        "client_cpu_us_per_token_app": statistics.median(
            r["client_cpu_us_per_token"] for r in app_runs),
        "client_cpu_us_per_token_bare": statistics.median(
            r["client_cpu_us_per_token"] for r in bare_runs),
        "loadavg_1min_after": round(os.getloadavg()[0], 2),
        "runs": {"app": app_runs, "bare": bare_runs},
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "remote.json").write_text(json.dumps(result, indent=2) + "\n")
    verdict = "ok" if ratio is not None and ratio >= TARGET else "MISS"
    table = (
        "| figure | value |\n|---|---|\n"
        f"| tokens/s through the app (RemoteEngine) | {result['gen_tps_app']} |\n"
        f"| tokens/s to a bare client | {result['gen_tps_bare']} |\n"
        f"| ratio (target ≥ {TARGET}) | {ratio} {verdict} |\n"
        f"| time to first token, app / bare | {result['ttft_app_s']} s / "
        f"{result['ttft_bare_s']} s |\n"
        f"| client CPU per token, app / bare | {result['client_cpu_us_per_token_app']} µs / "
        f"{result['client_cpu_us_per_token_bare']} µs |\n"
        f"| machine load (1-min average, after) | {result['loadavg_1min_after']} |\n"
    )
    (RESULTS / "remote.md").write_text(
        f"# Remote engine overhead ({result['date']})\n\n{result['server']}, {result['model']}, "
        f"{args.max_tokens} tokens asked, median of {args.rounds} rounds.\n\n{table}")
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
