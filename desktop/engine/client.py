"""The app's side of the engine host: start it, send requests, read streamed events.

Plain Python (no Qt): the CLI uses it directly, the window from a worker thread.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import queue
import shlex
import signal
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

from desktop.engine.api import EngineError
from desktop.engine.options import GenerateOptions, LoadOptions
from desktop.modelfile.problems import explain

log = logging.getLogger("openweight.engine.client")
host_log = logging.getLogger("openweight.engine.host")

TERMINAL_EVENTS = {"done", "error", "loaded", "counted", "embedded", "unloaded", "info", "bye"}


class EngineCrashed(EngineError):
    """The host process ended unexpectedly; the message explains it for a person."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message, "crash", detail)


class EngineLoadError(EngineError):
    """The model could not be loaded (or the host died loading it)."""

    def __init__(self, message: str, crashed: bool = False, detail: str = "") -> None:
        super().__init__(message, "crash" if crashed else "load", detail)

    @classmethod
    def from_event(cls, event: dict[str, Any]) -> EngineLoadError:
        return cls(event["message"], crashed=event.get("kind") == "crash",
                   detail=str(event.get("detail") or ""))


def host_command() -> list[str]:
    """The engine host's command line, under OPENWEIGHT_HOST_PREFIX when that is set.

    The prefix is a command the host runs under, split like a shell would: an emulator for
    testing other CPUs (`qemu-x86_64 -cpu Haswell`), `valgrind`, or `gdb --args`.
    """
    if getattr(sys, "frozen", False):
        command = [sys.executable, "--engine-host"]
    else:
        command = [sys.executable, "-m", "desktop.engine.host"]
    prefix = os.environ.get("OPENWEIGHT_HOST_PREFIX", "").strip()
    return shlex.split(prefix) + command if prefix else command


def explain_exit(returncode: int | None, stderr_tail: list[str], doing: str) -> tuple[str, str]:
    """Why the host died: a message for a person, and the detail (its exit signal and what
    llama.cpp printed last) for the log and a Details disclosure."""
    if returncode is not None and returncode < 0:
        try:
            how = f"stopped by {signal.Signals(-returncode).name}"
        except ValueError:
            how = f"stopped by signal {-returncode}"
    elif returncode is None:
        how = "its connection was lost"
    else:
        how = f"exited with code {returncode}"
    clue = next((ln for ln in reversed(stderr_tail) if "GGML_ASSERT" in ln), "")
    if not clue:
        clue = next((ln for ln in reversed(stderr_tail)
                     if any(k in ln for k in ("error", "Error", "failed", "abort"))), "")
    if "GGML_ASSERT" in clue:
        clue = clue[clue.index("GGML_ASSERT"):]  # drop the source path before it
    detail = f"The engine host {how} while {doing}."
    if clue.strip():
        detail += f" llama.cpp reported: {clue.strip()[:500]}"
    if returncode is not None and returncode == -signal.SIGILL:
        # Illegal instruction: llama.cpp was built for a newer processor than this one.
        return (
            f"The model engine stopped while {doing}: this processor lacks instructions this "
            "build of Openweight needs (it stopped on an illegal instruction). Openweight's "
            "downloads need a 64-bit processor with SSE4.2 (Intel since 2008, AMD since 2011) "
            "or 64-bit Arm; a build made for one computer may need a newer processor than "
            "another has. Your chats are safe."
        ), detail
    for prefix, problem in (("loading ", "crashed_loading"), ("answering with ", "crashed_answering")):
        if doing.startswith(prefix) and doing != prefix + "the model":
            return explain(problem, doing[len(prefix):]), detail
    return explain("crashed", doing=doing), detail


class _Request:
    def __init__(self, request_id: int) -> None:
        self.id = request_id
        self.events: queue.Queue[dict[str, Any]] = queue.Queue()
        self.proc: subprocess.Popen[bytes] | None = None  # the host it was sent to


