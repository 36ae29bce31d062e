"""Turning passages and questions into vectors with an embedding model in its engine host.

Some models were trained with a prefix telling a question from a passage (nomic-embed's
"search_query: " / "search_document: "); without it their retrieval is markedly worse, so the
prefixes live here, per model family, and the engine only ever sees finished texts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from desktop.documents.index import Collection
from desktop.documents.passages import ModelTokenCounter, estimate_tokens
from desktop.engine.api import EngineError
from desktop.store.records import ModelFile

log = logging.getLogger("openweight.documents")

# The catalog's embedding model suggested when none is installed: bge-small-en-v1.5 (Q8_0,
# 37 MB, 384 dimensions, 512 tokens, MIT). Our passages are ~200 tokens, so a longer window
# buys nothing, and 384 dimensions halve the vectors' memory and search time against the
# 768 of nomic-embed/EmbeddingGemma; its quarter of nomic's compute keeps indexing quick on
# a laptop CPU. Multilingual folders are better served by Qwen3-Embedding or EmbeddingGemma.
DEFAULT_EMBEDDING_MODEL = "bge-small-en-v1.5"



class EmbeddingEngine(Protocol):
    """What documents need of an engine: LocalEngine, or the window's way to it."""

    def embed(self, model: ModelFile, texts: list[str]) -> list[list[float]]: ...

    def token_counts(self, model: ModelFile, texts: list[str]) -> list[int]: ...


@dataclass(frozen=True)
class Prefixes:
    query: str = ""
    document: str = ""


# Matched against the model's name, file name and architecture, lowercased.
_PREFIXES: list[tuple[tuple[str, ...], Prefixes]] = [
    (("nomic-embed", "nomic-bert"), Prefixes("search_query: ", "search_document: ")),
    (("embeddinggemma", "gemma-embedding", "gemma3-embed"),
     Prefixes("task: search result | query: ", "title: none | text: ")),
    (("qwen3-embedding",),
     Prefixes("Instruct: Given a question, retrieve passages that answer it\nQuery: ", "")),
    (("bge-small-en", "bge-base-en", "bge-large-en"),
     Prefixes("Represent this sentence for searching relevant passages: ", "")),
    (("e5-",), Prefixes("query: ", "passage: ")),
]


def prefixes_for(model: ModelFile) -> Prefixes:
    words = " ".join(filter(None, (model.name, model.filename, model.path, model.repo_id,
                                   model.architecture))).lower()
    for keys, prefixes in _PREFIXES:
        if any(k in words for k in keys):
            return prefixes
    return Prefixes()


class Embedder:
    """One embedding model, used through an engine that runs it."""

    def __init__(self, engine: EmbeddingEngine, model: ModelFile) -> None:
        self._engine = engine
        self.model = model
        self.prefixes = prefixes_for(model)
        self._tokens = ModelTokenCounter(lambda words: engine.token_counts(model, words))

    @property
    def name(self) -> str:
        return self.model.name

    def documents(self, texts: list[str]) -> np.ndarray:
        """float32 rows of unit length, one per passage."""
        return self._vectors([self.prefixes.document + t for t in texts])

    def query(self, text: str) -> np.ndarray:
        return self._vectors([self.prefixes.query + text])[0]

    def counter_for(self, text: str) -> Callable[[str], int]:
        """Counts tokens of parts of text in this model's tokens, so passages fit what the
        model reads; an estimate if the engine cannot count (embedding then reports why)."""
        try:
            self._tokens.learn(text)
        except EngineError as exc:
            log.warning("sizing passages by estimate: %s", exc)
            return estimate_tokens
        return self._tokens

    def _vectors(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        matrix = np.asarray(self._engine.embed(self.model, texts), dtype=np.float32)
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        return matrix / np.maximum(norms, 1e-12)


def choose_embedding_model(installed: list[ModelFile], wanted: str | None) -> ModelFile | None:
    """The collection's own model if installed, else the suggested default, else any (a
    collection whose model was removed moves to another and is embedded again)."""
    embedding = [m for m in installed if m.kind == "embedding"]
    for name in (wanted, DEFAULT_EMBEDDING_MODEL):
        for m in embedding:
            if name and m.name == name:
                return m
    return embedding[0] if embedding else None


def embedder_factory(engine: EmbeddingEngine, installed: Callable[[], list[ModelFile]]
                     ) -> Callable[[Collection], Embedder | None]:
    """embedder_for(collection): the installed model a collection's vectors come from."""

    def embedder_for(collection: Collection) -> Embedder | None:
        model = choose_embedding_model(installed(), collection.model)
        return Embedder(engine, model) if model is not None else None

    return embedder_for
