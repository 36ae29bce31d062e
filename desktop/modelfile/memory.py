"""How much memory a model file needs (and reads per token), and what this computer has."""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from desktop.modelfile.gguf import GGUFInfo

DEFAULT_CONTEXT = 8192  # the context the app opens chats with; fits are judged at this length


@dataclass(frozen=True)
class MemoryEstimate:
    weights_bytes: int
    kv_cache_bytes: int
    overhead_bytes: int
    context_length: int

    @property
    def total_bytes(self) -> int:
        return self.weights_bytes + self.kv_cache_bytes + self.overhead_bytes


def total_ram() -> int:
    """Physical memory in bytes, without psutil."""
    if sys.platform == "win32":
        return _windows_memory()[0]
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        pass
    if sys.platform == "darwin":
        try:
            out = subprocess.run(["sysctl", "-n", "hw.memsize"], capture_output=True, text=True,
                                 timeout=5, check=False).stdout
        except (OSError, subprocess.SubprocessError):
            out = ""
        if out and out.strip().isdigit():
            return int(out.strip())
    return 0


def physical_cores() -> int:
    """Physical cores (hyper-threads slow llama.cpp's generation down), at least 1."""
    logical = os.cpu_count() or 1
    if sys.platform.startswith("linux"):
        try:
            cores: set[tuple[str, str]] = set()
            physical = core = ""
            for line in Path("/proc/cpuinfo").read_text().splitlines():
                key, _, value = line.partition(":")
                key, value = key.strip(), value.strip()
                if key == "physical id":
                    physical = value
                elif key == "core id":
                    core = value
                elif not key and core:
                    cores.add((physical, core))
                    core = ""
            if core:
                cores.add((physical, core))
            if cores:
                return max(1, min(len(cores), logical))
        except OSError:
            pass
    elif sys.platform == "darwin":
        try:
            out = subprocess.run(
                ["sysctl", "-n", "hw.perflevel0.physicalcpu"], capture_output=True, text=True,
                timeout=2,
            ).stdout.strip()
            if out.isdigit():
                return max(1, int(out))
        except (OSError, subprocess.SubprocessError):
            pass
    return max(1, logical // 2) if logical >= 4 else logical


def available_ram() -> int | None:
    if sys.platform == "win32":
        return _windows_memory()[1]
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _windows_memory() -> tuple[int, int | None]:
    class MemoryStatus(ctypes.Structure):
        _fields_ = [
            ("dwLength", ctypes.c_ulong),
            ("dwMemoryLoad", ctypes.c_ulong),
            ("ullTotalPhys", ctypes.c_ulonglong),
            ("ullAvailPhys", ctypes.c_ulonglong),
            ("ullTotalPageFile", ctypes.c_ulonglong),
            ("ullAvailPageFile", ctypes.c_ulonglong),
            ("ullTotalVirtual", ctypes.c_ulonglong),
            ("ullAvailVirtual", ctypes.c_ulonglong),
            ("ullAvailExtendedVirtual", ctypes.c_ulonglong),
        ]

    status = MemoryStatus()
    status.dwLength = ctypes.sizeof(MemoryStatus)
    if not ctypes.windll.kernel32.GlobalMemoryStatusEx(ctypes.byref(status)):  # type: ignore[attr-defined]
        return 0, None
    return int(status.ullTotalPhys), int(status.ullAvailPhys)


def estimate_memory(
    weights_bytes: int,
    context_length: int = DEFAULT_CONTEXT,
    *,
    n_layers: int | None = None,
    n_head_kv: int | None = None,
    head_dim: int | None = None,
    parameters: int | None = None,
    kv_bytes_per_value: float = 2.0,
) -> MemoryEstimate:
    """Weights (about the file size) + KV cache at context_length + compute buffers.

    With the layer shape from the GGUF header the KV cache is exact for an f16 cache;
    without it, a rule of thumb from the parameter count (or the file size) stands in.
    """
    if n_layers and n_head_kv and head_dim:
        per_token = 2 * n_layers * n_head_kv * head_dim * kv_bytes_per_value
    else:
        # Grouped-query attention keeps most current models near 100-160 KiB a token.
        billions = (parameters or weights_bytes / 0.6) / 1e9  # ~0.6 bytes a weight at 4-5 bits
        per_token = min(32 * 1024 + billions * 16 * 1024, 160 * 1024)
    kv_cache = int(per_token * context_length)
    overhead = int(256 * 1024 * 1024 + 0.05 * weights_bytes)
    return MemoryEstimate(weights_bytes, kv_cache, overhead, context_length)


def estimate_for_gguf(info: GGUFInfo, context_length: int | None = None) -> MemoryEstimate:
    """Estimate from a GGUF header, at context_length (default: the app's, capped at the model's)."""

    def number(key: str) -> int | None:
        value = info.arch_value(key)
        if isinstance(value, list):  # some architectures give one value per layer
            value = max(value) if value else None
        return int(value) if isinstance(value, int | float) and value > 0 else None

    n_ctx = context_length or min(DEFAULT_CONTEXT, info.context_length or DEFAULT_CONTEXT)
    n_head = number("attention.head_count")
    n_embd = number("embedding_length")
    head_dim = number("attention.key_length") or (n_embd // n_head if n_embd and n_head else None)
    return estimate_memory(
        info.size_bytes,
        n_ctx,
        n_layers=number("block_count"),
        n_head_kv=number("attention.head_count_kv") or n_head,
        head_dim=head_dim,
        parameters=info.parameters or None,
    )


def bytes_per_token(
    size_bytes: int, parameters: int | None = None, active_parameters: int | None = None
) -> int:
    """Weights read to generate one token, from a file's size: all of them for a dense model;
    for a mixture of experts, the active parameters' share (as the model card states it)."""
    if parameters and active_parameters and 0 < active_parameters < parameters:
        return int(size_bytes * active_parameters / parameters)
    return size_bytes


def bytes_per_token_for_gguf(info: GGUFInfo) -> int:
    """The same, exactly, from the tensors: only expert_used_count of expert_count experts'
    weights, and one row of the input embedding."""
    if not info.tensor_bytes:
        return info.size_bytes
    read = info.tensor_bytes - info.input_embedding_bytes
    experts, used = info.arch_value("expert_count"), info.arch_value("expert_used_count")
    if (
        info.expert_bytes
        and isinstance(experts, int)
        and isinstance(used, int)
        and 0 < used < experts
    ):
        read -= int(info.expert_bytes * (1 - used / experts))
    return max(read, 1)
