"""Search the Hugging Face Hub for GGUF repositories, then pick a file from one of them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.library.errors import LibraryError
from desktop.library.hardware import Machine
from desktop.library.hub import HubClient, HubModelFile, HubRepo, RepoListing, recommend
from desktop.library.jobs import DownloadRequest
from desktop.library.units import format_bytes
from desktop.ui.models.widgets import (
    apply_download_state,
    download_state,
    error_label,
    fit_badge,
    muted_label,
    offline_notice,
    show_error,
    speed_badge,
)
from desktop.ui.tasks import BackgroundTasks

_REPO_ROLE = Qt.ItemDataRole.UserRole


def describe(error: Exception) -> str:
    if isinstance(error, LibraryError):
        return str(error)
    return f"Something went wrong while talking to the Hub: {error}"


def short_count(n: int) -> str:
    """12345 → '12.3K', as the Hub shows download counts."""
    for limit, suffix in ((1_000_000_000, "B"), (1_000_000, "M"), (1_000, "K")):
        if n >= limit:
            return f"{n / limit:.1f}".rstrip("0").rstrip(".") + suffix
    return str(n)


class HubSearchTab(QWidget):
    download_requested = Signal(object)  # DownloadRequest

    def __init__(
        self,
        hub_factory: Callable[[], HubClient],
        tasks: BackgroundTasks,
        machine: Machine,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.hub_factory = hub_factory
        self.tasks = tasks
        self.machine = machine
        self.offline = False
        self._installed: set[tuple[str, str]] = set()
        self._active: dict[tuple[str, str], str] = {}
        self._search_id = 0  # answers to any other request are stale and dropped
        self._files_id = 0
        self._listing: RepoListing | None = None
        self._buttons: dict[tuple[str, str], tuple[QPushButton, str]] = {}
        self._build()

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        self.offline_notice = offline_notice(self)
        layout.addWidget(self.offline_notice)
        row = QHBoxLayout()
        self.query = QLineEdit(self)
        self.query.setPlaceholderText("Search GGUF models on Hugging Face, e.g. Qwen3 or gpt-oss")
        self.query.setAccessibleName("Hub search terms")
        self.query.setClearButtonEnabled(True)
        self.query.returnPressed.connect(self.search)
        row.addWidget(self.query, 1)
        self.search_button = QPushButton("Search", self)
        self.search_button.setAccessibleName("Search the Hub")
        self.search_button.clicked.connect(self.search)
        row.addWidget(self.search_button)
        layout.addLayout(row)
        self.status = muted_label("Nothing is sent anywhere until you search.", self)
        layout.addWidget(self.status)
        self.error = error_label(self)
        layout.addWidget(self.error)

        splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.results = QTreeWidget(splitter)
        self.results.setAccessibleName("Search results")
        self.results.setObjectName("hubResults")
        self.results.setHeaderLabels(["Repository", "Downloads", "Likes", "Last updated"])
        self.results.setRootIsDecorated(False)
        self.results.setUniformRowHeights(True)
        header = self.results.header()
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setStretchLastSection(False)
        # Sized to their contents so a heading such as "Last updated" is never cut off.
        for column in (1, 2, 3):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.results.currentItemChanged.connect(self._repo_chosen)

        files_box = QWidget(splitter)
        files_layout = QVBoxLayout(files_box)
        files_layout.setContentsMargins(0, 6, 0, 0)
        self.files_title = QLabel("Choose a repository to see its files", files_box)
        self.files_title.setObjectName("sectionHeader")
        files_layout.addWidget(self.files_title)
        self.files_status = muted_label("", files_box)
        self.files_status.hide()
        files_layout.addWidget(self.files_status)
        self.files_error = error_label(files_box)
        files_layout.addWidget(self.files_error)
        self.files = QTreeWidget(files_box)
        self.files.setAccessibleName("Model files")
        self.files.setHeaderLabels(["File", "Size", "Fit and speed", ""])
        self.files.setUniformRowHeights(False)
        files_header = self.files.header()
        files_header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        files_header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        files_header.setStretchLastSection(False)
        for column in (1, 2, 3):
            files_header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        files_layout.addWidget(self.files, 1)
        splitter.setSizes([220, 320])
        layout.addWidget(splitter, 1)

    # -- searching ------------------------------------------------------------------------------
    def search(self) -> None:
        text = self.query.text().strip()
        if self.offline:  # the button is disabled too, but Enter still reaches here
            show_error(self.error, None)
            self.status.setText("Offline mode is on, so Openweight did not search.")
            return
        self._clear_files()
        self.results.clear()
        show_error(self.error, None)
        self.status.setText(f"Searching the Hub for “{text}”…" if text else "Searching the Hub…")
        client = self.hub_factory()
        task = self.tasks.run(
            lambda report: client.search(text),
            lambda result, error: self._searched(task, text, result, error),
        )
        self._search_id = task

    def _searched(
        self, task: int, query: str, repos: list[HubRepo] | None, error: Exception | None
    ) -> None:
        if task != self._search_id:
            return  # a newer search replaced this one
        if error is not None:
            self.status.setText("")
            show_error(self.error, describe(error))
            return
        repos = repos or []
        for repo in repos:
            updated = repo.last_modified.strftime("%Y-%m-%d") if repo.last_modified else ""
            item = QTreeWidgetItem(
                [repo.repo_id, short_count(repo.downloads), short_count(repo.likes), updated]
            )
            item.setData(0, _REPO_ROLE, repo.repo_id)
            item.setToolTip(0, repo.repo_id)
            for column in (1, 2):
                item.setTextAlignment(column, Qt.AlignmentFlag.AlignRight)
            self.results.addTopLevelItem(item)
        for column in (1, 2, 3):
            self.results.resizeColumnToContents(column)
        if repos:
            self.status.setText(
                f"{len(repos)} GGUF {'repository' if len(repos) == 1 else 'repositories'}, "
                "most downloaded first. Choose one to see its files."
            )
        else:
            self.status.setText(f"No GGUF repositories match “{query}”.")

    # -- one repository's files ---------------------------------------------------------------
    def _repo_chosen(self, item: QTreeWidgetItem | None, _previous: Any = None) -> None:
        self._clear_files()
        if item is None:
            return
        repo_id = str(item.data(0, _REPO_ROLE))
        self.files_title.setText(f"Files in {repo_id}")
        if self.offline:
            self.files_status.setText("Offline mode is on, so the files were not listed.")
            self.files_status.show()
            return
        self.files_status.setText("Listing files…")
        self.files_status.show()
        client = self.hub_factory()
        task = self.tasks.run(
            lambda report: client.list_files(repo_id),
            lambda result, error: self._listed(task, result, error),
        )
        self._files_id = task

    def _listed(self, task: int, listing: RepoListing | None, error: Exception | None) -> None:
        if task != self._files_id:
            return  # the user chose another repository (or searched again) meanwhile
        self.files_status.hide()
        if error is not None or listing is None:
            show_error(self.files_error, describe(error or LibraryError("No answer.")))
            return
        self._listing = listing
        self._fill_files(listing)

    def _fill_files(self, listing: RepoListing) -> None:
        best = recommend(listing.models, self.machine)
        bold = QFont(self.files.font())
        bold.setBold(True)
        for quantization, models in listing.by_quantization().items():
            group = QTreeWidgetItem([quantization])
            group.setFont(0, bold)
            self.files.addTopLevelItem(group)
            for model in models:
                self._add_file(group, listing, model, model is best)
            group.setExpanded(True)
        notes = []
        if not listing.models:
            notes.append("This repository has no GGUF model files Openweight can use.")
        missing = len(listing.incomplete_splits)
        if missing:
            notes.append(
                "One split model is missing parts, so it is not offered."
                if missing == 1
                else f"{missing} split models are missing parts, so they are not offered."
            )
        if best is not None:
            notes.append(f"Recommended for this computer: {best.name}.")
        self.files_status.setText(" ".join(notes))
        self.files_status.setVisible(bool(notes))
        self._refresh_buttons()

    def _add_file(
        self, group: QTreeWidgetItem, listing: RepoListing, model: HubModelFile, best: bool
    ) -> None:
        name = model.name + (f"  ({len(model.parts)} parts)" if model.is_split else "")
        if best:
            name += "  ★ Recommended"
        size = format_bytes(model.size_bytes) if model.size_bytes else "?"
        item = QTreeWidgetItem([name, size, "", ""])
        item.setToolTip(0, "\n".join(p.filename for p in model.parts))
        item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        group.addChild(item)
        fit = model.fit(self.machine)
        badge = QWidget()  # the memory fit and, beside it, the speed
        badges = QHBoxLayout(badge)
        badges.setContentsMargins(0, 0, 0, 0)
        badges.setSpacing(6)
        badges.addWidget(fit_badge(fit))
        badges.addWidget(speed_badge(fit.speed if fit else None))
        button = QPushButton("Download")
        button.setMinimumWidth(button.fontMetrics().horizontalAdvance("Downloading…") + 28)
        request = DownloadRequest(listing.repo_id, model.filename, revision=listing.revision)
        button.clicked.connect(lambda: self.download_requested.emit(request))
        for column, widget in ((2, badge), (3, button)):
            self._place(item, column, widget)
        self._buttons[(listing.repo_id, model.filename)] = (button, model.name)

    def _place(self, item: QTreeWidgetItem, column: int, widget: QWidget) -> None:
        """Put a widget in a cell at its own size (a cell stretches what it holds directly)."""
        holder = QWidget()
        row = QHBoxLayout(holder)
        row.setContentsMargins(4, 3, 4, 3)
        row.addWidget(widget, 0, Qt.AlignmentFlag.AlignVCenter)
        row.addStretch(1)
        item.setSizeHint(column, holder.sizeHint())  # cells are sized by their item
        self.files.setItemWidget(item, column, holder)

    def _clear_files(self) -> None:
        self._files_id = -1
        self._listing = None
        self._buttons.clear()
        self.files.clear()
        self.files_title.setText("Choose a repository to see its files")
        self.files_status.hide()
        show_error(self.files_error, None)

    # -- state from the page ------------------------------------------------------------------
    def update_states(
        self,
        installed: set[tuple[str, str]],
        active: dict[tuple[str, str], str],
        offline: bool,
    ) -> None:
        self._installed, self._active, self.offline = installed, active, offline
        self.offline_notice.setVisible(offline)
        self.query.setEnabled(not offline)
        self.search_button.setEnabled(not offline)
        self.search_button.setToolTip(
            "Offline mode is on. Turn it off in Settings to search." if offline else ""
        )
        self._refresh_buttons()

    def _refresh_buttons(self) -> None:
        for key, (button, name) in self._buttons.items():
            state = download_state(key, self._installed, self._active, self.offline)
            apply_download_state(button, state, name)
