"""A window that cannot open says why, before Qt could abort without a word."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from desktop.ui.preflight import display_problem

ROOT = Path(__file__).resolve().parents[2]


def test_no_display_is_explained() -> None:
    message = display_problem({})
    assert message and "there is no display" in message and "openweight --help" in message


def test_wayland_asked_for_without_a_session() -> None:
    message = display_problem({"QT_QPA_PLATFORM": "wayland", "DISPLAY": ":0"})
    assert message and "WAYLAND_DISPLAY is not set" in message


def test_unreachable_x_server_is_explained() -> None:
    number = 700 + os.getpid() % 100
    while Path(f"/tmp/.X11-unix/X{number}").exists():
        number += 1
    message = display_problem({"DISPLAY": f":{number}"})
    assert message and "cannot be reached" in message


def test_offscreen_needs_no_display() -> None:
    assert display_problem({"QT_QPA_PLATFORM": "offscreen"}) is None


def test_openweight_without_a_display_prints_why(tmp_path: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    }
    result = subprocess.run(
        [sys.executable, "-m", "desktop", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=ROOT,
    )
    assert result.returncode == 1
    assert "there is no display" in result.stderr
