"""The installed `openweight` window under a real X server, driven by real key presses."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from desktop.chat.defaults import save_chat_defaults
from desktop.store import Store
from desktop.store.records import ChatSettings
from tests.helpers import end

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "_artifacts"
QUESTION = "What is the capital of France?"


pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11 test, Linux only"),
]


def openweight(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("openweight")
    return subprocess.run(
        [str(exe), *args], capture_output=True, text=True, timeout=120, env=env, cwd=ROOT
    )


def xdotool(display: str, *args: str) -> str:
    result = subprocess.run(
        ["xdotool", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "DISPLAY": display},
    )
    return result.stdout.strip()


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_typing_a_question_in_the_real_window(
    display: str, tmp_path: Path, test_model_path: Path
) -> None:
    data = tmp_path / "profile"
    env = {k: v for k, v in os.environ.items() if k not in ("OPENWEIGHT_HOME", "QT_QPA_PLATFORM")}
    imported = openweight(
        "--data-dir", str(data), "models", "import", str(test_model_path), env=env
    )
    assert imported.returncode == 0, imported.stderr
    store = Store(data / "openweight.sqlite3")
    save_chat_defaults(store.settings, ChatSettings(temperature=0.0, max_tokens=48))
    store.close()

    exe = Path(sys.executable).with_name("openweight")
    app = subprocess.Popen(
        [str(exe), "--data-dir", str(data)],
        cwd=ROOT,
        env={**env, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        window = xdotool(display, "search", "--sync", "--onlyvisible", "--name", "Openweight")
        assert window, "the window did not appear"
        window = window.splitlines()[0]
        xdotool(display, "windowfocus", "--sync", window)
        time.sleep(0.5)  # let the window settle before typing
        xdotool(display, "type", "--delay", "30", QUESTION)
        xdotool(display, "key", "Return")

        deadline = time.monotonic() + 120
        shown = ""
        while time.monotonic() < deadline:
            shown = openweight("--data-dir", str(data), "history", "show", "--last", env=env).stdout
            if "Paris" in shown:
                break
            time.sleep(0.5)
        assert QUESTION in shown and "Paris" in shown, shown
        time.sleep(0.5)  # the last words reach the screen
        if shutil.which("import"):
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            subprocess.run(
                ["import", "-window", "root", str(ARTIFACTS / "window-xvfb.png")],
                env={**os.environ, "DISPLAY": display},
                timeout=30,
                check=False,
            )

        engine_hosts = children_of(app.pid)
        assert engine_hosts, "the model runs in a child process"
        xdotool(display, "key", "--window", window, "ctrl+q")
        assert app.wait(timeout=30) == 0, app.stderr.read() if app.stderr else ""
        assert not [pid for pid in engine_hosts if alive(pid)], "an engine host outlived the app"
    finally:
        end(app, signal.SIGTERM, timeout=15)
