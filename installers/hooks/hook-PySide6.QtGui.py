# Replaces PyInstaller's own hook for PySide6.QtGui (hooks in installers/hooks win), to leave
# out Qt plugins a desktop chat window never uses. Filtering here, before PyInstaller looks
# for the plugins' own dependencies, also keeps out the libraries only they need (GTK's
# cairo/pango/atk for the GTK theme, the EGLFS device support, ...).
#
# Kept: the desktop platforms (xcb, wayland, cocoa, windows) and offscreen (tests, CI),
# the XDG portal theme (native file dialogs on Linux without GTK), input methods (ibus for
# CJK input), the SVG icon engine and the common image formats.
import os
import re

from PyInstaller.utils.hooks.qt import add_qt6_dependencies

hiddenimports, binaries, datas = add_qt6_dependencies(__file__)

UNUSED = {
    # Embedded-Linux and debugging platforms.
    "platforms": {"qeglfs", "qlinuxfb", "qminimal", "qminimalegl", "qvnc", "qvkkhrdisplay"},
    # Qt's GTK3 theme would load the system's GTK with the build machine's cairo and pango.
    "platformthemes": {"qgtk3"},
    "imageformats": {"qpdf", "qtiff", "qwebp", "qtga", "qwbmp", "qicns"},
}
UNUSED_FOLDERS = {"egldeviceintegrations", "generic"}  # kiosk/touch hardware input


def _wanted(src: str, dest: str) -> bool:
    folder = os.path.basename(os.path.normpath(dest))
    if folder in UNUSED_FOLDERS:
        return False
    stem = re.sub(r"^lib", "", os.path.basename(src)).split(".")[0]
    return stem not in UNUSED.get(folder, set())


binaries = [(src, dest) for src, dest in binaries if _wanted(src, dest)]
