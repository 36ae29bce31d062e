"""The Models page, driven with its buttons against the loopback Hub and a real download manager."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import TypeVar

import huggingface_hub
import pytest
from PySide6.QtWidgets import QLabel, QPushButton, QTreeWidgetItem, QWidget
from pytestqt.qtbot import QtBot

from desktop.library.catalog import load_catalog
from desktop.library.downloads import DownloadManager
from desktop.library.hardware import Machine
from desktop.library.hub import HubClient
from desktop.library.jobs import DownloadProgress, DownloadRequest, DownloadState
from desktop.library.network import OFFLINE_SETTING, offline_check_for
from desktop.library.relocate import MODELS_DIR_SETTING
from desktop.paths import DataPaths, resolve_paths
from desktop.store import ModelFile, Store
from desktop.ui.app import RECOMMEND_DELAY_MS
from desktop.ui.models import ModelsPage
from desktop.ui.models.downloads_tab import DownloadRow
from desktop.ui.models.widgets import FIT_COLOURS
from tests.fakehub import (
    FAST_TRANSFERS,
    MODEL_FILENAME,
    MODEL_REPO,
    SPLIT_REPO,
    FakeHub,
    catalog_entry_for_test_model,
    tiny_gguf,
)

pytest_plugins = ["tests.fakehub.fixtures"]

# A GUI event loop under test answers a little slower than a bare download.
FAST = dataclasses.replace(FAST_TRANSFERS, read_timeout=2.0)
# Small enough that the catalog shows all three fits and all three speeds.
LAPTOP = Machine(ram_bytes=8_000_000_000, cpu_cores=4, memory_bandwidth=30_000_000_000)
MODEL_NAME = MODEL_FILENAME.removesuffix(".gguf")
T = TypeVar("T", bound=QWidget)


@pytest.fixture
def paths(tmp_path: Path) -> DataPaths:
    return resolve_paths(tmp_path / "profile").ensure()


@pytest.fixture
def db(paths: DataPaths) -> Iterator[Store]:
    store = Store(paths.database)
    yield store
    store.close()


@pytest.fixture
def manager(hub_env: FakeHub, paths: DataPaths) -> Iterator[DownloadManager]:
    made = DownloadManager(paths.models_dir, paths.database, settings=FAST)
    yield made
    made.close()


@pytest.fixture
def page(
    qtbot: QtBot, db: Store, paths: DataPaths, manager: DownloadManager
) -> Iterator[ModelsPage]:
    made = ModelsPage(
        db, paths, manager, lambda: HubClient(offline_check_for(paths.database)), machine=LAPTOP
    )
    qtbot.addWidget(made)
    made.resize(1000, 760)
    yield made
    made.shutdown()
    # huggingface_hub keeps its connections open for reuse; the loopback Hub serves each on a
    # thread, and the window tests count every thread left running.
    huggingface_hub.close_session()


def tiny_model(path: Path, size: int = 300_000) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(tiny_gguf(size))
    return path


def search(qtbot: QtBot, page: ModelsPage, query: str) -> None:
    page.show_tab("hub")
    page.hub_tab.query.setText(query)
    page.hub_tab.search_button.click()
    qtbot.waitUntil(lambda: not page.tasks.busy, timeout=20_000)
    qtbot.waitUntil(lambda: "Searching" not in page.hub_tab.status.text(), timeout=5_000)


def choose_repo(qtbot: QtBot, page: ModelsPage, repo_id: str) -> None:
    results = page.hub_tab.results
    (item,) = [
        results.topLevelItem(i)
        for i in range(results.topLevelItemCount())
        if results.topLevelItem(i).text(0) == repo_id
    ]
    results.setCurrentItem(item)
    qtbot.waitUntil(lambda: page.hub_tab.files.topLevelItemCount() > 0, timeout=20_000)


def file_items(page: ModelsPage) -> dict[str, QTreeWidgetItem]:
    files = page.hub_tab.files
    items = {}
    for g in range(files.topLevelItemCount()):
        group = files.topLevelItem(g)
        for c in range(group.childCount()):
            items[group.child(c).text(0)] = group.child(c)
    return items


def cell_widget(page: ModelsPage, item: QTreeWidgetItem, column: int, kind: type[T]) -> T:
    (widget,) = page.hub_tab.files.itemWidget(item, column).findChildren(kind)
    return widget


def download_button(page: ModelsPage, item: QTreeWidgetItem) -> QPushButton:
    return cell_widget(page, item, 3, QPushButton)


def start_test_model_download(qtbot: QtBot, page: ModelsPage) -> DownloadRow:
    search(qtbot, page, "SmolLM2")
    choose_repo(qtbot, page, MODEL_REPO)
    (item,) = file_items(page).values()
    button = download_button(page, item)
    assert button.isEnabled() and button.text() == "Download"
    button.click()
    qtbot.waitUntil(lambda: len(page.downloads_tab.rows) == 1, timeout=5_000)
    (row,) = page.downloads_tab.rows.values()
    return row


def wait_for_state(qtbot: QtBot, row: DownloadRow, state: DownloadState, timeout: int = 60_000):
    qtbot.waitUntil(lambda: row.progress.state == state, timeout=timeout)


# -- catalog ------------------------------------------------------------------------------------
def test_catalog_shows_each_model_with_its_fit_for_this_machine(
    page: ModelsPage, hub_env: FakeHub
) -> None:
    entries = load_catalog()
    assert list(page.catalog_tab.cards) == [e.name for e in entries if e.kind != "embedding"] + [
        e.name for e in entries if e.kind == "embedding"
    ]
    levels, speeds = set(), set()
    for entry in entries:
        card = page.catalog_tab.cards[entry.name]
        fit = entry.fit(LAPTOP)
        levels.add(fit.level)
        assert card.fit_badge.text() == fit.label
        assert card.fit_badge.toolTip() == fit.reason
        assert card.fit_reason.text() == fit.summary
        assert FIT_COLOURS[fit.level] in card.fit_badge.styleSheet()
        if fit.speed is None:  # embedding models, and models too large to run
            assert card.speed_badge.isHidden()
        else:
            assert not card.speed_badge.isHidden() and card.speed_badge.text() == fit.speed.label
            assert card.speed_badge.toolTip() == fit.speed.reason
            assert "tokens/s" in card.fit_reason.text()
            speeds.add(fit.speed.level)
        assert entry.quantization in card.facts.text() and entry.license in card.facts.text()
        assert card.download_button.isEnabled() and card.download_button.text() == "Download"
        assert card.download_button.accessibleName() == f"Download {entry.display_name}"
    assert levels == {"runs_well", "tight", "too_large"}
    assert speeds == {"fast", "usable", "slow"}
    assert hub_env.requests == []  # showing the catalog touches no network


def test_a_catalog_model_already_installed_says_so(
    qtbot: QtBot, page: ModelsPage, db: Store, paths: DataPaths
) -> None:
    entry = load_catalog()[0]
    path = tiny_model(paths.models_dir / entry.repo_id / entry.filename)
    db.models.add(
        ModelFile(name=entry.name, path=str(path), repo_id=entry.repo_id, filename=entry.filename)
    )
    page.refresh()
    button = page.catalog_tab.cards[entry.name].download_button
    assert button.text() == "Installed" and not button.isEnabled()


# -- Hub search ---------------------------------------------------------------------------------
def test_hub_search_lists_repositories_and_their_files_by_quantization(
    qtbot: QtBot, page: ModelsPage, hub_env: FakeHub
) -> None:
    search(qtbot, page, "openweight-test")
    results = page.hub_tab.results
    rows = [results.topLevelItem(i).text(0) for i in range(results.topLevelItemCount())]
    assert rows == [MODEL_REPO, SPLIT_REPO]  # GGUF repos only, most downloaded first
    assert (
        results.topLevelItem(0).text(1) == "5K" and results.topLevelItem(0).text(3) == "2026-07-16"
    )

    choose_repo(qtbot, page, SPLIT_REPO)
    files = page.hub_tab.files
    groups = [files.topLevelItem(i).text(0) for i in range(files.topLevelItemCount())]
    assert sorted(groups) == ["Q4_K_M", "Q8_0"]  # the projector is not offered
    names = list(file_items(page))
    assert any(n.startswith("Tiny-Q4_K_M  (3 parts)") for n in names)
    assert sum("Recommended" in n for n in names) == 1
    assert "missing parts" in page.hub_tab.files_status.text()
    for item in file_items(page).values():
        badges = {
            label.objectName(): label.text()
            for label in page.hub_tab.files.itemWidget(item, 2).findChildren(QLabel)
        }
        assert badges == {"fitBadge": "Fits", "speedBadge": "Fast"}
        assert download_button(page, item).isEnabled()


def test_opening_the_hub_tab_puts_the_cursor_in_its_search_box(
    qtbot: QtBot, page: ModelsPage
) -> None:
    page.show()
    page.show_tab("hub")
    assert page.focusWidget() is page.hub_tab.query


def test_an_older_search_answer_is_dropped(
    qtbot: QtBot, page: ModelsPage, hub_env: FakeHub
) -> None:
    page.hub_tab.query.setText("openweight-test")
    page.hub_tab.search()
    page.hub_tab.query.setText("Tiny-Split")
    page.hub_tab.search()
    qtbot.waitUntil(lambda: not page.tasks.busy, timeout=20_000)
    qtbot.waitUntil(lambda: page.hub_tab.results.topLevelItemCount() > 0, timeout=5_000)
    qtbot.wait(100)  # let the older answer arrive too, if it was last
    assert len(hub_env.seen("hub")) == 2
    results = page.hub_tab.results
    assert [results.topLevelItem(i).text(0) for i in range(results.topLevelItemCount())] == [
        SPLIT_REPO
    ]


def test_hub_errors_are_shown_in_plain_words(
    qtbot: QtBot, page: ModelsPage, hub_env: FakeHub
) -> None:
    search(qtbot, page, "openweight-test")
    removed = hub_env.repos.pop(SPLIT_REPO)  # gone from the Hub between search and click
    try:
        page.hub_tab.results.setCurrentItem(page.hub_tab.results.topLevelItem(1))
        qtbot.waitUntil(lambda: not page.hub_tab.files_error.isHidden(), timeout=20_000)
    finally:
        hub_env.repos[SPLIT_REPO] = removed
    assert "no such repository" in page.hub_tab.files_error.text()


# -- downloads ----------------------------------------------------------------------------------
def test_download_from_the_hub_runs_to_completion_and_is_installed(
    qtbot: QtBot, page: ModelsPage, hub_env: FakeHub, db: Store, paths: DataPaths
) -> None:
    hub_env.faults.throttle_bps = 40_000_000  # slow enough to see progress on the way
    seen: list[DownloadProgress] = []
    page.events.changed.connect(seen.append)
    with qtbot.waitSignal(page.models_changed, timeout=60_000):
        row = start_test_model_download(qtbot, page)
        wait_for_state(qtbot, row, DownloadState.COMPLETED)
    states = [p.state for p in seen]
    assert DownloadState.DOWNLOADING in states and DownloadState.VERIFYING in states
    fractions = [p.fraction for p in seen if p.state == DownloadState.DOWNLOADING and p.fraction]
    assert len(fractions) >= 2 and fractions == sorted(fractions)
    assert row.bar.value() == 1000 and not row.remove_button.isHidden()
    assert row.pause_button.isHidden() and row.cancel_button.isHidden()

    (model,) = db.models.all()
    assert model.name == MODEL_NAME and Path(model.path).is_file()
    assert Path(model.path).is_relative_to(paths.models_dir)
    table = page.installed_tab.table
    assert table.rowCount() == 1 and table.item(0, 0).text() == MODEL_NAME
    assert table.item(0, 2).text() == "Q4_1" and table.item(0, 4).text() == "llama"
    # Its speed here, judged from the file's own header.
    assert table.item(0, 7).text().startswith("Fast, ~") and "tokens/s" in table.item(0, 7).text()
    assert "Fast here: about" in table.item(0, 7).toolTip()
    (item,) = file_items(page).values()
    assert download_button(page, item).text() == "Installed"
    assert page.tabs.tabText(2) == "Downloads"

    row.remove_button.click()
    assert page.downloads_tab.rows == {} and page.downloads.jobs() == []


def test_pause_and_resume_with_the_buttons(
    qtbot: QtBot, page: ModelsPage, hub_env: FakeHub, db: Store
) -> None:
    hub_env.faults.throttle_bps = 8_000_000
    row = start_test_model_download(qtbot, page)
    qtbot.waitUntil(lambda: (row.progress.fraction or 0) > 0.05, timeout=30_000)
    assert page.tabs.tabText(2) == "Downloads (1)"
    row.pause_button.click()
    wait_for_state(qtbot, row, DownloadState.PAUSED, timeout=10_000)
    assert not row.resume_button.isHidden() and row.pause_button.isHidden()
    assert "to go" in row.detail.text()
    paused_at = row.progress.downloaded_bytes
    assert db.models.all() == []

    hub_env.faults.throttle_bps = None
    row.resume_button.click()
    wait_for_state(qtbot, row, DownloadState.COMPLETED)
    assert max(hub_env.range_starts()) > 0  # it carried on from the part file
    assert max(hub_env.range_starts()) <= paused_at
    assert [m.name for m in db.models.all()] == [MODEL_NAME]


def test_cancel_deletes_what_was_downloaded(
    qtbot: QtBot, page: ModelsPage, hub_env: FakeHub, db: Store, paths: DataPaths
) -> None:
    hub_env.faults.throttle_bps = 8_000_000
    row = start_test_model_download(qtbot, page)
    qtbot.waitUntil(lambda: (row.progress.fraction or 0) > 0.02, timeout=30_000)
    row.cancel_button.click()
    wait_for_state(qtbot, row, DownloadState.CANCELLED, timeout=10_000)
    assert not [p for p in paths.models_dir.rglob("*") if p.is_file()]
    assert db.models.all() == []
    (item,) = file_items(page).values()
    assert download_button(page, item).text() == "Download"  # it can be fetched again


def test_a_failed_catalog_download_says_why_and_can_be_tried_again(
    qtbot: QtBot, page: ModelsPage, hub_env: FakeHub
) -> None:
    entry = next(e for e in load_catalog() if e.name == "SmolLM2-135M-Instruct")
    card = page.catalog_tab.cards[entry.name]
    card.download_button.click()  # the loopback Hub does not hold this repository
    (row,) = page.downloads_tab.rows.values()
    assert card.download_button.text() in ("Waiting…", "Downloading…")
    assert not card.download_button.isEnabled()
    wait_for_state(qtbot, row, DownloadState.FAILED, timeout=30_000)
    (first,) = [r for r in hub_env.seen("hub") if r.method == "GET"]
    assert first.path == f"/{entry.repo_id}/resolve/{entry.revision}/{entry.filename}"
    assert "no longer available" in row.progress.message
    assert row.error.text() == row.progress.message and not row.error.isHidden()
    assert row.error.objectName() == "errorText" and row.detail.isHidden()
    assert row.resume_button.text() == "Try again" and not row.resume_button.isHidden()
    # The card says so too, where the download was started.
    assert card.error.text() == row.progress.message and not card.error.isHidden()
    assert card.bar.isHidden() and card.progress_label.isHidden()
    assert card.download_button.text() == "Try again" and card.download_button.isEnabled()
    seen: list[DownloadProgress] = []
    page.events.changed.connect(seen.append)
    card.download_button.click()  # the same download again, not a second one
    qtbot.waitUntil(lambda: DownloadState.FAILED in [p.state for p in seen], timeout=30_000)
    assert {p.job_id for p in seen} == {row.job_id} and len(page.downloads.jobs()) == 1
    assert seen[0].state == DownloadState.QUEUED
    assert list(page.downloads_tab.rows) == [row.job_id] and not card.error.isHidden()


def test_a_catalog_download_shows_its_progress_on_the_card(
    qtbot: QtBot, db: Store, paths: DataPaths, manager: DownloadManager, hub_env: FakeHub
) -> None:
    entry = catalog_entry_for_test_model()
    page = ModelsPage(db, paths, manager, lambda: HubClient(), machine=LAPTOP, catalog=(entry,))
    qtbot.addWidget(page)
    try:
        hub_env.faults.throttle_bps = 20_000_000
        card = page.catalog_tab.cards[entry.name]
        assert card.bar.isHidden() and card.progress_label.isHidden() and card.error.isHidden()
        card.download_button.click()
        qtbot.waitUntil(lambda: 0 < card.bar.value() < 1000, timeout=30_000)
        assert not card.bar.isHidden() and " of 98.4 MB" in card.progress_label.text()
        assert card.download_button.text() == "Downloading…"
        hub_env.faults.throttle_bps = None
        qtbot.waitUntil(lambda: card.download_button.text() == "Installed", timeout=60_000)
        assert card.bar.isHidden() and card.progress_label.isHidden() and card.error.isHidden()
        assert [m.name for m in db.models.all()] == [entry.name]
    finally:
        page.shutdown()
        huggingface_hub.close_session()


# -- offline mode -------------------------------------------------------------------------------
def test_offline_mode_turns_off_network_actions_and_sends_nothing(
    qtbot: QtBot, page: ModelsPage, hub_env: FakeHub, db: Store
) -> None:
    db.settings.set(OFFLINE_SETTING, True)
    page.refresh()
    for tab in (page.catalog_tab, page.hub_tab, page.downloads_tab):
        assert not tab.offline_notice.isHidden()
        assert "Offline mode is on" in tab.offline_notice.text()
    for card in page.catalog_tab.cards.values():
        assert not card.download_button.isEnabled()
        assert "Offline mode is on" in card.download_button.toolTip()
    assert not page.hub_tab.search_button.isEnabled()

    page.hub_tab.query.setText("openweight-test")
    page.hub_tab.search()  # pressing Enter still lands here
    page.download(DownloadRequest(MODEL_REPO, MODEL_FILENAME))
    qtbot.wait(200)
    assert "Offline mode is on" in page.error.text() and not page.error.isHidden()
    assert page.downloads_tab.rows == {} and page.hub_tab.results.topLevelItemCount() == 0
    assert hub_env.requests == []

    db.settings.set(OFFLINE_SETTING, False)
    page.refresh()
    assert page.hub_tab.search_button.isEnabled() and page.hub_tab.offline_notice.isHidden()


# -- installed models ---------------------------------------------------------------------------
def test_delete_asks_first_then_frees_the_disk(
    qtbot: QtBot, page: ModelsPage, db: Store, paths: DataPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tiny_model(paths.models_dir / "owner" / "repo" / "Tiny-Q8_0.gguf")
    db.models.add(ModelFile(name="tiny", path=str(path), size_bytes=path.stat().st_size))
    page.refresh()
    page.show_tab("installed")
    page.installed_tab.select("tiny")
    answers = iter([False, True])
    monkeypatch.setattr(page.installed_tab, "confirm_delete", lambda model: next(answers))
    page.installed_tab.delete_button.click()
    assert path.exists() and len(db.models.all()) == 1  # the user said no
    with qtbot.waitSignal(page.models_changed, timeout=1_000):
        page.installed_tab.delete_button.click()
    assert not path.exists() and db.models.all() == []
    assert page.installed_tab.table.rowCount() == 0 and not page.installed_tab.empty.isHidden()
    assert "freed 300 KB" in page.installed_tab.notice.text()


def test_use_for_new_chats_and_add_a_model_file(
    qtbot: QtBot, page: ModelsPage, db: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = tiny_model(tmp_path / "mine" / "First-Q8_0.gguf")
    second = tiny_model(tmp_path / "mine" / "Second-Q4_0.gguf", 200_000)
    for path in (first, second, tmp_path / "mine" / "not-a-model.gguf"):
        if not path.exists():
            path.write_bytes(b"hello")
        monkeypatch.setattr(page.installed_tab, "choose_model_file", lambda p=path: str(p))
        page.installed_tab.add_button.click()
    assert [m.name for m in db.models.all()] == ["First-Q8_0", "Second-Q4_0"]
    assert "Could not add not-a-model.gguf" in page.installed_tab.error.text()
    assert db.models.default_name == "First-Q8_0"

    page.installed_tab.select("Second-Q4_0")
    with qtbot.waitSignal(page.use_model_requested, timeout=1_000) as chosen:
        page.installed_tab.use_button.click()
    assert chosen.args == ["Second-Q4_0"] and db.models.default_name == "Second-Q4_0"
    assert page.installed_tab.table.item(1, 6).text() == "Used for new chats"


def test_changing_the_models_folder_moves_the_files(
    qtbot: QtBot,
    page: ModelsPage,
    db: Store,
    paths: DataPaths,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    old = tiny_model(paths.models_dir / "owner" / "repo" / "Tiny-Q8_0.gguf")
    db.models.add(ModelFile(name="tiny", path=str(old), size_bytes=old.stat().st_size))
    page.refresh()
    new_folder = tmp_path / "bigger-disk" / "models"
    box = page.folder_box
    monkeypatch.setattr(box, "choose_folder", lambda: str(new_folder))
    monkeypatch.setattr(box, "ask_move_or_find", lambda folder: "move")
    with qtbot.waitSignal(page.models_changed, timeout=20_000):
        box.change_button.click()
    moved = new_folder / "owner" / "repo" / "Tiny-Q8_0.gguf"
    assert moved.is_file() and not old.exists()
    assert db.models.get("tiny").path == str(moved)
    assert db.settings.get(MODELS_DIR_SETTING) == str(new_folder)
    assert page.downloads.models_dir == new_folder  # new downloads go there too
    assert box.path_label.text() == str(new_folder)
    assert "Moved 1 model" in box.status.text() and box.change_button.isEnabled()
    assert page.installed_tab.table.item(0, 0).toolTip() == str(moved)


# -- in the window ------------------------------------------------------------------------------
def test_the_window_opens_this_page_and_its_model_list_follows(
    qtbot: QtBot,
    make_window,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,  # noqa: ANN001
) -> None:
    window = make_window()
    window.welcome.browse_button.click()
    page = window.models_page
    assert isinstance(page, ModelsPage) and window.pages.currentWidget() is page
    model = tiny_model(tmp_path / "mine" / "Tiny-Q8_0.gguf")
    monkeypatch.setattr(page.installed_tab, "choose_model_file", lambda: str(model))
    page.show_tab("installed")
    page.installed_tab.add_button.click()
    assert window.picker.findData("Tiny-Q8_0") >= 0  # the chat's model picker was refreshed
    (back,) = [b for b in page.findChildren(QPushButton) if b.accessibleName() == "Back to chat"]
    back.click()
    assert window.pages.currentWidget() is window.chat
    window.show_models_page()
    assert window.models_page is page  # built once


def test_the_welcome_page_recommends_a_model_and_downloads_it_in_one_click(
    qtbot: QtBot,
    make_window,
    hub_env: FakeHub,
    gui_store: Store,  # noqa: ANN001
) -> None:
    entry = catalog_entry_for_test_model()
    window = make_window(catalog=(entry,), machine=LAPTOP)
    assert window.pages.currentWidget() is window.welcome
    qtbot.waitUntil(lambda: window.welcome.offer_card is not None, timeout=5_000)
    card = window.welcome.offer_card
    assert card.entry == entry and card.speed_badge.text() == entry.fit(LAPTOP).speed.label
    assert "tokens/s" in card.reason.text()
    assert card.download_button.text() == "Download SmolLM2 135M (test) (98.4 MB)"
    hub_env.faults.throttle_bps = 20_000_000
    card.download_button.click()
    qtbot.waitUntil(lambda: 0 < card.bar.value() < 1000, timeout=30_000)
    assert not card.download_button.isEnabled() and " of 98.4 MB" in card.progress_label.text()
    hub_env.faults.throttle_bps = None
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.chat, timeout=60_000)
    assert [m.name for m in gui_store.models.all()] == [entry.name]
    assert window.picker.current_model == entry.name


def test_a_failed_welcome_download_says_why_on_the_welcome_page(
    qtbot: QtBot,
    make_window,
    hub_env: FakeHub,  # noqa: ANN001
) -> None:
    entry = next(e for e in load_catalog() if e.name == "SmolLM2-135M-Instruct")  # not served
    window = make_window(catalog=(entry,), machine=LAPTOP)
    qtbot.waitUntil(lambda: window.welcome.offer_card is not None, timeout=5_000)
    card = window.welcome.offer_card
    card.download_button.click()
    qtbot.waitUntil(lambda: not card.error.isHidden(), timeout=30_000)
    assert "no longer available" in card.error.text() and card.error.objectName() == "errorText"
    assert card.download_button.text() == "Try again" and card.download_button.isEnabled()
    assert card.bar.isHidden() and window.pages.currentWidget() is window.welcome


def test_no_recommendation_once_a_model_is_installed(
    qtbot: QtBot,
    make_window,
    with_model: Store,  # noqa: ANN001
) -> None:
    window = make_window(machine=LAPTOP)
    qtbot.wait(RECOMMEND_DELAY_MS + 200)  # when a recommendation would have been offered
    assert window.pages.currentWidget() is window.chat and window.welcome.offer_card is None


def test_in_offline_mode_the_welcome_download_waits_and_says_why(
    qtbot: QtBot,
    make_window,  # noqa: ANN001
    hub_env: FakeHub,
    gui_store: Store,
) -> None:
    gui_store.settings.set(OFFLINE_SETTING, True)
    window = make_window(catalog=(catalog_entry_for_test_model(),), machine=LAPTOP)
    qtbot.waitUntil(lambda: window.welcome.offer_card is not None, timeout=5_000)
    button = window.welcome.offer_card.download_button
    assert not button.isEnabled() and "Offline mode is on" in button.toolTip()
    assert hub_env.requests == []
