"""Adding a .gguf file the user already has to the installed models."""

from __future__ import annotations

from pathlib import Path

from desktop.library.errors import NotAModelError
from desktop.modelfile.gguf import GGUFError, GGUFInfo, read_gguf
from desktop.modelfile.style import detect_style
from desktop.store import Store
from desktop.store.records import ModelFile

# Encoder architectures llama.cpp runs only to embed text (they cannot chat).
EMBEDDING_ARCHITECTURES = {"bert", "nomic-bert", "nomic-bert-moe", "jina-bert-v2", "jina-bert-v3",
                           "modern-bert", "neo-bert", "eurobert", "gemma-embedding", "t5encoder"}
POOLING_RANK = 4  # a reranker, not an embedding model


def model_kind(info: GGUFInfo) -> str:
    """"embedding" for a model that turns text into vectors, else "chat".

    The architecture decides for encoders; a decoder converted for embeddings (Qwen3-Embedding)
    carries a pooling type, which chat models never have.
    """
    if info.architecture in EMBEDDING_ARCHITECTURES:
        return "embedding"
    pooling = info.arch_value("pooling_type")
    if isinstance(pooling, int) and pooling not in (0, POOLING_RANK):
        return "embedding"
    return "chat"


def model_from_file(path: Path, name: str | None = None, source: str = "import") -> ModelFile:
    """What the GGUF header says about a file, as a registry record."""
    info = read_gguf(path)
    return ModelFile(
        name=name or path.stem,
        path=str(path),
        size_bytes=info.size_bytes,
        architecture=info.architecture,
        parameters=info.parameters,
        quantization=info.quantization,
        context_length=info.context_length,
        has_chat_template=info.chat_template is not None,
        reasoning_style=detect_style(info.chat_template, info.architecture),
        source=source,
        kind=model_kind(info),
    )


def import_model(store: Store, path_text: str, name: str | None = None) -> ModelFile:
    """Register a file in place (it is not copied); a file already registered keeps its name."""
    path = Path(path_text).expanduser().resolve()
    try:
        model = model_from_file(path, name)
    except GGUFError as exc:
        raise NotAModelError(str(exc)) from exc  # the cause carries the technical detail
    existing = store.models.find(str(path))
    if existing is not None:
        model.name = existing.name
    return store.models.add(model)
