"""Speed estimates: tokens/s from the bytes a model reads per token, on fixed machines."""

from __future__ import annotations

import struct
import time
from pathlib import Path

import pytest

from desktop.library.bandwidth import (
    BANDWIDTH_SETTING,
    _signature,
    measure_memory_bandwidth,
    measured_machine,
)
from desktop.library.catalog import find_entry, load_catalog, recommend_entry
from desktop.library.hardware import GPU, Machine, detect_machine, fit_for_gguf, fit_for_size
from desktop.library.speed import estimate_speed, gpu_bandwidth
from desktop.modelfile.gguf import read_gguf
from desktop.modelfile.memory import bytes_per_token, bytes_per_token_for_gguf
from desktop.store import Store

GB = 1_000_000_000
# This project's build machine: 2 cores, 24 GB, about 20 GB/s measured, no GPU.
TWO_CORES = Machine(ram_bytes=24 * GB, cpu_cores=2, memory_bandwidth=20 * GB)
DESKTOP = Machine(ram_bytes=32 * GB, cpu_cores=8, memory_bandwidth=60 * GB)
GAMING = Machine(
    ram_bytes=32 * GB,
    cpu_cores=8,
    memory_bandwidth=60 * GB,
    gpus=(GPU("NVIDIA GeForce RTX 4090", 24 * GB, "cuda"),),
)
SMALL_GPU = Machine(
    ram_bytes=32 * GB,
    cpu_cores=8,
    memory_bandwidth=60 * GB,
    gpus=(GPU("NVIDIA GeForce RTX 3060", 4 * GB, "cuda"),),
)
MAC = Machine(
    ram_bytes=32 * GB,
    cpu_cores=8,
    unified_memory=True,
    gpus=(GPU("Apple M2 Pro GPU", 32 * GB, "metal"),),
)


def speed_of(name: str, machine: Machine):  # noqa: ANN201
    fit = find_entry(name).fit(machine)
    assert fit.speed is not None, name
    return fit.speed


def test_on_two_cores_gpt_oss_20b_fits_in_memory_but_is_slow() -> None:
    fit = find_entry("gpt-oss-20b").fit(TWO_CORES)
    assert fit.level == "runs_well" and fit.speed is not None
    assert fit.speed.level == "slow"
    assert f"about {fit.speed.tokens_per_s:.0f} tokens/s" in fit.speed.reason
    assert "CPU (2 cores)" in fit.speed.reason and "reasoning" in fit.speed.reason
    assert fit.summary == f"{fit.reason} {fit.speed.reason}"
    assert speed_of("Llama-3.2-1B-Instruct", TWO_CORES).level == "fast"
    assert speed_of("Qwen3-8B", TWO_CORES).level == "slow"


def test_only_the_active_experts_are_read() -> None:
    # gpt-oss-20b's file is over twice Qwen3-8B's, but it reads 3.6B of its 20B weights a token.
    moe, dense = speed_of("gpt-oss-20b", TWO_CORES), speed_of("Qwen3-8B", TWO_CORES)
    assert moe.tokens_per_s > dense.tokens_per_s
    entry = find_entry("gpt-oss-20b")
    assert bytes_per_token(entry.size_bytes, 20 * GB, 3_600_000_000) == int(entry.size_bytes * 0.18)
    assert bytes_per_token(entry.size_bytes, 20 * GB, None) == entry.size_bytes


def test_cpu_speed_is_bound_by_bandwidth_or_by_the_cores() -> None:
    model = 4 * GB
    many_cores = Machine(ram_bytes=64 * GB, cpu_cores=32, memory_bandwidth=20 * GB)
    faster_memory = Machine(ram_bytes=64 * GB, cpu_cores=32, memory_bandwidth=40 * GB)
    ratio = (
        estimate_speed(model, model, faster_memory).tokens_per_s
        / estimate_speed(model, model, many_cores).tokens_per_s
    )
    assert ratio == pytest.approx(2.0, rel=0.01)  # less a little fixed time per token
    # Two cores cannot use 200 GB/s: more bandwidth changes nothing.
    few_cores = Machine(ram_bytes=64 * GB, cpu_cores=2, memory_bandwidth=100 * GB)
    more = Machine(ram_bytes=64 * GB, cpu_cores=2, memory_bandwidth=200 * GB)
    assert (
        estimate_speed(model, model, few_cores).tokens_per_s
        == estimate_speed(model, model, more).tokens_per_s
    )
    old_cpu = Machine(ram_bytes=64 * GB, cpu_cores=2, memory_bandwidth=100 * GB, avx2=False)
    assert (
        estimate_speed(model, model, old_cpu).tokens_per_s
        < estimate_speed(model, model, few_cores).tokens_per_s
    )
    # Unmeasured: a guess from the cores, still finite and positive.
    assert 0 < estimate_speed(model, model, Machine(ram_bytes=16 * GB)).tokens_per_s < 100


