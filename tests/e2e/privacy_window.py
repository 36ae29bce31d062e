"""A scripted window session for the privacy test: add a model, chat, search, export, open
the model library, close. Run as a script: privacy_window.py DATA_DIR MODEL EXPORT_FILE."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from PySide6.QtWidgets import QApplication, QFileDialog

from desktop.chat.defaults import save_chat_defaults
from desktop.paths import resolve_paths
from desktop.store import Store
from desktop.store.records import ChatSettings
from desktop.ui.app import build_window

QUESTION = "What is the capital of France?"


def wait(app: QApplication, done, timeout: float = 120) -> bool:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        app.processEvents()
        if done():
            return True
        time.sleep(0.02)
    return False


def main() -> int:
    data_dir, model, export_file = sys.argv[1:4]
    app = QApplication([])
    paths = resolve_paths(data_dir).ensure()
    store = Store(paths.database)
    save_chat_defaults(store.settings, ChatSettings(temperature=0.0, max_tokens=24))
    window = build_window(app, store, paths, choose_model_file=lambda: model)
    window.show()
    window.add_model_file()  # "Add a model file…", the file chosen
    window.new_chat()
    window.send(QUESTION)
    answered = wait(app, lambda: not window.controller.busy and window.conversation_id is not None
                    and len(store.history.messages(window.conversation_id)) == 2
                    and store.history.messages(window.conversation_id)[1].status == "complete")
    window.sidebar.filter.setText("capital")  # search the history
    wait(app, lambda: False, timeout=1.0)
    QFileDialog.getSaveFileName = staticmethod(lambda *a, **k: (export_file, ""))  # type: ignore[method-assign]
    window.actions_.export(window.conversation_id, "md")
    window.show_models_page()  # the model library opens (catalog, installed, downloads)
    wait(app, lambda: False, timeout=2.0)
    window.close()
    store.close()
    answer = Path(export_file).read_text(encoding="utf-8") if Path(export_file).exists() else ""
    print(json.dumps({"answered": answered, "exported": answer}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
