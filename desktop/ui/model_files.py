"""“Add a model file…”: choose a GGUF on disk and register it, with errors said plainly."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QWidget

from desktop.library.errors import NotAModelError
from desktop.library.importing import import_model
from desktop.store import Store
from desktop.store.records import ModelFile

FileChooser = Callable[[], str | None]
Warn = Callable[[str, str], None]


def file_dialog_chooser(parent: QWidget, start_folder: Callable[[], Path]) -> FileChooser:
    def choose() -> str | None:
        path, _ = QFileDialog.getOpenFileName(
            parent, "Add a model file", str(start_folder()), "GGUF models (*.gguf);;All files (*)"
        )
        return path or None

    return choose


def add_model_file(store: Store, choose: FileChooser, warn: Warn) -> ModelFile | None:
    """The registered model, or None when the user cancelled or the file cannot be used."""
    path = choose()
    if not path:
        return None
    try:
        return import_model(store, path)
    except NotAModelError as exc:
        warn("This file cannot be used", str(exc))
    except OSError as exc:
        warn("This file cannot be read", f"{path}: {exc.strerror or exc}")
    return None
