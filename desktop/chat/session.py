"""One turn of a chat: commit the question, stream the answer, persist as it streams."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desktop.chat.prompt import conversation_prompt, template_variables, with_sources
from desktop.chat.retrieval import DocumentSources, passage_budget
from desktop.chat.titles import title_from_message
from desktop.documents import DocumentsError, Source
from desktop.engine.api import Delta, Done, Engine, EngineError, Failed, Loaded, Started, to_wire
from desktop.engine.engines import Engines
from desktop.engine.options import GenerateOptions
from desktop.store import Store, StoreError
from desktop.store.history import NotFoundError
from desktop.store.records import Message, ModelFile

log = logging.getLogger("openweight.chat")

FLUSH_SECONDS = 0.5  # DESIGN rule 5: an interrupted answer loses at most this much
EventCallback = Callable[[dict[str, Any]], None]


class ChatError(Exception):
    """A problem the user can act on (no model, missing file...)."""


@dataclass
class TurnResult:
    message: Message
    stop_reason: str | None
    error: str | None
    detail: str = ""  # the technical reason behind error (for --verbose and a Details button)


class ChatSession:
    """Runs turns of one conversation at a time through the engine that owns each model.

    Owns no thread: call it from the thread that owns the store connection (a worker in
    the window, the main thread in the CLI). stop() may be called from any thread.
    """

    def __init__(self, store: Store, engines: Engines,
                 documents: DocumentSources | None = None) -> None:
        self.store = store
        self.history = store.history
        self.engines = engines
        self.documents = documents
        self._answering: Engine | None = None

    # -- starting turns ------------------------------------------------------------------

    def add_user_message(self, conversation_id: int, text: str, parent_id: int | None = None,
                         *, use_current_leaf: bool = True) -> Message:
        """Commit the user's message before anything else can go wrong."""
        conv = self.history.conversation(conversation_id)
        if parent_id is None and use_current_leaf:
            parent_id = conv.current_leaf_id
        message = self.history.add_message(conversation_id, "user", text, parent_id=parent_id)
        if conv.title == "New chat" and parent_id is None:
            self.history.update_conversation(conversation_id, title=title_from_message(text))
        return message

    def edit_user_message(self, message_id: int, text: str) -> Message:
        """An edited question becomes a new branch beside the old one."""
        old = self.history.message(message_id)
        if old.role != "user":
            raise ChatError("Only your own messages can be edited.")
        return self.history.add_message(old.conversation_id, "user", text, parent_id=old.parent_id)

    def regenerate_parent(self, assistant_message_id: int) -> Message:
        """The question a new version of this answer replies to."""
        old = self.history.message(assistant_message_id)
        if old.role != "assistant" or old.parent_id is None:
            raise ChatError("Only answers can be regenerated.")
        return self.history.message(old.parent_id)

    # -- the answer ----------------------------------------------------------------------

    def resolve_model(self, conversation_id: int, requested: str | None = None) -> ModelFile:
        models = self.store.models
        conv = self.history.conversation(conversation_id)
        name = requested or conv.model
        model = models.find(name) if name else models.default()
        if model is None and name:
            model = self.engines.find_remote(name)
            if model is not None:
                return model
        if model is None and name:
            raise ChatError(f"No installed model is called {name!r}. See 'openweight models list'.")
        if model is None:
            raise ChatError(
                "No model is installed yet. Add a GGUF file with 'openweight models import PATH' "
                "or download one from the model library."
            )
        if not Path(model.path).is_file():
            raise ChatError(f"The file for {model.name} is missing: {model.path}. Import it again.")
        return model

    def answer(self, conversation_id: int, parent: Message, model: ModelFile,
               on_event: EventCallback | None = None) -> TurnResult:
        """Generate the answer to parent (a user message), persisting as it streams."""
        emit = on_event or (lambda event: None)
        prompt = conversation_prompt(self.store, conversation_id, parent.id)
        settings = prompt.settings
        self.history.update_conversation(conversation_id, model=model.name)
        reply = self.history.add_message(
            conversation_id, "assistant", "", parent_id=parent.id, status="streaming",
            model=model.name,
        )
        emit({"event": "message", "message_id": reply.id, "parent_id": parent.id})
        answer: list[str] = []
        reasoning: list[str] = []
        stats: dict[str, Any] = {}
        status, stop_reason, error, detail = "failed", None, None, ""
        last_flush = time.monotonic()
        save_failed: StoreError | None = None
        try:
            engine = self._answering = self.engines.for_model(model)
            info = engine.load(model, settings.context_length,
                               lambda v: emit({"event": "progress", "value": v}))
            emit(to_wire(Loaded(info)))
            style = model.reasoning_style or info.get("reasoning_style")
            messages = prompt.messages
            collections = self.history.conversation(conversation_id).collections
            if collections and self.documents is not None:
                sources, source_tokens = self._sources(engine, info, settings.max_tokens,
                                                       messages, collections, parent.content, emit)
                messages = with_sources(messages, sources)
                if sources:
                    stats["source_tokens"] = source_tokens
                    self.history.update_message(reply.id, sources=[s.to_json() for s in sources])
            options = GenerateOptions(
                messages=messages,
                temperature=settings.temperature if settings.temperature is not None else 0.7,
                top_p=settings.top_p if settings.top_p is not None else 0.95,
                max_tokens=settings.max_tokens,
                template_vars=template_variables(settings, style),
                context_policy=settings.context_policy or "drop_oldest",
                cache_key=f"conversation-{conversation_id}",
                reasoning_style=style,
            )
            for event in engine.generate(options):
                if isinstance(event, Delta):
                    answer.append(event.answer)
                    reasoning.append(event.reasoning)
                    if event.tool_calls:
                        # Kept and shown, not executed: the app runs no tools yet.
                        stats.setdefault("tool_calls", []).extend(event.tool_calls)
                    if time.monotonic() - last_flush >= FLUSH_SECONDS and save_failed is None:
                        try:
                            self.history.update_message(
                                reply.id, content="".join(answer), reasoning="".join(reasoning)
                            )
                        except StoreError as exc:  # disk full, locked...: what cannot be kept
                            save_failed = exc  # is not worth generating; the host stops at once
                            engine.stop()
                        last_flush = time.monotonic()
                elif isinstance(event, Started):
                    stats["dropped_messages"] = event.dropped_messages
                    if event.estimated:
                        stats["estimated_tokens"] = True
                elif isinstance(event, Done):
                    stats.update(event.stats)
                    stop_reason = event.stop_reason
                    status = "stopped" if stop_reason == "stopped" else "complete"
                elif isinstance(event, Failed):
                    error, detail = event.message, event.detail
                    if event.kind == "context_full":
                        stats["context_full"] = True
                    if event.kind == "cut_off":
                        status = "interrupted"
                emit(to_wire(event))
        except EngineError as exc:
            error, detail = str(exc), exc.detail
            if detail:
                log.info("%s (%s)", error, detail)
            emit(to_wire(Failed(exc.kind, error, detail=detail)))
        except KeyboardInterrupt:
            status, stop_reason = "stopped", "stopped"
            raise
        finally:
            self._answering = None
            if save_failed is not None:
                status, error = "failed", str(save_failed)
            if error and status not in ("complete", "interrupted"):
                status = "stopped" if stop_reason == "stopped" else "failed"
            stats["model"] = model.name
            if error and detail:
                stats["error_detail"] = detail[:2000]  # behind the error's Details button
            # If this fails too (the disk is still full), its StoreError says so to the caller;
            # the question and everything saved before are already committed.
            self.history.update_message(
                reply.id, content="".join(answer), reasoning="".join(reasoning), status=status,
                stats=stats, error=error,
            )
            self.history.update_conversation(conversation_id, touch=True)
        return TurnResult(self.history.message(reply.id), stop_reason, error, detail)

    def _sources(self, engine: Engine, info: dict[str, Any], max_tokens: int | None,
                 messages: list[dict[str, Any]], collections: list[str], question: str,
                 emit: EventCallback) -> tuple[list[Source], int]:
        """The passages for this question, within what the context window leaves them, and
        the tokens they add to the prompt; announced with a "sources" event before the
        answer starts."""
        assert self.documents is not None
        n_ctx = int(info.get("n_ctx") or 4096)
        reserve = min(max_tokens or 1024, n_ctx // 2)  # as the engine keeps for the answer
        essentials = [m for m in messages if m["role"] == "system"] + messages[-1:]
        try:
            base = engine.count_tokens(essentials).tokens
        except EngineError:
            base = _estimate(essentials)
        budget = passage_budget(n_ctx, reserve, base)
        warning = None
        try:
            try:
                sources = self.documents.retrieve(collections, question, budget)
            except EngineError as exc:  # the embedding model failed: keywords still work
                warning = f"The embedding model could not run ({exc}); searched by keywords only."
                sources = self.documents.retrieve(collections, question, budget, mode="bm25")
        except DocumentsError as exc:
            emit({"event": "sources", "sources": [], "warning": f"{exc} Answering without them."})
            return [], 0
        # The budget was estimated from characters; count the real prompt and drop the
        # weakest sources until the question with its sources fits beside the answer.
        used = base
        while sources:
            try:
                used = engine.count_tokens(with_sources(essentials, sources)).tokens
            except EngineError:
                used = base + _estimate(with_sources(essentials, sources)) - _estimate(essentials)
                break
            if used <= n_ctx - reserve:
                break
            sources = sources[:-1]
        tokens = max(0, used - base) if sources else 0
        event: dict[str, Any] = {"event": "sources", "sources": [s.to_json() for s in sources],
                                 "tokens": tokens}
        if warning:
            event["warning"] = warning
        emit(event)
        return sources, tokens

    def stop(self) -> None:
        engine = self._answering
        if engine is not None:
            engine.stop()


def _estimate(messages: list[dict[str, Any]]) -> int:
    """Tokens of messages by their length, for an engine that cannot count."""
    return sum(len(str(m.get("content", ""))) for m in messages) // 3 + 16


def ensure_conversation(store: Store, conversation_id: int | None, *, model: str | None = None,
                        system_prompt: str | None = None) -> int:
    """An existing conversation's id, or a new one with the app's defaults."""
    from desktop.chat.defaults import default_system_prompt

    if conversation_id is not None:
        try:
            store.history.conversation(conversation_id)
        except NotFoundError:
            raise ChatError(f"There is no conversation {conversation_id}.") from None
        if system_prompt is not None:
            store.history.update_conversation(conversation_id, system_prompt=system_prompt)
        return conversation_id
    conv = store.history.create_conversation(
        model=model,
        system_prompt=default_system_prompt(store.settings) if system_prompt is None else system_prompt,
    )
    return conv.id
