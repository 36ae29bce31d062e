"""Indexing in the background for the window: one job at a time, pausable, and started again
by itself when a watched folder changes while the app runs."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from desktop.documents import IndexJob, IndexProgress, IndexSummary, embedder_factory
from desktop.documents.embedder import EmbeddingEngine
from desktop.documents.watcher import Watcher
from desktop.store.records import ModelFile
from desktop.ui.tasks import BackgroundTasks

log = logging.getLogger("openweight.ui.documents")


class DocumentsIndexing(QObject):
    """Runs IndexJobs off the GUI thread; progress arrives about ten times a second."""

    progressed = Signal(object)  # IndexProgress
    finished = Signal(object, object)  # list[IndexSummary] (None if it failed), error text
    running_changed = Signal(bool)

    def __init__(self, index_path: Path, engine: EmbeddingEngine,
                 installed: Callable[[], list[ModelFile]], *, watch: bool = True,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.index_path = index_path
        self.engine = engine
        self.installed = installed
        self.tasks = BackgroundTasks("documents-index", self)
        self.job: IndexJob | None = None
        self.last_progress: IndexProgress | None = None
        self._queued: set[str] | None = None  # collections changed while a job ran (empty: all)
        self.watcher: Watcher | None = None
        if watch:
            self.watcher = Watcher(index_path, self._changed_on_disk)
            self._watch_signal.connect(self._on_watch)

    _watch_signal = Signal(object)  # names, from the watcher's thread

    def start_watching(self) -> None:
        if self.watcher is not None:
            self.watcher.start()

    @property
    def running(self) -> bool:
        return self.job is not None

    def index(self, names: list[str] | None = None) -> None:
        """Bring these collections (default: all) up to date; queued if a job is running."""
        if self.job is not None:
            self._queued = (self._queued or set()) | set(names or [])
            return
        job = IndexJob(self.index_path, names, embedder_factory(self.engine, self.installed))
        self.job = job

        def work(progress: Callable[[Any], None]) -> list[IndexSummary]:
            job.on_progress = progress  # handed to the GUI thread at most ten times a second
            return job.run()

        if self.watcher is not None:
            self.watcher.pause_checks()  # the job itself brings everything up to date
        self.running_changed.emit(True)
        self.tasks.run(work, self._done, self._progress, progress_interval=0.1)

    def pause(self) -> None:
        if self.job is not None:
            self.job.pause()
            if self.last_progress is not None:
                self.last_progress.state = "paused"
                self.progressed.emit(self.last_progress)

    def resume(self) -> None:
        if self.job is not None:
            self.job.resume()

    def cancel(self) -> None:
        if self.job is not None:
            self._queued = None
            self.job.cancel()

    @property
    def paused(self) -> bool:
        return self.job is not None and self.job.paused

    def shutdown(self) -> None:
        """Stop at the next file boundary (finished files stay indexed) and wait for it."""
        if self.watcher is not None:
            self.watcher.stop()
        if self.job is not None:
            self.job.cancel()
        self.tasks.shutdown()
        self.job = None

    # -- results, on the GUI thread -------------------------------------------------------

    def _progress(self, progress: IndexProgress) -> None:
        self.last_progress = progress
        self.progressed.emit(progress)

    def _done(self, summaries: list[IndexSummary] | None, error: Exception | None) -> None:
        self.job = None
        if self.watcher is not None:
            self.watcher.resume_checks()
        text = None
        if error is not None:
            log.error("indexing failed", exc_info=error)
            text = f"Indexing stopped: {error}"
        self.running_changed.emit(False)
        self.finished.emit(summaries, text)
        queued, self._queued = self._queued, None
        if queued is not None:
            self.index(sorted(queued) or None)

    def _changed_on_disk(self, names: list[str]) -> None:
        self._watch_signal.emit(names)  # the watcher's thread: hand over to the GUI thread

    def _on_watch(self, names: list[str]) -> None:
        log.info("watched folders changed: %s", ", ".join(names))
        self.index(names)
