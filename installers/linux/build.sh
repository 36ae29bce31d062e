#!/usr/bin/env bash
# Build Openweight for Linux: the PyInstaller bundle and, from it, a .tar.gz, a .deb and an
# AppImage. Run from anywhere:
#
#     installers/linux/build.sh                 # CPU build (every x86-64 CPU)
#     installers/linux/build.sh --vulkan        # plus llama.cpp's Vulkan module (GPU)
#     installers/linux/build.sh --bundle-only   # dist/Openweight only (`make installer`)
#
# llama.cpp comes from the portable wheel that installers/llama/build-wheel.sh makes
# (`make llama-portable`; built on first use): CPU code for every processor generation,
# chosen at run time. The bundle is frozen from its own environment (build/bundle-venv) so
# the development environment keeps its llama.cpp built for this machine. LLAMA_WHEEL=...
# names another wheel; PYTHON=... the interpreter to base the environment on.
#
# Output: dist/Openweight/ (the bundle) and dist/installers/Openweight-<version>-linux-<arch>*
# The bundle runs on the glibc it needs and newer (check_glibc.py fails the build above
# GLIBC_FLOOR, default 2.35: Ubuntu 22.04, Debian 12).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
HERE="installers/linux"
OUT="dist/installers"
VULKAN=0
BUNDLE_ONLY=0
for arg in "$@"; do
    case "$arg" in
        --vulkan) VULKAN=1 ;;
        --bundle-only) BUNDLE_ONLY=1 ;;  # `make installer`: dist/Openweight only
        *) echo "usage: $0 [--vulkan] [--bundle-only]" >&2; exit 2 ;;
    esac
done
BASE_PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
VENV="build/bundle-venv"
GLIBC_FLOOR="${GLIBC_FLOOR:-2.35}"

WHEEL="${LLAMA_WHEEL:-$(ls build/wheels/llama_cpp_python-*.whl 2>/dev/null | head -n1 || true)}"
if [ -z "$WHEEL" ]; then
    echo "==> no portable llama.cpp wheel yet: building it (about 15 minutes on 2 cores)"
    installers/llama/build-wheel.sh
    WHEEL="$(ls build/wheels/llama_cpp_python-*.whl | head -n1)"
fi

echo "==> build environment $VENV with $WHEEL"
[ -x "$VENV/bin/python" ] || "$BASE_PYTHON" -m venv "$VENV"
PY="$VENV/bin/python"
"$PY" -m pip install --quiet --upgrade pip
"$PY" -m pip install --quiet --force-reinstall --no-deps "$WHEEL"
"$PY" -m pip install --quiet "$WHEEL" . "${PYINSTALLER:-pyinstaller>=6.10,<7}"
VERSION="$("$PY" -c 'import desktop; print(desktop.__version__)')"
ARCH="$(uname -m)"
NAME="Openweight-$VERSION-linux-$ARCH"
[ "$VULKAN" = 1 ] && NAME="$NAME-vulkan"

echo "==> PyInstaller bundle (Openweight $VERSION, $ARCH)"
"$PY" -m PyInstaller installers/openweight.spec --noconfirm --distpath dist \
    --workpath build/pyinstaller
BUNDLE=dist/Openweight
LIB="$BUNDLE/_internal/llama_cpp/lib"
if [ "$VULKAN" = 1 ]; then
    [ -f build/llama-vulkan/libggml-vulkan.so ] || installers/llama/build-vulkan.sh
    cp build/llama-vulkan/libggml-vulkan.so "$LIB/"
fi
"$BUNDLE/openweight" --version
ls "$LIB"/libggml-cpu-*.so >/dev/null 2>&1 || {
    echo "FAIL: no CPU variant modules in $LIB: the bundle would run only on CPUs like this one" >&2
    exit 1
}
cp LICENSE desktop/resources/THIRD_PARTY_NOTICES.md "$BUNDLE/"

echo "==> glibc the bundle needs (floor $GLIBC_FLOOR)"
python3 "$HERE/check_glibc.py" "$BUNDLE" --floor "$GLIBC_FLOOR"
NEEDED="$(python3 "$HERE/check_glibc.py" "$BUNDLE" --floor "$GLIBC_FLOOR" --json \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["highest"])')"

[ "$BUNDLE_ONLY" = 1 ] && exit 0

# The .tar.gz: the bundle plus the desktop entry, the icon and a per-user install script.
echo "==> $OUT/$NAME.tar.gz"
mkdir -p "$OUT"
rm -f "$OUT/$NAME".*
cp "$HERE/openweight.desktop" dist/Openweight/
sed "s/@GLIBC_NEEDED@/$NEEDED/" "$HERE/glibc-guard.sh" > "$BUNDLE/glibc-guard.sh"
cp "$HERE/install.sh" "$BUNDLE/"
cp resources/icons/openweight-256.png "$BUNDLE/openweight.png"
chmod +x "$BUNDLE/install.sh"
tar -C dist -czf "$OUT/$NAME.tar.gz" Openweight

ARCH="$ARCH" NEEDED="$NEEDED" NAME="$NAME" VERSION="$VERSION" "$HERE/build-deb.sh"
ARCH="$ARCH" NEEDED="$NEEDED" NAME="$NAME" "$HERE/build-appimage.sh"
echo "==> done:"
ls -l "$OUT"
