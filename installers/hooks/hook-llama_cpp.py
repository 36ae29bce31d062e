# PyInstaller hook for llama-cpp-python.
#
# llama_cpp loads llama.cpp with ctypes from `<package>/lib/` (see
# llama_cpp/_ctypes_extensions.py), so PyInstaller's import analysis cannot see the shared
# libraries: collect them, keeping them in `llama_cpp/lib/` where the loader looks. This
# covers every platform and backend the wheel was built for: .so (Linux), .dylib (macOS,
# with Metal's shader library embedded), .dll (Windows), and the CUDA/Vulkan ggml backends
# of a GPU build. Any GPU runtime libraries those link to (libcudart, libcublas, vulkan-1)
# are found by PyInstaller's own dependency analysis; see installers/README.md.
from PyInstaller.utils.hooks import collect_data_files, collect_dynamic_libs

binaries = collect_dynamic_libs("llama_cpp")
# py.typed and, if present, Metal shader sources (ggml-metal.metal) for non-embedded builds.
# Not the fully versioned copies of the libraries (libllama.so.0.5.0): nothing loads those
# names, and the `.so.0` names the libraries link to are found by dependency analysis.
datas = collect_data_files("llama_cpp", excludes=["server", "**/__pycache__", "lib/*.so.*"])

# The OpenAI-compatible web server needs fastapi/uvicorn and is not part of the app.
excludedimports = ["llama_cpp.server"]
