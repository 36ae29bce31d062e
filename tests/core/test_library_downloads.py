"""Resumable, verified downloads from the loopback Hub, with the faults real networks have."""

from __future__ import annotations

import errno
import hashlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from desktop.library import transfer
from desktop.library.downloads import DownloadManager
from desktop.library.errors import OfflineError
from desktop.library.jobs import DownloadProgress, DownloadRequest, DownloadState, KnownFile
from desktop.library.network import OFFLINE_SETTING
from desktop.store import Store
from tests.fakehub import FAST_TRANSFERS, MODEL_FILENAME, MODEL_REPO, SPLIT_REPO, FakeHub

pytest_plugins = ["tests.fakehub.fixtures"]

MODEL = DownloadRequest(MODEL_REPO, MODEL_FILENAME)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def manager(hub_env: FakeHub, data_dir: Path) -> Iterator[DownloadManager]:
    made = DownloadManager(data_dir / "models", data_dir / "db.sqlite3", settings=FAST_TRANSFERS)
    yield made
    made.close()


def model_bytes(hub: FakeHub) -> tuple[int, str]:
    file = hub.repos[MODEL_REPO].files[MODEL_FILENAME]
    return file.size, file.sha256


def final_path(data_dir: Path) -> Path:
    return data_dir / "models" / MODEL_REPO / MODEL_FILENAME


def registered(data_dir: Path) -> list[Any]:
    store = Store(data_dir / "db.sqlite3")
    try:
        return store.models.all()
    finally:
        store.close()


