"""Settings → “Serve to other apps”: the OpenAI-compatible API switch, its address, and the
API key shown the one time it is made."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from desktop.ui.api_server import ALL_INTERFACES, LOOPBACK, ApiServerSwitch, ServerState


class ServerSection(QGroupBox):
    """Changes take effect at once (it is a switch), not when the dialog is closed."""

    def __init__(self, switch: ApiServerSwitch, parent: QWidget | None = None) -> None:
        super().__init__("Serve to other apps", parent)
        self.switch = switch
        form = self._form = QFormLayout(self)
        self.enabled = QCheckBox("Answer OpenAI-compatible API requests", self)
        self.enabled.setAccessibleName("Run the API server")
        self.enabled.setToolTip("Editors and scripts that speak OpenAI's API can use your "
                                "models; they share the window's loaded model.")
        form.addRow(self.enabled)
        self.host = QComboBox(self)
        self.host.setAccessibleName("Who can connect")
        self.host.addItem("This computer only", LOOPBACK)
        self.host.addItem("Other computers too (needs an API key)", ALL_INTERFACES)
        self.host.setCurrentIndex(max(0, self.host.findData(switch.host)))
        form.addRow("Who can connect", self.host)
        self.port = QSpinBox(self)
        self.port.setRange(1, 65535)
        self.port.setValue(switch.port)
        self.port.setAccessibleName("Port")
        form.addRow("Port", self.port)
        self.save_history = QCheckBox("Keep served conversations in the history", self)
        self.save_history.setChecked(switch.save_history)
        form.addRow(self.save_history)
        self.status = QLabel(self)
        self.status.setObjectName("muted")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow(self.status)
        self.key_row = QWidget(self)
        line = QHBoxLayout(self.key_row)
        line.setContentsMargins(0, 0, 0, 0)
        self.key = QLineEdit(self.key_row)
        self.key.setReadOnly(True)
        self.key.setAccessibleName("API key")
        copy = QPushButton("Copy", self.key_row)
        copy.setAccessibleName("Copy the API key")
        copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.key.text()))
        line.addWidget(self.key, 1)
        line.addWidget(copy)
        self.key_label = QLabel("API key\n(shown only once)", self)
        form.addRow(self.key_label, self.key_row)

        self.show_state(switch.state)
        self.enabled.toggled.connect(self._toggled)
        self.save_history.toggled.connect(switch.set_save_history)

    def _toggled(self, on: bool) -> None:
        if on:
            state = self.switch.start(self.host.currentData(), self.port.value())
            self.switch.forget_new_key()  # this section shows it; nothing shows it again
        else:
            self.switch.stop()
            state = self.switch.state
        self.show_state(state)

    def show_state(self, state: ServerState) -> None:
        self.enabled.blockSignals(True)
        self.enabled.setChecked(state.running)
        self.enabled.blockSignals(False)
        self.host.setEnabled(not state.running)
        self.port.setEnabled(not state.running)
        self._form.setRowVisible(self.key_row, state.new_key is not None)
        self.key.setText(state.new_key or "")
        self.key.setCursorPosition(0)
        if state.error:
            self.status.setText(f"Not serving: {state.error}")
        elif not state.running:
            self.status.setText("Off. When on, point a client at the address shown here.")
        else:
            text = f"Serving at {state.base_url}"
            if self.host.currentData() == ALL_INTERFACES:
                text += "; other computers use this computer's address for 127.0.0.1"
            if state.new_key:
                text += ". Copy the key below now."
            elif state.key_required:
                text += ". Clients need the API key shown when it was made."
            else:
                text += ". No API key needed."
            self.status.setText(text)
