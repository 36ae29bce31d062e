"""The "Threads" setting: chosen in the settings dialog, used for the next model load."""

from __future__ import annotations

import os

from desktop.engine.engines import build_engines
from desktop.engine.threads import THREADS_KEY, automatic_threads
from desktop.store import Store
from desktop.ui.settings_dialog import SettingsDialog
from tests.ui.conftest import WindowFactory


def test_threads_spin_box_is_automatic_by_default_and_saved(
    qtbot, make_window: WindowFactory, with_model: Store  # noqa: ANN001
) -> None:
    window = make_window()
    dialog = SettingsDialog(window.store, window.paths, window.theme, window)
    qtbot.addWidget(dialog)
    assert dialog.threads.value() == 0
    assert dialog.threads.text() == f"Automatic ({automatic_threads()})"
    if shot := os.environ.get("OPENWEIGHT_SCREENSHOT_DIR"):
        dialog.grab().save(os.path.join(shot, "settings-threads.png"))
    model = with_model.models.default()
    assert model is not None
    engines = build_engines(with_model)
    try:
        assert engines.local.load_options(model, None).n_threads is None  # the host decides
        dialog.threads.setValue(3)
        dialog.accept()
        assert with_model.settings.get(THREADS_KEY) == 3
        assert engines.local.load_options(model, None).n_threads == 3  # read at each load
        assert build_engines(with_model, threads=0).local.load_options(model, None).n_threads is None
    finally:
        engines.close()
