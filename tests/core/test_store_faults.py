"""The history database under real faults: full, locked, damaged; backups and restore."""

from __future__ import annotations

import hashlib
import sqlite3
import time
from pathlib import Path

import pytest

from desktop.chat.session import ChatSession
from desktop.engine.engines import build_engines
from desktop.store import Store
from desktop.store.backups import back_up, backup_due, list_backups, restore
from desktop.store.errors import DamagedError, DiskFullError, LockedError, classify
from desktop.store.records import ChatSettings
from desktop.store.startup import open_at_startup


def fill(path: Path, chats: int = 3) -> dict[int, str]:
    """Chats with known text; returns message id -> content."""
    store = Store(path)
    saved = {}
    for n in range(chats):
        conv = store.history.create_conversation(title=f"chat {n}")
        parent = None
        for k in range(4):
            role = "user" if k % 2 == 0 else "assistant"
            msg = store.history.add_message(conv.id, role, f"chat {n} line {k} " + "words " * 50,
                                            parent_id=parent)
            saved[msg.id] = msg.content
            parent = msg.id
    store.close()
    return saved


def contents(path: Path) -> dict[int, str]:
    conn = sqlite3.connect(path)
    try:
        return dict(conn.execute("SELECT id, content FROM messages"))
    finally:
        conn.close()


def integrity(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


def test_bugs_are_not_dressed_up_as_user_errors(tmp_path: Path) -> None:
    store = Store(tmp_path / "h.sqlite3")
    with pytest.raises(sqlite3.OperationalError):  # a typo in our SQL stays a bug
        store.db.conn.execute("SELEKT 1")
    assert classify(sqlite3.OperationalError("no such table: x"), "") is None
    store.close()


def test_disk_full_while_an_answer_streams(tmp_path: Path, test_model_path: Path) -> None:
    from desktop.library.importing import import_model

    path = tmp_path / "h.sqlite3"
    saved = fill(path)
    store = Store(path)
    import_model(store, str(test_model_path))
    conv = store.history.create_conversation(settings=ChatSettings(temperature=0.0, max_tokens=400))
    engines = build_engines(store)
    session = ChatSession(store, engines)
    try:
        question = session.add_user_message(conv.id, "Write a very long story about a dragon.")
        # SQLite's own "disk is full" (SQLITE_FULL): the file may not grow by one more page.
        store.db.conn.execute("VACUUM")
        pages = store.db.conn.execute("PRAGMA page_count").fetchone()[0]
        store.db.conn.execute(f"PRAGMA max_page_count = {pages}")
        model = session.resolve_model(conv.id)
        with pytest.raises(DiskFullError, match="disk is full"):
            session.answer(conv.id, question, model)
    finally:
        engines.close()
        store.close()
    after = contents(path)
    assert {k: after.get(k) for k in saved} == saved  # nothing saved before is lost
    assert question.id in after
    assert integrity(path) == "ok"


def test_locked_by_another_program_says_so_and_reads_still_work(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    saved = fill(path, chats=1)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        store = Store(path, busy_timeout=0.3)
        assert len(store.history.conversations()) == 1  # WAL: reading is not blocked
        with pytest.raises(LockedError, match="another program"):
            store.history.create_conversation()
        store.close()
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert contents(path) == saved


def test_damaged_database_is_kept_aside_and_salvaged(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    saved = fill(path, chats=6)
    Store(path).db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(path.read_bytes())
    data[0:16] = b"this is garbage!"  # the header says it is no database at all
    page = 4096
    pages = len(data) // page
    data[(pages - 2) * page : (pages - 1) * page] = b"\xa5" * page  # and one page is noise
    path.write_bytes(bytes(data))
    digest = hashlib.sha256(bytes(data)).hexdigest()

    opened = open_at_startup(path)
    opened.store.close()
    recovery = opened.recovery
    assert recovery is not None and "damaged" in opened.notices[0]
    assert hashlib.sha256(recovery.kept_as.read_bytes()).hexdigest() == digest  # untouched
    after = contents(path)
    assert integrity(path) == "ok"
    recovered = {k: v for k, v in saved.items() if after.get(k) == v}
    # Only the rows on the one page of noise may be lost (a page holds about 12 of these).
    assert len(saved) - len(recovered) <= page // 300, sorted(recovered)
    assert recovery.salvaged["messages"] == len(after)
    # The recovered chats are whole again: searchable, and each shows a branch.
    store = Store(path)
    assert store.history.search("line")
    for conv in store.history.conversations():
        if store.history.message_count(conv.id):
            assert store.history.branch(conv.id)
    store.close()


def test_daily_backups_keep_seven_and_restore_keeps_the_current_aside(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    saved = fill(path, chats=1)
    assert backup_due(path)
    first = open_at_startup(path)
    first.store.close()
    assert len(list_backups(path)) == 1 and not backup_due(path)
    assert backup_due(path, now=time.time() + 25 * 3600)
    for _ in range(9):
        back_up(path)
    assert len(list_backups(path)) == 7
    newest = list_backups(path)[0]
    assert integrity(newest.path) == "ok" and contents(newest.path) == saved
    assert not Path(str(newest.path) + "-wal").exists()  # one file each

    store = Store(path)  # an open connection sees the restore, it is not swapped away
    store.history.delete_conversation(store.history.conversations()[0].id)
    assert contents(path) == {}
    kept = restore(path, newest.path)
    assert kept is not None and contents(kept) == {}
    assert contents(path) == saved
    assert len(store.history.conversations()) == 1
    store.close()

    with pytest.raises(DamagedError):
        junk = tmp_path / "junk.sqlite3"
        junk.write_bytes(b"nothing" * 100)
        restore(path, junk)
    assert contents(path) == saved


def test_damage_met_while_running_is_repaired_at_the_next_start(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    saved = fill(path, chats=8)
    store = Store(path)
    store.db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    conn = sqlite3.connect(path)
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'messages'").fetchone()[0]
    conn.close()
    data = bytearray(path.read_bytes())
    page = 4096
    data[(root - 1) * page + 100 : root * page] = b"\x5a" * (page - 100)  # the table, not the schema
    path.write_bytes(bytes(data))

    store = Store(path)  # opens: the schema still reads
    with pytest.raises(DamagedError, match="Restart Openweight"):
        store.history.messages(1)
    store.close()
    opened = open_at_startup(path, backups=False)
    opened.store.close()
    assert opened.recovery is not None and "damaged" in opened.notices[0]
    assert integrity(path) == "ok"
    assert opened.recovery.kept_as.read_bytes() == bytes(data)
    assert set(contents(path)) <= set(saved)
    again = open_at_startup(path, backups=False)  # repaired once, not at every start
    again.store.close()
    assert again.recovery is None
