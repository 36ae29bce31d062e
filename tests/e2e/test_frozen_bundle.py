"""The frozen app (PyInstaller bundle from `make installer`) as a user runs it.

Skipped unless the bundle has been built, so `make test` never needs PyInstaller. What it
proves: the one executable works as the command line, as the engine host (the model loads
and answers in `<exe> --engine-host`), and as the window, with nothing missing from the
bundle. The model answering is the point: llama.cpp's shared libraries are loaded with
ctypes, invisible to PyInstaller's import analysis.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import end

ROOT = Path(__file__).resolve().parents[2]
QUESTION = "What is the capital of France?"


def _cli_executable() -> Path:
    # An installed copy (the .deb's /usr/bin/openweight, an AppImage, an unpacked .tar.gz or
    # an installed setup.exe) is tested by naming it here; by default, the build in dist/.
    if os.environ.get("OPENWEIGHT_BUNDLE"):
        return Path(os.environ["OPENWEIGHT_BUNDLE"])
    if sys.platform == "darwin":
        return ROOT / "dist" / "Openweight.app" / "Contents" / "MacOS" / "Openweight"
    if sys.platform == "win32":
        return ROOT / "dist" / "Openweight" / "openweight-cli.exe"
    return ROOT / "dist" / "Openweight" / "openweight"


EXE = _cli_executable()
# `make test` (x86-64 Linux) and CI set this where they built a bundle: a missing or stale
# bundle then fails instead of skipping. With OPENWEIGHT_REQUIRE_TOOLS=1 as well (`make
# test-installers`, the installers workflow), so does a missing tool (qemu-user, Xvfb).
REQUIRED = os.environ.get("OPENWEIGHT_REQUIRE_BUNDLE") == "1"
TOOLS_REQUIRED = REQUIRED and os.environ.get("OPENWEIGHT_REQUIRE_TOOLS") == "1"


def _why_skip() -> str | None:
    if not EXE.is_file():
        return f"no frozen bundle at {EXE} (make installer)"
    if os.environ.get("OPENWEIGHT_BUNDLE"):
        return None  # an installed copy: whatever it was built from is what is tested
    # A bundle holds the code it was built from: once the source changes, testing it would
    # test old code (and the current code may migrate the test's database past it).
    built = EXE.stat().st_mtime
    newer = next(
        (
            p
            for p in (ROOT / "desktop").rglob("*")
            if p.is_file() and p.suffix != ".pyc" and p.stat().st_mtime > built
        ),
        None,
    )
    if newer is not None:
        return f"the frozen bundle is older than {newer.relative_to(ROOT)} (make installer)"
    return None


SKIP = _why_skip()
if SKIP and REQUIRED:
    raise RuntimeError(f"OPENWEIGHT_REQUIRE_BUNDLE=1 but {SKIP}")
pytestmark = [pytest.mark.slow, pytest.mark.skipif(SKIP is not None, reason=SKIP or "")]


def skip_unless(condition: bool, reason: str) -> None:
    """Skip one test for a missing tool, or fail when the tools are required."""
    if condition:
        return
    if TOOLS_REQUIRED:
        pytest.fail(f"OPENWEIGHT_REQUIRE_TOOLS=1 but {reason}")
    pytest.skip(reason)


def _env() -> dict[str, str]:
    # Nothing from the development setup may help the bundle find its modules.
    drop = {"OPENWEIGHT_HOME", "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "QT_PLUGIN_PATH"}
    return {k: v for k, v in os.environ.items() if k not in drop}


def frozen(data: Path, *args: str, timeout: float = 120,
           env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(EXE), "--data-dir", str(data), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**_env(), **(env or {})},
        cwd=data.parent,
    )


@pytest.fixture
def profile(tmp_path: Path, test_model_path: Path) -> Path:
    data = tmp_path / "profile"
    imported = frozen(data, "models", "import", str(test_model_path))
    assert imported.returncode == 0, imported.stderr
    assert "SmolLM2-135M-Instruct.Q4_1" in imported.stdout
    return data


def test_version(tmp_path: Path) -> None:
    from desktop import __version__

    result = frozen(tmp_path, "--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"Openweight {__version__}"


def test_chat_runs_the_model_in_the_frozen_engine_host(profile: Path) -> None:
    chat = frozen(profile, "chat", "--temperature", "0", QUESTION)
    assert chat.returncode == 0, chat.stderr
    assert "Paris" in chat.stdout
    assert chat.stderr == ""

    shown = frozen(profile, "history", "show", "--last")
    assert QUESTION in shown.stdout and "Paris" in shown.stdout

    info = frozen(profile, "info")
    assert info.returncode == 0, info.stderr
    assert "llama-cpp-python" in info.stdout and "Engine:" not in info.stdout  # no engine error
    assert "CPU code:" in info.stdout and "Device CPU:" in info.stdout, info.stdout


WINDOWED = os.environ.get("OPENWEIGHT_WINDOWED_BUNDLE") or (
    str(EXE.parent / "Openweight.exe") if sys.platform == "win32" else "")


@pytest.mark.applies(bool(WINDOWED), "one executable is both window and command line here")
def test_the_windowed_executable_answers_through_its_engine_host(profile: Path) -> None:
    """Windows: Openweight.exe (what the Start menu opens; no console) starts its own engine
    host. It prints nothing, so the answer is read back from the chat history."""
    windowed = WINDOWED
    ran = subprocess.run([windowed, "--data-dir", str(profile), "chat", "--temperature", "0",
                          QUESTION], env=_env(), timeout=300, cwd=profile.parent)
    assert ran.returncode == 0
    shown = frozen(profile, "history", "show", "--last").stdout
    assert QUESTION in shown and "Paris" in shown, shown


def test_documents_and_the_api_server_work_frozen(profile: Path, tmp_path: Path,
                                                 embedding_model_path: Path) -> None:
    """What the bundle must carry beyond chat: the PDF reader's library, the embedding
    model's own engine host, and the API server's modules (imported by name at run time)."""
    from tests.documents_corpus import write_pdf

    folder = tmp_path / "notes"
    folder.mkdir()
    write_pdf(folder / "almanac.pdf", ["Tides follow the moon.", "The keeper logs storms."])
    (folder / "heron.md").write_text("# Grey heron\n\nThe grey heron nests in tall trees.\n")
    assert frozen(profile, "models", "import", str(embedding_model_path)).returncode == 0
    assert frozen(profile, "docs", "add", "Notes", str(folder)).returncode == 0
    indexed = frozen(profile, "docs", "index", "--json", timeout=300)
    assert indexed.returncode == 0, indexed.stderr
    assert json.loads(indexed.stdout)[0]["indexed"] == 2
    hits = json.loads(frozen(profile, "docs", "search", "Notes", "keeper storms", "--json").stdout)
    assert hits[0]["path"].endswith("almanac.pdf") and hits[0]["page"] == 2
    assert hits[0]["vector_rank"] is not None  # embedded in the frozen embedding host

    import urllib.request

    server = subprocess.Popen([str(EXE), "--data-dir", str(profile), "serve", "--port", "0"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=_env(), cwd=profile.parent)
    try:
        assert server.stdout is not None
        base = ""
        for line in server.stdout:
            found = re.search(r"http://127\.0\.0\.1:\d+/v1", line)
            base = found.group(0) if found else base
            if line.startswith("Press Ctrl+C"):
                break
        assert base, server.stderr.read() if server.stderr else ""
        with urllib.request.urlopen(f"{base}/models", timeout=30) as reply:
            models = [m["id"] for m in json.load(reply)["data"]]
        assert "SmolLM2-135M-Instruct.Q4_1" in models
        body = json.dumps({"model": "SmolLM2-135M-Instruct.Q4_1", "temperature": 0,
                           "max_tokens": 12,
                           "messages": [{"role": "system", "content": "You are a helpful assistant."},
                                        {"role": "user", "content": QUESTION}]}).encode()
        request = urllib.request.Request(f"{base}/chat/completions", body,
                                         {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=120) as reply:
            answer = json.load(reply)["choices"][0]["message"]["content"]
        assert "Paris" in answer
    finally:
        end(server, signal.SIGINT if sys.platform != "win32" else signal.SIGTERM)  # Ctrl+C


# -- one build for every CPU: the engine host under an emulated older processor ----------

IS_X86_LINUX = sys.platform.startswith("linux") and platform.machine() == "x86_64"
# The qemu CPU models, and the CPU module llama.cpp should pick on each (installers/README.md).
CPU_MODELS = {"Haswell": "haswell", "Nehalem": "sse42"}


@pytest.mark.applies(IS_X86_LINUX, "x86-64 Linux only (qemu-user)")
@pytest.mark.parametrize("cpu", list(CPU_MODELS))
def test_answers_on_an_older_processor(profile: Path, cpu: str) -> None:
    skip_unless(shutil.which("qemu-x86_64") is not None, "qemu-x86_64 is not installed "
                "(apt-get install qemu-user)")
    under = {"OPENWEIGHT_HOST_PREFIX": f"qemu-x86_64 -cpu {cpu}"}
    info = frozen(profile, "info", "--json", env=under, timeout=300)
    assert info.returncode == 0, info.stderr
    backends = json.loads(info.stdout)["engine"]["backends"]
    assert backends["cpu_variant"] == CPU_MODELS[cpu], backends
    assert "AVX512" not in backends["cpu_features"]
    chat = frozen(profile, "chat", "--temperature", "0", "--max-tokens", "12", QUESTION,
                  env=under, timeout=600)
    assert chat.returncode == 0, chat.stderr
    assert "Paris" in chat.stdout


def test_window_starts_offscreen(profile: Path) -> None:
    log_file = profile / "logs" / "openweight.log"
    app = subprocess.Popen(
        [str(EXE), "--data-dir", str(profile)],
        env={**_env(), "QT_QPA_PLATFORM": "offscreen"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=profile.parent,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and app.poll() is None:
            if log_file.is_file() and "window shown" in log_file.read_text("utf-8"):
                break
            time.sleep(0.1)
        assert app.poll() is None, app.communicate()[1]
        assert "window shown" in log_file.read_text("utf-8")
        if sys.platform != "win32":
            app.send_signal(signal.SIGTERM)  # the app closes its window on SIGTERM
            assert app.wait(timeout=30) == 0
    finally:
        end(app, signal.SIGKILL if sys.platform != "win32" else signal.SIGTERM)
    text = log_file.read_text("utf-8")
    assert "Traceback" not in text and " ERROR " not in text, text


# -- the real window under Xvfb: type a question, get the answer from the frozen engine --


def _xdotool(display: str, *args: str) -> str:
    return subprocess.run(
        ["xdotool", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "DISPLAY": display},
    ).stdout.strip()


@pytest.fixture
def frozen_display(request: pytest.FixtureRequest) -> str:
    if sys.platform.startswith("linux"):
        skip_unless(bool(shutil.which("Xvfb") and shutil.which("xdotool")),
                    "Xvfb and xdotool are not installed")
    return str(request.getfixturevalue("display"))


@pytest.mark.applies(sys.platform.startswith("linux"), "an X11 window (Xvfb), Linux only")
def test_typing_a_question_in_the_frozen_window(frozen_display: str, profile: Path) -> None:
    display = frozen_display
    from desktop.chat.defaults import save_chat_defaults
    from desktop.store import Store
    from desktop.store.records import ChatSettings

    store = Store(profile / "openweight.sqlite3")
    save_chat_defaults(store.settings, ChatSettings(temperature=0.0, max_tokens=48))
    store.close()
    env = {k: v for k, v in _env().items() if k != "QT_QPA_PLATFORM"}
    app = subprocess.Popen(
        [str(EXE), "--data-dir", str(profile)],
        env={**env, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=profile.parent,
    )
    try:
        window = _xdotool(display, "search", "--sync", "--onlyvisible", "--name", "Openweight")
        assert window, "the window did not appear"
        window = window.splitlines()[0]
        _xdotool(display, "windowfocus", "--sync", window)
        time.sleep(0.5)
        _xdotool(display, "type", "--delay", "30", QUESTION)
        _xdotool(display, "key", "Return")
        deadline = time.monotonic() + 120
        shown = ""
        while time.monotonic() < deadline:
            shown = frozen(profile, "history", "show", "--last").stdout
            if "Paris" in shown:
                break
            time.sleep(0.5)
        assert QUESTION in shown and "Paris" in shown, shown
        _xdotool(display, "key", "--window", window, "ctrl+q")
        assert app.wait(timeout=30) == 0, app.stderr.read() if app.stderr else ""
    finally:
        end(app, signal.SIGTERM)


# -- the GPU: llama.cpp's Vulkan module, on whatever Vulkan device there is ----------------
# Opt-in (OPENWEIGHT_GPU_TEST=1): it needs a bundle built with --vulkan and a Vulkan device.
# Without a GPU, Mesa's lavapipe is one (mesa-vulkan-drivers, GGML_VK_VISIBLE_DEVICES=0).


# llama.cpp leaves out Vulkan devices that are CPUs (lavapipe) unless they are named.
LAVAPIPE = {"GGML_VK_VISIBLE_DEVICES": os.environ.get("GGML_VK_VISIBLE_DEVICES", "0")}


def _chat_events(profile: Path, env: dict[str, str]) -> list[dict]:
    chat = frozen(profile, "chat", "--temperature", "0", "--max-tokens", "12", "--json",
                  QUESTION, env=env, timeout=600)
    assert chat.returncode == 0, chat.stderr
    return [json.loads(line) for line in chat.stdout.splitlines()]


# A run with a Vulkan bundle and device asks for it (the installers workflow does, on lavapipe).
@pytest.mark.applies(os.environ.get("OPENWEIGHT_GPU_TEST") == "1", "OPENWEIGHT_GPU_TEST=1")
def test_gpu_offload_and_fallback_to_the_cpu(profile: Path) -> None:
    info = json.loads(frozen(profile, "info", "--json", env=LAVAPIPE).stdout)["engine"]["backends"]
    gpus = [d for d in info["devices"] if d["kind"] != "CPU"]
    assert gpus, f"llama.cpp sees no GPU: {info['devices']}"

    events = _chat_events(profile, LAVAPIPE)
    loaded = events[0]
    assert loaded["type"] == "loaded" and loaded["gpu_offload"], loaded
    assert loaded["device"].startswith(gpus[0]["name"]) and "layers" in loaded["device"]
    assert "Paris" in "".join(e.get("answer", "") for e in events)

    # A device too small for the model's buffers: loaded again on the CPU, with a message.
    small = {**LAVAPIPE, "GGML_VK_FORCE_MAX_BUFFER_SIZE": "1048576",
             "GGML_VK_FORCE_MAX_ALLOCATION_SIZE": "1048576"}
    events = _chat_events(profile, small)
    loaded = events[0]
    assert loaded["device"].startswith("CPU"), loaded
    assert any("did not fit on the GPU" in w for w in loaded["warnings"]), loaded
    assert "Paris" in "".join(e.get("answer", "") for e in events)
