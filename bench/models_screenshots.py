"""Screenshots of the Models page, rendered offscreen against the loopback Hub.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/models_screenshots.py

Writes bench/results/screenshots/models-*.png: the catalog with its fit and speed labels for
this computer (light and dark, and for an 8 GB laptop), catalog cards showing their own
download's progress and failure, Hub search with a repository's files, a download in progress
(the Hub throttled so it can be caught mid-way), the installed models, and the catalog in
offline mode. Nothing here reaches the internet.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtWidgets import QApplication, QPushButton  # noqa: E402

from desktop.library.bandwidth import measured_machine  # noqa: E402
from desktop.library.catalog import CatalogFile, load_catalog  # noqa: E402
from desktop.library.downloads import DownloadManager  # noqa: E402
from desktop.library.hardware import Machine  # noqa: E402
from desktop.library.hub import HubClient  # noqa: E402
from desktop.library.importing import import_model  # noqa: E402
from desktop.library.jobs import DownloadState  # noqa: E402
from desktop.library.network import OFFLINE_SETTING, offline_check_for  # noqa: E402
from desktop.library.transfer import TransferSettings  # noqa: E402
from desktop.paths import resolve_paths  # noqa: E402
from desktop.store import Store  # noqa: E402
from desktop.ui.models import ModelsPage  # noqa: E402
from desktop.ui.theme import ThemeManager  # noqa: E402
from tests.fakehub import (  # noqa: E402
    MODEL_FILENAME,
    MODEL_REPO,
    SPLIT_REPO,
    FakeHub,
    catalog_entry_for_test_model,
    locate_test_model,
)

OUT = ROOT / "bench" / "results" / "screenshots"
SIZE = (1100, 820)
# Shows all three fit labels and all three speeds.
LAPTOP = Machine(ram_bytes=8_000_000_000, cpu_cores=4, memory_bandwidth=30_000_000_000)


def wait_until(app: QApplication, condition: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the page did not get there in time")
        app.processEvents()
        time.sleep(0.02)


def shoot(app: QApplication, page: ModelsPage, name: str) -> None:
    for _ in range(5):
        app.processEvents()
        time.sleep(0.02)
    path = OUT / f"models-{name}.png"
    page.grab().save(str(path))
    print(f"saved {path.relative_to(ROOT)}")


def shoot_cards(app: QApplication, store: Store, paths, manager, hub: FakeHub) -> None:  # noqa: ANN001
    """Cards that were clicked: one downloading (a small file the loopback Hub serves, slowed
    down), one that failed (gpt-oss-20b, which the loopback Hub does not hold)."""
    tiny = hub.repos[SPLIT_REPO].files["Tiny-Q8_0.gguf"]
    served = dataclasses.replace(
        catalog_entry_for_test_model("Tiny-test"),
        display_name="Tiny test model",
        repo_id=SPLIT_REPO,
        revision=hub.repos[SPLIT_REPO].commit,
        files=(CatalogFile(tiny.path, tiny.size, tiny.sha256),),
        quantization="Q8_0",
        parameters=None,
    )
    others = tuple(e for e in load_catalog() if e.name in ("gpt-oss-20b", "Llama-3.2-1B-Instruct"))
    page = ModelsPage(
        store, paths, manager, lambda: HubClient(), machine=LAPTOP, catalog=(served, *others)
    )
    page.resize(*SIZE)
    page.show()
    card = page.catalog_tab.cards[served.name]
    page.catalog_tab.cards["gpt-oss-20b"].download_button.click()
    wait_until(app, lambda: not page.catalog_tab.cards["gpt-oss-20b"].error.isHidden())
    hub.faults.throttle_bps = 150_000
    card.download_button.click()
    wait_until(app, lambda: card.bar.value() > 300)
    shoot(app, page, "catalog-cards")
    hub.faults.throttle_bps = None
    wait_until(app, lambda: card.download_button.text() == "Installed")
    page.show_tab("downloads")
    shoot(app, page, "downloads-failed")
    page.shutdown()
    page.close()
    page.deleteLater()


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    theme = ThemeManager(app, mode="light")
    with tempfile.TemporaryDirectory() as tmp, FakeHub() as hub:
        os.environ.update(
            HF_ENDPOINT=hub.url, HF_HUB_OFFLINE="0", HF_HOME=str(Path(tmp) / "hf-home")
        )
        paths = resolve_paths(Path(tmp) / "profile").ensure()
        store = Store(paths.database)
        import_model(store, str(locate_test_model()), name="SmolLM2 135M (my copy)")
        manager = DownloadManager(
            paths.models_dir, paths.database, settings=TransferSettings(free_space_margin=0)
        )
        page = ModelsPage(
            store,
            paths,
            manager,
            lambda: HubClient(offline_check_for(paths.database)),
            machine=measured_machine(store.settings),
        )
        page.resize(*SIZE)
        page.show()
        try:
            shoot(app, page, "catalog")
            laptop = ModelsPage(store, paths, manager, lambda: HubClient(), machine=LAPTOP)
            laptop.resize(*SIZE)
            laptop.show()
            shoot(app, laptop, "catalog-8gb")
            laptop.shutdown()
            laptop.close()
            laptop.deleteLater()
            theme.set_mode("dark")
            shoot(app, page, "catalog-dark")
            theme.set_mode("light")

            page.show_tab("hub")
            page.hub_tab.query.setText("openweight-test")
            page.hub_tab.search()
            wait_until(app, lambda: page.hub_tab.results.topLevelItemCount() > 0)
            page.hub_tab.results.setCurrentItem(page.hub_tab.results.topLevelItem(1))
            wait_until(app, lambda: bool(page.hub_tab._buttons))
            shoot(app, page, "hub")  # the split-model repository: several quantizations
            page.hub_tab.results.setCurrentItem(page.hub_tab.results.topLevelItem(0))
            wait_until(app, lambda: (MODEL_REPO, MODEL_FILENAME) in page.hub_tab._buttons)

            hub.faults.throttle_bps = 4_000_000
            holder = page.hub_tab.files.itemWidget(page.hub_tab.files.topLevelItem(0).child(0), 3)
            (button,) = holder.findChildren(QPushButton)
            button.click()
            page.show_tab("downloads")
            wait_until(
                app,
                lambda: any(
                    (r.progress.fraction or 0) > 0.3 and r.progress.speed_bps > 0
                    for r in page.downloads_tab.rows.values()
                ),
            )
            shoot(app, page, "downloads")
            theme.set_mode("dark")
            shoot(app, page, "downloads-dark")
            theme.set_mode("light")
            hub.faults.throttle_bps = None
            wait_until(
                app,
                lambda: all(
                    r.progress.state == DownloadState.COMPLETED
                    for r in page.downloads_tab.rows.values()
                ),
            )
            shoot(app, page, "downloads-done")

            page.show_tab("installed")
            page.installed_tab.select(MODEL_FILENAME.removesuffix(".gguf"))
            shoot(app, page, "installed")
            theme.set_mode("dark")
            shoot(app, page, "installed-dark")
            theme.set_mode("light")

            shoot_cards(app, store, paths, manager, hub)
            store.settings.set(OFFLINE_SETTING, True)
            page.refresh()
            page.show_tab("catalog")
            shoot(app, page, "offline")
            print(f"requests the Hub saw: {len(hub.requests)} (repo {MODEL_REPO})")
        finally:
            page.shutdown()
            manager.close()
            page.close()
            page.deleteLater()
            app.processEvents()
            store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
