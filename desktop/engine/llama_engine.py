"""The model itself: load a GGUF with llama.cpp, render chats, stream answers.

This module runs inside the engine host process; it is the only importer of llama_cpp.
"""

from __future__ import annotations

import ctypes
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from desktop.engine.api import EngineError
from desktop.engine.backends import describe as describe_backends
from desktop.engine.backends import devices as backend_devices
from desktop.engine.context import fit_messages
from desktop.engine.fallback_templates import fallback_template
from desktop.engine.llama_log import LlamaLogRouter, explain_load_failure
from desktop.engine.options import GenerateOptions, LoadOptions
from desktop.engine.reasoning import (
    ReasoningEvent,
    make_parser,
    strip_reasoning_for_history,
    template_opens_thinking,
)
from desktop.engine.state_cache import StateCache, common_prefix
from desktop.engine.system import physical_cores
from desktop.engine.templates import (
    ChatTemplateError,
    ChatTemplateRefused,
    ChatTemplateUnsafe,
    render_chat_prompt,
)
from desktop.engine.textstream import StopStringFilter, Utf8Stream
from desktop.engine.threads import automatic_threads
from desktop.modelfile.gguf import GGUFError, GGUFInfo, read_gguf
from desktop.modelfile.memory import estimate_for_gguf, total_ram
from desktop.modelfile.problems import explain
from desktop.modelfile.style import detect_style

log = logging.getLogger("openweight.engine")

DEFAULT_CONTEXT = 8192
EMBEDDING_CONTEXT = 2048  # tokens an embedding model may see at once (passages are shorter)
FLUSH_SECONDS = 1 / 30  # pieces reach the app about 30 times a second, not once per token


