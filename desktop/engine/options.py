"""What the app asks the engine for: how to load a model and how to answer.

Kept apart from the engine so the window and the CLI can build requests without importing it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from desktop.engine.context import DROP_OLDEST

# Where models run: "auto" (the GPU when the model fits, else the CPU), "cpu", or "gpu:N"
# (only the Nth GPU llama.cpp finds, counting from 0).
DEVICE_SETTING = "engine.device"
AUTO, CPU_ONLY = "auto", "cpu"


def gpu_choice(index: int) -> str:
    return f"gpu:{index}"


def device_layers(device: str | None) -> tuple[int | None, int | None]:
    """(n_gpu_layers, main_gpu) for a device setting; anything unreadable means automatic."""
    if device == CPU_ONLY:
        return 0, None
    if device and device.startswith("gpu:") and device[4:].isdigit():
        return None, int(device[4:])
    return None, None


@dataclass
class LoadOptions:
    path: str
    n_ctx: int | None = None
    n_gpu_layers: int | None = None  # None: all layers when a GPU backend is present
    main_gpu: int | None = None  # only this GPU (llama.cpp's index); None: any it finds
    n_threads: int | None = None
    flash_attn: bool | None = None
    state_cache_bytes: int = 512 * 1024 * 1024
    embedding: bool = False  # an embedding model: embed() instead of generate()


@dataclass
class GenerateOptions:
    messages: list[dict[str, Any]]
    temperature: float = 0.7
    top_p: float = 0.95
    top_k: int = 40
    min_p: float = 0.05
    repeat_penalty: float = 1.0
    max_tokens: int | None = None
    stop: list[str] = field(default_factory=list)
    template_vars: dict[str, Any] = field(default_factory=dict)
    context_policy: str = DROP_OLDEST
    cache_key: str | None = None
    reasoning_style: str | None = None
    seed: int | None = None
