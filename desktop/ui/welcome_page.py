"""The first-run page: what the app does, that it stays on this computer, how to get a model
(with one recommended for this computer, downloaded in one click)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

if TYPE_CHECKING:
    from desktop.library.catalog import CatalogEntry
    from desktop.library.hardware import Fit
    from desktop.library.jobs import DownloadProgress
    from desktop.ui.welcome_offer import RecommendationCard


class WelcomePage(QWidget):
    add_file_requested = Signal()
    browse_requested = Signal()
    download_requested = Signal(object)  # the recommended CatalogEntry

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
            "from your disk (or drop it on this window), or browse the library for one that "
            "fits this computer.",
        ):
            label = QLabel(text, column)
            label.setWordWrap(True)
            layout.addWidget(label)
        self.how_to_begin = label
        self._column = layout
        self.offer_card: RecommendationCard | None = None
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

    def offer(self, entry: CatalogEntry, fit: Fit, offline: bool = False) -> None:
        """Recommend a model for this computer, with a button that downloads it."""
        from desktop.ui.welcome_offer import RecommendationCard  # first run only

        if self.offer_card is not None and self.offer_card.entry == entry:
            self.offer_card.set_offline(offline)
            return
        if self.offer_card is not None:
            self.offer_card.deleteLater()
        self.offer_card = RecommendationCard(entry, fit, self)
        self.offer_card.download_clicked.connect(self.download_requested)
        self.offer_card.set_offline(offline)
        self.how_to_begin.setText(
            "To begin, download the model recommended below: it suits this computer's memory "
            "and speed. Or add a GGUF file you already have (or drop it here), or browse the "
            "library."
        )
        # Above the buttons, which now are the other ways in.
        self._column.insertWidget(self._column.indexOf(self.error) - 1, self.offer_card)
        self.add_button.setObjectName("")
        self.add_button.style().unpolish(self.add_button)
        self.add_button.style().polish(self.add_button)

    def show_progress(self, progress: DownloadProgress) -> None:
        """How the recommended model's download is going (others are not this page's)."""
        card = self.offer_card
        if (
            card is not None
            and progress.repo_id == card.entry.repo_id
            and (progress.filename == card.entry.filename)
        ):
            card.show_progress(progress)

    def show_error(self, text: str | None) -> None:
        self.error.setText(text or "")
        self.error.setVisible(bool(text))
