"""The chat on screen: a saved conversation, or a new one that is saved with its first message
(so opening the app or pressing Ctrl+N never leaves empty chats behind)."""

from __future__ import annotations

from collections.abc import Callable

from desktop.chat.defaults import chat_defaults, default_system_prompt
from desktop.store import Store
from desktop.store.history import NotFoundError
from desktop.store.records import ChatSettings, ModelFile


class OpenChat:
    def __init__(self, store: Store,
                 remote: Callable[[str | None], ModelFile | None] | None = None) -> None:
        self.store = store
        self.remote = remote or (lambda name: None)  # a server's model by "Server/model"
        self.history = store.history
        self.conversation_id: int | None = None
        # What a new chat will be saved with; chosen before its first message.
        self.pending_model: str | None = None
        self.pending_settings = ChatSettings()
        self.pending_system_prompt: str | None = None
        self.pending_collections: list[str] = []

    def start_new(self) -> None:
        self.conversation_id = None
        self.pending_model = None
        self.pending_settings = ChatSettings()
        self.pending_system_prompt = None
        self.pending_collections = []

    def open(self, conversation_id: int) -> None:
        self.conversation_id = conversation_id

    def exists(self) -> bool:
        if self.conversation_id is None:
            return False
        try:
            self.history.conversation(self.conversation_id)
        except NotFoundError:
            return False
        return True

    def title(self) -> str | None:
        if not self.exists():
            return None
        return self.history.conversation(self.conversation_id).title  # type: ignore[arg-type]

    def save(self, model_name: str | None) -> int:
        """The conversation's id, saving the new chat first if it is new."""
        if self.conversation_id is None:
            settings, prompt = self.settings()
            conv = self.history.create_conversation(
                model=model_name, system_prompt=prompt, settings=settings
            )
            self.conversation_id = conv.id
            if self.pending_collections:
                self.history.update_conversation(conv.id, collections=self.pending_collections)
        return self.conversation_id

    # -- documents -----------------------------------------------------------------------

    def collections(self) -> list[str]:
        """The document collections this chat answers from."""
        if self.conversation_id is None:
            return list(self.pending_collections)
        return self.history.conversation(self.conversation_id).collections

    def choose_collections(self, names: list[str]) -> None:
        if self.conversation_id is None:
            self.pending_collections = list(names)
        else:
            self.history.update_conversation(self.conversation_id, collections=names)

    # -- model ---------------------------------------------------------------------------

    def model_name(self) -> str | None:
        """The chat's model if it is still installed, else the default one."""
        models = self.store.models
        if self.conversation_id is not None:
            conv = self.history.conversation(self.conversation_id)
            found = models.find(conv.model) if conv.model else None
            if found is not None:
                return found.name
            if self.remote(conv.model) is not None:
                return conv.model
        elif self.pending_model:
            return self.pending_model
        default = models.default()
        return default.name if default else None

    def choose_model(self, name: str) -> None:
        if self.conversation_id is None:
            self.pending_model = name
        else:
            self.history.update_conversation(self.conversation_id, model=name)

    def find_model(self, name: str | None) -> ModelFile | None:
        if not name:
            return self.store.models.default()
        return self.store.models.find(name) or self.remote(name)

    # -- settings ------------------------------------------------------------------------

    def settings(self) -> tuple[ChatSettings, str]:
        """The chat's own settings (gaps mean 'the default') and its system prompt."""
        if self.conversation_id is None:
            prompt = self.pending_system_prompt
            if prompt is None:
                prompt = default_system_prompt(self.store.settings)
            return self.pending_settings, prompt
        conv = self.history.conversation(self.conversation_id)
        return conv.settings, conv.system_prompt

    def merged_settings(self) -> ChatSettings:
        return self.settings()[0].merged_over(chat_defaults(self.store.settings))

    def save_settings(self, settings: ChatSettings, system_prompt: str) -> None:
        if self.conversation_id is None:
            self.pending_settings, self.pending_system_prompt = settings, system_prompt
        else:
            self.history.update_conversation(
                self.conversation_id, settings=settings, system_prompt=system_prompt
            )
