"""`openweight chat`: one streamed turn, or an interactive session in the terminal."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from typing import Any

from desktop.chat.retrieval import DocumentSources
from desktop.chat.session import ChatError, ChatSession, ensure_conversation
from desktop.commands.common import UserError, add_common, marked, open_store, paths_for
from desktop.engine.engines import build_engines
from desktop.library.errors import NotAModelError
from desktop.store import Store
from desktop.store.records import ChatSettings


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("chat", help="chat with a model in the terminal",
                              description="Send MESSAGE and stream the answer; with no MESSAGE, "
                              "start an interactive session (/new for a new chat, /quit to leave).")
    add_common(p)
    p.add_argument("message", nargs="?", metavar="MESSAGE")
    p.add_argument("--model", metavar="NAME|PATH", help="installed model name or a .gguf path")
    p.add_argument("--conversation", type=int, metavar="ID", help="continue this conversation")
    p.add_argument("--system", metavar="TEXT", help="system prompt for this conversation")
    p.add_argument("--temperature", type=float, metavar="T")
    p.add_argument("--max-tokens", type=int, metavar="N", help="longest answer in tokens")
    p.add_argument("--context", type=int, metavar="N", help="context window in tokens")
    p.add_argument("--reasoning-effort", choices=["low", "medium", "high"],
                   help="how hard gpt-oss models think")
    p.add_argument("--no-thinking", action="store_true", help="turn thinking off (Qwen3)")
    p.add_argument("--json", action="store_true", help="print one JSON object per event")
    p.add_argument("--docs", action="append", metavar="NAME",
                   help="answer from this document collection, citing it (repeat for more)")
    p.add_argument("--threads", type=int, metavar="N",
                   help="CPU threads for the model (0: chosen automatically; default: the "
                   "app's setting)")
    p.add_argument("--verbose", action="store_true",
                   help="when something fails, also print the technical details")
    p.set_defaults(handler=run)


class _Interrupts:
    """First Ctrl+C stops the answer (keeping it); a second one leaves."""

    def __init__(self, session: ChatSession) -> None:
        self.session = session
        self.count = 0
        self.active = False

    def __enter__(self) -> _Interrupts:
        self.previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        signal.signal(signal.SIGINT, self.previous)

    def _handle(self, signum: int, frame: object) -> None:
        self.count += 1
        if self.active and self.count == 1:
            # Runs in the main thread between bytecodes; the stop request goes to the host,
            # and the answer stream ends on its own with what was generated.
            threading.Thread(target=self.session.stop, daemon=True).start()
            if not self.session_json:
                sys.stderr.write("\n[stopping — press Ctrl+C again to leave]\n")
            return
        raise KeyboardInterrupt

    session_json = False


def _apply_overrides(store: Store, conversation_id: int, args: argparse.Namespace) -> None:
    conv = store.history.conversation(conversation_id)
    s = conv.settings
    changed = ChatSettings(**s.__dict__)
    if args.temperature is not None:
        changed.temperature = args.temperature
    if args.max_tokens is not None:
        changed.max_tokens = args.max_tokens
    if args.context is not None:
        changed.context_length = args.context
    if args.reasoning_effort:
        changed.reasoning_effort = args.reasoning_effort
    if args.no_thinking:
        changed.thinking = False
    if changed != s:
        store.history.update_conversation(conversation_id, settings=changed)


def _resolve_model_arg(store: Store, name: str | None) -> str | None:
    """A path to a .gguf that is not installed yet gets imported on the fly."""
    if not name:
        return None
    if _on_a_server(store, name):
        return name  # SERVER/MODEL: a server's model, even when its id ends in .gguf
    if store.models.find(name) is None and name.lower().endswith(".gguf"):
        from desktop.library.importing import import_model

        return import_model(store, name).name
    return name


def _on_a_server(store: Store, name: str) -> bool:
    from desktop.engine.remote.servers import SERVERS_KEY

    server = name.split("/", 1)[0] if "/" in name else None
    return bool(server) and any(
        isinstance(s, dict) and s.get("name") == server
        for s in store.settings.get(SERVERS_KEY) or [])


def run(args: argparse.Namespace) -> int:
    store = open_store(args)
    if args.threads is not None and args.threads < 0:
        raise UserError("--threads takes 0 (automatic) or a number of threads.")
    engines = build_engines(store, threads=args.threads)
    documents = DocumentSources(paths_for(args).documents_database, engines.local,
                                store.models.all)
    session = ChatSession(store, engines, documents)
    started: int | None = None  # the chat this command opened, if it was not given one
    try:
        try:
            model_name = _resolve_model_arg(store, args.model)
        except NotAModelError as exc:
            detail = getattr(exc.__cause__, "detail", "")
            if args.verbose and detail:
                raise UserError(f"{exc}\nDetails: {detail}") from None
            raise
        conversation_id = ensure_conversation(
            store, args.conversation, model=model_name, system_prompt=args.system
        )
        if args.conversation is None:
            started = conversation_id
        _apply_overrides(store, conversation_id, args)
        if args.docs:
            store.history.update_conversation(conversation_id,
                                              collections=_collections(args, args.docs))
        model = session.resolve_model(conversation_id, model_name)
        with _Interrupts(session) as interrupts:
            interrupts.session_json = args.json
            if args.message is not None:
                return _one_turn(session, conversation_id, model, args.message, args.json, interrupts,
                                 args.verbose)
            return _interactive(session, store, conversation_id, model, args, interrupts)
    except ChatError as exc:
        raise UserError(str(exc)) from None
    finally:
        # A chat that never got a message (no model yet, /quit at once) would only clutter the
        # history with an empty "New chat".
        if started is not None and not store.history.messages(started):
            store.history.delete_conversation(started)
        documents.close()
        engines.close()
        store.close()


def _collections(args: argparse.Namespace, names: list[str]) -> list[str]:
    """The collections' own names; an unknown one is an error before anything is asked."""
    from desktop.documents import DocumentIndex, DocumentsError

    index = DocumentIndex(paths_for(args).documents_database)
    try:
        return [index.get(name).name for name in names]
    except DocumentsError as exc:
        raise UserError(str(exc)) from None
    finally:
        index.close()


