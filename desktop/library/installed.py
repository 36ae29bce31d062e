"""Adding downloaded files to the installed-model registry, and removing installed models."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from desktop.library.errors import LibraryError, NotAModelError
from desktop.library.filenames import split_part_names
from desktop.library.importing import model_kind
from desktop.modelfile.gguf import GGUFError, read_gguf
from desktop.modelfile.style import detect_style
from desktop.store import ModelFile, Store

log = logging.getLogger("openweight.library")


@dataclass(frozen=True)
class Provenance:
    """Where a downloaded file came from, kept with it in the registry."""

    source: str  # "catalog" or "hub"
    repo_id: str
    filename: str
    revision: str
    sha256: str | None
    reasoning_style: str | None = None  # from the catalog; read from the file otherwise
    kind: str = "chat"  # "embedding" models are for local documents, not chats


def register_download(store: Store, path: Path, name: str, origin: Provenance) -> ModelFile:
    """Register a verified file with what its GGUF header says; unreadable files are refused."""
    try:
        info = read_gguf(path)
    except GGUFError as exc:
        raise NotAModelError(
            f"The file was downloaded and verified, but Openweight cannot use it: {exc} "
            f"It was left at {path}."
        ) from exc
    parts = [path.with_name(Path(p).name) for p in split_part_names(path.name)]
    size = sum(p.stat().st_size for p in parts if p.exists())
    model = ModelFile(
        name=_unique_name(store, name, path),
        path=str(path),
        size_bytes=size,
        sha256=origin.sha256,
        architecture=info.architecture,
        parameters=info.parameters or None,
        quantization=info.quantization,
        context_length=info.context_length,
        has_chat_template=info.chat_template is not None,
        reasoning_style=origin.reasoning_style
        or detect_style(info.chat_template, info.architecture),
        source=origin.source,
        repo_id=origin.repo_id,
        filename=origin.filename,
        revision=origin.revision,
        # A file found by Hub search has no catalog kind: its header tells (bert, pooling...).
        kind="embedding" if "embedding" in (origin.kind, model_kind(info)) else origin.kind,
    )
    return store.models.add(model)


def _unique_name(store: Store, wanted: str, path: Path) -> str:
    """Keep the wanted name unless another file already uses it."""
    taken = {m.name: m.path for m in store.models.all()}
    name, n = wanted, 2
    while name in taken and taken[name] != str(path):
        name = f"{wanted} ({n})"
        n += 1
    return name


def find_installed(store: Store, name: str) -> ModelFile:
    model = store.models.find(name)
    if model is None:
        raise LibraryError(
            f"No installed model is called {name!r}. Run 'openweight models list' to see them."
        )
    return model


@dataclass
class Removal:
    model: ModelFile
    freed_bytes: int = 0
    deleted: list[Path] = field(default_factory=list)
    kept: Path | None = None  # a file outside the models folder is never deleted


def remove_model(store: Store, name: str, models_dir: Path) -> Removal:
    """Unregister a model and delete its file(s) when they live in the models folder."""
    model = find_installed(store, name)
    path = Path(model.path)
    removal = Removal(model)
    if _inside(path, models_dir):
        names = {Path(p).name for p in split_part_names(path.name)}
        leftovers = {n + suffix for n in names for suffix in (".part", ".part.json")}
        for candidate in sorted(names | leftovers):
            target = path.with_name(candidate)
            try:
                size = target.stat().st_size
                target.unlink()
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise LibraryError(
                    f"Could not delete {target}: {exc.strerror or exc}. "
                    "Close anything that is using it and try again."
                ) from exc
            removal.freed_bytes += size
            removal.deleted.append(target)
        _prune_empty_folders(path.parent, models_dir)
    else:
        removal.kept = path
    store.models.remove(model.name)
    log.info("removed model %s (freed %d bytes)", model.name, removal.freed_bytes)
    return removal


def _inside(path: Path, folder: Path) -> bool:
    try:
        return path.resolve().is_relative_to(folder.resolve())
    except OSError:
        return False


def _prune_empty_folders(folder: Path, stop_at: Path) -> None:
    stop = stop_at.resolve()
    current = folder.resolve()
    while current != stop and current.is_relative_to(stop):
        try:
            current.rmdir()
        except OSError:
            return
        current = current.parent
