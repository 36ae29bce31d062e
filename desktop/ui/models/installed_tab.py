"""Installed models: what each one is, which one new chats use, deleting, and adding a file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.library.errors import LibraryError
from desktop.library.hardware import Fit, Machine, fit_for_gguf
from desktop.library.importing import import_model
from desktop.library.installed import remove_model
from desktop.library.units import format_bytes
from desktop.modelfile.gguf import GGUFError, read_gguf
from desktop.store import ModelFile, Store
from desktop.ui.models.widgets import error_label, muted_label, show_error

COLUMNS = (
    "Name",
    "Size",
    "Quantization",
    "Context",
    "Architecture",
    "Kind",
    "Status",
    "Speed here",
)
_NAME_ROLE = Qt.ItemDataRole.UserRole


def model_status(model: ModelFile, default: str | None) -> str:
    if not Path(model.path).is_file():
        return "File missing"
    return "Used for new chats" if model.name == default else ""


class InstalledTab(QWidget):
    models_changed = Signal()
    use_model_requested = Signal(str)

    def __init__(
        self,
        store: Store,
        models_dir: Callable[[], Path],
        parent: QWidget | None = None,
        machine: Machine | None = None,
    ) -> None:
        super().__init__(parent)
        self.store = store
        self.models_dir = models_dir
        self.machine = machine  # None: no speed column figures
        self.models: list[ModelFile] = []
        self._fits: dict[tuple[str, int, float, str], Fit | None] = {}
        layout = QVBoxLayout(self)
        self.column = layout  # the page adds the models-folder box at the bottom
        layout.setContentsMargins(0, 8, 0, 0)
        self.empty = muted_label(
            "No models yet. Download one from the Catalog, or add a GGUF file you already have.",
            self,
        )
        layout.addWidget(self.empty)
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setAccessibleName("Installed models")
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setShowGrid(False)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, len(COLUMNS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.table.itemDoubleClicked.connect(lambda _item: self.use_selected())
        layout.addWidget(self.table, 1)
        buttons = QHBoxLayout()
        self.use_button = self._button("Use for new chats", self.use_selected, buttons)
        self.use_button.setObjectName("primaryButton")
        self.delete_button = self._button("Delete…", self.delete_selected, buttons)
        self.delete_button.setAccessibleName("Delete the selected model")
        buttons.addStretch(1)
        self.add_button = self._button("Add a model file…", self.add_file, buttons)
        self.add_button.setAccessibleName("Add a model file")
        layout.addLayout(buttons)
        self.error = error_label(self)
        layout.addWidget(self.error)
        self.notice = muted_label("", self)
        self.notice.hide()
        layout.addWidget(self.notice)
        self._selection_changed()

    def _button(self, text: str, slot: Callable[[], None], row: QHBoxLayout) -> QPushButton:
        button = QPushButton(text, self)
        button.setAccessibleName(text)
        button.clicked.connect(slot)
        row.addWidget(button)
        return button

    # -- showing --------------------------------------------------------------------------------
    def refresh(self) -> None:
        selected = self.selected_name()
        self.models = self.store.models.all()
        default = self.store.models.default_name
        self.table.setRowCount(len(self.models))
        for row, model in enumerate(self.models):
            cells = (
                model.name,
                format_bytes(model.size_bytes) if model.size_bytes else "?",
                model.quantization or "?",
                f"{model.context_length:,}" if model.context_length else "?",
                model.architecture or "?",
                "Documents (embeddings)" if model.kind == "embedding" else "Chat",
                model_status(model, default),
            )
            fit = self.fit_of(model)
            speed = fit.speed if fit else None
            cells += (f"{speed.label}, ~{speed.tokens_per_s:.0f} tokens/s" if speed else "",)
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(_NAME_ROLE, model.name)
                item.setToolTip(fit.summary if fit and column == len(cells) - 1 else model.path)
                self.table.setItem(row, column, item)
            if model.name == selected:
                self.table.selectRow(row)
        self.empty.setVisible(not self.models)
        self._selection_changed()

    def fit_of(self, model: ModelFile) -> Fit | None:
        """Memory and speed here, from the file's header (read once per file version)."""
        if self.machine is None or model.kind == "embedding":
            return None
        path = Path(model.path)
        try:
            stat = path.stat()
        except OSError:
            return None
        key = (model.path, stat.st_size, stat.st_mtime, model.reasoning_style or "")
        if key not in self._fits:
            try:
                info = read_gguf(path)
            except GGUFError:
                self._fits[key] = None
            else:
                thinks = (model.reasoning_style or "none") != "none"
                self._fits[key] = fit_for_gguf(info, self.machine, reasoning=thinks)
        return self._fits[key]

    def count(self) -> int:
        """How many models are installed (as listed)."""
        return len(self.models)

    def selected_name(self) -> str | None:
        items = self.table.selectedItems()
        return str(items[0].data(_NAME_ROLE)) if items else None

    def select(self, name: str) -> None:
        for row, model in enumerate(self.models):
            if model.name == name:
                self.table.selectRow(row)

    def _selected(self) -> ModelFile | None:
        name = self.selected_name()
        return next((m for m in self.models if m.name == name), None)

    def _selection_changed(self) -> None:
        model = self._selected()
        chat = model is not None and model.kind == "chat"
        self.use_button.setEnabled(chat)
        self.use_button.setToolTip(
            "Embedding models search your documents; they cannot chat."
            if model is not None and not chat
            else "New chats will use this model."
        )
        self.delete_button.setEnabled(model is not None)

    # -- acting ---------------------------------------------------------------------------------
    def use_selected(self) -> None:
        model = self._selected()
        if model is None or model.kind != "chat":
            return
        self.store.models.set_default(model.name)
        self._say(f"New chats will use {model.name}.")
        self.refresh()
        self.models_changed.emit()
        self.use_model_requested.emit(model.name)

    def delete_selected(self) -> None:
        model = self._selected()
        if model is None or not self.confirm_delete(model):
            return
        try:
            removal = remove_model(self.store, model.name, self.models_dir())
        except LibraryError as exc:
            show_error(self.error, str(exc))
            return
        if removal.kept is not None:
            self._say(f"Removed {model.name} from the list. Its file was left at {removal.kept}.")
        else:
            self._say(f"Deleted {model.name} and freed {format_bytes(removal.freed_bytes)}.")
        self.refresh()
        self.models_changed.emit()

    def add_file(self) -> None:
        path = self.choose_model_file()
        if not path:
            return
        try:
            model = import_model(self.store, path)
        except (LibraryError, OSError) as exc:
            show_error(self.error, f"Could not add {Path(path).name}: {exc}")
            return
        self._say(f"Added {model.name}.")
        self.refresh()
        self.select(model.name)
        self.models_changed.emit()

    def _say(self, text: str) -> None:
        show_error(self.error, None)
        self.notice.setText(text)
        self.notice.show()

    # -- asking the user (tests replace these) --------------------------------------------------
    def confirm_delete(self, model: ModelFile) -> bool:
        inside = Path(model.path).resolve().is_relative_to(self.models_dir().resolve())
        detail = (
            f"Its file will be deleted, freeing {format_bytes(model.size_bytes)}."
            if inside
            else f"It will be removed from the list; its file stays at {model.path}."
        )
        answer = QMessageBox.question(
            self,
            "Delete model",
            f"Delete {model.name}?\n\n{detail} Your chats are kept.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Yes

    def choose_model_file(self) -> str | None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Add a model file", str(Path.home()), "GGUF models (*.gguf);;All files (*)"
        )
        return path or None
