"""Fixtures for the window tests: a real window on a real store with the real test model.

Every test must leave no engine thread running and no engine host process behind.
"""

from __future__ import annotations

import gc
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QThread
from PySide6.QtWidgets import QApplication, QWidget

from desktop.chat.defaults import save_chat_defaults
from desktop.engine.client import EngineClient
from desktop.library.importing import import_model
from desktop.paths import DataPaths, resolve_paths
from desktop.store import Store
from desktop.store.records import ChatSettings
from desktop.ui.app import build_window
from desktop.ui.main_window import MainWindow

QUESTION = "What is the capital of France?"
ANSWER_TIMEOUT_MS = 120_000  # generous: the machine may be busy with other work


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # The offscreen platform cannot honour window size hints and says so on every window.
    for item in items:
        if "tests/ui" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.qt_log_ignore("propagateSizeHints"))


def engine_hosts_alive() -> list[int]:
    """Engine host processes started by this test process that are still running (Linux)."""
    if not sys.platform.startswith("linux"):
        return []
    alive = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        state = stat.rsplit(")", 1)[1].split()[0]
        if ppid == os.getpid() and b"desktop.engine.host" in cmdline and state != "Z":
            alive.append(int(entry.name))
    return alive


@pytest.fixture(autouse=True)
def no_leaks() -> Iterator[None]:
    """Fail a test that leaves threads, QThreads or engine host processes running."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if not _new_threads(before) and not engine_hosts_alive():
            break
        time.sleep(0.05)
    assert not [t.name for t in _new_threads(before)], "a thread was left running"
    assert not engine_hosts_alive(), "an engine host process was left running"
    gc.collect()
    running = [o for o in gc.get_objects() if isinstance(o, QThread) and _is_running(o)]
    assert not running, "a QThread was left running"


def _new_threads(before: set[threading.Thread]) -> list[threading.Thread]:
    # A QThread that ran Python code leaves a "dummy" entry that never goes away; QThreads
    # are checked on their own below.
    return [
        t
        for t in threading.enumerate()
        if t not in before and t.is_alive() and not isinstance(t, threading._DummyThread)
    ]  # noqa: SLF001


def _is_running(thread: QThread) -> bool:
    try:
        return thread.isRunning()
    except RuntimeError:  # its C++ side is already gone
        return False


class RecordingClient(EngineClient):
    """The real engine client, remembering each host process it starts."""

    pids: list[int] = []

    def start(self) -> None:
        super().start()
        if self._proc is not None:
            RecordingClient.pids.append(self._proc.pid)


def process_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.fixture
def paths(data_dir: Path) -> DataPaths:
    return resolve_paths(data_dir).ensure()


@pytest.fixture
def gui_store(paths: DataPaths) -> Iterator[Store]:
    store = Store(paths.database)
    yield store
    store.close()


@pytest.fixture
def with_model(gui_store: Store, test_model_path: Path) -> Store:
    """The test model installed; answers deterministic (temperature 0) and short."""
    import_model(gui_store, str(test_model_path))
    save_chat_defaults(gui_store.settings, ChatSettings(temperature=0.0, max_tokens=48))
    return gui_store


WindowFactory = Callable[..., MainWindow]


@pytest.fixture
def make_window(
    qapp: QApplication,
    qtbot,
    paths: DataPaths,
    gui_store: Store,  # noqa: ANN001
) -> Iterator[WindowFactory]:
    """Builds shown windows; at the end each is closed and must leave nothing running."""
    windows: list[MainWindow] = []
    RecordingClient.pids = []
    font, palette = qapp.font(), qapp.palette()  # a test that changes them must not leak

    def make(**kwargs: object) -> MainWindow:
        window = build_window(qapp, gui_store, paths, RecordingClient, **kwargs)  # type: ignore[arg-type]
        window.show()
        window.activateWindow()  # shortcuts only reach the active window
        qtbot.waitExposed(window)
        qtbot.waitUntil(window.isActiveWindow, timeout=5000)
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.close()
        assert window.bridge.thread.isFinished()
    for pid in RecordingClient.pids:
        assert process_gone(pid), f"engine host {pid} is still running"
    qapp.setFont(font)
    qapp.setPalette(palette)


@pytest.fixture
def window(make_window: WindowFactory, with_model: Store) -> MainWindow:
    return make_window()


def wait_for_answer(qtbot, window: MainWindow, timeout: int = ANSWER_TIMEOUT_MS) -> None:  # noqa: ANN001
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=timeout)


def click_where_drawn(qtbot, window: MainWindow, widget: QWidget) -> None:  # noqa: ANN001
    """Click a widget that was just shown or moved, once the window's layout has put it where
    it is drawn: a click sent before that lands on whatever was there."""
    qtbot.waitUntil(lambda: window.childAt(widget.mapTo(window, widget.rect().center())) is widget)
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def wait_for_streaming_text(qtbot, window: MainWindow, timeout: int = ANSWER_TIMEOUT_MS) -> None:  # noqa: ANN001
    def has_text() -> bool:
        active = window.controller.active
        return active is not None and len(active.answer) > 0

    qtbot.waitUntil(has_text, timeout=timeout)
