"""The window without answers: first run, chat list, search, settings, remembered state."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from desktop.chat.defaults import chat_defaults
from desktop.store import Store
from desktop.ui.settings_dialog import SettingsDialog
from desktop.ui.sidebar import KIND_ROLE, day_group
from desktop.ui.theme import DARK, LIGHT
from desktop.ui.transcript.transcript_view import FIRST_WINDOW
from tests.ui.conftest import WindowFactory, click_where_drawn


def sidebar_rows(window) -> list[tuple[str, str]]:  # noqa: ANN001
    items = [window.sidebar.list.item(i) for i in range(window.sidebar.list.count())]
    return [(item.data(KIND_ROLE), item.text()) for item in items]


def test_first_run_welcome_then_add_a_model_file(
    qtbot, make_window: WindowFactory, gui_store: Store, test_model_path: Path
) -> None:
    window = make_window(choose_model_file=lambda: str(test_model_path))
    assert window.pages.currentWidget() is window.welcome
    assert "stay here" in " ".join(
        label.text() for label in window.welcome.findChildren(type(window.chat.title))
    )

    qtbot.mouseClick(window.welcome.add_button, Qt.MouseButton.LeftButton)
    assert window.pages.currentWidget() is window.chat
    assert [m.name for m in gui_store.models.all()] == ["SmolLM2-135M-Instruct.Q4_1"]
    assert window.picker.current_model == "SmolLM2-135M-Instruct.Q4_1"
    assert "Q4_1" in window.picker.currentText() and "MB" in window.picker.currentText()
    assert window.composer.has_model

    window.show_models_page()
    assert window.pages.currentWidget() is window.models_page
    assert window.models_page.installed.count() == 1
    window.show_chat_page()
    assert window.pages.currentWidget() is window.chat


def test_a_file_that_is_not_a_model_is_refused_politely(
    qtbot, make_window: WindowFactory, gui_store: Store, tmp_path: Path, monkeypatch
) -> None:  # noqa: ANN001
    junk = tmp_path / "notes.gguf"
    junk.write_text("not a model")
    window = make_window(choose_model_file=lambda: str(junk))
    warnings: list[tuple[str, str]] = []
    monkeypatch.setattr(window, "_warn", lambda title, text: warnings.append((title, text)))
    window.add_model_file()
    assert warnings and "cannot be used" in warnings[0][0]
    assert gui_store.models.all() == []
    assert window.pages.currentWidget() is window.welcome


def test_chat_list_groups_pins_renames_and_deletes_with_undo(
    qtbot, make_window: WindowFactory, with_model: Store
) -> None:
    history = with_model.history
    old = history.create_conversation(title="Trip to Lisbon")
    history.conn.execute(
        "UPDATE conversations SET updated_at = ? WHERE id = ?", (time.time() - 30 * 86400, old.id)
    )
    today = history.create_conversation(title="Soup recipe")
    window = make_window()
    assert sidebar_rows(window) == [
        ("header", "Today"),
        ("conversation", "Soup recipe"),
        ("header", "Older"),
        ("conversation", "Trip to Lisbon"),
    ]

    window.actions_.pin(old.id, True)
    assert sidebar_rows(window)[:2] == [("header", "Pinned"), ("conversation", "Trip to Lisbon")]
    window.actions_.rename(today.id, "Tomato soup")
    assert history.conversation(today.id).title == "Tomato soup"

    window.open_conversation(today.id)
    window.actions_.delete(today.id)
    assert window.conversation_id is None  # the open chat went away: a new one is shown
    assert ("conversation", "Tomato soup") not in sidebar_rows(window)
    assert window.chat.undo_bar.isVisible()
    click_where_drawn(qtbot, window, window.chat.undo_bar.undo_button)
    assert ("conversation", "Tomato soup") in sidebar_rows(window)
    window.actions_.delete(today.id)
    window.chat.undo_bar.commit()  # the offer lapses
    assert [c.id for c in history.conversations()] == [old.id]


def test_day_groups_follow_the_calendar() -> None:
    now = time.mktime((2024, 5, 10, 9, 0, 0, 0, 0, -1))
    assert day_group(now - 3600, now) == "Today"
    assert day_group(now - 10 * 3600, now) == "Yesterday"  # last night, under 24 hours ago
    assert day_group(now - 3 * 86400, now) == "Previous 7 days"
    assert day_group(now - 40 * 86400, now) == "Older"


def test_search_finds_text_in_messages_and_jumps_there(
    qtbot, make_window: WindowFactory, with_model: Store
) -> None:
    history = with_model.history
    conv = history.create_conversation(title="Long one")
    parent = None
    for i in range(60):
        role = "user" if i % 2 == 0 else "assistant"
        text = "The password is swordfish" if i == 7 else f"Message number {i}"
        parent = history.add_message(conv.id, role, text, parent_id=parent).id
    window = make_window()
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert window.sidebar.filter.hasFocus()
    qtbot.keyClicks(window.sidebar.filter, "swordfi")
    qtbot.waitUntil(
        lambda: (
            ("hit", "Long one\n" + "The password is swordfish")
            in [(k, t.replace("…", "").strip()) for k, t in sidebar_rows(window)]
        ),
        timeout=3000,
    )
    hit = next(
        window.sidebar.list.item(i)
        for i in range(window.sidebar.list.count())
        if window.sidebar.list.item(i).data(KIND_ROLE) == "hit"
    )
    qtbot.mouseClick(
        window.sidebar.list.viewport(),
        Qt.MouseButton.LeftButton,
        pos=window.sidebar.list.visualItemRect(hit).center(),
    )
    assert window.conversation_id == conv.id
    target = window.transcript.messages[7]
    assert target.content == "The password is swordfish"
    widget = window.transcript.widget_for(target.id)
    assert widget is not None  # built, though far from the end

    def on_screen() -> bool:
        top = widget.mapTo(window.transcript.viewport(), widget.rect().topLeft()).y()
        return 0 <= top < window.transcript.viewport().height()

    qtbot.waitUntil(on_screen, timeout=3000)


def test_a_search_hit_reads_like_the_message_without_its_match_marks(
    qtbot, make_window: WindowFactory, with_model: Store
) -> None:
    conv = with_model.history.create_conversation(title="Pets")
    with_model.history.add_message(conv.id, "user", "Tell me about a cat.")
    window = make_window()
    qtbot.keyClicks(window.sidebar.filter, "cat")
    qtbot.waitUntil(
        lambda: ("hit", "Pets\nTell me about a cat.") in sidebar_rows(window), timeout=3000
    )


def test_a_long_chat_builds_only_what_is_on_screen(
    qtbot, make_window: WindowFactory, with_model: Store
) -> None:
    history = with_model.history
    conv = history.create_conversation(title="Very long")
    parent = None
    for i in range(400):
        role = "user" if i % 2 == 0 else "assistant"
        parent = history.add_message(conv.id, role, f"**Message** {i}", parent_id=parent).id
    window = make_window()
    started = time.perf_counter()
    window.open_conversation(conv.id)
    assert time.perf_counter() - started < 5  # a sanity bound; bench/ui.py measures it
    bar = window.transcript.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0 and bar.value() == bar.maximum(), timeout=3000)
    built = len(window.transcript.widgets)
    assert FIRST_WINDOW <= built <= 4 * FIRST_WINDOW  # enough to fill the view, no more
    bar.setValue(0)  # the reader scrolls to the top: older messages are built as needed
    qtbot.waitUntil(lambda: len(window.transcript.widgets) > built, timeout=3000)
    qtbot.waitUntil(lambda: bar.value() > 0, timeout=3000)  # the view stays where it was
    jump = window.transcript.jump_button
    assert jump.isVisible()
    click_where_drawn(qtbot, window, jump)
    qtbot.waitUntil(lambda: bar.value() == bar.maximum() and not jump.isVisible(), timeout=3000)


def test_settings_dialog_saves_defaults_and_theme(
    qtbot, make_window: WindowFactory, with_model: Store
) -> None:
    window = make_window()
    dialog = SettingsDialog(window.store, window.paths, window.theme, window)
    qtbot.addWidget(dialog)
    dialog.temperature.setValue(0.3)
    dialog.max_tokens.setValue(512)
    dialog.system_prompt.setPlainText("Answer briefly.")
    dialog.theme_choice.setCurrentIndex(dialog.theme_choice.findData("dark"))
    dialog.font_size.setValue(12)
    dialog.accept()

    defaults = chat_defaults(with_model.settings)
    assert defaults.temperature == 0.3 and defaults.max_tokens == 512
    assert with_model.settings.get("default_system_prompt") == "Answer briefly."
    assert window.theme.colors is DARK and QApplication.font().pointSize() == 12
    window.new_chat()
    assert window.panel.system_prompt.toPlainText() == "Answer briefly."
    window.theme.set_mode("light")
    assert window.theme.colors is LIGHT


def test_chat_settings_are_saved_with_the_conversation(
    qtbot, make_window: WindowFactory, with_model: Store
) -> None:
    conv = with_model.history.create_conversation(title="Tuned", system_prompt="Be terse.")
    window = make_window()
    window.open_conversation(conv.id)
    assert window.panel.system_prompt.toPlainText() == "Be terse."
    window.panel.temperature.setValue(1.2)
    window.panel.context_length.setValue(4096)
    window.panel.flush()
    saved = with_model.history.conversation(conv.id).settings
    assert saved.temperature == 1.2 and saved.context_length == 4096
    assert saved.top_p is None  # untouched values keep following the defaults
    assert not window.panel.effort.isVisibleTo(window.panel)  # no reasoning controls for SmolLM2
    assert not window.panel.thinking.isVisibleTo(window.panel)

    for style, control in (("harmony", window.panel.effort), ("think", window.panel.thinking)):
        model = with_model.models.default()
        model.name, model.reasoning_style = f"A {style} model", style
        with_model.models.add(model)
        window.refresh_models()
        window.picker.select(model.name)
        window._model_chosen(model.name)  # noqa: SLF001 - as choosing it in the picker does
        assert control.isVisibleTo(window.panel)
    window.panel.thinking.setChecked(False)
    window.panel.flush()
    assert with_model.history.conversation(conv.id).settings.thinking is False


def test_window_remembers_size_splitter_and_last_chat(
    qtbot, make_window: WindowFactory, with_model: Store
) -> None:
    conv = with_model.history.create_conversation(title="Remember me")
    window = make_window()
    window.open_conversation(conv.id)
    window.resize(792, 520)  # the offscreen screen is 800 × 600
    window.close()
    again = make_window()
    assert again.conversation_id == conv.id
    assert again.size().width() == 792 and again.size().height() == 520


def test_shortcuts_new_chat_and_settings(
    qtbot, make_window: WindowFactory, with_model: Store, monkeypatch
) -> None:  # noqa: ANN001
    conv = with_model.history.create_conversation(title="Some chat")
    window = make_window()
    window.open_conversation(conv.id)
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert window.conversation_id is None and window.chat.stack.currentWidget() is window.chat.empty
    opened: list[bool] = []
    monkeypatch.setattr(SettingsDialog, "exec", lambda dialog: opened.append(True) or 0)
    qtbot.keyClick(window, Qt.Key.Key_Comma, Qt.KeyboardModifier.ControlModifier)
    assert opened
    shift_ctrl = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    qtbot.keyClick(window, Qt.Key.Key_M, shift_ctrl)
    assert window.pages.showing_models()
    qtbot.keyClick(window, Qt.Key.Key_D, shift_ctrl)
    assert window.pages.currentWidget() is window.pages.documents_page
    for widget in (
        window.composer.field,
        window.composer.button,
        window.picker,
        window.sidebar.filter,
        window.sidebar.list,
        window.panel.temperature,
    ):
        assert widget.accessibleName()
    for child in window.findChildren(type(window.composer.button)):
        assert child.accessibleName() or child.text(), child


def test_qt_messages_go_to_the_log(caplog) -> None:  # noqa: ANN001
    from PySide6.QtCore import qInstallMessageHandler, qWarning

    from desktop.ui.qt_logging import route_qt_messages

    previous = route_qt_messages()
    try:
        qWarning("a message from Qt")
    finally:
        qInstallMessageHandler(previous)
    assert any(
        r.name == "openweight.qt" and "a message from Qt" in r.getMessage() for r in caplog.records
    )


def test_right_click_menu_leaves_the_open_chat_highlighted(
    qtbot, make_window: WindowFactory, with_model: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtWidgets import QMenu

    import desktop.ui.sidebar as sidebar_module

    history = with_model.history
    shown = history.create_conversation(title="Open chat")
    other = history.create_conversation(title="Other chat")
    window = make_window()
    window.open_conversation(shown.id)

    class PinChoosingMenu(QMenu):
        """Stands in for the person choosing 'Pin' in the popup (a real popup would block)."""

        def exec(self, *args: object) -> object:  # noqa: A003 - Qt's name
            return next(a for a in self.actions() if a.text() == "Pin")

    monkeypatch.setattr(sidebar_module, "QMenu", PinChoosingMenu)
    rows = window.sidebar.list
    target = next(rows.item(i) for i in range(rows.count()) if rows.item(i).text().startswith("Other"))
    rows.setCurrentItem(target)  # what the right-click itself does
    window.sidebar._context_menu(rows.visualItemRect(target).center())
    assert history.conversation(other.id).pinned
    current = rows.currentItem()
    assert current is not None and current.text().startswith("Open chat")
    assert window.conversation_id == shown.id
