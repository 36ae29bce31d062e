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
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
VERSION="${LLAMA_CPP_PYTHON_VERSION:-0.3.36}"
SDIST_DIR="build/sdist"
OUT="${WHEEL_DIR:-build/wheels}"

mkdir -p "$SDIST_DIR" "$OUT"
ARGS="-DGGML_BACKEND_DL=ON -DGGML_CPU_ALL_VARIANTS=ON -DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF"
ARGS="$ARGS -DCMAKE_INSTALL_BINDIR=llama_cpp/lib -DCMAKE_INSTALL_RPATH=\$ORIGIN"
ARGS="$ARGS ${EXTRA_CMAKE_ARGS:-}"
rm -f "$OUT"/llama_cpp_python-*.whl
# A wheel built before with the same version, options and compiler is reused, as pip reuses
# the wheels it builds: the build takes 8-15 minutes on 2 cores.
KEY="$( (echo "$VERSION $ARGS"; "${CC:-cc}" --version 2>/dev/null | head -n1; uname -m) \
    | sha256sum | cut -c1-16)"
CACHE="${OPENWEIGHT_BUILD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/openweight-build}/llama-$KEY"
if ls "$CACHE"/llama_cpp_python-*.whl >/dev/null 2>&1; then
    echo "==> llama-cpp-python $VERSION for distribution: built before ($CACHE)"
    cp "$CACHE"/llama_cpp_python-*.whl "$OUT/"
    exit 0
fi
SDIST="$SDIST_DIR/llama_cpp_python-$VERSION.tar.gz"
if [ ! -f "$SDIST" ]; then
    "$PYTHON" -m pip download "llama-cpp-python==$VERSION" --no-binary :all: --no-deps -d "$SDIST_DIR"
fi
echo "==> llama-cpp-python $VERSION with CMAKE_ARGS=$ARGS"
CMAKE_ARGS="$ARGS" CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}" \
    "$PYTHON" -m pip wheel --no-deps --no-cache-dir -w "$OUT" "$SDIST"
mkdir -p "$CACHE.partial"
cp "$OUT"/llama_cpp_python-*.whl "$CACHE.partial/"
rm -rf "$CACHE" && mv "$CACHE.partial" "$CACHE"
ls -l "$OUT"
"$PYTHON" -m zipfile -l "$OUT"/llama_cpp_python-*.whl | grep -E '\.(so|dylib|dll)' || true
