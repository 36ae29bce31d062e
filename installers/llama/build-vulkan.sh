#!/usr/bin/env bash
# Build llama.cpp's Vulkan backend as a loadable module (libggml-vulkan.so) from the same
# llama-cpp-python source release as installers/llama/build-wheel.sh, to ship beside its CPU
# modules. llama.cpp loads it only where a Vulkan driver is installed.
#
#     installers/llama/build-vulkan.sh              # -> build/llama-vulkan/libggml-vulkan.so
#     installers/llama/build-vulkan.sh --can-build  # exit 0 when this system can build it
#
# Needs glslc and the Vulkan loader (Debian: glslc libvulkan-dev). llama.cpp needs Vulkan
# headers 1.4 and SPIRV-Headers (vk::LayerSettingEXT); Debian 12 has 1.3.239, so on Debian the
# headers of Debian 13's libvulkan-dev are fetched with apt (a package registry) and unpacked
# under build/, leaving the system untouched. Elsewhere set VULKAN_INCLUDE_DIR to Vulkan 1.4
# headers (and CMAKE_PREFIX_PATH to SPIRV-Headers).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
# shellcheck source=installers/llama/common.sh
. installers/llama/common.sh
OUT="build/llama-vulkan"
WORK="build/llama-vulkan-build"
HEADERS="$ROOT/build/vulkan-headers"
OPTIONS="-DGGML_BACKEND_DL=ON -DGGML_NATIVE=OFF -DGGML_VULKAN=ON vulkan-headers-1.4.309"
CACHE="$(build_cache vulkan "$OPTIONS")"

debian_archive() {  # the Debian archive this system's apt already uses (a local mirror too)
    [ -r /etc/os-release ] || return 0
    # shellcheck source=/dev/null
    . /etc/os-release
    [ "${ID:-}" = debian ] || return 0
    apt-get indextargets --format '$(REPO_URI) $(RELEASE)' 'Created-By: Packages' 2>/dev/null \
        | awk -v r="${VERSION_CODENAME:-}" '$2 == r {print $1; exit}'
}

if [ "${1:-}" = --can-build ]; then
    [ -f "$CACHE/libggml-vulkan.so" ] && exit 0
    command -v glslc >/dev/null && ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so ' || exit 1
    [ -n "${VULKAN_INCLUDE_DIR:-}" ] || [ -f "$HEADERS/usr/include/vulkan/vulkan.hpp" ] \
        || [ -n "${DEBIAN_MIRROR:-$(debian_archive)}" ]
    exit
fi

mkdir -p "$OUT"
if [ -f "$CACHE/libggml-vulkan.so" ]; then
    echo "==> llama.cpp's Vulkan module: built before ($CACHE)"
    cp "$CACHE/libggml-vulkan.so" "$OUT/"
    exit 0
fi
fetch_sdist
SRC="$SDIST_DIR/llama_cpp_python-$VERSION"
[ -d "$SRC" ] || tar -C "$SDIST_DIR" -xzf "$SDIST"

if [ -z "${VULKAN_INCLUDE_DIR:-}" ]; then
    if [ ! -f "$HEADERS/usr/include/vulkan/vulkan.hpp" ]; then
        APT="$ROOT/build/apt-trixie"
        mkdir -p "$APT/lists/partial" "$APT/cache/archives/partial"
        MIRROR="${DEBIAN_MIRROR:-$(debian_archive)}"
        if [ -z "$MIRROR" ]; then
            echo "No Debian archive found in apt's sources (run apt-get update, or set" \
                "DEBIAN_MIRROR, or VULKAN_INCLUDE_DIR to Vulkan 1.4 headers)" >&2
            exit 1
        fi
        echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $MIRROR trixie main" \
            > "$APT/sources.list"
        OPTS=(-o "Dir::Etc::SourceList=$APT/sources.list" -o Dir::Etc::SourceParts=/dev/null
              -o "Dir::State::Lists=$APT/lists" -o "Dir::Cache=$APT/cache")
        apt-get "${OPTS[@]}" update -qq
        (cd "$APT" && apt-get "${OPTS[@]}" download libvulkan-dev spirv-headers)
        dpkg -x "$APT"/libvulkan-dev_*.deb "$HEADERS"
        dpkg -x "$APT"/spirv-headers_*.deb "$HEADERS"
    fi
    VULKAN_INCLUDE_DIR="$HEADERS/usr/include"
    # SPIRV-Headers (a CMake package) of the same release as the Vulkan headers.
    export CMAKE_PREFIX_PATH="$HEADERS/usr${CMAKE_PREFIX_PATH:+:$CMAKE_PREFIX_PATH}"
fi

cmake -S "$SRC/vendor/llama.cpp" -B "$WORK" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DBUILD_SHARED_LIBS=ON -DGGML_BACKEND_DL=ON -DGGML_NATIVE=OFF -DGGML_VULKAN=ON \
    -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TESTS=OFF \
    -DLLAMA_BUILD_SERVER=OFF -DLLAMA_CURL=OFF \
    -DVulkan_INCLUDE_DIR="$VULKAN_INCLUDE_DIR" -DCMAKE_INSTALL_RPATH='$ORIGIN' \
    -DCMAKE_BUILD_WITH_INSTALL_RPATH=ON
cmake --build "$WORK" --target ggml-vulkan -j "${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}"
cp -L "$WORK"/bin/libggml-vulkan.so "$OUT/"
strip --strip-unneeded "$OUT/libggml-vulkan.so"
save_to_cache "$CACHE" "$OUT/libggml-vulkan.so"
ls -l "$OUT"
