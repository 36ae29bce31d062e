"""What a server offers: `GET /v1/models`, read the way each server family fills it in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from desktop.engine.api import EngineError
from desktop.engine.remote.http import LIST_TIMEOUT, Endpoint, request_json


@dataclass(frozen=True)
class RemoteModel:
    id: str
    context_length: int | None = None
    kind: str = "chat"


def guess_kind(model_id: str) -> str:
    """Servers do not say which models embed; their names nearly always do."""
    lowered = model_id.lower()
    return "embedding" if "embed" in lowered or lowered.startswith(("bge-", "e5-", "gte-")) else "chat"


def guess_reasoning_style(model_id: str) -> str | None:
    """How a model's raw text marks its reasoning, when the server leaves the marks in."""
    lowered = model_id.lower()
    if "gpt-oss" in lowered:
        return "harmony"
    if any(k in lowered for k in ("qwen3", "deepseek-r1", "qwq", "think", "magistral")):
        return "think"
    return None


def _context_of(entry: dict[str, Any]) -> int | None:
    # vLLM: max_model_len; llama-server: meta.n_ctx_train; LM Studio, OpenRouter and others:
    # context_length or context_window.
    meta = entry.get("meta")
    if not isinstance(meta, dict):
        meta = {}
    for value in (entry.get("max_model_len"), entry.get("context_length"),
                  entry.get("context_window"), meta.get("n_ctx"), meta.get("n_ctx_train")):
        if isinstance(value, int) and value > 0:
            return value
    return None


def list_models(endpoint: Endpoint, timeout: float = LIST_TIMEOUT) -> list[RemoteModel]:
    """The server's models; raise EngineError when it cannot be reached or refuses."""
    data = request_json(endpoint, "GET", "/models", timeout=timeout)
    entries = data.get("data") if isinstance(data, dict) else data
    if not isinstance(entries, list):
        raise EngineError(
            f"The server {endpoint.name} answered, but not with a list of models. Check that "
            f"{endpoint.base_url} is an OpenAI-compatible address (it usually ends in /v1).",
            "engine")
    models = []
    for entry in entries:
        if isinstance(entry, dict) and entry.get("id"):
            model_id = str(entry["id"])
            models.append(RemoteModel(model_id, _context_of(entry), guess_kind(model_id)))
    return models


def server_context(endpoint: Endpoint, timeout: float = LIST_TIMEOUT) -> int | None:
    """llama-server's actual context size per request slot (`GET /props`), when offered."""
    try:
        props = request_json(endpoint, "GET", "/props", root=True, timeout=timeout)
    except EngineError:
        return None
    if not isinstance(props, dict):
        return None
    settings = props.get("default_generation_settings")
    for value in ((settings or {}).get("n_ctx") if isinstance(settings, dict) else None,
                  props.get("n_ctx")):
        if isinstance(value, int) and value > 0:
            return value
    return None
