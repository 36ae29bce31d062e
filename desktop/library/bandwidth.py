"""This computer's memory bandwidth, measured once (about a tenth of a second) and remembered.

The figure decides how fast a model would run on the CPU, so it is measured the way
llama.cpp uses memory: every core streaming through its own large buffer at once.
"""

from __future__ import annotations

import ctypes
import logging
import os
import platform
import threading
import time
from dataclasses import replace
from typing import Any

from desktop.library.hardware import Machine, detect_machine
from desktop.store.settings import Settings

log = logging.getLogger("openweight.library")

BANDWIDTH_SETTING = "hardware.memory_bandwidth"
_BUFFER = 32 * 1024 * 1024  # well past every CPU cache, small enough to allocate in a blink
REMEASURE_AFTER_S = 7 * 24 * 3600


def measure_memory_bandwidth(threads: int, rounds: int = 3) -> float:
    """Bytes/s copied by `threads` threads at once (each copy reads and writes: 2 bytes a byte),
    best of a few rounds, since other programs may be busy."""
    threads = max(1, threads)
    pairs = [
        (ctypes.create_string_buffer(_BUFFER), ctypes.create_string_buffer(_BUFFER))
        for _ in range(threads)
    ]
    for a, b in pairs:  # the first touch maps the pages: not part of the measurement
        ctypes.memmove(a, b, _BUFFER)
    best = 0.0
    for _ in range(rounds):
        start = threading.Barrier(threads + 1)
        workers = [
            threading.Thread(target=_copy, args=(start, a, b), name="bandwidth") for a, b in pairs
        ]
        for worker in workers:
            worker.start()
        began = time.perf_counter()
        start.wait()
        for worker in workers:
            worker.join()
        elapsed = time.perf_counter() - began
        best = max(best, 2 * 2 * _BUFFER * threads / max(elapsed, 1e-9))
    return best


def _copy(start: threading.Barrier, a: Any, b: Any) -> None:
    start.wait()
    for _ in range(2):
        ctypes.memmove(a, b, _BUFFER)  # ctypes lets go of the GIL: the copies overlap


def _signature(machine: Machine) -> str:
    """Which computer a remembered figure belongs to (a copied profile measures again)."""
    return f"{platform.node()}|{platform.processor() or platform.machine()}|{machine.cpu_cores}"


def system_busy() -> bool:
    """More runnable work than cores: a bandwidth measured now reads low (Unix only)."""
    try:
        return os.getloadavg()[0] > (os.cpu_count() or 1)
    except (OSError, AttributeError):
        return False


def measured_machine(
    settings: Settings, machine: Machine | None = None, busy: bool | None = None
) -> Machine:
    """This machine with its memory bandwidth: remembered in settings, measured the first time
    and again after a week, keeping the best figure (a busy moment reads low; the hardware
    does not get slower). A figure measured while the computer was busy is used, but measured
    again at the next start."""
    machine = machine or detect_machine()
    if machine.memory_bandwidth:
        return machine
    signature = _signature(machine)
    saved = settings.get(BANDWIDTH_SETTING)
    best = 0.0
    if isinstance(saved, dict) and saved.get("machine") == signature:
        value, when = saved.get("bytes_per_s"), saved.get("measured_at")
        best = float(value) if isinstance(value, int | float) and value > 0 else 0.0
        fresh = isinstance(when, int | float) and time.time() - when < REMEASURE_AFTER_S
        if best and fresh:
            return replace(machine, memory_bandwidth=best)
    threads = machine.cpu_cores or os.cpu_count() or 1
    try:
        value = max(best, measure_memory_bandwidth(threads))
    except (MemoryError, OSError, RuntimeError):
        log.exception("could not measure the memory bandwidth; guessing from the cores")
        return replace(machine, memory_bandwidth=best or None)
    busy = system_busy() if busy is None else busy
    log.info(
        "memory bandwidth: %.1f GB/s with %d threads%s",
        value / 1e9,
        threads,
        " (while busy)" if busy else "",
    )
    measured_at = 0 if busy else round(time.time())  # 0: not trusted, measure again next time
    settings.set(
        BANDWIDTH_SETTING,
        {"machine": signature, "bytes_per_s": round(value), "measured_at": measured_at},
    )
    return replace(machine, memory_bandwidth=value)
