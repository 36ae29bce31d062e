"""The first-run page: what the app does, that it stays on this computer, how to get a model."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)


class WelcomePage(QWidget):
    add_file_requested = Signal()
    browse_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("welcomePage")
        outer = QVBoxLayout(self)
        outer.addStretch(2)
        column = QWidget(self)
        column.setMaximumWidth(560)
        column.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        layout = QVBoxLayout(column)
        layout.setSpacing(14)
        title = QLabel("Welcome to Openweight", column)
        title.setObjectName("pageTitle")
        layout.addWidget(title)
        for text in (
            "Chat with open-weight AI models that run entirely on this computer.",
            "Your conversations and your models stay here. Nothing is sent anywhere: no "
            "account, no cloud, and no internet connection needed once you have a model.",
            "To begin, add a model. Models are GGUF files; if you already have one, add it "
            "from your disk, or browse the library for one that fits this computer.",
        ):
            label = QLabel(text, column)
            label.setWordWrap(True)
            layout.addWidget(label)
        buttons = QHBoxLayout()
        self.add_button = QPushButton("Add a model file…", column)
        self.add_button.setObjectName("primaryButton")
        self.add_button.setAccessibleName("Add a model file")
        self.add_button.clicked.connect(self.add_file_requested)
        self.browse_button = QPushButton("Browse models", column)
        self.browse_button.setAccessibleName("Browse models")
        self.browse_button.clicked.connect(self.browse_requested)
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.browse_button)
        buttons.addStretch(1)
        layout.addSpacing(6)
        layout.addLayout(buttons)
        self.error = QLabel(column)
        self.error.setWordWrap(True)
        self.error.setObjectName("errorText")
        self.error.hide()
        layout.addWidget(self.error)
        centring = QHBoxLayout()
        centring.addStretch(1)
        centring.addWidget(column, 10)
        centring.addStretch(1)
        outer.addLayout(centring)
        outer.addStretch(3)

    def show_error(self, text: str | None) -> None:
        self.error.setText(text or "")
        self.error.setVisible(bool(text))