def wait_for(condition: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_download_verifies_and_registers_the_model(
    manager: DownloadManager, hub_env: FakeHub, data_dir: Path
) -> None:
    seen: list[DownloadProgress] = []
    manager.add_listener(seen.append)
    result = manager.wait(manager.enqueue(MODEL), timeout=60)
    size, sha = model_bytes(hub_env)
    assert result.state == DownloadState.COMPLETED, result.message
    assert result.downloaded_bytes == result.total_bytes == size
    path = final_path(data_dir)
    assert sha256_of(path) == sha
    assert not path.with_name(path.name + ".part").exists()
    (model,) = registered(data_dir)
    assert model.path == str(path) and model.sha256 == sha
    assert (model.source, model.repo_id, model.filename) == ("hub", MODEL_REPO, MODEL_FILENAME)
    assert model.revision and len(model.revision) == 40
    assert (model.architecture, model.quantization, model.context_length) == ("llama", "Q4_1", 8192)
    assert model.has_chat_template and model.reasoning_style == "none"
    order = ["queued", "starting", "downloading", "verifying", "completed"]
    ranks = [order.index(p.state) for p in seen]
    assert ranks == sorted(ranks) and ranks[0] == 0 and ranks[-1] == 4  # delivered in order
    assert set(ranks) == {0, 1, 2, 3, 4}
    done = [p.downloaded_bytes for p in seen]
    assert done == sorted(done)
    assert any(p.speed_bps > 0 for p in seen if p.state == DownloadState.DOWNLOADING)
    manager.forget(result.job_id)
    assert manager.jobs() == []


def test_dropped_connections_are_retried_from_where_they_stopped(
    manager: DownloadManager, hub_env: FakeHub, data_dir: Path
) -> None:
    hub_env.faults.drop_after, hub_env.faults.drop_times = 5_000_000, 2
    result = manager.wait(manager.enqueue(MODEL), timeout=60)
    assert result.state == DownloadState.COMPLETED, result.message
    starts = hub_env.range_starts()
    assert len(starts) == 3 and starts[0] == 0
    assert starts[1] >= 5_000_000 - (1 << 20) and starts[2] > starts[1]
    assert sha256_of(final_path(data_dir)) == model_bytes(hub_env)[1]


def test_a_stalled_connection_times_out_and_resumes(
    manager: DownloadManager, hub_env: FakeHub, data_dir: Path
) -> None:
    hub_env.faults.stall_after, hub_env.faults.stall_seconds, hub_env.faults.stall_times = (
        3_000_000,
        3.0,
        1,
    )
    result = manager.wait(manager.enqueue(MODEL), timeout=60)
    assert result.state == DownloadState.COMPLETED, result.message
    assert len(hub_env.range_starts()) == 2 and hub_env.range_starts()[1] > 0


def test_busy_server_answers_are_retried(manager: DownloadManager, hub_env: FakeHub) -> None:
    hub_env.faults.fail_status, hub_env.faults.fail_times = 503, 2
    result = manager.wait(manager.enqueue(MODEL), timeout=60)
    assert result.state == DownloadState.COMPLETED, result.message


def test_a_connection_that_keeps_failing_gives_up_and_keeps_the_part(
    manager: DownloadManager, hub_env: FakeHub, data_dir: Path
) -> None:
    hub_env.faults.fail_status, hub_env.faults.fail_times = 503, 100
    result = manager.wait(manager.enqueue(MODEL), timeout=60)
    assert result.state == DownloadState.FAILED
    assert "kept failing" in result.message and "resume" in result.message
    assert registered(data_dir) == []
    hub_env.clear()
    # Asking for the same file again carries on with the failed download, not a second one.
    assert manager.enqueue(MODEL) == result.job_id and len(manager.jobs()) == 1
    assert manager.wait(result.job_id, timeout=60).state == DownloadState.COMPLETED


def test_a_server_that_ignores_range_restarts_from_zero_safely(
    manager: DownloadManager, hub_env: FakeHub, data_dir: Path
) -> None:
    hub_env.faults.drop_after, hub_env.faults.drop_times = 4_000_000, 1
    hub_env.faults.ignore_range = True
    result = manager.wait(manager.enqueue(MODEL), timeout=60)
    assert result.state == DownloadState.COMPLETED, result.message
    gets = hub_env.seen("cdn", "GET")
    assert gets[1].range_start and gets[1].range_start > 0  # it asked to resume...
    assert sha256_of(final_path(data_dir)) == model_bytes(hub_env)[1]  # ...and coped with 200


def test_corrupted_bytes_are_refused_and_not_registered(
    manager: DownloadManager, hub_env: FakeHub, data_dir: Path
) -> None:
    hub_env.faults.corrupt_offsets = {12_345_678}
    result = manager.wait(manager.enqueue(MODEL), timeout=60)
    assert result.state == DownloadState.FAILED
    assert "SHA-256" in result.message and "not added" in result.message
    assert registered(data_dir) == []
    folder = final_path(data_dir).parent
    assert list(folder.iterdir()) == []  # neither the bad file nor its part is left behind


def test_a_catalog_hash_that_does_not_match_is_refused(
    manager: DownloadManager, hub_env: FakeHub, data_dir: Path
) -> None:
    size, _ = model_bytes(hub_env)
    request = DownloadRequest(
        MODEL_REPO,
        MODEL_FILENAME,
        revision="main",
        source="catalog",
        name="smol",
        known_files=(KnownFile(MODEL_FILENAME, size, "0" * 64),),
    )
    result = manager.wait(manager.enqueue(request), timeout=60)
    assert result.state == DownloadState.FAILED and "SHA-256" in result.message
    assert registered(data_dir) == []


def test_a_file_of_another_size_is_refused_before_it_is_downloaded(
    manager: DownloadManager, hub_env: FakeHub, data_dir: Path
) -> None:
    _, sha = model_bytes(hub_env)
    request = DownloadRequest(
        MODEL_REPO,
        MODEL_FILENAME,
        revision="main",
        source="catalog",
        known_files=(KnownFile(MODEL_FILENAME, 12_345, sha),),
    )
    result = manager.wait(manager.enqueue(request), timeout=60)
    assert result.state == DownloadState.FAILED
    assert "not the 12.3 KB it was listed with" in result.message
    assert list(final_path(data_dir).parent.iterdir()) == []
    assert manager.restore() == []


def test_a_catalog_download_uses_its_pinned_facts(
    manager: DownloadManager, hub_env: FakeHub, data_dir: Path
) -> None:
    size, sha = model_bytes(hub_env)
    commit = hub_env.repos[MODEL_REPO].commit
    request = DownloadRequest(
        MODEL_REPO,
        MODEL_FILENAME,
        revision=commit,
        source="catalog",
        name="SmolLM2 test",
        known_files=(KnownFile(MODEL_FILENAME, size, sha),),
        reasoning_style="none",
    )
    result = manager.wait(manager.enqueue(request), timeout=60)
    assert result.state == DownloadState.COMPLETED, result.message
    assert result.model is not None and result.model.name == "SmolLM2 test"
    assert result.model.source == "catalog" and result.model.revision == commit
    assert hub_env.seen("hub", "GET")[0].path.endswith(f"/resolve/{commit}/{MODEL_FILENAME}")
    assert not any(r.path.startswith("/api/") for r in hub_env.seen())  # no listing needed


def test_not_enough_free_space_is_caught_before_starting(hub_env: FakeHub, data_dir: Path) -> None:
    manager = DownloadManager(
        data_dir / "models", data_dir / "db.sqlite3", settings=FAST_TRANSFERS, free_space=lambda _: 50_000_000
    )
    try:
        result = manager.wait(manager.enqueue(MODEL), timeout=30)
    finally:
        manager.close()
    assert result.state == DownloadState.FAILED
    assert "Not enough disk space" in result.message and "98.4 MB" in result.message
    assert hub_env.seen("cdn") == []


def test_a_full_disk_stops_with_a_clear_message_and_keeps_the_part(
    manager: DownloadManager, hub_env: FakeHub, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_open = open

    class FillingFile:
        def __init__(self, fh: Any) -> None:
            self.fh = fh

        def write(self, data: bytes) -> int:
            if self.fh.tell() + len(data) > 20_000_000:
                raise OSError(errno.ENOSPC, "No space left on device")
            return int(self.fh.write(data))

        def __getattr__(self, name: str) -> Any:
            return getattr(self.fh, name)

    def filling_open(path: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        fh = real_open(path, mode, *args, **kwargs)
        return FillingFile(fh) if str(path).endswith(".part") else fh

    monkeypatch.setattr(transfer, "open", filling_open, raising=False)
    result = manager.wait(manager.enqueue(MODEL), timeout=60)
    assert result.state == DownloadState.FAILED
    assert result.message.startswith("The disk is full")
    assert "Free some space" in result.message and "kept" in result.message
    part = final_path(data_dir).with_name(MODEL_FILENAME + ".part")
    assert part.exists() and part.stat().st_size > 0
    assert registered(data_dir) == []

    monkeypatch.setattr(transfer, "open", real_open, raising=False)
    manager.resume(result.job_id)
    assert manager.wait(result.job_id, timeout=60).state == DownloadState.COMPLETED
    assert hub_env.range_starts()[-1] > 0


def test_pause_keeps_the_part_and_resume_continues_it(
    manager: DownloadManager, hub_env: FakeHub, data_dir: Path
) -> None:
    hub_env.faults.throttle_bps = 20_000_000
    job = manager.enqueue(MODEL)
    wait_for(lambda: manager.get(job).downloaded_bytes > 10_000_000)
    manager.pause(job)
    paused = manager.wait(job, timeout=10)
    assert paused.state == DownloadState.PAUSED and "to go" in paused.message
    part = final_path(data_dir).with_name(MODEL_FILENAME + ".part")
    assert part.stat().st_size >= 10_000_000
    hub_env.faults.throttle_bps = None
    manager.resume(job)
    done = manager.wait(job, timeout=60)
    assert done.state == DownloadState.COMPLETED, done.message
    assert hub_env.range_starts()[-1] >= 10_000_000 - (1 << 20)
    assert sha256_of(final_path(data_dir)) == model_bytes(hub_env)[1]


def test_a_new_manager_resumes_a_part_left_by_an_earlier_run(
    hub_env: FakeHub, data_dir: Path
) -> None:
    first = DownloadManager(data_dir / "models", data_dir / "db.sqlite3", settings=FAST_TRANSFERS)
    hub_env.faults.throttle_bps = 20_000_000
    job = first.enqueue(MODEL)
    wait_for(lambda: first.get(job).downloaded_bytes > 8_000_000)
    first.close()  # as when the app quits mid-download
    assert first.get(job).state == DownloadState.PAUSED
    hub_env.faults.throttle_bps = None

    second = DownloadManager(data_dir / "models", data_dir / "db.sqlite3", settings=FAST_TRANSFERS)
    try:
        (restored,) = second.restore()
        assert second.get(restored).state == DownloadState.PAUSED
        assert second.get(restored).downloaded_bytes >= 8_000_000 - (1 << 20)
        second.resume(restored)
        assert second.wait(restored, timeout=60).state == DownloadState.COMPLETED
    finally:
        second.close()
    assert hub_env.range_starts()[-1] > 0
    assert len(registered(data_dir)) == 1


def test_a_part_of_another_file_version_is_not_resumed(
    manager: DownloadManager, hub_env: FakeHub, data_dir: Path
) -> None:
    part = final_path(data_dir).with_name(MODEL_FILENAME + ".part")
    part.parent.mkdir(parents=True)
    part.write_bytes(b"x" * 5_000_000)
    identity = {"repo_id": MODEL_REPO, "filename": MODEL_FILENAME, "size": 1, "sha256": "1" * 64}
    meta = {"format": 1, "identity": identity, "job": MODEL.to_json(), "committed": 5_000_000}
    part.with_name(part.name + ".json").write_text(json.dumps(meta))
    result = manager.wait(manager.enqueue(MODEL), timeout=60)
    assert result.state == DownloadState.COMPLETED, result.message
    assert hub_env.range_starts() == [0]


def test_cancel_deletes_the_part_file(
    manager: DownloadManager, hub_env: FakeHub, data_dir: Path
) -> None:
    hub_env.faults.throttle_bps = 20_000_000
    job = manager.enqueue(MODEL)
    wait_for(lambda: manager.get(job).downloaded_bytes > 2_000_000)
    manager.cancel(job)
    assert manager.wait(job, timeout=10).state == DownloadState.CANCELLED
    assert list(final_path(data_dir).parent.iterdir()) == []
    assert registered(data_dir) == []


def test_downloads_queue_and_run_one_at_a_time(
    manager: DownloadManager, hub_env: FakeHub, data_dir: Path
) -> None:
    hub_env.faults.throttle_bps = 50_000_000
    first = manager.enqueue(MODEL)
    second = manager.enqueue(DownloadRequest(SPLIT_REPO, "Tiny-Q8_0.gguf"))
    third = manager.enqueue(DownloadRequest(SPLIT_REPO, "Tiny-Q4_K_M-00001-of-00003.gguf"))
    assert manager.enqueue(MODEL) == first  # the same file is not queued twice
    wait_for(lambda: manager.get(first).state == DownloadState.DOWNLOADING)
    assert manager.get(second).state == DownloadState.QUEUED
    manager.pause(second)  # a queued job can be held back
    assert manager.get(second).state == DownloadState.PAUSED
    hub_env.faults.throttle_bps = None
    assert manager.wait(first, timeout=60).state == DownloadState.COMPLETED
    split = manager.wait(third, timeout=60)
    assert split.state == DownloadState.COMPLETED, split.message
    assert manager.get(second).state == DownloadState.PAUSED
    assert split.model is not None and split.model.name == "Tiny-Q4_K_M"
    assert split.model.size_bytes == 760_800  # all three parts
    folder = data_dir / "models" / SPLIT_REPO
    assert sorted(p.name for p in folder.iterdir()) == [
        f"Tiny-Q4_K_M-0000{i}-of-00003.gguf" for i in (1, 2, 3)
    ]
    manager.resume(second)
    assert manager.wait(second, timeout=60).state == DownloadState.COMPLETED


def test_an_installed_model_is_not_downloaded_again(
    manager: DownloadManager, hub_env: FakeHub
) -> None:
    assert manager.wait(manager.enqueue(MODEL), timeout=60).state == DownloadState.COMPLETED
    hub_env.clear()
    again = manager.wait(manager.enqueue(MODEL), timeout=60)
    assert again.state == DownloadState.COMPLETED and again.message.startswith("Already installed")
    assert hub_env.seen() == []


def test_offline_mode_refuses_before_any_connection(hub_env: FakeHub, data_dir: Path) -> None:
    store = Store(data_dir / "db.sqlite3")
    store.settings.set(OFFLINE_SETTING, True)
    store.close()
    manager = DownloadManager(data_dir / "models", data_dir / "db.sqlite3", settings=FAST_TRANSFERS)
    try:
        with pytest.raises(OfflineError, match="Offline mode is on"):
            manager.enqueue(MODEL)
    finally:
        manager.close()
    assert hub_env.seen() == []


def test_hf_hub_offline_is_honoured_too(
    manager: DownloadManager, hub_env: FakeHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(OfflineError, match="HF_HUB_OFFLINE"):
        manager.enqueue(MODEL)
    assert hub_env.seen() == []


def test_offline_mode_switched_on_while_queued_stops_the_next_job(
    hub_env: FakeHub, data_dir: Path
) -> None:
    offline = [False]
    manager = DownloadManager(
        data_dir / "models", data_dir / "db.sqlite3", settings=FAST_TRANSFERS, is_offline=lambda: offline[0]
    )
    try:
        hub_env.faults.throttle_bps = 30_000_000
        first = manager.enqueue(MODEL)
        second = manager.enqueue(DownloadRequest(SPLIT_REPO, "Tiny-Q8_0.gguf"))
        wait_for(lambda: manager.get(first).downloaded_bytes > 1_000_000)
        offline[0] = True
        hub_env.faults.throttle_bps = None
        manager.wait(first, timeout=60)
        result = manager.wait(second, timeout=30)
    finally:
        manager.close()
    assert result.state == DownloadState.FAILED and "Offline mode is on" in result.message
    assert not any(SPLIT_REPO in r.path for r in hub_env.seen())
