"""llama.cpp's loadable backends: load them from beside libllama, and say which ones it picked.

A build for distribution (installers/llama/build-wheel.sh) has no backend compiled in: the CPU
code comes as one module per processor generation (libggml-cpu-haswell.so, ...) and GPU code
as modules that load only where their driver is installed (libggml-vulkan.so). llama.cpp looks
for them next to the *executable* (python, or the frozen app) and in the current folder, never
next to its own library, so the engine host points it there. Runs in the engine host only.
"""

from __future__ import annotations

import ctypes
import logging
import re
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger("openweight.engine.backends")

# enum ggml_backend_dev_type
_DEVICE_TYPES = {0: "CPU", 1: "GPU", 2: "integrated GPU", 3: "accelerator"}


@dataclass
class Device:
    name: str  # llama.cpp's name: CPU, Vulkan0, CUDA0, MTL0
    description: str  # the hardware: "AMD EPYC 7B13", "NVIDIA GeForce RTX 4070"
    kind: str  # CPU, GPU, integrated GPU, accelerator
    memory_free: int
    memory_total: int


def library_dir() -> Path:
    import llama_cpp

    return Path(llama_cpp.__file__).resolve().parent / "lib"


def _ggml() -> tuple[Any, Any]:
    """libggml (the backend registry) and libggml-base (devices), as loaded by llama_cpp."""
    from llama_cpp._ctypes_extensions import load_shared_library

    folder = library_dir()
    ggml = load_shared_library("ggml", folder)
    base = load_shared_library("ggml-base", folder)
    ggml.ggml_backend_reg_count.restype = ctypes.c_size_t
    ggml.ggml_backend_reg_get.restype = ctypes.c_void_p
    ggml.ggml_backend_reg_get.argtypes = [ctypes.c_size_t]
    ggml.ggml_backend_load_all_from_path.argtypes = [ctypes.c_char_p]
    ggml.ggml_backend_load_all_from_path.restype = None
    ggml.ggml_backend_dev_count.restype = ctypes.c_size_t
    ggml.ggml_backend_dev_get.restype = ctypes.c_void_p
    ggml.ggml_backend_dev_get.argtypes = [ctypes.c_size_t]
    for name in ("ggml_backend_dev_name", "ggml_backend_dev_description"):
        getattr(base, name).restype = ctypes.c_char_p
        getattr(base, name).argtypes = [ctypes.c_void_p]
    base.ggml_backend_dev_type.restype = ctypes.c_int
    base.ggml_backend_dev_type.argtypes = [ctypes.c_void_p]
    base.ggml_backend_dev_memory.restype = None
    base.ggml_backend_dev_memory.argtypes = [
        ctypes.c_void_p,
        ctypes.POINTER(ctypes.c_size_t),
        ctypes.POINTER(ctypes.c_size_t),
    ]
    base.ggml_backend_reg_name.restype = ctypes.c_char_p
    base.ggml_backend_reg_name.argtypes = [ctypes.c_void_p]
    base.ggml_backend_reg_get_proc_address.restype = ctypes.c_void_p
    base.ggml_backend_reg_get_proc_address.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    return ggml, base


def load_backends() -> int:
    """Load the backend modules beside libllama when the build has none compiled in.

    Must run before llama.cpp is first used (it would search only beside the executable).
    Returns how many backends are registered afterwards; 0 means llama.cpp cannot run.
    """
    ggml, _ = _ggml()
    count = int(ggml.ggml_backend_reg_count())
    if count == 0:
        # Searches this folder only; GGML_BACKEND_PATH (one extra module file) still works.
        ggml.ggml_backend_load_all_from_path(str(library_dir()).encode())
        count = int(ggml.ggml_backend_reg_count())
        if count == 0:
            log.error("no llama.cpp backend could be loaded from %s", library_dir())
    return count


def devices() -> list[Device]:
    ggml, base = _ggml()
    found = []
    for i in range(int(ggml.ggml_backend_dev_count())):
        dev = ggml.ggml_backend_dev_get(i)
        free, total = ctypes.c_size_t(0), ctypes.c_size_t(0)
        base.ggml_backend_dev_memory(dev, ctypes.byref(free), ctypes.byref(total))
        found.append(
            Device(
                name=(base.ggml_backend_dev_name(dev) or b"").decode(errors="replace"),
                description=(base.ggml_backend_dev_description(dev) or b"")
                .decode(errors="replace")
                .strip(),
                kind=_DEVICE_TYPES.get(int(base.ggml_backend_dev_type(dev)), "other"),
                memory_free=int(free.value),
                memory_total=int(total.value),
            )
        )
    return found


class _Feature(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("value", ctypes.c_char_p)]


def cpu_features() -> list[str]:
    """The instruction sets the loaded CPU code was compiled for (AVX2, AVX512, NEON...)."""
    ggml, base = _ggml()
    for i in range(int(ggml.ggml_backend_reg_count())):
        reg = ggml.ggml_backend_reg_get(i)
        if base.ggml_backend_reg_name(reg) != b"CPU":
            continue
        address = base.ggml_backend_reg_get_proc_address(reg, b"ggml_backend_get_features")
        if not address:
            return []
        get_features = ctypes.CFUNCTYPE(ctypes.POINTER(_Feature), ctypes.c_void_p)(address)
        table = get_features(reg)
        names = []
        for j in range(64):
            if not table[j].name:
                break
            if table[j].value == b"1":
                names.append(table[j].name.decode())
        return names
    return []


def cpu_variant() -> str:
    """Which CPU module llama.cpp picked (haswell, skylakex, zen4, x64...), or 'built in'."""
    maps = Path("/proc/self/maps")
    if sys.platform.startswith("linux") and maps.is_file():
        for line in maps.read_text(errors="replace").splitlines():
            match = re.search(r"libggml-cpu-([\w.]+?)\.so", line)
            if match:
                return match.group(1)
        if "libggml-cpu.so" in maps.read_text(errors="replace"):
            return "built for one CPU"
        return "built in"
    folder = library_dir()
    if any(folder.glob("*ggml-cpu-*")):
        return "one of " + ", ".join(
            sorted(
                re.sub(r"^(lib)?ggml-cpu-|\.(dll|so|dylib)$", "", p.name)
                for p in folder.glob("*ggml-cpu-*")
            )
        )
    return "built for one CPU"


def describe() -> dict[str, Any]:
    """What `openweight info` shows: the CPU code in use and every device llama.cpp sees."""
    return {
        "cpu_variant": cpu_variant(),
        "cpu_features": cpu_features(),
        "devices": [asdict(d) for d in devices()],
        "library_dir": str(library_dir()),
    }
