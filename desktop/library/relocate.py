"""The models folder: where it is, moving its files somewhere else, or finding them there.

A move never loses a file: every file of a model reaches its new place (renamed, or copied and
checked) before the registry points at it, and only then is the old copy deleted. A failure
part-way leaves each model pointing at a file that exists.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from desktop.library.errors import LibraryError, NotEnoughSpaceError
from desktop.library.filenames import split_part_names
from desktop.library.units import format_bytes
from desktop.paths import DataPaths
from desktop.store import ModelFile, Store
from desktop.store.settings import Settings

log = logging.getLogger("openweight.library.relocate")

MODELS_DIR_SETTING = "models_dir"  # None: the default folder inside the data folder
_COPY_BLOCK = 8 * 1024 * 1024
_PART_SUFFIXES = (".part", ".part.json")

# (bytes done, bytes in all, file being moved); called on the thread doing the move.
Progress = Callable[[int, int, str], None]


@dataclass
class RelocationResult:
    models_dir: Path
    moved: list[str] = field(default_factory=list)  # models whose files now live in models_dir
    found: list[str] = field(default_factory=list)  # models re-pointed to a file found there
    not_found: list[str] = field(default_factory=list)  # "find": left pointing where they were
    outside: list[str] = field(default_factory=list)  # files outside the old folder stay put
    bytes_moved: int = 0


@dataclass
class _Group:
    """The files that move together: a model's parts and leftovers, or one unfinished download."""

    model: ModelFile | None
    files: list[Path]


def models_folder(paths: DataPaths, settings: Settings) -> Path:
    """The folder downloads go to: the user's choice, or the default one."""
    chosen = settings.get(MODELS_DIR_SETTING)
    return Path(chosen) if chosen else paths.models_dir


def move_models_folder(
    store: Store,
    old_dir: Path,
    new_dir: Path,
    *,
    move_files: bool,
    progress: Progress | None = None,
) -> RelocationResult:
    """Make new_dir the models folder, moving the files there or finding copies already there."""
    old_dir, new_dir = old_dir.expanduser().resolve(), new_dir.expanduser().resolve()
    _ensure_writable(new_dir)
    if move_files:
        result = _move(store, old_dir, new_dir, progress or _no_progress)
    else:
        result = _find(store, old_dir, new_dir)
    store.settings.set(MODELS_DIR_SETTING, str(new_dir))
    log.info(
        "models folder is now %s (moved %d, found %d, not found %d)",
        new_dir,
        len(result.moved),
        len(result.found),
        len(result.not_found),
    )
    return result


# -- moving ------------------------------------------------------------------------------------
def _move(store: Store, old_dir: Path, new_dir: Path, progress: Progress) -> RelocationResult:
    result = RelocationResult(new_dir)
    if new_dir == old_dir:
        return result
    if new_dir.is_relative_to(old_dir):
        raise LibraryError(
            f"{new_dir} is inside the current models folder. Choose a folder outside {old_dir}."
        )
    groups = _groups_to_move(store, old_dir, result)
    _check_before_moving(groups, old_dir, new_dir)
    total = sum(path.stat().st_size for group in groups for path in group.files)
    done = 0
    for index, group in enumerate(groups):
        try:
            done = _move_group(store, group, old_dir, new_dir, done, total, progress)
        except OSError as exc:
            moved = f"{len(result.moved)} of {sum(1 for g in groups if g.model)} models were moved"
            raise LibraryError(
                f"Could not move {group.files[0].name} to {new_dir}: {exc.strerror or exc}. "
                f"{moved}; the rest are still in {old_dir}, and every model still works."
            ) from exc
        if group.model is not None:
            result.moved.append(group.model.name)
        log.debug("moved group %d of %d", index + 1, len(groups))
    result.bytes_moved = done
    _prune_empty_folders(old_dir)
    return result


def _groups_to_move(store: Store, old_dir: Path, result: RelocationResult) -> list[_Group]:
    groups: list[_Group] = []
    claimed: set[Path] = set()
    for model in store.models.all():
        path = Path(model.path).resolve()
        if not path.is_relative_to(old_dir):
            result.outside.append(model.name)
            continue
        files = [f for f in _model_files(path) if f.exists()]
        if not files:
            continue  # the file is already gone: nothing to move, nothing to lose
        groups.append(_Group(model, files))
        claimed.update(files)
    # Unfinished downloads come along too, so they resume from the new folder.
    for meta in sorted(old_dir.rglob("*.part.json")):
        part = meta.with_name(meta.name[: -len(".json")])
        files = [f for f in (part, meta) if f.exists() and f not in claimed]
        if files:
            groups.append(_Group(None, files))
            claimed.update(files)
    return groups


def _model_files(path: Path) -> list[Path]:
    """Every part of the model and the download leftovers beside them."""
    names = [Path(name).name for name in split_part_names(path.name)]
    return [path.with_name(n + suffix) for n in names for suffix in ("", *_PART_SUFFIXES)]


