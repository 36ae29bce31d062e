"""The rules that keep the code easy to change, checked so they cannot rot."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORE = ["store", "engine", "library", "chat"]


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_core_never_imports_qt() -> None:
    for package in CORE:
        for path in (ROOT / "desktop" / package).rglob("*.py"):
            assert not {"PySide6", "shiboken6"} & imported_modules(path), path


def test_only_the_engine_imports_llama_cpp() -> None:
    for path in (ROOT / "desktop").rglob("*.py"):
        if "llama_cpp" in imported_modules(path):
            assert path.parent.name == "engine", path


def test_only_the_library_imports_huggingface_hub() -> None:
    for path in (ROOT / "desktop").rglob("*.py"):
        if "huggingface_hub" in imported_modules(path):
            assert path.parent.name == "library", path


# DESIGN.md "Layers": a package may import only packages on a lower floor (and its own).
FLOORS = {
    "__main__": 5, "cli": 4,  # the entry point chooses a front end
    "ui": 3, "commands": 3, "server": 3,
    "chat": 2, "documents": 2,
    "engine": 1, "library": 1,
    "store": 0, "modelfile": 0, "paths": 0, "logs": 0, "__init__": 0,
}
ALSO_ALLOWED = {("chat", "documents")}  # retrieval for a prompt


def desktop_imports(path: Path) -> set[str]:
    """The desktop packages a file imports, by their first name below desktop."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        modules: list[str] = []
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules = [node.module]
            if node.module == "desktop":
                modules = [f"desktop.{alias.name}" for alias in node.names]
        for module in modules:
            parts = module.split(".")
            if parts[0] == "desktop" and len(parts) > 1:
                names.add(parts[1])
    return names


def test_layers_point_down_only() -> None:
    wrong = []
    for path in (ROOT / "desktop").rglob("*.py"):
        relative = path.relative_to(ROOT / "desktop")
        package = relative.parts[0].removesuffix(".py")
        assert package in FLOORS, f"{relative}: place this package on a floor in FLOORS"
        for imported in desktop_imports(path) - {package}:
            allowed = FLOORS.get(imported, -1) < FLOORS[package] or (package, imported) in ALSO_ALLOWED
            if imported == "__version__" or allowed:
                continue
            wrong.append(f"{relative} imports desktop.{imported}")
    assert not wrong, "\n".join(wrong)


def test_cli_and_core_load_without_qt_or_llama_cpp() -> None:
    code = (
        "import sys, desktop.cli, desktop.chat.session, desktop.engine.client, desktop.store\n"
        "bad = [m for m in ('PySide6', 'llama_cpp', 'desktop.engine.llama_engine', 'jinja2')"
        " if m in sys.modules]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert out.stdout.strip() == ""
