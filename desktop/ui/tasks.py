"""Run slow work (Hub requests, moving files) off the GUI thread and get the answer back on it.

Plain Python threads rather than a Qt thread pool: they can be joined at shutdown, and they
leave nothing behind in `threading.enumerate()` once finished (Qt's pool threads linger there
as dummy threads), so tests can tell a leaked thread from a finished one.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

log = logging.getLogger("openweight.ui.tasks")

Report = Callable[[Any], None]  # hands a progress value from the worker to the GUI thread
Work = Callable[[Report], Any]
Done = Callable[[Any, Exception | None], None]


@dataclass
class _Task:
    thread: threading.Thread
    done: Done
    progress: Callable[[Any], None] | None


class BackgroundTasks(QObject):
    """Each task runs `work(report)` on its own thread; `done(result, error)` runs on the GUI
    thread afterwards. Nothing is delivered after shutdown()."""

    _finished = Signal(int, object, object)  # task id, result, error
    _progressed = Signal(int, object)  # task id, value

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self._ids = itertools.count(1)
        self._tasks: dict[int, _Task] = {}
        self._closed = False
        self._finished.connect(self._deliver_result)
        self._progressed.connect(self._deliver_progress)

    def run(
        self,
        work: Work,
        done: Done,
        progress: Callable[[Any], None] | None = None,
        progress_interval: float = 0.1,
    ) -> int:
        """Start work; the returned id lets the caller tell a stale answer from the latest."""
        task_id = next(self._ids)
        thread = threading.Thread(
            target=self._work,
            args=(task_id, work, progress_interval),
            name=f"{self.name}-{task_id}",
            daemon=True,  # a hung network call must never keep the app from quitting
        )
        self._tasks[task_id] = _Task(thread, done, progress)
        thread.start()
        return task_id

    @property
    def busy(self) -> bool:
        return any(task.thread.is_alive() for task in self._tasks.values())

    def shutdown(self, timeout: float = 30.0) -> None:
        """Stop delivering and wait for running work (Hub calls time out by themselves)."""
        self._closed = True
        deadline = time.monotonic() + timeout
        for task in list(self._tasks.values()):
            task.thread.join(max(0.0, deadline - time.monotonic()))
            if task.thread.is_alive():
                log.warning("%s did not finish in time", task.thread.name)
        self._tasks.clear()

    # -- worker side ------------------------------------------------------------------------------
    def _work(self, task_id: int, work: Work, interval: float) -> None:
        last = 0.0

        def report(value: Any) -> None:
            nonlocal last
            now = time.monotonic()
            if now - last >= interval:  # enough to look live without flooding the GUI thread
                last = now
                self._progressed.emit(task_id, value)

        try:
            result, error = work(report), None
        except Exception as exc:  # handed to the GUI thread, which words it for the user
            result, error = None, exc
        self._finished.emit(task_id, result, error)

    # -- GUI side ---------------------------------------------------------------------------------
    @Slot(int, object, object)
    def _deliver_result(self, task_id: int, result: Any, error: Exception | None) -> None:
        task = self._tasks.pop(task_id, None)
        if task is None or self._closed:
            return
        task.thread.join()  # it has only the return left to do
        task.done(result, error)

    @Slot(int, object)
    def _deliver_progress(self, task_id: int, value: Any) -> None:
        task = self._tasks.get(task_id)
        if task is not None and task.progress is not None and not self._closed:
            task.progress(value)
