"""The window's last line of defence: an unexpected error is logged, shown once in a dialog
that says what happened and can copy the details, and the app carries on."""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from types import TracebackType

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMessageBox, QPushButton, QWidget

from desktop.store.errors import StoreError

log = logging.getLogger("openweight.ui")

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


class ErrorReporter(QObject):
    """Installed as sys.excepthook (and threading.excepthook): errors from any thread are
    carried to the GUI thread; while one dialog is open, later errors only count."""

    reported = Signal(str, str)  # summary, details (queued into the GUI thread)
    store_failed = Signal(str)  # a history fault (disk full, locked...): said plainly

    def __init__(self, parent_widget: QWidget | None = None) -> None:
        super().__init__()
        self.parent_widget = parent_widget
        self.dialog: QMessageBox | None = None
        self.repeats = 0
        self.total = 0
        self._previous = (sys.excepthook, threading.excepthook)
        self.reported.connect(self._show, Qt.ConnectionType.QueuedConnection)
        self.store_failed.connect(self._show_store_error, Qt.ConnectionType.QueuedConnection)

    def install(self) -> None:
        sys.excepthook = self.excepthook
        threading.excepthook = self._thread_hook

    def uninstall(self) -> None:
        sys.excepthook, threading.excepthook = self._previous

    def excepthook(
        self, kind: type[BaseException], value: BaseException, tb: TracebackType | None
    ) -> None:
        if issubclass(kind, KeyboardInterrupt):
            self._previous[0](kind, value, tb)
            return
        if isinstance(value, StoreError):  # not a bug: the machine's fault, worded already
            log.warning("history fault: %s", value)
            self.store_failed.emit(str(value))
            return
        details = "".join(traceback.format_exception(kind, value, tb))
        log.error("unexpected error in the window:\n%s", details.rstrip())
        summary = f"{kind.__name__}: {value}" if str(value) else kind.__name__
        self.reported.emit(summary, details)

    def _thread_hook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_value is None:
            return
        self.excepthook(args.exc_type, args.exc_value, args.exc_traceback)

    @Slot(str, str)
    def _show(self, summary: str, details: str) -> None:
        self.total += 1
        if self.dialog is not None:  # no storm of dialogs: count repeats in the open one
            self.repeats += 1
            self.dialog.setInformativeText(self._informative())
            return
        self.repeats = 0
        box = QMessageBox(self.parent_widget)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("Something went wrong")
        box.setText(
            f"Openweight ran into an unexpected problem: {summary}\n\n"
            "Your chats are saved and the app keeps running. If this keeps happening, please "
            "report it with the details (Show Details or Copy details; they are also in the log "
            "file)."
        )
        box.setDetailedText(details)
        box.setInformativeText(self._informative())
        copy = QPushButton("Copy details", box)
        box.addButton(copy, QMessageBox.ButtonRole.ActionRole)
        copy.clicked.disconnect()  # an action button would close the box; copying should not
        copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(details))
        box.addButton(QMessageBox.StandardButton.Close)
        box.setWindowModality(Qt.WindowModality.NonModal)
        box.finished.connect(self._closed)
        self.dialog = box
        box.show()

    @Slot(str)
    def _show_store_error(self, text: str) -> None:
        self.total += 1
        if self.dialog is not None:
            self.repeats += 1
            self.dialog.setInformativeText(self._informative())
            return
        self.repeats = 0
        box = QMessageBox(QMessageBox.Icon.Warning, "Your chats could not be saved", text,
                          QMessageBox.StandardButton.Close, self.parent_widget)
        box.setWindowModality(Qt.WindowModality.NonModal)
        box.finished.connect(self._closed)
        self.dialog = box
        box.show()

    def _informative(self) -> str:
        if self.repeats:
            return f"It happened {self.repeats + 1} times since this message appeared."
        return ""

    def _closed(self) -> None:
        if self.dialog is not None:
            self.dialog.deleteLater()
        self.dialog = None
