"""Answers that outlive a chat switch or the window, and models that fail: the window copes."""

from __future__ import annotations

import shutil
from pathlib import Path

from PySide6.QtCore import Qt

from desktop.library.importing import model_from_file
from desktop.store import Store
from desktop.store.records import ChatSettings
from desktop.ui.main_window import MainWindow
from tests.ui.conftest import (
    ANSWER_TIMEOUT_MS,
    QUESTION,
    RecordingClient,
    WindowFactory,
    click_where_drawn,
    process_gone,
    wait_for_answer,
    wait_for_streaming_text,
)
from tests.ui.test_chat_flow import STORY, last_answer_widget, type_and_send


def test_switching_chats_while_answering(qtbot, window: MainWindow, with_model: Store) -> None:
    other = with_model.history.create_conversation(title="Shopping list")
    with_model.history.add_message(other.id, "user", "Eggs and milk")
    window.refresh_sidebar()
    window.open_chat.pending_settings = ChatSettings(max_tokens=300)
    type_and_send(qtbot, window, STORY)
    streaming_id = window.conversation_id
    wait_for_streaming_text(qtbot, window)

    window.open_conversation(other.id)
    assert window.transcript.conversation_id == other.id
    assert [m.content for m in window.transcript.messages] == ["Eggs and milk"]
    assert window.composer.notice.isVisible()  # says which chat is still answering
    assert not window.composer.button.isEnabled()
    answering = [window.sidebar.list.item(i) for i in range(window.sidebar.list.count())]
    assert any(item.data(Qt.ItemDataRole.UserRole + 3) for item in answering)
    qtbot.wait(300)  # more text streams meanwhile, into its own chat only
    assert [m.content for m in window.transcript.messages] == ["Eggs and milk"]

    window.open_conversation(streaming_id)
    widget = last_answer_widget(window)
    qtbot.waitUntil(lambda: len(widget.body.text) > 0, timeout=5_000)
    assert window.composer.button.text() == "Stop"
    window.controller.stop()
    wait_for_answer(qtbot, window, timeout=15_000)

    assert [m.content for m in with_model.history.branch(other.id)] == ["Eggs and milk"]
    answer = with_model.history.branch(streaming_id)[-1]
    assert answer.content and answer.status in ("stopped", "complete")
    assert last_answer_widget(window).body.text == answer.content


def test_closing_while_answering_saves_the_partial_answer(
    qtbot, make_window: WindowFactory, with_model: Store
) -> None:
    window = make_window()
    window.open_chat.pending_settings = ChatSettings(max_tokens=600)
    type_and_send(qtbot, window, STORY)
    wait_for_streaming_text(qtbot, window)
    pid = window.bridge.engine_pid
    assert pid is not None

    window.close()

    assert window.bridge.thread.isFinished()
    assert process_gone(pid)
    answer = with_model.history.latest_conversation()
    saved = with_model.history.branch(answer.id)[-1]  # type: ignore[union-attr]
    assert saved.role == "assistant" and saved.status == "stopped" and saved.content


def test_a_model_that_crashes_the_engine_shows_an_error(
    qtbot, window: MainWindow, with_model: Store, crashing_model_path: Path
) -> None:
    crashing = with_model.models.add(model_from_file(crashing_model_path, "Damaged model"))
    window.refresh_models()
    window.picker.select(crashing.name)
    window._model_chosen(crashing.name)  # noqa: SLF001 - as choosing it in the picker does
    type_and_send(qtbot, window, QUESTION)
    wait_for_answer(qtbot, window)

    failed = last_answer_widget(window)
    assert failed.error_box.isVisible()
    text = failed.error_box.text.text()
    assert "stopped while loading" in text and "Traceback" not in text
    box = failed.error_box
    assert box.details_button.isVisible() and not box.detail.isVisible()
    click_where_drawn(qtbot, window, box.details_button)  # the box was just filled in
    assert box.detail.isVisible() and "GGML_ASSERT" in box.detail.text()  # one click away
    assert with_model.history.message(failed.message.id).status == "failed"

    good = with_model.models.default()
    window.picker.select(good.name)  # type: ignore[union-attr]
    window._model_chosen(good.name)  # type: ignore[union-attr]  # noqa: SLF001
    # Choosing a model can redraw the transcript: click the Retry that is on screen now.
    failed_id = failed.message.id
    qtbot.waitUntil(lambda: last_answer_widget(window).error_box.retry_button.isEnabled())
    click_where_drawn(qtbot, window, last_answer_widget(window).error_box.retry_button)
    qtbot.waitUntil(
        lambda: last_answer_widget(window).message.id != failed_id and not window.controller.busy,
        timeout=ANSWER_TIMEOUT_MS,
    )
    retried = last_answer_widget(window)
    assert "Paris" in retried.body.text and not retried.error_box.isVisible()
    assert retried.versions.label.text() == "2/2"  # the failed try stays as a version
    assert len(RecordingClient.pids) >= 2  # a fresh engine after the crash


def test_a_corrupt_model_file_shows_an_error(
    qtbot, window: MainWindow, with_model: Store, test_model_path: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.gguf"
    shutil.copyfile(test_model_path, broken)
    record = model_from_file(broken, "Broken model")
    with broken.open("r+b") as fh:  # keep the header, lose most of the weights
        fh.truncate(broken.stat().st_size // 3)
    with_model.models.add(record)
    window.refresh_models()
    window.picker.select("Broken model")
    window._model_chosen("Broken model")  # noqa: SLF001
    type_and_send(qtbot, window, QUESTION)
    wait_for_answer(qtbot, window)

    failed = last_answer_widget(window)
    assert failed.error_box.isVisible() and failed.error_box.text.text()
    assert "Traceback" not in failed.error_box.text.text()

    good = with_model.models.default()
    window.picker.select(good.name)  # type: ignore[union-attr]
    window._model_chosen(good.name)  # type: ignore[union-attr]  # noqa: SLF001
    type_and_send(qtbot, window, QUESTION)
    wait_for_answer(qtbot, window)
    assert "Paris" in last_answer_widget(window).body.text


def test_older_messages_that_no_longer_fit_are_marked(
    qtbot, window: MainWindow, with_model: Store
) -> None:
    conv = with_model.history.create_conversation(
        title="Long chat",
        system_prompt="You are a helpful assistant.",
        settings=ChatSettings(context_length=512, max_tokens=32),
    )
    parent = None
    filler = "The quick brown fox jumps over the lazy dog. " * 12
    for turn in range(6):
        question = with_model.history.add_message(
            conv.id, "user", f"Note {turn}: {filler}", parent_id=parent
        )
        parent = with_model.history.add_message(
            conv.id, "assistant", f"Noted {turn}.", parent_id=question.id
        ).id
    window.refresh_sidebar()
    window.open_conversation(conv.id)
    type_and_send(qtbot, window, QUESTION)
    wait_for_answer(qtbot, window)

    answer = with_model.history.branch(conv.id)[-1]
    assert answer.stats["dropped_messages"] > 0
    marked = [w for w in window.transcript.widgets.values() if w.marker.isVisible()]
    assert len(marked) == 1 and marked[0].message.role == "user"
    use = window.chat.status.use
    assert use is not None and use.n_ctx == 512
    assert "no longer fit" in window.chat.status.warning.text()
