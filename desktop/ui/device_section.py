"""Settings: where models run (automatic, the CPU only, or one GPU), and the line that says
which device answered."""

from __future__ import annotations

import re
from typing import Any

from PySide6.QtWidgets import QComboBox, QFormLayout, QGroupBox, QLabel, QWidget

from desktop.engine.options import AUTO, CPU_ONLY, DEVICE_SETTING, gpu_choice
from desktop.library.hardware import GPU
from desktop.store.settings import Settings


class DeviceSection(QGroupBox):
    """'Run models on: Automatic / CPU only / GPU N', saved when the dialog is accepted."""

    def __init__(self, settings: Settings, gpus: tuple[GPU, ...], parent: QWidget | None = None):
        super().__init__("Hardware", parent)
        form = QFormLayout(self)
        self.choice = QComboBox(self)
        self.choice.setAccessibleName("Run models on")
        self.choice.addItem("Automatic", AUTO)
        self.choice.addItem("CPU only", CPU_ONLY)
        for index, gpu in enumerate(gpus):
            self.choice.addItem(f"GPU {index + 1}: {gpu.name}", gpu_choice(index))
        saved = settings.get(DEVICE_SETTING) or AUTO
        if self.choice.findData(saved) < 0 and str(saved).startswith("gpu:"):
            # A GPU not seen now (another driver, or unplugged): keep the choice visible.
            number = str(saved)[4:]
            self.choice.addItem(f"GPU {int(number) + 1 if number.isdigit() else number}", saved)
        self.choice.setCurrentIndex(max(0, self.choice.findData(saved)))
        form.addRow("Run models on", self.choice)
        found = (
            "No graphics card was found; Automatic still uses one if llama.cpp finds it."
            if not gpus
            else "Automatic uses the GPU when the model fits in its memory, and the CPU for "
            "what does not."
        )
        note = QLabel(f"{found} A change applies the next time a model loads.", self)
        note.setObjectName("muted")
        note.setWordWrap(True)
        form.addRow(note)

    def save(self, settings: Settings) -> None:
        value = self.choice.currentData()
        settings.set(DEVICE_SETTING, None if value == AUTO else value)


def running_on(info: dict[str, Any] | None) -> tuple[str, str, bool]:
    """(text, tooltip, warn) for the device a loaded model runs on, from the engine's load
    summary: 'Running on CPU', 'Running on NVIDIA GeForce RTX 4090', and any load warnings."""
    if not info:
        return "", "", False
    lines = [str(line) for line in info.get("devices") or []]
    layers = info.get("n_gpu_layers")
    on_gpu = bool(info.get("gpu_offload")) and layers != 0
    where = "CPU"
    detail = f"All of the model runs on the CPU with {info.get('n_threads') or '?'} threads."
    if on_gpu:
        where = _device_name(lines) or "the GPU"
        detail = f"The model's layers run on {where}."
        offloaded = _offloaded(lines)
        if offloaded and offloaded[0] < offloaded[1]:
            where += f" and the CPU ({offloaded[0]} of {offloaded[1]} layers on the GPU)"
            detail = (
                f"{offloaded[0]} of the model's {offloaded[1]} layers run on the GPU; "
                "the rest run on the CPU, which is slower."
            )
    warnings = [str(w) for w in info.get("warnings") or []]
    # A warning (such as "did not fit on the GPU, so it runs on the CPU") takes the line;
    # where it runs is still in the tooltip.
    text = " ".join(warnings) or f"Running on {where}"
    tooltip = " ".join(
        [f"Running on {where}.", detail, *warnings, "Choose the device in Settings."]
    )
    return text, tooltip, bool(warnings)


def _device_name(lines: list[str]) -> str | None:
    """'using device CUDA0 (NVIDIA GeForce RTX 4090) (0000:01:00.0) - 23000 MiB free' → the name."""
    for line in lines:
        match = re.search(r"using device \S+ \(([^)]+)\)", line)
        if match:
            return match.group(1).strip()
    return None


def _offloaded(lines: list[str]) -> tuple[int, int] | None:
    for line in lines:
        match = re.search(r"offloaded (\d+)/(\d+) layers to GPU", line)
        if match:
            return int(match.group(1)), int(match.group(2))
    return None
