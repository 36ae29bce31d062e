"""The window chatting through an OpenAI-compatible server (llama-cpp-python's, on loopback)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from desktop.chat.defaults import save_chat_defaults
from desktop.store import Store
from desktop.store.records import ChatSettings
from desktop.ui.servers_dialog import ServersDialog
from desktop.ui.settings_dialog import SettingsDialog
from tests.openai.llama_server import LlamaServer
from tests.ui.conftest import QUESTION, WindowFactory, wait_for_answer

SHOTS = os.environ.get("OPENWEIGHT_SCREENSHOTS")  # a folder to save screenshots in, to look at


def shot(widget, name: str) -> None:  # noqa: ANN001
    if SHOTS:
        QApplication.processEvents()  # let layouts catch up with the newest text
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        widget.grab().save(str(Path(SHOTS) / f"{name}.png"))


# Opening the model picker's list offscreen: the platform cannot raise it or grab the keyboard.
@pytest.mark.qt_log_ignore("does not support raise", "grabbing the keyboard", "propagateSizeHints")
def test_add_a_server_then_chat_through_it(
    qtbot, make_window: WindowFactory, gui_store: Store, llama_server: LlamaServer  # noqa: ANN001
) -> None:
    save_chat_defaults(gui_store.settings, ChatSettings(temperature=0.0, max_tokens=48))
    window = make_window()  # no model on this computer: the welcome page shows
    assert window.pages.currentWidget() is window.welcome

    settings = SettingsDialog(window.store, window.paths, window.theme, window)
    qtbot.addWidget(settings)
    dialog = ServersDialog(window.store, window.paths, settings)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.name, "Box")
    qtbot.keyClicks(dialog.url, "http://192.168.7.7:8080")
    assert dialog.warning.isVisible() and "unencrypted" in dialog.warning.text()
    dialog.url.clear()
    qtbot.keyClicks(dialog.url, llama_server.base_url)
    assert not dialog.warning.isVisible()  # loopback: nothing crosses a network
    qtbot.keyClicks(dialog.key, "wrong-key")
    qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.test_button.isEnabled(), timeout=30_000)
    assert "refused the API key" in dialog.result.text()
    dialog.key.clear()
    qtbot.keyClicks(dialog.key, llama_server.api_key)
    qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Connected" in dialog.result.text(), timeout=30_000)
    assert "smollm2" in dialog.result.text()
    shot(dialog, "servers-dialog-tested")
    qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    assert "Added Box" in dialog.result.text()
    assert "Box" in dialog.list.item(0).text() and "with an API key" in dialog.list.item(0).text()
    shot(dialog, "servers-dialog")
    dialog.close()
    settings.show()
    shot(settings, "settings-dialog")
    settings.reject()

    window.server_models.refresh()  # as closing Settings does
    qtbot.waitUntil(lambda: window.picker.findData("Box/smollm2") >= 0, timeout=30_000)
    heading = window.picker.findText("Box")
    assert 0 <= heading < window.picker.findData("Box/smollm2")
    assert not window.picker.model().item(heading).isEnabled()  # a heading, not a choice
    window.picker.showPopup()
    shot(window.picker.view().window(), "model-picker")
    window.picker.hidePopup()

    assert window.pages.currentWidget() is window.chat  # a server's model is enough to chat
    window.picker.setCurrentIndex(window.picker.findData("Box/smollm2"))
    window.picker.activated.emit(window.picker.currentIndex())
    qtbot.keyClicks(window.composer.field, QUESTION)
    qtbot.keyClick(window.composer.field, Qt.Key.Key_Return)
    wait_for_answer(qtbot, window)
    shot(window, "window-remote-chat")

    conv = gui_store.history.latest_conversation()
    assert conv is not None and conv.model == "Box/smollm2"
    answer = gui_store.history.branch(conv.id)[-1]
    assert answer.status == "complete" and "Paris" in answer.content
    assert answer.model == "Box/smollm2" and answer.stats["server"] == "Box"
    assert window.chat.status.meter_label.text().startswith("about ")  # the server cannot count
    assert window.picker.current_model == "Box/smollm2"
    assert "the server Box" in window.composer.hint.text()
