"""How many CPU threads llama.cpp gets: the "threads" setting.

llama.cpp's threads meet at a barrier after every step and spin while they wait. When
another program keeps a core busy, a spinning thread steals time from the one everybody
waits for, and generation collapses; so one core is always left free. Making the threads
sleep instead (OMP_WAIT_POLICY=passive) is no cure: it costs more than it saves. Measured
on 2 cores with the test model (bench/threads.py, bench/results/threads.json):

    1 thread, spinning        77 tok/s idle, 77 with a busy process beside it
    2 threads, spinning      108 tok/s idle, 0.4 with a busy process
    2 threads, sleeping       31 tok/s idle, 45 with a busy process
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from desktop.engine.system import physical_cores

THREADS_KEY = "engine.threads"  # 0 or absent: automatic


class _Settings(Protocol):
    def get(self, key: str, default: Any = None) -> Any: ...


def automatic_threads(cores: int | None = None) -> int:
    """Physical cores less one, so the rest of the computer (and the window) keep a core and
    llama.cpp's threads are not preempted at every barrier; generation is bound by memory
    speed, so the core left free costs little."""
    cores = cores or physical_cores()
    return max(1, cores - 1)


def generation_threads(settings: _Settings) -> int:
    """The threads the next model will generate on: the setting, else the automatic choice."""
    return threads_setting(settings) or automatic_threads()


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
