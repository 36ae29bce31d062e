"""The About box: version, what the app is, plainly what it uses the network for, the keyboard
shortcuts, and the licences of the software it carries."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from desktop import __version__
from desktop.library.network import NETWORK_USE
from desktop.paths import third_party_notices
from desktop.ui.shortcuts import SHORTCUTS, STOP

LICENCE = "Openweight is free software under the Apache License 2.0."


def about_text() -> str:
    return (
        f"Openweight {__version__}\n\n"
        "Chat privately with open-weight language models on this computer.\n\n"
        f"{NETWORK_USE}\n\n{LICENCE}"
    )


class AboutDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About Openweight")
        self.resize(560, 460)
        layout = QVBoxLayout(self)
        self.tabs = QTabWidget(self)
        self.tabs.addTab(self._about_tab(), "About")
        self.tabs.addTab(self._keys_tab(), "Keyboard")
        self.tabs.addTab(self._licences_tab(), "Licences")
        layout.addWidget(self.tabs, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _about_tab(self) -> QWidget:
        tab = QWidget(self)
        row = QHBoxLayout(tab)
        icon = QLabel(tab)
        icon.setPixmap(QGuiApplication.windowIcon().pixmap(64, 64))
        row.addWidget(icon, 0, Qt.AlignmentFlag.AlignTop)
        text = QLabel(about_text(), tab)
        text.setWordWrap(True)
        text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        text.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        row.addWidget(text, 1)
        return tab

    def _keys_tab(self) -> QWidget:
        tab = QWidget(self)
        grid = QGridLayout(tab)
        grid.setColumnStretch(1, 1)
        grid.setHorizontalSpacing(18)
        for row, shortcut in enumerate((*SHORTCUTS, STOP)):
            keys = QLabel(f"<b>{shortcut.label()}</b>", tab)
            keys.setAccessibleName(shortcut.label())
            grid.addWidget(keys, row, 0)
            grid.addWidget(QLabel(shortcut.what, tab), row, 1)
        grid.setRowStretch(len(SHORTCUTS) + 1, 1)
        return tab

    def _licences_tab(self) -> QWidget:
        notices = QTextBrowser(self)
        notices.setAccessibleName("Licences of the software Openweight carries")
        notices.setOpenExternalLinks(True)  # only when clicked: nothing is fetched to show them
        notices.setMarkdown(third_party_notices())
        return notices


def show_about(parent: QWidget | None) -> None:
    AboutDialog(parent).exec()
