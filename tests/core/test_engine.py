"""The engine with the real test model: through the host process, and in-process."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from desktop.engine.client import EngineClient, EngineLoadError
from desktop.engine.llama_engine import GenerateOptions, LlamaEngine, LoadOptions
from desktop.engine.llama_log import LlamaLogRouter

SYSTEM = {"role": "system", "content": "You are a helpful assistant."}
QUESTION = {"role": "user", "content": "What is the capital of France?"}


def run(client: EngineClient, **kwargs: Any) -> tuple[str, list[dict[str, Any]]]:
    events = list(client.generate(GenerateOptions(temperature=0, **kwargs)))
    answer = "".join(e.get("answer", "") for e in events if e["event"] == "delta")
    return answer, events


def final(events: list[dict[str, Any]]) -> dict[str, Any]:
    assert events[-1]["event"] == "done", events[-1]
    return events[-1]


@pytest.fixture(scope="module")
def client(test_model_path: Path) -> Iterator[EngineClient]:
    c = EngineClient()
    c.load(LoadOptions(path=str(test_model_path), n_ctx=2048))
    yield c
    c.close()


def test_answers_the_capital_of_france_in_streamed_pieces(client: EngineClient) -> None:
    answer, events = run(client, messages=[SYSTEM, QUESTION], max_tokens=40)
    assert "Paris" in answer
    assert sum(1 for e in events if e["event"] == "delta") >= 2 or len(answer) < 40
    stats = final(events)["stats"]
    assert stats["generated_tokens"] > 3 and stats["tokens_per_s"] > 0 and stats["ttft_s"] > 0
    assert final(events)["stop_reason"] == "eos"


def test_load_reports_progress_and_a_summary(test_model_path: Path) -> None:
    c = EngineClient()
    seen: list[float] = []
    try:
        info = c.load(LoadOptions(path=str(test_model_path), n_ctx=1024), seen.append)
    finally:
        c.close()
    assert seen and seen[-1] == pytest.approx(1.0)
    assert info["n_ctx"] == 1024 and info["architecture"] == "llama"
    assert info["reasoning_style"] == "none" and info["has_chat_template"]
    # Which device answers: the CPU here (no GPU), named by llama.cpp's device list.
    assert info["device"].startswith("CPU"), info["device"]


def test_second_turn_processes_only_new_tokens(client: EngineClient) -> None:
    first, events = run(client, messages=[SYSTEM, QUESTION], max_tokens=30, cache_key="reuse")
    turn1 = final(events)["stats"]
    follow = [
        SYSTEM,
        QUESTION,
        {"role": "assistant", "content": first},
        {"role": "user", "content": "And of Italy?"},
    ]
    _, events = run(client, messages=follow, max_tokens=20, cache_key="reuse")
    turn2 = final(events)["stats"]
    assert turn2["reused_tokens"] >= turn1["prompt_tokens"]
    assert turn2["processed_tokens"] <= turn2["prompt_tokens"] - turn1["prompt_tokens"]


def test_switching_conversations_restores_saved_state(client: EngineClient) -> None:
    a = [SYSTEM, {"role": "user", "content": "Tell me one fact about owls. " * 20}]
    b = [
        {"role": "system", "content": "You answer in one word."},
        {"role": "user", "content": "Name a colour."},
    ]
    answer_a, events = run(client, messages=a, max_tokens=16, cache_key="chat-a")
    a_tokens = final(events)["stats"]["prompt_tokens"]
    run(client, messages=b, max_tokens=8, cache_key="chat-b")  # evicts A from the live context
    follow = [*a, {"role": "assistant", "content": answer_a}, {"role": "user", "content": "More?"}]
    _, events = run(client, messages=follow, max_tokens=8, cache_key="chat-a")
    stats = final(events)["stats"]
    assert stats["reused_tokens"] >= a_tokens  # restored, not reprocessed from scratch


def test_overflowing_chat_drops_oldest_turns_or_stops(test_model_path: Path) -> None:
    c = EngineClient()
    try:
        c.load(LoadOptions(path=str(test_model_path), n_ctx=512))
        long_chat = [SYSTEM]
        for i in range(30):
            long_chat += [
                {"role": "user", "content": f"Question {i}: tell me about topic {i}."},
                {"role": "assistant", "content": f"Topic {i} is interesting. " * 4},
            ]
        long_chat.append(QUESTION)
        answer, events = run(c, messages=long_chat, max_tokens=32)
        started = next(e for e in events if e["event"] == "started")
        assert started["dropped_messages"] > 0
        assert started["prompt_tokens"] <= 512 - 32
        assert final(events)["stats"]["dropped_messages"] == started["dropped_messages"]
        assert answer
        _, events = run(c, messages=long_chat, max_tokens=32, context_policy="stop")
        assert events[-1]["event"] == "error" and events[-1]["kind"] == "context_full"
    finally:
        c.close()


def test_stop_from_another_thread_keeps_partial_text(client: EngineClient) -> None:
    story = [SYSTEM, {"role": "user", "content": "Write a very long story about a dragon."}]
    got: list[dict[str, Any]] = []
    stopper = None
    for event in client.generate(GenerateOptions(messages=story, temperature=0, max_tokens=1500)):
        got.append(event)
        if event["event"] == "delta" and stopper is None:
            stopper = threading.Thread(target=client.stop)
            stopper.start()
    assert stopper is not None
    stopper.join()
    done = final(got)
    assert done["stop_reason"] == "stopped"
    assert 0 < done["stats"]["generated_tokens"] < 1500
    assert "".join(e.get("answer", "") for e in got if e["event"] == "delta")


def test_in_process_stop_takes_effect_before_the_next_token(test_model_path: Path) -> None:
    engine = LlamaEngine(LlamaLogRouter())
    engine.load(LoadOptions(path=str(test_model_path), n_ctx=1024), lambda v: True)
    text_at_stop: list[str] = []
    streamed: list[str] = []

    def emit(event: dict[str, Any]) -> None:
        if event["event"] == "delta":
            streamed.append(event.get("answer", ""))
            if not text_at_stop:
                t = threading.Thread(target=engine.request_stop)
                t.start()
                t.join()  # the stop is set while the token loop waits for us
                text_at_stop.append("".join(streamed))

    story = [SYSTEM, {"role": "user", "content": "Write a long story about a dragon."}]
    result = engine.generate(GenerateOptions(messages=story, temperature=0, max_tokens=500), emit)
    engine.unload()
    assert result["stop_reason"] == "stopped"
    # Nothing but text already decoded (held UTF-8/stop-string tails) arrives after the stop.
    assert "".join(streamed).startswith(text_at_stop[0])
    assert len("".join(streamed)) - len(text_at_stop[0]) <= 16


def test_crashing_model_does_not_take_the_app_down(
    client: EngineClient, crashing_model_path: Path, test_model_path: Path
) -> None:
    c = EngineClient()
    try:
        with pytest.raises(EngineLoadError) as caught:
            c.load(LoadOptions(path=str(crashing_model_path), n_ctx=1024))
        assert caught.value.crashed
        message, detail = str(caught.value), caught.value.detail
        assert "damaged" in message and "Download it again" in message
        assert "SIGABRT" in detail and "GGML_ASSERT" in detail  # one click away, not in the way
        assert not c.running
        c.load(LoadOptions(path=str(test_model_path), n_ctx=1024))  # a fresh host starts
        answer, _ = run(c, messages=[SYSTEM, QUESTION], max_tokens=30)
        assert "Paris" in answer
    finally:
        c.close()


def test_load_failure_explains_itself(tmp_path: Path) -> None:
    c = EngineClient()
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"GGUF" + b"\x03\x00\x00\x00" + b"\x00" * 64)
    try:
        with pytest.raises(EngineLoadError) as caught:
            c.load(LoadOptions(path=str(bad)))
        assert not caught.value.crashed
        assert str(caught.value).startswith("bad.gguf is damaged")
        assert "architecture" in caught.value.detail
    finally:
        c.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purposes.
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"
    except OSError:
        return False


def _wait_gone(pid: int, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.05)
    return False


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_host_never_outlives_the_app(tmp_path: Path) -> None:
    c = EngineClient()
    c.start()
    assert c._proc is not None
    pid = c._proc.pid
    c.close()
    assert _wait_gone(pid)

    script = (
        "from desktop.engine.client import EngineClient\n"
        "import sys, time\n"
        "c = EngineClient(); c.start(); print(c._proc.pid, flush=True); time.sleep(60)\n"
    )
    app = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert app.stdout is not None
    host_pid = int(app.stdout.readline())
    app.kill()  # kill -9: no chance to clean up
    app.wait()
    app.stdout.close()
    assert _wait_gone(host_pid), "the engine host outlived a killed app"


def test_stop_cuts_long_prompt_processing_short(test_model_path: Path) -> None:
    engine = LlamaEngine(LlamaLogRouter())
    engine.load(LoadOptions(path=str(test_model_path), n_ctx=4096), lambda v: True)
    long_question = {"role": "user", "content": "Summarise this: " + "the quick brown fox " * 700}
    started: list[int] = []

    def emit(event: dict[str, Any]) -> None:
        if event["event"] == "started":
            started.append(event["prompt_tokens"])
            # Stop while llama.cpp is still inside prompt processing (the abort callback's job).
            threading.Timer(0.05, engine.request_stop).start()

    result = engine.generate(GenerateOptions(messages=[SYSTEM, long_question], max_tokens=50), emit)
    processed = engine.llm.n_tokens
    engine.unload()
    assert result["stop_reason"] == "stopped"
    assert result["stats"]["generated_tokens"] == 0
    assert processed < started[0]  # the prompt was not processed to the end
