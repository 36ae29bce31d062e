"""How fast a model would generate here: tokens/s from the bytes it reads per token.

Generating a token reads every active weight once, so speed is bounded by how fast the
device can stream weights: a GPU's memory bandwidth, or on the CPU the lesser of the memory
bandwidth and what the cores can work through. A rough figure (within a factor of about
1.5), good enough to tell "fast" from "slow" before a multi-gigabyte download.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from desktop.library.hardware import Machine

SpeedLevel = Literal["fast", "usable", "slow"]
SPEED_LABELS: dict[str, str] = {"fast": "Fast", "usable": "Usable", "slow": "Slow"}

# Tokens/s: faster than anyone reads, and about reading speed (a token is ~0.75 words).
FAST_TPS, USABLE_TPS = 15.0, 6.0
# A reasoning model writes hundreds of tokens of thinking before its answer: to feel as
# quick it needs about twice the speed.
REASONING_FACTOR = 2.0

GB = 1e9
# Share of the ideal that llama.cpp reaches. CPU: calibrated on this project's test model
# (98 MB, 2 Zen 4 cores: 132 tok/s measured, 163 ideal); GPU: typical of llama.cpp on CUDA/Metal.
CPU_EFFICIENCY = 0.8
GPU_EFFICIENCY = 0.7
# Quantized weights one core can dequantize and multiply per second (AVX2/AVX-512/NEON),
# and without AVX2 (SSE only).
CORE_RATE, CORE_RATE_NO_AVX2 = 8 * GB, 3 * GB
GPU_BANDWIDTH_UNKNOWN = 200 * GB  # a mid-range card, for one not in the table
# Time a token takes whatever its size (building the graph, sampling, launching GPU kernels):
# why tiny models top out at hundreds, not tens of thousands, of tokens/s.
CPU_TOKEN_OVERHEAD_S, GPU_TOKEN_OVERHEAD_S = 0.0005, 0.0015

# Published memory bandwidth, GB/s. Longest matching name wins ("RTX 4070 Ti" before "RTX 4070").
# fmt: off
_GPU_GBPS = {
    # NVIDIA data centre
    "H200": 4800, "H100": 3350, "H100 PCIe": 2000, "A100": 1935, "L40S": 864, "L40": 864,
    "L4": 300, "A10G": 600, "A10": 600, "A40": 696, "A30": 933, "A16": 800, "A2": 200,
    "T4": 320, "V100": 900,
    # NVIDIA workstation and desktop
    "RTX 6000 Ada": 960, "RTX A6000": 768, "RTX A5000": 768, "RTX A4000": 448,
    "RTX 5090": 1792, "RTX 5080": 960, "RTX 5070 Ti": 896, "RTX 5070": 672, "RTX 5060 Ti": 448,
    "RTX 5060": 448, "RTX 4090": 1008, "RTX 4080": 717, "RTX 4080 SUPER": 736,
    "RTX 4070 Ti": 504, "RTX 4070 Ti SUPER": 672, "RTX 4070": 504, "RTX 4060 Ti": 288,
    "RTX 4060": 272, "RTX 3090": 936, "RTX 3090 Ti": 1008, "RTX 3080 Ti": 912, "RTX 3080": 760,
    "RTX 3070 Ti": 608, "RTX 3070": 448, "RTX 3060 Ti": 448, "RTX 3060": 360, "RTX 3050": 224,
    "RTX 2080 Ti": 616, "RTX 2080": 448, "RTX 2070": 448, "RTX 2060": 336,
    "GTX 1080 Ti": 484, "GTX 1080": 320, "GTX 1070": 256, "GTX 1660": 192, "GTX 1650": 128,
    # Apple silicon (the GPU reads the shared memory)
    "M1": 68, "M1 Pro": 200, "M1 Max": 400, "M1 Ultra": 800,
    "M2": 100, "M2 Pro": 200, "M2 Max": 400, "M2 Ultra": 800,
    "M3": 100, "M3 Pro": 150, "M3 Max": 400, "M3 Ultra": 819,
    "M4": 120, "M4 Pro": 273, "M4 Max": 546,
}
# fmt: on
_GPU_PATTERNS = [
    (re.compile(rf"(?<![\w]){re.escape(name)}(?![\w])", re.I), gbps * GB)
    for name, gbps in sorted(_GPU_GBPS.items(), key=lambda item: -len(item[0]))
]


def gpu_bandwidth(name: str) -> float | None:
    """Bytes/s for a known chip ('NVIDIA GeForce RTX 4090', 'Apple M2 Pro'), None otherwise."""
    for pattern, bandwidth in _GPU_PATTERNS:
        if pattern.search(name):
            return bandwidth
    return None


@dataclass(frozen=True)
class Speed:
    level: SpeedLevel
    tokens_per_s: float
    device: str  # where it would run, in words: "the CPU (2 cores)", "the NVIDIA RTX 4090"
    reason: str

    @property
    def label(self) -> str:
        return SPEED_LABELS[self.level]


def guessed_bandwidth(cores: int) -> float:
    """Without a measurement: desktops and laptops have roughly 20-60 GB/s, more with more cores."""
    return min(max(cores * 10 * GB, 20 * GB), 60 * GB)


def _cores_and_threads(machine: Machine) -> tuple[int, int]:
    """The machine's cores, and how many of them generate (never more than there are)."""
    cores = machine.cpu_cores or 4
    return cores, min(machine.threads or cores, cores)


