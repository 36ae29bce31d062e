"""The model picker: installed models with their size and quantization, and ways to add more."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPaintEvent
from PySide6.QtWidgets import QComboBox, QStyle, QStyleOptionComboBox, QStylePainter, QWidget

from desktop.library.units import format_bytes, format_params
from desktop.store.records import ModelFile

ADD_FILE = "__add_file__"
BROWSE = "__browse__"
SERVER_HEADER = "__server__"
SHOWN_ROLE = Qt.ItemDataRole.UserRole + 1  # what the closed picker shows for a server's model

# A server's models under its name: (server name, its chat models, a note such as an error).
ServerGroup = tuple[str, list[ModelFile], str | None]


def model_summary(model: ModelFile) -> str:
    """The facts that tell models apart: parameters, quantization, file size."""
    facts = [
        format_params(model.parameters) if model.parameters else "",
        model.quantization or "",
        format_bytes(model.size_bytes) if model.size_bytes else "",
    ]
    summary = " · ".join(f for f in facts if f and f != "?")
    if not Path(model.path).is_file():
        summary += " · file missing"
    return summary


class ModelPicker(QComboBox):
    model_chosen = Signal(str)
    add_file_requested = Signal()
    browse_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Model")
        self.setToolTip("The model that answers in this chat")
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.setMinimumContentsLength(14)
        self._current: str | None = None
        self.activated.connect(self._activated)

    def set_models(self, models: list[ModelFile], current: str | None,
                   servers: list[ServerGroup] | None = None) -> None:
        self.blockSignals(True)
        self.clear()
        for model in models:
            summary = model_summary(model)
            label = f"{model.name}   {summary}" if summary else model.name
            self.addItem(label, model.name)
            self.setItemData(self.count() - 1, f"{model.name}\n{model.path}", 3)  # tooltip
        for name, server_models, note in servers or []:
            self._add_server(name, server_models, note, current)
        if models or servers:
            self.insertSeparator(self.count())
        self.addItem("Add a model file…", ADD_FILE)
        self.addItem("Browse models…", BROWSE)
        self.setItemData(self.count() - 1, "The model library: catalog, search, downloads (Ctrl+Shift+M)", 3)
        self.blockSignals(False)
        self.select(current)

    def _add_server(self, name: str, models: list[ModelFile], note: str | None,
                    current: str | None) -> None:
        """The server's name as a heading that cannot be chosen, its models beneath it."""
        if self.count():
            self.insertSeparator(self.count())
        heading = f"{name}   ({note})" if note and not models else name
        self.addItem(heading, SERVER_HEADER)
        item = self.model().item(self.count() - 1)  # type: ignore[attr-defined]
        item.setEnabled(False)
        names = [m.name for m in models]
        if current and current.startswith(f"{name}/") and current not in names:
            names.append(current)  # the chat's model, while the server's list is not in yet
        for full in names:
            self.addItem(f"    {full.split('/', 1)[1]}", full)
            self.setItemData(self.count() - 1, f"{full}\non the server {name}", 3)
            self.setItemData(self.count() - 1, full.replace("/", " / ", 1), SHOWN_ROLE)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        """A server's model shows as "Server / model" when the list is closed."""
        shown = self.itemData(self.currentIndex(), SHOWN_ROLE)
        if not shown:
            super().paintEvent(event)
            return
        painter = QStylePainter(self)
        option = QStyleOptionComboBox()
        self.initStyleOption(option)
        option.currentText = shown
        painter.drawComplexControl(QStyle.ComplexControl.CC_ComboBox, option)
        painter.drawControl(QStyle.ControlElement.CE_ComboBoxLabel, option)

    def select(self, name: str | None) -> None:
        index = self.findData(name) if name else -1
        if (
            index < 0
            and name is None
            and self.count()
            and self.itemData(0) not in (ADD_FILE, BROWSE, SERVER_HEADER)
        ):
            index = 0
        self._current = self.itemData(index) if index >= 0 else None
        self.blockSignals(True)
        self.setCurrentIndex(index)
        self.blockSignals(False)

    @property
    def current_model(self) -> str | None:
        return self._current

    def _activated(self, index: int) -> None:
        data = self.itemData(index)
        if data == SERVER_HEADER:
            self.select(self._current)
            return
        if data in (ADD_FILE, BROWSE):
            self.select(self._current)  # an action, not a choice: keep showing the model
            (self.add_file_requested if data == ADD_FILE else self.browse_requested).emit()
            return
        if data and data != self._current:
            self._current = data
            self.model_chosen.emit(data)
