#!/usr/bin/env bash
# The AppImage, from the bundle in dist/Openweight (run by build.sh, which sets the
# variables). Everything comes from Debian packages, nothing is downloaded from elsewhere:
# the start-up program (appimage-runtime.c) is compiled here against libsquashfuse
# (libsquashfuse-dev and the static libraries of its compressors), and the image is made
# with mksquashfs (squashfs-tools). See appimage-runtime.c for how it differs from the
# reference runtime (it unpacks into the user's cache instead of mounting with FUSE).
#
#     apt-get install squashfs-tools libsquashfuse-dev zlib1g-dev libzstd-dev liblzma-dev \
#         liblz4-dev liblzo2-dev
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
HERE="installers/linux"
OUT="dist/installers"
: "${NEEDED:?}" "${NAME:?}" "${ARCH:?}"
for tool in mksquashfs gcc; do
    command -v "$tool" >/dev/null || { echo "==> $tool not found: skipping the AppImage" >&2; exit 0; }
done
[ -f /usr/include/squashfuse/fs.h ] || { echo "==> libsquashfuse-dev not installed: skipping the AppImage" >&2; exit 0; }

echo "==> $OUT/$NAME.AppImage"
RUNTIME="build/appimage-runtime"
gcc -O2 -static -I/usr/include/squashfuse -o "$RUNTIME" "$HERE/appimage-runtime.c" \
    -lsquashfuse -lz -llzma -llz4 -llzo2 -lzstd
strip "$RUNTIME"
printf 'AI\002' | dd of="$RUNTIME" bs=1 seek=8 conv=notrunc status=none  # AppImage type 2

APPDIR="build/Openweight.AppDir"
rm -rf "$APPDIR"
mkdir -p "$APPDIR/usr/lib" "$APPDIR/usr/share/applications" "$APPDIR/usr/share/metainfo"
cp -a dist/Openweight "$APPDIR/usr/lib/openweight"
rm -f "$APPDIR/usr/lib/openweight/"{install.sh,openweight.desktop,openweight.png}
mv "$APPDIR/usr/lib/openweight/glibc-guard.sh" "$APPDIR/glibc-guard.sh"
cp "$HERE/openweight.desktop" "$APPDIR/openweight.desktop"
cp "$HERE/openweight.desktop" "$APPDIR/usr/share/applications/openweight.desktop"
cp "$HERE/org.openweight.Openweight.metainfo.xml" "$APPDIR/usr/share/metainfo/"
for size in 16 32 48 64 128 256 512; do
    mkdir -p "$APPDIR/usr/share/icons/hicolor/${size}x${size}/apps"
    cp "resources/icons/openweight-$size.png" \
        "$APPDIR/usr/share/icons/hicolor/${size}x${size}/apps/openweight.png"
done
cp resources/icons/openweight-256.png "$APPDIR/openweight.png"
ln -sf openweight.png "$APPDIR/.DirIcon"
cat > "$APPDIR/AppRun" <<'APPRUN'
#!/bin/sh
# The AppImage's entry: the bundled executable, with the command line passed on unchanged
# (`Openweight.AppImage chat "Hello"` works like `openweight chat "Hello"`).
HERE="$(dirname "$(readlink -f "$0")")"
. "$HERE/glibc-guard.sh"
openweight_glibc_ok || exit 1
exec "$HERE/usr/lib/openweight/openweight" "$@"
APPRUN
chmod +x "$APPDIR/AppRun"
mksquashfs "$APPDIR" build/openweight.squashfs -root-owned -noappend -comp zstd \
    -b 1M -quiet -no-progress
cat "$RUNTIME" build/openweight.squashfs > "$OUT/$NAME.AppImage"
chmod +x "$OUT/$NAME.AppImage"
rm -f build/openweight.squashfs
