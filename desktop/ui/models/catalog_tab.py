"""The curated catalog: one card per model, with the facts that matter and how well it fits here."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from desktop.library.catalog import CatalogEntry
from desktop.library.hardware import Machine
from desktop.library.units import format_bytes
from desktop.ui.models.widgets import (
    apply_download_state,
    context_text,
    download_state,
    fit_badge,
    muted_label,
    offline_notice,
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
        top = QHBoxLayout()
        top.setSpacing(10)
        title = QLabel(entry.display_name, self)
        title.setObjectName("cardTitle")
        top.addWidget(title)
        self.fit_badge = fit_badge(fit, self)
        top.addWidget(self.fit_badge)
        top.addStretch(1)
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
        self.fit_reason = muted_label(fit.reason, self)
        layout.addWidget(self.fit_reason)


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
            key = (card.entry.repo_id, card.entry.filename)
            state = download_state(key, installed, active, offline)
            apply_download_state(card.download_button, state, card.entry.display_name)
