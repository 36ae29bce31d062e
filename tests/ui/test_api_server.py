"""Settings → Serve to other apps: the window runs the API server on its own engine host."""

from __future__ import annotations

import socket
from pathlib import Path

import openai
import pytest

from desktop.server.hooks import ServeHooks
from desktop.store import Store
from desktop.ui.settings_dialog import SettingsDialog
from tests.ui.conftest import QUESTION, WindowFactory, engine_hosts_alive, wait_for_answer
from tests.ui.test_chat_flow import type_and_send

ARTIFACTS = Path(__file__).resolve().parents[2] / "tests" / "_artifacts"
MODEL = "SmolLM2-135M-Instruct.Q4_1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_switch_serves_with_the_window_engine_and_shows_the_key_once(
        qtbot, make_window: WindowFactory, with_model: Store) -> None:  # noqa: ANN001
    window = make_window(serve=ServeHooks())
    type_and_send(qtbot, window, QUESTION)
    wait_for_answer(qtbot, window)
    hosts = engine_hosts_alive()
    assert len(hosts) == 1  # the window's engine, with the model loaded

    dialog = SettingsDialog(window.store, window.paths, window.theme, window,
                            api_server=window.api_server)
    section = dialog.server_section
    section.host.setCurrentIndex(section.host.findData("0.0.0.0"))
    section.port.setValue(free_port())
    section.enabled.setChecked(True)
    state = window.api_server.state
    assert state.running and state.key_required, state.error
    key = section.key.text()
    assert key.startswith("ow-") and not section.key_row.isHidden() and not section.key.isHidden()
    assert state.base_url in section.status.text() and "only once" in section.key_label.text()
    assert not section.port.isEnabled()  # settings of a running server stay as they are
    dialog.show()
    qtbot.waitExposed(dialog)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    dialog.grab().save(str(ARTIFACTS / "settings-api-server.png"))

    client = openai.OpenAI(base_url=state.base_url, api_key=key, max_retries=0)
    reply = client.chat.completions.create(
        model=MODEL, temperature=0, max_tokens=30,
        messages=[{"role": "system", "content": "You are a helpful assistant."},
                  {"role": "user", "content": QUESTION}])
    assert "Paris" in reply.choices[0].message.content
    assert engine_hosts_alive() == hosts  # answered by the window's engine host: loaded once
    with openai.OpenAI(base_url=state.base_url, api_key="ow-wrong", max_retries=0) as wrong, \
            pytest.raises(openai.AuthenticationError):
        wrong.models.list()
    dialog.close()

    again = SettingsDialog(window.store, window.paths, window.theme, window,
                           api_server=window.api_server)
    assert again.server_section.enabled.isChecked()
    assert again.server_section.key_row.isHidden()  # the key is not shown a second time
    again.server_section.enabled.setChecked(False)
    assert not window.api_server.state.running
    with pytest.raises(openai.APIConnectionError):
        client.models.list()
    client.close()  # its pooled connection, not left for the garbage collector
    again.close()
