"""Chats that answer from local documents: sources in the prompt, events, history, export."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from desktop.chat.prompt import SOURCES_INSTRUCTION, with_sources
from desktop.chat.retrieval import DocumentSources
from desktop.chat.session import ChatSession, TurnResult
from desktop.documents import DocumentIndex, IndexJob
from desktop.documents.retrieval import mark
from desktop.engine.engines import build_engines
from desktop.library.importing import import_model
from desktop.store import Store
from desktop.store.export import export_conversation
from desktop.store.records import ChatSettings
from tests.helpers import history_at_schema


@pytest.fixture
def herons(tmp_path: Path) -> Path:
    """A collection of 30 notes that all match the question, more than a small window holds."""
    folder = tmp_path / "birds"
    folder.mkdir()
    (folder / "heron.md").write_text(
        "# Grey heron\n\nThe grey heron nests in colonies called heronries, high in tall trees "
        "near water. A heron colony can hold dozens of nests.\n")
    for i in range(30):
        (folder / f"note{i:02}.txt").write_text(
            f"Field note {i}: a heron was seen by the lake; herons nest and hunt fish. "
            + "The weather was calm and the water was still. " * 12)
    db = tmp_path / "documents.sqlite3"
    DocumentIndex(db).create("Birds", [str(folder)])
    IndexJob(db).run()
    return db


def test_with_sources_numbers_them_before_the_question() -> None:
    class S:
        def __init__(self, n: int, path: str, page: int | None, text: str) -> None:
            self.number, self.path, self.page, self.heading, self.text = n, path, page, "", text

    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Why?"}]
    prompt = with_sources(messages, [S(1, "/d/a.pdf", 3, "Because."), S(2, "/d/b.md", None, "So.")])
    assert prompt[0] == messages[0] and messages[1]["content"] == "Why?"  # the history is untouched
    content = prompt[1]["content"]
    assert content.startswith(SOURCES_INSTRUCTION) and "[1] a.pdf, page 3\nBecause." in content
    assert "[2] b.md\nSo." in content and content.endswith("Question: Why?")
    assert with_sources(messages, []) is messages


def ask_the_birds(store: Store, herons: Path, test_model_path: Path, max_tokens: int
                  ) -> tuple[TurnResult, list[dict[str, Any]], int]:
    """One question in a new chat that uses the Birds collection, in a 512-token window:
    the answer, the events it sent, and the chat's id."""
    model = import_model(store, str(test_model_path))
    engines = build_engines(store)
    documents = DocumentSources(herons, engines.local, store.models.all)
    session = ChatSession(store, engines, documents)
    conv = store.history.create_conversation(model=model.name, settings=ChatSettings(
        context_length=512, max_tokens=max_tokens, temperature=0))
    store.history.update_conversation(conv.id, collections=["Birds"])
    question = session.add_user_message(conv.id, "Where does the grey heron nest?")
    events: list[dict[str, Any]] = []
    try:
        result = session.answer(conv.id, question, model, events.append)
    finally:
        documents.close()
        engines.close()
    return result, events, conv.id


def test_a_chat_with_a_collection_cites_sources_within_the_context(
        tmp_path: Path, herons: Path, test_model_path: Path) -> None:
    store = Store(tmp_path / "history.sqlite3")
    result, events, conv_id = ask_the_birds(store, herons, test_model_path, max_tokens=8)
    kinds = [e["event"] for e in events]
    assert "sources" in kinds and kinds.index("sources") < kinds.index("started")
    sources = next(e for e in events if e["event"] == "sources")["sources"]
    assert 1 <= len(sources) < 20  # fitted to a 512-token window, not all 31 files
    assert sources[0]["path"].endswith("heron.md")
    assert "[heron]" in mark(sources[0]["snippet"], [tuple(h) for h in sources[0]["highlights"]])
    started = next(e for e in events if e["event"] == "started")
    assert started["prompt_tokens"] <= 512 - 8 and started["dropped_messages"] == 0
    assert result.message.status == "complete"

    saved = store.history.message(result.message.id)
    assert [s["path"] for s in saved.sources] == [s["path"] for s in sources]
    assert store.history.conversation(conv_id).collections == ["Birds"]
    exported = json.loads(export_conversation(store.history, conv_id, "json"))
    assert exported["collections"] == ["Birds"]
    assert exported["messages"][-1]["sources"][0]["path"].endswith("heron.md")
    markdown = export_conversation(store.history, conv_id, "md")
    assert "**Sources:**" in markdown and "1. heron.md (" in markdown
    assert store.history.search("heron")  # the question is still found by history search
    store.close()


def test_schema_2_history_gains_collections_and_sources(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    conn = history_at_schema(path, 2)
    conn.execute("INSERT INTO conversations (title, created_at, updated_at) VALUES ('Old', 1, 1)")
    conn.execute("INSERT INTO messages (conversation_id, role, content, created_at, updated_at)"
                 " VALUES (1, 'user', 'hello', 1, 1)")
    conn.commit()
    conn.close()
    store = Store(path)
    conv = store.history.conversation(1)
    assert conv.title == "Old" and conv.collections == []
    assert store.history.messages(1)[0].sources == []
    store.history.update_message(1, sources=[{"number": 1, "path": "/x.pdf", "page": 2}])
    assert store.history.message(1).sources[0]["page"] == 2
    store.close()


def test_an_embedding_model_that_fails_leaves_keyword_search(
        tmp_path: Path, herons: Path, test_model_path: Path, embedding_model_path: Path) -> None:
    from desktop.store.records import ModelFile

    store = Store(tmp_path / "history.sqlite3")
    broken = tmp_path / "broken-embed.gguf"  # cut short, as by a failed copy
    broken.write_bytes(embedding_model_path.read_bytes()[:1_000_000])
    store.models.add(ModelFile(name="bge-small-en-v1.5", path=str(broken), kind="embedding",
                               architecture="bert"))
    result, events, _ = ask_the_birds(store, herons, test_model_path, max_tokens=4)
    announced = next(e for e in events if e["event"] == "sources")
    assert "searched by keywords only" in announced["warning"]
    assert announced["sources"][0]["path"].endswith("heron.md")  # keywords still found it
    assert result.message.status == "complete" and result.message.sources
    store.close()
