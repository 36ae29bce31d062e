"""The one thread that talks to the engines: requests wait their turn here, first come first
served, and a bounded queue turns the rest away (the client is told to retry).

An engine host answers one request at a time, so queueing in the server costs nothing and
keeps waiting requests cancellable: a client that leaves before its turn is simply skipped.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from desktop.chat.defaults import chat_defaults
from desktop.chat.prompt import template_variables
from desktop.engine.api import Delta, Done, Engine, EngineError, Failed
from desktop.engine.context import STOP
from desktop.engine.engines import Engines
from desktop.engine.options import GenerateOptions
from desktop.server.history import save_served_chat, saving_enabled
from desktop.server.requests import ChatRequest, EmbeddingRequest
from desktop.store import Store
from desktop.store.records import ChatSettings, ModelFile

log = logging.getLogger("openweight.server")

CACHE_KEY = "openweight-serve"  # the engine keeps this state apart from the window's chats


class QueueFull(Exception):
    """Every place in the queue is taken."""


@dataclass
class Embedded:
    vectors: list[list[float]]


@dataclass
class Job:
    """One request waiting for, or having, the engine. deliver() is called from the worker
    thread with each engine event (chat) or an Embedded (embeddings), then the last one."""

    model: ModelFile
    request: ChatRequest | EmbeddingRequest
    deliver: Callable[[Any], None]
    cancelled: threading.Event = field(default_factory=threading.Event)
    engine: Engine | None = None
    stop_sent: bool = False


class ServingWorker:
    """Owns the engines (through make_engines, called in its own thread with its own store)."""

    def __init__(self, database: Path, make_engines: Callable[[Store], Engines],
                 max_queue: int = 16) -> None:
        self.database = database
        self.make_engines = make_engines
        self.max_queue = max_queue
        self._queue: queue.Queue[Job | None] = queue.Queue(maxsize=max_queue)
        self._lock = threading.Lock()
        self._current: Job | None = None
        self._closing = threading.Event()
        self._ready = threading.Event()
        self._failed: Exception | None = None
        self._thread = threading.Thread(target=self._run, name="serve-engine", daemon=True)
        self.served = 0  # answers finished (for the window's status line)
        self.average_seconds = 1.0  # how long a request has the engine, recently

    def retry_after(self) -> float:
        """Seconds until a place in the queue is likely to be free."""
        return max(0.2, self.average_seconds * (self.waiting + 1) / max(1, self.max_queue))

    def start(self) -> None:
        self._thread.start()
        self._ready.wait()
        if self._failed is not None:
            raise self._failed

    @property
    def waiting(self) -> int:
        return self._queue.qsize()

    def submit(self, job: Job) -> None:
        """Queue a job; raise QueueFull when every place is taken."""
        if self._closing.is_set():
            raise QueueFull
        try:
            self._queue.put_nowait(job)
        except queue.Full:
            raise QueueFull from None

    def cancel(self, job: Job) -> None:
        """Skip a waiting job, or stop a running one now; safe from any thread."""
        job.cancelled.set()
        with self._lock:
            running = self._current is job
        if running:
            self._stop(job)

    def close(self, timeout: float = 10.0) -> None:
        """Turn away what waits, stop what runs, end the thread (and with it the engines)."""
        self._closing.set()
        while True:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                break
            if job is not None:
                job.cancelled.set()
                job.deliver(Failed("engine", "The server is shutting down."))
        with self._lock:
            current = self._current
        if current is not None:
            self.cancel(current)
        self._queue.put(None)
        if self._thread.ident is not None:
            self._thread.join(timeout)

    # -- the worker thread --------------------------------------------------------------

    def _stop(self, job: Job) -> None:
        if job.engine is not None and not job.stop_sent:
            job.stop_sent = True
            job.engine.stop()

    def _run(self) -> None:
        try:
            store = Store(self.database)
            engines = self.make_engines(store)
        except Exception as exc:  # noqa: BLE001 - start() raises it in the starting thread
            self._failed = exc
            return
        finally:
            self._ready.set()
        try:
            while True:
                job = self._queue.get()
                if job is None:
                    break
                if job.cancelled.is_set():
                    continue  # its client has gone
                with self._lock:
                    self._current = job
                began = time.monotonic()
                try:
                    if isinstance(job.request, ChatRequest):
                        self._chat(store, engines, job, job.request)
                    else:
                        self._embed(engines, job, job.request)
                except EngineError as exc:
                    job.deliver(Failed(exc.kind, str(exc)))
                except Exception as exc:  # noqa: BLE001 - the server must keep serving
                    log.exception("a served request failed")
                    job.deliver(Failed("internal", f"Unexpected error: {exc}. Details are in "
                                       "the log file."))
                finally:
                    with self._lock:
                        self._current = None
                    took = time.monotonic() - began
                    self.average_seconds = 0.8 * self.average_seconds + 0.2 * took
        finally:
            engines.close()
            store.close()

    def _chat(self, store: Store, engines: Engines, job: Job, request: ChatRequest) -> None:
        defaults = chat_defaults(store.settings)
        engine = engines.for_model(job.model)
        info = engine.load(job.model, defaults.context_length)
        if job.cancelled.is_set():
            return
        style = job.model.reasoning_style or info.get("reasoning_style")
        options = GenerateOptions(
            messages=request.messages,
            temperature=request.temperature if request.temperature is not None
            else defaults.temperature if defaults.temperature is not None else 0.7,
            top_p=request.top_p if request.top_p is not None
            else defaults.top_p if defaults.top_p is not None else 0.95,
            max_tokens=request.max_tokens,
            stop=request.stop,
            template_vars=template_variables(
                ChatSettings(reasoning_effort=request.reasoning_effort), style),
            # A client asked for these messages: dropping some silently would change its
            # question, so a prompt too long is an error it can act on.
            context_policy=STOP,
            cache_key=CACHE_KEY,
            reasoning_style=style,
            seed=request.seed % 2**32 if request.seed is not None else None,
        )
        job.engine = engine
        answer: list[str] = []
        reasoning: list[str] = []
        final: Done | Failed | None = None
        for event in engine.generate(options):
            if job.cancelled.is_set():
                self._stop(job)  # a cancel that came before the engine had the request
            if isinstance(event, Done | Failed):
                final = event
            elif isinstance(event, Delta):
                answer.append(event.answer)
                reasoning.append(event.reasoning)
            job.deliver(event)
        if final is None:
            final = Failed("crash", "The model engine stopped without answering.")
            job.deliver(final)
        self.served += 1
        if isinstance(final, Done):
            log.info("served %s: %s after %s tokens", job.model.name, final.stop_reason,
                     final.stats.get("generated_tokens"))
        if saving_enabled(store.settings):
            save_served_chat(store, job.model.name, request.messages, "".join(answer),
                             "".join(reasoning), final)

    def _embed(self, engines: Engines, job: Job, request: EmbeddingRequest) -> None:
        engine = engines.for_model(job.model)
        job.deliver(Embedded(engine.embed(job.model, request.texts)))
