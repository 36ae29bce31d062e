"""The engine host: a child process that owns one model and speaks JSON lines over its pipes.

llama.cpp aborts its whole process on some malformed files and returns GPU memory fully
only at exit, so the model never lives in the app's own process. The host exits as soon as
its stdin closes, which also happens when the app is killed.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import signal
import sys
import threading
from typing import IO, Any


class Channel:
    """Writes one JSON object per line; safe to use from several threads."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.lock = threading.Lock()

    def send(self, message: dict[str, Any]) -> None:
        data = (json.dumps(message, ensure_ascii=False) + "\n").encode("utf-8")
        with self.lock:
            self.stream.write(data)
            self.stream.flush()


def _die_with_parent() -> None:
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None)
            libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass


def main() -> int:
    # Frames go to a private copy of stdout; fd 1 then points at stderr so that anything
    # native code prints can never corrupt the protocol.
    channel = Channel(os.fdopen(os.dup(1), "wb", buffering=0))
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is the app's to handle, not ours
    _die_with_parent()
    logging.basicConfig(
        level=os.environ.get("OPENWEIGHT_HOST_LOG", "WARNING"), stream=sys.stderr,
        format="%(name)s: %(message)s",
    )

    from desktop.engine.api import EngineError
    from desktop.engine.context import ContextFullError
    from desktop.engine.llama_engine import LlamaEngine
    from desktop.engine.llama_log import LlamaLogRouter
    from desktop.engine.options import GenerateOptions, LoadOptions
    from desktop.modelfile.problems import explain

    router = LlamaLogRouter()
    router.install()
    # Before llama.cpp's first use: a build for distribution brings its CPU and GPU code as
    # modules beside libllama, where llama.cpp itself would not look.
    from desktop.engine.backends import load_backends

    load_backends()
    engine = LlamaEngine(router)
    requests: queue.Queue[dict[str, Any] | None] = queue.Queue()
    current: dict[str, Any] = {"id": None}
    cancelled: set[Any] = set()
    lock = threading.Lock()

    def read_requests() -> None:
        for raw in sys.stdin.buffer:
            try:
                message = json.loads(raw)
            except ValueError:
                continue
            if message.get("op") == "stop":
                with lock:
                    cancelled.add(message.get("id"))
                    if message.get("id") in (None, current["id"]):
                        engine.request_stop()
                continue
            requests.put(message)
        # The app is gone (or closed us): nothing left to serve.
        os._exit(0)

    threading.Thread(target=read_requests, name="host-stdin", daemon=True).start()
    channel.send({"event": "ready", "pid": os.getpid()})

    while True:
        message = requests.get()
        if message is None:
            break
        request_id = message.get("id")
        with lock:
            # A stop may arrive before its request is taken up; it still counts.
            engine.clear_stop()
            current["id"] = request_id
            cancelled.discard(None)
            if request_id in cancelled:
                cancelled.discard(request_id)
                engine.request_stop()
        op = message.get("op")

        def emit(event: dict[str, Any], request_id: Any = request_id) -> None:
            channel.send({"id": request_id, **event})

        try:
            if op == "load":
                options = LoadOptions(**message["options"])

                def report(value: float) -> bool:
                    emit({"event": "progress", "value": value})
                    return True  # keep loading

                summary = engine.load(options, report)
                emit({"event": "loaded", "info": summary})
            elif op == "generate":
                final = engine.generate(GenerateOptions(**message["options"]), emit)
                emit(final)
            elif op == "embed":
                emit({"event": "embedded", "vectors": engine.embed(list(message["texts"]))})
            elif op == "tokens":
                emit({"event": "token_counts",
                      "counts": engine.token_counts(list(message["texts"]))})
            elif op == "count":
                tokens = engine.count_tokens(message["messages"], message.get("template_vars", {}))
                emit({"event": "counted", "tokens": tokens, "n_ctx": engine.llm.n_ctx()})
            elif op == "unload":
                engine.unload()
                emit({"event": "unloaded"})
            elif op == "info":
                emit({"event": "info", "info": engine.system_info(), "loaded": engine.load_summary if engine.llm else None})
            elif op == "shutdown":
                emit({"event": "bye"})
                break
            else:
                emit({"event": "error", "kind": "protocol", "message": f"Unknown request {op!r}."})
        except ContextFullError as exc:
            emit({"event": "error", "kind": "context_full", "message": str(exc),
                  "used": exc.used, "limit": exc.limit})
        except EngineError as exc:
            emit({"event": "error", "kind": exc.kind, "message": str(exc), "detail": exc.detail})
        except Exception as exc:  # noqa: BLE001 - report, keep serving; the app shows it
            logging.getLogger("openweight.host").exception("request %s failed", op)
            detail = f"{type(exc).__name__}: {exc}"
            if op == "load":  # whatever a file makes llama.cpp or its binding trip over
                name = os.path.basename(str(message.get("options", {}).get("path", "")))
                emit({"event": "error", "kind": "load", "message": explain("not_loadable", name),
                      "detail": detail})
            else:
                emit({"event": "error", "kind": "internal", "detail": detail,
                      "message": "The model engine met an unexpected problem; details are in "
                      "the log. Try again, or restart Openweight if it keeps happening."})
        finally:
            current["id"] = None
    engine.unload()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
