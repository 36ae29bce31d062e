"""Settings → Servers: add an OpenAI-compatible server by address and key, test it, remove it."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.engine.remote.catalog import ServerListing, list_server
from desktop.engine.remote.http import CONNECT_TIMEOUT, Endpoint
from desktop.engine.remote.servers import (
    KeyStore,
    Server,
    ServerError,
    Servers,
    check_name,
    insecure_warning,
    normalise_url,
)
from desktop.paths import DataPaths
from desktop.store import Store
from desktop.ui.tasks import BackgroundTasks

INTRO = ("Chat with models that run on another machine or in another program: llama-server, "
         "vLLM, Ollama, LM Studio, exo, or any server that speaks the OpenAI API. Your chats "
         "are still kept only on this computer.")


class ServersDialog(QDialog):
    def __init__(self, store: Store, paths: DataPaths, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.servers = Servers(store.settings, KeyStore(paths.data_dir))
        self.tasks = BackgroundTasks("server-test", self)
        self._latest_test = 0
        self.setWindowTitle("Servers")
        self.setMinimumWidth(560)
        layout = QVBoxLayout(self)
        intro = QLabel(INTRO, self)
        intro.setWordWrap(True)
        intro.setObjectName("muted")
        layout.addWidget(intro)

        self.list = QListWidget(self)
        self.list.setAccessibleName("Servers")
        self.list.setMinimumHeight(60)
        self.list.setMaximumHeight(140)
        layout.addWidget(self.list, 1)
        row = QHBoxLayout()
        row.addStretch(1)
        self.remove_button = QPushButton("Remove", self)
        self.remove_button.setAccessibleName("Remove the chosen server")
        self.remove_button.clicked.connect(self.remove_selected)
        row.addWidget(self.remove_button)
        layout.addLayout(row)

        box = QGroupBox("Add a server", self)
        column = QVBoxLayout(box)
        form = QFormLayout()
        column.addLayout(form)
        self.name = QLineEdit(box)
        self.name.setPlaceholderText("gpu-box")
        self.name.setAccessibleName("Server name")
        form.addRow("Name", self.name)
        self.url = QLineEdit(box)
        self.url.setPlaceholderText("http://localhost:8080/v1")
        self.url.setAccessibleName("Server address")
        form.addRow("Address", self.url)
        self.key = QLineEdit(box)
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.key.setPlaceholderText("only if the server asks for one")
        self.key.setAccessibleName("API key")
        form.addRow("API key", self.key)
        self.warning = QLabel(box)
        self.warning.setWordWrap(True)
        self.warning.setObjectName("warning")
        self.warning.setVisible(False)
        column.addWidget(self.warning)
        buttons = QHBoxLayout()
        self.test_button = QPushButton("Test connection", box)
        self.test_button.clicked.connect(self.test_connection)
        self.add_button = QPushButton("Add", box)
        self.add_button.clicked.connect(self.add_server)
        buttons.addStretch(1)
        buttons.addWidget(self.test_button)
        buttons.addWidget(self.add_button)
        column.addLayout(buttons)
        self.result = QLabel(box)
        self.result.setWordWrap(True)
        self.result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.result.setAccessibleName("Connection test result")
        # Room for a message of three lines from the start, so the dialog never jumps.
        self.result.setMinimumHeight(3 * self.result.fontMetrics().lineSpacing())
        self.result.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        column.addWidget(self.result)
        layout.addWidget(box)

        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        close.rejected.connect(self.reject)
        layout.addWidget(close)
        self.url.textChanged.connect(self._address_changed)
        self.list.currentRowChanged.connect(lambda _row: self._update_buttons())
        self.refresh()

    # -- the list ------------------------------------------------------------------------

    def refresh(self) -> None:
        self.list.clear()
        for server in self.servers.all():
            key = ", with an API key" if self.servers.api_key(server.name) else ""
            item = QListWidgetItem(f"{server.name}  —  {server.base_url}{key}")
            item.setData(Qt.ItemDataRole.UserRole, server.name)
            if server.warning:
                item.setToolTip(server.warning)
            self.list.addItem(item)
        if self.list.count() == 0:
            empty = QListWidgetItem("No servers yet: add one below.")
            empty.setFlags(Qt.ItemFlag.NoItemFlags)
            self.list.addItem(empty)
        self._update_buttons()

    def _update_buttons(self) -> None:
        item = self.list.currentItem()
        self.remove_button.setEnabled(
            item is not None and item.data(Qt.ItemDataRole.UserRole) is not None)

    def remove_selected(self) -> None:
        item = self.list.currentItem()
        name = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        if name:
            self.servers.remove(name)
            self._say(f"Removed {name} and its API key.")
            self.refresh()

    # -- adding --------------------------------------------------------------------------

    def _say(self, text: str) -> None:
        self.result.setText(text)

    def _address_changed(self, text: str) -> None:
        try:
            warning = insecure_warning(normalise_url(text)) if text.strip() else None
        except ServerError:
            warning = None
        self.warning.setText(f"⚠ {warning}" if warning else "")
        self.warning.setVisible(bool(warning))

    def _entered(self) -> tuple[Server, str | None]:
        name = check_name(self.name.text() or "server")
        return Server(name, normalise_url(self.url.text())), self.key.text().strip() or None

    def test_connection(self) -> None:
        try:
            server, key = self._entered()
        except ServerError as exc:
            self._say(str(exc))
            return
        self._say(f"Connecting to {server.base_url}…")
        self.test_button.setEnabled(False)
        endpoint = Endpoint(server.name, server.base_url, key)
        self._latest_test = self.tasks.run(
            lambda _report: list_server(server, endpoint, CONNECT_TIMEOUT), self._tested)

    def _tested(self, listing: ServerListing | None, error: Exception | None) -> None:
        self.test_button.setEnabled(True)
        if listing is None:
            self._say(f"The test failed: {error}")
        elif listing.error:
            self._say(listing.error)
        else:
            names = [m.filename or m.name for m in listing.models]
            shown = ", ".join(names[:12]) + (f" and {len(names) - 12} more" if len(names) > 12
                                             else "")
            self._say(f"Connected. {len(names)} model{'s' if len(names) != 1 else ''}: "
                                f"{shown or 'none yet'}.")

    def add_server(self) -> None:
        try:
            server, key = self._entered()
            if not self.name.text().strip():
                raise ServerError("Give the server a name.")
            server = self.servers.add(server.name, server.base_url, key)
        except ServerError as exc:
            self._say(str(exc))
            return
        kept = f" Its API key is kept in {self.servers.keys.where}." if key else ""
        self._say(f"Added {server.name}. Its models are in the model picker.{kept}")
        self.name.clear()
        self.url.clear()
        self.key.clear()
        self.refresh()

    def done(self, result: int) -> None:
        self.tasks.shutdown(timeout=CONNECT_TIMEOUT)
        super().done(result)


def server_summary(store: Store, paths: DataPaths) -> str:
    """One line for Settings: which servers there are."""
    names = [s.name for s in Servers(store.settings, KeyStore(paths.data_dir)).all()]
    if not names:
        return "Chat with models on llama-server, vLLM, Ollama or LM Studio: add a server."
    return f"{len(names)} server{'s' if len(names) != 1 else ''}: {', '.join(names)}"