def cpu_rate(machine: Machine) -> float:
    """Bytes of weights per second llama.cpp gets through on this machine's CPU, with the
    threads it generates on (one core is left to the rest of the computer)."""
    cores, threads = _cores_and_threads(machine)
    compute = threads * (CORE_RATE if machine.avx2 else CORE_RATE_NO_AVX2)
    bandwidth = machine.memory_bandwidth or guessed_bandwidth(cores)
    return min(compute, bandwidth) * CPU_EFFICIENCY


def cpu_words(machine: Machine) -> str:
    """The CPU as the estimate uses it: "the CPU (8 cores)", "the CPU (1 of 2 cores)"."""
    cores, threads = _cores_and_threads(machine)
    if threads < cores:
        return f"the CPU ({threads} of {cores} cores)"
    return f"the CPU ({cores} core{'s' if cores != 1 else ''})"


def estimate_speed(
    read_bytes: int, weights_bytes: int, machine: Machine, *, reasoning: bool = False
) -> Speed:
    """Tokens/s for a model that reads read_bytes per token out of weights_bytes in all,
    on the GPU where it fits (layers split with the CPU where it partly fits), else the CPU."""
    cpu = cpu_rate(machine)
    on_cpu = cpu_words(machine)
    gpu = machine.gpus[0] if machine.gpus else None
    if gpu is not None and machine.unified_memory:
        seconds, device = read_bytes / (gpu.bandwidth * GPU_EFFICIENCY), f"the {gpu.name}"
    elif gpu is not None and machine.gpu_memory_bytes:
        share = min(1.0, machine.gpu_memory_bytes * 0.9 / max(weights_bytes, 1))
        seconds = read_bytes * share / (gpu.bandwidth * GPU_EFFICIENCY)
        seconds += read_bytes * (1 - share) / cpu
        device = (
            f"the {gpu.name}"
            if share >= 1.0
            else f"the {gpu.name} ({share:.0%} of the model) and {on_cpu}"
        )
    else:
        seconds, device = read_bytes / cpu, on_cpu
    seconds += (
        GPU_TOKEN_OVERHEAD_S if gpu is not None and device != on_cpu else CPU_TOKEN_OVERHEAD_S
    )
    tps = 1 / seconds
    factor = REASONING_FACTOR if reasoning else 1.0
    level: SpeedLevel = (
        "fast" if tps >= FAST_TPS * factor else "usable" if tps >= USABLE_TPS * factor else "slow"
    )
    rate = f"about {tps:.0f} tokens/s" if tps >= 1 else "under 1 token/s"
    reason = f"{SPEED_LABELS[level]} here: {rate} on {device}"
    if reasoning:
        reason += ", and it writes out its reasoning before each answer"
    return Speed(level, tps, device, reason + ".")
