"""The documents database: collections, their folders, files, passages, BM25 and vectors.

A separate SQLite file from the chat history (documents.sqlite3): indexing writes a lot and
may be thrown away and rebuilt without touching a single chat. Vectors are float32 BLOBs
beside the passages, searched with numpy: the standard sqlite3 module cannot load
extensions everywhere the app runs (sqlite-vec), and a full scan of 100k vectors takes a
few milliseconds.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from desktop.documents.passages import Passage

SCHEMA_VERSION = 2
# Files to read again when an index of an older version opens, because reading them improved
# since: version 2 joins PDF words hyphenated at line ends. Their passages stay searchable
# until the next indexing pass replaces them.
READ_AGAIN: dict[int, tuple[str, ...]] = {2: (".pdf",)}


class DocumentsError(Exception):
    """A problem with collections the user can act on (unknown name, bad folder...)."""


@dataclass
class Collection:
    id: int
    name: str
    model: str | None  # embedding model name; None: BM25 only until one is installed
    created_at: float
    indexed_at: float | None
    paths: list[str] = field(default_factory=list)


@dataclass
class FileRecord:
    id: int
    collection_id: int
    path: str
    size: int
    mtime_ns: int
    sha256: str | None
    state: str  # "indexed" or "skipped"
    reason: str | None
    passages: int
    model: str | None  # the embedding model of its vectors; None: no vectors
    indexed_at: float


@dataclass
class CollectionStatus:
    """What the window's Documents page and `docs list` show for one collection."""

    name: str
    model: str | None
    paths: list[str]
    files: int
    passages: int
    embedded_passages: int
    indexed_at: float | None
    skipped: list[tuple[str, str]]  # (path, reason)
    missing_paths: list[str]  # folders or files that are not there now (unplugged drive?)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "model": self.model, "paths": self.paths, "files": self.files,
                "passages": self.passages, "embedded_passages": self.embedded_passages,
                "indexed_at": self.indexed_at, "missing_paths": self.missing_paths,
                "skipped": [{"path": p, "reason": r} for p, r in self.skipped]}


_SCHEMA = """
CREATE TABLE IF NOT EXISTS collections (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    model TEXT,
    created_at REAL NOT NULL,
    indexed_at REAL,
    generation INTEGER NOT NULL DEFAULT 0  -- bumped on every change, so caches know
);
CREATE TABLE IF NOT EXISTS roots (
    collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
    path TEXT NOT NULL,
    PRIMARY KEY (collection_id, path)
);
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY,
    collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
    path TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    sha256 TEXT,
    state TEXT NOT NULL,
    reason TEXT,
    passages INTEGER NOT NULL DEFAULT 0,
    model TEXT,
    indexed_at REAL NOT NULL,
    UNIQUE (collection_id, path)
);
CREATE TABLE IF NOT EXISTS passages (
    id INTEGER PRIMARY KEY,
    file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
    collection_id INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    text TEXT NOT NULL,
    page INTEGER,
    heading TEXT NOT NULL DEFAULT '',
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    tokens INTEGER NOT NULL,
    vector BLOB
);
CREATE INDEX IF NOT EXISTS passages_file ON passages(file_id, seq);
CREATE INDEX IF NOT EXISTS passages_collection ON passages(collection_id);
CREATE VIRTUAL TABLE IF NOT EXISTS passages_fts USING fts5(
    text, heading, content='passages', content_rowid='id', tokenize='porter unicode61'
);
CREATE TRIGGER IF NOT EXISTS passages_ai AFTER INSERT ON passages BEGIN
    INSERT INTO passages_fts(rowid, text, heading) VALUES (new.id, new.text, new.heading);
END;
CREATE TRIGGER IF NOT EXISTS passages_ad AFTER DELETE ON passages BEGIN
    INSERT INTO passages_fts(passages_fts, rowid, text, heading)
    VALUES ('delete', old.id, old.text, old.heading);
END;
"""


def _read_again(version: int) -> str:
    """SQL that makes the next pass read again the files an index of this version holds
    with an older reading (no date and no hash: nothing can pass for unchanged)."""
    if version == 0:  # a new index: nothing was read
        return ""
    suffixes = sorted({s for v, found in READ_AGAIN.items() if v > version for s in found})
    if not suffixes:
        return ""
    like = " OR ".join(f"path LIKE '%{suffix}'" for suffix in suffixes)  # ASCII: any case
    return f"UPDATE files SET mtime_ns = -1, sha256 = NULL WHERE ({like});"


