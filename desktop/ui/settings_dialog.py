"""Settings (Ctrl+,): defaults for new chats, appearance, and where things are kept."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.chat.defaults import (
    SYSTEM_PROMPT_KEY,
    chat_defaults,
    default_system_prompt,
    save_chat_defaults,
)
from desktop.engine.threads import THREADS_KEY, automatic_threads, threads_setting
from desktop.library.hardware import detect_machine
from desktop.library.relocate import models_folder
from desktop.paths import DataPaths
from desktop.store import Store
from desktop.store.records import ChatSettings
from desktop.ui.about import show_about
from desktop.ui.api_server import ApiServerSwitch
from desktop.ui.chat_settings_panel import spin
from desktop.ui.device_section import DeviceSection
from desktop.ui.server_section import ServerSection
from desktop.ui.theme import FONT_SIZE_KEY, THEME_KEY, ThemeManager

THEME_LABELS = {"system": "Same as the system", "light": "Light", "dark": "Dark"}


class SettingsDialog(QDialog):
    def __init__(
        self, store: Store, paths: DataPaths, theme: ThemeManager, parent: QWidget | None = None,
        api_server: ApiServerSwitch | None = None,
    ) -> None:
        super().__init__(parent)
        self.store = store
        self.theme = theme
        self.setWindowTitle("Settings")
        self.setMinimumWidth(520)
        layout = QVBoxLayout(self)

        chats = QGroupBox("New chats", self)
        form = QFormLayout(chats)
        self.model = QComboBox(chats)
        self.model.setAccessibleName("Default model")
        for model in store.models.chat_models():
            self.model.addItem(model.name, model.name)
        if self.model.count() == 0:
            self.model.addItem("No model installed yet", None)
        self.model.setCurrentIndex(max(0, self.model.findData(store.models.default_name)))
        form.addRow("Default model", self.model)
        self.system_prompt = QPlainTextEdit(chats)
        self.system_prompt.setAccessibleName("Default system prompt")
        self.system_prompt.setFixedHeight(72)
        self.system_prompt.setPlainText(default_system_prompt(store.settings))
        form.addRow("System prompt", self.system_prompt)
        defaults = chat_defaults(store.settings)
        self.temperature = spin(0.0, 2.0, 0.05, decimals=2)
        self.temperature.setValue(defaults.temperature or 0.0)
        self.temperature.setAccessibleName("Default temperature")
        form.addRow("Temperature", self.temperature)
        self.top_p = spin(0.05, 1.0, 0.05, decimals=2)
        self.top_p.setValue(defaults.top_p or 1.0)
        self.top_p.setAccessibleName("Default top-p")
        form.addRow("Top-p", self.top_p)
        self.max_tokens = spin(16, 131072, 256, suffix=" tokens")
        self.max_tokens.setValue(defaults.max_tokens or 2048)
        self.max_tokens.setAccessibleName("Default longest answer")
        form.addRow("Longest answer", self.max_tokens)
        self.context_length = spin(512, 1048576, 1024, suffix=" tokens")
        self.context_length.setValue(defaults.context_length or 8192)
        self.context_length.setAccessibleName("Default context length")
        form.addRow("Context length", self.context_length)
        layout.addWidget(chats)

        looks = QGroupBox("Appearance", self)
        looks_form = QFormLayout(looks)
        self.theme_choice = QComboBox(looks)
        self.theme_choice.setAccessibleName("Theme")
        for value, label in THEME_LABELS.items():
            self.theme_choice.addItem(label, value)
        self.theme_choice.setCurrentIndex(max(0, self.theme_choice.findData(theme.mode)))
        looks_form.addRow("Theme", self.theme_choice)
        self.font_size = QSpinBox(looks)
        self.font_size.setRange(7, 24)
        self.font_size.setSuffix(" pt")
        self.font_size.setValue(theme.font_size)
        self.font_size.setAccessibleName("Font size")
        looks_form.addRow("Font size", self.font_size)
        layout.addWidget(looks)

        self.device = DeviceSection(store.settings, detect_machine().gpus, self)
        layout.addWidget(self.device)
        engine = QGroupBox("Performance", self)
        engine_form = QFormLayout(engine)
        self.threads = QSpinBox(engine)
        self.threads.setRange(0, max(64, os.cpu_count() or 1))
        self.threads.setSpecialValueText(f"Automatic ({automatic_threads()})")
        self.threads.setValue(threads_setting(store.settings) or 0)
        self.threads.setAccessibleName("CPU threads")
        self.threads.setToolTip("CPU threads the model uses. Automatic leaves a core free on "
                                "small machines, so answers stay fast while other programs run.")
        engine_form.addRow("Threads", self.threads)
        layout.addWidget(engine)

        places = QGroupBox("Where things are kept", self)
        places_form = QFormLayout(places)
        models_row = self._folder_row(models_folder(paths, store.settings), places)
        models_row.setToolTip(
            "To move your models elsewhere, use the folder box on the "
            "Models page: it moves the files safely."
        )
        places_form.addRow("Models", models_row)
        places_form.addRow("Chats and settings", self._folder_row(paths.data_dir, places))
        places_form.addRow("Logs", self._folder_row(paths.logs_dir, places))
        layout.addWidget(places)
        layout.addWidget(self._servers_box(store, paths))

        if api_server is not None:  # the OpenAI-compatible API (when this build has it)
            self.server_section = ServerSection(api_server, self)
            layout.addWidget(self.server_section)

        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        about = buttons.addButton("About Openweight", QDialogButtonBox.ButtonRole.HelpRole)
        about.clicked.connect(lambda: show_about(self))
        layout.addWidget(buttons)

    def _servers_box(self, store: Store, paths: DataPaths) -> QWidget:
        """Inference servers on other machines (their own dialog: adding one is a task)."""
        from desktop.ui.servers_dialog import ServersDialog, server_summary

        box = QGroupBox("Servers", self)
        line = QHBoxLayout(box)
        summary = QLabel(server_summary(store, paths), box)
        summary.setObjectName("muted")
        summary.setWordWrap(True)
        button = QPushButton("Servers…", box)
        button.setAccessibleName("Manage servers")

        def manage() -> None:
            ServersDialog(store, paths, self).exec()
            summary.setText(server_summary(store, paths))

        button.clicked.connect(manage)
        line.addWidget(summary, 1)
        line.addWidget(button)
        self.servers_button = button
        return box

    def _folder_row(self, folder: Path, parent: QWidget) -> QWidget:
        row = QWidget(parent)
        line = QHBoxLayout(row)
        line.setContentsMargins(0, 0, 0, 0)
        label = QLabel(str(folder), row)
        label.setObjectName("muted")
        label.setWordWrap(True)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        button = QPushButton("Open", row)
        button.setAccessibleName(f"Open {folder}")
        button.clicked.connect(lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder))))
        line.addWidget(label, 1)
        line.addWidget(button)
        return row

    def accept(self) -> None:
        settings = self.store.settings
        name = self.model.currentData()
        if name:
            self.store.models.set_default(name)
        previous = chat_defaults(settings)
        save_chat_defaults(
            settings,
            ChatSettings(
                temperature=round(self.temperature.value(), 2),
                top_p=round(self.top_p.value(), 2),
                max_tokens=self.max_tokens.value(),
                context_length=self.context_length.value(),
                reasoning_effort=previous.reasoning_effort,
                thinking=previous.thinking,
                context_policy=previous.context_policy,
            ),
        )
        settings.set(SYSTEM_PROMPT_KEY, self.system_prompt.toPlainText())
        self.device.save(settings)
        settings.set(THEME_KEY, self.theme_choice.currentData())
        settings.set(FONT_SIZE_KEY, self.font_size.value())
        settings.set(THREADS_KEY, self.threads.value())  # the next answer loads with it
        self.theme.mode = self.theme_choice.currentData()
        self.theme.font_size = self.font_size.value()
        self.theme.apply()
        super().accept()
