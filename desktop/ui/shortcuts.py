"""The window's keyboard shortcuts: one table that both binds them and lists them for people
(the About box's Keyboard tab), so the list can never drift from what the keys do."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut

if TYPE_CHECKING:
    from desktop.ui.main_window import MainWindow

Keys = str | QKeySequence.StandardKey


@dataclass(frozen=True)
class Shortcut:
    keys: Keys
    what: str
    # What the keys do to the window; None for keys a text field handles itself.
    action: Callable[[MainWindow], object] | None = None

    def sequence(self) -> QKeySequence:
        if isinstance(self.keys, QKeySequence.StandardKey):
            bindings = QKeySequence.keyBindings(self.keys)  # F1 on Windows and Linux, ⌘? on a Mac
            return bindings[0] if bindings else QKeySequence()
        return QKeySequence(self.keys)

    def label(self) -> str:
        """The keys as this system writes them (Ctrl+N here, ⌘N on a Mac)."""
        return self.sequence().toString(QKeySequence.SequenceFormat.NativeText)


def _about(window: MainWindow) -> None:
    from desktop.ui.about import show_about

    show_about(window)


SHORTCUTS: tuple[Shortcut, ...] = (
    Shortcut("Ctrl+N", "New chat", lambda w: w.new_chat()),
    Shortcut("Ctrl+F", "Search chats and messages", lambda w: w.sidebar.focus_search()),
    Shortcut("Ctrl+Shift+C", "Copy the last answer", lambda w: w.copy_last_answer()),
    Shortcut("Ctrl+Shift+M", "Models: catalog, search, downloads", lambda w: w.show_models_page()),
    Shortcut("Ctrl+Shift+D", "Documents: your collections", lambda w: w.show_documents_page()),
    Shortcut("Ctrl+,", "Settings", lambda w: w.open_settings()),
    Shortcut(QKeySequence.StandardKey.HelpContents, "About Openweight and these keys", _about),
    # Not StandardKey.Quit: some Linux desktops bind nothing to it. Ctrl is ⌘ on a Mac.
    Shortcut("Ctrl+Q", "Quit", lambda w: w.close()),
    Shortcut("Enter", "Send the message (in the message box)"),
    Shortcut("Shift+Enter", "New line in the message"),
)
STOP = Shortcut("Esc", "Stop the answer being written", lambda w: w.controller.stop())


def bind(window: MainWindow, shortcut: Shortcut) -> QShortcut:
    bound = QShortcut(shortcut.sequence(), window)
    bound.setContext(Qt.ShortcutContext.WindowShortcut)
    action = shortcut.action
    assert action is not None
    bound.activated.connect(lambda: action(window))
    return bound


def install_shortcuts(window: MainWindow) -> QShortcut:
    """Binds SHORTCUTS; returns Esc (stop), enabled only while an answer streams: the rest of
    the time Esc belongs to editors and dialogs."""
    for shortcut in SHORTCUTS:
        if shortcut.action is not None:
            bind(window, shortcut)
    stop = bind(window, STOP)
    stop.setEnabled(False)
    return stop
