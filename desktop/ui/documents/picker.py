"""The chat's document collections: a button by the model picker with a checkable menu."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QToolButton, QWidget


def picker_label(chosen: list[str]) -> str:
    if not chosen:
        return "No documents"
    if len(chosen) == 1:
        return f"Documents: {chosen[0]}"
    return f"Documents: {chosen[0]} +{len(chosen) - 1}"


class DocumentsPicker(QToolButton):
    chosen_changed = Signal(list)  # the collection names this chat now uses
    manage_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Documents this chat answers from")
        self.setToolTip("Answer from your own documents, with the sources shown under the answer")
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.menu_ = QMenu(self)
        self.setMenu(self.menu_)
        self.collections: list[str] = []
        self.chosen: list[str] = []
        self._rebuild()

    def set_collections(self, names: list[str], chosen: list[str]) -> None:
        self.collections = list(names)
        self.chosen = [n for n in chosen if n in names]
        self._rebuild()

    def _rebuild(self) -> None:
        self.menu_.clear()
        for name in self.collections:
            action = QAction(name, self.menu_)
            action.setCheckable(True)
            action.setChecked(name in self.chosen)
            action.toggled.connect(lambda on, n=name: self._toggle(n, on))
            self.menu_.addAction(action)
        if not self.collections:
            empty = self.menu_.addAction("No collections yet")
            empty.setEnabled(False)
        self.menu_.addSeparator()
        self.menu_.addAction("Manage documents…", self.manage_requested.emit)
        self.setText(picker_label(self.chosen))

    def _toggle(self, name: str, on: bool) -> None:
        chosen = [n for n in self.collections if (n in self.chosen or n == name) and (on or n != name)]
        self.chosen = chosen
        self.setText(picker_label(chosen))
        self.chosen_changed.emit(chosen)
