"""The curated catalog: one card per model, with the facts that matter and how well it fits here."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from desktop.library.catalog import CatalogEntry
from desktop.library.filenames import split_part_names
from desktop.library.hardware import Fit, Machine
from desktop.library.jobs import DownloadProgress, DownloadState
from desktop.library.units import format_bytes
from desktop.ui.models.downloads_tab import progress_text
from desktop.ui.models.widgets import (
    apply_download_state,
    context_text,
    download_state,
    error_label,
    fit_badge,
    muted_label,
    offline_notice,
    show_error,
    speed_badge,
)

_REASONING = {
    "harmony": "Reasoning effort: low to high",
    "think": "Can think first",
}


def entry_facts(entry: CatalogEntry) -> str:
    """'20B parameters · MXFP4 · 12.1 GB · 128K context · Apache-2.0'."""
    facts = [
        f"{entry.parameters} parameters" if entry.parameters else None,
        entry.quantization,
        format_bytes(entry.size_bytes),
        context_text(entry.context_length),
        entry.license,
        _REASONING.get(entry.reasoning_style),
    ]
    return " · ".join(f for f in facts if f)


class CatalogCard(QFrame):
    download_clicked = Signal(object)  # CatalogEntry

    def __init__(self, entry: CatalogEntry, machine: Machine, parent: QWidget | None = None):
        super().__init__(parent)
        self.entry = entry
        self.setObjectName("modelCard")
        self.setAccessibleName(entry.display_name)
        fit = entry.fit(machine)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 12, 14, 12)
        layout.setSpacing(4)
        top = card_title_row(self, entry, fit)
        self.download_button = QPushButton("Download", self)
        if fit.level != "too_large":  # still allowed, but not the obvious next step
            self.download_button.setObjectName("primaryButton")
        self.download_button.clicked.connect(lambda: self.download_clicked.emit(self.entry))
        top.addWidget(self.download_button)
        layout.addLayout(top)
        self.facts = muted_label(entry_facts(entry), self)
        layout.addWidget(self.facts)
        description = QLabel(entry.description, self)
        description.setWordWrap(True)
        layout.addWidget(description)
        self.fit_reason = muted_label(fit.summary, self)
        layout.addWidget(self.fit_reason)
        # A download started here shows how it goes here, not only under Downloads.
        add_download_rows(self, layout, entry)
        self.failed = False

    @property
    def key(self) -> tuple[str, str]:
        return (self.entry.repo_id, self.entry.filename)

    def show_progress(self, p: DownloadProgress) -> None:
        """Progress while it runs, the reason when it fails; nothing once it is done with."""
        self.failed = p.state == DownloadState.FAILED
        show_error(self.error, p.message if self.failed else None)
        show_download_progress(self.bar, self.progress_label, p)


def card_title_row(card: QWidget, entry: CatalogEntry, fit: Fit) -> QHBoxLayout:
    """A model card's first row: its name, then its memory and speed badges (kept on the card
    as fit_badge and speed_badge)."""
    top = QHBoxLayout()
    top.setSpacing(10)
    title = QLabel(entry.display_name, card)
    title.setObjectName("cardTitle")
    top.addWidget(title)
    card.fit_badge = fit_badge(fit, card)  # type: ignore[attr-defined]
    top.addWidget(card.fit_badge)  # type: ignore[attr-defined]
    card.speed_badge = speed_badge(fit.speed, card)  # type: ignore[attr-defined]
    top.addWidget(card.speed_badge)  # type: ignore[attr-defined]
    top.addStretch(1)
    return top


def add_download_rows(card: QWidget, layout: QVBoxLayout, entry: CatalogEntry) -> None:
    """A card's own download progress: a bar, a line of text and an error (card.bar,
    card.progress_label, card.error), all hidden until a download starts."""
    card.bar = download_bar(card, f"Download progress of {entry.display_name}")  # type: ignore[attr-defined]
    layout.addWidget(card.bar)  # type: ignore[attr-defined]
    label = muted_label("", card)
    label.setAccessibleName("Download progress")
    label.hide()
    card.progress_label = label  # type: ignore[attr-defined]
    layout.addWidget(label)
    card.error = error_label(card)  # type: ignore[attr-defined]
    layout.addWidget(card.error)  # type: ignore[attr-defined]


def download_bar(parent: QWidget, name: str) -> QProgressBar:
    bar = QProgressBar(parent)
    bar.setRange(0, 1000)
    bar.setTextVisible(False)
    bar.setFixedHeight(8)
    bar.setAccessibleName(name)
    bar.hide()
    return bar


def show_download_progress(bar: QProgressBar, label: QLabel, p: DownloadProgress) -> None:
    """A bar and a line of text for a running or paused download; hidden otherwise."""
    shown = p.state not in (DownloadState.FAILED, DownloadState.CANCELLED, DownloadState.COMPLETED)
    bar.setVisible(shown)
    label.setVisible(shown)
    if not shown:
        return
    if p.fraction is None and p.state in (DownloadState.STARTING, DownloadState.VERIFYING):
        bar.setRange(0, 0)  # busy: no byte count yet, or checking the file
    else:
        bar.setRange(0, 1000)
        bar.setValue(int((p.fraction or 0) * 1000))
    label.setText(progress_text(p))


class CatalogTab(QWidget):
    download_requested = Signal(object)  # CatalogEntry

    def __init__(
        self, entries: tuple[CatalogEntry, ...], machine: Machine, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 8, 0, 0)
        self.offline_notice = offline_notice(self)
        outer.addWidget(self.offline_notice)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setAccessibleName("Model catalog")
        column = QWidget(scroll)
        layout = QVBoxLayout(column)
        layout.setContentsMargins(0, 0, 8, 0)
        layout.setSpacing(10)
        self.cards: dict[str, CatalogCard] = {}
        sections = (
            ("Chat models", [e for e in entries if e.kind != "embedding"]),
            ("For searching your documents", [e for e in entries if e.kind == "embedding"]),
        )
        for heading, members in sections:
            if not members:
                continue
            header = QLabel(heading, column)
            header.setObjectName("sectionHeader")
            layout.addWidget(header)
            for entry in members:
                card = CatalogCard(entry, machine, column)
                card.download_clicked.connect(self.download_requested)
                self.cards[entry.name] = card
                layout.addWidget(card)
        layout.addStretch(1)
        scroll.setWidget(column)
        outer.addWidget(scroll, 1)

    def update_states(
        self,
        installed: set[tuple[str, str]],
        active: dict[tuple[str, str], str],
        offline: bool,
    ) -> None:
        self.offline_notice.setVisible(offline)
        for card in self.cards.values():
            state = download_state(card.key, installed, active, offline)
            apply_download_state(card.download_button, state, card.entry.display_name)
            if card.failed and state.enabled:
                card.download_button.setText("Try again")
                card.download_button.setAccessibleName(f"Try again {card.entry.display_name}")

    def show_progress(self, progress: DownloadProgress) -> None:
        card = self.card_for(progress.repo_id, progress.filename)
        if card is not None:
            card.show_progress(progress)

    def card_for(self, repo_id: str, filename: str) -> CatalogCard | None:
        key = (repo_id, split_part_names(filename)[0])
        return next((c for c in self.cards.values() if c.key == key), None)
