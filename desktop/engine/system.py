"""Facts about this computer that the engine needs without importing llama.cpp."""

from __future__ import annotations

from desktop.modelfile.memory import physical_cores

__all__ = ["physical_cores"]  # counted on the ground floor, where the library sizes models too
