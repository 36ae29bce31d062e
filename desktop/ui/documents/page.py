"""The Documents page: collections, their folders, how far indexing got, and what was skipped."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.documents import (
    DEFAULT_EMBEDDING_MODEL,
    CollectionStatus,
    DocumentIndex,
    DocumentsError,
    IndexProgress,
    IndexSummary,
)
from desktop.library.units import format_duration
from desktop.ui.documents.indexing import DocumentsIndexing

STATE_WORDS = {
    "scanning": "Looking for files",
    "indexing": "Reading",
    "embedding": "Embedding",
    "paused": "Paused",
    "done": "Done",
    "cancelled": "Cancelled",
}


def describe_progress(p: IndexProgress) -> str:
    """One line a person reads at a glance: where it is, how much, how long."""
    words = STATE_WORDS.get(p.state, p.state.capitalize())
    text = f"{words} {p.collection}"
    if p.files_total:
        text += f": {p.files_done:,} of {p.files_total:,} files, {p.passages:,} passages"
    if p.seconds_left and p.state not in ("paused", "done", "cancelled"):
        text += f", about {format_duration(p.seconds_left)} left"
    return text


def describe_status(s: CollectionStatus) -> str:
    when = "never indexed" if not s.indexed_at else f"indexed {_ago(s.indexed_at)}"
    return f"{s.files:,} files · {s.passages:,} passages · {when}"


def describe_search(s: CollectionStatus) -> str:
    if s.model and s.embedded_passages:
        share = "" if s.embedded_passages >= s.passages else (
            f" ({s.embedded_passages:,} of {s.passages:,} passages so far)")
        return f"Search by meaning and keywords, with {s.model}{share}."
    return ("Search by keywords only. For search by meaning too, download an embedding model "
            f"such as {DEFAULT_EMBEDDING_MODEL} from the model library, then index again.")


def _ago(timestamp: float) -> str:
    seconds = max(0.0, time.time() - timestamp)
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    return time.strftime("on %d %b %Y", time.localtime(timestamp))


class DocumentsPage(QWidget):
    back_requested = Signal()
    collections_changed = Signal()  # created, deleted or renamed: the chat's picker refreshes

    def __init__(self, index_path: Path, indexing: DocumentsIndexing,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.index_path = index_path
        self.indexing = indexing
        self.setObjectName("documentsPage")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 16, 24, 16)
        layout.setSpacing(10)

        header = QHBoxLayout()
        self.back_button = QPushButton("‹ Chats", self)
        self.back_button.setAccessibleName("Back to chats")
        self.back_button.clicked.connect(self.back_requested)
        title = QLabel("Documents", self)
        title.setObjectName("pageTitle")
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setBold(True)
        title.setFont(font)
        header.addWidget(self.back_button)
        header.addWidget(title)
        header.addStretch(1)
        layout.addLayout(header)
        intro = QLabel(
            "Collections of your folders and files. A chat that uses a collection answers from "
            "them and shows which file and page each part of the answer came from. Everything "
            "stays on this computer.", self)
        intro.setObjectName("muted")
        intro.setWordWrap(True)
        layout.addWidget(intro)

        body = QHBoxLayout()
        body.setSpacing(16)
        layout.addLayout(body, 1)

        left = QVBoxLayout()
        self.list = QListWidget(self)
        self.list.setAccessibleName("Collections")
        self.list.setMinimumWidth(200)
        self.list.currentItemChanged.connect(lambda *_: self.show_selected())
        left.addWidget(self.list, 1)
        self.new_button = QPushButton("New collection…", self)
        self.new_button.clicked.connect(self.new_collection)
        self.delete_button = QPushButton("Delete collection", self)
        self.delete_button.clicked.connect(self.delete_collection)
        left.addWidget(self.new_button)
        left.addWidget(self.delete_button)
        body.addLayout(left)

        right = QVBoxLayout()
        right.setSpacing(8)
        self.name = QLabel(self)
        name_font = self.name.font()
        name_font.setBold(True)
        name_font.setPointSizeF(name_font.pointSizeF() * 1.15)
        self.name.setFont(name_font)
        self.summary = QLabel(self)
        self.search_kind = QLabel(self)
        self.search_kind.setWordWrap(True)
        self.search_kind.setObjectName("muted")
        right.addWidget(self.name)
        right.addWidget(self.summary)
        right.addWidget(self.search_kind)

        right.addWidget(QLabel("Folders and files", self))
        self.paths = QListWidget(self)
        self.paths.setAccessibleName("Folders and files in this collection")
        self.paths.setMaximumHeight(130)
        right.addWidget(self.paths)
        path_buttons = QHBoxLayout()
        self.add_folder_button = QPushButton("Add folder…", self)
        self.add_folder_button.clicked.connect(self.add_folder)
        self.add_files_button = QPushButton("Add files…", self)
        self.add_files_button.clicked.connect(self.add_files)
        self.remove_path_button = QPushButton("Remove", self)
        self.remove_path_button.setToolTip("Stop using this folder or file (it stays on disk)")
        self.remove_path_button.clicked.connect(self.remove_path)
        for button in (self.add_folder_button, self.add_files_button, self.remove_path_button):
            path_buttons.addWidget(button)
        path_buttons.addStretch(1)
        right.addLayout(path_buttons)

        progress_row = QHBoxLayout()
        self.index_button = QPushButton("Index now", self)
        self.index_button.setToolTip("Read new and changed files (unchanged ones are skipped)")
        self.index_button.clicked.connect(self.index_selected)
        self.pause_button = QPushButton("Pause", self)
        self.pause_button.clicked.connect(self.toggle_pause)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setToolTip("Stop indexing; files finished so far stay indexed")
        self.cancel_button.clicked.connect(self.indexing.cancel)
        progress_row.addWidget(self.index_button)
        progress_row.addWidget(self.pause_button)
        progress_row.addWidget(self.cancel_button)
        progress_row.addStretch(1)
        right.addLayout(progress_row)
        self.progress = QProgressBar(self)
        self.progress.setAccessibleName("Indexing progress")
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(8)
        self.progress_text = QLabel(self)
        self.progress_text.setWordWrap(True)
        right.addWidget(self.progress)
        right.addWidget(self.progress_text)

        self.skipped_label = QLabel(self)
        right.addWidget(self.skipped_label)
        self.skipped = QTreeWidget(self)
        self.skipped.setAccessibleName("Files that were skipped, and why")
        self.skipped.setHeaderLabels(["File", "Why it was skipped"])
        self.skipped.setRootIsDecorated(False)
        self.skipped.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.skipped.header().setStretchLastSection(True)
        right.addWidget(self.skipped, 1)
        body.addLayout(right, 1)

        self.empty = QLabel(
            "No collections yet. Choose “New collection…” and add a folder of documents "
            "(PDF, Word, OpenDocument, Markdown, HTML, text and code files), or drop folders "
            "and files on this window.", self)
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.empty)

        indexing.progressed.connect(self._progressed)
        indexing.finished.connect(self._finished)
        indexing.running_changed.connect(lambda _running: self._update_controls())
        self.refresh()

    # -- asking the user (tests replace these) ----------------------------------------------

    def ask_name(self) -> str | None:
        name, ok = QInputDialog.getText(self, "New collection", "Name (e.g. “Taxes 2025”):")
        return name.strip() if ok and name.strip() else None

    def choose_folder(self) -> str | None:
        return QFileDialog.getExistingDirectory(self, "Add a folder") or None

    def choose_files(self) -> list[str]:
        files, _ = QFileDialog.getOpenFileNames(self, "Add files")
        return files

    def confirm_delete(self, name: str) -> bool:
        answer = QMessageBox.question(
            self, "Delete collection",
            f"Delete the collection “{name}”? Its index is removed; your files are not touched.")
        return answer == QMessageBox.StandardButton.Yes

    def warn(self, text: str) -> None:
        QMessageBox.warning(self, "Documents", text)

    # -- contents ----------------------------------------------------------------------------

    def _index(self) -> DocumentIndex:
        return DocumentIndex(self.index_path)

    @property
    def selected(self) -> str | None:
        item = self.list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None

    def refresh(self, select: str | None = None) -> None:
        keep = select or self.selected
        index = self._index()
        try:
            statuses = [index.status(c.name) for c in index.collections()]
        finally:
            index.close()
        self.statuses = {s.name: s for s in statuses}
        self.list.blockSignals(True)
        self.list.clear()
        for s in statuses:
            item = QListWidgetItem(f"{s.name}\n{s.files:,} files", self.list)
            item.setData(Qt.ItemDataRole.UserRole, s.name)
            if s.name == keep:
                self.list.setCurrentItem(item)
        if self.list.currentItem() is None and self.list.count():
            self.list.setCurrentRow(0)
        self.list.blockSignals(False)
        self.empty.setVisible(not statuses)
        self.show_selected()

    def show_selected(self) -> None:
        status = self.statuses.get(self.selected or "")
        self.name.setText(status.name if status else "")
        self.summary.setText(describe_status(status) if status else "")
        self.search_kind.setText(describe_search(status) if status else "")
        self.paths.clear()
        self.skipped.clear()
        if status is not None:
            for p in status.paths:
                missing = p in status.missing_paths
                item = QListWidgetItem(p + ("  — not found (unplugged or moved?)" if missing else ""))
                item.setData(Qt.ItemDataRole.UserRole, p)
                item.setToolTip(p)
                self.paths.addItem(item)
            for path, reason in status.skipped:
                row = QTreeWidgetItem([Path(path).name, reason])
                row.setToolTip(0, path)
                row.setToolTip(1, reason)
                self.skipped.addTopLevelItem(row)
        count = len(status.skipped) if status else 0
        self.skipped_label.setText(f"Skipped files ({count})" if count else "No files were skipped.")
        self.skipped.setVisible(bool(count))
        self._update_controls()

    def _update_controls(self) -> None:
        has = self.selected is not None
        running = self.indexing.running
        for w in (self.delete_button, self.add_folder_button, self.add_files_button,
                  self.remove_path_button, self.name, self.summary, self.search_kind, self.paths):
            w.setVisible(has)
        self.index_button.setVisible(has)
        self.index_button.setEnabled(has and not running)
        self.pause_button.setVisible(running)
        self.cancel_button.setVisible(running)
        self.pause_button.setText("Resume" if self.indexing.paused else "Pause")
        self.progress.setVisible(running)
        self.delete_button.setEnabled(has and not running)
        if not running and not self.progress_text.text():
            self.progress_text.setVisible(False)

    # -- actions -------------------------------------------------------------------------------

    def new_collection(self) -> None:
        name = self.ask_name()
        if not name:
            return
        folder = self.choose_folder()
        self._create(name, [folder] if folder else [])

    def _create(self, name: str, paths: list[str]) -> None:
        index = self._index()
        try:
            index.create(name, [str(Path(p).resolve()) for p in paths])
        except DocumentsError as exc:
            self.warn(str(exc))
            return
        finally:
            index.close()
        self.refresh(select=name)
        self.collections_changed.emit()
        if paths:
            self.indexing.index([name])

    def add_dropped(self, paths: list[str]) -> None:
        """Folders and files dropped on the window: into the collection shown, or a first
        collection named after the first of them."""
        if self.selected is not None:
            self._add_paths(paths)
            return
        first = Path(paths[0])
        self._create((first.name if first.is_dir() else first.stem) or "Documents", paths)

    def delete_collection(self) -> None:
        name = self.selected
        if name is None or not self.confirm_delete(name):
            return
        index = self._index()
        try:
            index.delete(name)
        except DocumentsError as exc:
            self.warn(str(exc))
        finally:
            index.close()
        self.refresh()
        self.collections_changed.emit()

    def add_folder(self) -> None:
        folder = self.choose_folder()
        if folder:
            self._add_paths([folder])

    def add_files(self) -> None:
        files = self.choose_files()
        if files:
            self._add_paths(files)

    def _add_paths(self, chosen: list[str]) -> None:
        name = self.selected
        if name is None:
            return
        index = self._index()
        try:
            index.add_paths(name, [str(Path(p).resolve()) for p in chosen])
        except DocumentsError as exc:
            self.warn(str(exc))
            return
        finally:
            index.close()
        self.refresh()
        self.indexing.index([name])

    def remove_path(self) -> None:
        name, item = self.selected, self.paths.currentItem()
        if name is None or item is None:
            return
        index = self._index()
        try:
            index.remove_paths(name, [item.data(Qt.ItemDataRole.UserRole)])
        except DocumentsError as exc:
            self.warn(str(exc))
        finally:
            index.close()
        self.refresh()

    def index_selected(self) -> None:
        if self.selected is not None:
            self.indexing.index([self.selected])

    def toggle_pause(self) -> None:
        if self.indexing.paused:
            self.indexing.resume()
        else:
            self.indexing.pause()
        self._update_controls()

    # -- progress --------------------------------------------------------------------------------

    def _progressed(self, p: IndexProgress) -> None:
        self.progress_text.setVisible(True)
        self.progress_text.setText(describe_progress(p))
        if p.files_total:
            self.progress.setRange(0, p.files_total)
            self.progress.setValue(p.files_done)
        else:
            self.progress.setRange(0, 0)  # still looking: a busy bar
        self.pause_button.setText("Resume" if p.state == "paused" else "Pause")

    def _finished(self, summaries: list[IndexSummary] | None, error: str | None) -> None:
        self.progress_text.setVisible(True)
        if error:
            self.progress_text.setText(error)
        elif summaries:
            self.progress_text.setText(" ".join(_summary_line(s) for s in summaries))
        self.refresh()


def _summary_line(s: IndexSummary) -> str:
    if s.cancelled:
        return f"Indexing {s.collection} was cancelled; files finished so far are kept."
    changed = s.indexed + s.embedded + s.removed
    if not changed:
        return f"{s.collection} is up to date."
    parts = [f"{s.indexed:,} files read"]
    if s.embedded:
        parts.append(f"{s.embedded:,} embedded")
    if s.removed:
        parts.append(f"{s.removed:,} removed")
    if s.skipped:
        parts.append(f"{len(s.skipped):,} skipped")
    return f"{s.collection}: " + ", ".join(parts) + f" in {format_duration(s.seconds)}."
