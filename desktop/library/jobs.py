"""What a download is: the request, its state, and the progress reported to the window and CLI."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from desktop.library.filenames import model_name_for, split_part_names
from desktop.library.transfer import Control

if TYPE_CHECKING:
    from desktop.library.catalog import CatalogEntry
    from desktop.store import ModelFile


class DownloadState(StrEnum):
    QUEUED = "queued"
    STARTING = "starting"
    DOWNLOADING = "downloading"
    VERIFYING = "verifying"
    PAUSED = "paused"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


RUNNING = frozenset({DownloadState.STARTING, DownloadState.DOWNLOADING, DownloadState.VERIFYING})
FINISHED = frozenset({DownloadState.COMPLETED, DownloadState.FAILED, DownloadState.CANCELLED})


@dataclass(frozen=True)
class KnownFile:
    filename: str
    size_bytes: int
    sha256: str


@dataclass(frozen=True)
class DownloadRequest:
    """What to fetch. Catalog requests carry their files' sizes and hashes, so need no listing."""

    repo_id: str
    filename: str
    revision: str | None = None
    name: str | None = None
    source: str = "hub"
    known_files: tuple[KnownFile, ...] = ()
    reasoning_style: str | None = None
    kind: str = "chat"

    @classmethod
    def from_catalog(cls, entry: CatalogEntry) -> DownloadRequest:
        return cls(
            repo_id=entry.repo_id,
            filename=entry.filename,
            revision=entry.revision,
            name=entry.name,
            source="catalog",
            known_files=tuple(KnownFile(f.filename, f.size_bytes, f.sha256) for f in entry.files),
            reasoning_style=entry.reasoning_style,
            kind=entry.kind,
        )

    @property
    def display_name(self) -> str:
        return self.name or model_name_for(self.filename)

    @property
    def key(self) -> tuple[str, str]:
        """(repository, first file): any part of a split model names the same download."""
        return (self.repo_id, split_part_names(self.filename)[0])

    def to_json(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data["known_files"] = [f.__dict__ for f in self.known_files]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DownloadRequest:
        return cls(
            repo_id=str(data["repo_id"]),
            filename=str(data["filename"]),
            revision=data.get("revision"),
            name=data.get("name"),
            source=data.get("source") or "hub",
            known_files=tuple(KnownFile(**f) for f in data.get("known_files") or []),
            reasoning_style=data.get("reasoning_style"),
            kind=data.get("kind") or "chat",
        )


@dataclass(frozen=True)
class DownloadProgress:
    """A snapshot of one download, safe to hand to another thread."""

    job_id: int
    name: str
    repo_id: str
    filename: str
    state: DownloadState
    downloaded_bytes: int
    total_bytes: int | None
    speed_bps: float
    eta_seconds: float | None
    message: str
    model: ModelFile | None = None

    @property
    def fraction(self) -> float | None:
        if not self.total_bytes:
            return None
        return min(1.0, self.downloaded_bytes / self.total_bytes)

    @property
    def finished(self) -> bool:
        return self.state in FINISHED


class SpeedMeter:
    """Average speed over the last few seconds, so the estimate neither jumps nor lags."""

    def __init__(self, window: float = 5.0) -> None:
        self.window = window
        self.samples: deque[tuple[float, int]] = deque()

    def add(self, done: int, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        if self.samples and done < self.samples[-1][1]:
            self.samples.clear()  # restarted from an earlier point
        self.samples.append((now, done))
        while len(self.samples) > 2 and now - self.samples[0][0] > self.window:
            self.samples.popleft()

    def reset(self) -> None:
        self.samples.clear()

    @property
    def speed(self) -> float:
        if len(self.samples) < 2:
            return 0.0
        (t0, b0), (t1, b1) = self.samples[0], self.samples[-1]
        return (b1 - b0) / (t1 - t0) if t1 > t0 else 0.0


@dataclass
class Job:
    """The manager's mutable record of one download (only touched under the manager's lock)."""

    id: int
    request: DownloadRequest
    state: DownloadState = DownloadState.QUEUED
    downloaded: int = 0
    total: int | None = None
    message: str = "Waiting to start"
    model: ModelFile | None = None
    control: Control = field(default_factory=Control)
    meter: SpeedMeter = field(default_factory=SpeedMeter)

    def snapshot(self) -> DownloadProgress:
        speed = self.meter.speed if self.state == DownloadState.DOWNLOADING else 0.0
        eta = (self.total - self.downloaded) / speed if speed > 0 and self.total else None
        return DownloadProgress(
            job_id=self.id,
            name=self.request.display_name,
            repo_id=self.request.repo_id,
            filename=self.request.filename,
            state=self.state,
            downloaded_bytes=self.downloaded,
            total_bytes=self.total,
            speed_bps=speed,
            eta_seconds=eta,
            message=self.message,
            model=self.model,
        )