def _one_turn(session: ChatSession, conversation_id: int, model: Any, text: str,
              as_json: bool, interrupts: _Interrupts, verbose: bool = False) -> int:
    if not text.strip():
        raise UserError("The message is empty.")
    user = session.add_user_message(conversation_id, text)
    printer = _JsonPrinter() if as_json else _TextPrinter()
    interrupts.active, interrupts.count = True, 0
    try:
        result = session.answer(conversation_id, user, model, printer)
    finally:
        interrupts.active = False
    printer.finish(result.message, conversation_id)
    if result.error and result.message.status == "failed":
        if not as_json:
            sys.stderr.write(f"openweight: {result.error}\n")
            if verbose and result.detail:
                sys.stderr.write(f"Details: {result.detail}\n")
        return 1
    return 0


def _interactive(session: ChatSession, store: Store, conversation_id: int, model: Any,
                 args: argparse.Namespace, interrupts: _Interrupts) -> int:
    try:
        import readline  # noqa: F401 - line editing and history for input()
    except ImportError:
        pass
    print(f"Chatting with {model.name}. /new starts a new chat, /quit leaves.", file=sys.stderr)
    while True:
        try:
            text = input("› ")
        except (EOFError, KeyboardInterrupt):
            print(file=sys.stderr)
            return 0
        command = text.strip()
        if not command:
            continue
        if command in ("/quit", "/exit", "/q"):
            return 0
        if command == "/new":
            conversation_id = ensure_conversation(store, None, model=model.name, system_prompt=args.system)
            _apply_overrides(store, conversation_id, args)  # the new chat keeps this session's options
            print("Started a new chat.", file=sys.stderr)
            continue
        try:
            _one_turn(session, conversation_id, model, text, args.json, interrupts, args.verbose)
        except KeyboardInterrupt:
            print(file=sys.stderr)
            return 0


