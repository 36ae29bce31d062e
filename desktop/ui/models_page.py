"""The model library page. The library (catalog, Hub search, downloads) fills this in; until
then it lists the installed models and offers to add a file."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QListWidget, QPushButton, QVBoxLayout, QWidget

from desktop.store.records import ModelFile
from desktop.ui.model_picker import model_summary


class ModelsPage(QWidget):
    back_requested = Signal()
    add_file_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("modelsPage")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(32, 24, 32, 24)
        layout.setSpacing(12)
        top = QHBoxLayout()
        back = QPushButton("‹ Back to chat", self)
        back.setAccessibleName("Back to chat")
        back.clicked.connect(self.back_requested)
        top.addWidget(back)
        top.addStretch(1)
        layout.addLayout(top)
        title = QLabel("Models", self)
        title.setObjectName("pageTitle")
        layout.addWidget(title)
        self.library_slot = QVBoxLayout()  # the model library puts its catalog here
        layout.addLayout(self.library_slot)
        installed = QLabel("Installed on this computer", self)
        installed.setObjectName("sectionHeader")
        layout.addWidget(installed)
        self.installed = QListWidget(self)
        self.installed.setAccessibleName("Installed models")
        layout.addWidget(self.installed, 1)
        add = QPushButton("Add a model file…", self)
        add.setAccessibleName("Add a model file")
        add.clicked.connect(self.add_file_requested)
        layout.addWidget(add)

    def set_models(self, models: list[ModelFile], default: str | None) -> None:
        self.installed.clear()
        for model in models:
            mark = "  (default)" if model.name == default else ""
            self.installed.addItem(f"{model.name}{mark}   {model_summary(model)}")
