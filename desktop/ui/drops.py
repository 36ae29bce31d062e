"""Files and folders dropped on the window: model files join the library, everything else
goes to Documents."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QMimeData, QObject
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QWidget


def local_paths(mime: QMimeData) -> list[Path]:
    """The dropped files and folders on this computer (links to web pages are not)."""
    if not mime.hasUrls():
        return []
    return [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile() and url.toLocalFile()]


def split_drop(paths: list[Path]) -> tuple[list[Path], list[Path]]:
    """(model files, documents)."""
    models = [p for p in paths if p.suffix.lower() == ".gguf" and p.is_file()]
    return models, [p for p in paths if p not in models]


class DropTarget(QObject):
    """Lets a widget take dropped files and folders; children that take drops of their own
    (text fields take text) pass files on to it."""

    def __init__(self, widget: QWidget, dropped: Callable[[list[Path]], None]) -> None:
        super().__init__(widget)
        self.dropped = dropped
        widget.setAcceptDrops(True)
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        kind = event.type()
        if kind in (QEvent.Type.DragEnter, QEvent.Type.DragMove, QEvent.Type.Drop):
            assert isinstance(event, QDropEvent)  # QDragEnterEvent and QDragMoveEvent are too
            paths = local_paths(event.mimeData())
            if not paths:
                return False
            event.acceptProposedAction()
            if kind == QEvent.Type.Drop:
                self.dropped(paths)
            return True
        return False
