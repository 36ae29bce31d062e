"""The Models page: the catalog, Hub search, downloads and installed models, in four tabs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QTabWidget, QVBoxLayout, QWidget

from desktop.library.catalog import CatalogEntry, load_catalog
from desktop.library.downloads import DownloadManager
from desktop.library.errors import LibraryError
from desktop.library.filenames import split_part_names
from desktop.library.hardware import Machine, detect_machine
from desktop.library.hub import HubClient
from desktop.library.jobs import DownloadProgress, DownloadRequest, DownloadState
from desktop.library.network import OFFLINE_SETTING
from desktop.paths import DataPaths
from desktop.store import Store
from desktop.ui.models.catalog_tab import CatalogTab
from desktop.ui.models.downloads_tab import DownloadEvents, DownloadsTab
from desktop.ui.models.folder_box import ModelsFolderBox
from desktop.ui.models.hub_tab import HubSearchTab
from desktop.ui.models.installed_tab import InstalledTab
from desktop.ui.models.widgets import PAGE_STYLE, error_label, show_error
from desktop.ui.tasks import BackgroundTasks

_BUTTON_WORDS = {
    DownloadState.PAUSED: "Paused",
    DownloadState.QUEUED: "Waiting…",
}


class ModelsPage(QWidget):
    models_changed = Signal()  # installed models (or the default) changed
    use_model_requested = Signal(str)  # the user chose a model for new chats
    back_requested = Signal()

    def __init__(
        self,
        store: Store,
        paths: DataPaths,
        downloads: DownloadManager,
        hub_factory: Callable[[], HubClient],
        parent: QWidget | None = None,
        *,
        machine: Machine | None = None,
        catalog: tuple[CatalogEntry, ...] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("modelsPage")
        self.setStyleSheet(PAGE_STYLE)
        self.store = store
        self.paths = paths
        self.downloads = downloads
        self.offline = False
        self._states: dict[int, DownloadState] = {}
        self.tasks = BackgroundTasks("models-page", self)
        self.events = DownloadEvents(downloads, self)
        machine = machine or detect_machine()
        self._build(catalog if catalog is not None else load_catalog(), machine, hub_factory)
        self.events.changed.connect(self._download_changed)
        for progress in downloads.jobs():  # e.g. unfinished downloads restored at start-up
            self._download_changed(progress)
        self.refresh()

    def _build(
        self,
        catalog: tuple[CatalogEntry, ...],
        machine: Machine,
        hub_factory: Callable[[], HubClient],
    ) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(32, 20, 32, 20)
        layout.setSpacing(10)
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
        self.error = error_label(self)
        layout.addWidget(self.error)

        self.tabs = QTabWidget(self)
        self.tabs.setAccessibleName("Models sections")
        self.tabs.setDocumentMode(True)
        self.catalog_tab = CatalogTab(catalog, machine, self)
        self.hub_tab = HubSearchTab(hub_factory, self.tasks, machine, self)
        self.downloads_tab = DownloadsTab(self.downloads, self)
        self.installed_tab = InstalledTab(
            self.store, lambda: self.downloads.models_dir, self, machine=machine
        )
        self.folder_box = ModelsFolderBox(
            Path(self.store.path), self.downloads, self.tasks, self.installed_tab
        )
        self.installed_tab.column.addWidget(self.folder_box)
        self.tabs.addTab(self.catalog_tab, "Catalog")
        self.tabs.addTab(self.hub_tab, "Search the Hub")
        self.tabs.addTab(self.downloads_tab, "Downloads")
        self.tabs.addTab(self.installed_tab, "Installed")
        layout.addWidget(self.tabs, 1)

        self.catalog_tab.download_requested.connect(
            lambda entry: self.download(DownloadRequest.from_catalog(entry))
        )
        self.hub_tab.download_requested.connect(self.download)
        self.installed_tab.models_changed.connect(self._installed_changed)
        self.installed_tab.use_model_requested.connect(self.use_model_requested)
        self.folder_box.folder_changed.connect(lambda _folder: self._installed_changed())
        self.tabs.currentChanged.connect(self._tab_changed)

    # -- public ---------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Re-read the settings and installed models (the page may have been hidden a while)."""
        self.offline = bool(self.store.settings.get(OFFLINE_SETTING, False))
        self.installed_tab.refresh()
        self.downloads_tab.set_offline(self.offline)
        self._update_states()

    @property
    def installed(self) -> InstalledTab:
        """The installed models (the window's stand-in page offered the same name)."""
        return self.installed_tab

    def show_tab(self, name: str) -> None:
        tabs = {
            "catalog": self.catalog_tab,
            "hub": self.hub_tab,
            "downloads": self.downloads_tab,
            "installed": self.installed_tab,
        }
        self.tabs.setCurrentWidget(tabs[name])

    def _tab_changed(self, _index: int) -> None:
        # Opening the Hub tab is a wish to search: the words typed next go into the search box.
        if self.tabs.currentWidget() is self.hub_tab:
            self.hub_tab.query.setFocus()

    def download(self, request: DownloadRequest) -> None:
        show_error(self.error, None)
        self.refresh()  # offline mode may have been switched on in Settings meanwhile
        if self.folder_box.busy:
            show_error(self.error, "Wait until the models folder has moved, then download.")
            return
        try:
            self.downloads.enqueue(request)  # a failed one for the same file carries on
        except LibraryError as exc:
            show_error(self.error, str(exc))
            return
        self._update_states()

    def shutdown(self) -> None:
        """Stop listening to the download manager and wait for background work (the owner
        closes the manager itself)."""
        self.events.detach()
        self.tasks.shutdown()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        self.refresh()

    # -- reacting -------------------------------------------------------------------------------
    def _download_changed(self, progress: DownloadProgress) -> None:
        self.downloads_tab.show_progress(progress)
        self.catalog_tab.show_progress(progress)
        previous = self._states.get(progress.job_id)
        self._states[progress.job_id] = progress.state
        if previous == progress.state:
            return  # only a byte count moved on: nothing else on the page changes
        if progress.state == DownloadState.COMPLETED and progress.model is not None:
            self._installed_changed()
        else:
            self._update_states()

    def _installed_changed(self) -> None:
        self.installed_tab.refresh()
        self._update_states()
        self.models_changed.emit()

    def _update_states(self) -> None:
        installed = {
            (m.repo_id, m.filename)
            for m in self.installed_tab.models
            if m.repo_id and m.filename and Path(m.path).is_file()
        }
        active: dict[tuple[str, str], str] = {}
        for progress in self.downloads_tab.active():
            key = (progress.repo_id, split_part_names(progress.filename)[0])
            active[key] = _BUTTON_WORDS.get(progress.state, "Downloading…")
        self.catalog_tab.update_states(installed, active, self.offline)
        self.hub_tab.update_states(installed, active, self.offline)
        count = len(active)
        self.tabs.setTabText(
            self.tabs.indexOf(self.downloads_tab), f"Downloads ({count})" if count else "Downloads"
        )
