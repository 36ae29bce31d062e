"""Local documents for a chat: the passages that answer a question, fitted to the context.

The chat layer is the only one that may use documents (DESIGN "Layers"); this module is
where it does, so the session and the prompt builder only see Source records.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from desktop.documents import DocumentIndex, Retriever, Source, embedder_factory
from desktop.documents.embedder import EmbeddingEngine
from desktop.store.records import ModelFile

MAX_SOURCES = 6
SHARE_OF_CONTEXT = 0.5  # passages may take at most half the window; the rest is the chat


class DocumentSources:
    """Retrieval for chats; use from one thread (it opens its connection on first use)."""

    def __init__(self, index_path: Path | str, engine: EmbeddingEngine,
                 installed: Callable[[], list[ModelFile]]) -> None:
        self.index_path = index_path
        self._embedder_for = embedder_factory(engine, installed)
        self._retriever: Retriever | None = None

    def retrieve(self, collections: list[str], question: str, budget_tokens: int,
                 limit: int = MAX_SOURCES, mode: str = "hybrid") -> list[Source]:
        if not collections or budget_tokens <= 0 or not question.strip():
            return []
        if self._retriever is None:
            self._retriever = Retriever(DocumentIndex(self.index_path), self._embedder_for)
        return self._retriever.sources(collections, question, budget_tokens, limit, mode)

    def close(self) -> None:
        if self._retriever is not None:
            self._retriever.index.close()
            self._retriever = None


def passage_budget(n_ctx: int, reserve: int, base_tokens: int) -> int:
    """Tokens the sources may use: what the system prompt, question and answer leave, and
    no more than half the window (older turns then make room, oldest first)."""
    return max(0, min(int(n_ctx * SHARE_OF_CONTEXT), n_ctx - reserve - base_tokens - 32))
