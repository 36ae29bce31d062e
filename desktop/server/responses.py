"""OpenAI's response shapes: a whole chat completion, a streamed chunk, usage, models."""

from __future__ import annotations

import base64
import struct
import time
from typing import Any

from desktop.engine.api import Done
from desktop.store.records import ModelFile

FINISH_REASONS = {"eos": "stop", "stop_string": "stop", "stopped": "stop", "length": "length",
                  "context_full": "length"}


def finish_reason(done: Done) -> str:
    return FINISH_REASONS.get(done.stop_reason, "stop")


def usage(done: Done) -> dict[str, int]:
    prompt = int(done.stats.get("prompt_tokens", 0))
    completion = int(done.stats.get("generated_tokens", 0))
    return {"prompt_tokens": prompt, "completion_tokens": completion,
            "total_tokens": prompt + completion}


def completion(request_id: str, model: str, answer: str, reasoning: str,
               done: Done) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": answer}
    if reasoning:
        message["reasoning_content"] = reasoning
    return {
        "id": request_id, "object": "chat.completion", "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason(done),
                     "logprobs": None}],
        "usage": usage(done),
    }


def chunk(request_id: str, model: str, delta: dict[str, Any],
          finish: str | None = None) -> dict[str, Any]:
    return {
        "id": request_id, "object": "chat.completion.chunk", "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
    }


def usage_chunk(request_id: str, model: str, done: Done) -> dict[str, Any]:
    return {"id": request_id, "object": "chat.completion.chunk", "created": int(time.time()),
            "model": model, "choices": [], "usage": usage(done)}


def model_entry(model: ModelFile) -> dict[str, Any]:
    return {"id": model.name, "object": "model", "created": int(model.added_at or 0),
            "owned_by": "openweight", "kind": model.kind,
            "context_length": model.context_length}


def embeddings(model: str, vectors: list[list[float]], as_base64: bool) -> dict[str, Any]:
    def encode(vector: list[float]) -> Any:
        if not as_base64:
            return vector
        return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")

    return {
        "object": "list", "model": model,
        "data": [{"object": "embedding", "index": i, "embedding": encode(v)}
                 for i, v in enumerate(vectors)],
        # The engine does not report token counts for embeddings.
        "usage": {"prompt_tokens": 0, "total_tokens": 0},
    }
