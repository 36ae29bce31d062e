"""Engine benchmark: generation speed and time to first token, beside llama.cpp's own speed.

    .venv/bin/python bench/engine.py [--threads N] [--quick] [--skip-native]

Figures (saved to bench/results/engine.json and engine.md; see bench/README.md):
  gen_tps_app                generation tokens/s through the app's engine (EngineClient -> host)
  gen_tps_native             llama.cpp's llama-bench `tg` test, same model, threads, source
  gen_tps_engine_inprocess   the same engine code without the host process and pipe
  gen_tps_llama_cpp_python   a bare Llama.generate token loop in this process
  gen_tps_create_completion  llama-cpp-python's create_completion(stream=True)
  ttft_turn1_s, ttft_turn10_s, ttft_turn10_noreuse_s
                             time to first token in a 10-turn, ~3,000-token conversation

Rounds are interleaved (app, in-process loops, native, then again) so that load from other
work on the machine falls on every figure alike; each figure is the median of its rounds.
No assertions: a missed target prints MISS and the exit code stays 0.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for path in (str(ROOT), str(HERE)):
    if path not in sys.path:
        sys.path.insert(0, path)

import llama_bench  # noqa: E402

from desktop.engine.client import EngineClient  # noqa: E402
from desktop.engine.llama_engine import GenerateOptions, LoadOptions  # noqa: E402
from desktop.engine.system import physical_cores  # noqa: E402

RESULTS = HERE / "results"
N_CTX = 8192
TARGET_GEN_RATIO = 0.95  # app >= 0.95 x native
TARGET_TTFT_RATIO = 0.25  # turn 10 with reuse <= 0.25 x without

# A prompt that makes even a 135M model write on and on (greedy decoding).
LONG_ANSWER_PROMPT = (
    "Count from 1 to 1000, writing every number as digits separated by "
    "commas. Do not stop early and do not skip any number."
)

WORDS = (
    "river stone lantern market winter garden copper harbor meadow signal orchard "
    "engine cedar valley ribbon thunder canvas pocket silver candle marble compass "
    "journey ladder velvet anchor meadowlark quarry bramble tundra glacier ember "
    "falcon willow saddle beacon cobalt furnace prairie pebble hollow summit"
).split()


# -- small helpers -----------------------------------------------------------------------


def loadavg() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def cpu_busy(seconds: float = 0.5) -> float | None:
    """Fraction of all CPUs busy over a short window (Linux); our own engines sit idle then."""

    def sample() -> tuple[int, int]:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
        return idle, sum(fields)

    try:
        idle0, total0 = sample()
        time.sleep(seconds)
        idle1, total1 = sample()
    except (OSError, ValueError, IndexError):
        return None
    total = total1 - total0
    return round(1 - (idle1 - idle0) / total, 3) if total > 0 else None


QUIET = {"max_wait_s": 0.0, "threshold": 0.15}


def wait_quiet() -> float | None:
    """Wait (up to --wait-quiet seconds) until other work leaves the CPUs; return the busy share."""
    deadline = time.monotonic() + QUIET["max_wait_s"]
    busy = cpu_busy()
    while busy is not None and busy > QUIET["threshold"] and time.monotonic() < deadline:
        time.sleep(2)
        busy = cpu_busy()
    return busy


def _system_jiffies() -> tuple[int, int]:
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    total = sum(fields[:8])  # guest time is already counted in user
    return total - idle, total


def _process_jiffies(pid: int | str, children: bool = False) -> int:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    fields = text.rsplit(")", 1)[1].split()
    # utime, stime (and cutime, cstime: children this process waited for, e.g. llama-bench)
    return sum(int(x) for x in fields[11 : 15 if children else 13])


class Interference:
    """How much of the machine other work took while one measurement ran (Linux).

    others = (all CPU time - this process and its children - the engine host) / capacity.
    A measurement with others above OTHERS_LIMIT is kept in the JSON but left out of the
    medians, as long as enough undisturbed measurements remain.
    """

    def __init__(self, client: EngineClient | None = None) -> None:
        self.pids: list[int] = []
        proc = getattr(client, "_proc", None) if client is not None else None
        if proc is not None:
            self.pids.append(proc.pid)
        self.share: float | None = None

    def _own(self) -> int:
        return _process_jiffies("self", children=True) + sum(
            _process_jiffies(pid) for pid in self.pids
        )

    def __enter__(self) -> Interference:
        try:
            self._start = (_system_jiffies(), self._own())
        except (OSError, ValueError, IndexError):
            self._start = None
        return self

    def __exit__(self, *exc: object) -> None:
        if self._start is None:
            return
        try:
            (busy0, total0), own0 = self._start
            (busy1, total1), own1 = _system_jiffies(), self._own()
        except (OSError, ValueError, IndexError):
            return
        if total1 > total0:
            others = (busy1 - busy0) - (own1 - own0)
            self.share = round(max(others, 0) / (total1 - total0), 3)


OTHERS_LIMIT = 0.05
DISTURBED: set[str] = set()  # figures with no undisturbed measurement behind them
RETRIES = 2  # measure again (at most this often) when other work disturbed a measurement


def is_clean(run: dict[str, Any]) -> bool:
    return (run.get("others_cpu_share") or 0.0) <= OTHERS_LIMIT


def clean(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The runs that other work did not disturb, or all of them if none was undisturbed."""
    return [r for r in runs if is_clean(r)] or runs


