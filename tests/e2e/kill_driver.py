"""A scripted user for the kill -9 test: edits questions (each edit answered) or makes and
deletes chats, forever, printing each commit as it happens. Usage: kill_driver.py edit|delete
DATA_DIR. Every line printed is already committed to the database."""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

from desktop.chat.session import ChatSession
from desktop.engine.engines import build_engines
from desktop.store import Store
from desktop.store.records import ChatSettings


def say(**fields: object) -> None:
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


def edit(store: Store) -> None:
    engines = build_engines(store)
    session = ChatSession(store, engines)
    settings = ChatSettings(temperature=0.8, max_tokens=24)
    conv = store.history.create_conversation(title="edits", settings=settings)
    first = session.add_user_message(conv.id, "Name a colour.")
    say(committed=[first.id], conversation=conv.id)
    model = session.resolve_model(conv.id)
    question = first
    n = 0
    while True:
        n += 1
        question = session.edit_user_message(question.id, f"Name a colour, version {n}.")
        say(committed=[question.id], conversation=conv.id)
        result = session.answer(conv.id, question, model)
        say(committed=[result.message.id], conversation=conv.id)


def delete(store: Store) -> None:
    rng = random.Random()
    while True:
        conv = store.history.create_conversation(title="to delete")
        parent = None
        ids = []
        for k in range(rng.randint(2, 6)):
            msg = store.history.add_message(conv.id, "user" if k % 2 == 0 else "assistant",
                                            f"line {k} " + "text " * rng.randint(5, 200),
                                            parent_id=parent)
            parent = msg.id
            ids.append(msg.id)
            say(committed=[msg.id], conversation=conv.id)
        say(deleting=conv.id)
        store.history.delete_conversation(conv.id)


def main() -> int:
    what, data_dir = sys.argv[1], Path(sys.argv[2])
    store = Store(data_dir / "openweight.sqlite3")
    {"edit": edit, "delete": delete}[what](store)
    return 0


if __name__ == "__main__":
    sys.exit(main())
