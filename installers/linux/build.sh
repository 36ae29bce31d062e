#!/usr/bin/env bash
# Build Openweight for Linux: the PyInstaller bundle, a .tar.gz of it, and an AppImage when
# appimagetool is on PATH (or APPIMAGETOOL names it). Run from anywhere:
#
#     installers/linux/build.sh              # uses .venv/bin/python (make run/test create it)
#     PYTHON=/path/to/python installers/linux/build.sh
#
# Output: dist/Openweight/ (the bundle) and dist/installers/Openweight-<version>-linux-<arch>.*
# Build on the oldest distribution you want to support: the bundle uses the glibc it was
# built against, and newer glibc versions run it, older ones do not.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
HERE="installers/linux"
OUT="dist/installers"
VERSION="$("$PYTHON" -c 'import desktop; print(desktop.__version__)')"
ARCH="$(uname -m)"
NAME="Openweight-$VERSION-linux-$ARCH"

echo "==> PyInstaller bundle (Openweight $VERSION, $ARCH)"
"$PYTHON" -m pip install --quiet "pyinstaller>=6.10"
"$PYTHON" -m PyInstaller installers/openweight.spec --noconfirm --distpath dist \
    --workpath build/pyinstaller
dist/Openweight/openweight --version

# The .tar.gz: the bundle plus the desktop entry, the icon and a per-user install script.
echo "==> $OUT/$NAME.tar.gz"
mkdir -p "$OUT"
cp "$HERE/openweight.desktop" "$HERE/install.sh" dist/Openweight/
cp resources/icons/openweight-256.png dist/Openweight/openweight.png
chmod +x dist/Openweight/install.sh
tar -C dist -czf "$OUT/$NAME.tar.gz" Openweight

# The AppImage: one file that runs on most distributions without installing anything.
APPIMAGETOOL="${APPIMAGETOOL:-$(command -v appimagetool || true)}"
if [ -z "$APPIMAGETOOL" ]; then
    echo "==> appimagetool not found: skipping the AppImage (see installers/README.md)"
    exit 0
fi
echo "==> $OUT/$NAME.AppImage"
APPDIR="build/Openweight.AppDir"
rm -rf "$APPDIR"
mkdir -p "$APPDIR/usr/lib" "$APPDIR/usr/share/applications" "$APPDIR/usr/share/metainfo"
cp -a dist/Openweight "$APPDIR/usr/lib/openweight"
rm -f "$APPDIR/usr/lib/openweight/install.sh"
cp "$HERE/openweight.desktop" "$APPDIR/openweight.desktop"
cp "$HERE/openweight.desktop" "$APPDIR/usr/share/applications/openweight.desktop"
cp "$HERE/org.openweight.Openweight.metainfo.xml" "$APPDIR/usr/share/metainfo/"
for size in 16 32 48 64 128 256 512; do
    mkdir -p "$APPDIR/usr/share/icons/hicolor/${size}x${size}/apps"
    cp "resources/icons/openweight-$size.png" \
        "$APPDIR/usr/share/icons/hicolor/${size}x${size}/apps/openweight.png"
done
mkdir -p "$APPDIR/usr/share/icons/hicolor/scalable/apps"
cp resources/icons/openweight.svg "$APPDIR/usr/share/icons/hicolor/scalable/apps/openweight.svg"
cp resources/icons/openweight-256.png "$APPDIR/openweight.png"
ln -sf openweight.png "$APPDIR/.DirIcon"
cat > "$APPDIR/AppRun" <<'APPRUN'
#!/bin/sh
# The AppImage's entry: the bundled executable, with the command line passed on unchanged
# (`Openweight.AppImage chat "Hello"` works like `openweight chat "Hello"`).
HERE="$(dirname "$(readlink -f "$0")")"
exec "$HERE/usr/lib/openweight/openweight" "$@"
APPRUN
chmod +x "$APPDIR/AppRun"
# APPIMAGE_EXTRACT_AND_RUN lets appimagetool (itself an AppImage) run without FUSE, as in CI.
ARCH="$ARCH" APPIMAGE_EXTRACT_AND_RUN=1 "$APPIMAGETOOL" --no-appstream "$APPDIR" \
    "$OUT/$NAME.AppImage"
echo "==> done: $(ls "$OUT")"
