"""The main window: the chat list, the open chat, its settings, and the pages around them."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QGuiApplication
from PySide6.QtWidgets import (
    QMainWindow,
    QMessageBox,
    QSplitter,
    QWidget,
)

from desktop.chat.defaults import chat_defaults
from desktop.engine.engines import server_of
from desktop.library.relocate import models_folder
from desktop.paths import DataPaths
from desktop.store import Store, StoreError
from desktop.store.history import NotFoundError
from desktop.store.records import ChatSettings, Message, ModelFile
from desktop.ui.api_server import ApiServerSwitch
from desktop.ui.chat_controller import ChatController
from desktop.ui.chat_page import ChatPage
from desktop.ui.chat_settings_panel import ChatSettingsPanel
from desktop.ui.context_meter import ContextMeter, MeterInputs, memory_start_id
from desktop.ui.conversation_actions import ConversationActions
from desktop.ui.drops import DropTarget, split_drop
from desktop.ui.engine_bridge import EngineBridge
from desktop.ui.markdown_blocks import BlockRenderer
from desktop.ui.model_files import FileChooser, add_model_file, file_dialog_chooser
from desktop.ui.open_chat import OpenChat
from desktop.ui.pages import WindowPages
from desktop.ui.server_models import ServerModels
from desktop.ui.settings_dialog import SettingsDialog
from desktop.ui.shortcuts import install_shortcuts
from desktop.ui.sidebar import Sidebar
from desktop.ui.theme import Colors, ThemeManager
from desktop.ui.welcome_page import WelcomePage
from desktop.ui.window_state import LAST_CHAT_KEY, PANEL_KEY, restore_window, save_window

log = logging.getLogger("openweight.ui.window")

APP_TITLE = "Openweight"


class MainWindow(QMainWindow):
    models_page_requested = Signal()  # the model library hooks in here
    documents_page_requested = Signal()  # and the documents here

    def __init__(
        self,
        store: Store,
        paths: DataPaths,
        bridge: EngineBridge,
        theme: ThemeManager,
        choose_model_file: FileChooser | None = None,
    ) -> None:
        super().__init__()
        self.store = store
        self.history = store.history
        self.paths = paths
        self.bridge = bridge
        self.theme = theme
        self.choose_model_file = choose_model_file or file_dialog_chooser(
            self, lambda: models_folder(paths, store.settings)
        )
        self.server_models = ServerModels(store, paths, self)
        self.open_chat = OpenChat(store, self.server_models.find)
        self.api_server: ApiServerSwitch | None = None  # set by the composition root
        self._closed = False
        self.setWindowTitle(APP_TITLE)
        self.resize(1180, 780)
        self.drops = DropTarget(self, self.open_dropped)  # anywhere on the window

        self.renderer = BlockRenderer(theme.colors)
        self.sidebar = Sidebar(self.history.search)
        self.chat = ChatPage(self.renderer, self._versions_of)
        self.transcript = self.chat.transcript
        self.composer = self.chat.composer
        self.picker = self.chat.model_picker
        self.panel = ChatSettingsPanel()
        self.welcome = WelcomePage()
        self.pages = WindowPages(self.welcome, self.chat)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setHandleWidth(1)
        self.splitter.addWidget(self.sidebar)
        self.splitter.addWidget(self.pages)
        self.splitter.addWidget(self.panel)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([270, 900, 300])
        self.setCentralWidget(self.splitter)

        self.controller = ChatController(store, bridge, self.transcript, self.chat.status, self)
        self.meter = ContextMeter(bridge, self.chat.status, self)
        self.actions_ = ConversationActions(self, store, self.sidebar, self.chat.undo_bar)
        self._connect()
        self.stop_shortcut = install_shortcuts(self)
        theme.changed.connect(self._theme_changed)
        self.panel.setVisible(bool(store.settings.get(PANEL_KEY, False)))
        self.chat.settings_button.setChecked(self.panel.isVisible())
        if not restore_window(store.settings, self, self.splitter):
            self.splitter.setSizes([270, 900, 300])

    @property
    def conversation_id(self) -> int | None:
        """The open conversation; None for a new chat not saved yet."""
        return self.open_chat.conversation_id

    @property
    def models_page(self) -> QWidget:
        """The model library's page (an empty place until it is first shown)."""
        return self.pages.models_page

    # -- wiring --------------------------------------------------------------------------

    def _connect(self) -> None:
        s, c, t = self.sidebar, self.composer, self.transcript
        s.conversation_selected.connect(self.open_conversation)
        s.message_selected.connect(lambda conv, msg: self.open_conversation(conv, msg))
        s.new_chat_requested.connect(self.new_chat)
        s.documents_requested.connect(self.show_documents_page)
        self.chat.documents_picker.chosen_changed.connect(self._collections_chosen)
        self.chat.documents_picker.manage_requested.connect(self.show_documents_page)
        c.send_requested.connect(self.send)
        c.stop_requested.connect(self.controller.stop)
        c.show_other_chat.connect(self._show_answering_chat)
        c.field.textChanged.connect(lambda: self._refresh_meter(typing=True))
        t.regenerate_requested.connect(
            lambda mid: self.controller.regenerate(mid, self.picker.current_model)
        )
        t.edit_submitted.connect(
            lambda mid, text: self.controller.edit(mid, text, self.picker.current_model)
        )
        t.version_requested.connect(self.show_version)
        self.controller.stream_changed.connect(self._stream_changed)
        self.controller.conversation_touched.connect(lambda _id: self.refresh_sidebar())
        self.controller.prompt_measured.connect(self._prompt_measured)
        self.controller.answer_finished.connect(self._answer_finished)
        self.controller.saving_failed.connect(
            lambda text: self._warn("Your chat could not be saved", text)
        )
        self.picker.model_chosen.connect(self._model_chosen)
        self.picker.add_file_requested.connect(self.add_model_file)
        self.picker.browse_requested.connect(self.show_models_page)
        self.welcome.add_file_requested.connect(self.add_model_file)
        self.welcome.browse_requested.connect(self.show_models_page)
        self.panel.changed.connect(self._chat_settings_changed)
        self.server_models.changed.connect(self.refresh_models)
        self.chat.settings_button.toggled.connect(self._toggle_panel)
        self.chat.sidebar_button.clicked.connect(
            lambda: self.sidebar.setVisible(not self.sidebar.isVisible())
        )

    # -- start-up and pages --------------------------------------------------------------

    def start(self) -> None:
        """Fill the window from the store (called once it is shown)."""
        self.refresh_models()
        self.server_models.refresh()  # servers' models join the picker when they answer
        self.refresh_sidebar()
        last = self.store.settings.get(LAST_CHAT_KEY)
        if isinstance(last, int):
            self.open_conversation(last)  # a new chat instead if it is gone
        else:
            self.new_chat()

    def show_models_page(self) -> None:
        """The model library's page (catalog, search, downloads) is shown here."""
        self.models_page_requested.emit()  # the library builds its page on first use
        self.pages.show_models()

    def set_models_page(self, page: QWidget) -> None:
        """Put the model library's page in its place. A page with back_requested,
        models_changed or use_model_requested signals is wired to the window."""
        self.pages.replace_models_page(page)
        if hasattr(page, "back_requested"):
            page.back_requested.connect(self.show_chat_page)
        if hasattr(page, "models_changed"):
            page.models_changed.connect(self.refresh_models)
        if hasattr(page, "use_model_requested"):
            page.use_model_requested.connect(self._use_model_for_new_chats)

    def show_documents_page(self) -> None:
        self.documents_page_requested.emit()  # built on first use, like the model library
        self.pages.show_documents()

    def set_documents_page(self, page: QWidget, back: Signal, changed: Signal) -> None:
        """Put the documents page in its place; back returns to the chat, changed refreshes
        the chat's collection picker."""
        self.pages.replace_documents_page(page)
        back.connect(self.show_chat_page)
        changed.connect(self.refresh_collections)

    def refresh_collections(self) -> None:
        names: list[str] = []
        if self.paths.documents_database.exists():  # no collections yet: the core stays unloaded
            from desktop.documents import DocumentIndex, DocumentsError

            try:
                index = DocumentIndex(self.paths.documents_database)
            except DocumentsError as exc:
                log.warning("the documents index cannot be read: %s", exc)
            else:
                try:
                    names = [c.name for c in index.collections()]
                finally:
                    index.close()
        self.chat.documents_picker.set_collections(names, self.open_chat.collections())

    def _collections_chosen(self, names: list[str]) -> None:
        self.open_chat.choose_collections(names)
        self._refresh_meter()

    def _use_model_for_new_chats(self, name: str) -> None:
        self.refresh_models()
        self.new_chat()
        self.picker.select(name)
        self._model_chosen(name)
        self.show_chat_page()

    def show_chat_page(self) -> None:
        self.pages.show_chat(self._has_models())

    def _has_models(self) -> bool:
        return bool(self.store.models.chat_models()) or any(
            g.models for g in self.server_models.grouped().values())

    def refresh_models(self) -> None:
        models = self.store.models.chat_models()
        servers = [(name, g.models, g.error) for name, g in self.server_models.grouped().items()]
        self.picker.set_models(models, self.open_chat.model_name(), servers)
        self.composer.set_has_model(self._has_models())
        if not self.pages.showing_a_page():
            self.pages.show_chat(self._has_models())
        self.chat.empty.set_model(self.picker.current_model)

    def refresh_sidebar(self) -> None:
        self.sidebar.set_conversations(self.history.conversations(), self.conversation_id)
        self.sidebar.set_answering(
            self.controller.active.conversation_id if self.controller.active else None
        )

    def add_model_file(self, path: str | None = None) -> None:
        """Register a model file: the one given, or one the user chooses."""
        choose = (lambda: path) if path else self.choose_model_file
        model = add_model_file(self.store, choose, self._warn)
        if model is None:
            return
        if model.kind == "embedding":  # not a model to chat with: Documents search with it
            self.chat.status.show_activity(f"Added {model.name} for searching documents")
            return
        if self.conversation_id is None:
            self.open_chat.choose_model(model.name)
        self.refresh_models()
        self.show_chat_page()
        self.chat.status.show_activity(f"Added {model.name}")

    def open_settings(self) -> None:
        dialog = SettingsDialog(self.store, self.paths, self.theme, self,
                                api_server=self.api_server)
        if dialog.exec():
            self.refresh_models()
            self._load_chat_settings()
        self.server_models.refresh()  # servers may have been added or removed there

    # -- conversations -------------------------------------------------------------------

    def new_chat(self) -> None:
        self.panel.flush()
        self.open_chat.start_new()
        self.transcript.show_messages(None, [])
        self.chat.show_empty(True)
        self.sidebar.set_current(None)
        self.picker.select(self.open_chat.model_name())
        self.chat.empty.set_model(self.picker.current_model)
        self._after_switch()
        self.composer.setFocus()

    def open_conversation(self, conversation_id: int, focus_message_id: int | None = None) -> None:
        self.panel.flush()
        try:
            conv = self.history.conversation(conversation_id)
        except NotFoundError:
            self.new_chat()
            return
        active = self.controller.active
        if focus_message_id is not None and not (active and active.conversation_id == conv.id):
            branch_ids = {m.id for m in self.history.branch(conv.id)}
            if focus_message_id not in branch_ids:
                self.history.select_branch(focus_message_id)  # show the version that matched
        self.open_chat.open(conv.id)
        branch = self.history.branch(conv.id)
        self.transcript.show_messages(
            conv.id, branch, focus_message_id, memory_start_id(branch), flash=True
        )
        self.controller.attach_transcript()
        self.chat.show_empty(not branch)
        self.sidebar.set_current(conv.id)
        self.picker.select(self.open_chat.model_name())
        self._after_switch()

    def show_version(self, message_id: int) -> None:
        if self.controller.busy or self.conversation_id is None:
            return
        self.history.select_branch(message_id)
        branch = self.history.branch(self.conversation_id)
        self.transcript.show_messages(
            self.conversation_id, branch, message_id, memory_start_id(branch)
        )
        self._refresh_meter()

    def send(self, text: str) -> None:
        try:
            self._send(text)
        except StoreError as exc:  # disk full, locked...: the question goes back, not lost
            self.composer.set_text(text)
            self._warn("Your message could not be saved", str(exc))

    def _send(self, text: str) -> None:
        self.panel.flush()
        new = self.conversation_id is None
        conversation_id = self.open_chat.save(self.picker.current_model)
        if new:
            self.transcript.show_messages(conversation_id, [])
        self.chat.show_empty(False)
        self.controller.send(conversation_id, text, self.picker.current_model)
        self.sidebar.set_current(self.conversation_id)
        self.update_title()

    def copy_last_answer(self) -> None:
        answers = [m for m in self.transcript.messages if m.role == "assistant" and m.content]
        if answers:
            widget = self.transcript.widget_for(answers[-1].id)
            text = widget.body.text if widget is not None else answers[-1].content
            QGuiApplication.clipboard().setText(text)
            self.chat.status.show_activity("Copied the last answer")

    def _after_switch(self) -> None:
        self.refresh_collections()
        if not self.controller.busy:
            self.chat.status.show_activity("")  # the last answer's note belongs to its chat
        self.update_title()
        self._load_chat_settings()
        self._stream_changed()
        self._refresh_meter()

    def update_title(self) -> None:
        title = self.open_chat.title()
        self.setWindowTitle(f"{title} — {APP_TITLE}" if title else APP_TITLE)
        self.chat.title.setText(title or "")

    def _versions_of(self, message: Message) -> list[int]:
        return [m.id for m in self.history.siblings(message.id)]

    # -- model and chat settings ---------------------------------------------------------

    def current_model(self) -> ModelFile | None:
        return self.open_chat.find_model(self.picker.current_model)

    def _model_chosen(self, name: str) -> None:
        self.open_chat.choose_model(name)
        if self.conversation_id is None:
            self.chat.empty.set_model(name)
        self._load_chat_settings()
        self._refresh_meter()

    def _load_chat_settings(self) -> None:
        settings, prompt = self.open_chat.settings()
        self.panel.load(settings, chat_defaults(self.store.settings), prompt)
        model = self.current_model()
        self.panel.set_reasoning_style(model.reasoning_style if model else None)
        self.composer.set_server(server_of(model) if model else None)

    def _chat_settings_changed(self, settings: ChatSettings, system_prompt: str) -> None:
        self.open_chat.save_settings(settings, system_prompt)
        self._refresh_meter()

    def _toggle_panel(self, shown: bool) -> None:
        self.panel.setVisible(shown)
        self.store.settings.set(PANEL_KEY, shown)

    # -- streaming state -----------------------------------------------------------------

    def _stream_changed(self) -> None:
        active = self.controller.active
        here = active is not None and active.conversation_id == self.conversation_id
        other = None
        if active is not None and not here:
            try:
                other = self.history.conversation(active.conversation_id).title
            except NotFoundError:
                other = "another chat"
        self.composer.set_streaming(here, other)
        self.sidebar.set_answering(active.conversation_id if active else None)
        self.stop_shortcut.setEnabled(active is not None)

    def _show_answering_chat(self) -> None:
        if self.controller.active is not None:
            self.open_conversation(self.controller.active.conversation_id)

    def _prompt_measured(self, conversation_id: int, event: dict) -> None:
        if conversation_id != self.conversation_id or self.controller.active is None:
            return
        dropped = int(event.get("dropped_messages") or 0)
        self.transcript.set_memory_start(
            memory_start_id(self.transcript.messages, dropped, self.controller.active.parent_id)
        )
        self.meter.show_started(event)

    def _answer_finished(self, conversation_id: int, message_id: int) -> None:
        self.update_title()
        if conversation_id != self.conversation_id:
            return
        self._refresh_meter()
        self.meter.show_finished(self.history.message(message_id).stats)

    def _refresh_meter(self, typing: bool = False) -> None:
        inputs = MeterInputs(
            conversation_id=self.conversation_id or 0,
            model=self.current_model(),
            settings=self.open_chat.merged_settings(),
            system_prompt=self.open_chat.settings()[1],
            branch=self.transcript.messages,
            draft=self.composer.text,
            collections=self.open_chat.collections(),
        )
        self.meter.refresh(inputs, typing=typing)

    def _theme_changed(self, colors: Colors) -> None:
        self.renderer = BlockRenderer(colors)
        self.transcript.set_renderer(self.renderer)
        self.chat.status.set_colors(colors)

    def _warn(self, title: str, text: str) -> None:
        QMessageBox.warning(self, title, text)

    # -- dropped files -------------------------------------------------------------------

    def open_dropped(self, paths: list[Path]) -> None:
        """Model files join the library; folders and other files go to Documents."""
        models, documents = split_drop(paths)
        for model in models:
            self.add_model_file(str(model))
        if documents:
            self.show_documents_page()
            page = self.pages.documents_page
            if hasattr(page, "add_dropped"):
                page.add_dropped([str(p) for p in documents])

    # -- closing -------------------------------------------------------------------------

    def shutdown(self) -> None:
        """Stop any answer (its text so far is saved), close the engine, remember the window."""
        if self._closed:
            return
        self._closed = True
        self.panel.flush()
        self.chat.undo_bar.commit()
        self.store.settings.set(LAST_CHAT_KEY, self.conversation_id)
        save_window(self.store.settings, self, self.splitter)
        self.controller.stop()
        self.server_models.shutdown()
        if self.api_server is not None:
            self.api_server.shutdown()  # before the engine it shares
        self.bridge.shutdown()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        self.shutdown()
        super().closeEvent(event)
