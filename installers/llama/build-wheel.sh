#!/usr/bin/env bash
# Build llama-cpp-python from its source release for distribution: llama.cpp's backends as
# loadable modules (GGML_BACKEND_DL) and one CPU module per x86-64/Arm generation
# (GGML_CPU_ALL_VARIANTS), so one build runs on every CPU and llama.cpp picks the best module
# for the processor at run time, as llama.cpp's own releases and Ollama do.
#
#     installers/llama/build-wheel.sh              # -> build/wheels/llama_cpp_python-*.whl
#     EXTRA_CMAKE_ARGS="-DGGML_VULKAN=ON ..." installers/llama/build-wheel.sh
#
# The modules go into llama_cpp/lib/ beside libllama (CMAKE_INSTALL_BINDIR), where the engine
# host loads them (desktop/engine/backends.py). LLAVA_BUILD=OFF: the app has no image input.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
# shellcheck source=installers/llama/common.sh
. installers/llama/common.sh
OUT="${WHEEL_DIR:-build/wheels}"

mkdir -p "$OUT"
ARGS="-DGGML_BACKEND_DL=ON -DGGML_CPU_ALL_VARIANTS=ON -DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF"
ARGS="$ARGS -DCMAKE_INSTALL_BINDIR=llama_cpp/lib -DCMAKE_INSTALL_RPATH=\$ORIGIN"
ARGS="$ARGS ${EXTRA_CMAKE_ARGS:-}"
rm -f "$OUT"/llama_cpp_python-*.whl
CACHE="$(build_cache llama "$ARGS")"  # the build takes 8-15 minutes on 2 cores
if ls "$CACHE"/llama_cpp_python-*.whl >/dev/null 2>&1; then
    echo "==> llama-cpp-python $VERSION for distribution: built before ($CACHE)"
    cp "$CACHE"/llama_cpp_python-*.whl "$OUT/"
    exit 0
fi
fetch_sdist
echo "==> llama-cpp-python $VERSION with CMAKE_ARGS=$ARGS"
CMAKE_ARGS="$ARGS" CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}" \
    "$PYTHON" -m pip wheel --no-deps --no-cache-dir -w "$OUT" "$SDIST"
save_to_cache "$CACHE" "$OUT"/llama_cpp_python-*.whl
ls -l "$OUT"
"$PYTHON" -m zipfile -l "$OUT"/llama_cpp_python-*.whl | grep -E '\.(so|dylib|dll)' || true