def _check_before_moving(groups: list[_Group], old_dir: Path, new_dir: Path) -> None:
    """Refuse up front, before a single file moves, what would fail part-way."""
    for group in groups:
        for source in group.files:
            target = new_dir / source.relative_to(old_dir)
            if target.exists():
                raise LibraryError(
                    f"{target} already exists, so nothing was moved. Choose an empty folder, "
                    "or choose to use the files already in that folder instead."
                )
    if _same_disk(old_dir, new_dir):
        return
    needed = sum(path.stat().st_size for group in groups for path in group.files)
    free = shutil.disk_usage(new_dir).free
    if needed > free:
        raise NotEnoughSpaceError(
            f"Not enough space in {new_dir}: the models need {format_bytes(needed)}, but only "
            f"{format_bytes(free)} is free. Nothing was moved. Free some space or choose "
            "another folder."
        )


def _move_group(
    store: Store,
    group: _Group,
    old_dir: Path,
    new_dir: Path,
    done: int,
    total: int,
    progress: Progress,
) -> int:
    """Move one model's files; on failure put back what moved (all or nothing per model)."""
    renamed: list[tuple[Path, Path]] = []
    copied: list[tuple[Path, Path]] = []
    try:
        for source in group.files:
            target = new_dir / source.relative_to(old_dir)
            target.parent.mkdir(parents=True, exist_ok=True)
            size = source.stat().st_size
            if _rename(source, target):
                renamed.append((source, target))
                done += size
                progress(done, total, source.name)
            else:
                done = _copy(source, target, done, total, progress)
                copied.append((source, target))
    except BaseException:
        for source, target in reversed(renamed):
            os.rename(target, source)
        for _, target in copied:
            target.unlink(missing_ok=True)
        raise
    if group.model is not None:
        new_path = new_dir / Path(group.model.path).resolve().relative_to(old_dir)
        store.models.update_path(group.model.name, str(new_path))
    for source, _ in copied:  # the registry points at the new copy now
        try:
            source.unlink()
        except OSError as exc:
            log.warning("moved %s but could not delete the old copy: %s", source, exc)
    return done


def _rename(source: Path, target: Path) -> bool:
    """True when renamed in place; False when the folders are on different disks."""
    try:
        os.rename(source, target)
    except OSError as exc:
        if exc.errno == errno.EXDEV:
            return False
        raise
    return True


def _copy(source: Path, target: Path, done: int, total: int, progress: Progress) -> int:
    """Copy with progress, flushed to disk and checked for size before the source may go."""
    try:
        with source.open("rb") as src, target.open("xb") as dst:
            while block := src.read(_COPY_BLOCK):
                dst.write(block)
                done += len(block)
                progress(done, total, source.name)
            dst.flush()
            os.fsync(dst.fileno())
        shutil.copystat(source, target)
        if target.stat().st_size != source.stat().st_size:
            raise OSError(errno.EIO, "the copy is not the same size as the original")
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return done


# -- finding -----------------------------------------------------------------------------------
def _find(store: Store, old_dir: Path, new_dir: Path) -> RelocationResult:
    """Re-point models to files of the same name and size in new_dir; register nothing new."""
    result = RelocationResult(new_dir)
    by_name: dict[str, list[Path]] = {}
    for path in sorted(new_dir.rglob("*")):
        if path.suffix.lower() == ".gguf" and path.is_file():
            by_name.setdefault(path.name, []).append(path)
    for model in store.models.all():
        current = Path(model.path)
        match = _best_match(model, by_name.get(current.name, []), old_dir, new_dir)
        if match is None:
            if _inside(current, old_dir):
                result.not_found.append(model.name)
            continue
        if match != current:
            store.models.update_path(model.name, str(match))
            result.found.append(model.name)
    return result


def _best_match(
    model: ModelFile, candidates: list[Path], old_dir: Path, new_dir: Path
) -> Path | None:
    sized = [c for c in candidates if not model.size_bytes or _total_size(c) == model.size_bytes]
    if not sized:
        return None
    current = Path(model.path)
    if _inside(current, old_dir):  # prefer the same place relative to the folder
        same_place = new_dir / current.resolve().relative_to(old_dir)
        if same_place in sized:
            return same_place
    return sized[0]


def _total_size(path: Path) -> int:
    """A split model's size counts every part, as the registry does."""
    parts = [path.with_name(Path(name).name) for name in split_part_names(path.name)]
    return sum(p.stat().st_size for p in parts if p.exists())


# -- helpers -----------------------------------------------------------------------------------
def _ensure_writable(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".openweight-check-"):
            pass
    except OSError as exc:
        raise LibraryError(
            f"Openweight cannot write to {folder}: {exc.strerror or exc}. "
            "Choose a folder you can save files in."
        ) from exc


def _same_disk(a: Path, b: Path) -> bool:
    try:
        return a.stat().st_dev == b.stat().st_dev
    except OSError:
        return False


def _inside(path: Path, folder: Path) -> bool:
    try:
        return path.resolve().is_relative_to(folder)
    except OSError:
        return False


def _prune_empty_folders(root: Path) -> None:
    """Remove the per-repository folders the move emptied (never root itself)."""
    if not root.is_dir():
        return
    for folder in sorted((p for p in root.rglob("*") if p.is_dir()), reverse=True):
        try:
            folder.rmdir()
        except OSError:
            continue


def _no_progress(done: int, total: int, name: str) -> None:
    return None
