"""An OpenAI-compatible server (llama-server, vLLM, Ollama, LM Studio, exo) as an Engine."""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from desktop.engine.api import (
    Delta,
    Done,
    EngineError,
    EngineEvent,
    EngineModel,
    Failed,
    ProgressCallback,
    Started,
    TokenCount,
)
from desktop.engine.context import ContextFullError, fit_messages
from desktop.engine.options import GenerateOptions
from desktop.engine.reasoning import ReasoningEvent, make_parser, strip_reasoning_for_history
from desktop.engine.remote.http import (
    LIST_TIMEOUT,
    READ_TIMEOUT,
    Connection,
    Endpoint,
    Stopped,
    connection_error,
    request_json,
    sse_lines,
    status_error,
)
from desktop.engine.remote.listing import (
    RemoteModel,
    guess_reasoning_style,
    list_models,
    server_context,
)
from desktop.engine.remote.servers import insecure_warning
from desktop.store.records import ModelFile

log = logging.getLogger("openweight.engine.remote")

FLUSH_SECONDS = 1 / 30  # like the local engine: text reaches the app about 30 times a second
LIST_CACHE_SECONDS = 10.0  # a turn checks the model is still offered, not on every keystroke
CHARS_PER_TOKEN = 4  # the estimate where a server cannot count for us
PER_MESSAGE_TOKENS = 6  # a chat template's markers around each message
FINISH_REASONS = {"stop": "eos", "length": "length", "tool_calls": "eos", "function_call": "eos",
                  "content_filter": "eos", "eos": "eos"}


def model_id(model: ModelFile) -> str:
    """The id the server knows a model by ("Server/llama-3" is "llama-3" there)."""
    return model.filename or model.name.split("/", 1)[-1]


def estimate_tokens(messages: list[dict[str, Any]]) -> int:
    return sum(len(str(m.get("content") or "")) // CHARS_PER_TOKEN + PER_MESSAGE_TOKENS
               for m in messages) + 3


