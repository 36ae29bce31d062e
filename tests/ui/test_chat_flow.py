"""The window with the real test model: send, stream, stop, regenerate, edit, branches."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from desktop.store import Store
from desktop.store.records import ChatSettings
from desktop.ui.main_window import MainWindow
from tests.ui.conftest import QUESTION, click_where_drawn, wait_for_answer, wait_for_streaming_text

STORY = "Write a very long story about a dragon and a knight."
ROOT = Path(__file__).resolve().parents[2]


def type_and_send(qtbot, window: MainWindow, text: str) -> None:  # noqa: ANN001
    qtbot.keyClicks(window.composer.field, text)
    qtbot.keyClick(window.composer.field, Qt.Key.Key_Return)


def last_answer_widget(window: MainWindow):  # noqa: ANN201
    answers = [m for m in window.transcript.messages if m.role == "assistant"]
    return window.transcript.widget_for(answers[-1].id)


def test_send_streams_the_answer_and_saves_it(qtbot, window: MainWindow, with_model: Store) -> None:
    deltas: list[dict] = []
    window.bridge.event.connect(
        lambda _rid, _cid, event: deltas.append(event) if event.get("event") == "delta" else None
    )

    qtbot.keyClicks(window.composer.field, "first line")
    qtbot.keyClick(window.composer.field, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    assert window.composer.text == "first line\n"  # Shift+Enter adds a line, sends nothing
    window.composer.field.clear()

    type_and_send(qtbot, window, QUESTION)
    assert window.composer.text == ""
    assert window.composer.button.text() == "Stop"
    assert window.transcript.messages[0].content == QUESTION  # shown before any answer
    wait_for_answer(qtbot, window)

    assert deltas, "the answer arrived in pieces"
    widget = last_answer_widget(window)
    assert "Paris" in widget.body.text
    assert widget.body.widgets and widget.body.widgets[0].isVisible()
    assert window.composer.button.text() == "Send"
    conv = with_model.history.latest_conversation()
    assert conv is not None and conv.title == QUESTION
    assert window.windowTitle() == f"{QUESTION} — Openweight"
    saved = with_model.history.branch(conv.id)
    assert [m.role for m in saved] == ["user", "assistant"]
    assert saved[1].status == "complete" and "Paris" in saved[1].content
    assert "tokens/s" in window.chat.status.activity.text()
    assert window.chat.status.use is not None and window.chat.status.use.exact

    window.copy_last_answer()
    assert "Paris" in QGuiApplication.clipboard().text()


def test_stop_keeps_the_partial_answer(qtbot, window: MainWindow, with_model: Store) -> None:
    window.open_chat.pending_settings = ChatSettings(max_tokens=600)
    type_and_send(qtbot, window, STORY)
    wait_for_streaming_text(qtbot, window)
    qtbot.mouseClick(window.composer.button, Qt.MouseButton.LeftButton)  # the Stop button
    wait_for_answer(qtbot, window, timeout=15_000)

    answer = with_model.history.branch(window.conversation_id)[-1]
    assert answer.status == "stopped"
    assert answer.content and answer.stats["generated_tokens"] < 600
    widget = last_answer_widget(window)
    assert widget.body.text == answer.content
    assert "Stopped" in widget.stats_label.text()


def test_escape_stops_and_window_keeps_working(
    qtbot, window: MainWindow, with_model: Store
) -> None:
    window.open_chat.pending_settings = ChatSettings(max_tokens=600)
    type_and_send(qtbot, window, STORY)
    wait_for_streaming_text(qtbot, window)
    qtbot.keyClick(window.composer.field, Qt.Key.Key_Escape)
    wait_for_answer(qtbot, window, timeout=15_000)
    assert with_model.history.branch(window.conversation_id)[-1].status == "stopped"


def test_regenerate_makes_versions_to_move_between(
    qtbot, window: MainWindow, with_model: Store
) -> None:
    type_and_send(qtbot, window, QUESTION)
    wait_for_answer(qtbot, window)
    first = last_answer_widget(window)
    first_id = first.message.id
    click_where_drawn(qtbot, window, first.regenerate_button)
    wait_for_answer(qtbot, window)

    second = last_answer_widget(window)
    assert second.message.id != first_id
    assert second.versions.isVisible() and second.versions.label.text() == "2/2"
    assert "Paris" in second.body.text
    click_where_drawn(qtbot, window, second.versions.previous)
    shown = last_answer_widget(window)
    assert shown.message.id == first_id and shown.versions.label.text() == "1/2"
    conv = with_model.history.conversation(window.conversation_id)
    assert conv.current_leaf_id == first_id  # the choice is kept
    assert len(with_model.history.siblings(first_id)) == 2


def test_editing_a_question_makes_a_new_branch(
    qtbot, window: MainWindow, with_model: Store
) -> None:
    type_and_send(qtbot, window, "Hello there")
    wait_for_answer(qtbot, window)
    question = window.transcript.widget_for(window.transcript.messages[0].id)
    click_where_drawn(qtbot, window, question.edit_button)
    assert question.editor.isVisible()
    field = question.editor.editor
    line = field.fontMetrics().lineSpacing()
    one_line = field.height()
    assert one_line < 3 * line  # as tall as the text, not a big box
    field.setPlainText("one\ntwo\nthree\nfour")
    assert field.height() > one_line + 2 * line
    field.setPlainText(QUESTION)
    qtbot.keyClick(question.editor.editor, Qt.Key.Key_Return)
    wait_for_answer(qtbot, window)

    branch = with_model.history.branch(window.conversation_id)
    assert [m.content for m in branch][0] == QUESTION
    assert "Paris" in branch[1].content
    edited = window.transcript.widget_for(branch[0].id)
    assert edited.versions.label.text() == "2/2"
    click_where_drawn(qtbot, window, edited.versions.previous)
    assert window.transcript.messages[0].content == "Hello there"
    assert len(window.transcript.messages) == 2  # the old question with its own answer


def test_context_meter_counts_real_tokens_as_you_type(qtbot, window: MainWindow) -> None:
    status = window.chat.status
    assert status.use is not None and not status.use.exact  # an estimate before the model loads
    qtbot.keyClicks(window.composer.field, "Hello")
    qtbot.waitUntil(lambda: status.use is not None and status.use.exact, timeout=60_000)
    short = status.use.tokens
    assert "of 8,192 tokens" in status.meter_label.text()
    qtbot.keyClicks(window.composer.field, " there, how are you doing on this fine morning?")
    qtbot.waitUntil(lambda: status.use.exact and status.use.tokens > short + 5, timeout=10_000)


WINDOW_PROCESS = """
import sys, time
from PySide6.QtWidgets import QApplication
from desktop.chat.defaults import save_chat_defaults
from desktop.library.importing import import_model
from desktop.paths import resolve_paths
from desktop.store import Store
from desktop.store.records import ChatSettings
from desktop.ui.app import build_window

app = QApplication([])
paths = resolve_paths(sys.argv[1]).ensure()
store = Store(paths.database)
import_model(store, sys.argv[2])
save_chat_defaults(store.settings, ChatSettings(temperature=0.0, max_tokens=16))
window = build_window(app, store, paths)
window.show()
app.processEvents()
shown_without = "llama_cpp" not in sys.modules
window.composer.set_text("Hi")
window.composer.submit()
deadline = time.monotonic() + 120
while window.controller.busy and time.monotonic() < deadline:
    app.processEvents()
    time.sleep(0.01)
answered = bool(store.history.branch(window.conversation_id)[-1].content)
window.close()
print(shown_without, answered, "llama_cpp" not in sys.modules)
"""


def test_the_window_process_never_loads_llama_cpp(tmp_path, test_model_path) -> None:  # noqa: ANN001
    """The model lives in the engine host: the window shows, and answers, without it."""
    result = subprocess.run(
        [sys.executable, "-c", WINDOW_PROCESS, str(tmp_path / "profile"), str(test_model_path)],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=ROOT,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert result.stdout.split() == ["True", "True", "True"], result.stderr[-2000:]
