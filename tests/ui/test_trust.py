"""Unexpected errors in the window, one window per data folder, the About box."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton, QWidget

from desktop.library.network import NETWORK_USE
from desktop.ui.about import AboutDialog, about_text
from desktop.ui.error_dialog import ErrorReporter
from desktop.ui.single_instance import SingleInstance

ARTIFACTS = Path(__file__).resolve().parents[1] / "_artifacts"


def fail_in_a_slot() -> None:
    raise ValueError("the chat list went missing")


@pytest.mark.qt_no_exception_capture
def test_unexpected_errors_get_one_dialog_and_the_app_carries_on(
    qapp: QApplication, qtbot, caplog: pytest.LogCaptureFixture  # noqa: ANN001
) -> None:
    parent = QWidget()
    qtbot.addWidget(parent)
    reporter = ErrorReporter(parent)
    reporter.install()
    try:
        with caplog.at_level(logging.ERROR, logger="openweight.ui"):
            for _ in range(3):
                QTimer.singleShot(0, fail_in_a_slot)  # raised inside Qt's event loop
            worker = threading.Thread(target=fail_in_a_slot)  # and in a background thread
            worker.start()
            worker.join()
            qtbot.waitUntil(lambda: reporter.total == 4, timeout=5000)
        dialog = reporter.dialog
        assert isinstance(dialog, QMessageBox) and dialog.isVisible()
        assert "the chat list went missing" in dialog.text()
        assert "keeps running" in dialog.text()
        assert "4 times" in dialog.informativeText()  # one dialog, repeats counted
        assert sum(isinstance(w, QMessageBox) and w.isVisible()
                   for w in QApplication.topLevelWidgets()) == 1
        assert "Traceback" in caplog.text and "fail_in_a_slot" in caplog.text  # in the log
        ARTIFACTS.mkdir(exist_ok=True)
        dialog.grab().save(str(ARTIFACTS / "error-dialog.png"))
        copy = next(b for b in dialog.findChildren(QPushButton) if b.text() == "Copy details")
        copy.click()
        assert "ValueError: the chat list went missing" in QApplication.clipboard().text()
        assert dialog.isVisible()  # copying does not close it
        dialog.done(0)
        qtbot.waitUntil(lambda: reporter.dialog is None)
        QTimer.singleShot(0, fail_in_a_slot)  # a later error gets a fresh dialog
        qtbot.waitUntil(lambda: reporter.dialog is not None, timeout=5000)
        assert reporter.dialog.informativeText() == ""
        reporter.dialog.done(0)
    finally:
        reporter.uninstall()


@pytest.mark.qt_no_exception_capture
def test_a_history_fault_is_said_plainly_not_as_a_bug(qapp: QApplication, qtbot) -> None:  # noqa: ANN001
    from desktop.store.errors import DiskFullError

    def fail() -> None:
        raise DiskFullError("Openweight could not save to its history database: the disk is full.")

    reporter = ErrorReporter(None)
    reporter.install()
    try:
        QTimer.singleShot(0, fail)
        qtbot.waitUntil(lambda: reporter.dialog is not None, timeout=5000)
        dialog = reporter.dialog
        assert dialog.windowTitle() == "Your chats could not be saved"
        assert dialog.text().endswith("the disk is full.") and "unexpected" not in dialog.text()
        dialog.done(0)
    finally:
        reporter.uninstall()


def test_one_window_per_data_folder(qapp: QApplication, qtbot, tmp_path: Path) -> None:  # noqa: ANN001
    first = SingleInstance(tmp_path)
    assert first.acquire()
    second = SingleInstance(tmp_path)
    assert not second.acquire()
    elsewhere = SingleInstance(tmp_path / "other")
    (tmp_path / "other").mkdir()
    assert elsewhere.acquire()  # another data folder is another app
    with qtbot.waitSignal(first.activation_requested, timeout=5000):
        assert second.ask_first_to_show()
    first.release()
    elsewhere.release()
    third = SingleInstance(tmp_path)
    assert third.acquire()  # free again once the first has gone
    third.release()


def test_about_says_what_the_network_is_for() -> None:
    text = about_text()
    assert NETWORK_USE in text
    assert "download" in NETWORK_USE and "servers you add" in NETWORK_USE
    assert "telemetry" in NETWORK_USE
    assert "Apache License 2.0" in text


def test_about_box_lists_the_keys_the_window_answers_to_and_the_licences(
    window, qtbot  # noqa: ANN001
) -> None:
    from PySide6.QtGui import QShortcut
    from PySide6.QtWidgets import QLabel, QTextBrowser

    from desktop.ui.shortcuts import SHORTCUTS, STOP

    bound = {s.key().toString() for s in window.findChildren(QShortcut)}
    for shortcut in (*SHORTCUTS, STOP):
        if shortcut.action is not None:
            assert shortcut.sequence().toString() in bound, shortcut.what
    about = AboutDialog(window)
    qtbot.addWidget(about)
    about.show()
    assert [about.tabs.tabText(i) for i in range(about.tabs.count())] == ["About", "Keyboard", "Licences"]
    listed = {label.accessibleName() for label in about.tabs.widget(1).findChildren(QLabel)
              if label.text().startswith("<b>")}
    assert {"Ctrl+N", "Ctrl+Shift+M", "Ctrl+Shift+D", "F1", "Ctrl+Q", "Esc"} <= listed
    assert "" not in listed
    notices = about.tabs.widget(2)
    assert isinstance(notices, QTextBrowser)
    text = notices.toPlainText()
    assert "LGPL-3.0" in text and "llama.cpp" in text and "Apache License 2.0" in text
    about.tabs.setCurrentIndex(1)
    ARTIFACTS.mkdir(exist_ok=True)
    about.grab().save(str(ARTIFACTS / "about-keyboard.png"))
    about.tabs.setCurrentIndex(2)
    about.grab().save(str(ARTIFACTS / "about-licences.png"))


def test_a_locked_history_says_so_and_gives_the_question_back(
    window, gui_store, qtbot, monkeypatch: pytest.MonkeyPatch  # noqa: ANN001
) -> None:
    import sqlite3

    from tests.ui.conftest import QUESTION, wait_for_answer

    warnings: list[tuple[str, str]] = []
    monkeypatch.setattr(window, "_warn", lambda title, text: warnings.append((title, text)))
    gui_store.db.conn.execute("PRAGMA busy_timeout = 300")  # not the usual 10 s wait
    other = sqlite3.connect(gui_store.path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # another program holds the database
    try:
        window.composer.set_text(QUESTION)
        window.composer.submit()
        assert warnings and "another program" in warnings[0][1], warnings
        assert window.composer.text == QUESTION  # the question is not lost
    finally:
        other.execute("ROLLBACK")
        other.close()
    window.composer.submit()  # the program let go: sending works again
    wait_for_answer(qtbot, window)
    messages = gui_store.history.messages(window.conversation_id)
    assert [m.role for m in messages] == ["user", "assistant"]
    assert "Paris" in messages[1].content


def test_history_locked_while_an_answer_streams(
    make_window, with_model, qtbot, monkeypatch: pytest.MonkeyPatch  # noqa: ANN001
) -> None:
    """The answer stops, the window says why, the question stays, and the next one works."""
    import sqlite3

    import desktop.store.db
    from desktop.chat.defaults import save_chat_defaults
    from desktop.store.records import ChatSettings
    from tests.ui.conftest import QUESTION, wait_for_answer, wait_for_streaming_text

    monkeypatch.setattr(desktop.store.db, "BUSY_TIMEOUT_S", 0.3)  # the worker's connection too
    save_chat_defaults(with_model.settings, ChatSettings(temperature=0.0, max_tokens=600))
    window = make_window()
    warnings: list[tuple[str, str]] = []
    monkeypatch.setattr(window, "_warn", lambda title, text: warnings.append((title, text)))
    window.send("Write a very long story about a dragon and a knight.")
    wait_for_streaming_text(qtbot, window)
    other = sqlite3.connect(with_model.path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # another program takes the database mid-answer
    try:
        qtbot.waitUntil(lambda: bool(warnings), timeout=60_000)
        wait_for_answer(qtbot, window)
    finally:
        other.execute("ROLLBACK")
        other.close()
    title, text = warnings[0]
    assert title == "Your chat could not be saved" and "another program" in text
    conv = window.conversation_id
    question = with_model.history.messages(conv)[0]
    assert question.role == "user" and question.content.startswith("Write a very long story")

    window.send(QUESTION)  # the lock is gone: the window carries on
    wait_for_answer(qtbot, window)
    last = with_model.history.branch(conv)[-1]
    assert last.role == "assistant" and last.status == "complete" and "Paris" in last.content
