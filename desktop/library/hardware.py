"""What this machine can hold and how fast it runs a model: GPUs, memory bandwidth, and fit
labels (memory and speed) for a model at a context length."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Literal

from desktop.library.speed import GPU_BANDWIDTH_UNKNOWN, Speed, estimate_speed, gpu_bandwidth
from desktop.library.units import format_bytes
from desktop.modelfile.gguf import GGUFInfo
from desktop.modelfile.memory import (  # noqa: F401 - the library's callers size files here too
    DEFAULT_CONTEXT,
    MemoryEstimate,
    available_ram,
    bytes_per_token,
    bytes_per_token_for_gguf,
    estimate_for_gguf,
    estimate_memory,
    physical_cores,
    total_ram,
)

log = logging.getLogger("openweight.library")
FitLevel = Literal["runs_well", "tight", "too_large"]
FIT_LABELS: dict[str, str] = {"runs_well": "Fits", "tight": "Tight", "too_large": "Too large"}

# Shares of memory a model may take. The rest is for the OS, the app and everything else open.
_RAM_GOOD, _RAM_TIGHT = 0.60, 0.85
_VRAM_GOOD, _VRAM_TIGHT = 0.90, 0.97


@dataclass(frozen=True)
class GPU:
    name: str
    memory_bytes: int
    backend: str  # "cuda" or "metal"

    @property
    def bandwidth(self) -> float:
        """Memory bandwidth in bytes/s, from a table of known chips (a modest guess otherwise)."""
        return gpu_bandwidth(self.name) or GPU_BANDWIDTH_UNKNOWN


@dataclass(frozen=True)
class Machine:
    ram_bytes: int
    available_ram_bytes: int | None = None
    gpus: tuple[GPU, ...] = field(default_factory=tuple)
    unified_memory: bool = False  # Apple silicon: the GPU shares system RAM
    cpu_cores: int = 0  # physical cores llama.cpp runs on; 0: not known
    memory_bandwidth: float | None = None  # bytes/s, measured; None: guessed from the cores
    avx2: bool = True  # x86 without AVX2 works through quantized weights far more slowly
    threads: int = 0  # threads llama.cpp generates with (the Threads setting); 0: every core

    @property
    def gpu_memory_bytes(self) -> int:
        """Dedicated GPU memory (llama.cpp can spread layers across several cards)."""
        return 0 if self.unified_memory else sum(g.memory_bytes for g in self.gpus)

    def without_gpus(self) -> Machine:
        """This machine as the engine sees it when told to use the CPU only."""
        return replace(self, gpus=(), unified_memory=False)

    def with_threads(self, threads: int) -> Machine:
        """This machine as the engine uses it: generating on this many threads."""
        return replace(self, threads=threads)


@dataclass(frozen=True)
class Fit:
    level: FitLevel
    reason: str
    estimate: MemoryEstimate
    speed: Speed | None = None  # None where speed means nothing (embedding models)

    @property
    def label(self) -> str:
        return FIT_LABELS[self.level]

    @property
    def summary(self) -> str:
        """Memory, then speed, in a sentence or two."""
        return f"{self.reason} {self.speed.reason}" if self.speed else self.reason


def _run(command: list[str]) -> str | None:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def detect_gpus() -> tuple[GPU, ...]:
    """NVIDIA cards via nvidia-smi; Apple silicon via the platform. Others are not sized (None)."""
    if sys.platform == "darwin" and os.uname().machine == "arm64":
        chip = (_run(["sysctl", "-n", "machdep.cpu.brand_string"]) or "").strip()
        return (GPU(f"{chip or 'Apple silicon'} GPU", total_ram(), "metal"),)
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


def _has_avx2() -> bool:
    """False only where we can see an x86 processor without AVX2 (Linux tells us; assume yes)."""
    if not sys.platform.startswith("linux") or os.uname().machine not in ("x86_64", "i686"):
        return True
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("flags"):
                    return " avx2" in line
    except OSError:
        pass
    return True


@lru_cache(maxsize=1)
def detect_machine() -> Machine:
    """Measured once per process (nvidia-smi takes a moment); call detect_machine.cache_clear() to redo.
    Memory bandwidth is left unknown here: see measured_machine() in library.bandwidth."""
    gpus = detect_gpus()
    return Machine(
        ram_bytes=total_ram(),
        available_ram_bytes=available_ram(),
        gpus=gpus,
        unified_memory=any(g.backend == "metal" for g in gpus),
        cpu_cores=physical_cores(),
        avx2=_has_avx2(),
    )


def fit_label(
    estimate: MemoryEstimate,
    machine: Machine | None = None,
    *,
    use_gpu: bool = True,
    read_bytes: int | None = None,
    reasoning: bool = False,
    generates: bool = True,
) -> Fit:
    """Fits / Tight / Too large, with a reason a person can act on, and the speed to expect
    (read_bytes: weights read per token, the whole file when not given)."""
    machine = machine or detect_machine()
    fit = _memory_fit(estimate, machine, use_gpu)
    if not generates or fit.level == "too_large":
        return fit
    speed = estimate_speed(
        read_bytes or estimate.weights_bytes,
        estimate.weights_bytes,
        machine if use_gpu else machine.without_gpus(),
        reasoning=reasoning,
    )
    return replace(fit, speed=speed)


def _memory_fit(estimate: MemoryEstimate, machine: Machine, use_gpu: bool) -> Fit:
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
    active_parameters: int | None = None,
    reasoning: bool = False,
    generates: bool = True,
) -> Fit:
    """Fit for a file not yet downloaded, when only its size (and maybe parameter counts) is known."""
    return fit_label(
        estimate_memory(size_bytes, context_length, parameters=parameters),
        machine,
        read_bytes=bytes_per_token(size_bytes, parameters, active_parameters),
        reasoning=reasoning,
        generates=generates,
    )


def fit_for_gguf(
    info: GGUFInfo,
    machine: Machine | None = None,
    *,
    reasoning: bool = False,
    generates: bool = True,
) -> Fit:
    """Fit for a file on disk, from its header: the exact KV cache, and only the experts in use
    (expert_used_count of expert_count) counted as read per token."""
    return fit_label(
        estimate_for_gguf(info),
        machine,
        read_bytes=bytes_per_token_for_gguf(info),
        reasoning=reasoning,
        generates=generates,
    )