class EngineClient:
    """Owns one engine host process at a time and restarts it after a crash."""

    def __init__(self, env: dict[str, str] | None = None) -> None:
        self.env = env
        self._proc: subprocess.Popen[bytes] | None = None
        self._write_lock = threading.Lock()
        self._requests: dict[int, _Request] = {}
        self._requests_lock = threading.Lock()
        self._ids = itertools.count(1)
        self._stderr_tail: deque[str] = deque(maxlen=200)
        self._doing = "starting"
        self.loaded: dict[str, Any] | None = None
        self.loaded_options: LoadOptions | None = None
        self.current_request_id: int | None = None
        self._start_lock = threading.Lock()  # two threads sharing this host start it once
        # Held by a user of a shared host from checking which model is loaded until its
        # request is sent, so another user's load cannot slip in between (see LocalEngine).
        self.turn_lock = threading.RLock()

    # -- process -------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> None:
        with self._start_lock:
            if not self.running:
                self._start()

    def _start(self) -> None:
        env = dict(os.environ if self.env is None else self.env)
        root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
        # On an assert, ggml would attach a debugger to print a backtrace: slow, and it
        # buries the one line that says what went wrong.
        env.setdefault("GGML_NO_BACKTRACE", "1")
        kwargs: dict[str, Any] = {}
        if sys.platform == "win32":
            kwargs["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP  # type: ignore[attr-defined]
        else:
            kwargs["start_new_session"] = True  # the terminal's Ctrl+C is for the app
        self._stderr_tail.clear()
        self.loaded = None
        self.loaded_options = None
        proc = subprocess.Popen(
            host_command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, env=env, **kwargs,
        )
        self._proc = proc
        ready = self._register(0)
        stderr_reader = threading.Thread(target=self._read_stderr, args=(proc,), daemon=True,
                                         name="engine-stderr")
        stderr_reader.start()
        threading.Thread(target=self._read_events, args=(proc, stderr_reader), daemon=True,
                         name="engine-events").start()
        event = ready.events.get()
        self._forget(0)
        if event.get("event") != "ready":
            raise EngineCrashed(event.get("message", "The model engine could not start."))

    def close(self, timeout: float = 5.0) -> None:
        """Shut the host down; it is never left running."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            if proc.stdin:
                proc.stdin.close()  # the host exits when its pipe closes
            proc.wait(timeout=timeout)
        except (OSError, subprocess.TimeoutExpired):
            proc.kill()
            proc.wait()
        self.loaded = None
        self.loaded_options = None

    def _read_events(self, proc: subprocess.Popen[bytes], stderr_reader: threading.Thread) -> None:
        assert proc.stdout is not None
        for raw in proc.stdout:
            try:
                event = json.loads(raw)
            except ValueError:
                continue
            if event.get("event") == "ready":
                event["id"] = 0
            with self._requests_lock:
                request = self._requests.get(event.get("id", -1))
            if request is not None:
                request.events.put(event)
        code = proc.wait()
        stderr_reader.join(timeout=2.0)  # its last lines say why the host died
        self._close_pipes(proc, stderr_reader)
        message, detail = explain_exit(code, list(self._stderr_tail), self._doing)
        if code != 0:
            log.warning("engine host ended with %s: %s", code, detail)
        with self._requests_lock:
            pending = list(self._requests.values())
        for request in pending:
            request.events.put({"event": "error", "kind": "crash", "message": message,
                                "detail": detail})

    def _close_pipes(self, proc: subprocess.Popen[bytes], stderr_reader: threading.Thread) -> None:
        """The host has ended: close our ends of its pipes now rather than at collection."""
        pipes = [proc.stdout] + ([] if stderr_reader.is_alive() else [proc.stderr])
        with self._write_lock:  # not while a request is being written
            pipes.append(proc.stdin)
            for pipe in pipes:
                try:
                    if pipe is not None:
                        pipe.close()
                except OSError:
                    pass  # unflushed bytes for a host that is gone

    def _read_stderr(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stderr is not None
        for raw in proc.stderr:
            line = raw.decode("utf-8", errors="replace").rstrip()
            if line:
                self._stderr_tail.append(line)
                host_log.info("%s", line)

    # -- requests ------------------------------------------------------------------------

    def _register(self, request_id: int) -> _Request:
        request = _Request(request_id)
        with self._requests_lock:
            self._requests[request_id] = request
        return request

    def _forget(self, request_id: int) -> None:
        with self._requests_lock:
            self._requests.pop(request_id, None)

    def _send(self, message: dict[str, Any]) -> None:
        proc = self._proc
        if proc is None or proc.stdin is None:
            raise EngineCrashed("The model engine is not running.")
        data = (json.dumps(message) + "\n").encode("utf-8")
        with self._write_lock:
            try:
                proc.stdin.write(data)
                proc.stdin.flush()
            except (BrokenPipeError, OSError, ValueError):
                pass  # the reader thread reports the crash to every pending request

    def new_request_id(self) -> int:
        """An id for a request to be sent later, so its sender can stop that request alone."""
        return next(self._ids)

    def request(self, op: str, doing: str, request_id: int | None = None,
                **fields: Any) -> Iterator[dict[str, Any]]:
        """Send one request and yield its events up to and including the last one."""
        request = self._submit(op, doing, request_id, fields)
        yield from self._events(request)

    def submit(self, op: str, doing: str, request_id: int | None = None,
               **fields: Any) -> Iterator[dict[str, Any]]:
        """Send one request now; iterate what it returns (to the end) for its events."""
        return self._events(self._submit(op, doing, request_id, fields))

    def _submit(self, op: str, doing: str, request_id: int | None,
                fields: dict[str, Any]) -> _Request:
        if not self.running:
            self.start()
        request = self._register(request_id if request_id is not None else next(self._ids))
        request.proc = self._proc
        self.current_request_id = request.id
        self._doing = doing
        try:
            self._send({"op": op, "id": request.id, **fields})
        except BaseException:
            self._forget(request.id)
            raise
        return request

    def _events(self, request: _Request) -> Iterator[dict[str, Any]]:
        try:
            while True:
                event = request.events.get()
                yield event
                if event.get("event") in TERMINAL_EVENTS:
                    # A host another thread has started since is not the one that died.
                    if event.get("kind") == "crash" and self._proc is request.proc:
                        self._proc = None
                        self.loaded = None
                        self.loaded_options = None
                    return
        finally:
            self._forget(request.id)

    def stop(self, request_id: int | None = None) -> None:
        """Ask the running generation to stop; safe from any thread."""
        if self.running:
            target = request_id if request_id is not None else self.current_request_id
            self._send({"op": "stop", "id": target})

    # -- conveniences --------------------------------------------------------------------

    def load(self, options: LoadOptions, on_progress: Callable[[float], None] | None = None) -> dict[str, Any]:
        """Load a model (skipped if it is already loaded the same way); raise on failure."""
        if self.running and self.loaded_options == options and self.loaded is not None:
            return self.loaded
        name = Path(options.path).name
        for event in self.request("load", f"loading {name}", options=asdict(options)):
            kind = event.get("event")
            if kind == "progress" and on_progress:
                on_progress(float(event["value"]))
            elif kind == "loaded":
                self.loaded = event["info"]
                self.loaded_options = options
                return event["info"]
            elif kind == "error":
                if event.get("kind") != "crash":
                    self.loaded = None
                raise EngineLoadError.from_event(event)
        raise EngineCrashed("The model engine stopped without answering.")

    def generate(self, options: GenerateOptions,
                 request_id: int | None = None) -> Iterator[dict[str, Any]]:
        name = Path(self.loaded_options.path).name if self.loaded_options else "the model"
        yield from self.request("generate", f"answering with {name}", request_id,
                               options=asdict(options))

    def submit_generate(self, options: GenerateOptions, request_id: int) -> Iterator[dict[str, Any]]:
        """generate(), sent at once rather than on first iteration."""
        name = Path(self.loaded_options.path).name if self.loaded_options else "the model"
        return self.submit("generate", f"answering with {name}", request_id,
                           options=asdict(options))

    def _reply(self, op: str, doing: str, reply: str, **fields: Any) -> dict[str, Any]:
        """The host's one answer (an event named reply) to a request."""
        for event in self.request(op, doing, **fields):
            if event.get("event") == "error":
                raise EngineLoadError.from_event(event)
            if event.get("event") == reply:
                return event
        raise EngineCrashed("The model engine stopped without answering.")

    def count_tokens(self, messages: list[dict[str, Any]], template_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        return self._reply("count", "counting tokens", "counted", messages=messages,
                           template_vars=template_vars or {})

    def embed(self, texts: list[str]) -> list[list[float]]:
        return [list(v) for v in self._reply("embed", "embedding text", "embedded", texts=texts)["vectors"]]

    def token_counts(self, texts: list[str]) -> list[int]:
        counts = self._reply("tokens", "counting tokens", "token_counts", texts=texts)["counts"]
        return [int(n) for n in counts]

    def info(self) -> dict[str, Any]:
        for event in self.request("info", "reading system information"):
            if event.get("event") == "info":
                return event
            if event.get("event") == "error":
                raise EngineCrashed(event["message"])
        raise EngineCrashed("The model engine stopped without answering.")
