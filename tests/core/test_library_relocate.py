"""Changing the models folder: files move (same disk or across disks) or are found, never lost."""

from __future__ import annotations

import errno
import os
from collections import namedtuple
from pathlib import Path

import pytest

from desktop.library import relocate
from desktop.library.errors import LibraryError, NotEnoughSpaceError
from desktop.library.relocate import (
    MODELS_DIR_SETTING,
    models_folder,
    move_models_folder,
)
from desktop.paths import resolve_paths
from desktop.store import ModelFile, Store

REPO = "owner/Some-GGUF"
SPLIT_PARTS = ("Big-Q4_K_M-00001-of-00002.gguf", "Big-Q4_K_M-00002-of-00002.gguf")


def write(path: Path, size: int, seed: int = 1) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes((i * seed) % 251 for i in range(size)))
    return path


def register(store: Store, name: str, path: Path, size: int | None = None) -> None:
    store.models.add(ModelFile(name=name, path=str(path), size_bytes=size or path.stat().st_size))


@pytest.fixture
def old(tmp_path: Path) -> Path:
    return tmp_path / "old-models"


@pytest.fixture
def new(tmp_path: Path) -> Path:
    return tmp_path / "elsewhere" / "models"


@pytest.fixture
def library(store: Store, old: Path, tmp_path: Path) -> dict[str, bytes]:
    """A single-file model, a split model with a leftover part, an unfinished download, and a
    model imported from outside the folder. Returns each file's bytes by relative path."""
    single = write(old / REPO / "Small-Q8_0.gguf", 3000, seed=3)
    register(store, "small", single)
    parts = [write(old / REPO / name, 2000 + i, seed=5 + i) for i, name in enumerate(SPLIT_PARTS)]
    register(store, "big", parts[0], size=sum(p.stat().st_size for p in parts))
    write(old / REPO / (SPLIT_PARTS[1] + ".part"), 10, seed=7)  # an old retry's leftover
    write(old / "other" / "Repo" / "Next.gguf.part", 1500, seed=11)
    write(old / "other" / "Repo" / "Next.gguf.part.json", 40, seed=13)
    outside = write(tmp_path / "Downloads" / "mine.gguf", 700, seed=17)
    register(store, "mine", outside)
    return {str(p.relative_to(old)): p.read_bytes() for p in old.rglob("*") if p.is_file()}


def paths_of(store: Store) -> dict[str, str]:
    return {m.name: m.path for m in store.models.all()}


def test_models_folder_is_the_default_until_the_user_chooses_one(
    store: Store, tmp_path: Path
) -> None:
    paths = resolve_paths(tmp_path / "data")
    assert models_folder(paths, store.settings) == paths.models_dir
    store.settings.set(MODELS_DIR_SETTING, str(tmp_path / "big-disk"))
    assert models_folder(paths, store.settings) == tmp_path / "big-disk"


def test_moving_on_one_disk_renames_every_file_and_repoints_models(
    store: Store, old: Path, new: Path, library: dict[str, bytes], tmp_path: Path
) -> None:
    seen: list[tuple[int, int, str]] = []
    result = move_models_folder(
        store, old, new, move_files=True, progress=lambda *a: seen.append(a)
    )
    assert sorted(result.moved) == ["big", "small"] and result.outside == ["mine"]
    for relative, data in library.items():
        assert (new / relative).read_bytes() == data
        assert not (old / relative).exists()
    assert paths_of(store) == {
        "small": str(new / REPO / "Small-Q8_0.gguf"),
        "big": str(new / REPO / SPLIT_PARTS[0]),
        "mine": str(tmp_path / "Downloads" / "mine.gguf"),
    }
    assert store.settings.get(MODELS_DIR_SETTING) == str(new.resolve())
    assert old.is_dir() and list(old.iterdir()) == []  # emptied repo folders are tidied away
    total = sum(len(d) for d in library.values())
    assert seen[-1][:2] == (total, total) and result.bytes_moved == total


