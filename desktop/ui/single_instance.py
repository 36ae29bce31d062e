"""One window per data folder: a second launch asks the first to come forward and leaves,
so two windows never write to one history at once. The CLI is not affected."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from PySide6.QtCore import QLockFile, QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

log = logging.getLogger("openweight.ui")

CONNECT_MS = 1000
RAISE = b"raise\n"


def server_name(data_dir: Path) -> str:
    """A local-socket name unique to the data folder (short: socket paths are limited)."""
    digest = hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:16]
    return f"openweight-{digest}"


class SingleInstance(QObject):
    """Holds the data folder's window lock and listens for later launches."""

    activation_requested = Signal()

    def __init__(self, data_dir: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = server_name(data_dir)
        self.lock = QLockFile(str(data_dir / ".window.lock"))
        self.lock.setStaleLockTime(0)  # a lock whose process is gone is stale at once
        self.server: QLocalServer | None = None

    def acquire(self) -> bool:
        """True when this is the first window for the folder (it then starts listening)."""
        if not self.lock.tryLock(0):
            if self.lock.error() == QLockFile.LockError.LockFailedError:
                return False  # another window holds it
            # A folder we cannot write to: opening the history will say so in plain words.
            log.warning("no window lock in this data folder (error %s)", self.lock.error())
            return True
        QLocalServer.removeServer(self.name)  # a socket file left by a crash
        self.server = QLocalServer(self)
        self.server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not self.server.listen(self.name):
            log.warning("cannot listen for other launches: %s", self.server.errorString())
        self.server.newConnection.connect(self._on_connection)
        return True

    def ask_first_to_show(self, attempts: int = 5) -> bool:
        """From a second launch: ask the running window to come forward."""
        for _ in range(attempts):  # the first may still be starting up
            socket = QLocalSocket()
            socket.connectToServer(self.name)
            if socket.waitForConnected(CONNECT_MS):
                socket.write(RAISE)
                socket.flush()
                done = socket.bytesToWrite() == 0 or socket.waitForBytesWritten(CONNECT_MS)
                socket.disconnectFromServer()
                return done
        return False

    def release(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None
        if self.lock.isLocked():
            self.lock.unlock()

    def _on_connection(self) -> None:
        assert self.server is not None
        while (socket := self.server.nextPendingConnection()) is not None:
            # The message is one short line sent at once: read it here rather than keep a
            # socket and a closure alive across events.
            if socket.bytesAvailable() or socket.waitForReadyRead(CONNECT_MS):
                if socket.readAll().data().startswith(RAISE.strip()):
                    log.info("another launch asked this window to come forward")
                    self.activation_requested.emit()
            socket.abort()
            socket.deleteLater()


def bring_forward(window: object) -> None:
    """Show, un-minimise and raise a window (the window manager may only flash it)."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QWidget

    assert isinstance(window, QWidget)
    window.setWindowState(window.windowState() & ~Qt.WindowState.WindowMinimized)
    window.show()
    window.raise_()
    window.activateWindow()
