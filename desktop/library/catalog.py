"""The curated catalog of models, shipped as package data (desktop/resources/catalog.json)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from desktop.library.errors import CatalogError
from desktop.library.hardware import DEFAULT_CONTEXT, Fit, Machine, fit_for_size

REASONING_STYLES = ("harmony", "think", "none")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_COMMIT = re.compile(r"^[0-9a-f]{40}$")


@dataclass(frozen=True)
class CatalogFile:
    filename: str
    size_bytes: int
    sha256: str


@dataclass(frozen=True)
class CatalogEntry:
    """One curated model: where it lives on the Hub, pinned to a verified revision."""

    name: str
    display_name: str
    family: str
    kind: str  # "chat" or "embedding"
    repo_id: str
    revision: str
    files: tuple[CatalogFile, ...]
    parameters: str | None  # as the model's name states it, e.g. "0.6B"
    # A mixture of experts reads only its active experts per token (model card, e.g. "3.6B").
    active_parameters: str | None
    quantization: str
    context_length: int | None
    license: str
    reasoning_style: str  # harmony / think / none
    description: str

    @property
    def size_bytes(self) -> int:
        return sum(f.size_bytes for f in self.files)

    @property
    def filename(self) -> str:
        """The file to load (the first part when a model is split)."""
        return self.files[0].filename

    @property
    def parameter_count(self) -> int | None:
        """'0.6B' → 600_000_000; None when the catalog does not say."""
        return _count(self.parameters)

    @property
    def active_parameter_count(self) -> int | None:
        return _count(self.active_parameters)

    def fit(self, machine: Machine | None = None, context_length: int = DEFAULT_CONTEXT) -> Fit:
        """How well it would run here (memory and speed), at context_length (capped at what
        the model supports)."""
        context = min(context_length, self.context_length or context_length)
        return fit_for_size(
            self.size_bytes,
            context,
            machine,
            parameters=self.parameter_count,
            active_parameters=self.active_parameter_count,
            reasoning=self.reasoning_style != "none",
            generates=self.kind != "embedding",
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "display_name": self.display_name,
            "family": self.family,
            "kind": self.kind,
            "repo_id": self.repo_id,
            "revision": self.revision,
            "files": [f.__dict__.copy() for f in self.files],
            "size_bytes": self.size_bytes,
            "parameters": self.parameters,
            "active_parameters": self.active_parameters,
            "quantization": self.quantization,
            "context_length": self.context_length,
            "license": self.license,
            "reasoning_style": self.reasoning_style,
            "description": self.description,
        }


def _count(text: str | None) -> int | None:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([MB])", text or "")
    if not match:
        return None
    scale = 1_000_000 if match.group(2) == "M" else 1_000_000_000
    return int(float(match.group(1)) * scale)


def parse_catalog(text: str) -> list[CatalogEntry]:
    """Validate strictly: a bad entry is a packaging bug, better caught by tests than users."""
    try:
        data = json.loads(text)
        return [_entry(item) for item in data["models"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise CatalogError(f"The model catalog is damaged ({exc}). Reinstall Openweight.") from exc


def _entry(item: dict[str, Any]) -> CatalogEntry:
    files = tuple(
        CatalogFile(str(f["filename"]), int(f["size_bytes"]), str(f["sha256"]))
        for f in item["files"]
    )
    if not files:
        raise ValueError(f"{item['name']}: no files")
    for f in files:
        if not _SHA256.match(f.sha256) or f.size_bytes <= 0 or not f.filename.endswith(".gguf"):
            raise ValueError(f"{item['name']}: bad file record {f}")
    if not _COMMIT.match(item["revision"]):
        raise ValueError(f"{item['name']}: revision must be a full commit hash")
    if item["reasoning_style"] not in REASONING_STYLES:
        raise ValueError(f"{item['name']}: unknown reasoning style {item['reasoning_style']!r}")
    context = item.get("context_length")
    return CatalogEntry(
        name=str(item["name"]),
        display_name=str(item["display_name"]),
        family=str(item["family"]),
        kind=str(item["kind"]),
        repo_id=str(item["repo_id"]),
        revision=str(item["revision"]),
        files=files,
        parameters=item.get("parameters"),
        active_parameters=item.get("active_parameters"),
        quantization=str(item["quantization"]),
        context_length=int(context) if context else None,
        license=str(item["license"]),
        reasoning_style=str(item["reasoning_style"]),
        description=str(item["description"]),
    )


@lru_cache(maxsize=1)
def load_catalog() -> tuple[CatalogEntry, ...]:
    """The shipped catalog, in display order (found through importlib.resources, so it works frozen)."""
    try:
        text = resources.files("desktop").joinpath("resources/catalog.json").read_text("utf-8")
    except OSError as exc:
        raise CatalogError(
            f"The model catalog could not be read ({exc}). Reinstall Openweight."
        ) from exc
    return tuple(parse_catalog(text))


def find_entry(name: str) -> CatalogEntry:
    """By name or display name, ignoring case; a unique prefix is enough."""
    wanted = name.strip().lower()
    entries = load_catalog()
    for entry in entries:
        if wanted in (entry.name.lower(), entry.display_name.lower()):
            return entry
    matches = [e for e in entries if e.name.lower().startswith(wanted)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        names = ", ".join(e.name for e in matches)
        raise CatalogError(
            f"{name!r} matches several catalog models ({names}); give the full name."
        )
    raise CatalogError(
        f"There is no model called {name!r} in the catalog. "
        "Run 'openweight models catalog' to see the list, or give a Hub repository and file name."
    )


def recommend_entry(
    entries: tuple[CatalogEntry, ...], machine: Machine | None = None
) -> tuple[CatalogEntry, Fit] | None:
    """The chat model to suggest first here: of those that fit in memory with room to spare,
    the largest that runs at least at reading speed, else the quickest."""
    fitting = [
        (entry, fit)
        for entry in entries
        if entry.kind == "chat"
        for fit in [entry.fit(machine)]
        if fit.level == "runs_well" and fit.speed is not None
    ]
    quick_enough = [(e, f) for e, f in fitting if f.speed and f.speed.level != "slow"]
    if quick_enough:  # max() keeps the first of equals: the catalog's own order
        return max(quick_enough, key=lambda pair: _heft(pair[0]))
    if fitting:
        return max(fitting, key=lambda pair: pair[1].speed.tokens_per_s if pair[1].speed else 0)
    return None


def _heft(entry: CatalogEntry) -> float:
    """Parameters, or a guess from the size (about 0.6 bytes a weight at 4-5 bits)."""
    return float(entry.parameter_count or entry.size_bytes / 0.6)