def test_moving_to_another_disk_copies_checks_and_deletes(
    store: Store, old: Path, new: Path, library: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    def cross_device(src: object, dst: object) -> None:
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(relocate.os, "rename", cross_device)
    monkeypatch.setattr(relocate, "_same_disk", lambda a, b: False)
    monkeypatch.setattr(relocate, "_COPY_BLOCK", 512)
    seen: list[int] = []
    result = move_models_folder(
        store, old, new, move_files=True, progress=lambda done, total, name: seen.append(done)
    )
    assert sorted(result.moved) == ["big", "small"]
    for relative, data in library.items():
        assert (new / relative).read_bytes() == data
        assert not (old / relative).exists()
    assert seen == sorted(seen) and len(seen) > len(library)  # progress within files too
    assert paths_of(store)["small"] == str(new / REPO / "Small-Q8_0.gguf")


def test_a_failure_part_way_leaves_every_model_pointing_at_a_file(
    store: Store, old: Path, new: Path, library: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    real_rename = os.rename

    def rename(src: Path, dst: Path) -> None:
        if Path(src).name == SPLIT_PARTS[1]:  # the split model's second part will not move
            raise OSError(errno.EACCES, "Permission denied")
        real_rename(src, dst)

    monkeypatch.setattr(relocate.os, "rename", rename)
    with pytest.raises(LibraryError, match="every model still works"):
        move_models_folder(store, old, new, move_files=True)
    for name, path in paths_of(store).items():
        assert Path(path).is_file(), name
    # The split model's first part was put back beside its second.
    assert paths_of(store)["big"] == str(old / REPO / SPLIT_PARTS[0])
    assert (old / REPO / SPLIT_PARTS[0]).read_bytes() == library[f"{REPO}/{SPLIT_PARTS[0]}"]
    assert store.settings.get(MODELS_DIR_SETTING) is None


def test_a_failed_copy_keeps_the_original(
    store: Store, old: Path, new: Path, library: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    def cross_device(src: object, dst: object) -> None:
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    def disk_full(done: int, total: int, name: str) -> None:
        if done > 2000:
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(relocate.os, "rename", cross_device)
    monkeypatch.setattr(relocate, "_COPY_BLOCK", 512)
    with pytest.raises(LibraryError, match="No space left"):
        move_models_folder(store, old, new, move_files=True, progress=disk_full)
    for relative, data in library.items():
        assert (old / relative).read_bytes() == data
    assert not [p for p in new.rglob("*") if p.is_file()]  # no half-copied files left behind
    for path in paths_of(store).values():
        assert Path(path).is_file()


def test_an_existing_file_in_the_target_stops_the_move_before_it_starts(
    store: Store, old: Path, new: Path, library: dict[str, bytes]
) -> None:
    write(new / REPO / "Small-Q8_0.gguf", 10)
    with pytest.raises(LibraryError, match="already exists"):
        move_models_folder(store, old, new, move_files=True)
    for relative, data in library.items():
        assert (old / relative).read_bytes() == data


def test_not_enough_space_on_the_other_disk_is_refused(
    store: Store, old: Path, new: Path, library: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(relocate, "_same_disk", lambda a, b: False)
    monkeypatch.setattr(relocate.shutil, "disk_usage", lambda path: usage(10**6, 10**6, 100))
    with pytest.raises(NotEnoughSpaceError, match="Nothing was moved"):
        move_models_folder(store, old, new, move_files=True)
    assert all((old / relative).exists() for relative in library)


def test_a_folder_that_cannot_be_written_is_refused(
    store: Store, old: Path, tmp_path: Path, library: dict[str, bytes]
) -> None:
    blocker = write(tmp_path / "a-file", 5)
    with pytest.raises(LibraryError, match="cannot write to"):
        move_models_folder(store, old, blocker / "models", move_files=True)
    assert store.settings.get(MODELS_DIR_SETTING) is None


def test_a_folder_inside_the_current_one_is_refused(
    store: Store, old: Path, library: dict[str, bytes]
) -> None:
    with pytest.raises(LibraryError, match="inside the current models folder"):
        move_models_folder(store, old, old / "sub", move_files=True)


def test_finding_repoints_models_whose_name_and_size_match(
    store: Store, old: Path, new: Path, library: dict[str, bytes]
) -> None:
    for relative, data in library.items():  # the user copied the folder themselves
        write(new / relative, 0).write_bytes(data)
    (new / REPO / "Small-Q8_0.gguf").rename(new / "Small-Q8_0.gguf")  # ...and tidied a little
    write(new / "Unknown-Q4_0.gguf", 100)
    write(new / "stale" / "Small-Q8_0.gguf", 5)  # same name, wrong size
    before = len(store.models.all())
    result = move_models_folder(store, old, new, move_files=False)
    assert sorted(result.found) == ["big", "small"] and result.not_found == []
    assert paths_of(store)["small"] == str(new.resolve() / "Small-Q8_0.gguf")
    assert paths_of(store)["big"] == str(new.resolve() / REPO / SPLIT_PARTS[0])
    assert len(store.models.all()) == before  # nothing new was registered
    assert all((old / relative).exists() for relative in library)  # nothing was moved
    assert store.settings.get(MODELS_DIR_SETTING) == str(new.resolve())


def test_finding_leaves_models_it_cannot_find_where_they_were(
    store: Store, old: Path, new: Path, library: dict[str, bytes]
) -> None:
    new.mkdir(parents=True)
    result = move_models_folder(store, old, new, move_files=False)
    assert sorted(result.not_found) == ["big", "small"] and result.found == []
    assert paths_of(store)["small"] == str(old / REPO / "Small-Q8_0.gguf")
