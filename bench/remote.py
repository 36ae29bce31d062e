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
PROMPT = ("Count from 1 to 1000, writing every number as digits separated by commas. "
          "Do not stop early and do not skip any number.")
MESSAGES = [{"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": PROMPT}]


def rate(tokens: int, first: float | None, last: float | None) -> float:
    if first is None or last is None or last <= first or tokens < 2:
        return 0.0
    return (tokens - 1) / (last - first)


def through_app(engine: RemoteEngine, max_tokens: int) -> dict[str, Any]:
    options = GenerateOptions(messages=MESSAGES, temperature=0.0, max_tokens=max_tokens)
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
            "ttft_s": round((first or sent) - sent, 4)}


def bare_client(base_url: str, api_key: str, model: str, max_tokens: int) -> dict[str, Any]:
    parts = urlsplit(base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=300)
    body = json.dumps({"model": model, "messages": MESSAGES, "stream": True,
                       "temperature": 0.0, "top_p": 0.95, "max_tokens": max_tokens})
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
            "ttft_s": round((first or sent) - sent, 4)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
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
            app_runs.append(through_app(engine, args.max_tokens))
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
        "ttft_app_s": statistics.median(r["ttft_s"] for r in app_runs),
        "ttft_bare_s": statistics.median(r["ttft_s"] for r in bare_runs),
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
    )
    (RESULTS / "remote.md").write_text(
        f"# Remote engine overhead ({result['date']})\n\n{result['server']}, {result['model']}, "
        f"{args.max_tokens} tokens asked, median of {args.rounds} rounds.\n\n{table}")
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
