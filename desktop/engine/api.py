"""The Engine interface: what the rest of the app asks of any engine, local or remote.

Chat, documents, the window, the CLI and `openweight serve` talk to engines only through
this: load a model, count tokens, generate with typed events, stop, embed. The local engine
host (llama.cpp in a child process) and OpenAI-compatible servers both implement it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol, get_args

from desktop.store.records import ModelFile

# What went wrong, so each front end can say what to do about it.
ErrorKind = Literal[
    "load",  # the model could not be loaded (damaged file, unsupported, out of memory)
    "crash",  # the local engine process died; it starts again on the next request
    "context_full",  # the conversation does not fit and the chat forbids dropping turns
    "engine",  # the engine refused or failed the request, with a message for a person
    "unreachable",  # a server could not be reached
    "auth",  # a server refused the API key
    "model_gone",  # a server no longer offers the model
    "busy",  # a server is overloaded (HTTP 429/503)
    "timeout",  # a server stopped answering
    "cut_off",  # a stream ended before the answer did
    "bad_request",  # the request itself was wrong (parameters, malformed input)
    "internal",  # a bug: the details are in the log
]

ERROR_KINDS: tuple[str, ...] = get_args(ErrorKind)


class EngineError(Exception):
    """A failure worded for a person; kind says which sort, for front ends that act on it."""

    def __init__(self, message: str, kind: ErrorKind = "engine", detail: str = "") -> None:
        super().__init__(message)
        self.kind: ErrorKind = kind
        self.detail = detail  # the technical reason, for a "Details" disclosure and the log

    @property
    def crashed(self) -> bool:
        return self.kind == "crash"


# -- events --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    """Loading a model: value from 0 to 1."""

    value: float
    event: str = field(default="progress", init=False)


@dataclass(frozen=True)
class Loaded:
    info: dict[str, Any]
    event: str = field(default="loaded", init=False)


@dataclass(frozen=True)
class Started:
    """The prompt was accepted: its size, and what was reused or left out to make it fit."""

    prompt_tokens: int
    reused_tokens: int = 0
    dropped_messages: int = 0
    n_ctx: int | None = None
    reasoning_style: str | None = None
    estimated: bool = False  # the counts are estimates (a server that does not report them)
    notice: str = ""  # something the user should know about this answer (a replaced template)
    event: str = field(default="started", init=False)


@dataclass(frozen=True)
class Delta:
    """New text: answer and reasoning kept apart; tool calls shown, never run."""

    answer: str = ""
    reasoning: str = ""
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    event: str = field(default="delta", init=False)


@dataclass(frozen=True)
class Done:
    stop_reason: str  # eos, length, stop_string, stopped, context_full
    stats: dict[str, Any] = field(default_factory=dict)
    event: str = field(default="done", init=False)


@dataclass(frozen=True)
class Failed:
    kind: ErrorKind
    message: str
    used: int | None = None  # context_full: tokens the prompt needed
    limit: int | None = None  # context_full: tokens there were
    detail: str = ""  # the technical reason, one click away from the message
    event: str = field(default="error", init=False)


EngineEvent = Progress | Loaded | Started | Delta | Done | Failed

_EVENT_TYPES: dict[str, type[Any]] = {
    "progress": Progress, "loaded": Loaded, "started": Started, "delta": Delta, "done": Done,
    "error": Failed,
}


def to_wire(event: EngineEvent) -> dict[str, Any]:
    """The event as the plain dict the window, `--json` and the host protocol carry."""
    data = asdict(event)
    if isinstance(event, Delta):  # deltas are many: carry only what they hold
        data = {k: v for k, v in data.items() if v or k == "event"}
    return data


def from_wire(data: dict[str, Any]) -> EngineEvent | None:
    """The typed event for a dict from the host; None for anything else (frames not for us)."""
    kind = data.get("event")
    cls = _EVENT_TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        return None
    fields = {k: v for k, v in data.items() if k in cls.__dataclass_fields__ and k != "event"}
    if cls is Failed:
        fields.setdefault("message", "")
        if fields.get("kind") not in ERROR_KINDS:
            fields["kind"] = "internal"
    try:
        return cls(**fields)  # type: ignore[no-any-return]
    except TypeError:
        return None


# -- requests ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenCount:
    tokens: int
    n_ctx: int | None
    estimated: bool = False  # True where the engine cannot tokenize (some servers)


@dataclass(frozen=True)
class EngineModel:
    """A model an engine offers: an installed file, or a model a server lists."""

    name: str  # what the app calls it: the file's name, or "Server/model-id"
    engine: str  # "local" or the server's name
    kind: str = "chat"
    context_length: int | None = None


ProgressCallback = Callable[[float], None]


class Engine(Protocol):
    """Anything that can answer: the local engine host, or an OpenAI-compatible server."""

    name: str  # "local", or the server's name

    def load(self, model: ModelFile, context_length: int | None = None,
             on_progress: ProgressCallback | None = None) -> dict[str, Any]:
        """Make the model ready to answer (a no-op when it already is); raise EngineError."""
        ...

    def count_tokens(self, messages: list[dict[str, Any]],
                     template_vars: dict[str, Any] | None = None) -> TokenCount:
        """Tokens the loaded model's prompt for messages would take (exact or estimated)."""
        ...

    def generate(self, options: Any) -> Iterator[EngineEvent]:
        """Stream one answer to a GenerateOptions; ends with Done or Failed."""
        ...

    def stop(self) -> None:
        """Stop the running generation soon; safe from any thread."""
        ...

    def embed(self, model: ModelFile, texts: list[str]) -> list[list[float]]:
        """One normalised vector per text, from an embedding model."""
        ...

    def models(self) -> list[EngineModel]:
        """What this engine can run right now."""
        ...

    def close(self) -> None:
        ...