def median(values: list[float]) -> float | None:
    return round(statistics.median(values), 3) if values else None


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Send native code's stderr (fd 2) to /dev/null for a while."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def say(text: str) -> None:
    print(text, flush=True)


def run_generate(client: EngineClient, options: GenerateOptions) -> dict[str, Any]:
    """One generation through the client; the engine's stats plus client-side timings."""
    sent = time.perf_counter()
    first_delta: float | None = None
    answer: list[str] = []
    started: dict[str, Any] = {}
    for event in client.generate(options):
        kind = event.get("event")
        if kind == "started":
            started = event
        elif kind == "delta":
            if first_delta is None:
                first_delta = time.perf_counter()
            answer.append(event.get("answer", "") + event.get("reasoning", ""))
        elif kind == "error":
            raise RuntimeError(event.get("message"))
        elif kind == "done":
            done_at = time.perf_counter()
            stats = dict(event["stats"])
            stats["stop_reason"] = event.get("stop_reason")
            stats["client_ttft_s"] = round((first_delta or done_at) - sent, 4)
            stats["client_total_s"] = round(done_at - sent, 4)
            stats["reused_tokens_started"] = started.get("reused_tokens")
            stats["text"] = "".join(answer)
            return stats
    raise RuntimeError("the engine ended the request without a result")


def start_client(model: Path, threads: int) -> EngineClient:
    client = EngineClient()
    client.load(LoadOptions(path=str(model), n_ctx=N_CTX, n_threads=threads))
    # Warm up: first decode allocates buffers and touches the weights.
    run_generate(
        client,
        GenerateOptions(messages=[{"role": "user", "content": "Hi"}], temperature=0, max_tokens=4),
    )
    return client


# -- generation speed --------------------------------------------------------------------


