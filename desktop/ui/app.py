"""The composition root: builds the store, the engine thread, the theme and the window."""

from __future__ import annotations

import logging
import signal
import sys
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QGuiApplication, QIcon, QPixmap
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from desktop.engine.client import EngineClient
from desktop.engine.options import CPU_ONLY, DEVICE_SETTING
from desktop.library.jobs import DownloadProgress, DownloadState
from desktop.logs import setup_logging
from desktop.paths import DataPaths, resolve_paths
from desktop.store import Store, StoreError
from desktop.store.startup import open_at_startup
from desktop.ui.api_server import ApiServerSwitch, ServeHooks
from desktop.ui.engine_bridge import EngineBridge
from desktop.ui.error_dialog import ErrorReporter
from desktop.ui.main_window import FileChooser, MainWindow
from desktop.ui.qt_logging import route_qt_messages
from desktop.ui.single_instance import SingleInstance, bring_forward
from desktop.ui.theme import FONT_SIZE_KEY, THEME_KEY, ThemeManager

if TYPE_CHECKING:
    from desktop.library.catalog import CatalogEntry
    from desktop.library.hardware import Machine

log = logging.getLogger("openweight.ui")

APP_NAME = "Openweight"
RECOMMEND_DELAY_MS = 250


def build_window(
    app: QApplication,
    store: Store,
    paths: DataPaths,
    make_client: Callable[[], EngineClient] = EngineClient,
    choose_model_file: FileChooser | None = None,
    serve: ServeHooks | None = None,
    catalog: tuple[CatalogEntry, ...] | None = None,
    machine: Machine | None = None,
) -> MainWindow:
    """Everything the window needs, made here and handed in; nothing is global.

    serve: the API server package, handed in by the entry point (front ends never import
    each other); without it Settings has no server switch. catalog and machine stand in for
    the shipped catalog and this computer (tests)."""
    theme = ThemeManager(
        app, store.settings.get(THEME_KEY, "system"), store.settings.get(FONT_SIZE_KEY)
    )
    bridge = EngineBridge(Path(store.path), make_client)
    window = MainWindow(store, paths, bridge, theme, choose_model_file)
    attach_model_library(window, store, paths, catalog=catalog, machine=machine)
    attach_documents(window, store, paths, bridge)
    bridge.start()
    if serve is not None:
        window.api_server = ApiServerSwitch(store, bridge, serve, window)
        QTimer.singleShot(0, window.api_server.restore)  # after the window is up
    window.start()
    return window


