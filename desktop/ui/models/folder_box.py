"""The models folder: where downloads go, and moving it (files move along, or are found there)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.library.downloads import DownloadManager
from desktop.library.errors import LibraryError
from desktop.library.jobs import FINISHED, DownloadState
from desktop.library.relocate import RelocationResult, move_models_folder
from desktop.library.units import format_bytes
from desktop.store import Store
from desktop.ui.models.widgets import error_label, muted_label, show_error
from desktop.ui.tasks import BackgroundTasks, Report

MOVE, FIND = "move", "find"


def relocation_summary(result: RelocationResult, move: bool) -> str:
    where = result.models_dir
    if move:
        if not result.moved:
            return f"The models folder is now {where}."
        count = len(result.moved)
        return (
            f"Moved {count} model{'s' if count != 1 else ''} ({format_bytes(result.bytes_moved)}) "
            f"to {where}."
        )
    text = f"Found {len(result.found)} model{'s' if len(result.found) != 1 else ''} in {where}."
    if result.not_found:
        text += (
            f" Not found there, so still used from where they were: {', '.join(result.not_found)}."
        )
    return text


class ModelsFolderBox(QWidget):
    folder_changed = Signal(str)

    def __init__(
        self,
        database: Path,
        downloads: DownloadManager,
        tasks: BackgroundTasks,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.database = database
        self.downloads = downloads
        self.tasks = tasks
        self.busy = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        header = QLabel("Models folder", self)
        header.setObjectName("sectionHeader")
        layout.addWidget(header)
        row = QHBoxLayout()
        self.path_label = QLabel(self)
        self.path_label.setAccessibleName("Models folder")
        self.path_label.setWordWrap(True)
        row.addWidget(self.path_label, 1)
        self.change_button = QPushButton("Change…", self)
        self.change_button.setAccessibleName("Change the models folder")
        self.change_button.clicked.connect(self.change)
        row.addWidget(self.change_button)
        layout.addLayout(row)
        self.bar = QProgressBar(self)
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(False)
        self.bar.setAccessibleName("Moving models")
        self.bar.hide()
        layout.addWidget(self.bar)
        self.status = muted_label("", self)
        self.status.hide()
        layout.addWidget(self.status)
        self.error = error_label(self)
        layout.addWidget(self.error)
        self.show_folder()

    @property
    def folder(self) -> Path:
        return self.downloads.models_dir

    def show_folder(self) -> None:
        self.path_label.setText(str(self.folder))
        self.path_label.setToolTip("New downloads are saved here.")

    # -- asking the user (tests replace these) --------------------------------------------------
    def choose_folder(self) -> str | None:
        chosen = QFileDialog.getExistingDirectory(
            self, "Choose the models folder", str(self.folder)
        )
        return chosen or None

    def ask_move_or_find(self, new_folder: Path) -> str | None:
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Change the models folder")
        box.setText(f"Use {new_folder} for models?")
        box.setInformativeText(
            "Openweight can move the models it downloaded into the new folder, or, if you "
            "copied them there yourself, use the copies it finds there."
        )
        move = box.addButton("Move the files", QMessageBox.ButtonRole.AcceptRole)
        find = box.addButton("Use the files already there", QMessageBox.ButtonRole.ActionRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(move)
        box.exec()
        clicked = box.clickedButton()
        return MOVE if clicked is move else FIND if clicked is find else None

    # -- changing -------------------------------------------------------------------------------
    def change(self) -> None:
        show_error(self.error, None)
        running = [
            j
            for j in self.downloads.jobs()
            if j.state not in FINISHED and j.state != DownloadState.PAUSED
        ]
        if running:
            show_error(
                self.error,
                "A download is running. Pause it or let it finish before changing the models "
                "folder.",
            )
            return
        chosen = self.choose_folder()
        if not chosen:
            return
        new_folder = Path(chosen)
        how = self.ask_move_or_find(new_folder)
        if how is not None:
            self.start(new_folder, move=how == MOVE)

    def start(self, new_folder: Path, move: bool) -> None:
        """Run the move (or the search) on a worker thread, with progress here."""
        old_folder, database = self.folder, self.database
        self.busy = True
        self.change_button.setEnabled(False)
        self.bar.setRange(0, 1000 if move else 0)
        self.bar.setValue(0)
        self.bar.show()
        self.status.setText(f"Moving models to {new_folder}…" if move else "Looking for models…")
        self.status.show()

        def work(report: Report) -> RelocationResult:
            store = Store(database)  # this thread's own connection
            try:
                return move_models_folder(
                    store,
                    old_folder,
                    new_folder,
                    move_files=move,
                    progress=lambda done, total, name: report((done, total, name)),
                )
            finally:
                store.close()

        self.tasks.run(
            work,
            lambda result, error: self._finished(result, error, move),
            progress=self._progressed,
        )

    def _progressed(self, value: tuple[int, int, str]) -> None:
        done, total, name = value
        self.bar.setValue(int(1000 * done / total) if total else 0)
        self.status.setText(f"Moving {name}: {format_bytes(done)} of {format_bytes(total)}…")

    def _finished(
        self, result: RelocationResult | None, error: Exception | None, move: bool
    ) -> None:
        self.busy = False
        self.change_button.setEnabled(True)
        self.bar.hide()
        if error is not None or result is None:
            self.status.hide()
            text = (
                str(error)
                if isinstance(error, LibraryError)
                else f"Could not change the models folder: {error}"
            )
            show_error(self.error, text)
            self.folder_changed.emit(str(self.folder))  # some models may have moved all the same
            return
        self.downloads.models_dir = result.models_dir
        self.show_folder()
        self.status.setText(relocation_summary(result, move))
        self.folder_changed.emit(str(result.models_dir))