def context_for_memory(info: GGUFInfo, requested: int | None) -> int:
    """The context length to use: asked for (or 8,192), no more than trained, fitting in RAM."""
    trained = info.context_length or DEFAULT_CONTEXT
    n_ctx = min(requested or DEFAULT_CONTEXT, trained)
    ram = total_ram()
    if ram:
        per_token = estimate_for_gguf(info, 1024).kv_cache_bytes / 1024
        budget = max(ram * 0.6 - info.size_bytes, 256 * 1024 * 1024)
        if per_token > 0:
            n_ctx = min(n_ctx, int(budget // per_token))
    return max(512, n_ctx // 256 * 256)


class LlamaEngine:
    """One loaded model at a time, used from one thread (the host's main thread)."""

    def __init__(self, log_router: LlamaLogRouter) -> None:
        self.log_router = log_router
        self.llm: Any = None
        self.info: GGUFInfo | None = None
        self.template = ""
        self.reasoning_style = "none"
        self.bos_text = ""
        self.eos_text = ""
        self._add_bos = False
        self._fallback = ""
        self._model_name = ""
        self.template_notice = ""  # set when the file's chat template was replaced
        self._abort_callback: Any = None
        self._no_abort_check: Any = None
        self._stop_event = threading.Event()
        self.cache = StateCache(0)
        self._cached_key: str | None = None
        self.load_summary: dict[str, Any] = {}

    # -- loading -------------------------------------------------------------------------

    def load(self, options: LoadOptions, progress: Callable[[float], bool]) -> dict[str, Any]:
        import llama_cpp
        import llama_cpp.llama_cpp as low

        self.unload()
        try:
            info = read_gguf(options.path)
        except GGUFError as exc:
            raise EngineError(str(exc), "load", exc.detail) from None
        gpu = bool(low.llama_supports_gpu_offload())
        n_gpu_layers = options.n_gpu_layers if options.n_gpu_layers is not None else (-1 if gpu else 0)
        n_ctx = context_for_memory(info, options.n_ctx)
        threads = options.n_threads or automatic_threads()
        n_batch = 512
        if options.embedding:
            # Encoder models see a whole passage at once: one batch holds the longest one.
            n_ctx = n_batch = min(info.context_length or 512, options.n_ctx or EMBEDDING_CONTEXT)
        kwargs: dict[str, Any] = dict(
            model_path=options.path, n_ctx=n_ctx, n_threads=threads, n_threads_batch=threads,
            n_batch=n_batch, n_ubatch=n_batch, n_gpu_layers=n_gpu_layers, embedding=options.embedding,
            flash_attn=options.flash_attn if options.flash_attn is not None else True,
            # Sliding-window models would otherwise forget the start of the cache and force
            # a full reprocess on every turn.
            # verbose: otherwise llama-cpp-python points fd 2 at /dev/null while loading, and
            # a failed GGML_ASSERT (the reason the host died) would never reach the app.
            swa_full=True, verbose=True,
        )
        if options.main_gpu is not None:  # the user chose one GPU: that one only
            kwargs.update(split_mode=low.LLAMA_SPLIT_MODE_NONE, main_gpu=options.main_gpu)
        warnings = list(info.warnings)
        try:
            llm = self._construct(llama_cpp, low, kwargs, progress)
        except EngineError:
            if n_gpu_layers == 0:
                raise
            warnings.append(self._gpu_failure(options.main_gpu))
            kwargs["n_gpu_layers"] = 0
            kwargs.pop("split_mode", None)
            kwargs.pop("main_gpu", None)
            llm = self._construct(llama_cpp, low, kwargs, progress)
        self.llm, self.info = llm, info
        vocab_hint = " ".join(llm._model.token_get_text(t) for t in (llm.token_bos(), llm.token_eos()) if t >= 0)
        vocab_hint += " " + " ".join(
            s for s in ("<|im_start|>", "<|start_header_id|>", "[INST]")
            if len(llm.tokenize(s.encode(), add_bos=False, special=True)) == 1
        )
        self._fallback = fallback_template(info.architecture, vocab_hint)
        self.template = info.chat_template or self._fallback
        self.template_notice = ""
        self._model_name = Path(options.path).name
        self.reasoning_style = detect_style(info.chat_template, info.architecture)
        self.bos_text = llm._model.token_get_text(llm.token_bos()) if llm.token_bos() >= 0 else ""
        self.eos_text = llm._model.token_get_text(llm.token_eos()) if llm.token_eos() >= 0 else ""
        self._add_bos = bool(info.metadata.get("tokenizer.ggml.add_bos_token", False))
        self.cache = StateCache(options.state_cache_bytes)
        self._cached_key = None
        self._make_abort_callbacks()
        if info.chat_template and not options.embedding:
            notice = self._probe_template()
            if notice:
                warnings.append(notice)
        self.load_summary = {
            "path": options.path,
            "architecture": info.architecture,
            "name": info.name,
            "n_ctx": llm.n_ctx(),
            "n_ctx_train": info.context_length,
            "n_threads": threads,
            "n_gpu_layers": kwargs["n_gpu_layers"],
            "main_gpu": kwargs.get("main_gpu"),
            "gpu_offload": gpu and kwargs["n_gpu_layers"] != 0,
            "flash_attn": kwargs["flash_attn"],
            "reasoning_style": self.reasoning_style,
            "has_chat_template": info.chat_template is not None,
            "warnings": warnings,
            "devices": self._devices_used(),
            "device": self._answering_device(kwargs["n_gpu_layers"]),
            "embedding": options.embedding,
            "n_embd": llm.n_embd(),
        }
        return self.load_summary

    def _gpu_failure(self, main_gpu: int | None) -> str:
        """Why the model runs on the CPU after all, in words."""
        lines = self.log_router.lines_since(getattr(self, "_load_mark", 0))
        if main_gpu is not None and any("invalid value for main_gpu" in ln for ln in lines):
            return (f"GPU {main_gpu + 1} was not found, so the model runs on the CPU instead. "
                    "Choose another device in Settings.")
        return "The model did not fit on the GPU, so it runs on the CPU instead."

    def _answering_device(self, n_gpu_layers: int) -> str:
        """Where the model runs, for the load summary: "Vulkan0 (NVIDIA ...)" or "CPU (...)"."""
        found = backend_devices()
        gpus = [d for d in found if d.kind != "CPU"]
        cpu = next((d for d in found if d.kind == "CPU"), None)
        cpu_name = f"CPU ({cpu.description})" if cpu and cpu.description else "CPU"
        if n_gpu_layers == 0 or not gpus:
            return cpu_name
        lines = self.log_router.lines_since(getattr(self, "_load_mark", 0), logging.DEBUG)
        offloaded = next((ln.split("offloaded", 1)[1].strip() for ln in lines if "offloaded" in ln
                          and "layers to GPU" in ln), "")
        used = [d for d in gpus if any(f"using device {d.name}" in ln for ln in lines)] or gpus[:1]
        where = ", ".join(f"{d.name} ({d.description})" for d in used)
        if not offloaded:  # llama.cpp did not log the count: say what was asked for
            offloaded = "all layers" if n_gpu_layers < 0 else f"{n_gpu_layers} layers"
        return f"{where}: {offloaded}"

    def _devices_used(self) -> list[str]:
        """What llama.cpp said about where the layers went (GPU name, offload count)."""
        lines = self.log_router.lines_since(getattr(self, "_load_mark", 0), logging.DEBUG)
        keys = ("using device", "offloaded", "ggml_cuda_init: found", "ggml_vulkan: Found",
                "ggml_metal_init: found device", "Device 0:")
        return [ln.strip() for ln in lines if any(k in ln for k in keys)][:8]

    def _construct(self, llama_cpp: Any, low: Any, kwargs: dict[str, Any],
                   progress: Callable[[float], bool]) -> Any:
        @low.llama_progress_callback  # type: ignore[untyped-decorator]
        def on_progress(value: float, user_data: ctypes.c_void_p) -> bool:
            return bool(progress(float(value)))

        original = low.llama_model_default_params

        def params_with_progress() -> Any:
            params = original()
            params.progress_callback = on_progress
            return params

        mark = self.log_router.mark()
        self._load_mark = mark
        # Llama() takes no progress callback; it builds its params from this function, so
        # hand it one that carries ours. The host loads one model at a time on one thread.
        low.llama_model_default_params = params_with_progress
        # Llama() also compiles the file's chat templates with its own, unbounded Jinja
        # set-up, and a template it cannot compile stops the load. The app renders templates
        # itself (templates.py, bounded, with a fallback), so it never needs those.
        import llama_cpp.llama_chat_format as chat_formats

        formatter = chat_formats.Jinja2ChatFormatter
        chat_formats.Jinja2ChatFormatter = _UnusedChatFormatter  # type: ignore[misc, assignment]
        try:
            return llama_cpp.Llama(**kwargs)
        except (ValueError, RuntimeError, OSError) as exc:
            lines = self.log_router.lines_since(mark)
            message, detail = explain_load_failure(lines, kwargs["model_path"])
            log.warning("load failed: %s; llama.cpp said: %s", exc, detail)
            raise EngineError(message, "load", detail or str(exc)) from None
        finally:
            low.llama_model_default_params = original
            chat_formats.Jinja2ChatFormatter = formatter  # type: ignore[misc]

    def _make_abort_callbacks(self) -> None:
        """The stop check for prompt processing, and a NULL one for generation (ggml calls
        the check after every graph node, so while generating the token loop checks instead)."""
        import llama_cpp.llama_cpp as low

        @low.ggml_abort_callback  # type: ignore[untyped-decorator]
        def should_abort(user_data: ctypes.c_void_p) -> bool:
            return self._stop_event.is_set()

        self._abort_callback = should_abort  # ctypes callbacks must outlive their registration
        self._no_abort_check = low.ggml_abort_callback()

    def _check_abort(self, enabled: bool) -> None:
        import llama_cpp.llama_cpp as low

        callback = self._abort_callback if enabled else self._no_abort_check
        low.llama_set_abort_callback(self.llm._ctx.ctx, callback, None)

    def unload(self) -> None:
        if self.llm is not None:
            self.cache.clear()
            self.llm.close()
            self.llm = None
            self.info = None

    def _require(self) -> Any:
        if self.llm is None:
            raise EngineError("No model is loaded. Choose a model first.")
        return self.llm

    # -- prompts -------------------------------------------------------------------------

    def _probe_template(self) -> str:
        """Try the file's chat template on a small chat; if it is broken or runs away, use the
        architecture's standard one instead and return a notice saying so."""
        probe = [{"role": "system", "content": "You are helpful."},
                 {"role": "user", "content": "Hello"},
                 {"role": "assistant", "content": "Hi! How can I help?"},
                 {"role": "user", "content": "Tell me a joke."}]
        try:
            self.render(probe, {})
        except EngineError as exc:
            log.info("chat template probe: %s", exc.detail)
        return self.template_notice

    def render(self, messages: list[dict[str, Any]], template_vars: dict[str, Any]) -> str:
        history = strip_reasoning_for_history(self.reasoning_style, messages)
        try:
            prompt = render_chat_prompt(
                self.template, history, bos_token=self.bos_text, eos_token=self.eos_text,
                add_generation_prompt=True, variables=template_vars,
            )
            if not prompt.strip():
                raise ChatTemplateError("the template produced an empty prompt")
            return prompt
        except ChatTemplateRefused as exc:
            # The template's own check (e.g. roles must alternate): the user can act on it.
            raise EngineError(explain("template_refused", self._model_name, reason=str(exc)),
                              "engine", str(exc)) from None
        except Exception as exc:  # noqa: BLE001 - a template is code from the model file
            if self.template == self._fallback:
                raise EngineError(explain("not_loadable", self._model_name), "engine",
                                  f"the standard chat template failed: {exc}") from None
            problem = "template_unsafe" if isinstance(exc, ChatTemplateUnsafe) else "template_broken"
            log.warning("chat template of %s replaced: %s", self._model_name, exc)
            self.template = self._fallback
            self.template_notice = explain(problem, self._model_name)
            return self.render(messages, template_vars)

    def tokenize(self, text: str) -> list[int]:
        llm = self._require()
        add_bos = self._add_bos and not (self.bos_text and text.startswith(self.bos_text))
        return list(llm.tokenize(text.encode("utf-8"), add_bos=add_bos, special=True))

    def count_tokens(self, messages: list[dict[str, Any]], template_vars: dict[str, Any]) -> int:
        return len(self.tokenize(self.render(messages, template_vars)))

    def embed(self, texts: list[str]) -> list[list[float]]:
        """Unit-length vectors, one per text; texts longer than the model's window are cut."""
        llm = self._require()
        if not llm.context_params.embeddings:
            raise EngineError("This model was not loaded for embeddings.")
        try:
            return [list(map(float, v)) for v in llm.embed(texts, normalize=True, truncate=True)]
        except (RuntimeError, ValueError) as exc:
            raise EngineError(f"The embedding model failed: {exc}") from None

    def token_counts(self, texts: list[str]) -> list[int]:
        """Tokens of each text alone: no BOS, special tokens read as plain text."""
        llm = self._require()
        return [len(llm.tokenize(t.encode("utf-8", "replace"), add_bos=False, special=False))
                for t in texts]

    # -- generation ----------------------------------------------------------------------

    def request_stop(self) -> None:
        self._stop_event.set()

    def clear_stop(self) -> None:
        self._stop_event.clear()

    def generate(self, options: GenerateOptions, emit: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        """Stream one answer through emit(); returns the final record (stats, stop reason)."""
        import llama_cpp.llama_cpp as low

        llm = self._require()
        started = time.perf_counter()
        n_ctx = llm.n_ctx()
        reserve = min(options.max_tokens or 1024, n_ctx // 2)
        last_counted: dict[str, Any] = {}

        def count(messages: list[dict[str, Any]]) -> int:
            # The last prompt counted is the one fitted; keep it rather than render it again.
            prompt = self.render(messages, options.template_vars)
            last_counted.update(messages=messages, prompt=prompt, tokens=self.tokenize(prompt))
            return len(last_counted["tokens"])

        fitted = fit_messages(
            options.messages,
            count,
            n_ctx - reserve,
            policy=options.context_policy,
            estimate_tokens=lambda m: len(llm.tokenize(str(m.get("content", "")).encode(), add_bos=False)),
        )
        if last_counted.get("messages") is not fitted.messages:
            count(fitted.messages)
        prompt, tokens = last_counted["prompt"], last_counted["tokens"]
        self._restore_state(options.cache_key, tokens)
        self._check_abort(True)  # long prompt processing stays stoppable
        reused = common_prefix(llm._input_ids.tolist(), tokens)
        emit({"event": "started", "prompt_tokens": len(tokens), "reused_tokens": reused,
              "dropped_messages": fitted.dropped, "n_ctx": n_ctx,
              "reasoning_style": options.reasoning_style or self.reasoning_style,
              "notice": self.template_notice})

        style = options.reasoning_style or self.reasoning_style
        parser = make_parser(style, starts_in_reasoning=template_opens_thinking(prompt))
        utf8 = Utf8Stream()
        stops = StopStringFilter(options.stop)
        vocab = llm._model.vocab
        buffer = ctypes.create_string_buffer(256)
        pending: list[ReasoningEvent] = []
        last_flush = time.perf_counter()
        first_token_at: float | None = None
        generated = 0
        limit = min(options.max_tokens or n_ctx, n_ctx - len(tokens))
        reason = "length"
        if options.seed is not None:
            llm.set_seed(options.seed)

        def flush() -> None:
            nonlocal pending, last_flush
            if pending:
                emit(_delta(pending))
                pending = []
            last_flush = time.perf_counter()

        try:
            for token in llm.generate(
                tokens, top_k=options.top_k, top_p=options.top_p, min_p=options.min_p,
                temp=options.temperature, repeat_penalty=options.repeat_penalty,
            ):
                if first_token_at is None:
                    first_token_at = time.perf_counter()
                    # ggml's per-node check costs about 2.5% of generation speed; from here
                    # the loop checks once a token.
                    self._check_abort(False)
                if self._stop_event.is_set():
                    reason = "stopped"
                    break
                if low.llama_vocab_is_eog(vocab, token):
                    reason = "eos"
                    break
                generated += 1
                size = low.llama_token_to_piece(vocab, token, buffer, 256, 0, True)
                text = stops.feed(utf8.feed(buffer.raw[: max(size, 0)]))
                if text:
                    pending.extend(parser.feed(text))
                if stops.stopped:
                    reason = "stop_string"
                    break
                if generated >= limit:
                    reason = "length" if generated < n_ctx - len(tokens) else "context_full"
                    break
                if time.perf_counter() - last_flush >= FLUSH_SECONDS:
                    flush()
        except RuntimeError as exc:
            if self._stop_event.is_set():
                reason = "stopped"  # the abort callback cut prompt processing short
            else:
                raise EngineError(f"The model stopped with an error: {exc}") from None
        tail = stops.feed(utf8.finish()) + stops.finish()
        if tail:
            pending.extend(parser.feed(tail))
        pending.extend(parser.finish())
        flush()
        self._cached_key = options.cache_key
        finished = time.perf_counter()
        decode_time = finished - first_token_at if first_token_at else 0.0
        return {
            "event": "done",
            "stop_reason": reason,
            "stats": {
                "prompt_tokens": len(tokens),
                "reused_tokens": reused,
                "processed_tokens": len(tokens) - reused,
                "generated_tokens": generated,
                "ttft_s": round((first_token_at or finished) - started, 4),
                "tokens_per_s": round(generated / decode_time, 2) if decode_time > 0 else 0.0,
                "total_s": round(finished - started, 4),
                "dropped_messages": fitted.dropped,
                "n_ctx": n_ctx,
            },
        }

    def _restore_state(self, key: str | None, tokens: list[int]) -> None:
        """Keep the outgoing chat's state and bring back this chat's, when that saves work."""
        llm = self.llm
        current = llm._input_ids.tolist()
        if self._cached_key is not None and self._cached_key != key and current:
            state = llm.save_state()
            self.cache.put(self._cached_key, state, current, int(state.llama_state_size))
        if key is None or key == self._cached_key:
            return
        saved = self.cache.get(key)
        if saved is not None and common_prefix(saved[1], tokens) > common_prefix(current, tokens):
            llm.load_state(saved[0])
            log.debug("restored saved state for %s (%d tokens)", key, len(saved[1]))

    def system_info(self) -> dict[str, Any]:
        import llama_cpp
        import llama_cpp.llama_cpp as low

        return {
            "llama_cpp_python": llama_cpp.__version__,
            "system_info": low.llama_print_system_info().decode(errors="replace").strip(),
            "gpu_offload": bool(low.llama_supports_gpu_offload()),
            "devices": self.load_summary.get("devices", []) if self.llm else [],
            "physical_cores": physical_cores(),
            "backends": describe_backends(),
        }


class _UnusedChatFormatter:
    """Stands in for llama-cpp-python's template formatter, which the app never calls."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def to_chat_handler(self) -> Callable[..., Any]:
        def unused(*args: Any, **kwargs: Any) -> Any:
            raise EngineError("Chat formatting happens in the app, not in llama-cpp-python.")

        return unused


def _delta(events: list[ReasoningEvent]) -> dict[str, Any]:
    answer = "".join(e.text for e in events if e.kind == "answer")
    reasoning = "".join(e.text for e in events if e.kind == "reasoning")
    calls = [{"recipient": e.recipient, "arguments": e.text} for e in events if e.kind == "tool_call"]
    delta: dict[str, Any] = {"event": "delta"}
    if answer:
        delta["answer"] = answer
    if reasoning:
        delta["reasoning"] = reasoning
    if calls:
        delta["tool_calls"] = calls
    return delta
