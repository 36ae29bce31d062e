"""Where models run: the setting, what the engine is told, and what the window says answered."""

from __future__ import annotations

from PySide6.QtCore import Qt

from desktop.engine.options import DEVICE_SETTING
from desktop.library.hardware import GPU
from desktop.store import Store
from desktop.ui.device_section import DeviceSection, running_on
from desktop.ui.main_window import MainWindow
from desktop.ui.settings_dialog import SettingsDialog
from desktop.ui.status_area import StatusArea
from desktop.ui.theme import LIGHT
from tests.ui.conftest import QUESTION, WindowFactory, wait_for_answer

GB = 1_000_000_000
# What llama.cpp logs while loading, as LlamaEngine collects it in the summary's "devices".
CUDA_LINES = [
    "llama_model_load_from_file_impl: using device CUDA0 (NVIDIA GeForce RTX 4090) "
    "(0000:01:00.0) - 23101 MiB free",
    "load_tensors: offloaded 25/25 layers to GPU",
]
FALLBACK = "The model did not fit on the GPU, so it runs on the CPU instead."


def ask(qtbot, window: MainWindow) -> None:  # noqa: ANN001
    qtbot.keyClicks(window.composer.field, QUESTION)
    qtbot.keyClick(window.composer.field, Qt.Key.Key_Return)
    wait_for_answer(qtbot, window)


def test_the_window_says_which_device_answered_and_follows_the_setting(
    qtbot,
    make_window: WindowFactory,
    with_model: Store,  # noqa: ANN001
) -> None:
    window = make_window()
    status = window.chat.status
    assert status.device.isHidden()  # nothing loaded yet
    ask(qtbot, window)
    assert status.device.text() == "Running on CPU" and not status.device.isHidden()
    assert "threads" in status.device.toolTip()
    local = window.bridge.worker.engines.local  # type: ignore[union-attr]
    assert local.client.loaded_options.n_gpu_layers is None  # automatic

    dialog = SettingsDialog(window.store, window.paths, window.theme, window)
    qtbot.addWidget(dialog)
    dialog.device.choice.setCurrentIndex(dialog.device.choice.findText("CPU only"))
    dialog.accept()
    assert with_model.settings.get(DEVICE_SETTING) == "cpu"
    ask(qtbot, window)  # the model is loaded again, on the CPU only
    assert local.client.loaded_options.n_gpu_layers == 0
    assert local.client.loaded["n_gpu_layers"] == 0 and not local.client.loaded["gpu_offload"]
    assert status.device.text() == "Running on CPU"

    dialog = SettingsDialog(window.store, window.paths, window.theme, window)
    qtbot.addWidget(dialog)
    assert dialog.device.choice.currentText() == "CPU only"
    dialog.device.choice.setCurrentIndex(dialog.device.choice.findText("Automatic"))
    dialog.accept()
    assert with_model.settings.get(DEVICE_SETTING) is None


def test_the_device_line_reads_the_load_summary(qtbot) -> None:  # noqa: ANN001
    on_gpu = {"gpu_offload": True, "n_gpu_layers": -1, "devices": CUDA_LINES, "warnings": []}
    assert running_on(on_gpu)[0] == "Running on NVIDIA GeForce RTX 4090"
    split = dict(on_gpu, devices=[CUDA_LINES[0], "load_tensors: offloaded 12/25 layers to GPU"])
    text, tooltip, warn = running_on(split)
    assert text == "Running on NVIDIA GeForce RTX 4090 and the CPU (12 of 25 layers on the GPU)"
    assert "the rest run on the CPU" in tooltip and not warn
    fell_back = {
        "gpu_offload": False,
        "n_gpu_layers": 0,
        "n_threads": 8,
        "devices": [],
        "warnings": [FALLBACK],
    }
    assert running_on(fell_back) == (
        FALLBACK,
        "Running on CPU. All of the model runs on the CPU with 8 threads. "
        f"{FALLBACK} Choose the device in Settings.",
        True,
    )
    status = StatusArea(LIGHT)
    qtbot.addWidget(status)
    status.show_device(fell_back)
    assert status.device.text() == FALLBACK and LIGHT.warning in status.device.styleSheet()
    status.show_device(on_gpu)
    assert status.device.styleSheet() == "" and "RTX 4090" in status.device.text()
    status.show_device(None)
    assert status.device.isHidden()


def test_the_settings_section_offers_each_gpu(qtbot, gui_store: Store) -> None:  # noqa: ANN001
    gpus = (GPU("NVIDIA GeForce RTX 4090", 24 * GB, "cuda"), GPU("NVIDIA A2", 16 * GB, "cuda"))
    section = DeviceSection(gui_store.settings, gpus)
    qtbot.addWidget(section)
    items = [section.choice.itemText(i) for i in range(section.choice.count())]
    assert items == ["Automatic", "CPU only", "GPU 1: NVIDIA GeForce RTX 4090", "GPU 2: NVIDIA A2"]
    section.choice.setCurrentIndex(3)
    section.save(gui_store.settings)
    assert gui_store.settings.get(DEVICE_SETTING) == "gpu:1"
    # A chosen GPU that is not found now stays chosen, not silently switched.
    gui_store.settings.set(DEVICE_SETTING, "gpu:2")
    again = DeviceSection(gui_store.settings, gpus[:1])
    qtbot.addWidget(again)
    assert again.choice.currentText() == "GPU 3" and again.choice.currentData() == "gpu:2"
