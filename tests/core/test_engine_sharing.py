"""Two views of one engine host (the window and `openweight serve`): requests are served in
turn, each view keeps its own model settings, and Stop stops only the view that asked."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop.engine.api import Delta, Done, EngineEvent, Started
from desktop.engine.local import LocalEngine
from desktop.engine.options import GenerateOptions
from desktop.store.records import ModelFile

STORY = [{"role": "system", "content": "You are a helpful assistant."},
         {"role": "user", "content": "Write a very long story about a dragon and a knight."}]


@pytest.fixture(scope="module")
def owner() -> Iterator[LocalEngine]:
    engine = LocalEngine()
    yield engine
    engine.close()


def _wait_for(condition: object, what: str) -> None:
    deadline = time.monotonic() + 60
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.005)


def test_stop_stops_only_the_answer_of_the_view_that_asked(owner: LocalEngine,
                                                          test_model_path: Path) -> None:
    model = ModelFile(name="smol", path=str(test_model_path))
    view = owner.share()
    owner.load(model, 1024)
    view.load(model, 1024)
    running = owner.generate(GenerateOptions(messages=STORY, temperature=0, max_tokens=200))
    assert isinstance(next(running), Started)  # the owner's answer is now the host's

    queued: list[EngineEvent] = []
    thread = threading.Thread(target=lambda: queued.extend(view.generate(
        GenerateOptions(messages=STORY, temperature=0, max_tokens=30))))
    thread.start()
    _wait_for(lambda: view._answering is not None, "the view's request")  # noqa: SLF001
    # The window's Stop while a served request waits behind its answer: the most recent
    # request on the host is the view's, and it must go on.
    owner.stop()
    owner_events = list(running)
    thread.join(600)  # generous: a loaded 2-core machine can be very slow
    assert not thread.is_alive()

    owner_done = owner_events[-1]
    assert isinstance(owner_done, Done) and owner_done.stop_reason == "stopped"
    assert owner_done.stats["generated_tokens"] < 200
    view_done = queued[-1]
    assert isinstance(view_done, Done) and view_done.stop_reason == "length"
    assert view_done.stats["generated_tokens"] == 30
    view.close()
    assert owner.client.running  # closing a view leaves the owner's host alone


def test_each_view_answers_with_the_model_it_loaded(owner: LocalEngine,
                                                    test_model_path: Path) -> None:
    model = ModelFile(name="smol", path=str(test_model_path))
    view = owner.share()
    view.load(model, 1024)
    owner.load(model, 2048)  # the owner (the window) switched meanwhile
    events = list(view.generate(GenerateOptions(messages=STORY, temperature=0, max_tokens=2)))
    done = events[-1]
    assert isinstance(done, Done) and done.stats["n_ctx"] == 1024
    assert any(isinstance(e, Delta) for e in events)
    events = list(owner.generate(GenerateOptions(messages=STORY, temperature=0, max_tokens=2)))
    assert isinstance(events[-1], Done) and events[-1].stats["n_ctx"] == 2048
