"""The Linux packaging tools on their own: the glibc floor check and the AppImage start-up
program (built from Debian's libsquashfuse), each on real files."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINUX = ROOT / "installers" / "linux"
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux packaging")


def test_glibc_check_reads_the_highest_version_and_enforces_the_floor() -> None:
    import llama_cpp

    libs = Path(llama_cpp.__file__).parent / "lib"
    check = [sys.executable, str(LINUX / "check_glibc.py"), str(libs)]
    passed = subprocess.run([*check, "--floor", "9.99"], capture_output=True, text=True)
    assert passed.returncode == 0, passed.stderr
    highest = passed.stdout.split("highest glibc needed: ")[1].split()[0]
    assert highest.startswith("2.")
    failed = subprocess.run([*check, "--floor", "2.2"], capture_output=True, text=True)
    assert failed.returncode == 1 and "needs a glibc newer than 2.2" in failed.stderr


def test_appimage_runtime_unpacks_once_and_runs_apprun(tmp_path: Path) -> None:
    missing = [t for t in ("gcc", "mksquashfs") if shutil.which(t) is None]
    if missing or not Path("/usr/include/squashfuse/fs.h").is_file():
        pytest.skip("needs gcc, squashfs-tools and libsquashfuse-dev (installers/README.md)")
    runtime = tmp_path / "runtime"
    subprocess.run(["gcc", "-O2", "-static", "-I/usr/include/squashfuse", "-o", str(runtime),
                    str(LINUX / "appimage-runtime.c"), "-lsquashfuse", "-lz", "-llzma", "-llz4",
                    "-llzo2", "-lzstd"], check=True, capture_output=True)
    appdir = tmp_path / "AppDir"
    (appdir / "data").mkdir(parents=True)
    (appdir / "data" / "note.txt").write_text("inside the image\n")
    (appdir / "data" / "link").symlink_to("note.txt")
    apprun = appdir / "AppRun"
    apprun.write_text('#!/bin/sh\necho "args: $*"; cat "$APPDIR/data/link"; echo "$APPIMAGE"\n')
    apprun.chmod(0o755)
    image = tmp_path / "image.squashfs"
    subprocess.run(["mksquashfs", str(appdir), str(image), "-root-owned", "-noappend", "-comp",
                    "zstd", "-quiet", "-no-progress"], check=True, capture_output=True)
    app = tmp_path / "Test.AppImage"
    app.write_bytes(runtime.read_bytes() + image.read_bytes())
    app.chmod(0o755)
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin"}
    first = subprocess.run([str(app), "one", "two"], capture_output=True, text=True, env=env)
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == ["args: one two", "inside the image", str(app)]
    assert "unpacking" in first.stderr
    again = subprocess.run([str(app), "three"], capture_output=True, text=True, env=env)
    assert again.stdout.startswith("args: three") and "unpacking" not in again.stderr
    offset = subprocess.run([str(app), "--appimage-offset"], capture_output=True, text=True)
    assert int(offset.stdout) == runtime.stat().st_size


def test_menu_entry_and_software_centre_metadata_are_valid() -> None:
    # What desktops and software centres read from the .deb, the AppImage and install.sh.
    tools = {"desktop-file-validate": LINUX / "openweight.desktop",
             "appstreamcli": LINUX / "org.openweight.Openweight.metainfo.xml"}
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"{' and '.join(missing)} not installed (desktop-file-utils, appstream)")
    desktop = subprocess.run(["desktop-file-validate", str(tools["desktop-file-validate"])],
                             capture_output=True, text=True)
    assert desktop.returncode == 0 and desktop.stdout == "", desktop.stdout + desktop.stderr
    meta = subprocess.run(["appstreamcli", "validate", "--no-net",
                           str(tools["appstreamcli"])], capture_output=True, text=True)
    assert meta.returncode == 0, meta.stdout + meta.stderr
