#!/usr/bin/env bash
# Build llama.cpp's Vulkan backend as a loadable module (libggml-vulkan.so) from the same
# llama-cpp-python source release as installers/llama/build-wheel.sh, to ship beside its CPU
# modules. llama.cpp loads it only where a Vulkan driver is installed.
#
#     installers/llama/build-vulkan.sh      # -> build/llama-vulkan/libggml-vulkan.so
#
# Needs glslc and the Vulkan loader (Debian: glslc libvulkan-dev). llama.cpp needs Vulkan
# headers 1.4 and SPIRV-Headers (vk::LayerSettingEXT); Debian 12 has 1.3.239, so the headers of Debian 13's
# libvulkan-dev are fetched with apt (a package registry) and unpacked under build/, leaving
# the system untouched. Set VULKAN_INCLUDE_DIR to use headers you already have.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
VERSION="${LLAMA_CPP_PYTHON_VERSION:-0.3.36}"
SRC="build/sdist/llama_cpp_python-$VERSION"
OUT="build/llama-vulkan"
WORK="build/llama-vulkan-build"

if [ ! -d "$SRC" ]; then
    tar -C build/sdist -xzf "build/sdist/llama_cpp_python-$VERSION.tar.gz"
fi

if [ -z "${VULKAN_INCLUDE_DIR:-}" ]; then
    HEADERS="$ROOT/build/vulkan-headers"
    if [ ! -f "$HEADERS/usr/include/vulkan/vulkan.hpp" ]; then
        APT="$ROOT/build/apt-trixie"
        mkdir -p "$APT/lists/partial" "$APT/cache/archives/partial"
        # The Debian archive this system already uses (a local mirror included), at trixie.
        . /etc/os-release
        MIRROR="${DEBIAN_MIRROR:-$(apt-get indextargets --format '$(REPO_URI) $(RELEASE)' \
            'Created-By: Packages' 2>/dev/null | awk -v r="$VERSION_CODENAME" '$2 == r {print $1; exit}')}"
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
mkdir -p "$OUT"
cp -L "$WORK"/bin/libggml-vulkan.so "$OUT/"
strip --strip-unneeded "$OUT/libggml-vulkan.so"
ls -l "$OUT"
