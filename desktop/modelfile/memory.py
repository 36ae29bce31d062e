"""How much memory a model file needs, and how much this computer has."""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
from dataclasses import dataclass

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
