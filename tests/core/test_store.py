from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from desktop.store import ChatSettings, NewerSchemaError, Store, StoreError
from desktop.store.db import SCHEMA_VERSION
from desktop.store.export import export_conversation
from desktop.store.records import ModelFile
from tests.helpers import history_at_schema


def test_new_database_has_schema_version_and_pragmas(tmp_path: Path) -> None:
    store = Store(tmp_path / "h.sqlite3")
    conn = store.db.conn
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    store.close()


def test_reopening_keeps_data_and_migrates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    store = Store(path)
    conv = store.history.create_conversation(title="Kept")
    store.close()
    again = Store(path)
    assert again.history.conversation(conv.id).title == "Kept"
    again.close()


def test_newer_schema_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    Store(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(NewerSchemaError, match="newer version of Openweight"):
        Store(path)
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1
    conn.close()


def test_garbage_file_gives_a_readable_error(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="is damaged"):
        Store(path)


def test_migration_from_empty_database_runs_every_step(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    sqlite3.connect(path).close()  # an empty file at version 0
    store = Store(path)
    tables = {
        r[0] for r in store.db.conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
    }
    assert {"conversations", "messages", "messages_fts", "models", "settings"} <= tables
    store.close()


def test_branches_regenerate_and_edit(store: Store) -> None:
    h = store.history
    conv = h.create_conversation()
    q1 = h.add_message(conv.id, "user", "first question")
    a1 = h.add_message(conv.id, "assistant", "first answer", parent_id=q1.id)
    a1b = h.add_message(conv.id, "assistant", "second answer", parent_id=q1.id)  # regenerate
    assert [m.id for m in h.siblings(a1.id)] == [a1.id, a1b.id]
    assert [m.content for m in h.branch(conv.id)] == ["first question", "second answer"]
    q2 = h.add_message(conv.id, "user", "follow-up", parent_id=a1b.id)
    q2b = h.add_message(conv.id, "user", "edited follow-up", parent_id=a1b.id)
    assert [m.id for m in h.siblings(q2.id)] == [q2.id, q2b.id]
    # Going back to the first answer shows its branch; nothing was destroyed.
    shown = h.select_branch(a1.id)
    assert [m.content for m in shown] == ["first question", "first answer"]
    shown = h.select_branch(a1b.id)
    assert [m.content for m in shown][-1] == "edited follow-up"  # newest descendant
    assert len(h.messages(conv.id)) == 5


def test_full_text_search_finds_words_and_prefixes(store: Store) -> None:
    h = store.history
    conv = h.create_conversation(title="Travel")
    q = h.add_message(conv.id, "user", "Which bridges cross the Seine in Paris?")
    h.add_message(conv.id, "assistant", "Pont Neuf is the oldest.", parent_id=q.id)
    other = h.create_conversation(title="Cooking")
    h.add_message(other.id, "user", "How long do I boil an egg?")
    hits = h.search("seine")
    assert [(x.conversation_id, x.message_id) for x in hits] == [(conv.id, q.id)]
    assert "[Seine]" in hits[0].snippet
    assert h.search("bridg")[0].message_id == q.id  # prefix
    assert h.search('egg" (*') and h.search("") == []  # odd input is no syntax error


def test_search_sees_updates_made_while_streaming(store: Store) -> None:
    h = store.history
    conv = h.create_conversation()
    q = h.add_message(conv.id, "user", "hi")
    a = h.add_message(conv.id, "assistant", "", parent_id=q.id, status="streaming")
    h.update_message(a.id, content="a platypus appears", status="complete")
    assert h.search("platypus")[0].message_id == a.id


def test_search_finds_answers_by_the_files_they_cited(tmp_path: Path) -> None:
    # An answer with sources saved under schema 3, before file names were searchable.
    path = tmp_path / "v3.sqlite3"
    conn = history_at_schema(path, 3)
    conn.execute("INSERT INTO conversations (title, created_at, updated_at) VALUES ('Tax', 0, 0)")
    sources = json.dumps([{"number": 1, "path": "/home/ann/Documents/receipts-2025.pdf"},
                          {"number": 2, "path": "/home/ann/Documents/receipts-2025.pdf"}])
    conn.execute("INSERT INTO messages (conversation_id, role, content, created_at, updated_at,"
                 " sources) VALUES (1, 'assistant', 'You paid 40 euros.', 0, 0, ?)", (sources,))
    conn.commit()
    conn.close()
    store = Store(path)
    h = store.history
    [hit] = h.search("receipts")
    assert hit.conversation_title == "Tax" and "[receipts]" in hit.snippet
    assert h.search("home") == [] and h.search("documents") == []  # names, not folders

    # A new answer's sources are searchable as soon as they are saved.
    q = h.add_message(1, "user", "And the heating?")
    a = h.add_message(1, "assistant", "", parent_id=q.id, status="streaming")
    h.update_message(a.id, sources=[{"number": 1, "path": "/home/ann/boiler-manual.odt"}])
    assert [x.message_id for x in h.search("boiler manual")] == [a.id]
    store.close()


def test_leftover_streaming_rows_become_interrupted(store: Store) -> None:
    h = store.history
    conv = h.create_conversation()
    q = h.add_message(conv.id, "user", "hi")
    a = h.add_message(conv.id, "assistant", "partial", parent_id=q.id, status="streaming")
    # A row owned by a live process (another window) is left alone.
    store.db.conn.execute("UPDATE messages SET owner_pid = 1 WHERE id = ?", (a.id,))
    assert h.mark_interrupted() == 0
    store.db.conn.execute("UPDATE messages SET owner_pid = 999999999 WHERE id = ?", (a.id,))
    assert h.mark_interrupted() == 1
    assert h.message(a.id).status == "interrupted"
    assert h.message(a.id).content == "partial"


def test_deleting_a_conversation_removes_its_messages(store: Store) -> None:
    h = store.history
    conv = h.create_conversation()
    q = h.add_message(conv.id, "user", "remove me")
    h.delete_conversation(conv.id)
    assert h.search("remove") == []
    assert store.db.conn.execute("SELECT count(*) FROM messages").fetchone()[0] == 0
    assert q.id


def test_conversation_settings_round_trip_and_pinning(store: Store) -> None:
    h = store.history
    a = h.create_conversation(title="A", settings=ChatSettings(temperature=0.2, max_tokens=64))
    b = h.create_conversation(title="B")
    h.update_conversation(a.id, pinned=True)
    assert [c.title for c in h.conversations()] == ["A", "B"]
    s = h.conversation(a.id).settings
    assert (s.temperature, s.max_tokens, s.top_p) == (0.2, 64, None)
    merged = s.merged_over(ChatSettings(top_p=0.9, temperature=0.7))
    assert (merged.temperature, merged.top_p) == (0.2, 0.9)
    assert b.id


def test_export_markdown_and_json(store: Store) -> None:
    import json

    h = store.history
    conv = h.create_conversation(title="Export me", system_prompt="Be brief.")
    q = h.add_message(conv.id, "user", "2+2?")
    h.add_message(conv.id, "assistant", "4", parent_id=q.id, reasoning="simple sum")
    md = export_conversation(h, conv.id, "md")
    assert md.startswith("# Export me") and "## You" in md and "4" in md and "simple sum" in md
    data = json.loads(export_conversation(h, conv.id, "json"))
    assert [m["content"] for m in data["messages"]] == ["2+2?", "4"]
    assert data["messages"][1]["reasoning"] == "simple sum"


def test_model_registry_default_follows_first_and_removal(store: Store) -> None:
    reg = store.models
    reg.add(ModelFile(name="one", path="/a.gguf"))
    reg.add(ModelFile(name="two", path="/b.gguf"))
    assert reg.default_name == "one"
    reg.set_default("two")
    assert reg.default().name == "two"  # type: ignore[union-attr]
    reg.remove("two")
    assert reg.default_name == "one"
    assert reg.find("/a.gguf").name == "one"  # type: ignore[union-attr]


def test_version_1_database_migrates_forward_keeping_data(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    conn = history_at_schema(path, 1)
    conn.execute("INSERT INTO models (name, path, added_at) VALUES ('old', '/old.gguf', 0)")
    conn.commit()
    conn.close()
    store = Store(path)
    assert store.db.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    model = store.models.get("old")
    assert model.kind == "chat" and model.path == "/old.gguf"
    store.close()


def test_embedding_models_are_not_offered_for_chat(store: Store) -> None:
    store.models.add(ModelFile(name="embed", path="/e.gguf", kind="embedding"))
    assert store.models.default() is None and store.models.default_name is None
    store.models.add(ModelFile(name="talker", path="/t.gguf"))
    assert store.models.default_name == "talker"
    assert [m.name for m in store.models.chat_models()] == ["talker"]
    with pytest.raises(ValueError, match="embedding"):
        store.models.set_default("embed")
