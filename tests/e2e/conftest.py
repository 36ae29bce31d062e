from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


class Openweight:
    """Runs the real command line in a separate process, with its own data folder."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.env.pop("OPENWEIGHT_HOME", None)

    def argv(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "desktop", "--data-dir", str(self.data_dir), *args]

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.argv(*args), capture_output=True, text=True, timeout=timeout,
                              cwd=ROOT, env=self.env)

    def start(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(self.argv(*args), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, cwd=ROOT, env=self.env)


# -- the frozen-bundle tests: left out where they do not apply, never skipped when required --

REQUIRE_TOOLS = (os.environ.get("OPENWEIGHT_REQUIRE_BUNDLE") == "1"
                 and os.environ.get("OPENWEIGHT_REQUIRE_TOOLS") == "1")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test marked applies(False, why) is left out (deselected): it does not concern this
    system or this run, so it is not a skip to count against it."""
    left_out = [item for item in items
                if (mark := item.get_closest_marker("applies")) is not None and not mark.args[0]]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = [item for item in items if item not in left_out]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """With OPENWEIGHT_REQUIRE_TOOLS=1 (`make test-installers`, the installers workflow) a
    frozen-bundle test that skips fails: an installer must not pass untested."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if REQUIRE_TOOLS and report.skipped and item.path.name == "test_frozen_bundle.py":
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped although OPENWEIGHT_REQUIRE_TOOLS=1: {reason}"


@pytest.fixture
def openweight(tmp_path: Path) -> Openweight:
    return Openweight(tmp_path / "profile")


@pytest.fixture
def with_model(openweight: Openweight, test_model_path: Path) -> Openweight:
    result = openweight.run("models", "import", str(test_model_path))
    assert result.returncode == 0, result.stderr
    return openweight


def _missing_tools() -> str | None:
    missing = [tool for tool in ("Xvfb", "xdotool") if shutil.which(tool) is None]
    if missing:
        return (
            f"{' and '.join(missing)} not installed (apt-get install xvfb xdotool; "
            "`make test` does it when run as root)"
        )
    import PySide6

    plugin = Path(PySide6.__file__).parent / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    if sys.platform.startswith("linux") and plugin.is_file() and shutil.which("ldd"):
        libraries = subprocess.run(["ldd", str(plugin)], capture_output=True, text=True).stdout
        absent = sorted({line.split()[0] for line in libraries.splitlines() if "not found" in line})
        if absent:
            return (
                f"Qt's X11 plugin needs {', '.join(absent)} (apt-get install libxcb-icccm4 "
                "libxcb-keysyms1 libxcb-cursor0 libxkbcommon-x11-0)"
            )
    return None


@pytest.fixture
def display() -> Iterator[str]:
    reason = _missing_tools()
    if reason:
        pytest.skip(reason)
    if not sys.platform.startswith("linux"):
        pytest.skip("X11 test, Linux only")
    number = 90 + os.getpid() % 100
    while Path(f"/tmp/.X11-unix/X{number}").exists():
        number += 1
    server = subprocess.Popen(
        ["Xvfb", f":{number}", "-screen", "0", "1280x900x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while not Path(f"/tmp/.X11-unix/X{number}").exists():
        if time.monotonic() > deadline or server.poll() is not None:
            server.kill()
            pytest.skip("Xvfb did not start")
        time.sleep(0.05)
    yield f":{number}"
    server.terminate()
    server.wait(timeout=10)
