"""The download queue: one worker thread, resumable verified transfers, then registration.

Plain Python for the CLI and for a Qt worker alike. Listeners get snapshots in the order the
changes happened, on the thread that made the change (mostly the worker; the UI turns them into
signals); pause/resume/cancel may be called from any thread.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

from desktop.library.errors import DownloadInterrupted, LibraryError
from desktop.library.hub import HubClient
from desktop.library.installed import Provenance, register_download
from desktop.library.jobs import (
    FINISHED,
    RUNNING,
    DownloadProgress,
    DownloadRequest,
    DownloadState,
    Job,
)
from desktop.library.network import (
    OfflineCheck,
    describe_failure,
    ensure_online,
    ensure_reachable,
    offline_check_for,
)
from desktop.library.plan import (
    check_space,
    discard_parts,
    disk_free,
    installed_copy,
    plan_download,
    unfinished_downloads,
)
from desktop.library.runner import download_files
from desktop.library.transfer import TransferSettings
from desktop.library.units import format_bytes
from desktop.store import ModelFile, Store

log = logging.getLogger("openweight.library.downloads")

Listener = Callable[[DownloadProgress], None]


class DownloadManager:
    def __init__(
        self,
        models_dir: Path,
        database: Path,
        *,
        hub: HubClient | None = None,
        is_offline: OfflineCheck | None = None,
        settings: TransferSettings | None = None,
        free_space: Callable[[Path], int] = disk_free,
        progress_interval: float = 0.1,
    ) -> None:
        self.models_dir = models_dir
        self.database = database
        self.is_offline = is_offline or offline_check_for(database)
        self.hub = hub or HubClient(self.is_offline)
        self.settings = settings or TransferSettings()
        self.free_space = free_space
        self.progress_interval = progress_interval
        self._jobs: dict[int, Job] = {}
        self._ids = itertools.count(1)
        self._listeners: list[Listener] = []
        self._lock = threading.Condition()
        self._worker: threading.Thread | None = None
        self._closing = False
        self._last_post = 0.0
        self._outbox: deque[DownloadProgress] = deque()  # snapshots not yet handed to listeners
        self._delivering = threading.Lock()  # one delivery at a time keeps them in order

    # -- public API (any thread) ----------------------------------------------------------------
    def add_listener(self, listener: Listener) -> None:
        with self._lock:
            self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        with self._lock:
            self._listeners.remove(listener)

    def enqueue(self, request: DownloadRequest) -> int:
        """Queue a download (or carry on the paused or failed one for the same file, from what
        it saved); returns its job id."""
        ensure_online(self.is_offline, "start a download")
        with self._lock:
            same = [
                job
                for job in self._jobs.values()
                if job.request.key == request.key
                and (job.state not in FINISHED or job.state == DownloadState.FAILED)
            ]
            if same:
                job = same[0]
                if job.state in (DownloadState.PAUSED, DownloadState.FAILED):
                    self._requeue(job)
            else:
                job = Job(id=next(self._ids), request=request)
                self._jobs[job.id] = job
                self._outbox.append(job.snapshot())
                self._start_worker()
                self._lock.notify_all()
        self._deliver()  # listeners hear "waiting" before the worker can move on
        return job.id

    def pause(self, job_id: int) -> None:
        with self._lock:
            job = self._jobs[job_id]
            if job.state == DownloadState.QUEUED:
                self._set(job, DownloadState.PAUSED, "Paused")
            elif job.state in RUNNING:
                job.control.ask("paused")
        self._deliver()

    def resume(self, job_id: int) -> None:
        """Queue a paused or failed download again; it continues from its .part file."""
        ensure_online(self.is_offline, "resume the download")
        with self._lock:
            job = self._jobs[job_id]
            if job.state not in (DownloadState.PAUSED, DownloadState.FAILED):
                return
            self._requeue(job)
        self._deliver()

    def cancel(self, job_id: int) -> None:
        """Stop and delete what was downloaded of this file."""
        with self._lock:
            job = self._jobs[job_id]
            if job.state in RUNNING:
                job.control.ask("cancelled")
                return
            if job.state in FINISHED:
                return
            self._set(job, DownloadState.CANCELLED, "Cancelled")
        discard_parts(self.models_dir, job.request)
        self._deliver()

    def forget(self, job_id: int) -> None:
        """Drop a finished download from the list (its model, if any, stays installed)."""
        with self._lock:
            if self._jobs[job_id].state in FINISHED:
                del self._jobs[job_id]

    def get(self, job_id: int) -> DownloadProgress:
        with self._lock:
            return self._jobs[job_id].snapshot()

    def jobs(self) -> list[DownloadProgress]:
        with self._lock:
            return [job.snapshot() for job in self._jobs.values()]

    def wait(self, job_id: int, timeout: float | None = None) -> DownloadProgress:
        """Block until the job is paused or finished (or timeout); Ctrl+C still gets through."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            job = self._jobs[job_id]
            while job.state not in FINISHED and job.state != DownloadState.PAUSED:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    break
                self._lock.wait(0.2 if left is None else min(0.2, left))
            return job.snapshot()

    def restore(self) -> list[int]:
        """Offer unfinished downloads left on disk (after a quit, crash or reboot) as paused jobs."""
        ids = []
        with self._lock:
            known = {job.request.key for job in self._jobs.values() if job.state not in FINISHED}
            for request, done, size in unfinished_downloads(self.models_dir):
                if request.key in known:
                    continue
                job = Job(id=next(self._ids), request=request, downloaded=done)
                job.total = sum(f.size_bytes for f in request.known_files) or size or None
                self._set(job, DownloadState.PAUSED, "Paused: resume to continue where it stopped")
                self._jobs[job.id] = job
                ids.append(job.id)
        self._deliver()
        return ids

    def close(self, timeout: float = 10.0) -> None:
        """Pause whatever is running (its .part file stays) and stop the worker."""
        with self._lock:
            self._closing = True
            for job in self._jobs.values():
                if job.state in RUNNING:
                    job.control.ask("paused")
            self._lock.notify_all()
            worker = self._worker
        if worker is not None:
            worker.join(timeout)

    # -- worker thread -------------------------------------------------------------------------
    def _start_worker(self) -> None:
        self._closing = False  # new work after close() reopens the queue
        if self._worker is None or not self._worker.is_alive():
            self._worker = threading.Thread(target=self._work, name="downloads", daemon=True)
            self._worker.start()

    def _work(self) -> None:
        while True:
            with self._lock:
                job = self._next_job()
                while job is None and not self._closing:
                    self._lock.wait()
                    job = self._next_job()
                if self._closing:
                    return
                assert job is not None
                self._set(job, DownloadState.STARTING, "Starting")
            self._deliver()
            self._run(job)

    def _next_job(self) -> Job | None:
        queued = [job for job in self._jobs.values() if job.state == DownloadState.QUEUED]
        return queued[0] if queued else None

    def _run(self, job: Job) -> None:
        try:
            model, fresh = self._download_and_register(job)
            with self._lock:
                job.model, job.downloaded = model, job.total or job.downloaded
                message = "Ready" if fresh else "Already installed"
                self._set(job, DownloadState.COMPLETED, f"{message}: {model.name}")
        except DownloadInterrupted as stop:
            if stop.reason == "cancelled":
                discard_parts(self.models_dir, job.request)
            with self._lock:
                if stop.reason == "cancelled":
                    self._set(job, DownloadState.CANCELLED, "Cancelled")
                else:
                    left = format_bytes(max(0, (job.total or 0) - job.downloaded))
                    self._set(job, DownloadState.PAUSED, f"Paused ({left} to go)")
        except Exception as exc:
            if not isinstance(exc, LibraryError):
                log.exception("download of %s failed", job.request.display_name)
            error = self._explain(exc)
            with self._lock:
                self._set(job, DownloadState.FAILED, str(error))
        self._deliver()

    def _download_and_register(self, job: Job) -> tuple[ModelFile, bool]:
        """The registered model, and whether it was fetched now (False: it was already there)."""
        request = job.request
        store = Store(self.database)  # one connection per thread, opened where it is used
        try:
            model = installed_copy(store, request)
            if model is not None:
                with self._lock:
                    job.total = model.size_bytes
                return model, False
            ensure_online(self.is_offline, "start the download")
            ensure_reachable("start the download")  # retries are for dropped connections, not none
            plan = plan_download(request, self.hub, self.models_dir)
            with self._lock:
                job.total = sum(item.target.size or 0 for item in plan) or None
            self.models_dir.mkdir(parents=True, exist_ok=True)
            free = self.free_space(self.models_dir)
            check_space(
                plan, self.models_dir, request.display_name, free, self.settings.free_space_margin
            )
            download_files(
                plan, request.to_json(), job.control, _JobReporter(self, job), self.settings
            )
            origin = Provenance(
                source=request.source,
                repo_id=request.repo_id,
                filename=request.key[1],
                revision=plan[0].revision,
                sha256=plan[0].target.sha256,
                reasoning_style=request.reasoning_style,
                kind=request.kind,
            )
            return register_download(store, plan[0].final, request.display_name, origin), True
        finally:
            store.close()

    # -- helpers --------------------------------------------------------------------------------
    def _explain(self, exc: Exception) -> LibraryError:
        if isinstance(exc, OSError) and not isinstance(exc, ConnectionError):
            return LibraryError(
                f"Could not save the download in {self.models_dir}: {exc.strerror or exc}. "
                "Check that the folder can be written to, or choose another models folder in Settings."
            )
        return describe_failure(exc, "download the model")

    def _requeue(self, job: Job) -> None:
        job.control.reset()
        self._set(job, DownloadState.QUEUED, "Waiting to start")
        self._start_worker()
        self._lock.notify_all()

    def _set(self, job: Job, state: DownloadState, message: str) -> None:
        """Change state (caller holds the lock); the change is queued for listeners."""
        job.state, job.message = state, message
        self._outbox.append(job.snapshot())
        self._lock.notify_all()

    def _progress(self, job: Job, done: int) -> None:
        with self._lock:
            job.downloaded = done
            job.meter.add(done)
            now = time.monotonic()
            if now - self._last_post >= self.progress_interval:
                self._last_post = now
                self._outbox.append(job.snapshot())
        self._deliver()

    def _deliver(self) -> None:
        """Hand queued snapshots to listeners, outside the state lock, oldest first."""
        with self._delivering:
            while True:
                with self._lock:
                    if not self._outbox:
                        return
                    snapshot = self._outbox.popleft()
                    listeners = list(self._listeners)
                for listener in listeners:
                    try:
                        listener(snapshot)
                    except Exception:
                        log.exception("a download listener failed")


class _JobReporter:
    """Runner callbacks → job state, under the manager's lock, then out to listeners."""

    def __init__(self, manager: DownloadManager, job: Job) -> None:
        self.manager, self.job = manager, job

    def state(self, state: DownloadState, message: str) -> None:
        with self.manager._lock:
            if state == DownloadState.DOWNLOADING:
                self.job.meter.reset()
            self.manager._set(self.job, state, message)
        self.manager._deliver()

    def progress(self, done: int) -> None:
        self.manager._progress(self.job, done)
