"""Before a download starts: which files, from where, into which paths, and is there room."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from desktop.library.errors import NotEnoughSpaceError
from desktop.library.filenames import local_path, split_part_names
from desktop.library.hub import HubClient
from desktop.library.jobs import DownloadRequest
from desktop.library.network import hub_endpoint, import_hub
from desktop.library.transfer import PartFile, Target
from desktop.library.units import format_bytes
from desktop.store import ModelFile, Store


@dataclass(frozen=True)
class PlannedFile:
    target: Target
    final: Path
    revision: str  # the commit (or, for a Hub file asked for by branch, what the Hub resolved)


def disk_free(folder: Path) -> int:
    return shutil.disk_usage(folder).free


def installed_copy(store: Store, request: DownloadRequest) -> ModelFile | None:
    """The registered model this request would produce, if it is already on disk."""
    for model in store.models.all():
        same = model.repo_id == request.repo_id and model.filename == request.key[1]
        if same and Path(model.path).exists():
            return model
    return None


def plan_download(request: DownloadRequest, hub: HubClient, models_dir: Path) -> list[PlannedFile]:
    """Catalog requests know their files; Hub requests ask the Hub (sizes, hashes, the commit)."""
    if request.known_files:
        hf = import_hub()
        revision = request.revision or "main"
        files = [(f.filename, f.size_bytes, f.sha256) for f in request.known_files]
        urls = [
            hf.hf_hub_url(request.repo_id, name, revision=revision, endpoint=hub_endpoint())
            for name, _, _ in files
        ]
    else:
        model = hub.resolve(request.repo_id, request.filename, request.revision)
        revision = model.parts[0].revision
        files = [(p.filename, p.size_bytes, p.sha256) for p in model.parts]  # type: ignore[misc]
        urls = [p.url for p in model.parts]
    plan = []
    for (filename, size, sha256), url in zip(files, urls, strict=True):
        # A known hash names the bytes whatever the commit; without one, the commit must match.
        identity = {
            "repo_id": request.repo_id,
            "filename": filename,
            "size": size,
            "sha256": sha256,
        }
        if not sha256:
            identity["revision"] = revision
        plan.append(
            PlannedFile(
                Target(url, size, sha256, identity),
                local_path(models_dir, request.repo_id, filename),
                revision,
            )
        )
    return plan


def bytes_still_needed(plan: list[PlannedFile]) -> int:
    """What is left to fetch, counting resumable parts and finished files already on disk."""
    needed = 0
    for item in plan:
        if item.final.exists():
            continue
        meta = PartFile.read_meta(PartFile(item.final).meta_path) or {}
        have = int(meta.get("committed", 0)) if meta.get("identity") == item.target.identity else 0
        needed += max(0, (item.target.size or 0) - have)
    return needed


def check_space(
    plan: list[PlannedFile], models_dir: Path, name: str, free: int, margin: int
) -> None:
    needed = bytes_still_needed(plan)
    if needed + margin > free:
        raise NotEnoughSpaceError(
            f"Not enough disk space for {name}: it needs {format_bytes(needed)} more, but only "
            f"{format_bytes(free)} is free in {models_dir}. "
            "Free some space, or choose another models folder in Settings."
        )


def unfinished_downloads(models_dir: Path) -> list[tuple[DownloadRequest, int, int]]:
    """(request, bytes on disk, total size) for each download whose .part files are still here."""
    found: dict[tuple[str, str], tuple[DownloadRequest, int, int]] = {}
    for meta_path in sorted(models_dir.rglob("*.part.json")):
        meta = PartFile.read_meta(meta_path) or {}
        try:
            request = DownloadRequest.from_json(meta["job"])
            part_size = int(meta["identity"].get("size") or 0)
        except (KeyError, TypeError, ValueError, AttributeError):
            continue  # a damaged sidecar: its part is simply started afresh when asked for
        _, done, size = found.get(request.key, (request, 0, 0))
        found[request.key] = (request, done + int(meta.get("committed", 0)), size + part_size)
    return list(found.values())


def discard_parts(models_dir: Path, request: DownloadRequest) -> None:
    """Delete the .part files (and sidecars) of every file of a download."""
    names = [f.filename for f in request.known_files] or [request.filename]
    for name in {n for first in names for n in split_part_names(first)}:
        PartFile(local_path(models_dir, request.repo_id, name)).discard()
