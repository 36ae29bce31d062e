"""Local documents with a real embedding model (all-MiniLM-L6-v2, converted to GGUF)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from desktop.documents import DocumentIndex, Embedder, IndexJob, Retriever, embedder_factory
from desktop.documents.embedder import prefixes_for
from desktop.documents.passages import CHARS_PER_TOKEN, TARGET_TOKENS
from desktop.engine.local import LocalEngine
from desktop.library.importing import model_from_file
from desktop.store.records import ModelFile


@pytest.fixture(scope="module")
def engine() -> Iterator[LocalEngine]:
    local = LocalEngine()
    yield local
    local.close()


@pytest.fixture(scope="module")
def minilm(embedding_model_path: Path) -> ModelFile:
    return model_from_file(embedding_model_path, "all-MiniLM-L6-v2")


def test_the_converted_model_is_recognised_as_an_embedding_model(
        minilm: ModelFile, test_model_path: Path) -> None:
    assert minilm.kind == "embedding" and minilm.architecture == "bert"
    assert not minilm.has_chat_template and minilm.context_length == 512
    assert model_from_file(test_model_path).kind == "chat"


def test_a_paraphrase_scores_far_above_an_unrelated_sentence(engine: LocalEngine,
                                                             minilm: ModelFile) -> None:
    vectors = np.array(engine.embed(minilm, [
        "A man is playing a guitar on stage.",
        "Someone performs music with a guitar.",
        "The central bank raised interest rates again.",
    ]))
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
    paraphrase, unrelated = vectors[0] @ vectors[1], vectors[0] @ vectors[2]
    assert paraphrase > 0.6 and unrelated < 0.2 and paraphrase - unrelated > 0.5


def test_query_and_document_prefixes_per_model() -> None:
    nomic = prefixes_for(ModelFile("nomic-embed-text-v1.5", "/m/nomic-embed-text-v1.5.Q4_K_M.gguf"))
    assert (nomic.query, nomic.document) == ("search_query: ", "search_document: ")
    gemma = prefixes_for(ModelFile("embeddinggemma-300m", "/m/x.gguf"))
    assert gemma.query.startswith("task: search result") and gemma.document.startswith("title:")
    assert prefixes_for(ModelFile("all-MiniLM-L6-v2", "/m/all-MiniLM-L6-v2.gguf")).query == ""


def test_bm25_collection_becomes_hybrid_and_finds_meaning(tmp_path: Path, engine: LocalEngine,
                                                          minilm: ModelFile) -> None:
    folder = tmp_path / "pets"
    folder.mkdir()
    (folder / "cats.txt").write_text(
        "Cats are small domesticated carnivores that many households keep as companions.")
    (folder / "trains.txt").write_text("The express train to the coast leaves the station at noon.")
    (folder / "taxes.md").write_text("# Taxes\n\nFile the annual return before the end of April.")
    db = tmp_path / "documents.sqlite3"
    index = DocumentIndex(db)
    index.create("Pets", [str(folder)])
    [plain] = IndexJob(db).run()
    assert plain.indexed == 3 and index.status("Pets").embedded_passages == 0

    installed: list[ModelFile] = []
    embedder_for = embedder_factory(engine, lambda: installed)
    question = "Which feline animals live with people?"
    assert Retriever(index, embedder_for).search(["Pets"], question, 3) == []  # no shared word

    # An embedding model is installed: the files are cut again in its tokens and embedded.
    installed.append(minilm)
    [hybrid] = IndexJob(db, embedder_for=embedder_for).run()
    assert (hybrid.indexed, hybrid.model) == (3, "all-MiniLM-L6-v2")
    status = index.status("Pets")
    assert status.embedded_passages == status.passages == 3 and status.model == "all-MiniLM-L6-v2"

    hits = Retriever(index, embedder_for).search(["Pets"], question, 3)
    assert hits[0].path.endswith("cats.txt") and hits[0].vector_rank == 1
    assert hits[0].bm25_rank is None

    # A new file is read and embedded in the same run; an unchanged one is left alone.
    (folder / "dogs.txt").write_text("Dogs are loyal animals that guard the house.")
    [more] = IndexJob(db, embedder_for=embedder_for).run()
    assert (more.indexed, more.unchanged, more.embedded) == (1, 3, 0)
    assert index.status("Pets").embedded_passages == 4
    embedder = Embedder(engine, minilm)
    assert embedder.query("hello").shape == (384,)
    index.close()


def test_passages_are_sized_in_the_embedding_models_tokens(tmp_path: Path, engine: LocalEngine,
                                                           minilm: ModelFile) -> None:
    # Hex dumps and identifiers take far more tokens than four characters each: cut by an
    # estimate, their passages would run past the model's 512-token window and lose the rest.
    dense = "\n\n".join(
        " ".join(f"0x{(i * 7919 + j * 104729) % 65536:04x}u8_{j}" for j in range(40))
        for i in range(30))
    prose = "\n\n".join("The heron waits by the reeds for a fish to pass. " * 6 for _ in range(8))
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "dump.txt").write_text(dense)
    (folder / "notes.txt").write_text(prose)
    db = tmp_path / "documents.sqlite3"
    index = DocumentIndex(db)
    index.create("Mixed", [str(folder)])
    [summary] = IndexJob(db, embedder_for=embedder_factory(engine, lambda: [minilm])).run()
    assert summary.indexed == 2
    for name in ("dump.txt", "notes.txt"):
        record = index.files(index.get("Mixed").id)[str(folder / name)]
        texts = [t for _, t in index.file_passages(record.id)]
        real = engine.token_counts(minilm, texts)
        stored = [r[0] for r in index.conn.execute(
            "SELECT tokens FROM passages WHERE file_id = ? ORDER BY seq", (record.id,))]
        # Counted word by word, the stored sizes are the model's own within a few per cent.
        assert all(abs(s - r) <= max(3, r * 0.05) for s, r in zip(stored, real, strict=True))
        assert max(real) <= TARGET_TOKENS * 1.1 and len(texts) > 1
        if name == "dump.txt":  # more passages than an estimate would have cut
            assert len(texts) > 1.5 * len(dense) / CHARS_PER_TOKEN / TARGET_TOKENS
    index.close()
