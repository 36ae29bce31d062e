"""The worker that lives in the engine thread: it owns the engine client, its own store
connection and a chat session, and talks to the window only through signals."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from desktop.chat.defaults import default_system_prompt
from desktop.chat.prompt import (
    Prompt,
    conversation_prompt,
    effective_settings,
    prompt_messages,
    template_variables,
    with_draft,
)
from desktop.chat.retrieval import DocumentSources
from desktop.chat.session import ChatError, ChatSession
from desktop.engine.api import EngineError
from desktop.engine.client import EngineClient
from desktop.engine.engines import Engines, build_engines
from desktop.store import Store
from desktop.store.errors import StoreError
from desktop.store.history import NotFoundError
from desktop.store.records import ChatSettings

log = logging.getLogger("openweight.ui.worker")


class ThinkingClock:
    """How long the model reasoned before it began to answer (shown as “Thought for N s”)."""

    def __init__(self) -> None:
        self.started: float | None = None
        self.seconds: float | None = None

    def observe(self, event: dict[str, Any]) -> None:
        if event.get("event") != "delta" or self.seconds is not None:
            return
        if event.get("reasoning") and self.started is None:
            self.started = time.monotonic()
        if event.get("answer") and self.started is not None:
            self.seconds = time.monotonic() - self.started
        event["thought_s"] = self.elapsed()

    def elapsed(self) -> float | None:
        if self.seconds is not None:
            return self.seconds
        return None if self.started is None else time.monotonic() - self.started


class EngineWorker(QObject):
    event = Signal(int, int, object)  # request id, conversation id, engine event
    turn_finished = Signal(int, int, object)  # request id, conversation id, outcome
    counted = Signal(int, int, object)  # request id, conversation id, token count or error

    def __init__(self, database: Path, make_client: Callable[[], EngineClient]) -> None:
        super().__init__()
        self.database = database
        self.make_client = make_client
        self.store: Store | None = None
        self.engines: Engines | None = None
        self.session: ChatSession | None = None
        self.latest_count = 0  # set by the window; older count requests are skipped
        self.opened = threading.Event()  # the engines exist (the API server shares them)
        self._lock = threading.Lock()
        self._stopped: set[int] = set()
        self._running: int | None = None
        self._failed_paths: set[str] = (
            set()
        )  # models that failed to load: never loaded just to count

    # -- called from the window's thread ------------------------------------------------

    def request_stop(self, request_id: int) -> None:
        """Thread-safe: stop this turn now, or as soon as it starts."""
        with self._lock:
            self._stopped.add(request_id)
            running = self._running == request_id
        if running and self.session is not None:
            self.session.stop()

    def kill_engine(self) -> None:
        """Last resort at exit when the engine does not stop: end its process."""
        if self.engines is not None:
            self.engines.close(timeout=1.0)

    # -- slots run in the worker thread --------------------------------------------------

    @Slot()
    def open(self) -> None:
        self.store = Store(self.database)
        self.engines = build_engines(self.store, self.make_client)
        # Chats that use document collections get their sources from the documents index.
        documents = DocumentSources(self.database.with_name("documents.sqlite3"),
                                    self.engines.local, self.store.models.all)
        self.session = ChatSession(self.store, self.engines, documents)
        self.opened.set()

    @Slot()
    def shutdown(self) -> None:
        try:
            if self.engines is not None:
                self.engines.close()
        finally:
            if self.store is not None:
                self.store.close()
            self.store = self.engines = self.session = None
            QThread.currentThread().quit()

    @Slot(int, int, int, str)
    def run_turn(
        self, request_id: int, conversation_id: int, parent_id: int, model_name: str
    ) -> None:
        assert self.session is not None and self.store is not None
        outcome: dict[str, Any] = {"message_id": None, "status": "stopped", "error": None}
        if self._is_stopped(request_id):
            self.turn_finished.emit(request_id, conversation_id, outcome)
            return
        with self._lock:
            self._running = request_id
        clock = ThinkingClock()
        stop_sent = [False]
        load_failed = [False]
        model_label = [model_name]

        def on_event(event: dict[str, Any]) -> None:
            clock.observe(event)
            kind = event.get("event")
            if kind == "progress":
                event["model"] = model_label[0]
            elif kind == "error" and event.get("kind") in ("crash", "load"):
                load_failed[0] = True
            if event.get("event") in ("started", "delta") and self._is_stopped(request_id):
                if not stop_sent[0]:  # a stop sent while loading is forgotten: send it again
                    stop_sent[0] = True
                    self.session.stop()
            self.event.emit(request_id, conversation_id, event)

        history = self.store.history
        try:
            model = self.session.resolve_model(conversation_id, model_name or None)
            model_label[0] = model.name
            parent = history.message(parent_id)
            result = self.session.answer(conversation_id, parent, model, on_event)
            outcome = {
                "message_id": result.message.id,
                "status": result.message.status,
                "error": result.error,
            }
            if load_failed[0]:
                self._failed_paths.add(model.path)  # not loaded again just to count tokens
            else:
                self._failed_paths.discard(model.path)
            if clock.elapsed() is not None and result.message.reasoning:
                stats = {**result.message.stats, "thought_s": round(clock.elapsed() or 0, 1)}
                history.update_message(result.message.id, stats=stats)
        except ChatError as exc:
            outcome = self._failed_answer(conversation_id, parent_id, str(exc))
        except StoreError as exc:  # disk full, read-only, locked: said plainly, not as a bug
            log.warning("the answer could not be saved: %s", exc)
            outcome = {"message_id": None, "status": "failed", "error": str(exc),
                       "saving_failed": str(exc)}
        except Exception as exc:  # noqa: BLE001 - the window must keep working; details go to the log
            log.exception("the answer failed")
            outcome = self._failed_answer(
                conversation_id,
                parent_id,
                f"Something went wrong while answering: {exc}. Details are in the log file.",
            )
        finally:
            with self._lock:
                self._running = None
                self._stopped.discard(request_id)
        self.turn_finished.emit(request_id, conversation_id, outcome)

    @Slot(int, int, object)
    def count(self, request_id: int, conversation_id: int, draft: dict[str, Any]) -> None:
        """Count the tokens the next prompt would use (conversation id 0: a chat not yet saved)."""
        if request_id != self.latest_count or self.store is None or self.engines is None:
            return
        try:
            result = self._count(request_id, conversation_id, draft)
        except (EngineError, ChatError, NotFoundError) as exc:
            result = {"error": str(exc)}
        except Exception as exc:  # noqa: BLE001 - a failed count only costs the exact figure
            log.exception("counting tokens failed")
            result = {"error": str(exc)}
        self.counted.emit(request_id, conversation_id, result)

    # -- helpers -------------------------------------------------------------------------

    def _count(
        self, request_id: int, conversation_id: int, draft: dict[str, Any]
    ) -> dict[str, Any]:
        assert self.store is not None and self.engines is not None and self.session is not None
        if conversation_id:
            model = self.session.resolve_model(conversation_id, draft.get("model"))
            prompt = conversation_prompt(self.store, conversation_id, draft=draft.get("text", ""))
        else:
            settings = ChatSettings.from_json(draft.get("settings") or "{}")
            system_prompt = draft.get("system_prompt") or default_system_prompt(self.store.settings)
            found = self.store.models.find(draft["model"]) if draft.get("model") else None
            if found is None and draft.get("model"):
                found = self.engines.find_remote(draft["model"])
            model = found or self.store.models.default()
            if model is None:
                raise ChatError("No model is installed yet.")
            messages = with_draft(prompt_messages(system_prompt, []), draft.get("text", ""))
            prompt = Prompt(messages, effective_settings(self.store, settings))
        settings = prompt.settings
        engine = self.engines.for_model(model)
        local = self.engines.local
        if engine is local and not local.is_loaded(model, settings.context_length):
            if not draft.get("allow_load") or model.path in self._failed_paths:
                return {"not_loaded": True}
            try:
                info = local.load(
                    model, settings.context_length,
                    lambda v: self.event.emit(
                        request_id,
                        conversation_id,
                        {"event": "progress", "value": v, "model": model.name},
                    ),
                )
            except EngineError:
                self._failed_paths.add(model.path)
                raise
            self.event.emit(request_id, conversation_id, {"event": "loaded", "info": info})
        elif engine is not local:
            engine.load(model, settings.context_length)
        loaded = local.loaded_info if engine is local else None
        style = model.reasoning_style or (loaded or {}).get("reasoning_style")
        counted = engine.count_tokens(prompt.messages, template_variables(settings, style))
        return {
            "tokens": counted.tokens,
            "n_ctx": counted.n_ctx,
            "estimated": counted.estimated,
            "max_tokens": settings.max_tokens,
            "policy": settings.context_policy,
        }

    def _is_stopped(self, request_id: int) -> bool:
        with self._lock:
            return request_id in self._stopped

    def _failed_answer(self, conversation_id: int, parent_id: int, error: str) -> dict[str, Any]:
        """An answer that could not even start still gets a place to show why."""
        assert self.store is not None
        history = self.store.history
        try:
            reply = history.add_message(
                conversation_id, "assistant", "", parent_id=parent_id, status="failed"
            )
            history.update_message(reply.id, error=error)
        except Exception:  # noqa: BLE001 - the chat was deleted meanwhile: nothing to show
            log.exception("could not record the failed answer")
            return {"message_id": None, "status": "failed", "error": error}
        return {"message_id": reply.id, "status": "failed", "error": error}