def attach_model_library(
    window: MainWindow,
    store: Store,
    paths: DataPaths,
    *,
    catalog: tuple[CatalogEntry, ...] | None = None,
    machine: Machine | None = None,
) -> None:
    """The Models page, built the first time it is asked for (start-up stays light), and the
    welcome page's recommended model; downloads pause, keeping their part files, when the
    window closes."""
    from desktop.library.downloads import DownloadManager
    from desktop.library.relocate import models_folder

    downloads = DownloadManager(models_folder(paths, store.settings), paths.database)
    measured: list[Machine] = [machine] if machine is not None else []
    welcome_events: list[Any] = []
    closed = False

    def this_machine() -> Machine:
        """Measured once (memory bandwidth is remembered in the settings), as the engine
        will use it: without its GPUs when the user chose the CPU only."""
        from desktop.engine.threads import generation_threads
        from desktop.library.bandwidth import measured_machine

        if not measured:
            measured.append(measured_machine(store.settings))
        machine = measured[0].with_threads(generation_threads(store.settings))
        if store.settings.get(DEVICE_SETTING) == CPU_ONLY:
            return machine.without_gpus()
        return machine

    def the_catalog() -> tuple[CatalogEntry, ...]:
        from desktop.library.catalog import load_catalog

        return catalog if catalog is not None else load_catalog()

    def open_page() -> None:
        from desktop.library.hub import HubClient
        from desktop.library.network import offline_check_for
        from desktop.ui.models import ModelsPage

        if isinstance(window.models_page, ModelsPage):
            return
        downloads.restore()  # downloads cut short by a quit or crash show as paused
        window.set_models_page(
            ModelsPage(
                store,
                paths,
                downloads,
                lambda: HubClient(offline_check_for(paths.database)),
                machine=this_machine(),
                catalog=the_catalog(),
            )
        )

    def recommend() -> None:
        """First run (or every model removed): offer the catalog model that suits this computer."""
        from desktop.library.catalog import recommend_entry
        from desktop.library.network import OFFLINE_SETTING
        from desktop.ui.models.downloads_tab import DownloadEvents

        if closed or window.pages.currentWidget() is not window.welcome:
            return
        if store.models.chat_models():
            return
        choice = recommend_entry(the_catalog(), this_machine())
        if choice is None:
            return
        window.welcome.offer(*choice, offline=bool(store.settings.get(OFFLINE_SETTING, False)))
        if not welcome_events:
            events = DownloadEvents(downloads, window)
            events.changed.connect(welcome_progress)
            welcome_events.append(events)

    def welcome_progress(progress: DownloadProgress) -> None:
        window.welcome.show_progress(progress)
        if progress.state == DownloadState.COMPLETED and progress.model is not None:
            window.refresh_models()  # the chat takes the welcome page's place

    def download_recommended(entry: CatalogEntry) -> None:
        from desktop.library.errors import LibraryError
        from desktop.library.jobs import DownloadRequest

        try:
            downloads.enqueue(DownloadRequest.from_catalog(entry))
        except LibraryError as exc:  # offline mode, or the disk is full
            if window.welcome.offer_card is not None:
                window.welcome.offer_card.show_failure(str(exc))

    def close() -> None:
        nonlocal closed
        closed = True  # the store closes next: a recommendation due later must not touch it
        for events in welcome_events:
            events.detach()
        shutdown = getattr(window.models_page, "shutdown", None)
        if shutdown is not None:
            shutdown()
        downloads.close()

    window.models_page_requested.connect(open_page)
    window.welcome.download_requested.connect(download_recommended)
    window.pages.currentChanged.connect(lambda _index: recommend())
    # Once the window has painted: the first time, measuring the memory takes a moment.
    QTimer.singleShot(RECOMMEND_DELAY_MS, recommend)
    _on_close(window, close)


WATCH_DELAY_MS = 2000  # watched folders are first checked once the window has settled


def attach_documents(window: MainWindow, store: Store, paths: DataPaths,
                     bridge: EngineBridge) -> None:
    """The Documents page and its background indexing, built on first use — or soon after
    start-up when collections exist, so that changes to watched folders are indexed while
    the app runs. Indexing embeds through the chat's engine (one embedding host for both)."""
    from desktop.engine.api import EngineError
    from desktop.engine.local import LocalEngine
    from desktop.store.records import ModelFile

    built: list[Any] = []

    class WorkerEngine:
        """The chat worker's local engine, once it is open (one embedding host for both)."""

        def local(self) -> LocalEngine:
            bridge.worker.opened.wait(30)
            engines = bridge.worker.engines
            if engines is None:
                raise EngineError("The model engine is not running.", "crash")
            return engines.local

        def embed(self, model: ModelFile, texts: list[str]) -> list[list[float]]:
            return self.local().embed(model, texts)

        def token_counts(self, model: ModelFile, texts: list[str]) -> list[int]:
            return self.local().token_counts(model, texts)

    def installed() -> list[ModelFile]:
        """Read in the indexing thread, which needs its own connection (DESIGN rule 6)."""
        own = Store(paths.database)
        try:
            return own.models.all()
        finally:
            own.close()

    def indexing() -> Any:
        if not built:
            from desktop.ui.documents.indexing import DocumentsIndexing

            built.append(DocumentsIndexing(paths.documents_database, WorkerEngine(), installed,
                                           parent=window))
            built[0].start_watching()
        return built[0]

    def open_page() -> None:
        from desktop.ui.documents.page import DocumentsPage

        if isinstance(window.pages.documents_page, DocumentsPage):
            return
        page = DocumentsPage(paths.documents_database, indexing())
        window.set_documents_page(page, page.back_requested, page.collections_changed)

    def watch_if_needed() -> None:
        if paths.documents_database.exists():
            indexing()

    def close() -> None:
        if built:
            built[0].shutdown()  # before the engine it embeds with closes

    window.documents_page_requested.connect(open_page)
    QTimer.singleShot(WATCH_DELAY_MS, watch_if_needed)
    _on_close(window, close)


