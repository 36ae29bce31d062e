"""API server benchmark: `openweight serve` beside llama.cpp's own `llama-server`, same model,
same machine, one run, streaming through the same bare HTTP client.

    .venv/bin/python bench/serve.py [--rounds N] [--tokens N] [--threads N]

llama-server is built from the llama.cpp source vendored in the installed llama-cpp-python's
sdist, as bench/llama_bench.py builds llama-bench (once, cached under bench/.build/).

Figures (saved to bench/results/serve.json and serve.md):
  stream_tps      generation tokens/s seen by a streaming client: (tokens - 1) / (last - first
                  token's arrival); the median of the rounds. Target: openweight ÷ llama-server
                  ≥ 0.95.
  ttft_s          time from sending the request to the first answer text (median)
  burst_rps       20 short requests (8 tokens) sent at once: requests finished per second
Rounds alternate between the servers so that other load on the machine falls on both alike.
No assertions: a missed target prints MISS and the exit code stays 0.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for path in (str(ROOT), str(HERE)):
    if path not in sys.path:
        sys.path.insert(0, path)

import httpx2 as httpx  # noqa: E402 - the openai package's HTTP client, bare
import llama_bench  # noqa: E402

from desktop.engine.system import physical_cores  # noqa: E402
from tests.helpers import test_model_path  # noqa: E402

RESULTS = HERE / "results"
SYSTEM = {"role": "system", "content": "You are a helpful assistant."}
N_CTX = 8192
TARGET_RATIO = 0.95


def say(text: str) -> None:
    print(text, flush=True)


def stream_once(base_url: str, model: str, prompt: str, max_tokens: int) -> dict[str, Any]:
    """One streamed answer: arrival times of the first and last text, and the token count."""
    body = {"model": model, "messages": [SYSTEM, {"role": "user", "content": prompt}],
            "temperature": 0, "max_tokens": max_tokens, "stream": True, "seed": 1,
            "stream_options": {"include_usage": True}}
    sent = time.perf_counter()
    first = last = None
    pieces = 0
    usage: dict[str, Any] = {}
    with httpx.Client(timeout=600) as http, \
            http.stream("POST", base_url + "/chat/completions", json=body) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            data = json.loads(line[6:])
            if data.get("usage"):
                usage = data["usage"]
            for choice in data.get("choices") or []:
                if choice.get("delta", {}).get("content"):
                    now = time.perf_counter()
                    first = first or now
                    last = now
                    pieces += 1
    tokens = int(usage.get("completion_tokens") or pieces)
    span = (last or sent) - (first or sent)
    return {"tokens": tokens, "pieces": pieces, "ttft_s": (first or sent) - sent,
            "tps": (tokens - 1) / span if span > 0 and tokens > 1 else 0.0,
            "total_s": time.perf_counter() - sent}


def burst(base_url: str, model: str, n: int = 20, max_tokens: int = 8) -> dict[str, Any]:
    """n short requests at once (429s retried after Retry-After): requests per second."""
    barrier = threading.Barrier(n)
    done: list[float] = []
    rejected: list[int] = []
    errors: list[str] = []

    def ask(i: int) -> None:
        body = {"model": model, "temperature": 0, "max_tokens": max_tokens,
                "messages": [SYSTEM, {"role": "user", "content": f"Say the number {i}."}]}
        with httpx.Client(timeout=600) as http:
            barrier.wait()
            for _ in range(200):
                r = http.post(base_url + "/chat/completions", json=body)
                if r.status_code == 429:
                    rejected.append(1)
                    time.sleep(float(r.headers.get("retry-after-ms", 500)) / 1000)
                    continue
                if r.status_code != 200:
                    errors.append(f"{r.status_code}: {r.text[:200]}")
                done.append(time.perf_counter())
                return

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(n)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = max(done) - started if done else 0.0
    return {"requests": n, "answered": len(done) - len(errors), "errors": errors,
            "rejected_429": len(rejected), "seconds": round(elapsed, 3),
            "rps": round(len(done) / elapsed, 3) if elapsed else 0.0}


def wait_ready(base_url: str, proc: subprocess.Popen[Any], timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}")
        try:
            if httpx.get(base_url + "/models", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{base_url} did not become ready")


def start_openweight(data_dir: Path, model: Path, queue: int) -> tuple[subprocess.Popen[str], str]:
    argv = [sys.executable, "-m", "desktop", "--data-dir", str(data_dir)]
    subprocess.run([*argv, "models", "import", str(model)], check=True, cwd=ROOT,
                   capture_output=True)
    proc = subprocess.Popen([*argv, "serve", "--port", "0", "--queue", str(queue)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    found = re.search(r"(http://\S+/v1)", line)
    if not found:
        proc.kill()
        raise RuntimeError(f"openweight serve printed {line!r}")
    return proc, found.group(1)


def start_llama_server(binary: Path, model: Path, threads: int) -> tuple[subprocess.Popen[str], str]:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ)
    env["LD_LIBRARY_PATH"] = str(binary.parent) + os.pathsep + env.get("LD_LIBRARY_PATH", "")
    # The app's settings: context 8192, batch 512, flash attention, one request at a time.
    cmd = [str(binary), "-m", str(model), "--host", "127.0.0.1", "--port", str(port),
           "-c", str(N_CTX), "-t", str(threads), "-tb", str(threads), "-b", "512", "-ub", "512",
           "-fa", "on", "-np", "1", "--jinja"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True,
                            env=env)
    return proc, f"http://127.0.0.1:{port}/v1"


def render_markdown(res: dict[str, Any]) -> str:
    ow, ls = res["openweight"], res["llama_server"]
    lines = [
        "# `openweight serve` beside `llama-server`",
        "",
        f"{res['model']}, {res['threads']} threads, {res['rounds']} alternating rounds of "
        f"{res['max_tokens']}-token streamed answers; {res['machine']}; {res['date']}; "
        f"load average {res['loadavg_min']}–{res['loadavg_max']} during the rounds (other "
        "work on the machine: figures this noisy are a rough guide only).",
        "",
        *([f"**The machine was overloaded during the whole run (load average at least "
            f"{res['loadavg_min']} on {os.cpu_count()} CPUs): these figures measure contention "
            "more than the servers. Rerun on a quiet machine.**", ""]
          if res["loadavg_min"] > (os.cpu_count() or 1) else []),
        "| figure | openweight serve | llama-server | ratio |",
        "|---|---|---|---|",
        f"| streaming tokens/s (median) | {ow['stream_tps']:.1f} | {ls['stream_tps']:.1f} | "
        f"{res['tps_ratio']:.3f} ({'ok' if res['tps_ratio'] >= TARGET_RATIO else 'MISS'}, "
        f"target ≥ {TARGET_RATIO}) |",
        f"| time to first token, s (median) | {ow['ttft_s']:.3f} | {ls['ttft_s']:.3f} | "
        f"{ow['ttft_s'] / ls['ttft_s'] if ls['ttft_s'] else 0:.2f} |",
        f"| 20 concurrent short requests, requests/s | {ow['burst']['rps']:.2f} | "
        f"{ls['burst']['rps']:.2f} | "
        f"{ow['burst']['rps'] / ls['burst']['rps'] if ls['burst']['rps'] else 0:.2f} |",
        f"| … of which answered 429 first (then retried) | {ow['burst']['rejected_429']} | "
        f"{ls['burst']['rejected_429']} | |",
        "",
        "Both serve one request at a time (llama-server with `-np 1`), same context (8192), "
        "batch 512 and flash attention. Streamed tokens/s is measured at the client: (tokens − 1) "
        "÷ time between the first and the last text to arrive. Every round is in serve.json.",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    if sys.argv[1:] == ["--markdown-only"]:  # re-render serve.md from serve.json
        res = json.loads((RESULTS / "serve.json").read_text())
        (RESULTS / "serve.md").write_text(render_markdown(res))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--tokens", type=int, default=200, help="tokens per streamed answer")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--queue", type=int, default=16, help="openweight serve --queue")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    threads = args.threads or physical_cores()
    model = test_model_path()
    binary = llama_bench.ensure_built(target="llama-server")
    say(f"llama-server: {binary}")
    with tempfile.TemporaryDirectory() as tmp:
        ow_proc, ow_url = start_openweight(Path(tmp) / "profile", model, args.queue)
        ls_proc, ls_url = start_llama_server(binary, model, threads)
        try:
            wait_ready(ow_url, ow_proc)
            wait_ready(ls_url, ls_proc)
            servers = {"openweight": (ow_url, model.stem), "llama_server": (ls_url, model.stem)}
            rounds: dict[str, list[dict[str, Any]]] = {name: [] for name in servers}
            for url, model_name in servers.values():  # warm up: load, first prompt
                stream_once(url, model_name, "Hello.", 8)
            for i in range(args.rounds):
                order = list(servers) if i % 2 == 0 else list(reversed(servers))
                for name in order:
                    url, model_name = servers[name]
                    prompt = f"Write a very long story about a dragon and a knight, number {i}."
                    run = stream_once(url, model_name, prompt, args.tokens)
                    run["loadavg"] = round(os.getloadavg()[0], 2)
                    rounds[name].append(run)
                    say(f"round {i + 1} {name:13} {run['tps']:6.1f} tok/s  ttft "
                        f"{run['ttft_s']:.3f} s  {run['tokens']} tokens in {run['pieces']} pieces"
                        f"  (load average {run['loadavg']})")
            bursts = {}
            for name in ("openweight", "llama_server"):
                url, model_name = servers[name]
                bursts[name] = burst(url, model_name)
                say(f"burst {name:13} {bursts[name]}")
        finally:
            for proc in (ow_proc, ls_proc):
                proc.terminate()
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()
    summary = {
        name: {"stream_tps": round(statistics.median(r["tps"] for r in runs), 2),
               "ttft_s": round(statistics.median(r["ttft_s"] for r in runs), 4),
               "burst": bursts[name], "rounds": runs}
        for name, runs in rounds.items()
    }
    ratio = summary["openweight"]["stream_tps"] / summary["llama_server"]["stream_tps"]
    loads = [r["loadavg"] for runs in rounds.values() for r in runs]
    res = {
        "date": dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}",
        "model": model.name, "threads": threads, "rounds": args.rounds,
        "max_tokens": args.tokens, "llama_server_build": llama_bench.build_record(
            target="llama-server"),
        "tps_ratio": round(ratio, 3), "target_ratio": TARGET_RATIO,
        "loadavg_min": min(loads), "loadavg_max": max(loads),
        "openweight": summary["openweight"], "llama_server": summary["llama_server"],
    }
    say(f"\nstreaming tokens/s ratio {ratio:.3f} "
        f"({'ok' if ratio >= TARGET_RATIO else 'MISS'}, target ≥ {TARGET_RATIO})")
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "serve.json").write_text(json.dumps(res, indent=2) + "\n")
    (args.output / "serve.md").write_text(render_markdown(res))
    say(f"saved {args.output / 'serve.json'} and {args.output / 'serve.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
