"""Remembering the window between runs: size and place, splitter, the open chat."""

from __future__ import annotations

import logging

from PySide6.QtCore import QByteArray
from PySide6.QtWidgets import QMainWindow, QSplitter

from desktop.store.settings import Settings

log = logging.getLogger("openweight.ui.state")

GEOMETRY_KEY = "window.geometry"
SPLITTER_KEY = "window.splitter"
LAST_CHAT_KEY = "window.last_conversation"
PANEL_KEY = "window.chat_settings_open"


def _encode(data: QByteArray) -> str:
    return bytes(data.toBase64()).decode("ascii")


def _decode(text: object) -> QByteArray | None:
    if not isinstance(text, str) or not text:
        return None
    return QByteArray.fromBase64(text.encode("ascii"))


def restore_window(settings: Settings, window: QMainWindow, splitter: QSplitter) -> bool:
    """Put the window back where it was; False when there was nothing to restore."""
    geometry = _decode(settings.get(GEOMETRY_KEY))
    restored = bool(geometry) and window.restoreGeometry(geometry)
    state = _decode(settings.get(SPLITTER_KEY))
    if state is not None:
        splitter.restoreState(state)
    return restored


def save_window(settings: Settings, window: QMainWindow, splitter: QSplitter) -> None:
    try:
        settings.set(GEOMETRY_KEY, _encode(window.saveGeometry()))
        settings.set(SPLITTER_KEY, _encode(splitter.saveState()))
    except Exception:  # noqa: BLE001 - losing the window size must never block closing
        log.exception("could not save the window state")
