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
from desktop.engine.client import EngineClient
from desktop.engine.options import GenerateOptions, LoadOptions, device_layers
from desktop.store.records import ModelFile

EMBED_BATCH = 64  # texts per request: large enough to fill llama.cpp's batch, small frames


class LocalEngine:
    """Models on this computer. Use from one thread at a time, except stop()."""

    name = "local"

    def __init__(self, client: EngineClient | None = None,
                 make_client: Callable[[], EngineClient] = EngineClient,
                 installed: Callable[[], list[ModelFile]] | None = None,
                 n_threads: Callable[[], int | None] | None = None,
                 device: Callable[[], str | None] | None = None) -> None:
        self.make_client = make_client
        self.client = client or make_client()
        self._embedder: EngineClient | None = None
        self._embedder_lock = threading.Lock()  # indexing and a chat may both embed
        self._installed = installed or (lambda: [])
        self._n_threads = n_threads or (lambda: None)
        self._device = device or (lambda: None)  # the user's "Run models on" setting

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
        return self.client.load(self.load_options(model, context_length), on_progress)

    def count_tokens(self, messages: list[dict[str, Any]],
                     template_vars: dict[str, Any] | None = None) -> TokenCount:
        counted = self.client.count_tokens(messages, template_vars)
        return TokenCount(int(counted["tokens"]), int(counted["n_ctx"]))

    def generate(self, options: GenerateOptions) -> Iterator[EngineEvent]:
        for raw in self.client.generate(options):
            event = from_wire(raw)
            if event is not None:
                yield event

    def stop(self) -> None:
        self.client.stop()

    # -- embeddings ----------------------------------------------------------------------

    def embed(self, model: ModelFile, texts: list[str]) -> list[list[float]]:
        with self._embedder_lock:
            if self._embedder is None:
                self._embedder = self.make_client()
            options = self.load_options(model, None, embedding=True)
            self._embedder.load(options)
            vectors: list[list[float]] = []
            for start in range(0, len(texts), EMBED_BATCH):
                vectors.extend(self._embedder.embed(texts[start:start + EMBED_BATCH]))
            return vectors

    # -- the rest ------------------------------------------------------------------------

    def models(self) -> list[EngineModel]:
        return [EngineModel(m.name, self.name, m.kind, m.context_length) for m in self._installed()]

    @property
    def pid(self) -> int | None:
        proc = self.client._proc  # noqa: SLF001 - for checks and tests only
        return proc.pid if proc is not None and proc.poll() is None else None

    def close(self, timeout: float = 5.0) -> None:
        self.client.close(timeout=timeout)
        embedder, self._embedder = self._embedder, None  # no lock: closing ends a running embed
        if embedder is not None:
            embedder.close(timeout=timeout)
