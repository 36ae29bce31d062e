"""The centre of the window: the welcome page, the chat, the model library or the documents."""

from __future__ import annotations

from PySide6.QtWidgets import QStackedWidget, QWidget


class WindowPages(QStackedWidget):
    def __init__(self, welcome: QWidget, chat: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.welcome = welcome
        self.chat = chat
        # An empty place for the model library's page, which is built on first use so that
        # start-up stays light (see attach_model_library in app.py).
        self.models_page: QWidget = QWidget()
        self.documents_page: QWidget = QWidget()  # likewise built on first use
        for page in (welcome, chat, self.models_page, self.documents_page):
            self.addWidget(page)

    def show_chat(self, has_models: bool) -> None:
        """The chat, or the welcome page while there is no model to chat with."""
        self.setCurrentWidget(self.chat if has_models else self.welcome)

    def showing_models(self) -> bool:
        return self.currentWidget() is self.models_page

    def showing_a_page(self) -> bool:
        """The model library or the documents are open, rather than a chat."""
        return self.currentWidget() in (self.models_page, self.documents_page)

    def show_documents(self) -> None:
        self.setCurrentWidget(self.documents_page)

    def replace_documents_page(self, page: QWidget) -> None:
        showing = self.currentWidget() is self.documents_page
        self.removeWidget(self.documents_page)
        self.documents_page.deleteLater()
        self.documents_page = page
        self.addWidget(page)
        if showing:
            self.setCurrentWidget(page)

    def show_models(self) -> None:
        self.setCurrentWidget(self.models_page)

    def replace_models_page(self, page: QWidget) -> None:
        showing = self.showing_models()
        self.removeWidget(self.models_page)
        self.models_page.deleteLater()
        self.models_page = page
        self.addWidget(page)
        if showing:
            self.setCurrentWidget(page)
