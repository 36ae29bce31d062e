"""Route llama.cpp's own log lines into Python logging, keeping the recent ones for errors."""

from __future__ import annotations

import ctypes
import logging
import threading
from collections import deque
from typing import Any

log = logging.getLogger("openweight.llama")

# ggml_log_level: NONE, INFO, WARN, ERROR, DEBUG, CONT (continues the previous line)
_LEVELS = {0: logging.CRITICAL, 1: logging.INFO, 2: logging.WARNING, 3: logging.ERROR,
           4: logging.DEBUG}


class LlamaLogRouter:
    """Installs itself with llama_log_set; nothing llama.cpp logs reaches the terminal."""

    def __init__(self, keep: int = 400) -> None:
        self.recent: deque[tuple[int, int, str]] = deque(maxlen=keep)
        self._seq = 0
        self._partial = ""
        self._last_level = logging.INFO
        self._lock = threading.Lock()
        self._callback: Any = None

    def install(self) -> None:
        import llama_cpp

        @llama_cpp.llama_log_callback  # type: ignore[untyped-decorator]
        def callback(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
            self._receive(level, text.decode("utf-8", errors="replace"))

        self._callback = callback  # a ctypes callback must outlive its registration
        llama_cpp.llama_log_set(callback, ctypes.c_void_p(0))

    def _receive(self, level: int, text: str) -> None:
        with self._lock:
            py_level = self._last_level if level == 5 else _LEVELS.get(level, logging.INFO)
            self._last_level = py_level
            self._partial += text
            while "\n" in self._partial:
                line, self._partial = self._partial.split("\n", 1)
                if line.strip():
                    self._seq += 1
                    self.recent.append((self._seq, py_level, line))
                    log.log(py_level if py_level > logging.INFO else logging.DEBUG, "%s", line)

    def mark(self) -> int:
        """A position in the log, to read only what came after it."""
        with self._lock:
            return self._seq

    def lines_since(self, mark: int, min_level: int = logging.WARNING) -> list[str]:
        with self._lock:
            return [line for seq, level, line in self.recent if seq > mark and level >= min_level]


def explain_load_failure(lines: list[str], path: str) -> str:
    """Turn llama.cpp's error lines into a sentence a person can act on."""
    text = "\n".join(lines)
    lowered = text.lower()
    if "no backends are loaded" in lowered:
        return (
            "The model engine found none of its processor code (llama.cpp's backend modules are "
            "missing from this installation). Reinstall Openweight."
        )
    if "unknown model architecture" in lowered:
        arch = text.split("unknown model architecture:", 1)[-1].strip().split("\n")[0].strip(" '")
        return (
            f"This version of Openweight cannot run models of the '{arch}' architecture yet. "
            "Look for an update, or choose another model."
        )
    if "out of memory" in lowered or "failed to allocate" in lowered or "unable to allocate" in lowered:
        return (
            "There is not enough memory to load this model. Close other programs, choose a "
            "smaller model or quantization, or reduce the context length."
        )
    if "tensor" in lowered and ("data is not within the file bounds" in lowered or "truncated" in lowered):
        return (
            "The model file is incomplete (it is shorter than its header says), probably from an "
            "interrupted download. Download it again."
        )
    if "invalid magic" in lowered or "failed to read magic" in lowered or "not a gguf" in lowered:
        return "The file is not a GGUF model file."
    detail = next((ln.strip() for ln in reversed(lines) if ln.strip()), "")
    for prefix in ("llama_model_load: error loading model:", "llama_model_load:", "gguf_init_from_file_impl:"):
        if detail.startswith(prefix):
            detail = detail[len(prefix):].strip()
    if detail:
        return f"The model could not be loaded: {detail}."
    return f"The model at {path} could not be loaded; the file may be damaged or unsupported."
