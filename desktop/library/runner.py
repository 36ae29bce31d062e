"""Running one planned download: fetch each file, verify its SHA-256, move it into place."""

from __future__ import annotations

import logging
from typing import Any, Protocol

from desktop.library.errors import VerificationError
from desktop.library.jobs import DownloadState
from desktop.library.network import USER_AGENT, http_module
from desktop.library.plan import PlannedFile
from desktop.library.transfer import Control, PartFile, TransferSettings, fetch, hash_file

log = logging.getLogger("openweight.library.downloads")


class Reporter(Protocol):
    def state(self, state: DownloadState, message: str) -> None: ...

    def progress(self, done: int) -> None: ...


def http_client(settings: TransferSettings) -> Any:
    httpx = http_module()
    return httpx.Client(
        follow_redirects=True,
        timeout=httpx.Timeout(settings.read_timeout, connect=settings.connect_timeout),
        headers={"User-Agent": USER_AGENT},
        trust_env=True,
    )


def download_files(
    plan: list[PlannedFile],
    job_meta: dict[str, Any],
    control: Control,
    report: Reporter,
    settings: TransferSettings,
) -> None:
    """Fetch every file of the plan in turn; raises DownloadInterrupted on pause or cancel."""
    before = 0
    client = http_client(settings)
    try:
        for item in plan:
            if not (item.final.exists() and _already_there(item, before, control, report)):
                _download_one(item, before, job_meta, control, report, settings, client)
            before += item.target.size or item.final.stat().st_size
    finally:
        client.close()


def _download_one(
    item: PlannedFile,
    before: int,
    job_meta: dict[str, Any],
    control: Control,
    report: Reporter,
    settings: TransferSettings,
    client: Any,
) -> None:
    part = PartFile(item.final, settings)
    try:
        offset = part.open(item.target.identity, job_meta)
        report.state(
            DownloadState.DOWNLOADING,
            "Checking the part downloaded earlier" if offset else "Downloading",
        )
        report.progress(before + offset)

        def progress(done: int) -> None:
            report.progress(before + done)

        try:
            digest = fetch(client, item.target, part, control, progress, settings)
        except VerificationError:
            part.discard()  # the bytes belong to some other file: nothing worth resuming
            raise
        report.state(DownloadState.VERIFYING, "Verifying")
        _verify(item, part, digest)
        part.finish()
    finally:
        part.close()


def _already_there(item: PlannedFile, before: int, control: Control, report: Reporter) -> bool:
    """A finished file from an earlier run is kept if it checks out (and fetched again if not)."""
    report.state(DownloadState.VERIFYING, "Checking the file already downloaded")
    size = item.final.stat().st_size
    if item.target.size is not None and size != item.target.size:
        return False
    digest = hash_file(item.final, size, control, lambda n: report.progress(before + n))
    return not item.target.sha256 or digest.hexdigest() == item.target.sha256


def _verify(item: PlannedFile, part: PartFile, digest: str) -> None:
    size = part.part.stat().st_size
    expected = item.target.sha256
    if (item.target.size is not None and size != item.target.size) or (
        expected and digest != expected
    ):
        part.discard()
        raise VerificationError(
            f"{item.final.name} did not match its expected SHA-256 checksum, so it was deleted "
            "and not added to your models. The data was damaged on the way: download it again."
        )
    if not expected:
        log.warning("%s has no published SHA-256; recorded %s", item.final.name, digest)
