"""Local documents: collections of folders, their index (BM25 + vectors) and retrieval.

No Qt here: the window's Documents page and the CLI both drive these classes. Embedding
models run in an engine host (LocalEngine.embed); this package only sees vectors.
"""

from desktop.documents.embedder import (
    DEFAULT_EMBEDDING_MODEL,
    Embedder,
    choose_embedding_model,
    embedder_factory,
)
from desktop.documents.index import (
    Collection,
    CollectionStatus,
    DocumentIndex,
    DocumentsError,
)
from desktop.documents.indexer import IndexJob, IndexProgress, IndexSummary
from desktop.documents.retrieval import Hit, Retriever, Source

__all__ = [
    "DEFAULT_EMBEDDING_MODEL",
    "Collection",
    "CollectionStatus",
    "DocumentIndex",
    "DocumentsError",
    "Embedder",
    "Hit",
    "IndexJob",
    "IndexProgress",
    "IndexSummary",
    "Retriever",
    "Source",
    "choose_embedding_model",
    "embedder_factory",
]
