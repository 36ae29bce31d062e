"""Screenshots of the chat window's main states, rendered offscreen with the real test model.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/screenshots.py

Writes bench/results/screenshots/window-*.png: the welcome page (with the model it
recommends for this computer), a new chat, a chat with Markdown, code and thinking, an answer
streaming (the status line says which device answered), an answer that failed, the same chat
in dark mode with its settings open, search results, a reasoning model thinking (its events
played to the window: the test model does not reason), and the Settings dialog.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtWidgets import QApplication  # noqa: E402

from desktop.chat.defaults import save_chat_defaults  # noqa: E402
from desktop.library.importing import import_model, model_from_file  # noqa: E402
from desktop.paths import resolve_paths  # noqa: E402
from desktop.store import Store  # noqa: E402
from desktop.store.records import ChatSettings  # noqa: E402
from desktop.ui.app import build_window  # noqa: E402
from desktop.ui.chat_controller import ActiveStream  # noqa: E402
from desktop.ui.main_window import MainWindow  # noqa: E402
from desktop.ui.settings_dialog import SettingsDialog  # noqa: E402
from tests.helpers import patch_gguf_value, test_model_path  # noqa: E402

OUT = ROOT / "bench" / "results" / "screenshots"
SIZE = (1280, 840)

QUESTION = "How do I read a large file line by line in Python without running out of memory?"
REASONING = (
    "The user wants to read a big file lazily. A file object is already an iterator "
    "over its lines, so a for loop reads one line at a time. I should mention the "
    "encoding argument, and show how to count lines as an example."
)
ANSWER = """## Reading a file line by line

A file object is an **iterator**: looping over it reads one line at a time, so memory use
stays small however large the file is.

```python
from pathlib import Path

def count_errors(path: Path) -> int:
    errors = 0
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if "ERROR" in line:
                errors += 1
    return errors
```

A few things to keep in mind:

1. Pass `encoding="utf-8"` so the result does not depend on the computer.
2. Each `line` ends with `\\n`; use `line.rstrip("\\n")` to drop it.
3. For binary files, open with `"rb"` and read fixed-size chunks instead.

| Approach | Memory | Speed |
|----------|--------|------:|
| `for line in file` | one line | fast |
| `file.readlines()` | whole file | fast |
| `file.read()` | whole file | fastest |

