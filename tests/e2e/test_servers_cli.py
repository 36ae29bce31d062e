"""`openweight servers` and chatting through a server, as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.conftest import Openweight
from tests.openai.llama_server import LlamaServer, free_port


def test_servers_add_list_chat_remove(openweight: Openweight, llama_server: LlamaServer,
                                      tmp_path: Path) -> None:
    ow = openweight
    key_file = tmp_path / "key.txt"
    key_file.write_text(llama_server.api_key + "\n")
    wrong_key = tmp_path / "wrong.txt"
    wrong_key.write_text("nope")

    refused = ow.run("servers", "add", "Box", llama_server.base_url, "--api-key-file",
                     str(wrong_key))
    assert refused.returncode == 1 and "refused the API key" in refused.stderr
    offline = ow.run("servers", "add", "Off", f"http://127.0.0.1:{free_port()}")
    assert offline.returncode == 1 and "not added" in offline.stderr

    added = ow.run("servers", "add", "Box", llama_server.base_url, "--api-key-file",
                   str(key_file))
    assert added.returncode == 0, added.stderr
    assert "Box/smollm2" in added.stdout and added.stderr == ""  # loopback: no warning
    far = ow.run("servers", "add", "Far", "http://192.0.2.1:8080/v1", "--no-test")
    assert far.returncode == 0 and "unencrypted" in far.stderr

    listed = json.loads(ow.run("servers", "list", "--json").stdout)
    assert [(s["name"], s["api_key"], s["models"]) for s in listed][0] == \
        ("Box", True, ["smollm2"])
    assert listed[1]["warning"] and listed[1]["models"] == []

    models = ow.run("models", "list")
    assert "On the server Box" in models.stdout and "  Box/smollm2" in models.stdout

    chat = ow.run("chat", "--model", "Box/smollm2", "--temperature", "0",
                  "What is the capital of France?")
    assert chat.returncode == 0, chat.stderr
    assert "Paris" in chat.stdout
    shown = json.loads(ow.run("history", "export", "1", "--format", "json").stdout)
    assert shown["model"] == "Box/smollm2"
    assert llama_server.api_key not in json.dumps(shown)

    assert ow.run("servers", "remove", "Far").returncode == 0
    assert ow.run("servers", "remove", "Box").returncode == 0
    assert "No servers yet" in ow.run("servers", "list").stdout
    gone = ow.run("chat", "--conversation", "1", "Still there?")
    assert gone.returncode == 1
    for path in ow.data_dir.rglob("*"):
        if path.is_file():
            assert llama_server.api_key.encode() not in path.read_bytes(), path