def test_the_estimate_counts_the_threads_the_engine_generates_on() -> None:
    # Two cores with one left to the rest of the computer: half the compute for a model too
    # big for one core to keep up with memory.
    model = 2 * GB
    one_thread = TWO_CORES.with_threads(1)
    both = estimate_speed(model, model, TWO_CORES)
    alone = estimate_speed(model, model, one_thread)
    assert alone.tokens_per_s == pytest.approx(both.tokens_per_s / 2, rel=0.02)
    assert "CPU (1 of 2 cores)" in alone.reason and "CPU (2 cores)" in both.reason
    # Threads beyond the cores add nothing; bandwidth still bounds many threads.
    assert estimate_speed(model, model, TWO_CORES.with_threads(8)).tokens_per_s == both.tokens_per_s
    assert speed_of("Llama-3.2-3B-Instruct", one_thread).level == "slow"


def test_a_gpu_that_holds_the_model_makes_it_fast() -> None:
    on_gpu = speed_of("gpt-oss-20b", GAMING)
    assert on_gpu.level == "fast" and "RTX 4090" in on_gpu.device
    assert on_gpu.tokens_per_s > 10 * speed_of("gpt-oss-20b", DESKTOP).tokens_per_s
    # Told to use the CPU only, the same machine is judged by its CPU.
    cpu_only = find_entry("gpt-oss-20b").fit(GAMING.without_gpus())
    assert cpu_only.speed is not None and "CPU (8 cores)" in cpu_only.speed.device
    # Partly on a 4 GB card: between the two, and it says so.
    split = speed_of("Qwen3-8B", SMALL_GPU)
    assert "RTX 3060" in split.device and "CPU" in split.device
    assert (
        speed_of("Qwen3-8B", DESKTOP).tokens_per_s
        < split.tokens_per_s
        < speed_of("Qwen3-8B", GAMING).tokens_per_s
    )
    mac = speed_of("Llama-3.1-8B-Instruct", MAC)  # the M2 Pro's 200 GB/s, at 70 %
    size = find_entry("Llama-3.1-8B-Instruct").size_bytes
    assert mac.tokens_per_s == pytest.approx(1 / (size / (200 * GB * 0.7) + 0.0015))


def test_known_chips_have_their_published_bandwidth() -> None:
    assert gpu_bandwidth("NVIDIA GeForce RTX 4070 Ti") == 504 * GB
    assert gpu_bandwidth("NVIDIA GeForce RTX 4070 Ti SUPER") == 672 * GB
    assert gpu_bandwidth("NVIDIA A100-SXM4-80GB") == 1935 * GB
    assert gpu_bandwidth("NVIDIA A10") == 600 * GB  # not the A100
    assert gpu_bandwidth("NVIDIA H200") == 4800 * GB
    assert gpu_bandwidth("Apple M1 Pro GPU") == 200 * GB
    assert gpu_bandwidth("Apple M1 GPU") == 68 * GB
    assert gpu_bandwidth("Matrox G200") is None
    assert GPU("Some future card", 8 * GB, "cuda").bandwidth > 0


def test_reasoning_models_need_twice_the_speed_for_the_same_label() -> None:
    size = 2 * GB  # about 6 tokens/s on two cores
    plain = fit_for_size(size, machine=TWO_CORES)
    thinking = fit_for_size(size, machine=TWO_CORES, reasoning=True)
    assert plain.speed and thinking.speed
    assert plain.speed.tokens_per_s == thinking.speed.tokens_per_s
    assert (plain.speed.level, thinking.speed.level) == ("usable", "slow")


def test_tiny_models_top_out_at_a_believable_speed() -> None:
    # A fixed cost per token: the 98 MB test model runs at about 130 tokens/s on two cores.
    tiny = estimate_speed(900_000, 900_000, TWO_CORES)
    assert 500 < tiny.tokens_per_s <= 2000
    test_model = estimate_speed(98_000_000, 98_000_000, TWO_CORES)
    assert 80 < test_model.tokens_per_s < 200


def test_no_speed_for_embedding_models_or_models_that_do_not_fit() -> None:
    assert find_entry("bge-small-en-v1.5").fit(TWO_CORES).speed is None
    assert find_entry("gpt-oss-120b").fit(TWO_CORES).speed is None


def test_recommendation_fits_and_is_quick_enough() -> None:
    entries = load_catalog()
    entry, fit = recommend_entry(entries, TWO_CORES)  # type: ignore[misc]
    assert entry.kind == "chat" and fit.level == "runs_well"
    assert fit.speed is not None and fit.speed.level != "slow"
    assert entry.name != "gpt-oss-20b"
    big, big_fit = recommend_entry(entries, GAMING)  # type: ignore[misc]
    assert big_fit.speed is not None and big_fit.speed.level == "fast"
    assert (big.parameter_count or 0) > (entry.parameter_count or 0)
    tiny, _ = recommend_entry(entries, Machine(ram_bytes=2 * GB, cpu_cores=1))  # type: ignore[misc]
    assert tiny.size_bytes < 600_000_000
    assert recommend_entry(entries, Machine(ram_bytes=100_000_000)) is None


