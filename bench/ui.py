"""How responsive the chat window is: event-loop lag while answers stream, start-up time,
and opening a very long chat. Prints a table and saves bench/results/ui.json.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/ui.py [--quick]

Figures (targets in brackets):
  lag_p50_ms, lag_p99_ms, lag_max_ms  how late a 5 ms timer fires on the GUI thread while the
                                      test model streams an answer at full speed [p99 < 16,
                                      max < 50]
  synthetic_lag_*                     the same while a heavy Markdown answer (prose, lists,
                                      tables, long code blocks) streams in at 30 updates/s
  indexing_lag_*                      the same while the Documents page indexes a folder of
                                      small text files in the background [p99 < 16]
  window_shown_s                      from starting `openweight` to the window being shown
                                      (median of runs) [< 1.5]
  open_2000_ms                        opening a 2,000-message chat until it is laid out and
                                      drawn (median of runs) [< 300]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QElapsedTimer, Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from desktop.chat.defaults import save_chat_defaults  # noqa: E402
from desktop.library.importing import import_model  # noqa: E402
from desktop.paths import resolve_paths  # noqa: E402
from desktop.store import Store  # noqa: E402
from desktop.store.records import ChatSettings  # noqa: E402
from desktop.ui.app import build_window  # noqa: E402
from desktop.ui.chat_controller import ActiveStream  # noqa: E402
from desktop.ui.main_window import MainWindow  # noqa: E402
from tests.helpers import test_model_path  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "ui.json"
PROBE_MS = 5
TARGETS = {"lag_p99_ms": 16, "lag_max_ms": 50, "indexing_lag_p99_ms": 16, "window_shown_s": 1.5,
           "open_2000_ms": 300}
PROMPT = "Write a long, detailed story about a lighthouse keeper and a storm, in many chapters."


class LagProbe:
    """A timer that should fire every PROBE_MS; how late it fires is the GUI thread's lag."""

    def __init__(self) -> None:
        self.samples: list[float] = []
        self.clock = QElapsedTimer()
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(PROBE_MS)
        self.timer.timeout.connect(self._tick)
        self.recording = False

    def start(self) -> None:
        self.clock.start()
        self.timer.start()

    def _tick(self) -> None:
        elapsed_ms = self.clock.nsecsElapsed() / 1e6
        self.clock.restart()
        if self.recording:
            self.samples.append(max(0.0, elapsed_ms - PROBE_MS))

    def stop(self) -> None:
        self.timer.stop()


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples) or [0.0]

    def pct(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))], 2)

    return {"p50": pct(50), "p99": pct(99), "max": round(ordered[-1], 2), "n": len(ordered)}


def pump_until(app: QApplication, condition: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("timed out")
        app.processEvents()
        time.sleep(0.001)


def settle(app: QApplication, seconds: float = 0.2) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.005)


def streaming_lag(app: QApplication, window: MainWindow, max_tokens: int) -> dict:
    """Lag while the real test model streams an answer at full speed."""
    window.new_chat()
    window.open_chat.pending_settings = ChatSettings(temperature=0.8, max_tokens=max_tokens)
    probe = LagProbe()
    probe.start()
    window.composer.set_text(PROMPT)
    window.composer.submit()
    pump_until(
        app,
        lambda: (
            window.controller.active is not None
            and window.controller.active.answer_started is not None
        ),
        120,
    )
    probe.recording = True
    started = time.monotonic()
    pump_until(app, lambda: not window.controller.busy, 600)
    probe.stop()
    answer = window.store.history.branch(window.conversation_id)[-1]
    result = summary(probe.samples)
    result.update(
        tokens=answer.stats.get("generated_tokens"),
        tokens_per_s=answer.stats.get("tokens_per_s"),
        seconds=round(time.monotonic() - started, 2),
        chars=len(answer.content),
    )
    return result


