"""The request bodies the API accepts, checked before anything is queued.

A client gets a precise 400 (which parameter, why) for anything the engine could not do,
instead of a failure half-way through an answer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from desktop.server.errors import ApiError, bad_param

ROLES = ("system", "developer", "user", "assistant", "tool")
MAX_STOP_SEQUENCES = 16
REASONING_EFFORTS = ("low", "medium", "high")


@dataclass
class ChatRequest:
    model: str
    messages: list[dict[str, Any]]
    stream: bool = False
    include_usage: bool = False
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    seed: int | None = None
    stop: list[str] = field(default_factory=list)
    reasoning_effort: str | None = None


@dataclass
class EmbeddingRequest:
    model: str
    texts: list[str]
    base64: bool = False


def _number(body: dict[str, Any], name: str, low: float, high: float) -> float | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise bad_param(name, f"'{name}' must be a number.")
    if not low <= value <= high:
        raise bad_param(name, f"'{name}' must be between {low:g} and {high:g}; it was {value}.")
    return float(value)


def _integer(body: dict[str, Any], name: str, low: int, high: int | None = None) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_param(name, f"'{name}' must be a whole number.")
    if value < low or (high is not None and value > high):
        limit = f"at least {low}" if high is None else f"between {low} and {high}"
        raise bad_param(name, f"'{name}' must be {limit}; it was {value}.")
    return value


def _model(body: dict[str, Any]) -> str:
    model = body.get("model")
    if not isinstance(model, str) or not model.strip():
        raise bad_param("model", "Say which model should answer: 'model' is missing. "
                        "GET /v1/models lists them.")
    return model


def _text_content(content: Any, where: str) -> str:
    """A message's text: a string, or the text parts of a list of parts."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for part in content:
            if not isinstance(part, dict) or part.get("type") != "text":
                kind = part.get("type") if isinstance(part, dict) else type(part).__name__
                raise bad_param(where, f"Only text can be sent; a message held a {kind!r} part.")
            texts.append(str(part.get("text", "")))
        return "".join(texts)
    raise bad_param(where, "A message's 'content' must be text or a list of text parts.")


def _messages(body: dict[str, Any]) -> list[dict[str, Any]]:
    raw = body.get("messages")
    if not isinstance(raw, list) or not raw:
        raise bad_param("messages", "'messages' must be a list with at least one message.")
    messages = []
    for i, item in enumerate(raw):
        where = f"messages[{i}]"
        if not isinstance(item, dict):
            raise bad_param(where, f"{where} must be an object with 'role' and 'content'.")
        role = item.get("role")
        if role not in ROLES:
            raise bad_param(f"{where}.role", f"{where} has an unknown role {role!r}; use one of "
                            f"{', '.join(ROLES)}.")
        role = "system" if role == "developer" else role
        message: dict[str, Any] = {"role": role,
                                   "content": _text_content(item.get("content"), f"{where}.content")}
        reasoning = item.get("reasoning_content")
        if role == "assistant" and isinstance(reasoning, str) and reasoning:
            message["reasoning_content"] = reasoning
        messages.append(message)
    return messages


def _stop(body: dict[str, Any]) -> list[str]:
    stop = body.get("stop")
    if stop is None:
        return []
    items = [stop] if isinstance(stop, str) else stop
    if not isinstance(items, list) or not all(isinstance(s, str) for s in items):
        raise bad_param("stop", "'stop' must be a string or a list of strings.")
    if len(items) > MAX_STOP_SEQUENCES:
        raise bad_param("stop", f"At most {MAX_STOP_SEQUENCES} stop sequences are allowed.")
    return [s for s in items if s]


def parse_chat(body: Any) -> ChatRequest:
    """The chat completion request in body, or an ApiError saying what is wrong with it."""
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be a JSON object.")
    n = _integer(body, "n", 1)
    if n not in (None, 1):
        raise bad_param("n", "This server gives one answer per request: 'n' must be 1.")
    if body.get("logprobs"):
        raise bad_param("logprobs", "This server does not return log probabilities.")
    if body.get("tools"):
        raise bad_param("tools", "This server does not run tools; send the request without "
                        "'tools'.")
    stream_options = body.get("stream_options") or {}
    if not isinstance(stream_options, dict):
        raise bad_param("stream_options", "'stream_options' must be an object.")
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise bad_param("stream", "'stream' must be true or false.")
    max_tokens = _integer(body, "max_completion_tokens", 1)
    if max_tokens is None:
        max_tokens = _integer(body, "max_tokens", 1)
    effort = body.get("reasoning_effort")
    if effort is not None and effort not in REASONING_EFFORTS:
        raise bad_param("reasoning_effort", "'reasoning_effort' must be low, medium or high.")
    return ChatRequest(
        model=_model(body),
        messages=_messages(body),
        stream=stream,
        include_usage=bool(stream_options.get("include_usage")),
        max_tokens=max_tokens,
        temperature=_number(body, "temperature", 0.0, 2.0),
        top_p=_number(body, "top_p", 0.0, 1.0),
        seed=_integer(body, "seed", -(2**63), 2**64 - 1),
        stop=_stop(body),
        reasoning_effort=effort,
    )


def parse_embeddings(body: Any) -> EmbeddingRequest:
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be a JSON object.")
    raw = body.get("input")
    texts = [raw] if isinstance(raw, str) else raw
    if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
        raise bad_param("input", "'input' must be a string or a non-empty list of strings "
                        "(token arrays are not accepted).")
    fmt = body.get("encoding_format") or "float"
    if fmt not in ("float", "base64"):
        raise bad_param("encoding_format", "'encoding_format' must be float or base64.")
    return EmbeddingRequest(model=_model(body), texts=texts, base64=fmt == "base64")