def _gguf_with_tensors(path: Path, tensors: dict[str, int], experts: int, used: int) -> Path:
    """A GGUF with F32 tensors of the given element counts (data zero-filled)."""

    def string(text: str) -> bytes:
        raw = text.encode()
        return struct.pack("<Q", len(raw)) + raw

    keys = [
        string("general.architecture") + struct.pack("<I", 8) + string("test"),
        string("test.expert_count") + struct.pack("<II", 4, experts),
        string("test.expert_used_count") + struct.pack("<II", 4, used),
    ]
    infos, offset = [], 0
    for name, count in tensors.items():
        infos.append(string(name) + struct.pack("<IQIQ", 1, count, 0, offset))
        offset += (count * 4 + 31) // 32 * 32  # tensor data starts aligned, as llama.cpp requires
    head = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(keys)) + b"".join(keys + infos)
    head += b"\0" * (-len(head) % 32)
    path.write_bytes(head + b"\0" * offset)
    return path


def test_bytes_per_token_from_the_gguf_tensors(tmp_path: Path, test_model_path: Path) -> None:
    moe = _gguf_with_tensors(
        tmp_path / "moe.gguf",
        {
            "token_embd.weight": 1000,
            "output.weight": 1000,
            "blk.0.attn_q.weight": 500,
            "blk.0.ffn_up_exps.weight": 8000,
        },
        experts=8,
        used=2,
    )
    info = read_gguf(moe)
    # The output layer and attention whole, a quarter of the experts, one row of the embedding.
    assert bytes_per_token_for_gguf(info) == (1000 + 500 + 8000 // 4) * 4
    as_dense = _gguf_with_tensors(
        tmp_path / "dense.gguf",
        {"output.weight": 1000, "blk.0.attn_q.weight": 500, "blk.0.ffn_up.weight": 8000},
        experts=0,
        used=0,
    )
    moe_speed, dense_speed = (
        fit_for_gguf(info, TWO_CORES).speed,
        fit_for_gguf(read_gguf(as_dense), TWO_CORES).speed,
    )
    assert moe_speed and dense_speed and moe_speed.tokens_per_s > dense_speed.tokens_per_s
    dense = read_gguf(test_model_path)  # SmolLM2 ties its embedding to the output: read whole
    assert dense.input_embedding_bytes == 0 and dense.expert_bytes == 0
    assert bytes_per_token_for_gguf(dense) == dense.tensor_bytes
    assert 0.95 * dense.size_bytes < dense.tensor_bytes <= dense.size_bytes


def test_bandwidth_is_measured_once_and_remembered(tmp_path: Path) -> None:
    assert measure_memory_bandwidth(1, rounds=1) > 0
    store = Store(tmp_path / "db.sqlite")
    try:
        machine = detect_machine()
        here, now = _signature(machine), time.time()
        remembered = {"machine": here, "bytes_per_s": 12345, "measured_at": now}
        store.settings.set(BANDWIDTH_SETTING, remembered)
        assert measured_machine(store.settings, machine).memory_bandwidth == 12345
        # Another computer's figure (a copied profile) is measured again and replaced.
        store.settings.set(BANDWIDTH_SETTING, {**remembered, "machine": "elsewhere"})
        fresh = measured_machine(store.settings, machine).memory_bandwidth
        assert fresh and fresh != 12345
        assert store.settings.get(BANDWIDTH_SETTING)["bytes_per_s"] == round(fresh)
        # A week on it is measured again, and the better figure kept (busy moments read low).
        store.settings.set(
            BANDWIDTH_SETTING, {**remembered, "bytes_per_s": 10**15, "measured_at": now - 8 * 86400}
        )
        assert measured_machine(store.settings, machine, busy=False).memory_bandwidth == 10**15
        assert store.settings.get(BANDWIDTH_SETTING)["measured_at"] >= int(now)  # whole seconds
        # Measured while the computer was busy: used now, measured again next time.
        store.settings.set(BANDWIDTH_SETTING, None)
        first = measured_machine(store.settings, machine, busy=True).memory_bandwidth
        assert first and store.settings.get(BANDWIDTH_SETTING)["measured_at"] == 0
        store.settings.set(
            BANDWIDTH_SETTING, {**store.settings.get(BANDWIDTH_SETTING), "bytes_per_s": 1}
        )
        assert measured_machine(store.settings, machine, busy=False).memory_bandwidth > 1
    finally:
        store.close()


def test_hub_files_named_as_mixtures_of_experts_read_only_their_active_share() -> None:
    from desktop.library.hub import HubModelFile, RemoteFile, moe_parameters

    assert moe_parameters("Qwen3-30B-A3B-Q4_K_M") == (30 * GB, 3 * GB)
    assert moe_parameters("Qwen3-8B-Q4_K_M") == (None, None)

    def hub_file(name: str) -> HubModelFile:
        part = RemoteFile("o/r", f"{name}.gguf", "0" * 40, 17 * GB, None, "")
        return HubModelFile(name, "Q4_K_M", (part,))

    moe = hub_file("Qwen3-30B-A3B-Q4_K_M").fit(DESKTOP)
    dense = hub_file("Some-30B-Q4_K_M").fit(DESKTOP)
    assert moe and dense and moe.speed and dense.speed
    assert moe.speed.tokens_per_s == pytest.approx(10 * dense.speed.tokens_per_s, rel=0.02)
