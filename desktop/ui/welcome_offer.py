"""The welcome page's recommendation: one catalog model that suits this computer, one click
to download it, and the download's progress right there.

Built only when the welcome page offers a model (first run), so start-up does not load the
Models page's modules.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from desktop.library.catalog import CatalogEntry
from desktop.library.hardware import Fit
from desktop.library.jobs import DownloadProgress, DownloadState
from desktop.library.units import format_bytes
from desktop.ui.models.catalog_tab import (
    add_download_rows,
    card_title_row,
    entry_facts,
    show_download_progress,
)
from desktop.ui.models.widgets import (
    OFFLINE_TOOLTIP,
    PAGE_STYLE,
    muted_label,
    show_error,
)

_RUNNING = (
    DownloadState.QUEUED,
    DownloadState.STARTING,
    DownloadState.DOWNLOADING,
    DownloadState.VERIFYING,
)


class RecommendationCard(QFrame):
    download_clicked = Signal(object)  # CatalogEntry

    def __init__(self, entry: CatalogEntry, fit: Fit, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.entry = entry
        self.setObjectName("modelCard")
        self.setStyleSheet(PAGE_STYLE)
        self.setAccessibleName(f"Recommended model: {entry.display_name}")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 12, 14, 12)
        layout.setSpacing(4)
        heading = QLabel("Recommended for this computer", self)
        heading.setObjectName("sectionHeader")
        layout.addWidget(heading)
        layout.addLayout(card_title_row(self, entry, fit))
        layout.addWidget(muted_label(entry_facts(entry), self))
        description = QLabel(entry.description, self)
        description.setWordWrap(True)
        layout.addWidget(description)
        self.reason = muted_label(fit.summary, self)
        layout.addWidget(self.reason)
        row = QHBoxLayout()
        self.download_button = QPushButton(self._download_text(), self)
        self.download_button.setObjectName("primaryButton")
        self.download_button.setAccessibleName(f"Download {entry.display_name}")
        self.download_button.clicked.connect(lambda: self.download_clicked.emit(self.entry))
        row.addWidget(self.download_button)
        row.addStretch(1)
        layout.addSpacing(4)
        layout.addLayout(row)
        add_download_rows(self, layout, entry)

    def _download_text(self) -> str:
        return f"Download {self.entry.display_name} ({format_bytes(self.entry.size_bytes)})"

    def set_offline(self, offline: bool) -> None:
        if self.download_button.text() == self._download_text():
            self.download_button.setEnabled(not offline)
        self.download_button.setToolTip(OFFLINE_TOOLTIP if offline else "")

    def show_progress(self, p: DownloadProgress) -> None:
        failed = p.state == DownloadState.FAILED
        show_error(self.error, p.message if failed else None)
        show_download_progress(self.bar, self.progress_label, p)
        if p.state in _RUNNING:
            text, enabled = "Downloading…", False
        elif p.state == DownloadState.PAUSED:
            text, enabled = "Resume download", True
        elif failed:
            text, enabled = "Try again", True
        elif p.state == DownloadState.COMPLETED:
            text, enabled = "Downloaded", False
        else:
            text, enabled = self._download_text(), True
        self.download_button.setText(text)
        self.download_button.setEnabled(enabled)

    def show_failure(self, text: str) -> None:
        """A download that could not even start (offline mode, no room on the disk)."""
        show_error(self.error, text)
