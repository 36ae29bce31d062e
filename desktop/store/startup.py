"""Opening the history when a front end starts: damage recovered, the daily backup made."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from desktop.store import Store
from desktop.store.backups import back_up, backup_due
from desktop.store.errors import DamagedError, StoreError, check_marker
from desktop.store.recovery import Recovery, check, recover

log = logging.getLogger("openweight.store")


@dataclass
class Opened:
    store: Store
    notices: list[str] = field(default_factory=list)  # for the person, shown once at start-up
    recovery: Recovery | None = None


def open_at_startup(database: Path | str, backups: bool = True) -> Opened:
    """The store, after keeping a damaged file aside (salvaging what reads) and making the
    day's backup; raises StoreError for faults a person must fix first (read-only, locked)."""
    database = Path(database)
    recovery: Recovery | None = None
    failed = ""
    try:
        store = Store(database)
    except DamagedError as exc:
        recovery = recover(database, str(exc.__cause__ or exc))
        store = Store(database)
    marker = check_marker(database)
    if recovery is None and marker.exists():  # damage was met while the app ran
        problem = check(database)
        if problem:
            store.close()
            recovery = recover(database, problem)
            store = Store(database)
        marker.unlink(missing_ok=True)
    has_history = store.history.latest_conversation() is not None
    if backups and recovery is None and has_history and backup_due(database):
        # The backup reads every page anyway: check them first, so a backup is never a copy
        # of damage, and damage is found while the last good backup still exists.
        problem = check(database)
        if problem:
            store.close()
            recovery = recover(database, problem)
            store = Store(database)
        else:
            try:
                back_up(database)
            except StoreError as exc:
                log.warning("daily backup failed: %s", exc)
                failed = f"Today's backup of your history could not be made: {exc}"
    opened = Opened(store, recovery=recovery)
    if failed:
        opened.notices.append(failed)
    if recovery is not None:
        opened.notices.append(recovery.notice)
    interrupted = store.history.mark_interrupted()
    if interrupted:
        log.info("%d answers were interrupted when the app last closed", interrupted)
    return opened