def connect(path: Path | str) -> sqlite3.Connection:
    """Open (creating) the documents database; one connection per thread."""
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = sqlite3.connect(str(path), timeout=30.0, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=30000")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            conn.close()
            raise DocumentsError(
                f"The documents index at {path} was written by a newer version of Openweight. "
                "Update Openweight to use it; nothing was changed.")
        if version < SCHEMA_VERSION:
            conn.executescript("BEGIN IMMEDIATE;" + _SCHEMA + _read_again(version) +
                               f"PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;")
    except sqlite3.DatabaseError as exc:
        raise DocumentsError(
            f"The documents index at {path} cannot be read ({exc}). Delete it to rebuild it; "
            "your files are not touched.") from None
    return conn


class DocumentIndex:
    """Collections and their index through one connection (use one per thread)."""

    def __init__(self, path: Path | str) -> None:
        self.path = path
        self.conn = connect(path)

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    # -- collections ---------------------------------------------------------------------

    def create(self, name: str, paths: list[str], model: str | None = None) -> Collection:
        name = name.strip()
        if not name:
            raise DocumentsError("A collection needs a name.")
        if self.find(name) is not None:
            raise DocumentsError(f"There is already a collection called {name!r}.")
        with self.transaction():
            cur = self.conn.execute(
                "INSERT INTO collections (name, model, created_at) VALUES (?, ?, ?)",
                (name, model, time.time()))
            for p in paths:
                self.conn.execute("INSERT OR IGNORE INTO roots VALUES (?, ?)", (cur.lastrowid, p))
        return self.get(name)

    def add_paths(self, name: str, paths: list[str]) -> Collection:
        collection = self.get(name)
        with self.transaction():
            for p in paths:
                self.conn.execute("INSERT OR IGNORE INTO roots VALUES (?, ?)", (collection.id, p))
        return self.get(name)

    def remove_paths(self, name: str, paths: list[str]) -> Collection:
        """Stop indexing these folders/files; what was indexed from them leaves the index."""
        collection = self.get(name)
        with self.transaction():
            for p in paths:
                self.conn.execute("DELETE FROM roots WHERE collection_id = ? AND path = ?",
                                  (collection.id, p))
                prefix = p.rstrip("/\\") + "/"
                self.conn.execute(
                    "DELETE FROM files WHERE collection_id = ? AND (path = ? OR substr(path, 1, ?) = ?)",
                    (collection.id, p, len(prefix), prefix))
            self._bump(collection.id)
        return self.get(name)

    def find(self, name: str) -> Collection | None:
        row = self.conn.execute("SELECT * FROM collections WHERE name = ?", (name,)).fetchone()
        if row is None:
            row = self.conn.execute("SELECT * FROM collections WHERE lower(name) = lower(?)",
                                    (name,)).fetchone()
        return self._collection(row) if row else None

    def get(self, name: str) -> Collection:
        found = self.find(name)
        if found is None:
            known = ", ".join(c.name for c in self.collections()) or "none yet"
            raise DocumentsError(f"There is no collection called {name!r} (collections: {known}).")
        return found

    def collections(self) -> list[Collection]:
        rows = self.conn.execute("SELECT * FROM collections ORDER BY name").fetchall()
        return [self._collection(r) for r in rows]

    def delete(self, name: str) -> None:
        collection = self.get(name)
        with self.transaction():
            # passages carry no FK cascade into FTS; delete them first so the trigger runs
            self.conn.execute("DELETE FROM passages WHERE collection_id = ?", (collection.id,))
            self.conn.execute("DELETE FROM collections WHERE id = ?", (collection.id,))

    def set_model(self, name: str, model: str | None) -> None:
        self.conn.execute("UPDATE collections SET model = ? WHERE name = ?", (model, name))

    def mark_indexed(self, collection_id: int) -> None:
        self.conn.execute("UPDATE collections SET indexed_at = ? WHERE id = ?",
                          (time.time(), collection_id))

    def _collection(self, row: tuple[Any, ...]) -> Collection:
        paths = [r[0] for r in self.conn.execute(
            "SELECT path FROM roots WHERE collection_id = ? ORDER BY path", (row[0],))]
        return Collection(row[0], row[1], row[2], row[3], row[4], paths)

    def generation(self, collection_id: int) -> int:
        row = self.conn.execute("SELECT generation FROM collections WHERE id = ?",
                                (collection_id,)).fetchone()
        return int(row[0]) if row else -1

    def _bump(self, collection_id: int) -> None:
        self.conn.execute("UPDATE collections SET generation = generation + 1 WHERE id = ?",
                          (collection_id,))

    # -- files ---------------------------------------------------------------------------

    def files(self, collection_id: int) -> dict[str, FileRecord]:
        rows = self.conn.execute("SELECT * FROM files WHERE collection_id = ?", (collection_id,))
        return {r[2]: FileRecord(*r) for r in rows}

    def save_file(self, collection_id: int, path: str, size: int, mtime_ns: int,
                  sha256: str | None, passages: list[Passage], vectors: list[bytes] | None,
                  model: str | None) -> None:
        """Replace a file's passages in one transaction: all of it is indexed, or none."""
        with self.transaction():
            file_id = self._upsert_file(collection_id, path, size, mtime_ns, sha256, "indexed",
                                        None, len(passages), model if vectors else None)
            self.conn.execute("DELETE FROM passages WHERE file_id = ?", (file_id,))
            self.conn.executemany(
                'INSERT INTO passages (file_id, collection_id, seq, text, page, heading, start,'
                ' "end", tokens, vector) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
                [(file_id, collection_id, p.seq, p.text, p.page, p.heading, p.start, p.end,
                  p.tokens, vectors[i] if vectors else None) for i, p in enumerate(passages)])
            self._bump(collection_id)

    def skip_file(self, collection_id: int, path: str, size: int, mtime_ns: int,
                  reason: str) -> None:
        """Remember why a file was left out (so it is listed, and not read again unchanged)."""
        with self.transaction():
            file_id = self._upsert_file(collection_id, path, size, mtime_ns, None, "skipped",
                                        reason, 0, None)
            self.conn.execute("DELETE FROM passages WHERE file_id = ?", (file_id,))
            self._bump(collection_id)

    def touch_file(self, file_id: int, size: int, mtime_ns: int) -> None:
        """Same content, new date (a copy or a save without changes): no need to read it."""
        self.conn.execute("UPDATE files SET size = ?, mtime_ns = ? WHERE id = ?",
                          (size, mtime_ns, file_id))

    def set_vectors(self, collection_id: int, file_id: int, vectors: list[tuple[int, bytes]],
                    model: str) -> None:
        with self.transaction():
            self._bump(collection_id)
            self.conn.executemany("UPDATE passages SET vector = ? WHERE id = ?",
                                  [(v, pid) for pid, v in vectors])
            self.conn.execute("UPDATE files SET model = ? WHERE id = ?", (model, file_id))

    def drop_file(self, collection_id: int, file_id: int) -> None:
        with self.transaction():
            self._bump(collection_id)
            self.conn.execute("DELETE FROM passages WHERE file_id = ?", (file_id,))
            self.conn.execute("DELETE FROM files WHERE id = ?", (file_id,))

    def file_passages(self, file_id: int) -> list[tuple[int, str]]:
        return list(self.conn.execute(
            "SELECT id, text FROM passages WHERE file_id = ? ORDER BY seq", (file_id,)))

    def _upsert_file(self, collection_id: int, path: str, size: int, mtime_ns: int,
                     sha256: str | None, state: str, reason: str | None, passages: int,
                     model: str | None) -> int:
        self.conn.execute(
            "INSERT INTO files (collection_id, path, size, mtime_ns, sha256, state, reason,"
            " passages, model, indexed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (collection_id, path) DO UPDATE SET size = excluded.size,"
            " mtime_ns = excluded.mtime_ns, sha256 = excluded.sha256, state = excluded.state,"
            " reason = excluded.reason, passages = excluded.passages, model = excluded.model,"
            " indexed_at = excluded.indexed_at",
            (collection_id, path, size, mtime_ns, sha256, state, reason, passages, model,
             time.time()))
        row = self.conn.execute("SELECT id FROM files WHERE collection_id = ? AND path = ?",
                                (collection_id, path)).fetchone()
        return int(row[0])

    # -- status --------------------------------------------------------------------------

    def status(self, name: str) -> CollectionStatus:
        c = self.get(name)
        files, passages = self.conn.execute(
            "SELECT count(*), coalesce(sum(passages), 0) FROM files"
            " WHERE collection_id = ? AND state = 'indexed'", (c.id,)).fetchone()
        embedded = self.conn.execute(
            "SELECT count(*) FROM passages WHERE collection_id = ? AND vector IS NOT NULL",
            (c.id,)).fetchone()[0]
        skipped = [(r[0], r[1]) for r in self.conn.execute(
            "SELECT path, reason FROM files WHERE collection_id = ? AND state = 'skipped'"
            " ORDER BY path", (c.id,))]
        missing = [p for p in c.paths if not Path(p).exists()]
        return CollectionStatus(c.name, c.model, c.paths, files, passages, embedded,
                                c.indexed_at, skipped, missing)

    def embedded_models(self, collection_id: int) -> set[str]:
        return {r[0] for r in self.conn.execute(
            "SELECT DISTINCT model FROM files WHERE collection_id = ? AND model IS NOT NULL",
            (collection_id,))}