class CallTimers:
    """Time spent in llama_decode and in the sampler chain, per token, for in-process loops.

    Wraps two llama-cpp-python methods in this process only (the engine host is untouched),
    so that the in-process figures can say where a token's time goes.
    """

    def __init__(self) -> None:
        import llama_cpp._internals as internals

        self.totals = {"decode": 0.0, "sample": 0.0}
        self.counts = {"decode": 0, "sample": 0}
        for cls, name in ((internals.LlamaContext, "decode"), (internals.LlamaSampler, "sample")):
            original = getattr(cls, name)
            if getattr(original, "_bench_timed", False):
                original = original.__wrapped__
            setattr(cls, name, self._timed(name, original))

    def _timed(self, key: str, original: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.totals[key] += time.perf_counter() - started
                self.counts[key] += 1

        wrapper._bench_timed = True  # type: ignore[attr-defined]
        wrapper.__wrapped__ = original  # type: ignore[attr-defined]
        return wrapper

    def reset(self) -> None:
        self.totals = {"decode": 0.0, "sample": 0.0}
        self.counts = {"decode": 0, "sample": 0}

    def breakdown(self, tokens: int, wall_s: float) -> dict[str, float]:
        """Per generated token: decode ms, sampling us, and everything else (Python) in us."""
        if tokens <= 0 or not self.counts["decode"]:
            return {}
        decode = self.totals["decode"] / self.counts["decode"]
        sample = self.totals["sample"] / max(self.counts["sample"], 1)
        other = (wall_s - self.totals["decode"] - self.totals["sample"]) / tokens
        return {
            "decode_ms_per_call": round(decode * 1e3, 3),
            "sample_us_per_token": round(sample * 1e6, 1),
            "other_us_per_token": round(other * 1e6, 1),
            "python_and_sampling_share": round((wall_s - self.totals["decode"]) / wall_s, 4),
        }


class InProcess:
    """The engine's own code, loaded in this process: its Llama serves the reference loops."""

    def __init__(self, model: Path, threads: int) -> None:
        from desktop.engine.llama_engine import LlamaEngine
        from desktop.engine.llama_log import LlamaLogRouter

        router = LlamaLogRouter()
        router.install()
        self.engine = LlamaEngine(router)
        with quiet_stderr():  # the engine loads with verbose=True (for its crash messages)
            self.engine.load(
                LoadOptions(path=str(model), n_ctx=N_CTX, n_threads=threads), lambda _value: True
            )
        self.llm = self.engine.llm
        self.llm.verbose = False  # no "prefix-match hit" line on every call
        self.messages = [{"role": "user", "content": LONG_ANSWER_PROMPT}]
        self.prompt_tokens = self.engine.tokenize(self.engine.render(self.messages, {}))
        self.timers = CallTimers()

    def engine_generate(self, n_gen: int) -> dict[str, Any]:
        options = GenerateOptions(messages=self.messages, temperature=0, max_tokens=n_gen)
        self.timers.reset()
        started = time.perf_counter()
        done = self.engine.generate(options, lambda _event: None)
        wall = time.perf_counter() - started
        stats: dict[str, Any] = done["stats"]
        stats["stop_reason"] = done["stop_reason"]
        # Over the whole call (prompt included): what share of it is not llama_decode.
        stats["breakdown"] = self.timers.breakdown(stats["generated_tokens"], wall)
        return stats

    def generate_loop(self, n_gen: int) -> dict[str, Any]:
        """Bare Llama.generate with the app's (greedy) sampling settings, no text work."""
        import llama_cpp

        vocab = self.llm._model.vocab
        stamps: list[float] = []
        self.timers.reset()
        started = time.perf_counter()
        for token in self.llm.generate(
            self.prompt_tokens, top_k=40, top_p=0.95, min_p=0.05, temp=0.0, repeat_penalty=1.0
        ):
            stamps.append(time.perf_counter())
            if llama_cpp.llama_vocab_is_eog(vocab, token) or len(stamps) > n_gen:
                stamps.pop()  # the end token is not part of the answer
                break
        end = time.perf_counter()
        stats = _loop_stats(stamps, end)
        stats["breakdown"] = self.timers.breakdown(len(stamps), end - started)
        return stats

    def create_completion(self, n_gen: int) -> dict[str, Any]:
        """llama-cpp-python's high-level streaming completion (re-detokenizes each token)."""
        import llama_cpp

        stamps: list[float] = []

        def count(_ids: Any, _logits: Any) -> bool:
            stamps.append(time.perf_counter())
            return False

        stream = self.llm.create_completion(
            prompt=list(self.prompt_tokens),
            max_tokens=n_gen,
            temperature=0.0,
            top_k=40,
            top_p=0.95,
            min_p=0.05,
            repeat_penalty=1.0,
            stream=True,
            stopping_criteria=llama_cpp.StoppingCriteriaList([count]),
        )
        finish = None
        for chunk in stream:
            finish = chunk["choices"][0].get("finish_reason") or finish
        end = time.perf_counter()
        if finish == "stop" and stamps:
            stamps.pop()  # the end-of-generation token was sampled, then dropped
        stats = _loop_stats(stamps[:n_gen], end)
        stats["finish_reason"] = finish
        return stats

    def close(self) -> None:
        self.engine.unload()


def _loop_stats(stamps: list[float], end: float) -> dict[str, Any]:
    n = len(stamps)
    if n < 2:
        return {"generated_tokens": n, "tokens_per_s": 0.0}
    quarter = max(n // 4, 2)
    head = stamps[:quarter]
    tail = stamps[-quarter:]
    return {
        "generated_tokens": n,
        # The same formula as the engine's own stats: tokens / (end - first token).
        "tokens_per_s": round(n / (end - stamps[0]), 2),
        "first_quarter_tps": round((len(head) - 1) / (head[-1] - head[0]), 2),
        "last_quarter_tps": round((len(tail) - 1) / (tail[-1] - tail[0]), 2),
    }


def bench_generation(
    model: Path, threads: int, n_gen: int, rounds: int, native_binary: Path | None
) -> dict[str, Any]:
    runs: dict[str, list[dict[str, Any]]] = {
        "app": [],
        "engine_inprocess": [],
        "llama_cpp_python": [],
        "create_completion": [],
        "native": [],
    }
    say(f"\n== generation: {n_gen} tokens, {threads} threads, {rounds} round(s) ==")
    client = start_client(model, threads)
    local = InProcess(model, threads)
    prompt_tokens = len(local.prompt_tokens)

    def measure(r: int, name: str, label: str, fn: Any, note: Any = None) -> dict[str, Any]:
        for attempt in range(1 + RETRIES):
            busy = wait_quiet()
            load = loadavg()
            with Interference(client) as meter:
                stats: dict[str, Any] = fn()
            stats.pop("text", None)
            stats["cpu_busy_before"], stats["loadavg"] = busy, load
            stats["others_cpu_share"], stats["round"] = meter.share, r
            runs[name].append(stats)
            if (meter.share or 0.0) <= OTHERS_LIMIT:
                break
            if attempt < RETRIES:
                say(f"  round {r}: {label}: other work took {meter.share} of the CPUs; again")
        tps = stats.get("tokens_per_s", stats.get("avg_ts", 0.0))
        tokens = stats.get("generated_tokens", stats.get("n_gen"))
        say(
            f"  round {r}: {label:<34} {tps:8.2f} tok/s  ({tokens} tokens{note(stats) if note else ''}"
            f"; other work took {meter.share} of the CPUs)"
        )
        return stats

    app_options = GenerateOptions(messages=local.messages, temperature=0, max_tokens=n_gen)
    try:
        for r in range(1, rounds + 1):
            measure(
                r,
                "app",
                "app (EngineClient -> host)",
                lambda: run_generate(client, app_options),
                lambda s: f", {s['stop_reason']}",
            )
            measure(
                r,
                "engine_inprocess",
                "engine code, in process",
                lambda: local.engine_generate(n_gen),
            )
            measure(
                r,
                "llama_cpp_python",
                "bare Llama.generate loop",
                lambda: local.generate_loop(n_gen),
            )
            measure(
                r,
                "create_completion",
                "create_completion(stream=True)",
                lambda: local.create_completion(n_gen),
                lambda s: (
                    f"; first quarter {s.get('first_quarter_tps')}, last quarter "
                    f"{s.get('last_quarter_tps')} tok/s"
                ),
            )
            if native_binary is not None:
                measure(
                    r,
                    "native",
                    f"llama-bench tg{n_gen} -d {prompt_tokens} (native)",
                    lambda: llama_bench.run_tg(
                        native_binary, model, threads, n_gen, depth=prompt_tokens, repetitions=1
                    ),
                )
    finally:
        local.close()
        client.close()

    def figure(name: str, key: str) -> float | None:
        if runs[name] and not is_clean(clean(runs[name])[0]):
            DISTURBED.add(f"gen_tps_{name}")
        return median([float(s[key]) for s in clean(runs[name]) if s.get(key)])

    native_rows = runs["native"]
    return {
        "gen_tps_app": figure("app", "tokens_per_s"),
        "gen_tps_native": figure("native", "avg_ts"),
        "gen_tps_engine_inprocess": figure("engine_inprocess", "tokens_per_s"),
        "gen_tps_llama_cpp_python": figure("llama_cpp_python", "tokens_per_s"),
        "gen_tps_create_completion": figure("create_completion", "tokens_per_s"),
        "gen_tokens_requested": n_gen,
        "gen_tokens_app": [s["generated_tokens"] for s in runs["app"]],
        "gen_prompt_tokens": prompt_tokens,
        "gen_prompt": LONG_ANSWER_PROMPT,
        "native": {
            "command": native_rows[0]["command"] if native_rows else None,
            "build_commit": native_rows[0].get("build_commit") if native_rows else None,
            "build_number": native_rows[0].get("build_number") if native_rows else None,
            "cpu_info": native_rows[0].get("cpu_info") if native_rows else None,
            "backends": native_rows[0].get("backends") if native_rows else None,
            "model_type": native_rows[0].get("model_type") if native_rows else None,
            "flash_attn": native_rows[0].get("flash_attn") if native_rows else None,
            "n_depth": prompt_tokens,
        },
        "runs": {k: v for k, v in runs.items()},
    }


# -- time to first token in a long conversation ------------------------------------------


def synthetic_text(seed: int, n_tokens: int, tokenize: Any) -> str:
    """Deterministic prose of about n_tokens tokens (measured with the model's tokenizer)."""
    rng = random.Random(seed)
    sentences: list[str] = []
    text = ""
    while len(tokenize(text)) < n_tokens:
        words = [rng.choice(WORDS) for _ in range(rng.randint(8, 14))]
        sentences.append(" ".join(words).capitalize() + ".")
        text = " ".join(sentences)
    return text


def conversation_messages(turns: int, turn_tokens: int, tokenize: Any) -> list[str]:
    users = []
    for k in range(1, turns + 1):
        head = f"Part {k} of my notes. Reply with one short sentence about them.\n\n"
        body = synthetic_text(1000 + k, turn_tokens - len(tokenize(head)) - 16, tokenize)
        users.append(head + body)
    return users


def bench_ttft(
    model: Path,
    threads: int,
    turns: int,
    turn_tokens: int,
    answer_tokens: int,
    rounds: int,
    native_binary: Path | None = None,
) -> dict[str, Any]:
    import llama_cpp

    say(
        f"\n== time to first token: {turns} turns of ~{turn_tokens} tokens, n_ctx {N_CTX}, "
        f"{rounds} round(s) =="
    )
    with quiet_stderr():
        vocab_only = llama_cpp.Llama(model_path=str(model), vocab_only=True, verbose=False)

    def tokenize(text: str) -> list[int]:
        return list(vocab_only.tokenize(text.encode(), add_bos=False, special=False))

    users = conversation_messages(turns, turn_tokens, tokenize)
    per_round: list[dict[str, Any]] = []
    for r in range(1, rounds + 1):
        client = start_client(model, threads)
        messages: list[dict[str, Any]] = []
        turn_stats: list[dict[str, Any]] = []
        try:
            for k, text in enumerate(users, start=1):
                messages.append({"role": "user", "content": text})
                busy = wait_quiet()
                with Interference(client) as meter:
                    stats = run_generate(
                        client,
                        GenerateOptions(
                            messages=list(messages),
                            temperature=0,
                            max_tokens=answer_tokens,
                            cache_key="bench-conversation",
                        ),
                    )
                answer = stats.pop("text").strip() or "OK."
                stats["cpu_busy_before"], stats["loadavg"] = busy, loadavg()
                stats["others_cpu_share"] = meter.share
                turn_stats.append(stats)
                if k < len(users):
                    messages.append({"role": "assistant", "content": answer})
        finally:
            client.close()
        # The same last turn (same messages, same earlier answers) on a fresh host.
        for attempt in range(1 + RETRIES):
            client = start_client(model, threads)
            try:
                busy, load = wait_quiet(), loadavg()
                with Interference(client) as meter:
                    cold = run_generate(
                        client,
                        GenerateOptions(
                            messages=list(messages),
                            temperature=0,
                            max_tokens=answer_tokens,
                            cache_key="bench-conversation-cold",
                        ),
                    )
                cold.pop("text", None)
                cold["cpu_busy_before"], cold["loadavg"] = busy, load
                cold["others_cpu_share"], cold["attempt"] = meter.share, attempt
            finally:
                client.close()
            if (meter.share or 0.0) <= OTHERS_LIMIT:
                break
        first, last = turn_stats[0], turn_stats[-1]
        say(
            f"  round {r}: turn 1 {first['ttft_s']:.3f} s ({first['processed_tokens']} of "
            f"{first['prompt_tokens']} tokens processed); turn {turns} {last['ttft_s']:.3f} s "
            f"({last['processed_tokens']} of {last['prompt_tokens']}); turn {turns} without "
            f"reuse {cold['ttft_s']:.3f} s ({cold['processed_tokens']} of "
            f"{cold['prompt_tokens']}); other work took up to "
            f"{max((t.get('others_cpu_share') or 0.0) for t in [*turn_stats, cold])} of the CPUs"
        )
        per_round.append({"turns": turn_stats, "noreuse": cold})

    def pick(which: Any, key: str, figure: str) -> float | None:
        chosen = clean([which(r) for r in per_round])
        if chosen and not is_clean(chosen[0]):
            DISTURBED.add(figure)
        return median([float(run[key]) for run in chosen])

    first_turn = lambda r: r["turns"][0]  # noqa: E731
    last_turn_of = lambda r: r["turns"][-1]  # noqa: E731
    noreuse = lambda r: r["noreuse"]  # noqa: E731
    last_turn = per_round[0]["turns"][-1]
    native: dict[str, Any] = {}
    if native_binary is not None:
        # llama.cpp's own prompt processing of the same token counts at the same depth: the
        # floor under each time to first token.
        cold0 = per_round[0]["noreuse"]
        cases = {
            "turn1": per_round[0]["turns"][0],
            f"turn{turns}": last_turn,
            f"turn{turns}_noreuse": cold0,
        }
        for name, run in cases.items():
            n_prompt = int(run["processed_tokens"])
            depth = int(run["prompt_tokens"]) - n_prompt
            for _attempt in range(1 + RETRIES):
                busy = wait_quiet()
                with Interference() as meter:
                    row = llama_bench.run_test(
                        native_binary, model, threads, n_prompt=n_prompt, depth=depth
                    )
                if (meter.share or 0.0) <= OTHERS_LIMIT:
                    break
            seconds = round(n_prompt / float(row["avg_ts"]), 3)
            native[f"ttft_native_pp_{name}_s"] = seconds
            if (meter.share or 0.0) > OTHERS_LIMIT:
                DISTURBED.add(f"ttft_native_pp_{name}_s")
            native.setdefault("native_pp_runs", []).append(
                {
                    "case": name,
                    "n_prompt": n_prompt,
                    "n_depth": depth,
                    "avg_ts": row["avg_ts"],
                    "samples_ts": row.get("samples_ts"),
                    "cpu_busy_before": busy,
                    "others_cpu_share": meter.share,
                    "command": row["command"],
                }
            )
            say(
                f"  llama-bench pp{n_prompt} @ depth {depth} (native floor for {name}): "
                f"{seconds:.3f} s ({float(row['avg_ts']):.1f} tok/s; other work took "
                f"{meter.share} of the CPUs)"
            )
    return {
        **native,
        "ttft_turn1_s": pick(first_turn, "ttft_s", "ttft_turn1_s"),
        f"ttft_turn{turns}_s": pick(last_turn_of, "ttft_s", f"ttft_turn{turns}_s"),
        f"ttft_turn{turns}_noreuse_s": pick(noreuse, "ttft_s", f"ttft_turn{turns}_noreuse_s"),
        "ttft_client_turn1_s": pick(first_turn, "client_ttft_s", "ttft_client_turn1_s"),
        f"ttft_client_turn{turns}_s": pick(
            last_turn_of, "client_ttft_s", f"ttft_client_turn{turns}_s"
        ),
        f"ttft_client_turn{turns}_noreuse_s": pick(
            noreuse, "client_ttft_s", f"ttft_client_turn{turns}_noreuse_s"
        ),
        "conversation": {
            "turns": turns,
            "user_message_tokens": turn_tokens,
            "answer_max_tokens": answer_tokens,
            "turn1_prompt_tokens": per_round[0]["turns"][0]["prompt_tokens"],
            "last_turn_prompt_tokens": last_turn["prompt_tokens"],
            "last_turn_processed_tokens": last_turn["processed_tokens"],
            "last_turn_noreuse_processed_tokens": per_round[0]["noreuse"]["processed_tokens"],
            "prompt_tokens_by_turn": [t["prompt_tokens"] for t in per_round[0]["turns"]],
            "processed_tokens_by_turn": [t["processed_tokens"] for t in per_round[0]["turns"]],
        },
        "rounds": [
            {
                "ttft_by_turn_s": [t["ttft_s"] for t in r["turns"]],
                "others_cpu_share_by_turn": [t.get("others_cpu_share") for t in r["turns"]],
                "noreuse": r["noreuse"],
            }
            for r in per_round
        ],
    }


# -- report ------------------------------------------------------------------------------


def verdicts(res: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    app, native = res.get("gen_tps_app"), res.get("gen_tps_native")
    ratio = round(app / native, 3) if app and native else None
    out.append(
        {
            "target": f"gen_tps_app >= {TARGET_GEN_RATIO} x gen_tps_native",
            "ratio": ratio,
            "limit": TARGET_GEN_RATIO,
            "result": "n/a" if ratio is None else ("PASS" if ratio >= TARGET_GEN_RATIO else "MISS"),
        }
    )
    warm, cold = res.get("ttft_turn10_s"), res.get("ttft_turn10_noreuse_s")
    ratio = round(warm / cold, 3) if warm and cold else None
    out.append(
        {
            "target": f"ttft_turn10_s <= {TARGET_TTFT_RATIO} x ttft_turn10_noreuse_s",
            "ratio": ratio,
            "limit": TARGET_TTFT_RATIO,
            "result": "n/a"
            if ratio is None
            else ("PASS" if ratio <= TARGET_TTFT_RATIO else "MISS"),
        }
    )
    return out


FIGURES = [
    ("gen_tps_app", "tok/s", "generation through the app's engine (EngineClient -> host)"),
    ("gen_tps_native", "tok/s", "llama.cpp llama-bench `tg` (same source, model, threads)"),
    ("gen_tps_engine_inprocess", "tok/s", "the engine's token loop in process (no host, no pipe)"),
    ("gen_tps_llama_cpp_python", "tok/s", "bare `Llama.generate` loop, greedy"),
    ("gen_tps_create_completion", "tok/s", "`Llama.create_completion(stream=True)`, greedy"),
    ("ttft_turn1_s", "s", "time to first token, turn 1"),
    ("ttft_turn10_s", "s", "time to first token, turn 10, prefix reused"),
    ("ttft_turn10_noreuse_s", "s", "time to first token, turn 10, fresh engine (no reuse)"),
    ("ttft_native_pp_turn1_s", "s", "llama-bench: processing turn 1's new tokens (the floor)"),
    ("ttft_native_pp_turn10_s", "s", "llama-bench: turn 10's new tokens at its depth"),
    ("ttft_native_pp_turn10_noreuse_s", "s", "llama-bench: all of turn 10's prompt"),
]


def render_table(res: dict[str, Any]) -> str:
    lines = ["| figure | value | unit | what |", "|---|---:|---|---|"]
    disturbed = set(res.get("disturbed_figures") or [])
    for key, unit, what in FIGURES:
        value = res.get(key)
        shown = "—" if value is None else f"{value}{' *' if key in disturbed else ''}"
        lines.append(f"| `{key}` | {shown} | {unit} | {what} |")
    if disturbed & {key for key, _, _ in FIGURES}:
        lines.append(
            "\n\\* every measurement of this figure was disturbed by other work on the machine "
            f"(more than {OTHERS_LIMIT:.0%} of the CPUs): it is pessimistic (slower than this "
            "machine can do)."
        )
    lines += ["", "| target | ratio | result |", "|---|---:|---|"]
    for v in res["targets"]:
        lines.append(
            f"| {v['target']} | {'—' if v['ratio'] is None else v['ratio']} | **{v['result']}** |"
        )
    return "\n".join(lines)


def render_markdown(res: dict[str, Any]) -> str:
    m, conv = res["setup"], res.get("conversation", {})
    gen_tokens = res.get("gen_tokens_app")
    lines = [
        "# Engine benchmark",
        "",
        f"{res['date']} · {m['cpu']} ({m['cores_logical']} logical cores) · "
        f"model `{Path(m['model']).name}` · {m['n_threads']} threads · n_ctx {m['n_ctx']} · "
        f"llama-cpp-python {m['llama_cpp_python']} · llama.cpp {m.get('llama_cpp_commit')}"
        f"{' · quick run' if res.get('quick') else ''}",
        "",
        render_table(res),
        "",
        f"Generation: {res.get('gen_tokens_requested')} tokens requested after a "
        f"{res.get('gen_prompt_tokens')}-token prompt; app runs generated {gen_tokens} tokens. "
        f"llama-bench: `{(res.get('native') or {}).get('command')}`.",
    ]
    if conv:
        lines.append(
            f"Conversation: {conv['turns']} turns, user messages of ~"
            f"{conv['user_message_tokens']} tokens, answers of at most "
            f"{conv['answer_max_tokens']} tokens; turn 1 prompt {conv['turn1_prompt_tokens']} "
            f"tokens, turn {conv['turns']} prompt {conv['last_turn_prompt_tokens']} tokens "
            f"({conv['last_turn_processed_tokens']} processed with reuse, "
            f"{conv['last_turn_noreuse_processed_tokens']} without)."
        )
    for name, label in (
        ("engine_inprocess", "the engine's loop"),
        ("llama_cpp_python", "a bare Llama.generate loop"),
    ):
        parts = [r.get("breakdown") or {} for r in clean((res.get("runs") or {}).get(name, []))]
        parts = [p for p in parts if p]
        if parts:
            lines.append(
                f"Per token in {label}: llama_decode "
                f"{median([p['decode_ms_per_call'] for p in parts])} ms, sampling "
                f"{median([p['sample_us_per_token'] for p in parts])} µs, other Python "
                f"{median([p['other_us_per_token'] for p in parts])} µs."
            )
    disturbed = sum(
        1
        for runs in (res.get("runs") or {}).values()
        for r in runs
        if (r.get("others_cpu_share") or 0.0) > OTHERS_LIMIT
    )
    lines.append("")
    lines.append(
        f"Medians of interleaved rounds, leaving out measurements during which other work took "
        f"more than {OTHERS_LIMIT:.0%} of the CPUs ({disturbed} generation measurements left "
        "out); every run is in engine.json. See bench/README.md for what each figure means."
    )
    return "\n".join(lines) + "\n"


def save(res: dict[str, Any], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in (
        ("engine.json", json.dumps(res, indent=2) + "\n"),
        ("engine.md", render_markdown(res)),
    ):
        tmp = folder / (name + ".tmp")
        tmp.write_text(text)
        tmp.replace(folder / name)
    say(f"\nsaved {folder / 'engine.json'} and {folder / 'engine.md'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="threads for every engine (default: physical cores)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: 128-token answers, short turns, one round"
    )
    parser.add_argument(
        "--skip-native", action="store_true", help="skip building and running llama-bench"
    )
    parser.add_argument(
        "--model",
        type=Path,
        default=None,
        help="GGUF file (default: the test model, SmolLM2-135M-Instruct)",
    )
    parser.add_argument("--rounds", type=int, default=None, help="rounds (default 5; quick 1)")
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        help="results folder (default bench/results; a quick run saves only when this is given)",
    )
    parser.add_argument(
        "--sdist",
        type=Path,
        default=None,
        help="llama-cpp-python sdist (.tar.gz or folder) to build llama-bench "
        "from, instead of finding or downloading it",
    )
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=120.0,
        metavar="SECONDS",
        help="before each measurement, wait up to this long for other work to leave the CPUs "
        "(busy share under 15%%); 0 measures at once (default 120)",
    )
    args = parser.parse_args(argv)
    QUIET["max_wait_s"] = args.wait_quiet

    if args.model is None:
        from tests.helpers import test_model_path

        args.model = test_model_path()
    model = args.model.resolve()
    threads = args.threads or physical_cores()
    rounds = args.rounds or (1 if args.quick else 5)
    n_gen = 128 if args.quick else 1024
    turns, turn_tokens, answer_tokens = (10, 100, 8) if args.quick else (10, 285, 16)

    import llama_cpp

    version = llama_cpp.__version__
    say(
        f"model {model.name}, {threads} threads, n_ctx {N_CTX}, llama-cpp-python {version}, "
        f"load average {loadavg()}"
    )

    native_binary: Path | None = None
    build: dict[str, Any] = {}
    if not args.skip_native:
        native_binary = llama_bench.ensure_built(version, sdist=args.sdist)
        build = llama_bench.build_record(version)

    started = time.perf_counter()
    res: dict[str, Any] = {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "quick": args.quick,
    }
    res.update(bench_generation(model, threads, n_gen, rounds, native_binary))
    res.update(bench_ttft(model, threads, turns, turn_tokens, answer_tokens, rounds, native_binary))
    client = EngineClient()
    try:
        info = client.info()
    finally:
        client.close()
    res["setup"] = {
        "model": str(model),
        "model_bytes": model.stat().st_size,
        "n_threads": threads,
        "n_ctx": N_CTX,
        "flash_attn": True,
        "llama_cpp_python": version,
        "llama_cpp_commit": (res.get("native") or {}).get("build_commit"),
        "llama_cpp_build_number": (res.get("native") or {}).get("build_number"),
        "llama_bench_build": build,
        "system_info": info.get("system_info"),
        "cpu": cpu_model(),
        "cores_logical": os.cpu_count(),
        "cores_physical": physical_cores(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "loadavg_end": loadavg(),
        "bench_seconds": round(time.perf_counter() - started, 1),
    }
    res["disturbed_figures"] = sorted(DISTURBED)
    res["targets"] = verdicts(res)
    say("\n" + render_table(res))
    if args.output or not args.quick:
        save(res, args.output or RESULTS)
    else:
        say("\n(quick run: results not saved; pass --output DIR to keep them)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
