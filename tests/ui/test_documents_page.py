"""The Documents page and answers with sources, in the real window with the real test model."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QWidget

from desktop.documents import DocumentIndex
from desktop.paths import DataPaths
from desktop.store import Store
from desktop.ui.documents.page import DocumentsPage
from desktop.ui.main_window import MainWindow
from desktop.ui.transcript.sources_view import SourcesView
from tests.ui.conftest import wait_for_answer

ARTIFACTS = Path(__file__).resolve().parents[1] / "_artifacts"


def notes_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "lighthouse.md").write_text(
        "# The lighthouse\n\nThe keeper of the Skerry lighthouse is Morag Quill. She lights "
        "the lamp at dusk and writes the weather in the log every night.\n")
    (folder / "garden.txt").write_text(
        "The community garden grows beans, leeks and potatoes. Volunteers meet on Saturdays.\n")
    (folder / "photo.txt").write_bytes(bytes(range(256)) * 40)  # binary with a text name
    return folder


def open_documents(qtbot, window: MainWindow) -> DocumentsPage:  # noqa: ANN001
    qtbot.mouseClick(window.sidebar.documents_button, Qt.MouseButton.LeftButton)
    page = window.pages.documents_page
    assert isinstance(page, DocumentsPage) and window.pages.currentWidget() is page
    return page


def test_a_folder_is_indexed_with_progress_and_answers_cite_it(
        qtbot, tmp_path: Path, window: MainWindow, with_model: Store, paths: DataPaths) -> None:  # noqa: ANN001
    folder = notes_folder(tmp_path)
    page = open_documents(qtbot, window)
    assert page.empty.isVisible()  # nothing yet: the page says how to begin
    progress_seen: list[str] = []
    page.indexing.progressed.connect(lambda p: progress_seen.append(p.state))
    page.ask_name = lambda: "Notes"  # type: ignore[method-assign]
    page.choose_folder = lambda: str(folder)  # type: ignore[method-assign]

    qtbot.mouseClick(page.new_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not page.indexing.running, timeout=60_000)
    assert page.selected == "Notes"
    assert "2 files" in page.summary.text()  # the two readable notes
    assert page.skipped.topLevelItemCount() == 1  # the binary one, with its reason
    reason = page.skipped.topLevelItem(0).text(1)
    assert page.skipped.topLevelItem(0).text(0) == "photo.txt" and reason
    assert "keywords only" in page.search_kind.text()  # no embedding model installed
    assert progress_seen  # progress reached the page while it worked
    ARTIFACTS.mkdir(exist_ok=True)
    page.grab().save(str(ARTIFACTS / "documents-page.png"))

    # Back in the chat, the new collection is offered; choosing it makes answers cite it.
    qtbot.mouseClick(page.back_button, Qt.MouseButton.LeftButton)
    picker = window.chat.documents_picker
    assert picker.collections == ["Notes"]
    picker.menu_.actions()[0].trigger()
    assert picker.chosen == ["Notes"] and picker.text() == "Documents: Notes"

    # The context meter says what passages may take before sending, and what they took after.
    qtbot.keyClicks(window.composer.field, "Who is the keeper of the lighthouse?")
    meter = window.chat.status
    qtbot.waitUntil(lambda: meter.use is not None and meter.use.documents_room > 0)
    assert "up to" in meter.meter_label.text() and "from documents" in meter.meter_label.text()
    qtbot.wait(100)  # let the layout take the new text before the picture
    window.grab().save(str(ARTIFACTS / "documents-before-sending.png"))
    while_answering: list = []  # the meter as the answer starts (the window's slot runs first)
    window.controller.prompt_measured.connect(lambda *_: while_answering.append(meter.use))
    qtbot.keyClick(window.composer.field, Qt.Key.Key_Return)
    wait_for_answer(qtbot, window)
    answer = [m for m in window.transcript.messages if m.role == "assistant"][-1]
    stored = with_model.history.message(answer.id)
    assert stored.sources and Path(stored.sources[0]["path"]).name == "lighthouse.md"
    # Counted by the model: the passage with its numbered heading and the instruction.
    took = stored.stats["source_tokens"]
    assert 30 < took < 200
    [use] = while_answering
    assert use.documents == took and use.exact and use.tokens > took
    assert f"{took:,} from documents" in use.describe()
    assert with_model.history.conversation(stored.conversation_id).collections == ["Notes"]
    widget = window.transcript.widget_for(answer.id)
    assert widget is not None and widget.sources.isVisible()
    assert "lighthouse.md" in widget.sources.items[0].text()
    assert "<b>" in widget.sources.items[0].text()  # the question's words are marked

    opened: list[tuple[str, int | None]] = []
    SourcesView.opener = staticmethod(lambda path, page_no: opened.append((path, page_no)) or True)  # type: ignore[assignment]
    try:
        widget.sources.items[0].linkActivated.emit("source:0")
    finally:
        del SourcesView.opener
    assert opened == [(str(folder.resolve() / "lighthouse.md"), None)]
    qtbot.wait(100)
    window.grab().save(str(ARTIFACTS / "documents-answer.png"))


def test_a_changed_folder_is_indexed_again_while_the_app_runs(
        qtbot, tmp_path: Path, window: MainWindow, paths: DataPaths) -> None:  # noqa: ANN001
    folder = notes_folder(tmp_path)
    page = open_documents(qtbot, window)
    page.ask_name = lambda: "Notes"  # type: ignore[method-assign]
    page.choose_folder = lambda: str(folder)  # type: ignore[method-assign]
    page.indexing.watcher.interval = 0.2  # type: ignore[union-attr]
    qtbot.mouseClick(page.new_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not page.indexing.running, timeout=60_000)

    (folder / "new.md").write_text("# Ferry\n\nThe ferry leaves at noon.\n")
    qtbot.waitUntil(lambda: "3 files" in page.summary.text(), timeout=30_000)
    index = DocumentIndex(paths.documents_database)
    try:
        assert any(p.endswith("new.md") for p in index.files(index.get("Notes").id))
    finally:
        index.close()


def drop_files(window: MainWindow, onto: QWidget, files: list[Path]) -> bool:
    """Drag files over a widget and drop them, as the window system delivers it."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(f)) for f in files])
    point = onto.mapTo(window, onto.rect().center())
    buttons, keys = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(point, Qt.DropAction.CopyAction, mime, buttons, keys)
    QApplication.sendEvent(window.windowHandle(), enter)
    drop = QDropEvent(QPointF(point), Qt.DropAction.CopyAction, mime, buttons, keys)
    QApplication.sendEvent(window.windowHandle(), drop)
    return enter.isAccepted() and drop.isAccepted()


