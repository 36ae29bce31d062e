"""Finding a collection's files on disk: supported files under its folders, and the problems.

Only stat() calls: a scan of a large folder that changed little costs milliseconds, which is
what lets the watcher poll it.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from desktop.documents.readers import is_supported

SKIP_DIRS = {"node_modules", "__pycache__", "venv", ".venv", "site-packages"}


@dataclass(frozen=True)
class FoundFile:
    path: str
    size: int
    mtime_ns: int
    root: str


@dataclass
class ScanResult:
    files: dict[str, FoundFile] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)  # path → reason
    missing_roots: list[str] = field(default_factory=list)


def scan(roots: list[str]) -> ScanResult:
    result = ScanResult()
    visited: set[tuple[int, int]] = set()  # (device, inode) of folders already walked
    for root in roots:
        try:
            info = os.stat(root)
        except FileNotFoundError:
            result.missing_roots.append(root)
            continue
        except OSError as exc:
            result.problems[root] = _os_reason(exc)
            continue
        if stat.S_ISDIR(info.st_mode):
            _walk(root, root, result, visited)
        elif stat.S_ISREG(info.st_mode):
            # A file named on its own is indexed whatever its extension says.
            result.files[root] = FoundFile(root, info.st_size, info.st_mtime_ns, root)
        else:
            result.problems[root] = "not a regular file or folder"
    return result


def _walk(folder: str, root: str, result: ScanResult, visited: set[tuple[int, int]]) -> None:
    try:
        info = os.stat(folder)
    except OSError as exc:
        result.problems[folder] = _os_reason(exc)
        return
    key = (info.st_dev, info.st_ino)
    if key in visited:
        result.problems[folder] = ("a link that leads back to a folder already indexed "
                                   "(a loop); skipped")
        return
    visited.add(key)
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as exc:
        result.problems[folder] = _os_reason(exc)
        return
    for entry in entries:
        if entry.name.startswith(".") or entry.name in SKIP_DIRS:
            continue
        path = entry.path
        try:
            is_dir = entry.is_dir()  # follows links
            is_file = not is_dir and entry.is_file()
        except OSError as exc:
            result.problems[path] = _os_reason(exc)
            continue
        if is_dir:
            _walk(path, root, result, visited)
            continue
        if not is_supported(Path(path)):
            continue
        if not is_file:
            if entry.is_symlink() and not os.path.exists(path):
                result.problems[path] = "a link to a file that is not there (broken link)"
            elif entry.is_symlink():
                result.problems[path] = "a link that loops back on itself"
            else:
                result.problems[path] = "not a regular file"
            continue
        try:
            st = entry.stat()
        except OSError as exc:
            result.problems[path] = _os_reason(exc)
            continue
        result.files[path] = FoundFile(path, st.st_size, st.st_mtime_ns, root)


def _os_reason(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "Openweight is not allowed to read this (permission denied)"
    if exc.errno == 40:  # ELOOP
        return "a link that loops back on itself"
    return f"cannot be read: {exc.strerror or exc}"
