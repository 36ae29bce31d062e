"""How many CPU threads llama.cpp gets, and how they wait: the "threads" setting.

llama.cpp's threads meet at a barrier after every step and spin while they wait. When
another program keeps a core busy, a spinning thread steals time from the one everybody
waits for, and generation collapses (we measured ~140 → ~2.5 tokens/s). The automatic
choice below comes from bench/threads.py (figures in bench/results/threads.json).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from desktop.engine.system import physical_cores

THREADS_KEY = "engine.threads"  # 0 or absent: automatic


class _Settings(Protocol):
    def get(self, key: str, default: Any = None) -> Any: ...


def automatic_threads(cores: int | None = None) -> int:
    """Physical cores, leaving one free on small machines so the rest of the computer (and
    the window) keep a core and llama.cpp's threads are not preempted at every barrier."""
    cores = cores or physical_cores()
    return max(1, cores - 1) if cores <= 4 else cores


def threads_setting(settings: _Settings) -> int | None:
    """The user's choice of threads, or None for automatic."""
    return _threads(settings.get(THREADS_KEY, 0))


def _threads(value: Any) -> int | None:
    try:
        number = int(value or 0)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def thread_choice(read_setting: Callable[[], Any], override: int | None = None) -> Callable[[], int | None]:
    """What LocalEngine asks before each load: an override (0 = automatic), else the setting
    (read_setting reads it from whichever thread loads the model)."""
    if override is not None:
        return lambda: override if override > 0 else None
    return lambda: _threads(read_setting())


def engine_environment(env: Mapping[str, str]) -> dict[str, str]:
    """The engine host's environment: OpenMP threads sleep instead of spinning between steps
    (unless the user set a policy), which costs little when idle and much less when busy."""
    out = dict(env)
    out.setdefault("OMP_WAIT_POLICY", "passive")
    return out
