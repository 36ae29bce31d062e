# shellcheck shell=bash
# Shared by build-wheel.sh and build-vulkan.sh (sourced, with ROOT set and the current folder
# at ROOT): the llama-cpp-python source release both build from, and the cache of builds.
VERSION="${LLAMA_CPP_PYTHON_VERSION:-0.3.36}"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
SDIST_DIR="build/sdist"
SDIST="$SDIST_DIR/llama_cpp_python-$VERSION.tar.gz"

# A build made before with the same version, options and compiler is reused, as pip reuses
# the wheels it builds: these builds take minutes to a quarter of an hour on 2 cores.
build_cache() {  # build_cache NAME OPTIONS: prints the build's cache folder
    local key
    key="$( (echo "$VERSION $2"; "${CC:-cc}" --version 2>/dev/null | head -n1; uname -m) \
        | sha256sum | cut -c1-16)"
    echo "${OPENWEIGHT_BUILD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/openweight-build}/$1-$key"
}

save_to_cache() {  # save_to_cache FOLDER FILE...: whole or not at all
    local cache="$1"
    shift
    mkdir -p "$cache.partial"
    cp "$@" "$cache.partial/"
    rm -rf "$cache" && mv "$cache.partial" "$cache"
}

fetch_sdist() {
    mkdir -p "$SDIST_DIR"
    if [ ! -f "$SDIST" ]; then
        "$PYTHON" -m pip download "llama-cpp-python==$VERSION" --no-binary :all: --no-deps \
            -d "$SDIST_DIR"
    fi
}
