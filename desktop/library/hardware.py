"""What this machine can hold: GPUs, and fit labels for a model at a context length."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

from desktop.library.units import format_bytes
from desktop.modelfile.memory import (  # noqa: F401 - the library's callers size files here too
    DEFAULT_CONTEXT,
    MemoryEstimate,
    available_ram,
    estimate_for_gguf,
    estimate_memory,
    total_ram,
)

log = logging.getLogger("openweight.library")
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
class Fit:
    level: FitLevel
    reason: str
    estimate: MemoryEstimate

    @property
    def label(self) -> str:
        return FIT_LABELS[self.level]


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