> Tip: `itertools.islice(lines, 10)` gives just the first ten lines.
"""


def pump(app: QApplication, seconds: float = 0.15) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


def wait_until(app: QApplication, condition: Callable[[], bool], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the window did not get there in time")
        pump(app, 0.02)


def shoot(app: QApplication, window: MainWindow, name: str) -> None:
    pump(app, 0.3)
    path = OUT / f"window-{name}.png"
    window.grab().save(str(path))
    print(f"saved {path.relative_to(ROOT)}")


def open_window(app: QApplication, store: Store, paths) -> MainWindow:  # noqa: ANN001
    window = build_window(app, store, paths)
    window.resize(*SIZE)
    window.show()
    pump(app, 0.3)
    return window


def add_sample_chat(store: Store, model_name: str) -> int:
    history = store.history
    conv = history.create_conversation(
        title="Reading big files in Python",
        model=model_name,
        system_prompt="You are a helpful assistant.",
    )
    question = history.add_message(conv.id, "user", QUESTION)
    answer = history.add_message(
        conv.id, "assistant", ANSWER, parent_id=question.id, model=model_name, reasoning=REASONING
    )
    history.update_message(
        answer.id,
        stats={
            "generated_tokens": 312,
            "tokens_per_s": 41.7,
            "thought_s": 3.2,
            "prompt_tokens": 58,
            "n_ctx": 8192,
        },
    )
    for title in ("Soup for six people", "Explain TCP slow start", "Birthday card ideas"):
        other = history.create_conversation(title=title, model=model_name)
        history.add_message(other.id, "user", title)
    return conv.id


def show_thinking(app: QApplication, window: MainWindow, store: Store) -> None:
    """A reasoning model mid-thought. The test model does not reason, so the engine's events
    are played to the window as a reasoning model sends them."""
    history = store.history
    conv = history.create_conversation(title="Trains meeting halfway")
    question = history.add_message(
        conv.id,
        "user",
        "Two trains leave 300 km apart at 80 and "
        "70 km/h, heading for each other. When do they meet?",
    )
    reply = history.add_message(
        conv.id, "assistant", "", parent_id=question.id, status="streaming", model="gpt-oss-20b"
    )
    window.refresh_sidebar()
    window.open_conversation(conv.id)
    controller = window.controller
    controller.active = ActiveStream(-1, conv.id, question.id, "gpt-oss-20b", message_id=reply.id)
    window.transcript.set_busy(True)
    window._stream_changed()  # noqa: SLF001 - as a real answer starting does
    thoughts = (
        "They close the gap at 80 + 70 = 150 km/h. ",
        "The gap is 300 km, ",
        "so the time is 300 / 150 = 2 hours. ",
        "Check: in 2 hours the first covers 160 km and the second 140 km, ",
        "which adds up to 300 km.",
    )
    for piece in thoughts:
        controller._on_event(
            -1,
            conv.id,
            {
                "event": "delta",
                "reasoning": piece,  # noqa: SLF001
                "thought_s": 2.0,
            },
        )
        pump(app, 0.05)
    history.update_message(reply.id, status="stopped", reasoning="".join(thoughts))


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory() as folder:
        paths = resolve_paths(folder).ensure()
        store = Store(paths.database)
        window = open_window(app, store, paths)
        shoot(app, window, "welcome")
        window.close()

        model = import_model(store, str(test_model_path()))
        save_chat_defaults(store.settings, ChatSettings(temperature=0.0, max_tokens=160))
        window = open_window(app, store, paths)
        window.new_chat()
        shoot(app, window, "new-chat")

        conv_id = add_sample_chat(store, model.name)
        window.refresh_sidebar()
        window.open_conversation(conv_id)
        shoot(app, window, "markdown")

        window.new_chat()
        window.composer.set_text("Write a short poem about the sea, with a title.")
        window.composer.submit()
        wait_until(
            app,
            lambda: (
                window.controller.active is not None and len(window.controller.active.answer) > 60
            ),
        )
        shoot(app, window, "streaming")
        wait_until(app, lambda: not window.controller.busy)

        show_thinking(app, window, store)
        shoot(app, window, "thinking")
        window.controller.active = None
        window.transcript.set_busy(False)
        window._stream_changed()  # noqa: SLF001

        damaged = patch_gguf_value(
            test_model_path(), Path(folder) / "damaged.gguf", "llama.block_count", "<I", 0
        )
        store.models.add(model_from_file(damaged, "Damaged model"))
        window.refresh_models()
        window.new_chat()
        window.picker.select("Damaged model")
        window._model_chosen("Damaged model")  # noqa: SLF001 - as choosing it in the picker
        window.composer.set_text("Hello?")
        window.composer.submit()
        wait_until(app, lambda: not window.controller.busy)
        shoot(app, window, "error")

        window.theme.set_mode("dark")
        window.open_conversation(conv_id)
        window.chat.settings_button.setChecked(True)
        shoot(app, window, "dark")
        window.chat.settings_button.setChecked(False)

        window.theme.set_mode("light")
        window.sidebar.filter.setText("iterator")
        wait_until(app, lambda: window.sidebar.list.count() > 1, timeout=5)
        shoot(app, window, "search")

        dialog = SettingsDialog(store, paths, window.theme, window)
        dialog.show()
        pump(app, 0.3)
        path = OUT / "window-settings.png"
        dialog.grab().save(str(path))
        print(f"saved {path.relative_to(ROOT)}")
        dialog.reject()
        window.close()
        store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
