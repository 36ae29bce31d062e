"""Noticing changes in watched folders while the app runs, by polling.

Polling (a stat() walk every few seconds) works the same on every system and on network
and removable drives, where change notifications are unreliable; the walk costs
milliseconds for folders of a few thousand files.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from desktop.documents.index import DocumentIndex
from desktop.documents.scan import scan

log = logging.getLogger("openweight.documents")

POLL_SECONDS = 5.0


def changed_collections(index: DocumentIndex) -> list[str]:
    """Collections whose files on disk differ from what the index holds."""
    changed = []
    for collection in index.collections():
        found = scan(collection.paths)
        records = index.files(collection.id)
        indexed = {p: (r.size, r.mtime_ns) for p, r in records.items() if r.state == "indexed"}
        skipped = {p for p, r in records.items() if r.state == "skipped"}
        now = {p: (f.size, f.mtime_ns) for p, f in found.files.items()}
        gone = {p for p in indexed if p not in now
                and not any(p.startswith(root) for root in found.missing_roots)}
        new_or_changed = {p for p, stamp in now.items()
                          if indexed.get(p) != stamp and not (
                              p in skipped and records[p].mtime_ns == stamp[1])}
        if gone or new_or_changed:
            changed.append(collection.name)
    return changed


class Watcher:
    """A daemon thread calling on_change(names) when watched collections change on disk.

    on_change runs in the watcher's thread; the window turns it into a signal and starts an
    IndexJob. While a job runs, call pause_checks()/resume_checks() to avoid double work.
    """

    def __init__(self, index_path: Path | str, on_change: Callable[[list[str]], None],
                 interval: float = POLL_SECONDS) -> None:
        self.index_path = index_path
        self.on_change = on_change
        self.interval = interval
        self._stop = threading.Event()
        self._quiet = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="documents-watcher", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def pause_checks(self) -> None:
        self._quiet.set()

    def resume_checks(self) -> None:
        self._quiet.clear()

    def check_now(self) -> list[str]:
        index = DocumentIndex(self.index_path)
        try:
            return changed_collections(index)
        finally:
            index.close()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            if self._quiet.is_set():
                continue
            try:
                changed = self.check_now()
            except Exception:  # noqa: BLE001 - a failed poll is retried at the next tick
                log.exception("checking watched folders failed")
                continue
            if changed and not self._stop.is_set():
                self.on_change(changed)
