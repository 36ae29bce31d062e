"""The window's side of the engine thread: it starts the thread, numbers each request, and
shuts everything down at exit so no engine process is ever left behind."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal

from desktop.engine.client import EngineClient
from desktop.engine.local import LocalEngine
from desktop.ui.engine_worker import EngineWorker

log = logging.getLogger("openweight.ui.engine")

SHUTDOWN_WAIT_MS = 10_000


class EngineBridge(QObject):
    # Requests, delivered to the worker in its own thread (queued connections).
    _run_turn = Signal(int, int, int, str)
    _count = Signal(int, int, object)
    _shutdown = Signal()

    def __init__(
        self,
        database: Path,
        make_client: Callable[[], EngineClient] = EngineClient,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._ids = itertools.count(1)
        self.thread = QThread()
        self.thread.setObjectName("engine-worker")
        self.worker = EngineWorker(database, make_client)
        self.worker.moveToThread(self.thread)
        self.thread.started.connect(self.worker.open)
        self._run_turn.connect(self.worker.run_turn)
        self._count.connect(self.worker.count)
        self._shutdown.connect(self.worker.shutdown)
        # Results, delivered in the window's thread.
        self.event = self.worker.event
        self.turn_finished = self.worker.turn_finished
        self.counted = self.worker.counted

    def start(self) -> None:
        self.thread.start()

    def start_turn(self, conversation_id: int, parent_id: int, model_name: str | None) -> int:
        request_id = next(self._ids)
        self._run_turn.emit(request_id, conversation_id, parent_id, model_name or "")
        return request_id

    def count(self, conversation_id: int, draft: dict[str, Any]) -> int:
        request_id = next(self._ids)
        self.worker.latest_count = request_id
        self._count.emit(request_id, conversation_id, draft)
        return request_id

    def stop(self, request_id: int) -> None:
        self.worker.request_stop(request_id)

    def local_engine(self, timeout: float = 10.0) -> LocalEngine | None:
        """The window's local engine, for another thread to share() (the API server)."""
        if not self.worker.opened.wait(timeout) or self.worker.engines is None:
            return None
        return self.worker.engines.local

    @property
    def engine_pid(self) -> int | None:
        engines = self.worker.engines
        return engines.local.pid if engines is not None else None

    def shutdown(self) -> None:
        """Finish the current request (it was asked to stop), close the engine, end the thread."""
        if not self.thread.isRunning():
            return
        self.worker.latest_count = -1  # pending counts are not worth waiting for
        self._shutdown.emit()
        if not self.thread.wait(SHUTDOWN_WAIT_MS):
            log.warning("the engine did not stop in time; ending its process")
            self.worker.kill_engine()
            if not self.thread.wait(SHUTDOWN_WAIT_MS):
                log.error("the engine thread did not finish")
                self.thread.terminate()
                self.thread.wait()
