"""What this machine can hold: RAM and GPU memory, memory estimates, and fit labels."""

from __future__ import annotations

import ctypes
import logging
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Literal

from desktop.library.units import format_bytes

if TYPE_CHECKING:
    from desktop.engine.gguf_meta import GGUFInfo

log = logging.getLogger("openweight.library")

DEFAULT_CONTEXT = 8192  # the context the app opens chats with; fits are judged at this length
FitLevel = Literal["runs_well", "tight", "too_large"]
FIT_LABELS: dict[str, str] = {"runs_well": "Runs well", "tight": "Tight", "too_large": "Too large"}

# Shares of memory a model may take. The rest is for the OS, the app and everything else open.
_RAM_GOOD, _RAM_TIGHT = 0.60, 0.85
_VRAM_GOOD, _VRAM_TIGHT = 0.90, 0.97


@dataclass(frozen=True)
class GPU:
    name: str
    memory_bytes: int
    backend: str  # "cuda" or "metal"


@dataclass(frozen=True)
class Machine:
    ram_bytes: int
    available_ram_bytes: int | None = None
    gpus: tuple[GPU, ...] = field(default_factory=tuple)
    unified_memory: bool = False  # Apple silicon: the GPU shares system RAM

    @property
    def gpu_memory_bytes(self) -> int:
        """Dedicated GPU memory (llama.cpp can spread layers across several cards)."""
        return 0 if self.unified_memory else sum(g.memory_bytes for g in self.gpus)


@dataclass(frozen=True)
class MemoryEstimate:
    weights_bytes: int
    kv_cache_bytes: int
    overhead_bytes: int
    context_length: int

    @property
    def total_bytes(self) -> int:
        return self.weights_bytes + self.kv_cache_bytes + self.overhead_bytes


@dataclass(frozen=True)
class Fit:
    level: FitLevel
    reason: str
    estimate: MemoryEstimate

    @property
    def label(self) -> str:
        return FIT_LABELS[self.level]


def total_ram() -> int:
    """Physical memory in bytes, without psutil."""
    if sys.platform == "win32":
        return _windows_memory()[0]
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        pass
    if sys.platform == "darwin":
        out = _run(["sysctl", "-n", "hw.memsize"])
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


def _run(command: list[str]) -> str | None:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def detect_gpus() -> tuple[GPU, ...]:
    """NVIDIA cards via nvidia-smi; Apple silicon via the platform. Others are not sized (None)."""
    if sys.platform == "darwin" and os.uname().machine == "arm64":
        return (GPU("Apple silicon GPU", total_ram(), "metal"),)
    if shutil.which("nvidia-smi") is None:
        return ()
    out = _run(["nvidia-smi", "--query-gpu=name,memory.total", "--format=csv,noheader,nounits"])
    gpus = []
    for line in (out or "").splitlines():
        name, _, mib = line.rpartition(",")
        try:
            gpus.append(GPU(name.strip(), int(float(mib)) * 1024 * 1024, "cuda"))
        except ValueError:
            log.debug("could not read nvidia-smi line %r", line)
    return tuple(gpus)


@lru_cache(maxsize=1)
def detect_machine() -> Machine:
    """Measured once per process (nvidia-smi takes a moment); call detect_machine.cache_clear() to redo."""
    gpus = detect_gpus()
    return Machine(
        ram_bytes=total_ram(),
        available_ram_bytes=available_ram(),
        gpus=gpus,
        unified_memory=any(g.backend == "metal" for g in gpus),
    )


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


def fit_label(
    estimate: MemoryEstimate, machine: Machine | None = None, *, use_gpu: bool = True
) -> Fit:
    """Runs well / Tight / Too large, with a reason a person can act on."""
    machine = machine or detect_machine()
    need = estimate.total_bytes
    needs = f"Needs about {format_bytes(need)} with {estimate.context_length:,} tokens of context"
    ram, vram = machine.ram_bytes, machine.gpu_memory_bytes if use_gpu else 0
    if ram <= 0:
        return Fit("tight", f"{needs}; this computer's memory could not be measured.", estimate)
    if vram and need <= vram * _VRAM_GOOD:
        return Fit("runs_well", f"{needs}; fits in your GPU's {format_bytes(vram)}.", estimate)
    if need <= ram * _RAM_GOOD + vram * _VRAM_GOOD:
        where = f"your {format_bytes(ram)} of memory" + (
            f" and {format_bytes(vram)} on the GPU" if vram else ""
        )
        return Fit("runs_well", f"{needs}; fits in {where}.", estimate)
    if need <= ram * _RAM_TIGHT + vram * _VRAM_TIGHT:
        return Fit(
            "tight",
            f"{needs}, most of your {format_bytes(ram + vram)}: close other apps, "
            "or choose a smaller file or a shorter context.",
            estimate,
        )
    extra = f" (plus {format_bytes(vram)} on the GPU)" if vram else ""
    return Fit(
        "too_large",
        f"{needs}, more than this computer can spare from its {format_bytes(ram)}{extra} "
        "once the system and other apps have theirs. Choose a smaller model or file.",
        estimate,
    )


def fit_for_size(
    size_bytes: int,
    context_length: int = DEFAULT_CONTEXT,
    machine: Machine | None = None,
    *,
    parameters: int | None = None,
) -> Fit:
    """Fit for a file not yet downloaded, when only its size (and maybe parameter count) is known."""
    return fit_label(estimate_memory(size_bytes, context_length, parameters=parameters), machine)
