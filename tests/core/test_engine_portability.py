"""The engine host on any computer: llama.cpp's backends found and reported, a command to
run the host under (OPENWEIGHT_HOST_PREFIX), and a processor too old for the build named
as such instead of a bare signal."""

from __future__ import annotations

import platform
import shlex
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop.engine.api import EngineError
from desktop.engine.client import EngineClient, EngineCrashed, host_command
from desktop.engine.options import GenerateOptions, LoadOptions


@pytest.fixture(scope="module")
def info() -> Iterator[dict]:
    client = EngineClient()
    try:
        yield client.info()["info"]
    finally:
        client.close()


def test_info_names_the_cpu_code_and_devices_llama_cpp_picked(info: dict) -> None:
    backends = info["backends"]
    devices = backends["devices"]
    assert any(d["kind"] == "CPU" and d["name"] == "CPU" for d in devices), devices
    # The CPU module in use: one of a portable build's variants (haswell, x64, ...) or the
    # single CPU library of a build for this machine.
    assert backends["cpu_variant"], backends
    assert "SSE3" in backends["cpu_features"] or "NEON" in backends["cpu_features"]


def test_host_prefix_is_split_like_a_shell_and_runs_the_host(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENWEIGHT_HOST_PREFIX", "env 'OPENWEIGHT_MARK=a b'")
    command = host_command()
    assert command[:2] == ["env", "OPENWEIGHT_MARK=a b"]
    assert command[2:] == [sys.executable, "-m", "desktop.engine.host"]
    client = EngineClient()
    try:
        assert client.info()["info"]["backends"]["devices"]  # the host ran under `env`
    finally:
        client.close()


def test_a_processor_missing_instructions_is_named_not_a_signal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The host dies of an illegal instruction, as a build for a newer CPU does on an old one.
    monkeypatch.setenv("OPENWEIGHT_HOST_PREFIX", "sh -c " + shlex.quote("kill -ILL $$"))
    client = EngineClient()
    with pytest.raises(EngineCrashed) as caught:
        client.info()
    client.close()
    message = str(caught.value)
    assert "processor lacks instructions" in message
    assert "SIGILL" not in message


def test_a_build_for_newer_processors_stops_in_words_on_an_older_one(
    info: dict, test_model_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A llama.cpp built for this machine (GGML_NATIVE), run on a CPU without AVX2."""
    if not (sys.platform.startswith("linux") and platform.machine() == "x86_64"):
        pytest.skip("x86-64 Linux only (qemu-user)")
    if shutil.which("qemu-x86_64") is None:
        pytest.skip("qemu-x86_64 is not installed (apt-get install qemu-user)")
    backends = info["backends"]
    if "AVX2" not in backends["cpu_features"] or backends["cpu_variant"] != "built for one CPU":
        pytest.skip(f"this llama.cpp suits older CPUs ({backends['cpu_variant']})")
    monkeypatch.setenv("OPENWEIGHT_HOST_PREFIX", "qemu-x86_64 -cpu Nehalem")
    client = EngineClient()
    try:
        with pytest.raises(EngineError) as caught:
            client.load(LoadOptions(path=str(test_model_path), n_ctx=512))
            messages = [{"role": "user", "content": "Hi"}]
            for event in client.generate(GenerateOptions(messages=messages, max_tokens=2)):
                if event["event"] == "error":
                    raise EngineCrashed(event["message"])
    finally:
        client.close()
    assert "processor lacks instructions" in str(caught.value), caught.value
