"""Moving one file's bytes: a resumable .part file and an HTTP Range transfer that survives faults.

The .part file sits next to where the model will live, with a sidecar (.part.json) naming
exactly which remote file it holds and how many bytes of it are known to be on disk (fsynced).
A crash, kill -9 or reboot therefore loses at most a couple of seconds of download.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from desktop.library.errors import (
    DiskFullError,
    DownloadInterrupted,
    HubNotFoundError,
    LibraryError,
    NetworkError,
    VerificationError,
)
from desktop.library.units import format_bytes

log = logging.getLogger("openweight.library.transfer")

_RETRY_STATUSES = {408, 425, 429, 500, 502, 503, 504}
_HASH_BLOCK = 8 * 1024 * 1024


@dataclass(frozen=True)
class TransferSettings:
    connect_timeout: float = 20.0
    read_timeout: float = 30.0  # no byte for this long counts as a dropped connection
    max_attempts: int = 8  # failures in a row, without a byte of progress, before giving up
    backoff_base: float = 1.0
    backoff_max: float = 30.0
    commit_bytes: int = 16 * 1024 * 1024  # fsync + record progress this often...
    commit_seconds: float = 2.0  # ...or this often, whichever comes first
    free_space_margin: int = 100_000_000  # keep this much disk free after a download


@dataclass(frozen=True)
class Target:
    """One remote file, identified well enough that a part of another version is never resumed."""

    url: str
    size: int | None
    sha256: str | None
    identity: dict[str, Any]


class Control:
    """Pause/cancel requests for the running transfer, set from any thread."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.request: str | None = None  # "paused" or "cancelled"

    def ask(self, what: str) -> None:
        self.request = what
        self._event.set()

    def reset(self) -> None:
        self.request = None
        self._event.clear()

    def check(self) -> None:
        if self.request:
            raise DownloadInterrupted(self.request)

    def sleep(self, seconds: float) -> None:
        self._event.wait(seconds)
        self.check()


