"""The local engine: llama.cpp in a child engine host, seen through the Engine interface.

Chat models and embedding models each get their own host, so indexing documents never
unloads the model a chat is using.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

from desktop.engine.api import (
    EngineEvent,
    EngineModel,
    ProgressCallback,
    TokenCount,
    from_wire,
)
from desktop.engine.client import EngineClient, EngineCrashed, EngineLoadError
from desktop.engine.options import GenerateOptions, LoadOptions, device_layers
from desktop.store.records import ModelFile

EMBED_BATCH = 64  # texts per request: large enough to fill llama.cpp's batch, small frames


class LocalEngine:
    """Models on this computer. Use from one thread at a time, except stop().

    share() gives another thread its own view of the same engine host (the window and
    `openweight serve` answer with one loaded model): the host serves the views' requests
    in order, each view reloads its model if another view changed it, and stop() stops only
    the view's own answer.
    """

    name = "local"

    def __init__(self, client: EngineClient | None = None,
                 make_client: Callable[[], EngineClient] = EngineClient,
                 installed: Callable[[], list[ModelFile]] | None = None,
                 n_threads: Callable[[], int | None] | None = None,
                 device: Callable[[], str | None] | None = None,
                 owner: LocalEngine | None = None) -> None:
        self.make_client = make_client
        self.client = client or make_client()
        self._embedder: EngineClient | None = None
        self._embedder_lock = threading.Lock()  # indexing and a chat may both embed
        self._installed = installed or (lambda: [])
        self._n_threads = n_threads or (lambda: None)
        self._owner = owner  # a shared view: the owner has the host (and the embedder)
        self._wanted: LoadOptions | None = None  # what this view last loaded
        self._answering: int | None = None  # the id of this view's running answer
        self._device = device or (lambda: None)  # the user's "Run models on" setting

    def share(self, device: Callable[[], str | None] | None = None,
              installed: Callable[[], list[ModelFile]] | None = None) -> LocalEngine:
        """Another view of this engine host, for another thread; closing it leaves the host.

        device and installed read settings through the new thread's own store (a store's
        connection belongs to the thread that opened it)."""
        return LocalEngine(self.client, self.make_client, installed or self._installed,
                           self._n_threads, device or self._device, owner=self)

    # -- chat ----------------------------------------------------------------------------

    def load_options(self, model: ModelFile, context_length: int | None,
                     embedding: bool = False) -> LoadOptions:
        """Read afresh each time: a changed device setting reloads the model at the next turn."""
        n_gpu_layers, main_gpu = device_layers(self._device())
        return LoadOptions(path=model.path, n_ctx=context_length, n_threads=self._n_threads(),
                           n_gpu_layers=n_gpu_layers, main_gpu=main_gpu, embedding=embedding)

    def is_loaded(self, model: ModelFile, context_length: int | None = None) -> bool:
        return self.client.running and self.client.loaded is not None and (
            self.client.loaded_options == self.load_options(model, context_length))

    @property
    def loaded_info(self) -> dict[str, Any] | None:
        return self.client.loaded

    def load(self, model: ModelFile, context_length: int | None = None,
             on_progress: ProgressCallback | None = None) -> dict[str, Any]:
        options = self.load_options(model, context_length)
        with self.client.turn_lock:
            info = self.client.load(options, on_progress)
            self._wanted = options
            return info

    def _reload_if_changed(self) -> None:
        """Called holding turn_lock: another view may have loaded another model meanwhile."""
        wanted = self._wanted
        if wanted is not None and not (
                self.client.running and self.client.loaded_options == wanted
                and self.client.loaded is not None):
            self.client.load(wanted)

    def count_tokens(self, messages: list[dict[str, Any]],
                     template_vars: dict[str, Any] | None = None) -> TokenCount:
        with self.client.turn_lock:
            self._reload_if_changed()
            events = self.client.submit("count", "counting tokens", messages=messages,
                                        template_vars=template_vars or {})
        for event in events:
            if event.get("event") == "error":
                raise EngineLoadError(event["message"], crashed=event.get("kind") == "crash")
            if event.get("event") == "counted":
                return TokenCount(int(event["tokens"]), int(event["n_ctx"]))
        raise EngineCrashed("The model engine stopped without answering.")

    def generate(self, options: GenerateOptions) -> Iterator[EngineEvent]:
        request_id = self.client.new_request_id()
        self._answering = request_id
        try:
            with self.client.turn_lock:
                self._reload_if_changed()
                raws = self.client.submit_generate(options, request_id)
            for raw in raws:
                event = from_wire(raw)
                if event is not None:
                    yield event
        finally:
            self._answering = None

    def stop(self) -> None:
        """Stop this view's answer (and only it): other views' answers go on."""
        request_id = self._answering
        if request_id is not None:
            self.client.stop(request_id)

    # -- embeddings ----------------------------------------------------------------------

    def embed(self, model: ModelFile, texts: list[str]) -> list[list[float]]:
        if self._owner is not None:
            return self._owner.embed(model, texts)
        with self._embedder_lock:
            embedder = self._embedding_host(model)
            vectors: list[list[float]] = []
            for start in range(0, len(texts), EMBED_BATCH):
                vectors.extend(embedder.embed(texts[start:start + EMBED_BATCH]))
            return vectors

    def token_counts(self, model: ModelFile, texts: list[str]) -> list[int]:
        """How many tokens each text is to an embedding model (its own tokenizer, no special
        tokens), so passages can be sized to what the model reads."""
        if self._owner is not None:
            return self._owner.token_counts(model, texts)
        with self._embedder_lock:
            return self._embedding_host(model).token_counts(texts)

    def _embedding_host(self, model: ModelFile) -> EngineClient:
        """The embedding host with model loaded; call holding _embedder_lock."""
        if self._embedder is None:
            self._embedder = self.make_client()
        self._embedder.load(self.load_options(model, None, embedding=True))
        return self._embedder

    # -- the rest ------------------------------------------------------------------------

    def models(self) -> list[EngineModel]:
        return [EngineModel(m.name, self.name, m.kind, m.context_length) for m in self._installed()]

    @property
    def pid(self) -> int | None:
        proc = self.client._proc  # noqa: SLF001 - for checks and tests only
        return proc.pid if proc is not None and proc.poll() is None else None

    def close(self, timeout: float = 5.0) -> None:
        if self._owner is not None:
            self.stop()  # a view leaves the host to its owner
            return
        self.client.close(timeout=timeout)
        embedder, self._embedder = self._embedder, None  # no lock: closing ends a running embed
        if embedder is not None:
            embedder.close(timeout=timeout)