class _TextPrinter:
    def __init__(self) -> None:
        self.in_reasoning = False
        self.wrote = False
        self.noticed = False

    def __call__(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        if kind == "sources" and event.get("warning"):
            sys.stderr.write(f"[{event['warning']}]\n")
        elif kind == "sources" and not event.get("sources"):
            sys.stderr.write("[Nothing in the documents matches this question.]\n")
        if kind == "delta":
            if event.get("reasoning"):
                if not self.in_reasoning:
                    sys.stderr.write("\x1b[2m[thinking] ")
                    self.in_reasoning = True
                sys.stderr.write(event["reasoning"])
                sys.stderr.flush()
            if event.get("answer"):
                if self.in_reasoning:
                    sys.stderr.write("\x1b[0m\n")
                    self.in_reasoning = False
                sys.stdout.write(event["answer"])
                sys.stdout.flush()
                self.wrote = True
            for call in event.get("tool_calls", []):
                sys.stderr.write(f"\n[tool call {call['recipient']}: {call['arguments']}]\n")
        elif kind == "loaded":
            for warning in (event.get("info") or {}).get("warnings") or []:
                sys.stderr.write(f"[{warning}]\n")  # e.g. the GPU fallback
        elif kind == "started" and event.get("notice") and not self.noticed:
            self.noticed = True
            sys.stderr.write(f"[{event['notice']}]\n")
        if kind == "started" and event.get("dropped_messages"):
            sys.stderr.write(
                f"[{event['dropped_messages']} older messages no longer fit in the context "
                "window and were left out]\n"
            )

    def finish(self, message: Any, conversation_id: int) -> None:
        if self.in_reasoning:
            sys.stderr.write("\x1b[0m")
        if self.wrote:
            sys.stdout.write("\n")
            sys.stdout.flush()
        if message.status == "stopped":
            sys.stderr.write("[stopped — the partial answer was kept]\n")
        if message.sources:
            from desktop.store.export import source_label

            sys.stdout.write("\nSources:\n")
            for source in message.sources:
                snippet = marked(source.get("snippet", ""),
                                 [(a, b) for a, b in source.get("highlights", [])])
                sys.stdout.write(f"[{source['number']}] {source_label(source)}  "
                                 f"(score {source.get('score', 0):.2f})\n    {snippet}\n")
            sys.stdout.flush()


class _JsonPrinter:
    def __call__(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        out: dict[str, Any] | None = None
        if kind == "delta":
            out = {"type": "delta"}
            for key in ("answer", "reasoning", "tool_calls"):
                if key in event:
                    out[key] = event[key]
        elif kind == "started":
            out = {"type": "started", **{k: v for k, v in event.items() if k not in ("event", "id")}}
        elif kind == "error":
            out = {"type": "error", "kind": event.get("kind"), "message": event.get("message"),
                   "detail": event.get("detail", "")}
        elif kind == "sources":
            out = {"type": "sources", **{k: v for k, v in event.items() if k != "event"}}
        elif kind == "progress":
            return
        elif kind == "loaded":
            info = event.get("info") or {}
            out = {"type": "loaded", **{k: info.get(k) for k in (
                "device", "n_gpu_layers", "gpu_offload", "warnings", "n_ctx")}}
        if out is not None:
            sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
            sys.stdout.flush()

    def finish(self, message: Any, conversation_id: int) -> None:
        final = {
            "type": "final",
            "conversation_id": conversation_id,
            "message_id": message.id,
            "status": message.status,
            "content": message.content,
            "reasoning": message.reasoning,
            "stats": message.stats,
            "error": message.error,
            "sources": message.sources,
        }
        sys.stdout.write(json.dumps(final, ensure_ascii=False) + "\n")
        sys.stdout.flush()
