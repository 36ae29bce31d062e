"""The Engine interface: typed events on the wire, and a chat turn through the router."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from desktop.chat.session import ChatSession, ensure_conversation
from desktop.engine.api import (
    Delta,
    Done,
    EngineError,
    Failed,
    Loaded,
    Progress,
    Started,
    from_wire,
    to_wire,
)
from desktop.engine.engines import Engines, build_engines
from desktop.library.importing import import_model
from desktop.store import Store
from desktop.store.records import ChatSettings, ModelFile


@pytest.mark.parametrize(
    "event",
    [
        Progress(0.5),
        Loaded({"n_ctx": 2048}),
        Started(prompt_tokens=12, reused_tokens=4, dropped_messages=1, n_ctx=2048),
        Delta(answer="Par", reasoning=""),
        Delta(reasoning="thinking", tool_calls=[{"recipient": "f", "arguments": "{}"}]),
        Done("eos", {"generated_tokens": 3}),
        Failed("context_full", "Too long.", used=3000, limit=2048),
    ],
)
def test_every_event_survives_the_wire(event: Any) -> None:
    assert from_wire(to_wire(event)) == event


def test_deltas_carry_only_what_they_hold() -> None:
    assert to_wire(Delta(answer="Paris")) == {"event": "delta", "answer": "Paris"}


def test_unknown_frames_and_error_kinds_are_handled() -> None:
    assert from_wire({"event": "counted", "tokens": 3}) is None
    failed = from_wire({"event": "error", "kind": "no-such-kind", "message": "x"})
    assert isinstance(failed, Failed) and failed.kind == "internal"


def test_a_model_on_a_removed_server_says_so(store: Store) -> None:
    engines = build_engines(store)
    gone = ModelFile(name="Lab/gpt-oss-120b", path="", source="server:Lab")
    with pytest.raises(EngineError) as caught:
        engines.for_model(gone)
    assert caught.value.kind == "model_gone"
    assert "Lab" in str(caught.value)
    engines.close()


@pytest.fixture
def engines(store: Store, test_model_path: Path) -> Iterator[Engines]:
    import_model(store, str(test_model_path))
    engines = build_engines(store)
    yield engines
    engines.close()


def test_a_chat_turn_runs_through_the_engine_router(store: Store, engines: Engines) -> None:
    session = ChatSession(store, engines)
    conversation = ensure_conversation(store, None)
    store.history.update_conversation(
        conversation, settings=ChatSettings(temperature=0.0, max_tokens=24)
    )
    question = session.add_user_message(conversation, "What is the capital of France?")
    model = session.resolve_model(conversation)
    seen: list[dict[str, Any]] = []
    result = session.answer(conversation, question, model, seen.append)

    kinds = [e["event"] for e in seen]
    assert kinds[0] == "message" and "loaded" in kinds and "started" in kinds
    assert kinds[-1] == "done"
    assert all(from_wire(e) is not None for e in seen if e["event"] != "message")
    assert "Paris" in result.message.content
    assert result.message.status == "complete"
    assert result.message.stats["generated_tokens"] > 0
    assert engines.local.is_loaded(model, 8192)  # the chat default context length