class _CloseWatcher(QObject):
    def __init__(self, widget: QWidget, callback: Callable[[], None]) -> None:
        super().__init__(widget)
        self.callback = callback
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.Close:
            self.callback()
        return False


def _on_close(widget: QWidget, callback: Callable[[], None]) -> None:
    """Run callback when the widget is closed (before its own closeEvent)."""
    _CloseWatcher(widget, callback)


def _app_icon() -> QIcon:
    """The app's icon at every size we ship (found through the package, so frozen builds work)."""
    icon = QIcon()
    folder = resources.files("desktop") / "resources" / "icons"
    for size in (16, 32, 48, 64, 128, 256):
        data = (folder / f"openweight-{size}.png").read_bytes()
        pixmap = QPixmap()
        pixmap.loadFromData(data, "PNG")
        icon.addPixmap(pixmap)
    return icon


def run_app(data_dir: str | None = None, serve: ServeHooks | None = None) -> int:
    launched = time.perf_counter()
    paths = resolve_paths(data_dir).ensure()
    setup_logging(paths.log_file)
    route_qt_messages()
    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
        Qt.HighDpiScaleFactorRoundingPolicy.PassThrough
    )
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName(APP_NAME)
    app.setDesktopFileName("openweight")
    app.setWindowIcon(_app_icon())
    instance = SingleInstance(paths.data_dir)
    if not instance.acquire():
        if instance.ask_first_to_show():
            sys.stderr.write(
                "Openweight is already open for this data folder; its window was brought "
                "forward.\n"
            )
            return 0
        # The lock's owner does not answer: a crashed window whose process id was reused.
        instance.lock.removeStaleLockFile()
        if not instance.acquire():
            QMessageBox.critical(
                None, "Openweight is already open",
                f"Another Openweight window is using {paths.data_dir} but does not answer. "
                "Close it (or end it in your task manager) and open Openweight again.",
            )
            return 1
    try:
        opened = open_at_startup(paths.database)
    except StoreError as exc:
        instance.release()
        QMessageBox.critical(None, "Openweight cannot open your chats", str(exc))
        return 1
    store = opened.store
    window = build_window(app, store, paths, serve=serve)  # type: ignore[arg-type]
    reporter = ErrorReporter(window)
    reporter.install()
    instance.activation_requested.connect(lambda: bring_forward(window))
    window.show()
    log.info("window shown %.3f s after the app started", time.perf_counter() - launched)
    for notice in opened.notices:
        sys.stderr.write(f"openweight: {notice}\n")
        QTimer.singleShot(0, lambda text=notice: QMessageBox.information(
            window, "About your history", text))
    _quit_on_signals(app)
    try:
        return int(app.exec())
    finally:
        window.shutdown()
        store.close()
        reporter.uninstall()
        instance.release()


def _quit_on_signals(app: QApplication) -> None:
    """Ctrl+C in the terminal (or a polite kill) closes the window the normal way."""

    def close(*_: object) -> None:
        QTimer.singleShot(0, app.closeAllWindows)

    for name in ("SIGINT", "SIGTERM"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), close)
    # Python only runs signal handlers between bytecodes: wake it up now and then.
    timer = QTimer(app)
    timer.timeout.connect(lambda: None)
    timer.start(250)