class PartFile:
    """final.gguf.part + final.gguf.part.json."""

    def __init__(self, final: Path, settings: TransferSettings | None = None) -> None:
        self.final = final
        self.settings = settings or TransferSettings()
        self.part = final.with_name(final.name + ".part")
        self.meta_path = final.with_name(final.name + ".part.json")
        self.meta: dict[str, Any] = {}
        self._fh: IO[bytes] | None = None
        self._last_commit = (0, 0.0)

    @staticmethod
    def read_meta(meta_path: Path) -> dict[str, Any] | None:
        try:
            data = json.loads(meta_path.read_text("utf-8"))
            return data if isinstance(data, dict) else None
        except (OSError, ValueError):
            return None

    @property
    def offset(self) -> int:
        return self._fh.tell() if self._fh else int(self.meta.get("committed", 0))

    def open(self, identity: dict[str, Any], job: dict[str, Any]) -> int:
        """Open for writing and return where to resume; a part of another file version is dropped."""
        self.final.parent.mkdir(parents=True, exist_ok=True)
        old = self.read_meta(self.meta_path)
        offset = 0
        if old and old.get("identity") == identity and self.part.exists():
            offset = min(int(old.get("committed", 0)), self.part.stat().st_size)
        elif self.part.exists() or old:
            log.info("discarding %s: it holds a different version of the file", self.part)
        self._fh = open(self.part, "r+b" if self.part.exists() else "w+b")  # noqa: SIM115
        self._fh.truncate(offset)  # bytes past the last fsync may be garbage after a power cut
        self._fh.seek(offset)
        self.meta = {"format": 1, "identity": identity, "job": job, "committed": offset}
        self.commit(force=True)
        return offset

    def write(self, data: bytes) -> None:
        assert self._fh is not None
        try:
            self._fh.write(data)
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
                raise DiskFullError(
                    f"The disk is full: the download stopped after {format_bytes(self.offset)}. "
                    f"Free some space on the drive holding {self.final.parent}, then resume; "
                    "what was downloaded so far is kept."
                ) from exc
            raise LibraryError(f"Could not write to {self.part}: {exc.strerror or exc}.") from exc
        self.commit()

    def commit(self, force: bool = False) -> None:
        """Make the bytes so far durable, then record how many there are (in that order)."""
        if self._fh is None:
            return
        settings = self.settings
        position, when = self._last_commit
        now = time.monotonic()
        here = self._fh.tell()
        if (
            not force
            and here - position < settings.commit_bytes
            and now - when < settings.commit_seconds
        ):
            return
        try:
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self.meta["committed"] = here
            tmp = self.meta_path.with_name(self.meta_path.name + ".tmp")
            tmp.write_text(json.dumps(self.meta), "utf-8")
            os.replace(tmp, self.meta_path)
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
                raise DiskFullError(
                    f"The disk is full. Free some space on the drive holding {self.final.parent}, "
                    "then resume the download."
                ) from exc
            raise
        self._last_commit = (here, now)

    def restart(self) -> None:
        assert self._fh is not None
        self._fh.seek(0)
        self._fh.truncate(0)
        self.commit(force=True)

    def close(self) -> None:
        if self._fh is not None:
            try:
                self.commit(force=True)
            finally:
                self._fh.close()
                self._fh = None

    def finish(self) -> Path:
        """Move the completed part into place."""
        self.close()
        os.replace(self.part, self.final)
        self.meta_path.unlink(missing_ok=True)
        return self.final

    def discard(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        for path in (self.part, self.meta_path):
            path.unlink(missing_ok=True)


def hash_file(path: Path, length: int, control: Control, on_bytes: Callable[[int], None]) -> Any:
    """SHA-256 of the first length bytes, as a hashlib object that can carry on."""
    digest = hashlib.sha256()
    done = 0
    with path.open("rb") as fh:
        while done < length:
            control.check()
            block = fh.read(min(_HASH_BLOCK, length - done))
            if not block:
                break
            digest.update(block)
            done += len(block)
            on_bytes(done)
    return digest


class _Retry(Exception):
    pass


def fetch(
    client: Any,
    target: Target,
    part: PartFile,
    control: Control,
    on_bytes: Callable[[int], None],
    settings: TransferSettings,
) -> str:
    """Fill the open part file from target.url, resuming at part.offset; return the file's SHA-256."""
    offset = part.offset
    digest = hash_file(part.part, offset, control, lambda n: None) if offset else hashlib.sha256()
    failures = 0
    while target.size is None or offset < target.size:
        control.check()
        headers = {"Accept-Encoding": "identity"}
        if offset:
            headers["Range"] = f"bytes={offset}-"
        try:
            with client.stream("GET", target.url, headers=headers) as response:
                start = _starting_point(response, offset, target)
                if start == 0 and offset:
                    log.warning(
                        "server ignored the Range request; starting %s again", part.final.name
                    )
                    part.restart()
                    digest, offset = hashlib.sha256(), 0
                    on_bytes(0)
                for chunk in response.iter_bytes():
                    control.check()
                    part.write(chunk)
                    digest.update(chunk)
                    offset += len(chunk)
                    failures = 0
                    on_bytes(offset)
                    if target.size is not None and offset > target.size:
                        part.restart()
                        raise NetworkError(
                            "The server sent more data than the file should hold. Try again later."
                        )
            if target.size is None:
                break
        except LibraryError:
            raise
        except Exception as exc:
            if not isinstance(exc, _Retry) and not _is_transport_error(exc):
                raise
            failures += 1
            part.commit(force=True)
            if failures >= settings.max_attempts:
                raise NetworkError(
                    f"The connection kept failing ({exc or type(exc).__name__}). "
                    f"{format_bytes(offset)} downloaded so far is kept: resume when the connection is back."
                ) from exc
            delay = min(settings.backoff_max, settings.backoff_base * 2 ** (failures - 1))
            log.info("download interrupted (%s); retry %d in %.1fs", exc, failures, delay)
            control.sleep(delay)
    part.commit(force=True)
    return str(digest.hexdigest())


def _starting_point(response: Any, offset: int, target: Target) -> int:
    """Where the body of this response starts in the file (0: start again from scratch).

    Raises for answers not worth reading: _Retry for passing trouble, LibraryError otherwise.
    """
    status = response.status_code
    if status == 206:
        match = re.match(r"bytes (\d+)-\d+/(\d+|\*)", response.headers.get("Content-Range", ""))
        if not match or int(match.group(1)) != offset:
            raise _Retry(f"unexpected Content-Range {response.headers.get('Content-Range')!r}")
        if match.group(2).isdigit():
            _check_size(int(match.group(2)), target)
        return offset
    if status == 200:
        length = response.headers.get("Content-Length", "")
        if length.isdigit():
            _check_size(int(length), target)
        return 0
    if status == 416:  # nothing left to send, or the remote file is shorter than our part
        return offset if target.size is not None and offset >= target.size else 0
    if status in _RETRY_STATUSES:
        raise _Retry(f"HTTP {status}")
    if status in (401, 403, 404, 410):
        raise HubNotFoundError(
            f"The file is no longer available on the Hub (HTTP {status}). "
            "It may have been removed or made private; look for another copy."
        )
    raise NetworkError(f"The Hub answered the download with an unexpected error (HTTP {status}).")


def _check_size(remote: int, target: Target) -> None:
    if target.size is not None and remote != target.size:
        raise VerificationError(
            f"The file on the Hub is {format_bytes(remote)}, not the {format_bytes(target.size)} "
            "it was listed with, so it was not downloaded. It may have just been replaced: "
            "list the repository's files again and retry."
        )


def _is_transport_error(exc: BaseException) -> bool:
    names = {cls.__name__ for cls in type(exc).__mro__}
    return "TransportError" in names or isinstance(exc, ConnectionError | TimeoutError)
