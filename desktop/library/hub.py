"""Searching the Hugging Face Hub for GGUF models and listing what a repository offers."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from desktop.library.errors import HubNotFoundError
from desktop.library.filenames import (
    is_gguf,
    is_projector,
    model_name_for,
    quantization_of,
    split_name,
    split_part_names,
)
from desktop.library.hardware import DEFAULT_CONTEXT, Fit, Machine, fit_for_size
from desktop.library.network import (
    OfflineCheck,
    describe_failure,
    ensure_online,
    ensure_reachable,
    hub_endpoint,
    import_hub,
    never_offline,
)


@dataclass(frozen=True)
class HubRepo:
    """A search result: one repository holding GGUF files."""

    repo_id: str
    downloads: int
    likes: int
    last_modified: datetime | None


@dataclass(frozen=True)
class RemoteFile:
    """One file in a repository at a fixed revision, as the Hub describes it."""

    repo_id: str
    filename: str
    revision: str
    size_bytes: int | None
    sha256: str | None
    url: str


@dataclass(frozen=True)
class HubModelFile:
    """One downloadable model: a single .gguf, or all parts of a split one."""

    name: str
    quantization: str | None
    parts: tuple[RemoteFile, ...]

    @property
    def filename(self) -> str:
        return self.parts[0].filename

    @property
    def is_split(self) -> bool:
        return len(self.parts) > 1

    @property
    def size_bytes(self) -> int | None:
        sizes = [p.size_bytes for p in self.parts]
        return None if any(s is None for s in sizes) else sum(s or 0 for s in sizes)

    def fit(
        self, machine: Machine | None = None, context_length: int = DEFAULT_CONTEXT
    ) -> Fit | None:
        size = self.size_bytes
        if not size:
            return None
        total, active = moe_parameters(self.name)
        return fit_for_size(
            size, context_length, machine, parameters=total, active_parameters=active
        )


def moe_parameters(name: str) -> tuple[int | None, int | None]:
    """A mixture of experts named the usual way, 'Qwen3-30B-A3B': (30e9, 3e9); else (None, None)."""
    match = re.search(r"(\d+(?:\.\d+)?)B-A(\d+(?:\.\d+)?)B(?![a-z0-9])", name, re.I)
    if not match:
        return None, None
    return int(float(match.group(1)) * 1e9), int(float(match.group(2)) * 1e9)


@dataclass(frozen=True)
class RepoListing:
    repo_id: str
    revision: str  # the commit the listing was taken at; downloads pin it
    models: tuple[HubModelFile, ...]
    projectors: tuple[HubModelFile, ...]
    incomplete_splits: tuple[str, ...]  # split sets with parts missing, shown but not offered

    def by_quantization(self) -> dict[str, list[HubModelFile]]:
        groups: dict[str, list[HubModelFile]] = {}
        for model in self.models:
            groups.setdefault(model.quantization or "other", []).append(model)
        return groups

    def find(self, filename: str) -> HubModelFile | None:
        """By any part's file name or by the model's name."""
        for model in self.models + self.projectors:
            if filename == model.name or any(filename == p.filename for p in model.parts):
                return model
        return None


def recommend(
    models: Iterable[HubModelFile],
    machine: Machine | None = None,
    context_length: int = DEFAULT_CONTEXT,
) -> HubModelFile | None:
    """The largest file that runs well here (or, failing that, the largest that is tight)."""
    sized = [(m, m.fit(machine, context_length)) for m in models if m.size_bytes]
    for level in ("runs_well", "tight"):
        fitting = [m for m, fit in sized if fit and fit.level == level]
        if fitting:
            return max(fitting, key=lambda m: m.size_bytes or 0)
    return None


class HubClient:
    """Read-only Hub queries. Each method checks offline mode before anything touches the network."""

    def __init__(self, is_offline: OfflineCheck = never_offline, timeout: float = 20.0) -> None:
        self.is_offline = is_offline
        self.timeout = timeout

    def _api(self) -> Any:
        hub = import_hub()
        return hub.HfApi(endpoint=hub_endpoint(), library_name="openweight", token=False)

    def search(self, query: str, limit: int = 30) -> list[HubRepo]:
        """GGUF repositories matching query, most downloaded first."""
        ensure_online(self.is_offline, "search the Hub")
        ensure_reachable("search the Hub")
        try:
            found = self._api().list_models(
                search=query.strip() or None,
                filter="gguf",
                sort="downloads",
                limit=limit,
                expand=["downloads", "likes", "lastModified"],
            )
            return [
                HubRepo(info.id, info.downloads or 0, info.likes or 0, info.last_modified)
                for info in found
            ]
        except Exception as exc:
            raise describe_failure(exc, "search the Hub") from exc

    def list_files(self, repo_id: str, revision: str | None = None) -> RepoListing:
        """The repository's GGUF files with sizes and SHA-256, split parts gathered into one model."""
        ensure_online(self.is_offline, "list the repository's files")
        ensure_reachable(f"list the files of {repo_id}")
        hub = import_hub()
        try:
            info = self._api().model_info(
                repo_id, revision=revision, files_metadata=True, timeout=self.timeout
            )
        except Exception as exc:
            raise describe_failure(exc, f"list the files of {repo_id}") from exc
        commit = info.sha or revision or "main"
        files: dict[str, RemoteFile] = {}
        for sibling in info.siblings or []:
            name = sibling.rfilename
            if not is_gguf(name):
                continue
            lfs = sibling.lfs
            files[name] = RemoteFile(
                repo_id=repo_id,
                filename=name,
                revision=commit,
                size_bytes=(lfs.size if lfs else None) or sibling.size,
                sha256=lfs.sha256 if lfs else None,
                url=hub.hf_hub_url(repo_id, name, revision=commit, endpoint=hub_endpoint()),
            )
        return _group(repo_id, commit, files)

    def resolve(self, repo_id: str, filename: str, revision: str | None = None) -> HubModelFile:
        """The model a file name refers to, with every part of it when it is split."""
        listing = self.list_files(repo_id, revision)
        model = listing.find(filename)
        if model is None:
            missing = filename in _all_parts(listing)
            hint = (
                "Some parts of that split model are missing from the repository. "
                if missing
                else ""
            )
            raise HubNotFoundError(
                f"{repo_id} has no GGUF file called {filename!r}. {hint}"
                f"Run 'openweight models files {repo_id}' to see its files."
            )
        return model


def _all_parts(listing: RepoListing) -> set[str]:
    return {name for base in listing.incomplete_splits for name in split_part_names(base)}


def _group(repo_id: str, commit: str, files: dict[str, RemoteFile]) -> RepoListing:
    models: list[HubModelFile] = []
    projectors: list[HubModelFile] = []
    incomplete: list[str] = []
    seen: set[str] = set()
    for name in sorted(files):
        if name in seen:
            continue
        split = split_name(name)
        names = split_part_names(name) if split else [name]
        seen.update(names)
        if any(n not in files for n in names):
            incomplete.append(names[0])
            continue
        model = HubModelFile(
            name=model_name_for(name),
            quantization=quantization_of(name),
            parts=tuple(files[n] for n in names),
        )
        (projectors if is_projector(name) else models).append(model)
    models.sort(key=lambda m: (m.size_bytes or 0, m.name))
    return RepoListing(repo_id, commit, tuple(models), tuple(projectors), tuple(incomplete))
