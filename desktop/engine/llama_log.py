"""Route llama.cpp's own log lines into Python logging, keeping the recent ones for errors."""

from __future__ import annotations

import ctypes
import logging
import threading
from collections import deque
from pathlib import Path
from typing import Any

from desktop.modelfile.problems import explain

log = logging.getLogger("openweight.llama")

# ggml_log_level (ggml.h): NONE, DEBUG, INFO, WARN, ERROR, CONT (continues the previous line).
# llama-cpp-python's own table has an older order, which filed progress lines as warnings and
# the errors as debug output.
_LEVELS = {0: logging.CRITICAL, 1: logging.DEBUG, 2: logging.INFO, 3: logging.WARNING,
           4: logging.ERROR}


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


_PREFIXES = ("llama_model_load: error loading model:", "llama_model_load_from_file_impl:",
             "llama_model_load:", "gguf_init_from_file_impl:", "llama_init_from_model:")

# Words in llama.cpp's error lines -> the problem they mean (first match wins).
_CLUES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("out_of_memory", ("out of memory", "failed to allocate", "unable to allocate",
                       "cannot allocate", "failed to create context")),
    ("unsupported_tokenizer", ("unknown pre-tokenizer", "unknown tokenizer")),
    ("unknown_quantization", ("invalid ggml type", "unknown type", "invalid tensor type")),
    ("incomplete", ("not within the file bounds", "truncated", "unexpectedly reached end of file",
                    "failed to read tensor data")),
    ("damaged", ("wrong shape", "missing tensor", "not found", "wrong number of tensors", "duplicated tensor",
                 "invalid", "key not found", "is not a multiple", "overflow", "failed to read",
                 "wrong type", "out of range", "mismatch", "expected", "error loading model",
                 "vocab", "token")),
)


def error_lines(lines: list[str]) -> list[str]:
    """llama.cpp's lines that say what failed, without its function-name prefixes."""
    picked = []
    for line in lines:
        text = line.strip()
        for prefix in _PREFIXES:
            if text.startswith(prefix):
                text = text[len(prefix):].strip()
                break
        if text and text not in picked and text not in ("failed to load model",):
            picked.append(text)
    return picked


def explain_load_failure(lines: list[str], path: str) -> tuple[str, str]:
    """A message a person can act on, and the technical detail, from llama.cpp's error lines
    (lines at warning level and above, logged while loading)."""
    name = Path(path).name
    picked = error_lines(lines)
    detail = "\n".join(picked[-6:])
    lowered = detail.lower()
    if "no backends are loaded" in "\n".join(lines).lower():
        return (
            "The model engine found none of its processor code (llama.cpp's backend modules are "
            "missing from this installation). Reinstall Openweight."
        ), detail
    if "unknown model architecture" in lowered:
        arch = detail.split("unknown model architecture:", 1)[-1].strip().split("\n")[0].strip(" '")
        return explain("unsupported_architecture", name, arch=arch), detail
    for problem, words in _CLUES:
        if any(w in lowered for w in words):
            return explain(problem, name), detail
    return explain("not_loadable", name), detail or "llama.cpp gave no reason"
