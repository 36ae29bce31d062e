"""Memory estimates and 'fits your machine' labels."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from desktop.library.hardware import (
    GPU,
    Machine,
    detect_gpus,
    detect_machine,
    estimate_for_gguf,
    estimate_memory,
    fit_for_size,
    fit_label,
)
from desktop.library.units import format_bytes, format_duration, format_rate
from desktop.modelfile.gguf import read_gguf
from tests.fakehub import locate_test_model

GB = 1_000_000_000
LAPTOP = Machine(ram_bytes=16 * GB)
SMALL = Machine(ram_bytes=4 * GB)
GAMING = Machine(ram_bytes=32 * GB, gpus=(GPU("RTX", 24 * GB, "cuda"),))
APPLE = Machine(
    ram_bytes=32 * GB, gpus=(GPU("Apple silicon GPU", 32 * GB, "metal"),), unified_memory=True
)


def test_this_machine_is_measured() -> None:
    machine = detect_machine()
    assert machine.ram_bytes > 500_000_000
    assert all(gpu.memory_bytes > 0 for gpu in machine.gpus)


def test_kv_cache_is_exact_from_the_gguf_header() -> None:
    info = read_gguf(locate_test_model())
    estimate = estimate_for_gguf(info, context_length=8192)
    # SmolLM2-135M: 30 layers, 3 KV heads, head size 576/9 = 64, f16 K and V.
    assert estimate.kv_cache_bytes == 2 * 30 * 3 * 64 * 2 * 8192
    assert estimate.weights_bytes == info.size_bytes
    assert estimate.total_bytes > estimate.weights_bytes + estimate.kv_cache_bytes


def test_kv_cache_grows_with_context() -> None:
    short = estimate_memory(5 * GB, 4096, parameters=8_000_000_000)
    long = estimate_memory(5 * GB, 32768, parameters=8_000_000_000)
    assert long.kv_cache_bytes == 8 * short.kv_cache_bytes
    assert long.weights_bytes == short.weights_bytes


def test_labels_follow_the_machine() -> None:
    gpt_oss_20b = 12_109_566_624
    assert fit_for_size(gpt_oss_20b, machine=GAMING).level == "runs_well"
    assert "GPU" in fit_for_size(gpt_oss_20b, machine=GAMING).reason
    assert fit_for_size(gpt_oss_20b, machine=Machine(ram_bytes=32 * GB)).level == "runs_well"
    assert fit_for_size(gpt_oss_20b, machine=LAPTOP).level in ("tight", "too_large")
    assert fit_for_size(gpt_oss_20b, machine=SMALL).level == "too_large"
    assert fit_for_size(500_000_000, machine=SMALL).level == "runs_well"
    assert fit_for_size(20 * GB, machine=APPLE).level == "tight"


def test_reasons_say_how_much_is_needed_and_what_to_do() -> None:
    fit = fit_for_size(63_387_346_208, machine=LAPTOP)
    assert fit.level == "too_large"
    assert fit.label == "Too large"
    assert "Needs about" in fit.reason and "16.0 GB" in fit.reason
    assert "smaller" in fit.reason
    tight = fit_label(estimate_memory(11 * GB, 8192), LAPTOP)
    assert tight.level == "tight" and "close other apps" in tight.reason


def test_longer_context_can_tip_a_model_over() -> None:
    size = 8 * GB
    assert fit_for_size(size, 4096, LAPTOP).level == "runs_well"
    assert fit_for_size(size, 131072, LAPTOP).level != "runs_well"


def test_units_read_naturally() -> None:
    assert format_bytes(98_362_432) == "98.4 MB"
    assert format_bytes(12_109_566_624) == "12.1 GB"
    assert format_bytes(512) == "512 bytes"
    assert format_rate(2_500_000) == "2.5 MB/s"
    assert format_duration(65) == "1:05"
    assert format_duration(3 * 3600 + 7) == "3:00:07"
    assert format_duration(None) == "--:--"


def test_nvidia_cards_are_read_from_nvidia_smi(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "nvidia-smi"
    fake.write_text("#!/bin/sh\necho 'NVIDIA GeForce RTX 4090, 24564'\necho 'NVIDIA A2, 15356'\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(sys, "platform", "linux")
    gpus = detect_gpus()
    assert [g.name for g in gpus] == ["NVIDIA GeForce RTX 4090", "NVIDIA A2"]
    assert gpus[0].memory_bytes == 24564 * 1024 * 1024 and gpus[0].backend == "cuda"
    machine = Machine(ram_bytes=32 * GB, gpus=gpus)
    assert machine.gpu_memory_bytes == (24564 + 15356) * 1024 * 1024