class RemoteEngine:
    """One server. Use from one thread at a time, except stop(), which may come from any."""

    def __init__(self, name: str, endpoint: Callable[[], Endpoint],
                 read_timeout: float = READ_TIMEOUT, list_timeout: float = LIST_TIMEOUT) -> None:
        self.name = name
        self._endpoint = endpoint  # read at each use: a changed URL or key applies at once
        self.read_timeout = read_timeout
        self.list_timeout = list_timeout
        self._listed: tuple[float, str, list[RemoteModel]] | None = None
        self._model: str | None = None
        self._n_ctx: int | None = None
        self._style: str | None = None
        self._exact_counts: bool | None = None  # llama-server's /apply-template + /tokenize
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._conn: Connection | None = None

    @classmethod
    def at(cls, name: str, base_url: str, api_key: str | None = None,
           **kwargs: Any) -> RemoteEngine:
        endpoint = Endpoint(name, base_url.rstrip("/"), api_key)
        return cls(name, lambda: endpoint, **kwargs)

    # -- models --------------------------------------------------------------------------

    def server_models(self, fresh: bool = False) -> list[RemoteModel]:
        endpoint = self._endpoint()
        now = time.monotonic()
        cached = self._listed
        if (not fresh and cached is not None and cached[1] == endpoint.base_url
                and now - cached[0] < LIST_CACHE_SECONDS):
            return cached[2]
        models = list_models(endpoint, self.list_timeout)
        self._listed = (now, endpoint.base_url, models)
        return models

    def models(self) -> list[EngineModel]:
        return [EngineModel(f"{self.name}/{m.id}", self.name, m.kind, m.context_length)
                for m in self.server_models()]

    def load(self, model: ModelFile, context_length: int | None = None,
             on_progress: ProgressCallback | None = None) -> dict[str, Any]:
        """Check the server still offers the model and learn its context size. The server
        decides its own context length; the chat's setting cannot change it."""
        endpoint = self._endpoint()
        wanted = model_id(model)
        offered = self.server_models()
        found = next((m for m in offered if m.id == wanted), None)
        if found is None:
            offered = self.server_models(fresh=True)
            found = next((m for m in offered if m.id == wanted), None)
        if found is None:
            names = ", ".join(m.id for m in offered[:8]) or "none"
            raise EngineError(
                f"The server {self.name} no longer offers {wanted!r} (it offers: {names}). "
                "Choose another model for this chat.", "model_gone")
        if wanted != self._model:
            self._model = wanted
            self._n_ctx = server_context(endpoint, self.list_timeout) or found.context_length
            self._exact_counts = None
        self._style = model.reasoning_style or guess_reasoning_style(wanted)
        if on_progress is not None:
            on_progress(1.0)
        warnings = [w for w in (insecure_warning(endpoint.base_url),) if w]
        return {"name": wanted, "server": self.name, "base_url": endpoint.base_url,
                "n_ctx": self._n_ctx, "reasoning_style": self._style, "remote": True,
                "warnings": warnings}

    # -- counting ------------------------------------------------------------------------

    def count_tokens(self, messages: list[dict[str, Any]],
                     template_vars: dict[str, Any] | None = None) -> TokenCount:
        exact = self._exact_count(messages, template_vars or {})
        if exact is not None:
            return TokenCount(exact, self._n_ctx)
        return TokenCount(estimate_tokens(messages), self._n_ctx, estimated=True)

    def _exact_count(self, messages: list[dict[str, Any]],
                     template_vars: dict[str, Any]) -> int | None:
        """llama-server renders its own chat template and tokenizes: an exact count."""
        if self._exact_counts is False:
            return None
        endpoint = self._endpoint()
        try:
            body: dict[str, Any] = {"messages": messages}
            if template_vars:
                body["chat_template_kwargs"] = template_vars
            rendered = request_json(endpoint, "POST", "/apply-template", body, root=True,
                                    timeout=self.list_timeout)
            prompt = rendered.get("prompt") if isinstance(rendered, dict) else None
            if not isinstance(prompt, str):
                raise EngineError("no prompt", "bad_request")
            tokens = request_json(endpoint, "POST", "/tokenize",
                                  {"content": prompt, "add_special": True, "parse_special": True},
                                  root=True, timeout=self.list_timeout)
            counted = tokens.get("tokens") if isinstance(tokens, dict) else None
            if not isinstance(counted, list):
                raise EngineError("no tokens", "bad_request")
        except EngineError as exc:
            if exc.kind in ("model_gone", "bad_request", "engine"):
                self._exact_counts = False  # not llama-server: estimate from now on
            # Otherwise (slow, unreachable) estimate this time; the answer's own request
            # says what is wrong, if anything is.
            return None
        self._exact_counts = True
        return len(counted)

    # -- answering -----------------------------------------------------------------------

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            conn = self._conn
        if conn is not None:
            conn.close()

    def generate(self, options: GenerateOptions) -> Iterator[EngineEvent]:
        self._stop.clear()
        try:
            yield from self._generate(options)
        except Stopped:
            yield Done("stopped", {"server": self.name})
        except EngineError as exc:
            yield Failed(exc.kind, str(exc))
        finally:
            with self._lock:
                conn, self._conn = self._conn, None
            if conn is not None:
                conn.close()

    def _generate(self, options: GenerateOptions) -> Iterator[EngineEvent]:
        if self._model is None:
            raise EngineError("No model is chosen on this server yet. Choose a model first.")
        started = time.perf_counter()
        style = options.reasoning_style or self._style
        messages = strip_reasoning_for_history(style or "none", options.messages)
        estimated = False

        def count(candidate: list[dict[str, Any]]) -> int:
            nonlocal estimated
            counted = self.count_tokens(candidate, options.template_vars)
            estimated = counted.estimated
            return counted.tokens

        n_ctx = self._n_ctx
        if n_ctx:
            reserve = min(options.max_tokens or 1024, n_ctx // 2)
            try:
                fitted = fit_messages(messages, count, n_ctx - reserve,
                                      policy=options.context_policy,
                                      estimate_tokens=lambda m: estimate_tokens([m]))
            except ContextFullError as exc:
                yield Failed("context_full", str(exc), used=exc.used, limit=exc.limit)
                return
            messages, prompt_tokens, dropped = fitted.messages, fitted.tokens, fitted.dropped
        else:  # the server keeps its size to itself: send everything, it says if too long
            prompt_tokens, dropped = count(messages), 0
        yield Started(prompt_tokens, 0, dropped, n_ctx, style, estimated)
        if self._stop.is_set():
            yield Done("stopped", {"server": self.name})
            return

        body = self._request_body(options, messages)
        endpoint = self._endpoint()
        conn = Connection(endpoint, read_timeout=self.read_timeout)
        with self._lock:
            self._conn = conn
        if self._stop.is_set():
            raise Stopped()
        response = conn.open("POST", "/chat/completions", body)
        if response.status >= 400:
            raw = response.read()
            raise status_error(endpoint, response.status, raw, response.getheader("Retry-After"),
                               model=self._model)

        parser = make_parser(style or "think")  # <think> marks are split off when left in
        pending: list[ReasoningEvent] = []
        last_flush = 0.0
        first_token_at: float | None = None
        chunks = 0
        usage: dict[str, Any] = {}
        finish: str | None = None
        done = False
        tool_calls: dict[int, dict[str, str]] = {}
        try:
            for payload in sse_lines(response):
                if payload == b"[DONE]":
                    done = True
                    break
                try:
                    chunk = json.loads(payload)
                except ValueError:
                    continue
                if not isinstance(chunk, dict):
                    continue
                if chunk.get("error"):
                    error = chunk["error"]
                    said = error.get("message") if isinstance(error, dict) else error
                    raise EngineError(f"The server {self.name} failed while answering: {said}")
                if isinstance(chunk.get("usage"), dict):
                    usage = chunk["usage"]
                for choice in chunk.get("choices") or []:
                    delta = choice.get("delta") or {}
                    reasoning = delta.get("reasoning_content") or delta.get("reasoning")
                    content = delta.get("content")
                    if reasoning or content:
                        chunks += 1
                        if first_token_at is None:
                            first_token_at = time.perf_counter()
                    if reasoning:
                        pending.append(ReasoningEvent("reasoning", str(reasoning)))
                    if content:
                        pending.extend(parser.feed(str(content)))
                    for call in delta.get("tool_calls") or []:
                        slot = tool_calls.setdefault(int(call.get("index") or 0),
                                                     {"name": "", "arguments": ""})
                        function = call.get("function") or {}
                        slot["name"] += function.get("name") or ""
                        slot["arguments"] += function.get("arguments") or ""
                    if choice.get("finish_reason"):
                        finish = str(choice["finish_reason"])
                now = time.perf_counter()
                if pending and now - last_flush >= FLUSH_SECONDS:
                    yield _delta(pending)
                    pending, last_flush = [], now
        except OSError as exc:  # includes timeouts
            if self._stop.is_set():
                raise Stopped() from None
            pending.extend(parser.finish())
            if pending:
                yield _delta(pending)
            raise connection_error(endpoint, exc) from None
        except (ValueError, EngineError):
            pending.extend(parser.finish())
            if pending:
                yield _delta(pending)
            raise
        pending.extend(parser.finish())
        if pending:
            yield _delta(pending)
        if tool_calls:
            yield Delta(tool_calls=[{"recipient": f"functions.{c['name']}",
                                     "arguments": c["arguments"]}
                                    for _, c in sorted(tool_calls.items())])
        finished = time.perf_counter()
        if self._stop.is_set():
            reason = "stopped"
        elif done or finish:
            reason = FINISH_REASONS.get(finish or "stop", "eos")
        else:
            yield Failed(
                "cut_off",
                f"The connection to the server {self.name} ended in the middle of the answer. "
                "The part that arrived is kept; press Retry to ask again.")
            return
        generated = usage.get("completion_tokens")
        decode_time = finished - first_token_at if first_token_at else 0.0
        stats: dict[str, Any] = {
            "server": self.name,
            "prompt_tokens": int(usage.get("prompt_tokens") or prompt_tokens),
            "generated_tokens": int(generated if isinstance(generated, int) else chunks),
            "ttft_s": round((first_token_at or finished) - started, 4),
            "total_s": round(finished - started, 4),
            "dropped_messages": dropped,
            "n_ctx": n_ctx,
        }
        if not usage:
            stats["estimated_tokens"] = True
        if decode_time > 0 and stats["generated_tokens"] > 1:
            # The first token's arrival starts the clock, so it is not counted in the rate.
            stats["tokens_per_s"] = round((stats["generated_tokens"] - 1) / decode_time, 2)
        yield Done(reason, stats)

    def _request_body(self, options: GenerateOptions,
                      messages: list[dict[str, Any]]) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self._model,
            "messages": messages,
            "stream": True,
            "stream_options": {"include_usage": True},
            "temperature": options.temperature,
            "top_p": options.top_p,
        }
        if options.max_tokens:
            body["max_tokens"] = options.max_tokens
        if options.stop:
            body["stop"] = options.stop
        if options.seed is not None:
            body["seed"] = options.seed
        if options.template_vars:
            # llama-server and vLLM pass these to the chat template (thinking on/off...).
            body["chat_template_kwargs"] = dict(options.template_vars)
            if "reasoning_effort" in options.template_vars:
                body["reasoning_effort"] = options.template_vars["reasoning_effort"]
        return body

    # -- embeddings ----------------------------------------------------------------------

    def embed(self, model: ModelFile, texts: list[str]) -> list[list[float]]:
        data = request_json(self._endpoint(), "POST", "/embeddings",
                            {"model": model_id(model), "input": texts}, timeout=self.read_timeout)
        rows = data.get("data") if isinstance(data, dict) else None
        if not isinstance(rows, list) or len(rows) != len(texts):
            raise EngineError(f"The server {self.name} did not return one vector per text.")
        rows = sorted(rows, key=lambda r: int(r.get("index") or 0))
        return [_unit([float(x) for x in row["embedding"]]) for row in rows]

    def close(self) -> None:
        self.stop()


def _unit(vector: list[float]) -> list[float]:
    norm = math.sqrt(sum(x * x for x in vector))
    return [x / norm for x in vector] if norm > 0 else vector


def _delta(events: list[ReasoningEvent]) -> Delta:
    return Delta(answer="".join(e.text for e in events if e.kind == "answer"),
                 reasoning="".join(e.text for e in events if e.kind == "reasoning"))