def indexing_lag(app: QApplication, window: MainWindow, n_files: int) -> dict:
    """Lag while the Documents page indexes a folder in the background, as a user starts it."""
    from desktop.ui.documents.page import DocumentsPage

    words = ("harbour lantern ledger tide anchor gull rope net keel mast compass chart "
             "storm calm oar sail dock pier").split()
    with tempfile.TemporaryDirectory() as folder:
        for i in range(n_files):
            text = " ".join(words[(i * 7 + j) % len(words)] for j in range(400))
            Path(folder, f"note{i:05}.md").write_text(f"# Note {i}\n\n{text}\n")
        window.show_documents_page()
        page = window.pages.documents_page
        assert isinstance(page, DocumentsPage)
        page.ask_name = lambda: "Bench"  # type: ignore[method-assign]
        page.choose_folder = lambda: folder  # type: ignore[method-assign]
        probe = LagProbe()
        probe.start()
        probe.recording = True
        started = time.monotonic()
        page.new_collection()
        pump_until(app, lambda: not page.indexing.running, 600)
        probe.stop()
        seconds = time.monotonic() - started
        window.show_chat_page()
    result = summary(probe.samples)
    result.update(files=n_files, seconds=round(seconds, 2))
    return result


def heavy_markdown(n_sections: int) -> str:
    section = """## Section {i}

Here is a paragraph with **bold**, *italic*, `inline code` and a [link](https://example.org)
that goes on for a while so that it wraps over several lines in the transcript column.

1. First point about section {i}
2. Second point, with `code`
3. Third point

| Option | Meaning | Default |
|--------|---------|--------:|
| `alpha` | how much | 0.5 |
| `beta` | how often | 10 |

```python
def section_{i}(values: list[int]) -> int:
    total = 0
    for value in values:
        if value % 2 == 0:
            total += value * {i}
    return total
```

> A quote closing section {i}.

"""
    return "".join(section.format(i=i) for i in range(n_sections))


def synthetic_lag(app: QApplication, window: MainWindow, n_sections: int) -> dict:
    """Lag while a long Markdown answer streams in at the engine's pace (30 updates/s)."""
    store = window.store
    conv = store.history.create_conversation(title="Synthetic stream")
    question = store.history.add_message(conv.id, "user", "Explain everything.")
    reply = store.history.add_message(
        conv.id, "assistant", "", parent_id=question.id, status="streaming"
    )
    window.open_conversation(conv.id)
    text = heavy_markdown(n_sections)
    controller = window.controller
    controller.active = ActiveStream(-1, conv.id, question.id, None, message_id=reply.id)
    window.transcript.set_busy(True)
    settle(app)
    probe = LagProbe()
    probe.start()
    probe.recording = True
    step = 40  # characters per update: about 10 tokens, 30 times a second is ~300 tokens/s
    position = 0
    next_at = time.monotonic()
    while position < len(text):
        if time.monotonic() >= next_at:
            piece = text[position : position + step]
            position += step
            controller._on_event(-1, conv.id, {"event": "delta", "answer": piece})  # noqa: SLF001
            next_at += 1 / 30
        app.processEvents()
        time.sleep(0.0005)
    settle(app, 0.3)
    probe.stop()
    controller.active = None
    window.transcript.set_busy(False)
    store.history.update_message(reply.id, content=text, status="complete")
    result = summary(probe.samples)
    result.update(chars=len(text), blocks=len(window.transcript.widget_for(reply.id).body.widgets))
    return result


def long_chat(store: Store, n_messages: int) -> int:
    history = store.history
    conv = history.create_conversation(title=f"{n_messages} messages")
    parent = None
    with_code = "Here is how:\n\n```python\nfor i in range(3):\n    print(i)\n```\n\nDone."
    for i in range(n_messages):
        role = "user" if i % 2 == 0 else "assistant"
        text = (
            f"Question {i}: what about item {i}?"
            if role == "user"
            else with_code
            if i % 10 == 1
            else f"**Answer {i}.** A short paragraph, then a list:\n\n- one\n- two\n- three"
        )
        parent = history.add_message(conv.id, role, text, parent_id=parent).id
    return conv.id


def open_time(
    app: QApplication, window: MainWindow, conv_id: int, other_id: int, runs: int
) -> list[float]:
    times = []
    for _ in range(runs):
        window.open_conversation(other_id)
        settle(app, 0.1)
        started = time.perf_counter()
        window.open_conversation(conv_id)
        app.processEvents()  # lay out and draw what was built
        window.transcript.viewport().repaint()
        times.append((time.perf_counter() - started) * 1000)
        settle(app, 0.1)
    return times


