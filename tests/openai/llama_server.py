"""llama-cpp-python's own OpenAI-compatible server running the test model, on loopback."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

MODEL_ALIAS = "smollm2"
API_KEY = "test-key-7f3a9c"  # the server refuses any other key


@dataclass
class LlamaServer:
    base_url: str
    api_key: str
    model: str
    process: subprocess.Popen[bytes]
    log: Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_llama_server(model_path: Path, log: Path, n_ctx: int = 2048,
                       timeout: float = 120) -> LlamaServer:
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(model_path),
             "--model_alias", MODEL_ALIAS, "--host", "127.0.0.1", "--port", str(port),
             "--n_ctx", str(n_ctx), "--api_key", API_KEY],
            stdout=out, stderr=subprocess.STDOUT)
    server = LlamaServer(f"http://127.0.0.1:{port}/v1", API_KEY, MODEL_ALIAS, process, log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"llama_cpp.server exited: {log.read_text(errors='replace')[-2000:]}")
        request = urllib.request.Request(f"{server.base_url}/models",
                                         headers={"Authorization": f"Bearer {API_KEY}"})
        try:
            with urllib.request.urlopen(request, timeout=2) as response:
                if json.load(response).get("data"):
                    return server
        except (OSError, urllib.error.URLError, ValueError):
            time.sleep(0.2)  # polling for start-up, not waiting on behaviour
    stop_llama_server(server)
    raise RuntimeError("llama_cpp.server did not start in time")


def stop_llama_server(server: LlamaServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()
