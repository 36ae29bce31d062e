"""The "Run models on" setting reaches llama.cpp through the local engine."""

from __future__ import annotations

from pathlib import Path

from desktop.engine.engines import build_engines
from desktop.engine.options import DEVICE_SETTING, device_layers
from desktop.library.importing import import_model
from desktop.store import Store


def test_each_setting_becomes_load_options(tmp_path: Path, test_model_path: Path) -> None:
    assert device_layers(None) == device_layers("auto") == (None, None)
    assert device_layers("cpu") == (0, None)
    assert device_layers("gpu:1") == (None, 1)
    assert device_layers("gpu:x") == (None, None)  # unreadable: automatic

    store = Store(tmp_path / "db.sqlite")
    engines = build_engines(store)
    try:
        model = import_model(store, str(test_model_path))
        local = engines.local
        store.settings.set(DEVICE_SETTING, "cpu")
        options = local.load_options(model, 1024)
        assert (options.n_gpu_layers, options.main_gpu) == (0, None)
        info = local.load(model, 1024)
        assert info["n_gpu_layers"] == 0 and not info["gpu_offload"] and info["main_gpu"] is None
        assert local.is_loaded(model, 1024)
        # Choosing one GPU: a different load (the next turn reloads), passed to llama.cpp.
        store.settings.set(DEVICE_SETTING, "gpu:0")
        assert not local.is_loaded(model, 1024)
        info = local.load(model, 1024)
        assert info["main_gpu"] == 0 and local.is_loaded(model, 1024)
    finally:
        engines.close()
        store.close()
