"""Checks before the window is created, so a missing display or system library gets a
sentence instead of Qt aborting the process (exit 134, nothing printed).

Imports no Qt at module level: it must run before Qt can abort.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
import sys
from pathlib import Path

SEE_ALSO = "The command line still works without a window: see 'openweight --help'."


def _qt_plugin(name: str) -> Path | None:
    import PySide6  # only to find the plugin folder; loads no Qt library

    folder = Path(PySide6.__file__).resolve().parent / "Qt" / "plugins" / "platforms"
    path = folder / f"libq{name}.so"
    return path if path.is_file() else None


def display_problem(env: dict[str, str] | None = None) -> str | None:
    """Why the window cannot open on this Linux/BSD session, in words; None when it can."""
    env = dict(os.environ if env is None else env)
    if sys.platform in ("win32", "darwin"):
        return None
    platform = env.get("QT_QPA_PLATFORM", "").split(":")[0].split(";")[0].strip()
    if platform in ("offscreen", "minimal", "vnc", "eglfs", "linuxfb"):
        return None
    wayland = bool(env.get("WAYLAND_DISPLAY"))
    x11 = bool(env.get("DISPLAY"))
    if platform.startswith("wayland") and not wayland:
        return (
            "The window cannot open: QT_QPA_PLATFORM asks for Wayland, but no Wayland "
            f"session was found (WAYLAND_DISPLAY is not set). {SEE_ALSO}"
        )
    if not wayland and not x11:
        return (
            "The window cannot open: there is no display (neither DISPLAY nor "
            "WAYLAND_DISPLAY is set), as when connected over SSH. Start Openweight from "
            f"the desktop, or connect with 'ssh -X'. {SEE_ALSO}"
        )
    if platform == "xcb" or not wayland:
        return _missing_library("xcb", "X11") or _x11_unreachable(env.get("DISPLAY", ""))
    return None


def _x11_unreachable(display: str) -> str | None:
    """Connect to the X server as Qt's xcb plugin will; Qt aborts when this fails."""
    try:
        xcb = ctypes.CDLL("libxcb.so.1")
    except OSError:
        return None  # reported by _missing_library
    xcb.xcb_connect.restype = ctypes.c_void_p
    xcb.xcb_connect.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
    xcb.xcb_connection_has_error.argtypes = [ctypes.c_void_p]
    xcb.xcb_disconnect.argtypes = [ctypes.c_void_p]
    connection = xcb.xcb_connect(display.encode(), None)
    try:
        failed = connection is None or xcb.xcb_connection_has_error(connection) != 0
    finally:
        if connection:
            xcb.xcb_disconnect(connection)
    if failed:
        return (
            f"The window cannot open: the X11 display '{display}' cannot be reached (the X "
            "server is not running there, or this user may not use it). "
            f"{SEE_ALSO}"
        )
    return None


def _missing_library(plugin: str, what: str) -> str | None:
    """Load Qt's platform plugin the way Qt would; the loader names any missing library."""
    try:
        path = _qt_plugin(plugin)
    except ImportError:
        return None  # the import error itself is reported by the caller
    if path is None:
        return None
    try:
        ctypes.CDLL(str(path))
    except OSError as exc:
        missing = (
            str(exc).split(":")[0].strip() if "cannot open shared object" in str(exc) else str(exc)
        )
        if missing.startswith("libQt6"):
            return None  # Qt's own libraries: loaded by Qt before the plugin, never missing
        hint = ""
        if missing.startswith("libxcb-cursor"):
            hint = " (Debian/Ubuntu: sudo apt install libxcb-cursor0)"
        elif missing.startswith("libxkbcommon-x11"):
            hint = " (Debian/Ubuntu: sudo apt install libxkbcommon-x11-0)"
        elif missing.startswith("libxcb"):
            hint = (
                " (Debian/Ubuntu: sudo apt install libxcb-icccm4 libxcb-keysyms1 "
                "libxcb-image0 libxcb-render-util0 libxcb-shape0 libxcb-xkb1)"
            )
        elif missing.startswith(("libEGL", "libGL", "libOpenGL")):
            hint = " (Debian/Ubuntu: sudo apt install libegl1 libgl1)"
        elif missing.startswith("libfontconfig"):
            hint = " (Debian/Ubuntu: sudo apt install libfontconfig1)"
        return (
            f"The window cannot open: the {what} display needs a system library that is not "
            f"installed: {missing}{hint}. {SEE_ALSO}"
        )
    return None


def show_without_qt(message: str) -> None:
    """Put the message in a dialog when there is a display and a dialog tool (the app was
    probably started from a menu, where nobody reads the terminal)."""
    if sys.platform in ("win32", "darwin") or not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        return
    for tool, args in (
        ("zenity", ["--error", "--title=Openweight", f"--text={message}"]),
        ("kdialog", ["--title", "Openweight", "--error", message]),
        ("xmessage", ["-center", message]),
    ):
        if shutil.which(tool):
            try:
                subprocess.run(
                    [tool, *args],
                    timeout=600,
                    check=False,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            except (OSError, subprocess.SubprocessError):
                continue
            return