def test_dropped_files_go_where_they_belong(
        qtbot, tmp_path: Path, make_window, gui_store: Store, test_model_path: Path,  # noqa: ANN001
        embedding_model_path: Path, paths: DataPaths) -> None:
    folder = notes_folder(tmp_path)
    window = make_window()
    assert window.pages.currentWidget() is window.welcome  # no model yet
    # A chat model, an embedding model and a folder, dropped together on the welcome page.
    assert drop_files(window, window.welcome, [test_model_path, embedding_model_path, folder])
    assert [m.name for m in gui_store.models.chat_models()] == [test_model_path.stem]
    assert window.picker.current_model == test_model_path.stem
    embedding = [m for m in gui_store.models.all() if m.kind == "embedding"]
    assert [m.name for m in embedding] == [embedding_model_path.stem]
    page = window.pages.documents_page
    assert isinstance(page, DocumentsPage) and window.pages.currentWidget() is page
    qtbot.waitUntil(lambda: not page.indexing.running, timeout=120_000)
    assert page.selected == "notes" and "2 files" in page.summary.text()
    assert "keywords only" not in page.search_kind.text()  # the dropped embedding model is used

    # Back in a chat, a file dropped on the message box joins the collection, not the text.
    qtbot.mouseClick(page.back_button, Qt.MouseButton.LeftButton)
    extra = tmp_path / "ferry.md"
    extra.write_text("# Ferry\n\nThe ferry leaves at noon.\n")
    assert drop_files(window, window.composer.field, [extra])
    assert window.composer.text == ""
    assert window.pages.currentWidget() is page
    qtbot.waitUntil(lambda: not page.indexing.running and "3 files" in page.summary.text(),
                    timeout=60_000)
    index = DocumentIndex(paths.documents_database)
    try:
        assert sorted(index.get("notes").paths) == sorted([str(folder.resolve()), str(extra.resolve())])
    finally:
        index.close()
