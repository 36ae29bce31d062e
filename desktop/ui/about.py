"""The About box: version, what the app is, and plainly what it uses the network for."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

from desktop import __version__
from desktop.library.network import NETWORK_USE


def about_text() -> str:
    return (
        f"Openweight {__version__}\n\n"
        "Chat privately with open-weight language models on this computer.\n\n"
        f"{NETWORK_USE}"
    )


def show_about(parent: QWidget | None) -> None:
    QMessageBox.about(parent, "About Openweight", about_text())
