"""Indexing collections: incremental, one transaction per file, pausable, with progress.

An IndexJob runs in whatever thread calls run() (a worker in the window, the main thread in
the CLI) and opens its own database connection there. Each file's passages and vectors are
committed together, so a crash or kill -9 loses at most the files in flight, and the next
run skips every file already done (same size and date, or same content hash).
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from desktop.documents.embedder import Embedder
from desktop.documents.index import Collection, DocumentIndex, FileRecord
from desktop.documents.passages import Passage, document_text, estimate_tokens, split_passages
from desktop.documents.readers import SkipFile, read_document, size_problem
from desktop.documents.scan import FoundFile, ScanResult, scan

log = logging.getLogger("openweight.documents")

EMBED_BATCH = 64  # passages per embedding request, across small files


@dataclass
class IndexProgress:
    """What a progress bar shows; sent after every file and every embedding batch."""

    collection: str
    files_done: int
    files_total: int  # files that need work in this run (unchanged files are not counted)
    passages: int  # passages written in this run
    bytes_done: int
    bytes_total: int
    seconds_left: float | None
    current: str = ""
    state: str = "indexing"  # scanning, indexing, embedding, paused, done, cancelled


@dataclass
class IndexSummary:
    collection: str
    indexed: int = 0  # files read and indexed in this run
    unchanged: int = 0
    embedded: int = 0  # files given vectors without being read again
    removed: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # new problems in this run
    passages: int = 0
    bytes: int = 0
    seconds: float = 0.0
    cancelled: bool = False
    model: str | None = None
    missing_paths: list[str] = field(default_factory=list)


ProgressCallback = Callable[[IndexProgress], None]
EmbedderFor = Callable[[Collection], "Embedder | None"]


@dataclass
class _Work:
    found: FoundFile
    record: FileRecord | None
    sha256: str | None = None
    passages: list[Passage] = field(default_factory=list)
    reembed_only: bool = False
    passage_ids: list[int] = field(default_factory=list)


class IndexJob:
    """Brings the named collections (default: all) up to date with their folders."""

    def __init__(self, index_path: Path | str, names: list[str] | None = None,
                 embedder_for: EmbedderFor | None = None,
                 on_progress: ProgressCallback | None = None) -> None:
        self.index_path = index_path
        self.names = names
        self.embedder_for = embedder_for or (lambda c: None)
        self.on_progress = on_progress or (lambda p: None)
        self._running = threading.Event()
        self._running.set()
        self._cancelled = threading.Event()

    # -- control (any thread) ------------------------------------------------------------

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def cancel(self) -> None:
        self._cancelled.set()
        self._running.set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    # -- the work ------------------------------------------------------------------------

    def run(self) -> list[IndexSummary]:
        index = DocumentIndex(self.index_path)
        try:
            names = self.names or [c.name for c in index.collections()]
            summaries = []
            for name in names:
                if self.cancelled:
                    break
                summaries.append(self._run_collection(index, index.get(name)))
            return summaries
        finally:
            index.close()

    def _run_collection(self, index: DocumentIndex, collection: Collection) -> IndexSummary:
        started = time.monotonic()
        summary = IndexSummary(collection.name)
        self.on_progress(IndexProgress(collection.name, 0, 0, 0, 0, 0, None, state="scanning"))
        embedder = self.embedder_for(collection)
        if embedder is not None:
            summary.model = embedder.name
            if collection.model != embedder.name:
                index.set_model(collection.name, embedder.name)
        found = scan(collection.paths)
        summary.missing_paths = list(found.missing_roots)
        records = index.files(collection.id)
        work = self._plan(index, collection, found, records, embedder, summary)
        total_bytes = sum(w.found.size for w in work if not w.reembed_only)
        progress = IndexProgress(collection.name, 0, len(work), 0, 0, total_bytes, None)
        pending: list[_Work] = []
        for item in work:
            if not self._wait(progress):
                break
            progress.current = item.found.path
            if item.reembed_only:
                item.passage_ids, texts = _unzip(index.file_passages(item.record.id)) \
                    if item.record else ([], [])
                item.passages = [Passage(i, t, None, "", 0, 0, 0) for i, t in enumerate(texts)]
            else:
                self._read(index, collection, item, summary, embedder)
                progress.bytes_done += item.found.size
            if item.passages or item.reembed_only:
                pending.append(item)
            else:
                progress.files_done += 1
            # Without a model nothing gains from batching: each file commits at once.
            if embedder is None or sum(len(p.passages) for p in pending) >= EMBED_BATCH:
                self._flush(index, collection, pending, embedder, summary, progress, started)
                pending = []
            self._report(progress, started)
        if pending and not self.cancelled:
            self._flush(index, collection, pending, embedder, summary, progress, started)
        summary.cancelled = self.cancelled
        if not self.cancelled:
            index.mark_indexed(collection.id)
        summary.seconds = time.monotonic() - started
        progress.state = "cancelled" if self.cancelled else "done"
        progress.seconds_left = 0.0
        self.on_progress(progress)
        return summary

    def _plan(self, index: DocumentIndex, collection: Collection, found: ScanResult,
              records: dict[str, FileRecord], embedder: Embedder | None,
              summary: IndexSummary) -> list[_Work]:
        model = embedder.name if embedder else None
        work: list[_Work] = []
        for path, f in found.files.items():
            record = records.get(path)
            if record is None or record.size != f.size or record.mtime_ns != f.mtime_ns:
                work.append(_Work(f, record))
            elif record.state == "indexed" and model and record.model != model and record.passages:
                # Passages cut by an estimate (BM25 alone) are cut again in the model's own
                # tokens; those cut for another model are near enough to embed as they are.
                work.append(_Work(f, record, reembed_only=record.model is not None))
            else:
                summary.unchanged += 1
        for path, reason in found.problems.items():
            record = records.get(path)
            if record is None or record.reason != reason:
                summary.skipped.append((path, reason))
                index.skip_file(collection.id, path, 0, 0, reason)
        for path, record in records.items():
            if path in found.files or path in found.problems:
                continue
            if any(_under(path, root) for root in found.missing_roots):
                continue  # an unplugged drive: keep what was indexed until it comes back
            index.drop_file(collection.id, record.id)
            summary.removed += 1
        return work

    def _read(self, index: DocumentIndex, collection: Collection, item: _Work,
              summary: IndexSummary, embedder: Embedder | None) -> None:
        path = Path(item.found.path)
        try:
            before = path.stat()
            problem = size_problem(path, before.st_size)
            if problem:
                raise SkipFile(problem)  # before hashing: a 1 GB log is not even read once
            digest = _sha256(path)
            record = item.record
            # Passages cut by an estimate are cut again once a model can count their tokens.
            recut = embedder is not None and record is not None and record.model is None
            if (record is not None and record.sha256 == digest and record.state == "indexed"
                    and not (recut and record.passages)):
                # Same bytes under a new date: nothing to read again.
                index.touch_file(record.id, before.st_size, before.st_mtime_ns)
                if summary.model and record.model != summary.model and record.passages:
                    item.reembed_only = True
                    item.passage_ids, texts = _unzip(index.file_passages(record.id))
                    item.passages = [Passage(i, t, None, "", 0, 0, 0) for i, t in enumerate(texts)]
                else:
                    summary.unchanged += 1
                return
            document = read_document(path, before.st_size)
            after = path.stat()
            if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
                raise SkipFile("the file changed while it was being read; it will be read "
                               "again on the next pass")
            item.sha256 = digest
            item.found = FoundFile(item.found.path, before.st_size, before.st_mtime_ns,
                                   item.found.root)
            count = embedder.counter_for(document_text(document)) if embedder else estimate_tokens
            item.passages = split_passages(document, count=count)
        except SkipFile as exc:
            reason = str(exc)
            # A file that changed mid-read gets no date, so the next pass reads it again.
            stamp = -1 if "changed while" in reason else item.found.mtime_ns
            index.skip_file(collection.id, item.found.path, item.found.size, stamp, reason)
            summary.skipped.append((item.found.path, reason))
        except FileNotFoundError:
            if not Path(item.found.root).exists():
                summary.missing_paths.append(item.found.root)
            elif item.record is not None:
                index.drop_file(collection.id, item.record.id)  # deleted while we worked
                summary.removed += 1
        except OSError as exc:
            reason = ("Openweight is not allowed to read this (permission denied)"
                      if isinstance(exc, PermissionError) else f"cannot be read: {exc.strerror or exc}")
            index.skip_file(collection.id, item.found.path, item.found.size,
                            item.found.mtime_ns, reason)
            summary.skipped.append((item.found.path, reason))
        except Exception as exc:  # noqa: BLE001 - one odd file must not stop the rest
            log.exception("reading %s failed", path)
            reason = f"could not be read ({type(exc).__name__}: {exc})"
            index.skip_file(collection.id, item.found.path, item.found.size,
                            item.found.mtime_ns, reason)
            summary.skipped.append((item.found.path, reason))

    def _flush(self, index: DocumentIndex, collection: Collection, pending: list[_Work],
               embedder: Embedder | None, summary: IndexSummary, progress: IndexProgress,
               started: float) -> None:
        vectors: np.ndarray | None = None
        if embedder is not None:
            texts = [p.text for item in pending for p in item.passages]
            progress.state = "embedding"
            self._report(progress, started)
            vectors = embedder.documents(texts)
            progress.state = "indexing"
        offset = 0
        for item in pending:
            count = len(item.passages)
            blobs = ([vectors[offset + i].astype("<f4").tobytes() for i in range(count)]
                     if vectors is not None else None)
            offset += count
            if item.reembed_only and item.record is not None:
                if blobs is not None and embedder is not None:
                    index.set_vectors(collection.id, item.record.id,
                                      list(zip(item.passage_ids, blobs, strict=True)),
                                      embedder.name)
                    summary.embedded += 1
            else:
                f = item.found
                index.save_file(collection.id, f.path, f.size, f.mtime_ns, item.sha256,
                                item.passages, blobs, embedder.name if embedder else None)
                summary.indexed += 1
                summary.bytes += f.size
            summary.passages += count
            progress.passages += count
            progress.files_done += 1

    def _wait(self, progress: IndexProgress) -> bool:
        """Blocks while paused (saying so once); False once cancelled."""
        if not self._running.is_set():
            progress.state = "paused"
            self.on_progress(progress)
            while not self._running.wait(0.2):
                pass
            progress.state = "indexing"
        return not self.cancelled

    def _report(self, progress: IndexProgress, started: float) -> None:
        elapsed = time.monotonic() - started
        left_files = progress.files_total - progress.files_done
        if progress.bytes_done and progress.bytes_total:
            rate = progress.bytes_done / max(elapsed, 1e-6)
            progress.seconds_left = max(0.0, (progress.bytes_total - progress.bytes_done) / rate)
        elif progress.files_done:
            progress.seconds_left = left_files * elapsed / progress.files_done
        self.on_progress(progress)


def _unzip(rows: list[tuple[int, str]]) -> tuple[list[int], list[str]]:
    return [r[0] for r in rows], [r[1] for r in rows]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)