def window_shown_times(runs: int) -> list[float]:
    """Start the real entry point and wait for the log line written once the window shows."""
    exe = Path(sys.executable).with_name("openweight")
    times = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as folder:
            log = Path(folder) / "logs" / "openweight.log"
            env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
            started = time.perf_counter()
            proc = subprocess.Popen(
                [str(exe), "--data-dir", folder],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                while time.perf_counter() - started < 30:
                    if log.is_file() and "window shown" in log.read_text(errors="replace"):
                        times.append(time.perf_counter() - started)
                        break
                    time.sleep(0.005)
            finally:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter runs; nothing saved")
    args = parser.parse_args()
    runs = 2 if args.quick else 5
    app = QApplication.instance() or QApplication(sys.argv[:1])
    results: dict = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "quick": args.quick,
        "cpu_count": os.cpu_count(),
        "load_before": os.getloadavg()[0],
    }

    shown = window_shown_times(runs)
    results["window_shown_s"] = round(statistics.median(shown), 3)
    results["window_shown_runs_s"] = [round(t, 3) for t in shown]

    with tempfile.TemporaryDirectory() as folder:
        paths = resolve_paths(folder).ensure()
        store = Store(paths.database)
        import_model(store, str(test_model_path()))
        save_chat_defaults(store.settings, ChatSettings(temperature=0.8))
        window = build_window(app, store, paths)
        window.resize(1280, 840)
        window.show()
        settle(app, 0.3)

        stream = streaming_lag(app, window, 128 if args.quick else 512)
        results.update(
            lag_p50_ms=stream["p50"],
            lag_p99_ms=stream["p99"],
            lag_max_ms=stream["max"],
            lag_samples=stream["n"],
            stream_tokens=stream["tokens"],
            stream_tokens_per_s=stream["tokens_per_s"],
            stream_seconds=stream["seconds"],
        )
        synthetic = synthetic_lag(app, window, 8 if args.quick else 30)
        results.update(
            synthetic_lag_p50_ms=synthetic["p50"],
            synthetic_lag_p99_ms=synthetic["p99"],
            synthetic_lag_max_ms=synthetic["max"],
            synthetic_chars=synthetic["chars"],
            synthetic_blocks=synthetic["blocks"],
        )

        indexing = indexing_lag(app, window, 300 if args.quick else 2000)
        results.update(
            indexing_lag_p50_ms=indexing["p50"],
            indexing_lag_p99_ms=indexing["p99"],
            indexing_lag_max_ms=indexing["max"],
            indexing_files=indexing["files"],
            indexing_seconds=indexing["seconds"],
        )

        big = long_chat(store, 2000)
        small = store.history.create_conversation(title="small").id
        opens = open_time(app, window, big, small, runs)
        results["open_2000_ms"] = round(statistics.median(opens), 1)
        results["open_2000_runs_ms"] = [round(t, 1) for t in opens]
        window.close()
        store.close()
    results["load_after"] = os.getloadavg()[0]

    print("\n| figure | value | target |\n|---|---|---|")
    for key in (
        "lag_p50_ms",
        "lag_p99_ms",
        "lag_max_ms",
        "synthetic_lag_p50_ms",
        "synthetic_lag_p99_ms",
        "synthetic_lag_max_ms",
        "indexing_lag_p50_ms",
        "indexing_lag_p99_ms",
        "indexing_lag_max_ms",
        "window_shown_s",
        "open_2000_ms",
    ):
        target = TARGETS.get(key)
        verdict = "" if target is None else ("ok" if results[key] < target else "MISS")
        print(f"| {key} | {results[key]} | {'< ' + str(target) if target else ''} {verdict} |")
    print(
        f"\nstreamed {results['stream_tokens']} tokens at {results['stream_tokens_per_s']} "
        f"tokens/s; load average {results['load_before']:.2f} → {results['load_after']:.2f}"
    )
    if not args.quick:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(results, indent=2) + "\n")
        print(f"saved {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
